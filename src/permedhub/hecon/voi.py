"""Value of information from a probabilistic sample: EVPI, EVPPI and EVSI.

Outputs come in either form used by the R package voi:

- a :class:`~permedhub.hecon.cea.PSASample` (per-draw costs and effects) with a
  willingness-to-pay grid: results per threshold;
- a :class:`NetBenefitSample` (per-draw net benefit at one threshold).

**EVPI** = ``E[max_d NB_d] - max_d E[NB_d]`` per person; :func:`population_evpi` scales it by the
discounted number of people who benefit from the decision over a horizon.

**EVPPI** uses the regression (metamodel) estimator of Strong, Oakley & Brennan (2014, *Med
Decis Making* 34(3):311-326): the incremental net benefit of each strategy versus the first is
regressed on the parameters of interest θ; with fitted values ``g_d(θ)``,
``EVPPI = mean_i max_d g_d(θ_i) - max_d mean_i g_d(θ_i)``. For a cost/effect sample the
incremental costs and effects are regressed separately and combined per threshold (as voi does),
so a whole grid needs only ``2 (D - 1)`` fits; at a single threshold the incremental net benefit
is regressed directly (``D - 1`` fits). Two metamodels:

- ``method="gam"``: penalised cubic regression splines with GCV-chosen smoothing parameters,
  a tensor product for parameter sets, as mgcv's ``te(..., bs = "cr")`` used by default in voi
  (Wood 2017, *Generalized Additive Models*, §5.3.1, §5.6); ``structure="additive"`` fits one
  smooth per parameter instead. Basis size ``k = 5`` per parameter (``k = 4`` from four
  parameters on, as voi/SAVI).
- ``method="gp"``: Gaussian-process regression (Strong et al. 2014, §2.3) with REML
  hyperparameters on a subsample and a subset-of-regressors posterior mean (see
  ``permedhub.hecon._voi_gp`` for the exact estimator and references).

Guarantees. By Jensen's inequality the estimator is never negative; it is clipped to
``[0, EVPI]`` (fitted values can be more dispersed than the outputs), and when several
parameter sets are estimated in one call the values are made monotone under set inclusion
(``EVPPI(A) >= EVPPI(B)`` whenever ``B ⊂ A``): each set takes the maximum of its own estimate and
those of its subsets. The unadjusted estimate is kept in the ``raw_evppi`` column.

**EVSI** by two published methods:

- :func:`evsi` — the regression method of Strong, Brennan & Oakley (2015, *Med Decis Making*
  35(5):570-583): simulate the study's summary statistic for each draw and regress the
  incremental net benefit on it. Built-in designs follow voi (``binary``, ``trial_binary``,
  ``normal_known``); any :class:`StudyDesign` can be supplied.
- :func:`evsi_gaussian_approximation` — Jalal & Alarid-Escudero (2018, *Med Decis Making*
  38(2):174-188), as in dampack: the GAM EVPPI metamodel with each basis function shrunk
  towards its mean by ``sqrt(n / (n + n0))``, ``n0`` being the prior effective sample size.

All randomness (GP subsamples, simulated studies) comes from ``numpy.random.default_rng(seed)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd
from threadpoolctl import threadpool_limits

from permedhub.hecon._voi_gp import fit_gaussian_process
from permedhub.hecon._voi_splines import (
    GamStructure,
    SplineFit,
    n_coefficients,
    spline_design,
)
from permedhub.hecon.cea import (
    AnalysisInputError,
    PSASample,
    _finite_matrix,
    _strategy_names,
    validate_wtp,
)

FloatArray = npt.NDArray[np.float64]
EVPPIMethod = Literal["gam", "gp"]

_MAX_CELLS_PER_CHUNK = 4_000_000
_MAX_TENSOR_COEFFICIENTS = 400
_MIN_DRAWS = 30


class MetamodelError(AnalysisInputError):
    """The regression metamodel cannot be fitted as asked (too few draws, too many inputs)."""


@dataclass(frozen=True)
class NetBenefitSample:
    """Per-draw net benefit (draws × strategies) at a single threshold."""

    values: FloatArray
    strategies: tuple[str, ...]

    @property
    def n_draws(self) -> int:
        return int(self.values.shape[0])


def net_benefit_sample(values: object, strategies: Sequence[str] | None = None) -> NetBenefitSample:
    """Validate a draws × strategies net-benefit array."""
    matrix = _finite_matrix("net_benefit", values)
    if matrix.shape[1] < 2:
        raise AnalysisInputError(
            f"net_benefit: expected at least 2 strategy columns, got {matrix.shape[1]}"
        )
    return NetBenefitSample(matrix, _strategy_names(strategies, matrix.shape[1]))


Outputs = PSASample | NetBenefitSample


# --------------------------------------------------------------------------- EVPI


def _wtp_for(outputs: Outputs, wtp: object | None) -> FloatArray | None:
    if isinstance(outputs, NetBenefitSample):
        if wtp is not None:
            raise AnalysisInputError(
                "wtp: a net-benefit sample is already at one threshold; pass wtp=None"
            )
        return None
    if not isinstance(outputs, PSASample):
        raise AnalysisInputError(
            f"outputs: expected a PSASample or NetBenefitSample, got {type(outputs).__name__}"
        )
    if outputs.n_strategies < 2:
        raise AnalysisInputError("outputs: value of information needs at least 2 strategies")
    if wtp is None:
        raise AnalysisInputError("wtp: a cost/effect sample needs willingness-to-pay values")
    return validate_wtp(wtp)


def _chunks(wtp: FloatArray, cells_per_threshold: int) -> Iterator[slice]:
    size = max(1, _MAX_CELLS_PER_CHUNK // max(cells_per_threshold, 1))
    for start in range(0, wtp.size, size):
        yield slice(start, min(start + size, wtp.size))


def _value_of_decision(costs: FloatArray, effects: FloatArray, wtp: FloatArray) -> FloatArray:
    """``mean max_d NB_d - max_d mean NB_d`` per threshold, for NB = wtp * effects - costs."""
    result = np.empty(wtp.size)
    for part in _chunks(wtp, costs.size):
        nb = wtp[part, None, None] * effects[None] - costs[None]
        result[part] = nb.max(axis=2).mean(axis=1) - nb.mean(axis=1).max(axis=1)
    return result


def _value_of_net_benefit(nb: FloatArray) -> float:
    return float(nb.max(axis=1).mean() - nb.mean(axis=0).max())


def evpi(outputs: Outputs, wtp: object | None = None) -> pd.DataFrame:
    """Per-person EVPI; columns ``wtp, evpi`` (``evpi`` only for a net-benefit sample)."""
    thresholds = _wtp_for(outputs, wtp)
    if isinstance(outputs, NetBenefitSample):
        return pd.DataFrame({"evpi": [_value_of_net_benefit(outputs.values)]})
    assert thresholds is not None and isinstance(outputs, PSASample)
    values = _value_of_decision(outputs.costs, outputs.effects, thresholds)
    return pd.DataFrame({"wtp": thresholds, "evpi": np.maximum(values, 0.0)})


def population_multiplier(
    annual_population: float | Sequence[float],
    horizon_years: int,
    discount_rate: float,
    discount_first_year: bool = False,
) -> float:
    """Discounted number of people affected by the decision over the horizon:
    ``Σ_{t=0}^{H-1} N_t / (1 + r)^(t + s)`` with ``s = 1`` if the first year is discounted.

    ``annual_population`` is one number (the same every year) or one per year.
    """
    if not isinstance(horizon_years, int | np.integer) or horizon_years < 1:
        raise AnalysisInputError(f"horizon_years: expected an integer >= 1, got {horizon_years!r}")
    if not np.isfinite(discount_rate) or discount_rate < 0:
        raise AnalysisInputError(f"discount_rate: expected a finite rate >= 0, got {discount_rate}")
    population = np.atleast_1d(np.asarray(annual_population, dtype=np.float64))
    if population.size == 1:
        population = np.full(horizon_years, population[0])
    if population.size != horizon_years:
        raise AnalysisInputError(
            f"annual_population: expected 1 or {horizon_years} values, got {population.size}"
        )
    if not np.all(np.isfinite(population)) or np.any(population < 0):
        raise AnalysisInputError(
            f"annual_population: expected finite counts >= 0, got {population.tolist()}"
        )
    exponent = np.arange(horizon_years) + (1 if discount_first_year else 0)
    return float(np.sum(population / (1.0 + discount_rate) ** exponent))


def population_evpi(
    outputs: Outputs,
    wtp: object | None,
    annual_population: float | Sequence[float],
    horizon_years: int,
    discount_rate: float,
    discount_first_year: bool = False,
) -> pd.DataFrame:
    """EVPI per person and for the population; adds ``population`` and ``evpi_population``."""
    multiplier = population_multiplier(
        annual_population, horizon_years, discount_rate, discount_first_year
    )
    frame = evpi(outputs, wtp)
    frame["population"] = multiplier
    frame["evpi_population"] = frame["evpi"] * multiplier
    return frame


# --------------------------------------------------------------------------- metamodels


@dataclass(frozen=True)
class MetamodelSettings:
    """How the regression metamodel is fitted (see the module docstring)."""

    method: EVPPIMethod = "gam"
    structure: GamStructure = "tensor"
    n_knots: int | None = None
    n_hyper: int = 200
    n_inducing: int = 200

    def knots_for(self, n_inputs: int) -> int:
        if self.n_knots is not None:
            return self.n_knots
        return 5 if n_inputs < 4 else 4


class _Regression(Protocol):
    @property
    def fitted(self) -> FloatArray: ...

    def predict(self, inputs: FloatArray) -> FloatArray: ...


def _check_metamodel(settings: MetamodelSettings, n_draws: int, n_inputs: int, what: str) -> None:
    if settings.method not in ("gam", "gp"):
        raise AnalysisInputError(f"method: expected 'gam' or 'gp', got {settings.method!r}")
    if settings.structure not in ("tensor", "additive"):
        raise AnalysisInputError(
            f"structure: expected 'tensor' or 'additive', got {settings.structure!r}"
        )
    if settings.n_knots is not None and settings.n_knots < 3:
        raise AnalysisInputError(f"n_knots: expected at least 3, got {settings.n_knots}")
    if settings.method == "gam":
        size = n_coefficients(n_inputs, settings.structure, settings.knots_for(n_inputs))
        if settings.structure == "tensor" and size > _MAX_TENSOR_COEFFICIENTS:
            raise MetamodelError(
                f"{what}: a tensor-product GAM of {n_inputs} inputs has {size} coefficients "
                f"(limit {_MAX_TENSOR_COEFFICIENTS}); use method='gp' or structure='additive'"
            )
        needed = max(_MIN_DRAWS, 4 * size)
    else:
        needed = max(_MIN_DRAWS, 10 * (n_inputs + 2))
    if n_draws < needed:
        raise MetamodelError(
            f"draws: the {settings.method} metamodel on {n_inputs} input(s) needs at least "
            f"{needed} draws, got {n_draws}"
        )


def _regressor(
    x: FloatArray, settings: MetamodelSettings, rng: np.random.Generator
) -> Callable[[FloatArray], _Regression]:
    """A function fitting one output on ``x``. For the GAM the basis and its factorisations
    are built once and shared by every output regressed on the same inputs."""
    if settings.method == "gam":
        design = spline_design(x, settings.structure, settings.knots_for(x.shape[1]))
        return design.fit
    return lambda y: fit_gaussian_process(x, y, rng, settings.n_hyper, settings.n_inducing)


@dataclass(frozen=True)
class _IncrementalFits:
    """Metamodels of each strategy's increment over the first strategy."""

    cost_fits: list[_Regression] = field(default_factory=list)
    effect_fits: list[_Regression] = field(default_factory=list)
    net_benefit_fits: list[_Regression] = field(default_factory=list)


