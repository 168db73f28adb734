"""Run a model document end to end: deterministic results, incremental table, optional PSA
(CEAC, CE plane), as one object that the CLI and the portal render (JSON or HTML report)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from permedhub.hecon import cea, voi
from permedhub.hecon.errors import HeconError
from permedhub.hecon.markov import MarkovModel, MarkovResult
from permedhub.hecon.microsim_spec import (
    MicrosimModelSpec,
    is_microsim_document,
    load_microsim_model,
    run_microsimulation,
)
from permedhub.hecon.parameters import CompiledParameters
from permedhub.hecon.psm_spec import (
    PSMModel,
    PSMModelSpec,
    is_psm_document,
    load_psm_model,
    psa_matrices,
)
from permedhub.hecon.spec import ModelSpec, load_model, read_document
from permedhub.hecon.tree_spec import TreeModel, TreeModelSpec, is_tree_document, load_tree_model

AnySpec = ModelSpec | TreeModelSpec | PSMModelSpec


@dataclass
class ModelRun:
    spec: AnySpec
    deterministic: pd.DataFrame  # per strategy: cost, effect (+ qaly, ly, cost_<category>...)
    icers: pd.DataFrame  # strategy, cost, effect, inc_cost, inc_effect, icer, status
    trace: pd.DataFrame | None = None  # deterministic Markov / partitioned survival trace
    psa: MarkovResult | None = None  # Markov PSA (per-draw frame, parameters)
    psa_costs: np.ndarray | None = None  # (draws, strategies)
    psa_effects: np.ndarray | None = None
    strategies: list[str] | None = None
    psa_summary: pd.DataFrame | None = None  # per strategy mean, sd, 2.5%, 97.5%
    ceac: pd.DataFrame | None = None
    evpi: pd.DataFrame | None = None  # per-person EVPI over the WTP grid
    evppi: pd.DataFrame | None = None  # per-person EVPI of each univariate input at evppi_wtp
    evppi_wtp: float | None = None
    wtp_grid: np.ndarray | None = None
    seed: int | None = None

    @property
    def n_draws(self) -> int:
        return 0 if self.psa_costs is None else int(self.psa_costs.shape[0])

    @property
    def effect_name(self) -> str:
        if isinstance(self.spec, TreeModelSpec):
            return self.spec.effect
        return self.spec.settings.effect


def load_document(source: str | Path | dict[str, Any]) -> AnySpec:
    """A Markov model document, a decision-tree document (top-level key ``tree``) or a
    partitioned survival document (top-level key ``partitioned_survival``), from a YAML/JSON
    file or an already-parsed mapping (e.g. an upload in the portal). A Markov document with a
    top-level ``microsimulation`` block is a :class:`MicrosimModelSpec`."""
    data, base = read_document(source)  # read once; the loaders get the parsed mapping
    if is_psm_document(data):
        spec: AnySpec = load_psm_model(data)
    elif is_microsim_document(data):
        spec = load_microsim_model(data)
    elif is_tree_document(data):
        spec = load_tree_model(data)
    else:
        spec = load_model(data)
    if base is not None and not isinstance(spec, TreeModelSpec):
        spec.base_dir = base
    return spec


def _add_psa(
    out: ModelRun, costs: np.ndarray, effects: np.ndarray, strategies: list[str], wtp_max: float
) -> None:
    rows = []
    for j, strategy in enumerate(strategies):
        for outcome, x in (("cost", costs[:, j]), ("effect", effects[:, j])):
            rows.append(
                {
                    "strategy": strategy,
                    "outcome": outcome,
                    "mean": x.mean(),
                    "sd": x.std(ddof=1) if x.size > 1 else 0.0,
                    "p2.5": np.percentile(x, 2.5),
                    "p97.5": np.percentile(x, 97.5),
                }
            )
    sample = cea.psa_sample(costs, effects, strategies)
    grid = np.linspace(0, wtp_max, 51)
    out.psa_costs, out.psa_effects, out.strategies = costs, effects, strategies
    out.psa_summary = pd.DataFrame(rows)
    out.ceac = cea.ceac(sample, grid)
    out.evpi = voi.evpi(sample, grid)
    out.wtp_grid = grid


def run_analysis(
    spec: AnySpec,
    n_draws: int | None = None,
    seed: int | None = None,
    wtp_max: float = 100_000,
    evppi_wtp: float | None = None,
) -> ModelRun:
    """Deterministic run, incremental table (strong/extended dominance), and with `n_draws` a
    seeded PSA with summary statistics, the CEAC and the per-person EVPI over 0..`wtp_max`.
    Works for Markov, decision-tree and partitioned survival documents. With `evppi_wtp` (and
    a PSA), the EVPPI of every univariate stochastic input at that threshold (GAM metamodel of
    :mod:`.voi`)."""
    if isinstance(spec, TreeModelSpec):
        tree = TreeModel(spec)
        det = tree.evaluate().drop(columns="draw").set_index("strategy")
        icers = cea.calculate_icers(
            det["cost"].to_numpy(), det["effect"].to_numpy(), list(det.index)
        )
        out = ModelRun(spec, det, icers)
        if n_draws:
            frame = tree.evaluate(n_draws, seed)
            wide = frame.pivot(index="draw", columns="strategy")
            names = list(det.index)
            _add_psa(
                out,
                wide["cost"][names].to_numpy(),
                wide["effect"][names].to_numpy(),
                names,
                wtp_max,
            )
            out.seed = seed
        return out
    if isinstance(spec, PSMModelSpec):
        return _run_psm(spec, n_draws, seed, wtp_max, evppi_wtp)
    if isinstance(spec, MicrosimModelSpec):
        return _run_microsim(spec, n_draws)
    model = MarkovModel(spec)
    base = model.run()
    effect = spec.settings.effect
    det = _deterministic_table(base.mean(), effect)
    icers = cea.calculate_icers(det["cost"].to_numpy(), det["effect"].to_numpy(), list(det.index))
    out = ModelRun(spec, det, icers, base.trace)
    if n_draws:
        psa = model.run(n_draws=n_draws, seed=seed)
        costs, effects = psa.matrices()
        out.psa = psa
        _add_psa(out, costs, effects, psa.strategies, wtp_max)
        out.seed = seed
        if evppi_wtp is not None:
            _add_evppi(out, model.params, psa.parameters, evppi_wtp)
    return out


def _deterministic_table(mean: pd.DataFrame, effect: str) -> pd.DataFrame:
    det = mean.copy()
    det["effect"] = det[effect]
    first = ["cost", "effect", "qaly", "ly"]
    return det[first + [c for c in det.columns if c not in first]]


def _run_psm(
    spec: PSMModelSpec,
    n_draws: int | None,
    seed: int | None,
    wtp_max: float,
    evppi_wtp: float | None,
) -> ModelRun:
    model = PSMModel(spec)
    effect = spec.settings.effect
    base, _ = model.run()
    mean = base.summary.drop(columns="draw").groupby("strategy", sort=False).mean()
    det = _deterministic_table(mean, effect)
    icers = cea.calculate_icers(det["cost"].to_numpy(), det["effect"].to_numpy(), list(det.index))
    out = ModelRun(spec, det, icers, base.trace)
    if n_draws:
        psa, sampled = model.run(n_draws, seed)
        costs, effects, names = psa_matrices(psa.summary, effect)
        _add_psa(out, costs, effects, names, wtp_max)
        out.seed = seed
        if evppi_wtp is not None:
            _add_evppi(out, model.params, sampled, evppi_wtp)
    return out


def _run_microsim(spec: MicrosimModelSpec, n_draws: int | None) -> ModelRun:
    """Per-strategy means over the simulated patients, each with its Monte-Carlo standard
    error (``mc_se_<outcome>``); the trace is the share of patients per state and cycle."""
    if n_draws:
        raise HeconError(
            "microsimulation documents run without --psa/n_draws: a probabilistic analysis "
            "would nest a patient simulation in every draw (not supported); remove the "
            "'microsimulation' block to run the PSA on the cohort model"
        )
    result = run_microsimulation(spec)
    patients = result.patients.drop(columns="patient")
    mean = patients.groupby("strategy", sort=False).mean()
    det = _deterministic_table(mean, spec.settings.effect)
    se = result.summary.pivot(index="strategy", columns="outcome", values="mc_se")
    for outcome in ("cost", "qaly", "ly"):
        det[f"mc_se_{outcome}"] = se.loc[det.index, outcome].to_numpy()
    det["mc_se_effect"] = det[f"mc_se_{spec.settings.effect}"]
    icers = cea.calculate_icers(det["cost"].to_numpy(), det["effect"].to_numpy(), list(det.index))
    return ModelRun(spec, det, icers, result.occupancy)


def _add_evppi(
    out: ModelRun, params: CompiledParameters, draws: dict[str, np.ndarray], wtp: float
) -> None:
    """EVPPI of each univariate stochastic input that varies across draws."""
    names = [
        s.outputs[0]
        for s in params.stochastic
        if len(s.outputs) == 1 and np.ptp(draws[s.outputs[0]]) > 0
    ]
    if not names or out.psa_costs is None or out.psa_effects is None or not out.strategies:
        return
    sample = cea.psa_sample(out.psa_costs, out.psa_effects, out.strategies)
    inputs = pd.DataFrame({n: np.asarray(draws[n], dtype=float) for n in names})
    out.evppi = voi.evppi(sample, inputs, [[n] for n in names], wtp=[wtp])
    out.evppi_wtp = wtp


def _clean(value: Any) -> Any:
    if isinstance(value, float | np.floating):
        v = float(value)
        return None if math.isnan(v) or math.isinf(v) else v
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def example_documents(folder: str = "", suffix: str = ".yaml") -> dict[str, Path]:
    """The files ending in `suffix` shipped in ``permedhub/hecon/examples[/folder]``
    (name -> path): YAML documents, or the CSV tables of ``example_tables``."""
    shipped = resources.files("permedhub.hecon") / "examples"
    if folder:
        shipped = shipped / folder
    return {Path(str(p)).stem: Path(str(p)) for p in shipped.iterdir() if str(p).endswith(suffix)}


def example_models() -> dict[str, Path]:
    """The example model documents (Markov, tree, PSM, microsimulation), usable as
    ``example:<name>`` by the CLI and the portal."""
    return example_documents()


ExampleTable = Literal["psa", "icers"]


def example_tables(kind: ExampleTable) -> dict[str, Path]:
    """Shipped CSV inputs of the table-reading analyses, made from the example models:
    ``psa`` (one row per draw: ``cost_<strategy>``, ``effect_<strategy>``, the sampled
    parameters) and ``icers`` (``strategy,cost,effect``)."""
    return example_documents(kind, ".csv")


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: _clean(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def _document_type(spec: AnySpec) -> str:
    if isinstance(spec, TreeModelSpec):
        return "decision_tree"
    if isinstance(spec, MicrosimModelSpec):
        return "microsimulation"
    return "partitioned_survival" if isinstance(spec, PSMModelSpec) else "markov"


def to_json(run: ModelRun) -> dict[str, Any]:
    """A JSON-serialisable summary (NaN -> null)."""
    det = run.deterministic.reset_index()
    payload: dict[str, Any] = {
        "model": run.spec.name,
        "type": _document_type(run.spec),
        "effect": run.effect_name,
        "deterministic": records(det),
        "icers": records(run.icers),
    }
    if isinstance(run.spec, ModelSpec | PSMModelSpec):
        payload["settings"] = run.spec.settings.model_dump()
    if isinstance(run.spec, MicrosimModelSpec):
        payload["microsimulation"] = run.spec.microsimulation.model_dump(exclude_none=True)
    if run.psa_summary is not None:
        payload["psa"] = {
            "draws": run.n_draws,
            "seed": run.seed,
            "summary": records(run.psa_summary),
            "ceac": records(run.ceac) if run.ceac is not None else [],
            "evpi": records(run.evpi) if run.evpi is not None else [],
            "evppi": records(run.evppi) if run.evppi is not None else [],
        }
    return payload
