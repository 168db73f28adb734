"""Arrange `permedhub.hecon` results into tables and figures for the portal.

Only library functions compute here (`run_analysis`, `cea.*`, `voi.*`, `plots.*`); this module
reads uploads into the library's inputs and picks what each page shows.
"""

from __future__ import annotations

import io
import math
import re

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from permedhub.hecon import cea, dsa, payment, plots, voi
from permedhub.hecon.errors import HeconError
from permedhub.hecon.markov import MarkovModel
from permedhub.hecon.microsim_spec import MicrosimModelSpec
from permedhub.hecon.psm_spec import PSMModelSpec
from permedhub.hecon.run import (
    AnySpec,
    ExampleTable,
    ModelRun,
    example_models,
    example_tables,
    load_document,
    run_analysis,
)
from permedhub.hecon.spec import ModelSpec, TableSpec, parse_yaml
from permedhub.hecon.tree_spec import TreeModelSpec
from permedhub.web.tools import columns as result_columns
from permedhub.web.tools.common import PageResult, ToolInputError, table

COST_PREFIX = "cost_"
EFFECT_PREFIX = "effect_"
MONEY = 2
EFFECT = 4


# --------------------------------------------------------------------------- model documents


AnyModel = AnySpec


def load_example(name: str) -> AnyModel:
    """A shipped example, of any kind the library runs (`run.load_document`)."""
    examples = example_models()
    if name not in examples:
        raise ToolInputError("example", f"unknown example {name!r}; one of {sorted(examples)}")
    return load_document(examples[name])


def markov_cohort_only(spec: AnyModel, field: str, what: str) -> ModelSpec:
    """`spec` as a Markov cohort model, or a clear refusal: rewrites such as payment schemes,
    budget caps and the tornado work on cohort transitions, not on trees, partitioned survival
    or microsimulation."""
    if type(spec) is not ModelSpec:
        raise ToolInputError(field, f"{what} work on Markov cohort models only")
    return spec


def parse_model_text(text: str, filename: str) -> AnyModel:
    """Validate an uploaded YAML/JSON model document (JSON is read as YAML)."""
    try:
        data = parse_yaml(text, filename, "model document")
    except HeconError as error:
        raise ToolInputError("model_file", str(error)) from None
    spec = load_document(data)
    # A lookup table read from `file:` would open a path on the server: uploads must carry
    # their tables inline.
    parameters = getattr(spec, "parameters", {}) or {}
    from_files = sorted(
        name for name, p in parameters.items() if isinstance(p, TableSpec) and p.file
    )
    if from_files:
        raise ToolInputError(
            "model_file",
            f"{filename}: parameter(s) {from_files} read a table from a file, which an uploaded "
            "model cannot do; give the table inline (table: {x: [...], y: [...]})",
        )
    return spec


def model_run(spec: AnyModel, psa_draws: int, seed: int, wtp_max: float) -> ModelRun:
    """The library's end-to-end run (deterministic; a seeded PSA when `psa_draws` > 0)."""
    return run_analysis(spec, n_draws=psa_draws or None, seed=seed, wtp_max=wtp_max)