def _fit_increments(
    outputs: Outputs, x: FloatArray, settings: MetamodelSettings, rng: np.random.Generator
) -> _IncrementalFits:
    # The metamodels factorise many small matrices (p x p, a few hundred rows at most): one
    # BLAS thread is faster there, and several threads thrash when cores are shared (e.g.
    # pytest -n 2 on two cores made them 10-50 times slower).
    with threadpool_limits(limits=1, user_api="blas"):
        return _fit_increments_single_thread(outputs, x, settings, rng)


def _fit_increments_single_thread(
    outputs: Outputs, x: FloatArray, settings: MetamodelSettings, rng: np.random.Generator
) -> _IncrementalFits:
    fit = _regressor(x, settings, rng)
    if isinstance(outputs, NetBenefitSample):
        nb = outputs.values
        return _IncrementalFits(
            net_benefit_fits=[fit(nb[:, d] - nb[:, 0]) for d in range(1, nb.shape[1])]
        )
    costs, effects = outputs.costs, outputs.effects
    return _IncrementalFits(
        cost_fits=[fit(costs[:, d] - costs[:, 0]) for d in range(1, costs.shape[1])],
        effect_fits=[fit(effects[:, d] - effects[:, 0]) for d in range(1, effects.shape[1])],
    )


def _regression_target(
    outputs: Outputs, thresholds: FloatArray | None
) -> tuple[Outputs, FloatArray | None]:
    """What to regress: at a single threshold the incremental net benefit itself (D - 1 fits,
    as for a net-benefit sample); over a grid the incremental costs and effects separately
    (2 (D - 1) fits, combined per threshold)."""
    if isinstance(outputs, PSASample) and thresholds is not None and thresholds.size == 1:
        net_benefit = thresholds[0] * outputs.effects - outputs.costs
        return NetBenefitSample(net_benefit, outputs.strategies), None
    return outputs, thresholds


