"""Run a design document: build the design, simulate (or compute exactly) every scenario.

`simulate_design(spec, n_sim, seed, ...)` returns a `SimulationReport` holding the validated
inputs, the software versions, the seed, the engine, the random-block size and, per scenario,
every result with its Monte-Carlo standard error (0 for exact results, flagged `exact`).
"""

from __future__ import annotations

import math
import platform as python_platform
import time
from dataclasses import dataclass, field, replace
from importlib import metadata
from typing import Any, Literal

import numpy as np
import scipy

from permedhub.trials import basket
from permedhub.trials.design_spec import BasketSpec, EnrichmentSpec, PlatformSpec
from permedhub.trials.engines.enrichment_patient import PatientLevelEngine, PatientOptions
from permedhub.trials.engines.enrichment_summary import SummaryStatisticEngine
from permedhub.trials.engines.runner import ProgressCallback, run_simulation
from permedhub.trials.enrichment import (
    BinaryScenario,
    EnrichmentDesign,
    EnrichmentSimulator,
    NormalScenario,
    SampleSizeReestimation,
)
from permedhub.trials.errors import ExactComputationTooLarge, TrialInputError
from permedhub.trials.platform import PlatformDesign, PlatformScenario, simulate_platform
from permedhub.trials.rng import BLOCK_SIZE, check_n_sim, check_seed

Engine = Literal["summary", "patient"]
BHM_BLOCK_SIZE = 2_000  # smaller blocks: each BHM trial integrates a posterior grid
AnySpec = EnrichmentSpec | BasketSpec | PlatformSpec


def software_versions() -> dict[str, str]:
    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "not installed"

    return {
        "permedhub": version("permedhub"),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "python": python_platform.python_version(),
    }


@dataclass
class ScenarioResult:
    name: str
    parameters: dict[str, Any]
    metrics: dict[str, dict[str, float]]
    exact: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "parameters": self.parameters,
            "exact": self.exact,
            "metrics": self.metrics,
        }


@dataclass
class SimulationReport:
    design: dict[str, Any]
    n_sim: int
    seed: int
    engine: str
    block_size: int
    boundaries: dict[str, list[float]]
    scenarios: list[ScenarioResult]
    software: dict[str, str] = field(default_factory=software_versions)
    elapsed_seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "design": self.design,
            "n_sim": self.n_sim,
            "seed": self.seed,
            "engine": self.engine,
            "block_size": self.block_size,
            "boundaries": self.boundaries,
            "software": self.software,
            "elapsed_seconds": self.elapsed_seconds,
            "scenarios": [s.to_dict() for s in self.scenarios],
        }


def _metrics(estimates: dict[str, Any]) -> dict[str, dict[str, float]]:
    return {
        name: {"estimate": float(e.mean), "mc_se": float(e.se)} for name, e in estimates.items()
    }


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def enrichment_design(spec: EnrichmentSpec) -> EnrichmentDesign:
    """The library design for an enrichment document (group-sequential bounds from gsd.py)."""
    critical = tuple(spec.critical_values) if spec.critical_values is not None else None
    stages = len(spec.stage_sample_sizes)
    if critical is None and spec.boundary != "no_early_efficacy":
        from permedhub.trials.gsd import efficacy_bounds

        raw = (
            np.asarray(spec.weights, dtype=float)
            if spec.weights is not None
            else np.sqrt(np.asarray(spec.stage_sample_sizes, dtype=float))
        )
        rates = np.cumsum(raw**2) / np.sum(raw**2)
        critical = tuple(
            float(b) for b in efficacy_bounds(stages, spec.boundary, spec.alpha, 1, list(rates))
        )
    ssr = (
        SampleSizeReestimation(
            spec.ssr.target_conditional_power, spec.ssr.min_stage_size, spec.ssr.max_stage_size
        )
        if spec.ssr is not None
        else None
    )
    return EnrichmentDesign(
        stage_sample_sizes=tuple(spec.stage_sample_sizes),
        prevalences=(spec.prevalences[0], spec.prevalences[1]),
        endpoint=spec.endpoint,
        alpha=spec.alpha,
        critical_values=critical,
        futility_bounds=tuple(spec.futility_bounds) if spec.futility_bounds else None,
        weights=tuple(spec.weights) if spec.weights else None,
        intersection_test=spec.intersection_test,
        selection=spec.selection,
        epsilon=spec.epsilon,
        threshold=spec.threshold,
        effect_measure=spec.effect_measure,
        stratified=spec.stratified,
        subgroup_sizes=spec.subgroup_sizes,
        success_criterion=spec.success_criterion,
        ssr=ssr,
    )