def model_page(run: ModelRun, wtp: float) -> PageResult:
    """Base case, incremental table and, after a PSA, the CE plane, CEAC, CEAF and EVPI."""
    spec = run.spec
    effect = run.effect_name
    page = PageResult(title=spec.name)
    page.facts.append(("Effect measure", effect.upper() if effect in ("qaly", "ly") else effect))
    kind = {
        ModelSpec: "Markov cohort",
        MicrosimModelSpec: "individual-level microsimulation",
        PSMModelSpec: "partitioned survival",
        TreeModelSpec: "decision tree",
    }[type(spec)]
    page.facts.append(("Model", kind))
    settings = getattr(spec, "settings", None)
    if settings is not None:
        page.facts.append(("Cycles", str(settings.cycles)))
    base = run.deterministic.reset_index()
    shown = [c for c in base.columns if "undiscounted" not in str(c)]
    money = {str(c): MONEY for c in shown if str(c).startswith("cost")}
    page.tables.append(("Base case per strategy (discounted)", table(base[shown], money, EFFECT)))
    page.tables.append(
        ("Incremental analysis (ND non-dominated, ED extended dominance, D dominated)",
         table(run.icers, {"cost": MONEY, "inc_cost": MONEY, "icer": MONEY}, EFFECT))
    )  # fmt: skip
    if wtp > 0:
        benefit = cea.net_benefit_table(
            base["cost"].to_numpy(), base["effect"].to_numpy(), list(base["strategy"]), wtp
        )
        page.tables.append((f"Net benefit at {wtp:,.0f} per unit of effect", table(benefit)))
    page.add_figure("frontier", plots.icers_figure(run.icers))
    if (
        run.psa_costs is not None
        and run.psa_effects is not None
        and run.strategies is not None
        and run.wtp_grid is not None
        and run.psa_summary is not None
    ):
        sample = cea.psa_sample(run.psa_costs, run.psa_effects, run.strategies)
        comparator = sample.strategies[0]
        page.facts += [("PSA draws", f"{run.n_draws:,}"), ("Seed", str(run.seed))]
        page.tables.append(("PSA summary", table(run.psa_summary)))
        page.tables.append(
            ("Incremental analysis on PSA means",
             table(cea.icers_from_psa(sample), {"cost": MONEY, "inc_cost": MONEY, "icer": MONEY}))
        )  # fmt: skip
        page.add_figure(
            "ce-plane",
            plots.ce_plane_figure(
                cea.ce_plane(sample, comparator), wtp=wtp or None, comparator=comparator
            ),
        )
        curves = run.ceac if run.ceac is not None else cea.ceac(sample, run.wtp_grid)
        add_curve_figures(page, sample, curves, run.wtp_grid)
    return page


def add_curve_figures(
    page: PageResult, sample: cea.PSASample, curves: pd.DataFrame, grid: np.ndarray
) -> None:
    """CEAC, CEAF and EVPI over the WTP grid, each with its data table."""
    page.add_figure("ceac", plots.ceac_figure(curves), twin=ceac_table(curves))
    frontier = cea.ceaf(sample, grid)
    page.add_figure("ceaf", plots.ceaf_figure(frontier), twin=frontier)
    evpi = voi.evpi(sample, grid)
    page.add_figure("evpi", plots.evpi_figure(evpi), twin=evpi, digits=MONEY)


def ceac_table(curves: pd.DataFrame) -> pd.DataFrame:
    """CEAC probabilities as one row per WTP and one column per strategy."""
    wide = curves.pivot(index="wtp", columns="strategy", values="probability")
    strategies = list(dict.fromkeys(curves["strategy"]))
    return wide[strategies].reset_index().rename_axis(columns=None)


def add_tornado(
    page: PageResult,
    run: ModelRun,
    ranges: dict[str, tuple[float, float]],
    intervention: str | None,
    comparator: str | None,
    wtp: float,
) -> None:
    """One-way DSA of the incremental NMB of `intervention` vs `comparator` (default: the
    last and first strategies of the model) as a table and a tornado diagram."""
    spec = markov_cohort_only(run.spec, "ranges", "one-way sensitivity analyses")
    strategies = list(spec.strategies)
    if len(strategies) < 2:
        raise ToolInputError("ranges", "a tornado diagram needs at least two strategies")
    chosen = intervention or strategies[-1]
    reference = comparator or strategies[0]
    rows, base = dsa.tornado(MarkovModel(spec), ranges, chosen, reference, wtp)
    caption = f"One-way sensitivity: incremental NMB of {chosen} vs {reference} at {wtp:,.0f}"
    page.facts.append(("Base-case incremental NMB", f"{base:,.2f}"))
    page.tables.append((caption, table(rows, default=MONEY)))
    page.add_figure(
        "tornado", plots.tornado_figure(rows, base, outcome=f"Incremental NMB ({chosen})")
    )


def psa_sample_frame(run: ModelRun) -> pd.DataFrame:
    """The PSA of a run in the layout the value-of-information page reads: one row per draw,
    ``cost_<strategy>``, ``effect_<strategy>`` and one column per sampled parameter."""
    if run.psa_costs is None or run.psa_effects is None or run.strategies is None:
        raise ToolInputError("psa_draws", "the PSA sample needs PSA draws > 0")
    columns: dict[str, np.ndarray] = {}
    for index, strategy in enumerate(run.strategies):
        columns[f"{COST_PREFIX}{strategy}"] = run.psa_costs[:, index]
    for index, strategy in enumerate(run.strategies):
        columns[f"{EFFECT_PREFIX}{strategy}"] = run.psa_effects[:, index]
    parameters = run.psa.parameters if run.psa is not None else {}
    for name, draws in parameters.items():
        if name not in columns and np.ndim(draws) == 1 and len(draws) == run.n_draws:
            columns[name] = np.asarray(draws)
    return pd.DataFrame(columns)