def _value_from_fits(
    fits: _IncrementalFits,
    wtp: FloatArray | None,
    shrink: FloatArray | None = None,
    inputs: FloatArray | None = None,
) -> FloatArray:
    """EVPPI-type value per threshold from fitted (or preposterior) incremental outcomes."""

    def values(model: _Regression) -> FloatArray:
        if shrink is None or inputs is None:
            return model.fitted
        assert isinstance(model, SplineFit)
        return model.predict_preposterior(inputs, shrink)

    if wtp is None:
        increments = np.column_stack([values(m) for m in fits.net_benefit_fits])
        zeros = np.zeros((increments.shape[0], 1))
        return np.array([_value_of_net_benefit(np.hstack((zeros, increments)))])
    costs = np.column_stack([values(m) for m in fits.cost_fits])
    effects = np.column_stack([values(m) for m in fits.effect_fits])
    zeros = np.zeros((costs.shape[0], 1))
    return _value_of_decision(np.hstack((zeros, costs)), np.hstack((zeros, effects)), wtp)


# --------------------------------------------------------------------------- EVPPI


def _parameter_sets(
    parameters: str | Sequence[str] | Sequence[Sequence[str]],
) -> list[tuple[str, ...]]:
    if isinstance(parameters, str):
        return [(parameters,)]
    items = list(parameters)
    if not items:
        raise AnalysisInputError("parameters: expected at least one parameter name, got none")
    if all(isinstance(p, str) for p in items):
        sets = [tuple(str(p) for p in items)]
    elif all(not isinstance(p, str) and isinstance(p, Sequence) for p in items):
        sets = [tuple(str(q) for q in p) for p in items]
    else:
        raise AnalysisInputError(
            "parameters: expected a name, a list of names (one joint set) or a list of lists "
            f"(several sets), got {parameters!r}"
        )
    for group in sets:
        if not group:
            raise AnalysisInputError("parameters: a parameter set is empty")
        if len(set(group)) != len(group):
            raise AnalysisInputError(f"parameters: a name repeats in the set {list(group)}")
    return sets