def _simulate_enrichment(
    spec: EnrichmentSpec,
    n_sim: int,
    seed: int,
    engine: Engine,
    workers: int,
    scheduler: str | None,
    progress: ProgressCallback | None,
) -> tuple[dict[str, list[float]], list[ScenarioResult]]:
    design = enrichment_design(spec)
    options = PatientOptions(**spec.patient_level.model_dump())
    results = []
    for index, scenario_spec in enumerate(spec.scenarios):
        parameters = scenario_spec.model_dump(exclude={"name"})
        scenario: NormalScenario | BinaryScenario = (
            BinaryScenario(**parameters)
            if spec.endpoint == "binary"
            else NormalScenario(**parameters)
        )
        stage_engine = (
            PatientLevelEngine(design, scenario, options)
            if engine == "patient"
            else SummaryStatisticEngine(design, scenario)
        )
        summary = run_simulation(
            EnrichmentSimulator(design, scenario, stage_engine),
            n_sim,
            seed,
            workers=workers,
            scheduler=scheduler,
            progress=progress,
        )
        name = scenario_spec.name or f"scenario {index + 1}"
        results.append(ScenarioResult(name, parameters, _metrics(summary.estimates)))
    boundaries = {
        "efficacy (combination z)": [float(b) for b in design.bounds()],
        "inverse-normal weights": [float(w) for w in design.combination_weights()],
    }
    if design.futility_bounds is not None:
        boundaries["futility (combination z)"] = [float(b) for b in design.futility_bounds]
    return boundaries, results


def _basket_results(spec: BasketSpec, n_sim: int, seed: int, workers: int) -> list[ScenarioResult]:
    results = []
    for index, scenario in enumerate(spec.scenarios):
        rates = scenario.response_rates
        if spec.method in ("fujikawa", "power_prior"):
            assert spec.n is not None
            settings = basket.FujikawaSettings(
                lambda_=spec.lambda_, epsilon=spec.epsilon, tau=spec.tau, logbase=spec.logbase,
                shape1=spec.shape1, shape2=spec.shape2, borrowing=spec.method,
            )  # fmt: skip
            if spec.calibrate_lambda_to_fwer is not None:
                cutoff, _ = basket.calibrate_lambda(
                    spec.calibrate_lambda_to_fwer, len(rates), spec.p0, spec.n, settings,
                    n1=spec.n1, interim=spec.interim, futility=spec.futility,
                    efficacy=spec.efficacy,
                )  # fmt: skip
                settings = replace(settings, lambda_=cutoff)
            options: dict[str, Any] = {
                "n1": spec.n1, "interim": spec.interim, "futility": spec.futility,
                "efficacy": spec.efficacy,
            }  # fmt: skip
            if spec.computation == "simulated":
                oc = basket.fujikawa_simulated(
                    rates, spec.p0, spec.n, settings, **options, n_sim=n_sim, seed=seed,
                    workers=workers, block_size=BHM_BLOCK_SIZE,
                )  # fmt: skip
            else:
                try:
                    oc = basket.fujikawa_design(tuple(rates), spec.p0, spec.n, settings, **options)
                except ExactComputationTooLarge as error:
                    raise ExactComputationTooLarge(
                        f"scenarios[{index}].response_rates", list(rates), error.outcomes,
                        error.limit, "set `computation: simulated` in the design document to "
                        "simulate it (--n-sim trials), or use fewer baskets or patients",
                    ) from None  # fmt: skip
        elif spec.method == "bhm":
            assert spec.n is not None
            prior = basket.BhmPrior(**spec.prior.model_dump())
            oc = basket.bhm_design(
                rates, spec.p0, spec.n, spec.threshold, prior, n_sim=n_sim, seed=seed,
                workers=workers, block_size=BHM_BLOCK_SIZE,
            )  # fmt: skip
        else:
            assert spec.p1 is not None
            oc = basket.independent_baskets(
                rates, spec.p0, spec.p1, spec.alpha, spec.beta, spec.criterion, spec.n
            )
        data = oc.to_dict()
        metrics: dict[str, dict[str, float]] = {}
        for k, (p, se) in enumerate(
            zip(data["rejection_probabilities"], data["rejection_se"], strict=True)
        ):
            metrics[f"reject_basket_{k + 1}"] = {"estimate": p, "mc_se": se}
        metrics["fwer"] = {"estimate": data["fwer"], "mc_se": data["fwer_se"]}
        metrics["any_correct_rejection"] = {
            "estimate": data["any_correct_rejection"],
            "mc_se": data["any_correct_rejection_se"],
        }
        for k, ess in enumerate(data["expected_sample_size"]):
            metrics[f"expected_n_basket_{k + 1}"] = {"estimate": ess, "mc_se": 0.0}
        name = scenario.name or f"scenario {index + 1}"
        parameters: dict[str, Any] = {"response_rates": list(rates)}
        if "lambda_" in oc.details:
            parameters["lambda"] = oc.details["lambda_"]
        results.append(ScenarioResult(name, parameters, metrics, exact=oc.exact))
    return results


