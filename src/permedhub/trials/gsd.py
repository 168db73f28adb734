"""Group-sequential designs by recursive numerical integration (not simulation).

The joint distribution of the z-statistics Z_1..Z_K of a group-sequential trial is the canonical
one of Jennison & Turnbull (2000, §3.1): with information fractions t_1 < ... < t_K = 1 and drift
delta = theta * sqrt(I_max), Z_k has mean delta * sqrt(t_k) and independent score increments.
Crossing probabilities are computed with the recursion of Armitage, McPherson & Rowe (1969) as
set out in Jennison & Turnbull (2000, Chapter 19): Simpson's rule on a grid of 6r - 1 points per
look (dense near the mean, logarithmically spread in the tails; §19.2.1), with the grid trimmed
to each look's continuation region.

Public API (stable; other modules of `permedhub.trials` build on it):

``crossing_probabilities(upper, lower, information_rates, drift=0.0, grid_r=32)``
    Probabilities of first crossing the upper / lower boundary at each look, for any boundaries
    (use ``-inf`` / ``+inf`` for looks without a bound). Returns ``(upper_probs, lower_probs)``.
``spending_function(family, alpha, t, gamma=None, rho=None)``
    Cumulative error spent at information fraction(s) ``t`` for the Lan–DeMets families
    ``"ld-obf"``, ``"ld-pocock"``, ``"hsd"`` (Hwang–Shih–DeCani, ``gamma``) and ``"power"``
    (Kim–DeMets power family, ``rho``).
``efficacy_bounds(looks, boundary, alpha, sided=1, information_rates=None, ...)``
    The z-scale critical values only (e.g. for an inverse-normal combination test whose stage
    weights give the information rates); no power calculation.
``design_gsd(looks, boundary, alpha, beta, sided=1, information_rates=None, ...)``
    A complete design (`GroupSequentialDesign`): efficacy and futility bounds, nominal p-values,
    cumulative alpha spent, drift for the target power, inflation factor, expected sample size
    under H0 and H1 and stopping probabilities per look.
``operating_characteristics(design, drift)``
    Rejection / stopping probabilities and expected information of a design at any drift.
``GroupSequentialDesign.to_dict() / .to_frame() / .to_html()``
    JSON-ready summary (infinite bounds as ``None``), one row per look, and a self-contained
    HTML report with the boundary plot.

Per-look flags (``efficacy_looks`` / ``futility_looks``) remove a bound at a look; its
spending carries over to the next look with that bound. Power of a two-sided design counts
rejections in the direction of the effect (the other side is negligible), as in J&T Table 2.2.

Boundary families (``boundary``): ``"pocock"``, ``"obf"`` (O'Brien–Fleming), ``"wt"``
(Wang–Tsiatis with shape parameter ``delta_wt``: b_k = C t_k^(Delta - 1/2)), ``"hp"``
(Haybittle–Peto: ``hp_interim`` at interim looks, the final bound solved to give exactly alpha),
and the Lan–DeMets alpha-spending families ``"ld-obf"``, ``"ld-pocock"``, ``"hsd"``, ``"power"``.

Conventions: ``alpha`` is the total type I error (one-sided for ``sided=1``, two-sided for
``sided=2`` with symmetric bounds +/- b_k); ``beta`` the type II error. Futility bounds
(one-sided designs only) come from a beta-spending function, computed under the alternative,
with the drift chosen so that futility and efficacy bounds meet at the final look (the approach
of gsDesign's test types 3/4 and rpact's beta-spending designs). ``"binding"`` futility bounds
are taken into account when computing the efficacy bounds; ``"nonbinding"`` ones are not (the
efficacy bounds then keep the type I error at alpha even if futility stops are overruled).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.optimize import brentq
from scipy.special import ndtr, ndtri

from permedhub.trials.errors import (
    TrialInputError,
    check_alpha,
    check_increasing_fractions,
    check_int_range,
    check_positive,
    check_probability,
)

if TYPE_CHECKING:
    import plotly.graph_objects as go

FloatArray = NDArray[np.float64]

CLASSICAL_BOUNDARIES = ("pocock", "obf", "wt", "hp")
SPENDING_FAMILIES = ("ld-obf", "ld-pocock", "hsd", "power")
BOUNDARIES = CLASSICAL_BOUNDARIES + SPENDING_FAMILIES
FutilityKind = Literal["none", "binding", "nonbinding"]
MAX_LOOKS = 100

_BOUND_LIMIT = 38.0  # |z| beyond which normal tail probabilities underflow in double precision
_XTOL = 1e-12


# ---------------------------------------------------------------------------------------------
# Numerical integration (Jennison & Turnbull 2000, Chapter 19)
# ---------------------------------------------------------------------------------------------


@functools.cache
def _base_grid(r: int) -> FloatArray:
    """The 6r - 1 standardised base points of J&T §19.2.1 (read-only, shared)."""
    i = np.arange(1, 6 * r, dtype=float)
    base = np.where(
        i < r,
        -3.0 - 4.0 * np.log(r / i),
        np.where(i <= 5 * r, -3.0 + 3.0 * (i - r) / (2.0 * r), 3.0 + 4.0 * np.log(r / (6 * r - i))),
    )
    base.flags.writeable = False
    return base


def _grid(mean: float, lower: float, upper: float, r: int) -> tuple[FloatArray, FloatArray]:
    """Simpson grid points and weights on (lower, upper) around `mean` (J&T §19.2.1).

    The 6r - 1 base points are dense within 3 SD of the mean and log-spread to about
    3 + 4 log(r) SD; they are trimmed to the continuation region, whose finite ends are added
    when they fall within the base points' span, then every interval gets its midpoint so that
    Simpson's rule applies panel by panel.
    """
    if not lower < upper:
        return np.empty(0), np.empty(0)
    x = mean + _base_grid(r)
    inside = x[(x > lower) & (x < upper)]
    first, last = x[0], x[-1]
    # Sorted and distinct by construction: lower < inside < upper.
    parts = [inside]
    if np.isfinite(lower) and first < lower <= last:
        parts.insert(0, np.array([lower]))
    if np.isfinite(upper) and first <= upper < last:
        parts.append(np.array([upper]))
    nodes = np.concatenate(parts) if len(parts) > 1 else inside
    if nodes.size < 2:
        return np.empty(0), np.empty(0)
    widths = np.diff(nodes)
    points = np.empty(2 * nodes.size - 1)
    points[0::2] = nodes
    points[1::2] = nodes[:-1] + widths / 2.0
    weights = np.zeros_like(points)
    weights[0:-1:2] += widths / 6.0
    weights[1::2] += 4.0 * widths / 6.0
    weights[2::2] += widths / 6.0
    return points, weights


@dataclass(frozen=True)
class _State:
    """Sub-density of Z_k on the continuation region, as grid points and weighted values."""

    t: float
    points: FloatArray
    weighted_density: FloatArray

    @staticmethod
    def start() -> _State:
        # A point mass at Z_0 = 0 with t_0 = 0 makes look 1 the same recursion as later looks.
        return _State(0.0, np.zeros(1), np.ones(1))

    def _scaled_shift(self, t: float, drift: float) -> tuple[float, FloatArray]:
        """(sqrt(t / dt), shift / sqrt(dt)) so that u = bound * first - second."""
        root_dt = np.sqrt(t - self.t)
        shift = (self.points * np.sqrt(self.t) + drift * (t - self.t)) / root_dt
        return float(np.sqrt(t) / root_dt), shift

    def exit_above(self, bound: float, t: float, drift: float) -> float:
        if bound == np.inf or self.points.size == 0:
            return 0.0
        scale, shift = self._scaled_shift(t, drift)
        return float(self.weighted_density @ ndtr(shift - bound * scale))

    def exit_below(self, bound: float, t: float, drift: float) -> float:
        if bound == -np.inf or self.points.size == 0:
            return 0.0
        scale, shift = self._scaled_shift(t, drift)
        return float(self.weighted_density @ ndtr(bound * scale - shift))

    def exit_function(self, t: float, drift: float, below: bool) -> Any:
        """P(exit beyond a bound) as a fast function of the bound (for root finding)."""
        if self.points.size == 0:
            return lambda bound: 0.0
        scale, shift = self._scaled_shift(t, drift)
        weights = self.weighted_density
        if below:
            return lambda bound: float(weights @ ndtr(bound * scale - shift))
        return lambda bound: float(weights @ ndtr(shift - bound * scale))

    def advance(self, t: float, drift: float, lower: float, upper: float, r: int) -> _State:
        points, weights = _grid(drift * np.sqrt(t), lower, upper, r)
        if points.size == 0 or self.points.size == 0:
            return _State(t, np.empty(0), np.empty(0))
        # The kernel is the bulk of every design's time: one matrix, transformed in place.
        scale, shift = self._scaled_shift(t, drift)
        kernel = np.subtract.outer(points * scale, shift)
        np.square(kernel, out=kernel)
        kernel *= -0.5
        np.exp(kernel, out=kernel)
        density = kernel @ self.weighted_density
        density *= scale / np.sqrt(2.0 * np.pi)
        return _State(t, points, weights * density)


def crossing_probabilities(
    upper: Sequence[float] | FloatArray,
    lower: Sequence[float] | FloatArray | None,
    information_rates: Sequence[float] | FloatArray,
    drift: float = 0.0,
    grid_r: int = 32,
) -> tuple[FloatArray, FloatArray]:
    """Probabilities of first crossing the upper and the lower boundary at each look.

    Args:
        upper: upper z-bounds per look (``inf`` where the look has none).
        lower: lower z-bounds per look (``-inf`` where none); ``None`` means no lower bounds.
        information_rates: information fractions t_k, strictly increasing (need not end at 1:
            any positive increasing information scale works since only ratios matter with
            ``drift`` defined at t = 1).
        drift: the mean of Z at t = 1 (theta * sqrt(I_max)); Z_k has mean drift * sqrt(t_k).
        grid_r: grid size parameter r (6r - 1 base points per look; J&T §19.2.1).

    Returns:
        ``(upper_probs, lower_probs)``: P(stop at look k by crossing that boundary).
    """
    t = np.asarray(information_rates, dtype=float)
    b = np.asarray(upper, dtype=float)
    a = np.full_like(b, -np.inf) if lower is None else np.asarray(lower, dtype=float)
    if not (t.shape == b.shape == a.shape) or t.ndim != 1:
        raise TrialInputError("upper/lower/information_rates", (b, a, t), "arrays of one length")
    if np.any(np.diff(t) <= 0) or t[0] <= 0:
        raise TrialInputError("information_rates", t.tolist(), "strictly increasing values > 0")
    state = _State.start()
    up = np.zeros(t.size)
    down = np.zeros(t.size)
    for k in range(t.size):
        up[k] = state.exit_above(b[k], t[k], drift)
        down[k] = state.exit_below(a[k], t[k], drift)
        if k + 1 < t.size:
            state = state.advance(t[k], drift, a[k], b[k], grid_r)
    return up, down


# ---------------------------------------------------------------------------------------------
# Spending functions and boundary shapes
# ---------------------------------------------------------------------------------------------


def spending_function(
    family: str,
    alpha: float,
    t: float | Sequence[float] | FloatArray,
    gamma: float | None = None,
    rho: float | None = None,
) -> FloatArray:
    """Cumulative error spent at information fraction(s) `t` (Lan & DeMets 1983 and successors).

    ``"ld-obf"``: 2 - 2 Phi(z_{1-alpha/2} / sqrt(t)) (Lan & DeMets 1983, O'Brien–Fleming type);
    ``"ld-pocock"``: alpha log(1 + (e - 1) t) (Lan & DeMets 1983, Pocock type);
    ``"hsd"``: alpha (1 - exp(-gamma t)) / (1 - exp(-gamma)) (Hwang, Shih & DeCani 1990),
    alpha t when gamma = 0; ``"power"``: alpha t^rho (Kim & DeMets 1987), rho > 0.
    """
    tt = np.clip(np.asarray(t, dtype=float), 0.0, 1.0)
    if family == "ld-obf":
        with np.errstate(divide="ignore"):
            return np.where(tt > 0, 2.0 * ndtr(-ndtri(1.0 - alpha / 2.0) / np.sqrt(tt)), 0.0)
    if family == "ld-pocock":
        return np.asarray(alpha * np.log1p((np.e - 1.0) * tt), dtype=float)
    if family == "hsd":
        g = _require_parameter("gamma", gamma, family)
        if not -40.0 <= g <= 40.0:
            raise TrialInputError("gamma", gamma, "a number in [-40, 40] for hsd spending")
        if g == 0.0:
            return np.asarray(alpha * tt, dtype=float)
        return np.asarray(alpha * np.expm1(-g * tt) / np.expm1(-g), dtype=float)
    if family == "power":
        p = _require_parameter("rho", rho, family)
        if not 0.0 < p <= 20.0:
            raise TrialInputError("rho", rho, "a number in (0, 20] for the power family")
        return np.asarray(alpha * tt**p, dtype=float)
    raise TrialInputError("spending family", family, f"one of {', '.join(SPENDING_FAMILIES)}")


def _require_parameter(name: str, value: float | None, family: str) -> float:
    if value is None or isinstance(value, bool) or not np.isfinite(float(value)):
        raise TrialInputError(name, value, f"a finite number (required by '{family}')")
    return float(value)


def _classical_shape(
    boundary: str, t: FloatArray, delta_wt: float | None, hp_interim: float
) -> tuple[FloatArray, FloatArray]:
    """Bounds as ``offset + c * slope`` so one constant c is solved for the level alpha."""
    k = t.size
    if boundary == "pocock":
        return np.zeros(k), np.ones(k)
    if boundary == "obf":
        return np.zeros(k), 1.0 / np.sqrt(t)
    if boundary == "wt":
        d = _require_parameter("delta_wt", delta_wt, "wt")
        if not -1.0 <= d <= 1.0:
            raise TrialInputError("delta_wt", delta_wt, "a number in [-1, 1] (Wang–Tsiatis)")
        return np.zeros(k), t ** (d - 0.5)
    # Haybittle–Peto: fixed interim bounds, the final one solved (J&T §2.7.2).
    offset = np.full(k, hp_interim)
    offset[-1] = 0.0
    slope = np.zeros(k)
    slope[-1] = 1.0
    return offset, slope


# ---------------------------------------------------------------------------------------------
# Design
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupSequentialDesign:
    """A group-sequential design with its operating characteristics (z-scale bounds).

    ``futility_bounds`` holds ``-inf`` where a look has no futility bound (and for designs
    without futility); ``efficacy_bounds`` holds ``inf`` where a look has no efficacy bound.
    Probabilities per look are of *stopping* at that look. ``*_h1`` quantities are at the
    drift that gives power 1 - beta. Expected sample sizes are relative to the fixed design
    with the same alpha and power (multiply by its sample size to get patients).
    """

    boundary: str
    sided: int
    alpha: float
    beta: float
    futility: str
    information_rates: FloatArray
    efficacy_bounds: FloatArray
    futility_bounds: FloatArray
    nominal_p_efficacy: FloatArray
    cumulative_alpha_spent: FloatArray
    drift: float
    fixed_drift: float
    inflation_factor: float
    prob_efficacy_h0: FloatArray
    prob_futility_h0: FloatArray
    prob_efficacy_h1: FloatArray
    prob_futility_h1: FloatArray
    expected_sample_size_h0: float
    expected_sample_size_h1: float
    power: float
    type_one_error_futility_obeyed: float
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def looks(self) -> int:
        return int(self.information_rates.size)

    def max_sample_size(self, fixed_sample_size: float) -> float:
        """Maximum sample size given the fixed design's sample size (R * n_fixed)."""
        return self.inflation_factor * fixed_sample_size

    def to_frame(self) -> pd.DataFrame:
        """One row per look."""
        return pd.DataFrame(
            {
                "look": np.arange(1, self.looks + 1),
                "information_rate": self.information_rates,
                "efficacy_z": self.efficacy_bounds,
                "futility_z": self.futility_bounds,
                "nominal_p_efficacy": self.nominal_p_efficacy,
                "cumulative_alpha_spent": self.cumulative_alpha_spent,
                "prob_efficacy_h0": self.prob_efficacy_h0,
                "prob_futility_h0": self.prob_futility_h0,
                "prob_efficacy_h1": self.prob_efficacy_h1,
                "prob_futility_h1": self.prob_futility_h1,
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (infinite bounds become ``None``)."""

        def clean(values: FloatArray) -> list[float | None]:
            return [float(v) if np.isfinite(v) else None for v in values]

        return {
            "boundary": self.boundary,
            "sided": self.sided,
            "alpha": self.alpha,
            "beta": self.beta,
            "futility": self.futility,
            "parameters": self.parameters,
            "looks": self.looks,
            "information_rates": clean(self.information_rates),
            "efficacy_z": clean(self.efficacy_bounds),
            "futility_z": clean(self.futility_bounds),
            "nominal_p_efficacy": clean(self.nominal_p_efficacy),
            "cumulative_alpha_spent": clean(self.cumulative_alpha_spent),
            "prob_efficacy_h0": clean(self.prob_efficacy_h0),
            "prob_futility_h0": clean(self.prob_futility_h0),
            "prob_efficacy_h1": clean(self.prob_efficacy_h1),
            "prob_futility_h1": clean(self.prob_futility_h1),
            "drift": self.drift,
            "fixed_drift": self.fixed_drift,
            "inflation_factor": self.inflation_factor,
            "expected_sample_size_h0": self.expected_sample_size_h0,
            "expected_sample_size_h1": self.expected_sample_size_h1,
            "power": self.power,
            "type_one_error_futility_obeyed": self.type_one_error_futility_obeyed,
        }

    def to_figure(self, title: str = "Boundaries") -> go.Figure:
        """Efficacy (and futility) bounds against the information fraction (Plotly)."""
        import plotly.graph_objects as go

        figure = go.Figure()
        rates = self.information_rates
        efficacy = np.isfinite(self.efficacy_bounds)
        bounds = [("efficacy bound", efficacy, self.efficacy_bounds)]
        if self.sided == 2:
            bounds.append(("lower efficacy bound", efficacy, -self.efficacy_bounds))
        futility = np.isfinite(self.futility_bounds)
        if futility.any():
            bounds.append(("futility bound", futility, self.futility_bounds))
        for name, shown, values in bounds:
            figure.add_trace(
                go.Scatter(x=rates[shown], y=values[shown], mode="lines+markers", name=name)
            )
        figure.update_layout(
            title=title, xaxis_title="Information fraction", yaxis_title="z statistic"
        )
        return figure

    def to_html(self, title: str | None = None) -> str:
        """Self-contained HTML report: every input, the per-look table and a boundary plot
        (Plotly JS inlined, no CDN)."""
        import html

        import plotly.io as pio

        heading = title or f"Group-sequential design: {self.boundary}, K = {self.looks}"
        figure = self.to_figure(heading)
        plot = pio.to_html(figure, include_plotlyjs=True, full_html=False)
        inputs = {
            "boundary": self.boundary,
            "looks": self.looks,
            "alpha": self.alpha,
            "beta": self.beta,
            "sided": self.sided,
            "futility": self.futility,
            "information rates": ", ".join(f"{t:g}" for t in self.information_rates),
            **self.parameters,
        }
        input_rows = "".join(
            f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
            for k, v in inputs.items()
        )
        summary = {
            "inflation factor": f"{self.inflation_factor:.4f}",
            "drift (mean of Z at full information)": f"{self.drift:.4f}",
            "expected sample size / fixed, H0": f"{self.expected_sample_size_h0:.4f}",
            "expected sample size / fixed, H1": f"{self.expected_sample_size_h1:.4f}",
            "power": f"{self.power:.4f}",
            "type I error with futility obeyed": f"{self.type_one_error_futility_obeyed:.6f}",
        }
        summary_rows = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in summary.items())
        per_look = self.to_frame().to_html(index=False, float_format=lambda v: f"{v:.5f}")
        return (
            "<!DOCTYPE html><html><head><meta charset='utf-8'>"
            f"<title>{html.escape(heading)}</title></head><body>"
            f"<h1>{html.escape(heading)}</h1><h2>Inputs</h2><table>{input_rows}</table>"
            f"<h2>Summary</h2><table>{summary_rows}</table><h2>Per look</h2>{per_look}"
            f"<h2>Boundaries</h2>{plot}"
            "<p>Computed by recursive numerical integration (Jennison &amp; Turnbull 2000, "
            "ch. 19) with permedhub.trials.gsd.</p></body></html>"
        )


@dataclass(frozen=True)
class GroupSequentialSize:
    """Whole patients (or events) of a group-sequential design: the fixed design's unrounded
    sizes, part by part (arms, or events), times the inflation factor, rounded up."""

    unit: Literal["patients", "events"]
    fixed: tuple[float, ...]  # unrounded fixed-design sizes: (control, treatment) or (events,)
    maximum_by_part: tuple[int, ...]
    cumulative: tuple[int, ...]  # planned size at each look, ceil(t_k * maximum)
    expected_h0: float
    expected_h1: float

    @property
    def maximum(self) -> int:
        return sum(self.maximum_by_part)

    def to_dict(self) -> dict[str, Any]:
        return {
            "unit": self.unit,
            "fixed": list(self.fixed),
            "maximum": self.maximum,
            "maximum_by_part": list(self.maximum_by_part),
            "cumulative": list(self.cumulative),
            "expected_h0": self.expected_h0,
            "expected_h1": self.expected_h1,
        }


def group_sequential_size(
    design: GroupSequentialDesign,
    fixed: Sequence[float],
    unit: Literal["patients", "events"] = "patients",
) -> GroupSequentialSize:
    """Sizes of `design` for a fixed design needing `fixed` patients per arm (or events),
    unrounded as the fixed-design formula gives them.

    Each part is inflated and rounded up on its own, so every arm gets whole patients and the
    allocation ratio is kept (rpact rounds the same way); expected sizes under H0 and H1 are
    the design's expected information times the fixed total.
    """
    if unit not in ("patients", "events"):
        raise TrialInputError("unit", unit, "'patients' or 'events'")
    parts = tuple(fixed)
    if not parts or any(
        isinstance(n, bool) or not isinstance(n, int | float) or not 0 < n < 1e9 for n in parts
    ):
        raise TrialInputError("fixed", list(parts), f"numbers of {unit} in (0, 1e9)")
    maximum = tuple(math.ceil(design.inflation_factor * n - 1e-9) for n in parts)
    total = sum(maximum)
    cumulative = [math.ceil(rate * total - 1e-9) for rate in design.information_rates[:-1]]
    fixed_total = float(sum(parts))
    return GroupSequentialSize(
        unit=unit,
        fixed=tuple(float(n) for n in parts),
        maximum_by_part=maximum,
        cumulative=(*cumulative, total),
        expected_h0=design.expected_sample_size_h0 * fixed_total,
        expected_h1=design.expected_sample_size_h1 * fixed_total,
    )


@dataclass(frozen=True)
class OperatingCharacteristics:
    """Behaviour of a design at one drift (mean of Z at full information)."""

    drift: float
    prob_reject_upper: FloatArray
    prob_reject_lower: FloatArray
    prob_futility: FloatArray
    power: float
    expected_information: float


@dataclass(frozen=True)
class _Spec:
    boundary: str
    sided: int
    alpha: float
    t: FloatArray
    efficacy_active: NDArray[np.bool_]
    futility_active: NDArray[np.bool_]
    gamma: float | None
    rho: float | None
    delta_wt: float | None
    hp_interim: float
    beta_family: str
    beta_gamma: float | None
    beta_rho: float | None
    grid_r: int


def _lower_of(upper: FloatArray, sided: int) -> FloatArray:
    return -upper if sided == 2 else np.full_like(upper, -np.inf)


def _solve_bound(func: Any, target: float) -> float:
    """Bound b with func(b) == target for a decreasing exit probability func."""
    if target <= 0.0:
        return float(np.inf)
    lo, hi = -_BOUND_LIMIT, _BOUND_LIMIT
    if func(hi) - target >= 0.0:
        return hi
    if func(lo) - target <= 0.0:
        return lo
    return float(brentq(lambda b: func(b) - target, lo, hi, xtol=_XTOL))


def _spending_efficacy(spec: _Spec) -> FloatArray:
    """Efficacy bounds from alpha spending, look by look (no futility bounds)."""
    t = spec.t
    cumulative = spending_function(spec.boundary, spec.alpha, t, spec.gamma, spec.rho)
    cumulative[-1] = spec.alpha
    bounds = np.full(t.size, np.inf)
    state = _State.start()
    spent = 0.0
    for k in range(t.size):
        if spec.efficacy_active[k]:
            target = cumulative[k] - spent
            if spec.sided == 2:
                above = state.exit_function(t[k], 0.0, below=False)
                below = state.exit_function(t[k], 0.0, below=True)
                bounds[k] = _solve_bound(lambda b, u=above, d=below: u(b) + d(-b), target)
            else:
                bounds[k] = _solve_bound(state.exit_function(t[k], 0.0, below=False), target)
        lower = -bounds[k] if spec.sided == 2 else -np.inf
        spent += state.exit_above(bounds[k], t[k], 0.0) + state.exit_below(lower, t[k], 0.0) * (
            spec.sided == 2
        )
        if k + 1 < t.size:
            state = state.advance(t[k], 0.0, lower, bounds[k], spec.grid_r)
    return bounds


def _root_near(
    func: Any,
    guess: float | tuple[float, float] | None,
    lo: float,
    hi: float,
    step: float,
    failure: tuple[str, Any, str] = ("beta", None, "a power target these bounds can reach"),
    xtol: float = _XTOL,
) -> float:
    """Root of a monotone `func` on [lo, hi], tried first inside a narrow bracket (warm start):
    ``guess`` +/- ``step``, or an explicit (low, high) pair.

    Raises TrialInputError(*failure) when [lo, hi] does not bracket a root (an impossible
    design), never a bare SciPy error.
    """
    if isinstance(guess, tuple):
        a, b = max(lo, guess[0]), min(hi, guess[1])
    elif guess is not None and np.isfinite(guess):
        a, b = max(lo, guess - step), min(hi, guess + step)
    else:
        a = b = lo
    if a < b and func(a) * func(b) <= 0:
        return float(brentq(func, a, b, xtol=xtol))
    if func(lo) * func(hi) > 0:
        raise TrialInputError(*failure)
    return float(brentq(func, lo, hi, xtol=xtol))


# Grid sizes of the cheap integrations that locate a root before the full grid refines it.
_COARSE_GRIDS = (4, 12)


def _refined_root(
    func_at: Callable[[int], Callable[[float], float]],
    grid_r: int,
    guess: float | tuple[float, float] | None,
    lo: float,
    hi: float,
    failure: tuple[str, Any, str],
) -> float:
    """Root of the monotone ``func_at(grid_r)``, a function integrated on the grid of size r.

    Every evaluation integrates over all looks, so the bracketed search runs on a coarse grid
    (r = 4, some 50 times cheaper than r = 32) and each finer grid only takes secant steps
    from the coarser root: two or three full-grid evaluations instead of a dozen.
    """
    grids = [r for r in _COARSE_GRIDS if r < grid_r] + [grid_r]
    coarsest = func_at(grids[0])
    try:
        x = _root_near(coarsest, guess, lo, hi, 0.0, failure, xtol=1e-3)
    except TrialInputError:  # near the edge of feasibility: let the full grid decide
        return _root_near(func_at(grid_r), guess, lo, hi, 0.0, failure)
    h = 1e-6 * max(1.0, abs(x))
    slope = (coarsest(x + h) - coarsest(x - h)) / (2.0 * h)
    for r in grids[1:]:
        x, slope = _secant(func_at(r), x, slope, lo, hi, failure, 1e-6 if r == grid_r else 1e-7)
    return x


def _secant(
    func: Callable[[float], float],
    x: float,
    slope: float,
    lo: float,
    hi: float,
    failure: tuple[str, Any, str],
    tolerance: float,
) -> tuple[float, float]:
    """Secant steps from x (started with a known slope) until a step is below tolerance;
    a bracketed search from x should they leave [lo, hi] or stall."""
    f = func(x)
    for _ in range(8):
        if f == 0.0:
            return x, slope
        if slope == 0.0 or not np.isfinite(slope):
            break
        step = f / slope
        following = x - step
        if not lo <= following <= hi:
            break
        if abs(step) <= tolerance * max(1.0, abs(x)):
            return following, slope  # superlinear: its error is far below the step
        f_following = func(following)
        slope = (f_following - f) / (following - x)
        x, f = following, f_following
    return _root_near(func, x, lo, hi, 1e-3, failure), slope


def _classical_efficacy(spec: _Spec) -> FloatArray:
    """Efficacy bounds offset + c * slope with c solved for the total level alpha."""
    bounds_for = _classical_bounds(spec)

    def excess_level(r: int) -> Callable[[float], float]:
        def excess(c: float) -> float:
            b = bounds_for(c)
            up, down = crossing_probabilities(b, _lower_of(b, spec.sided), spec.t, 0.0, r)
            return float(up.sum() + (down.sum() if spec.sided == 2 else 0.0)) - spec.alpha

        return excess

    failure = _level_failure(spec)
    # level(z_a) >= alpha (the final look alone); by Bonferroni level <= alpha once every
    # bound is at least z_(alpha/K): a tight bracket for all shapes but Haybittle-Peto.
    z_level = float(ndtri(1.0 - spec.alpha / spec.sided))
    z_bonferroni = float(ndtri(1.0 - spec.alpha / (spec.sided * spec.t.size)))
    _, slope = _classical_shape(spec.boundary, spec.t, spec.delta_wt, spec.hp_interim)
    bracket = None if spec.boundary == "hp" else (z_level, z_bonferroni / float(slope.min()))
    c = _refined_root(excess_level, spec.grid_r, bracket, 0.0, _BOUND_LIMIT, failure)
    return np.asarray(bounds_for(c), dtype=float)


def _efficacy(spec: _Spec) -> FloatArray:
    """Efficacy bounds without futility (for non-binding and no-futility designs)."""
    if spec.boundary in SPENDING_FAMILIES:
        return _spending_efficacy(spec)
    return _classical_efficacy(spec)


def _futility_pass(
    spec: _Spec, beta: float, drift: float, efficacy: FloatArray | None, binding: bool
) -> tuple[FloatArray, FloatArray, float, float]:
    """One look-by-look pass computing futility bounds by beta spending at `drift`.

    With ``efficacy=None`` the efficacy bounds are computed in the same pass by alpha spending
    (under H0, with the futility bounds in place when ``binding``); otherwise they are taken as
    given. Returns (efficacy, futility, unclipped final futility bound a_K, type I error with
    the futility bounds in place - 0 when not needed: given efficacy, non-binding). Interim
    futility bounds are clipped to the efficacy bound; a_K equals b_K at the drift that gives
    power 1 - beta.
    """
    t = spec.t
    last_look = t.size - 1
    beta_cumulative = spending_function(spec.beta_family, beta, t, spec.beta_gamma, spec.beta_rho)
    alpha_cumulative = (
        spending_function(spec.boundary, spec.alpha, t, spec.gamma, spec.rho)
        if efficacy is None
        else None
    )
    eff = np.full(t.size, np.inf) if efficacy is None else efficacy.astype(float, copy=True)
    # The H0 sub-density is needed for spending efficacy bounds or the binding level only.
    track_null = efficacy is None or binding
    fut = np.full(t.size, -np.inf)
    null_state, alt_state = _State.start(), _State.start()
    alpha_spent = beta_spent = 0.0
    final = -np.inf
    for k in range(t.size):
        last = k == last_look
        if alpha_cumulative is not None and spec.efficacy_active[k]:
            target = (spec.alpha if last else alpha_cumulative[k]) - alpha_spent
            eff[k] = _solve_bound(null_state.exit_function(t[k], 0.0, below=False), target)
        if spec.futility_active[k] or last:
            target = (beta if last else beta_cumulative[k]) - beta_spent
            exit_down = alt_state.exit_function(t[k], drift, below=True)
            a = -_solve_bound(lambda x, f=exit_down: f(-x), target) if target > 0 else -np.inf
            if last:
                final = a
            fut[k] = min(a, eff[k])
        null_lower = fut[k] if binding else -np.inf
        if track_null:
            alpha_spent += null_state.exit_above(eff[k], t[k], 0.0)
        beta_spent += alt_state.exit_below(fut[k], t[k], drift)
        if not last:
            if track_null:
                null_state = null_state.advance(t[k], 0.0, null_lower, eff[k], spec.grid_r)
            alt_state = alt_state.advance(t[k], drift, fut[k], eff[k], spec.grid_r)
    return eff, fut, final, alpha_spent


def _classical_bounds(spec: _Spec) -> Any:
    """c -> efficacy bounds offset + c * slope (inactive looks get no bound)."""
    offset, slope = _classical_shape(spec.boundary, spec.t, spec.delta_wt, spec.hp_interim)
    return lambda c: np.where(spec.efficacy_active, offset + c * slope, np.inf)


def _level_failure(spec: _Spec) -> tuple[str, Any, str]:
    if spec.boundary == "hp":
        return ("hp_interim", spec.hp_interim, "interim bounds that spend less than alpha")
    return ("alpha", spec.alpha, "a level these boundary shapes can attain")


def _futility_design(
    spec: _Spec, beta: float, binding: bool
) -> tuple[FloatArray, FloatArray, float]:
    """Efficacy bounds, futility bounds and drift with futility meeting efficacy at look K.

    The drift solves a_K(drift) = b_K. Non-binding: efficacy bounds from alpha spending
    without futility, then one futility pass per trial drift. Binding spending designs: both
    bounds in one pass (b_k depends on a_1..a_(k-1), a_k on b_1..b_(k-1)). Binding classical
    designs: for each trial drift, the boundary constant c is solved with the futility bounds
    that b(c) implies.
    """
    z_sum = float(ndtri(1.0 - spec.alpha / spec.sided) + ndtri(1.0 - beta))
    failure = ("beta", beta, "a power target these efficacy and futility bounds can reach")
    fixed_efficacy = None if binding else _efficacy(spec)
    bounds_for = None if spec.boundary in SPENDING_FAMILIES else _classical_bounds(spec)
    last_c: list[float | None] = [None]

    def solve(drift: float) -> tuple[FloatArray, FloatArray, float]:
        if fixed_efficacy is not None:
            eff, fut, final, _ = _futility_pass(spec, beta, drift, fixed_efficacy, False)
        elif bounds_for is None:
            eff, fut, final, _ = _futility_pass(spec, beta, drift, None, True)
        else:

            def level(c: float) -> float:
                return _futility_pass(spec, beta, drift, bounds_for(c), True)[3] - spec.alpha

            c = _root_near(level, last_c[0], 0.0, _BOUND_LIMIT, 0.01, _level_failure(spec))
            last_c[0] = c
            eff, fut, final, _ = _futility_pass(spec, beta, drift, bounds_for(c), True)
        return eff, fut, final

    def gap(drift: float) -> float:
        eff, _, final = solve(drift)
        return final - eff[-1]

    if bounds_for is not None and binding:
        # Fast path: Newton on (c, drift) from the non-binding solution; the nested solve
        # below is the fallback should Newton not converge.
        start_eff = _efficacy(spec)
        start_drift = _root_near(
            lambda d: _futility_pass(spec, beta, d, start_eff, False)[2] - start_eff[-1],
            (z_sum, 1.6 * z_sum + 0.5), 0.0, 2.0 * z_sum + 5.0, 0.0, failure,
        )  # fmt: skip
        newton = _newton_binding(spec, beta, bounds_for, float(start_eff[-1]), start_drift)
        if newton is not None:
            c, drift = newton
            eff, fut, _, _ = _futility_pass(spec, beta, drift, bounds_for(c), True)
            fut[-1] = eff[-1]
            return eff, fut, drift
    # Futility bounds cost power, so the drift exceeds the fixed design's.
    bracket = (z_sum, 1.6 * z_sum + 0.5)
    drift = _root_near(gap, bracket, 0.0, 2.0 * z_sum + 5.0, 0.0, failure)
    eff, fut, _ = solve(drift)
    fut[-1] = eff[-1]
    return eff, fut, drift


def _newton_binding(
    spec: _Spec, beta: float, bounds_for: Any, c: float, drift: float
) -> tuple[float, float] | None:
    """Solve level(c, drift) = alpha and a_K(c, drift) = b_K(c) by damped Newton steps with a
    forward-difference Jacobian; None if it does not converge."""

    def residual(x: FloatArray) -> FloatArray:
        eff, _, final, level = _futility_pass(spec, beta, float(x[1]), bounds_for(x[0]), True)
        return np.array([level - spec.alpha, final - eff[-1]])

    x = np.array([c, drift])
    f = residual(x)
    scale = np.array([1e-3, 1.0])  # alpha-scale vs z-scale residuals
    for _ in range(25):
        if abs(f[0]) < 1e-12 and abs(f[1]) < 1e-9:
            return float(x[0]), float(x[1])
        h = 1e-6
        jacobian = np.column_stack([(residual(x + h * np.eye(2)[j]) - f) / h for j in range(2)])
        try:
            step = np.linalg.solve(jacobian, -f)
        except np.linalg.LinAlgError:
            return None
        damping = 1.0
        while damping > 1e-3:
            trial = x + damping * step
            if trial[0] > 0 and trial[1] > 0:
                f_trial = residual(trial)
                if np.linalg.norm(f_trial / scale) < np.linalg.norm(f / scale):
                    x, f = trial, f_trial
                    break
            damping /= 2.0
        else:
            return None
    return None


def _drift_for_power(
    spec: _Spec, efficacy: FloatArray, futility: FloatArray, power: float
) -> float:
    lower = _lower_of(efficacy, spec.sided) if spec.sided == 2 else futility

    def power_gap(r: int) -> Callable[[float], float]:
        def gap(drift: float) -> float:
            up, _ = crossing_probabilities(efficacy, lower, spec.t, drift, r)
            return float(up.sum()) - power

        return gap

    z_sum = float(ndtri(1.0 - spec.alpha / spec.sided) + ndtri(power))
    # A group-sequential design never needs less drift than the fixed design.
    return _refined_root(
        power_gap, spec.grid_r, (z_sum, 1.25 * z_sum + 0.5), 0.0, 2.0 * z_sum + 5.0,
        ("beta", 1.0 - power, "a power target these bounds can reach"),
    )  # fmt: skip


def _flags(name: str, values: Sequence[bool] | None, looks: int) -> NDArray[np.bool_]:
    if values is None:
        return np.ones(looks, dtype=bool)
    flags = np.asarray(list(values), dtype=bool)
    if flags.size != looks:
        raise TrialInputError(name, list(values), f"{looks} true/false flags, one per look")
    return flags


def _validate(
    looks: int,
    boundary: str,
    alpha: float,
    beta: float,
    sided: int,
    information_rates: Sequence[float] | None,
    futility: str,
    grid_r: int,
) -> FloatArray:
    check_int_range("looks", looks, 1, MAX_LOOKS)
    if boundary not in BOUNDARIES:
        raise TrialInputError("boundary", boundary, f"one of {', '.join(BOUNDARIES)}")
    check_alpha("alpha", alpha)
    if sided not in (1, 2):
        raise TrialInputError("sided", sided, "1 or 2")
    check_probability("beta", beta)
    if 1.0 - beta <= alpha / sided:
        raise TrialInputError(
            "beta", beta, f"power 1 - beta greater than the one-sided level {alpha / sided:g}"
        )
    if futility not in ("none", "binding", "nonbinding"):
        raise TrialInputError("futility", futility, "one of none, binding, nonbinding")
    if futility != "none" and sided == 2:
        raise TrialInputError("futility", futility, "'none' for two-sided designs")
    check_int_range("grid_r", grid_r, 8, 512)
    if information_rates is None:
        return np.arange(1, looks + 1, dtype=float) / looks
    rates = check_increasing_fractions("information_rates", information_rates)
    if len(rates) != looks:
        raise TrialInputError("information_rates", information_rates, f"{looks} values")
    return np.asarray(rates, dtype=float)


def _make_spec(
    looks: int,
    boundary: str,
    alpha: float,
    beta: float,
    sided: int,
    information_rates: Sequence[float] | None,
    futility: str,
    gamma: float | None,
    rho: float | None,
    delta_wt: float | None,
    hp_interim: float,
    beta_spending: str | None,
    beta_gamma: float | None,
    beta_rho: float | None,
    efficacy_looks: Sequence[bool] | None,
    futility_looks: Sequence[bool] | None,
    grid_r: int,
) -> _Spec:
    t = _validate(looks, boundary, alpha, beta, sided, information_rates, futility, grid_r)
    eff_flags = _flags("efficacy_looks", efficacy_looks, looks)
    if not eff_flags[-1]:
        raise TrialInputError(
            "efficacy_looks", [bool(f) for f in eff_flags], "the final look to be active"
        )
    fut_flags = _flags("futility_looks", futility_looks, looks)
    if boundary == "hp":
        check_positive("hp_interim", hp_interim)
    # Beta spending defaults to the alpha-spending family (and its parameter) for spending
    # designs and to the O'Brien-Fleming type for classical boundaries.
    inherit = beta_spending is None and boundary in SPENDING_FAMILIES
    family = beta_spending or (boundary if inherit else "ld-obf")
    b_gamma = beta_gamma if beta_gamma is not None else (gamma if inherit else None)
    b_rho = beta_rho if beta_rho is not None else (rho if inherit else None)
    if futility != "none":
        if family not in SPENDING_FAMILIES:
            raise TrialInputError(
                "beta_spending", beta_spending, f"one of {', '.join(SPENDING_FAMILIES)}"
            )
        spending_function(family, beta, 0.5, b_gamma, b_rho)  # validates its parameters
    spec = _Spec(
        boundary=boundary,
        sided=sided,
        alpha=alpha,
        t=t,
        efficacy_active=eff_flags,
        futility_active=fut_flags if futility != "none" else np.zeros(looks, dtype=bool),
        gamma=gamma,
        rho=rho,
        delta_wt=delta_wt,
        hp_interim=hp_interim,
        beta_family=family,
        beta_gamma=b_gamma,
        beta_rho=b_rho,
        grid_r=grid_r,
    )
    if boundary in SPENDING_FAMILIES:
        spending_function(boundary, alpha, 0.5, gamma, rho)  # validates gamma / rho
    return spec


def efficacy_bounds(
    looks: int,
    boundary: str,
    alpha: float,
    sided: int = 1,
    information_rates: Sequence[float] | None = None,
    *,
    gamma: float | None = None,
    rho: float | None = None,
    delta_wt: float | None = None,
    hp_interim: float = 3.0,
    efficacy_looks: Sequence[bool] | None = None,
    grid_r: int = 32,
) -> FloatArray:
    """Z-scale efficacy critical values (no futility, no power calculation).

    For an inverse-normal combination test with prespecified stage weights w_k, pass
    ``information_rates = cumsum(w**2) / sum(w**2)``.
    """
    spec = _make_spec(
        looks, boundary, alpha, 0.2, sided, information_rates, "none",
        gamma, rho, delta_wt, hp_interim, None, None, None, efficacy_looks, None, grid_r,
    )  # fmt: skip
    return _efficacy(spec)


def operating_characteristics(
    design: GroupSequentialDesign, drift: float, grid_r: int = 32
) -> OperatingCharacteristics:
    """Rejection and stopping probabilities per look, power and expected information fraction.

    Futility bounds are assumed to be obeyed (for non-binding designs this is the usual
    convention for expected sample size; power is then slightly conservative).
    """
    if not np.isfinite(drift):
        raise TrialInputError("drift", drift, "a finite number")
    eff = design.efficacy_bounds
    lower = _characteristics_lower(design.sided, eff, design.futility_bounds)
    up, down = crossing_probabilities(eff, lower, design.information_rates, drift, grid_r)
    return _characteristics(design, drift, up, down)


def _characteristics_lower(sided: int, efficacy: FloatArray, futility: FloatArray) -> FloatArray:
    """The lower boundary of the operating characteristics: -b_k, or the futility bounds."""
    return -efficacy if sided == 2 else futility


def _characteristics(
    design: GroupSequentialDesign, drift: float, up: FloatArray, down: FloatArray
) -> OperatingCharacteristics:
    if design.sided == 2:
        fut = np.zeros_like(up)
        lower_reject = down
    else:
        fut = down
        lower_reject = np.zeros_like(up)
    stop = up + lower_reject + fut
    stop[-1] = max(0.0, 1.0 - stop[:-1].sum())
    return OperatingCharacteristics(
        drift=float(drift),
        prob_reject_upper=up,
        prob_reject_lower=lower_reject,
        prob_futility=fut,
        power=float(up.sum()),
        expected_information=float(stop @ design.information_rates),
    )


def design_gsd(
    looks: int,
    boundary: str,
    alpha: float = 0.025,
    beta: float = 0.2,
    sided: int = 1,
    information_rates: Sequence[float] | None = None,
    *,
    futility: FutilityKind = "none",
    gamma: float | None = None,
    rho: float | None = None,
    delta_wt: float | None = None,
    hp_interim: float = 3.0,
    beta_spending: str | None = None,
    beta_gamma: float | None = None,
    beta_rho: float | None = None,
    efficacy_looks: Sequence[bool] | None = None,
    futility_looks: Sequence[bool] | None = None,
    grid_r: int = 32,
) -> GroupSequentialDesign:
    """Compute a group-sequential design by numerical integration.

    Args:
        looks: number of analyses K (1..100).
        boundary: ``pocock``, ``obf``, ``wt``, ``hp``, ``ld-obf``, ``ld-pocock``, ``hsd``,
            ``power``.
        alpha: total type I error (one-sided if ``sided=1``, two-sided if ``sided=2``).
        beta: type II error; 1 - beta is the power at the design alternative.
        sided: 1 or 2 (two-sided designs have symmetric bounds and no futility bound).
        information_rates: information fractions at the looks (default equally spaced).
        futility: ``none``, ``binding`` or ``nonbinding`` beta-spending futility bounds.
        gamma / rho: parameter of the ``hsd`` / ``power`` alpha-spending function.
        delta_wt: Wang–Tsiatis shape parameter Delta (0 = O'Brien–Fleming, 0.5 = Pocock).
        hp_interim: Haybittle–Peto interim bound (default 3).
        beta_spending, beta_gamma, beta_rho: beta-spending family for futility bounds; by
            default the alpha-spending family (``ld-obf`` for classical boundaries).
        efficacy_looks / futility_looks: per-look flags; a look with flag False has no bound
            of that kind (its spending carries over to the next active look). The final look
            always has both bounds (they meet there).
        grid_r: grid size parameter of the integration (J&T §19.2.1; 32 gives ~1e-8 accuracy).
    """
    spec = _make_spec(
        looks, boundary, alpha, beta, sided, information_rates, futility, gamma, rho,
        delta_wt, hp_interim, beta_spending, beta_gamma, beta_rho, efficacy_looks,
        futility_looks, grid_r,
    )  # fmt: skip
    if futility == "none":
        eff = _efficacy(spec)
        fut = np.full(looks, -np.inf)
        drift = _drift_for_power(spec, eff, fut, 1.0 - beta)
    else:
        eff, fut, drift = _futility_design(spec, beta, binding=futility == "binding")

    t = spec.t
    lower_h0 = -eff if sided == 2 else (fut if futility == "binding" else np.full(looks, -np.inf))
    up0, down0 = crossing_probabilities(eff, lower_h0, t, 0.0, grid_r)
    alpha_per_look = up0 + (down0 if sided == 2 else 0.0)
    partial = GroupSequentialDesign(
        boundary=boundary,
        sided=sided,
        alpha=alpha,
        beta=beta,
        futility=futility,
        information_rates=t,
        efficacy_bounds=eff,
        futility_bounds=fut,
        nominal_p_efficacy=np.where(np.isfinite(eff), sided * ndtr(-eff), 0.0),
        cumulative_alpha_spent=np.cumsum(alpha_per_look),
        drift=drift,
        fixed_drift=float(ndtri(1.0 - alpha / sided) + ndtri(1.0 - beta)),
        inflation_factor=0.0,
        prob_efficacy_h0=np.zeros(looks),
        prob_futility_h0=np.zeros(looks),
        prob_efficacy_h1=np.zeros(looks),
        prob_futility_h1=np.zeros(looks),
        expected_sample_size_h0=0.0,
        expected_sample_size_h1=0.0,
        power=0.0,
        type_one_error_futility_obeyed=0.0,
        parameters={
            k: v
            for k, v in {
                "gamma": gamma,
                "rho": rho,
                "delta_wt": delta_wt,
                "hp_interim": hp_interim if boundary == "hp" else None,
                "beta_spending": spec.beta_family if futility != "none" else None,
                "beta_gamma": spec.beta_gamma if futility != "none" else None,
                "beta_rho": spec.beta_rho if futility != "none" else None,
                "grid_r": grid_r,
            }.items()
            if v is not None
        },
    )
    # Under H0 the characteristics often integrate the very boundaries just integrated.
    same_lower = np.array_equal(lower_h0, _characteristics_lower(sided, eff, fut))
    oc0 = (
        _characteristics(partial, 0.0, up0, down0)
        if same_lower
        else operating_characteristics(partial, 0.0, grid_r)
    )
    oc1 = operating_characteristics(partial, drift, grid_r)
    inflation = (drift / partial.fixed_drift) ** 2
    return GroupSequentialDesign(
        **{
            **partial.__dict__,
            "inflation_factor": float(inflation),
            "prob_efficacy_h0": oc0.prob_reject_upper + oc0.prob_reject_lower,
            "prob_futility_h0": oc0.prob_futility,
            "prob_efficacy_h1": oc1.prob_reject_upper + oc1.prob_reject_lower,
            "prob_futility_h1": oc1.prob_futility,
            "expected_sample_size_h0": float(inflation * oc0.expected_information),
            "expected_sample_size_h1": float(inflation * oc1.expected_information),
            "power": oc1.power,
            "type_one_error_futility_obeyed": float(
                oc0.prob_reject_upper.sum() + oc0.prob_reject_lower.sum()
            ),
        }
    )