def _input_matrix(
    inputs: pd.DataFrame, names: Sequence[str], n_draws: int, field_name: str = "inputs"
) -> FloatArray:
    if not isinstance(inputs, pd.DataFrame):
        raise AnalysisInputError(
            f"{field_name}: expected a pandas DataFrame with one column per parameter, "
            f"got {type(inputs).__name__}"
        )
    unknown = [n for n in names if n not in inputs.columns]
    if unknown:
        raise AnalysisInputError(
            f"parameters: unknown {unknown}; expected columns of {field_name}: "
            f"{[str(c) for c in inputs.columns]}"
        )
    if len(inputs) != n_draws:
        raise AnalysisInputError(
            f"{field_name}: expected {n_draws} rows (one per draw of the outputs), "
            f"got {len(inputs)}"
        )
    block = inputs[list(names)]
    for name in names:
        column = pd.to_numeric(block[name], errors="coerce")
        bad = column.isna().to_numpy() | ~np.isfinite(column.fillna(0.0).to_numpy())
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise AnalysisInputError(
                f"{field_name}: column {name!r} must hold finite numbers; row {row} is "
                f"{block[name].iloc[row]!r}"
            )
    return block.apply(pd.to_numeric).to_numpy(dtype=np.float64)


def _outputs_draws(outputs: Outputs) -> int:
    return outputs.n_draws