def simulate_design(
    spec: AnySpec,
    n_sim: int = 10_000,
    seed: int = 1,
    *,
    engine: Engine = "summary",
    workers: int = 1,
    scheduler: str | None = None,
    progress: ProgressCallback | None = None,
) -> SimulationReport:
    """Simulate every scenario of a validated design document."""
    check_n_sim(n_sim)
    check_seed(seed)
    if engine not in ("summary", "patient"):
        raise TrialInputError("engine", engine, "'summary' or 'patient'")
    if engine == "patient" and not isinstance(spec, EnrichmentSpec):
        raise TrialInputError(
            "engine", engine, "'summary' (the patient-level engine serves enrichment designs)"
        )
    started = time.perf_counter()
    boundaries: dict[str, list[float]] = {}
    if isinstance(spec, EnrichmentSpec):
        boundaries, results = _simulate_enrichment(
            spec, n_sim, seed, engine, workers, scheduler, progress
        )
    elif isinstance(spec, BasketSpec):
        results = _basket_results(spec, n_sim, seed, workers)
    else:
        design = PlatformDesign(
            arms=spec.arms,
            stage_sizes_per_arm=tuple(spec.stage_sizes_per_arm),
            alpha=spec.alpha,
            endpoint=spec.endpoint,
            multiplicity=spec.multiplicity,
            boundary_shape=spec.boundary_shape,
            futility_bounds=tuple(spec.futility_bounds) if spec.futility_bounds else None,
            efficacy_bounds=tuple(spec.efficacy_bounds) if spec.efficacy_bounds else None,
            control_ratio=spec.control_ratio,
            arm_entry_stages=tuple(spec.arm_entry_stages) if spec.arm_entry_stages else None,
        )
        results = []
        for index, scenario_spec in enumerate(spec.scenarios):
            scenario = PlatformScenario(
                tuple(scenario_spec.arm_means), scenario_spec.control_mean, scenario_spec.sd
            )
            outcome = simulate_platform(
                design, scenario, n_sim, seed, workers=workers, progress=progress,
                scheduler=scheduler,
            )  # fmt: skip
            name = scenario_spec.name or f"scenario {index + 1}"
            parameters = scenario_spec.model_dump(exclude={"name"})
            results.append(ScenarioResult(name, parameters, _metrics(outcome.summary.estimates)))
            boundaries = {"efficacy (z)": list(outcome.efficacy_bounds)}
            if design.futility_bounds is not None:
                boundaries["futility (z)"] = list(design.futility_bounds)
    return SimulationReport(
        design=_json_safe(spec.model_dump(mode="json", by_alias=True)),
        n_sim=n_sim,
        seed=seed,
        engine=engine,
        block_size=BHM_BLOCK_SIZE
        if isinstance(spec, BasketSpec) and spec.method == "bhm"
        else BLOCK_SIZE,
        boundaries=boundaries,
        scenarios=results,
        elapsed_seconds=time.perf_counter() - started,
    )