# --------------------------------------------------------------------------- CSV uploads


def read_csv_text(field_name: str, text: str) -> pd.DataFrame:
    """A CSV upload as a frame of strings (cells kept as typed, so errors can quote them)."""
    try:
        frame = pd.read_csv(
            io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True
        )
    except pd.errors.EmptyDataError:
        raise ToolInputError(field_name, "the file has no header row") from None
    except pd.errors.ParserError as error:
        raise ToolInputError(field_name, f"not a readable CSV file ({error})") from None
    if frame.empty:
        raise ToolInputError(field_name, "no data rows under the header")
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def example_table(kind: ExampleTable, name: str, field_name: str) -> pd.DataFrame:
    """A shipped CSV table (`run.example_tables`), read as an upload in `field_name` would be."""
    tables = example_tables(kind)
    if name not in tables:
        raise ToolInputError("sample", f"unknown sample {name!r}; one of {sorted(tables)}")
    return read_csv_text(field_name, tables[name].read_text(encoding="utf-8"))


def numeric_columns(field_name: str, frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """`columns` as floats; the first bad cell is named by column and line of the file."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ToolInputError(
            field_name, f"missing column(s) {missing}; the file has {list(frame.columns)}"
        )
    converted = {}
    for column in columns:
        values = pd.to_numeric(frame[column].str.strip(), errors="coerce")
        bad = values.isna() | values.isin([math.inf, -math.inf])
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise ToolInputError(
                field_name,
                f"column {column!r}, line {row + 2}: expected a finite number, "
                f"got {frame[column].iloc[row]!r}",
            )
        converted[column] = values.astype(float)
    return pd.DataFrame(converted)


def icers_page(frame: pd.DataFrame, field_name: str) -> PageResult:
    """Incremental table of a `strategy,cost,effect` file."""
    numbers = numeric_columns(field_name, frame, ["cost", "effect"])
    if "strategy" not in frame.columns:
        raise ToolInputError(
            field_name, f"missing column 'strategy'; the file has {list(frame.columns)}"
        )
    names = [s.strip() for s in frame["strategy"]]
    if any(not name for name in names):
        line = names.index("") + 2
        raise ToolInputError(field_name, f"column 'strategy', line {line}: the name is empty")
    icers = cea.calculate_icers(numbers["cost"].to_numpy(), numbers["effect"].to_numpy(), names)
    page = PageResult(title="Incremental cost-effectiveness")
    page.tables.append(
        ("Incremental analysis (ND non-dominated, ED extended dominance, D dominated)",
         table(icers, {"cost": MONEY, "inc_cost": MONEY, "icer": MONEY}, EFFECT))
    )  # fmt: skip
    page.add_figure("frontier", plots.icers_figure(icers))
    return page


def psa_columns(field_name: str, frame: pd.DataFrame) -> tuple[list[str], list[str]]:
    """(strategies, parameter columns) of a wide PSA file, by the library's rules."""
    try:
        layout = cea.wide_psa_layout(frame.columns, COST_PREFIX, EFFECT_PREFIX, min_strategies=2)
    except cea.AnalysisInputError as error:
        # the form field names the file; the library's "columns:" would name it twice
        raise ToolInputError(field_name, str(error).removeprefix("columns: ")) from None
    return layout.strategies, layout.parameters


def psa_page(
    frame: pd.DataFrame,
    field_name: str,
    wtp: float,
    wtp_max: float,
    parameter_sets: list[list[str]],
    method: str,
    seed: int,
) -> PageResult:
    """EVPI (at `wtp` and over 0..`wtp_max`), EVPPI of the parameter sets, CEAC and CE plane."""
    strategies, parameters = psa_columns(field_name, frame)
    outcome_columns = [f"{p}{s}" for p in (COST_PREFIX, EFFECT_PREFIX) for s in strategies]
    sample = cea.psa_from_wide_frame(
        numeric_columns(field_name, frame, outcome_columns), COST_PREFIX, EFFECT_PREFIX
    )
    grid = np.linspace(0.0, wtp_max, 51)
    page = PageResult(title="Value of information from a PSA sample")
    page.facts += [("Draws", f"{sample.n_draws:,}"), ("Strategies", ", ".join(strategies))]
    page.facts.append(("Parameter columns", ", ".join(parameters) or "none"))
    at_wtp = voi.evpi(sample, [wtp])
    page.tables.append((f"EVPI per person at {wtp:,.0f}", table(at_wtp, default=MONEY)))
    if parameter_sets:
        unknown = sorted({p for group in parameter_sets for p in group} - set(parameters))
        if unknown:
            raise ToolInputError(
                "parameters", f"unknown parameter column(s) {unknown}; the file has {parameters}"
            )
        inputs = numeric_columns(field_name, frame, sorted({p for g in parameter_sets for p in g}))
        values = voi.evppi(sample, inputs, parameter_sets, wtp=[wtp], method=method, seed=seed)  # type: ignore[arg-type]
        page.tables.append(
            (f"EVPPI per person at {wtp:,.0f} ({method.upper()} metamodel, seed {seed})",
             table(values, default=MONEY))
        )  # fmt: skip
        page.add_figure("evppi", plots.evppi_bar_figure(values, wtp=wtp))
    add_curve_figures(page, sample, cea.ceac(sample, grid), grid)
    page.add_figure(
        "ce-plane",
        plots.ce_plane_figure(cea.ce_plane(sample, strategies[0]), wtp=wtp or None,
                              comparator=strategies[0]),
    )  # fmt: skip
    return page


def add_evsi(
    page: PageResult,
    frame: pd.DataFrame,
    field_name: str,
    study: str,
    parameters: list[str],
    sample_sizes: list[int],
    sd: float,
    wtp: float,
    seed: int,
) -> None:
    """EVSI of a proposed study (regression method) for each sample size, as a table and a
    curve against the sample size."""
    strategies, parameter_columns = psa_columns(field_name, frame)
    unknown = sorted(set(parameters) - set(parameter_columns))
    if unknown:
        raise ToolInputError(
            "evsi_parameters",
            f"unknown parameter column(s) {unknown}; the file has {parameter_columns}",
        )
    outcome_columns = [f"{p}{s}" for p in (COST_PREFIX, EFFECT_PREFIX) for s in strategies]
    sample = cea.psa_from_wide_frame(
        numeric_columns(field_name, frame, outcome_columns), COST_PREFIX, EFFECT_PREFIX
    )
    inputs = numeric_columns(field_name, frame, parameters)
    design = voi.study_from_name(study, parameters, sd)
    values = voi.evsi(sample, inputs, design, sample_sizes, wtp=[wtp], seed=seed)
    page.tables.append(
        (f"EVSI per person at {wtp:,.0f}: {study} study of {', '.join(parameters)} (seed {seed})",
         table(values, {"n": 0}, MONEY))
    )  # fmt: skip
    figure = go.Figure(
        [
            go.Scatter(x=values["n"], y=values["evsi"], mode="lines+markers", name="EVSI"),
            go.Scatter(x=values["n"], y=values["evpi"], mode="lines", name="EVPI",
                       line={"dash": "dash"}),
        ]
    )  # fmt: skip
    figure.update_layout(
        title="Expected value of sample information by sample size",
        xaxis_title="Sample size n",
        yaxis_title="Value per person",
    )
    page.add_figure("evsi", figure)


# --------------------------------------------------------------------------- population payment


def parse_tiers(text: str) -> list[tuple[float, float]]:
    """'0:30000, 100:25000' -> [(0.0, 30000.0), (100.0, 25000.0)]: from-volume:unit price."""
    tiers: list[tuple[float, float]] = []
    for part in re.split(r"[,;\n]+", text):
        if not part.strip():
            continue
        volume, _, price = part.partition(":")
        try:
            tier = (float(volume), float(price))
        except ValueError:
            raise ToolInputError(
                "tiers", f"{part.strip()!r}: expected from_volume:unit_price, e.g. 0:30000"
            ) from None
        if not all(math.isfinite(v) for v in tier):
            raise ToolInputError("tiers", f"{part.strip()!r}: expected finite numbers")
        tiers.append(tier)
    if not tiers:
        raise ToolInputError("tiers", "give at least one tier, e.g. 0:30000, 100:25000")
    return tiers


def spend_summary(
    schemes: dict[str, np.ndarray], new_patients: list[float], rate: float
) -> pd.DataFrame:
    """The library's discounted spend summary per scheme (`payment.discounted_spend_summary`)."""
    return payment.discounted_spend_summary(schemes, new_patients, rate)


SPEND_CAPTION = "Payer's discounted spend over the horizon"


def _yearly_figure(frame: pd.DataFrame, columns: list[str], title: str) -> go.Figure:
    figure = go.Figure(
        [go.Bar(x=frame["year"], y=frame[column], name=column) for column in columns]
    )
    figure.update_layout(title=title, xaxis_title="Year", yaxis_title="Spend", barmode="group")
    return figure


def price_volume_page(
    new_patients: list[float], tiers: list[tuple[float, float]], rate: float
) -> PageResult:
    """Spend per year under a price-volume agreement (`payment.price_volume_spend`) next to
    the spend at the first tier's (list) price, for a known yearly volume."""
    volume = np.asarray(new_patients, dtype=float)
    try:
        agreed = payment.price_volume_spend(new_patients, tiers)
    except HeconError as error:
        raise ToolInputError("tiers", str(error)) from None
    at_list = payment.price_volume_spend(new_patients, [(0.0, tiers[0][1])])
    yearly = pd.DataFrame(
        {
            "year": np.arange(1, volume.size + 1),
            "volume": volume,
            "spend at list price": at_list,
            "spend under the agreement": agreed,
            "average unit price": np.divide(
                agreed, volume, out=np.zeros_like(agreed), where=volume > 0
            ),
        }
    )
    page = PageResult(title="Price-volume agreement")
    page.facts += [
        ("Tiers (from volume: unit price)", ", ".join(f"{v:,.0f}: {p:,.2f}" for v, p in tiers)),
        ("Discount rate", f"{rate:g}"),
        ("Risk under PSA", "none: the yearly volume is an input, so spend is certain"),
    ]
    summary = spend_summary(
        {"list price": at_list[None, :], "price-volume agreement": agreed[None, :]},
        new_patients,
        rate,
    )
    page.tables.append((SPEND_CAPTION, table(summary, default=MONEY)))
    page.add_figure(
        "cashflows",
        _yearly_figure(yearly, ["spend at list price", "spend under the agreement"],
                       "Payer's spend per year (undiscounted)"),
        twin=yearly,
        digits=MONEY,
    )  # fmt: skip
    return page


def budget_cap_page(
    spec: ModelSpec,
    strategy: str,
    category: str,
    new_patients: list[float],
    cap: list[float],
    rate: float,
    psa_draws: int,
    seed: int,
) -> PageResult:
    """Yearly spend of `category` for `strategy` when `new_patients[y]` start each year
    (`payment.population_spend` of the model's per-patient cash flows), capped by
    `payment.budget_cap`; mean and 90% interval over the PSA draws."""
    if spec.settings.cycle_length != 1:
        raise ToolInputError(
            "model_file",
            f"a budget cap works on yearly spend: the model's cycle_length must be 1 (year), "
            f"got {spec.settings.cycle_length}",
        )
    if len(cap) not in (1, len(new_patients)):
        raise ToolInputError(
            "cap", f"expected 1 or {len(new_patients)} yearly caps (one per year), got {len(cap)}"
        )
    model = MarkovModel(spec)
    if strategy not in spec.strategies:
        raise ToolInputError(
            "strategy", f"unknown strategy {strategy!r}; strategies are {list(spec.strategies)}"
        )
    if category not in model.categories:
        raise ToolInputError(
            "category", f"unknown cost category {category!r}; categories are {model.categories}"
        )
    result = model.run(n_draws=psa_draws or None, seed=seed if psa_draws else None,
                       keep_cashflows=True)  # fmt: skip
    per_patient = result.cashflows[strategy][category]
    spend = payment.population_spend(per_patient, new_patients)
    paid, rebate = payment.budget_cap(spend, cap if len(cap) > 1 else cap[0])
    yearly = pd.DataFrame(
        {
            "year": np.arange(1, spend.shape[1] + 1),
            "new patients": np.asarray(new_patients, dtype=float),
            "cap": np.broadcast_to(np.asarray(cap, dtype=float), (spend.shape[1],)),
            "spend without cap (mean)": spend.mean(axis=0),
            "payer pays (mean)": paid.mean(axis=0),
            "payer pays p05": np.percentile(paid, 5, axis=0),
            "payer pays p95": np.percentile(paid, 95, axis=0),
            "rebate (mean)": rebate.mean(axis=0),
        }
    )
    page = PageResult(title=f"Budget cap: {strategy}, cost category {category}")
    page.facts += [("Model", spec.name), ("PSA draws", f"{psa_draws:,}"),
                   ("Discount rate", f"{rate:g}")]  # fmt: skip
    if psa_draws:
        page.facts.append(("Seed", str(seed)))
    summary = spend_summary({"without cap": spend, "budget cap (payer)": paid}, new_patients, rate)
    page.tables.append((SPEND_CAPTION, table(summary, default=MONEY)))
    page.add_figure(
        "cashflows",
        _yearly_figure(yearly, ["spend without cap (mean)", "payer pays (mean)",
                                "rebate (mean)"], "Payer's spend per year (undiscounted)"),
        twin=yearly,
        digits=MONEY,
    )  # fmt: skip
    return page


def ced_page(
    frame: pd.DataFrame,
    field_name: str,
    parameters: list[str],
    prior_sample_size: float,
    sample_size: int,
    wtp: float,
    annual_population: float,
    horizon_years: int,
    rate: float,
    study_cost: float,
) -> PageResult:
    """Coverage with evidence development: `payment.coverage_with_evidence_development` (EVSI
    by the Gaussian approximation) on an uploaded PSA sample."""
    strategies, parameter_columns = psa_columns(field_name, frame)
    unknown = sorted(set(parameters) - set(parameter_columns))
    if unknown or not parameters:
        raise ToolInputError(
            "ced_parameters",
            f"unknown parameter column(s) {unknown}; the file has {parameter_columns}"
            if unknown
            else f"name the parameter(s) the study informs; the file has {parameter_columns}",
        )
    costs = numeric_columns(field_name, frame, [f"{COST_PREFIX}{s}" for s in strategies])
    effects = numeric_columns(field_name, frame, [f"{EFFECT_PREFIX}{s}" for s in strategies])
    inputs = numeric_columns(field_name, frame, parameters)
    outcome = payment.coverage_with_evidence_development(
        costs.to_numpy(), effects.to_numpy(), strategies, inputs, parameters,
        prior_sample_size, sample_size, wtp, annual_population, horizon_years, rate, study_cost,
    )  # fmt: skip
    decision = str(outcome["decision"])
    page = PageResult(title="Coverage with evidence development")
    page.facts += [
        ("Decision", "collect evidence first" if decision == "collect_evidence" else "decide now"),
        ("Draws", f"{len(frame):,}"),
        ("Strategies", ", ".join(strategies)),
        ("Study informs", ", ".join(parameters)),
    ]
    numbers = pd.DataFrame(
        {"quantity": [result_columns.column(k).heading for k in outcome if k != "decision"],
         "value": [float(v) for k, v in outcome.items() if k != "decision"]}
    )  # fmt: skip
    page.tables.append(
        (f"Value of the study at WTP {wtp:,.0f} (n = {sample_size:,})",
         table(numbers, default=MONEY))
    )  # fmt: skip
    figure = go.Figure(
        go.Bar(
            x=["population EVSI", "study cost", "expected net gain of sampling"],
            y=[outcome["evsi_population"], outcome["study_cost"],
               outcome["expected_net_gain_of_sampling"]],
        )
    )  # fmt: skip
    figure.update_layout(title="Is it worth waiting for more data?", yaxis_title="Value")
    page.add_figure("ced", figure)
    add_ced_years(page, float(outcome["evsi_per_person"]), annual_population, horizon_years,
                  rate, study_cost)  # fmt: skip
    return page


def add_ced_years(
    page: PageResult,
    evsi_per_person: float,
    annual_population: float,
    horizon_years: int,
    rate: float,
    study_cost: float,
) -> None:
    """The study's value as the decision's horizon grows (`payment.evsi_by_horizon`)."""
    frame = payment.evsi_by_horizon(
        evsi_per_person, annual_population, horizon_years, rate, study_cost
    )
    years = frame["year"].to_numpy()
    value = frame["population EVSI so far"].to_numpy()
    figure = go.Figure(
        [go.Scatter(x=years, y=value, mode="lines+markers", name="population EVSI so far"),
         go.Scatter(x=years, y=frame["study cost"], mode="lines", name="study cost",
                    line={"dash": "dash"})]
    )  # fmt: skip
    figure.update_layout(
        title="Value of the study's information over the decision horizon",
        xaxis_title="Years of the decision horizon",
        yaxis_title="Value (discounted)",
    )
    page.add_figure("ced-years", figure, twin=frame, digits=MONEY)