def evppi(
    outputs: Outputs,
    inputs: pd.DataFrame,
    parameters: str | Sequence[str] | Sequence[Sequence[str]],
    wtp: object | None = None,
    method: EVPPIMethod = "gam",
    *,
    structure: GamStructure = "tensor",
    n_knots: int | None = None,
    seed: int = 0,
    n_hyper: int = 200,
    n_inducing: int = 200,
) -> pd.DataFrame:
    """Per-person EVPPI of one or several parameter sets by a regression metamodel.

    ``parameters``: a name, a list of names (one joint set) or a list of lists (several sets,
    made monotone under inclusion). Columns: ``parameters`` (names joined by ","), ``wtp``
    (cost/effect samples only), ``evppi``, ``raw_evppi``, ``evpi``, ``method``.
    """
    thresholds = _wtp_for(outputs, wtp)
    sets = _parameter_sets(parameters)
    settings = MetamodelSettings(method, structure, n_knots, n_hyper, n_inducing)
    n_draws = _outputs_draws(outputs)
    evpi_frame = evpi(outputs, None if thresholds is None else thresholds)
    evpi_values = evpi_frame["evpi"].to_numpy()
    raw: list[FloatArray] = []
    for group in sets:
        x = _input_matrix(inputs, group, n_draws)
        _check_metamodel(settings, n_draws, len(group), f"parameters {list(group)}")
        target, grid = _regression_target(outputs, thresholds)
        fits = _fit_increments(target, x, settings, np.random.default_rng(seed))
        raw.append(_value_from_fits(fits, grid))
    adjusted = _enforce_bounds(sets, raw, evpi_values)
    frames = []
    for group, raw_values, values in zip(sets, raw, adjusted, strict=True):
        frame = pd.DataFrame({"parameters": ",".join(group)}, index=range(values.size))
        if thresholds is not None:
            frame["wtp"] = thresholds
        frame["evppi"] = values
        frame["raw_evppi"] = raw_values
        frame["evpi"] = evpi_values
        frame["method"] = method
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _enforce_bounds(
    sets: list[tuple[str, ...]], raw: list[FloatArray], evpi_values: FloatArray
) -> list[FloatArray]:
    """Clip to [0, EVPI], then make values monotone under set inclusion (smaller sets first)."""
    clipped = [np.clip(r, 0.0, evpi_values) for r in raw]
    order = sorted(range(len(sets)), key=lambda i: len(set(sets[i])))
    adjusted: dict[int, FloatArray] = {}
    for i in order:
        value = clipped[i].copy()
        for j in adjusted:
            if set(sets[j]) <= set(sets[i]):
                value = np.maximum(value, adjusted[j])
        adjusted[i] = np.minimum(value, evpi_values)
    return [adjusted[i] for i in range(len(sets))]


# --------------------------------------------------------------------------- EVSI


class StudyDesign(Protocol):
    """A proposed study: which parameters it informs and how its summary statistics arise.

    ``simulate(values, sample_size, rng)`` receives the draws of ``parameters`` (n × k) and
    returns one row of summary statistics per draw (n × q), simulated from the study's
    sampling distribution given that draw's parameter values.
    """

    @property
    def parameters(self) -> tuple[str, ...]: ...

    def simulate(
        self, values: FloatArray, sample_size: int, rng: np.random.Generator
    ) -> FloatArray: ...


def _check_probabilities(values: FloatArray, names: tuple[str, ...]) -> None:
    for j, name in enumerate(names):
        bad = np.flatnonzero((values[:, j] < 0) | (values[:, j] > 1))
        if bad.size:
            raise AnalysisInputError(
                f"inputs: column {name!r} must hold probabilities in [0, 1] for a binary "
                f"study; row {bad[0]} is {values[bad[0], j]}"
            )


@dataclass(frozen=True)
class BinaryStudy:
    """Single-arm study of a binary outcome: ``X ~ Binomial(n, p)`` (voi ``study="binary"``)."""

    parameter: str

    @property
    def parameters(self) -> tuple[str, ...]:
        return (self.parameter,)

    def simulate(
        self, values: FloatArray, sample_size: int, rng: np.random.Generator
    ) -> FloatArray:
        _check_probabilities(values, self.parameters)
        return rng.binomial(sample_size, values[:, 0])[:, None].astype(np.float64)


@dataclass(frozen=True)
class TwoArmBinaryStudy:
    """Two-arm trial of a binary outcome, ``n`` per arm: ``X_a ~ Binomial(n, p_a)``
    (voi ``study="trial_binary"``)."""

    first: str
    second: str

    @property
    def parameters(self) -> tuple[str, ...]:
        return (self.first, self.second)

    def simulate(
        self, values: FloatArray, sample_size: int, rng: np.random.Generator
    ) -> FloatArray:
        _check_probabilities(values, self.parameters)
        first = rng.binomial(sample_size, values[:, 0])
        second = rng.binomial(sample_size, values[:, 1])
        return np.column_stack((first, second)).astype(np.float64)


@dataclass(frozen=True)
class NormalKnownVarianceStudy:
    """Single-arm study of a normal outcome with known standard deviation: the sample mean
    ``X̄ ~ Normal(μ, sd² / n)`` (voi ``study="normal_known"``)."""

    parameter: str
    sd: float = 1.0

    @property
    def parameters(self) -> tuple[str, ...]:
        return (self.parameter,)

    def simulate(
        self, values: FloatArray, sample_size: int, rng: np.random.Generator
    ) -> FloatArray:
        if not np.isfinite(self.sd) or self.sd <= 0:
            raise AnalysisInputError(f"sd: expected a finite standard deviation > 0, got {self.sd}")
        return rng.normal(values[:, 0], self.sd / np.sqrt(sample_size))[:, None]


def _sample_sizes(sample_sizes: int | Sequence[int]) -> list[int]:
    sizes = [sample_sizes] if isinstance(sample_sizes, int | np.integer) else list(sample_sizes)
    if not sizes:
        raise AnalysisInputError("sample_sizes: expected at least one sample size, got none")
    for size in sizes:
        if not isinstance(size, int | np.integer) or size < 1:
            raise AnalysisInputError(f"sample_sizes: expected integers >= 1, got {size!r}")
    return [int(s) for s in sizes]


def _evsi_frame(
    sizes: list[int],
    values: list[FloatArray],
    thresholds: FloatArray | None,
    evpi_values: FloatArray,
) -> pd.DataFrame:
    frames = []
    for size, value in zip(sizes, values, strict=True):
        frame = pd.DataFrame({"n": size}, index=range(value.size))
        if thresholds is not None:
            frame["wtp"] = thresholds
        frame["evsi"] = np.clip(value, 0.0, evpi_values)
        frame["raw_evsi"] = value
        frame["evpi"] = evpi_values
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def evsi(
    outputs: Outputs,
    inputs: pd.DataFrame,
    study: StudyDesign,
    sample_sizes: int | Sequence[int],
    wtp: object | None = None,
    method: EVPPIMethod = "gam",
    *,
    seed: int = 0,
    n_knots: int | None = None,
) -> pd.DataFrame:
    """Per-person EVSI by the regression method of Strong, Brennan & Oakley (2015).

    For each sample size the study's summary statistics are simulated for every draw (one
    seeded generator for the whole call) and the incremental net benefit is regressed on them
    with the chosen metamodel. Columns: ``n``, ``wtp`` (cost/effect samples), ``evsi`` (clipped
    to ``[0, EVPI]``), ``raw_evsi``, ``evpi``.
    """
    thresholds = _wtp_for(outputs, wtp)
    sizes = _sample_sizes(sample_sizes)
    n_draws = _outputs_draws(outputs)
    values = _input_matrix(inputs, study.parameters, n_draws)
    rng = np.random.default_rng(seed)
    evpi_values = evpi(outputs, thresholds).loc[:, "evpi"].to_numpy()
    results = []
    for size in sizes:
        statistics = np.asarray(study.simulate(values, size, rng), dtype=np.float64)
        if statistics.ndim != 2 or statistics.shape[0] != n_draws:
            raise AnalysisInputError(
                f"study: simulate() must return one row per draw ({n_draws}), got shape "
                f"{statistics.shape}"
            )
        settings = MetamodelSettings(method=method, n_knots=n_knots)
        _check_metamodel(settings, n_draws, statistics.shape[1], "study statistics")
        target, grid = _regression_target(outputs, thresholds)
        fits = _fit_increments(target, statistics, settings, rng)
        results.append(_value_from_fits(fits, grid))
    return _evsi_frame(sizes, results, thresholds, evpi_values)


def evsi_gaussian_approximation(
    outputs: Outputs,
    inputs: pd.DataFrame,
    parameters: Sequence[str],
    prior_sample_size: float | Sequence[float],
    sample_sizes: int | Sequence[int],
    wtp: object | None = None,
    *,
    structure: GamStructure = "tensor",
    n_knots: int | None = None,
) -> pd.DataFrame:
    """Per-person EVSI by the Gaussian approximation of Jalal & Alarid-Escudero (2018), as
    implemented in dampack ``calc_evsi``/``predict_ga``.

    The fitted GAM EVPPI metamodel of ``parameters`` is evaluated with each marginal basis function
    ``B`` of parameter ``j`` replaced by its preposterior ``v_j B + (1 - v_j) mean(B)``, with the
    variance-reduction factor ``v_j = sqrt(n / (n + n0_j))`` for a study of size ``n`` and a
    parameter whose current information is worth ``n0_j`` observations
    (``prior_sample_size``, one per parameter or shared). As ``n → ∞`` it tends to the EVPPI.
    GAM metamodel only (the approximation acts on basis functions). Columns as :func:`evsi`.
    """
    thresholds = _wtp_for(outputs, wtp)
    sizes = _sample_sizes(sample_sizes)
    names = tuple(parameters) if not isinstance(parameters, str) else (parameters,)
    n_draws = _outputs_draws(outputs)
    x = _input_matrix(inputs, names, n_draws)
    prior = np.atleast_1d(np.asarray(prior_sample_size, dtype=np.float64))
    if prior.size == 1:
        prior = np.full(len(names), prior[0])
    if prior.size != len(names) or not np.all(np.isfinite(prior)) or np.any(prior <= 0):
        raise AnalysisInputError(
            f"prior_sample_size: expected 1 or {len(names)} finite values > 0, got {prior.tolist()}"
        )
    settings = MetamodelSettings(method="gam", structure=structure, n_knots=n_knots)
    _check_metamodel(settings, n_draws, len(names), f"parameters {list(names)}")
    fits = _fit_increments(outputs, x, settings, np.random.default_rng(0))
    evpi_values = evpi(outputs, thresholds).loc[:, "evpi"].to_numpy()
    results = []
    for size in sizes:
        shrink = np.sqrt(size / (size + prior))
        results.append(_value_from_fits(fits, thresholds, shrink=shrink, inputs=x))
    return _evsi_frame(sizes, results, thresholds, evpi_values)


def study_from_name(name: str, parameters: Sequence[str], sd: float = 1.0) -> StudyDesign:
    """Built-in designs by voi's names: ``binary``, ``trial_binary``, ``normal_known``."""
    builders: dict[str, Callable[[], StudyDesign]] = {
        "binary": lambda: BinaryStudy(*parameters),
        "trial_binary": lambda: TwoArmBinaryStudy(*parameters),
        "normal_known": lambda: NormalKnownVarianceStudy(parameters[0], sd),
    }
    expected = {"binary": 1, "trial_binary": 2, "normal_known": 1}
    if name not in builders:
        raise AnalysisInputError(f"study: expected one of {sorted(builders)}, got {name!r}")
    if len(parameters) != expected[name]:
        raise AnalysisInputError(
            f"parameters: study {name!r} informs {expected[name]} parameter(s), "
            f"got {list(parameters)}"
        )
    return builders[name]()
