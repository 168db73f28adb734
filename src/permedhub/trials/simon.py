"""Simon (1989) two-stage single-arm phase II designs by exact binomial enumeration.

Design (r1/n1, r/n): treat n1 patients; stop for futility if at most r1 respond; otherwise treat
n - n1 more and declare the treatment promising if more than r respond in all n. Constraints:
P(declare promising | p0) <= alpha and P(declare promising | p1) >= 1 - beta.

* optimal: minimum expected sample size under p0 (EN0) among all feasible designs;
* minimax: minimum maximum sample size n, then minimum EN0;
* admissible (Jung, Lee, Kim & George 2004, Stat Med 23:561-569): the designs minimising the
  expected loss q * n + (1 - q) * EN0 for some q in [0, 1] (the lower convex hull of the
  (n, EN0) points between minimax and optimal), each with its interval of q.

Every design is accounted for exactly, without evaluating every (n, n1, r1, r): bounds on r1
and r that follow from the power and type I error constraints leave a narrow band per (n, n1)
(see `_best_per_n`), evaluated at once as a NumPy array. For each (n, n1, r1) the final bound r
is the smallest one that keeps the type I error at or below alpha (so it has the largest power);
the design is feasible if that power reaches 1 - beta.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray
from scipy.special import ndtri
from scipy.stats import binom

from permedhub.trials.errors import TrialInputError, check_alpha, check_int_range, check_probability

SimonCriterion = Literal["optimal", "minimax", "admissible"]
MAX_N = 300


@dataclass(frozen=True)
class SimonDesign:
    """One two-stage design with its exact operating characteristics."""

    r1: int
    n1: int
    r: int
    n: int
    alpha: float  # achieved type I error
    power: float  # achieved power at p1
    expected_n0: float  # expected sample size under p0
    pet0: float  # probability of early termination under p0
    expected_n1: float
    pet1: float
    q_low: float | None = None  # admissible designs: the range of q for which it is optimal
    q_high: float | None = None

    def to_dict(self) -> dict[str, float | int | None]:
        return asdict(self)


@dataclass(frozen=True)
class SimonResult:
    """The optimal, minimax and admissible designs for one (p0, p1, alpha, beta)."""

    p0: float
    p1: float
    alpha: float
    beta: float
    optimal: SimonDesign
    minimax: SimonDesign
    admissible: tuple[SimonDesign, ...]

    def design(self, criterion: SimonCriterion) -> SimonDesign | tuple[SimonDesign, ...]:
        if criterion == "optimal":
            return self.optimal
        if criterion == "minimax":
            return self.minimax
        return self.admissible

    def to_dict(self) -> dict[str, object]:
        return {
            "p0": self.p0,
            "p1": self.p1,
            "alpha": self.alpha,
            "beta": self.beta,
            "optimal": self.optimal.to_dict(),
            "minimax": self.minimax.to_dict(),
            "admissible": [d.to_dict() for d in self.admissible],
        }


def _binomial_tables(n_max: int, p: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """pmf[m, k] = P(Bin(m, p) = k) and sf[m, k + 1] = P(Bin(m, p) > k), for m, k in 0..n_max.

    Upper tails are summed from the top so that small tails keep their relative precision;
    `sf[:, 0]` (k = -1) is 1.
    """
    sizes = np.arange(n_max + 1)
    pmf = binom.pmf(sizes[None, :], sizes[:, None], p)
    sf = np.zeros((n_max + 1, n_max + 2))
    sf[:, :-1] = np.cumsum(pmf[:, ::-1], axis=1)[:, ::-1]
    return pmf, sf


def _largest_index_at_least(rows: NDArray[np.float64], level: float) -> NDArray[np.int64]:
    """Per row of a non-increasing array, the last index whose value is >= level (-1 if none)."""
    return np.asarray((rows >= level).sum(axis=-1) - 1, dtype=np.int64)


# Stage-1 outcomes below this lower-tail mass change no probability at double precision.
NEGLIGIBLE = 1e-18


def _best_per_n(
    p0: float, p1: float, alpha: float, beta: float, n_max: int, n_min: int = 2
) -> dict[int, SimonDesign]:
    """For every total n from n_min to n_max, the feasible design with the smallest EN0.

    With X = X1 + X2 ~ Bin(n, p), P(reject) = P(X > r) - S(r1, r) where S(r1, r) = sum over
    x1 <= r1 of P(X1 = x1) P(X2 > r - x1). For one (n, n1) a larger r1 always lowers EN0, and:

    * r1 above the power bound (P1(X1 > r1) < 1 - beta) has too little power whatever r is;
    * if the largest r1 within it already has P0(X1 > r1) <= alpha, r = r1 controls alpha (every
      trial that continues succeeds) and no smaller r1 can beat it: that n1 is settled;
    * otherwise r1 starts where stage 1 has mass (below it S vanishes and a larger r1 is at least
      as good), and r lies between the r with P0(X > r) <= alpha + P0(X1 <= r1) and the smaller of
      the single-stage bound (P0(X > r) <= alpha) and the power bound (P1(X > r) >= 1 - beta).

    Only that band of (n1, r1, r) is evaluated; every bound is exact.
    """
    power = 1.0 - beta - 1e-12
    level = alpha + 1e-12
    pmf0, sf0 = _binomial_tables(n_max, p0)
    pmf1, sf1 = _binomial_tables(n_max, p1)
    # sf[:, j] is P(X > j - 1): the last j with sf >= power gives the largest r = j - 1.
    r1_bound = _largest_index_at_least(sf1, power) - 1
    first_mass = (np.cumsum(pmf0, axis=1) < NEGLIGIBLE).sum(axis=1)
    best: dict[int, SimonDesign] = {}
    for n in range(n_min, n_max + 1):
        r_top = min(int(_largest_index_at_least(sf1[n], power)) - 1, n - 1)
        n1 = np.arange(1, n)
        r1_top = np.minimum(r1_bound[n1], n1 - 1)
        keep = r1_top >= 0
        if r_top < 0 or not keep.any():
            continue
        n1, r1_top = n1[keep], r1_top[keep]
        candidates: list[SimonDesign] = []
        settled = sf0[n1, r1_top + 1] <= level
        if settled.any():
            rows, bounds = n1[settled], r1_top[settled]
            en0 = rows + sf0[rows, bounds + 1] * (n - rows)
            k = int(np.argmin(en0))
            r1 = int(bounds[k])
            candidates.append(_design(n, int(rows[k]), r1, r1, pmf0, pmf1, sf0, sf1))
        n1, r1_top = n1[~settled], r1_top[~settled]
        if n1.size:
            found = _best_in_band(
                n, n1, r1_top, r_top, level, power, first_mass, (pmf0, sf0), (pmf1, sf1)
            )
            if found is not None:
                size1, r1, r = found
                candidates.append(_design(n, size1, r1, r, pmf0, pmf1, sf0, sf1))
        if candidates:
            best[n] = min(candidates, key=lambda d: (d.expected_n0, d.n1))
    return best


def _best_in_band(
    n: int,
    n1: NDArray[np.int64],
    r1_top: NDArray[np.int64],
    r_top: int,
    level: float,
    power: float,
    first_mass: NDArray[np.int64],
    tables0: tuple[NDArray[np.float64], NDArray[np.float64]],
    tables1: tuple[NDArray[np.float64], NDArray[np.float64]],
) -> tuple[int, int, int] | None:
    """The (n1, r1, r) with the smallest EN0 among the unsettled stage-1 sizes, or None."""
    (pmf0, sf0), (pmf1, sf1) = tables0, tables1
    n_max = pmf0.shape[0] - 1
    total0 = sf0[n, 1 : n + 2]  # P0(X > r), r = 0..n
    below = total0 <= level
    r_single = int(np.argmax(below)) if below.any() else n
    top = min(r_top, r_single)
    r1_low = np.minimum(np.maximum(first_mass[n1] - 1, 0), r1_top)
    cdf_top = 1.0 - sf0[n1, r1_top + 1]
    r_low = np.maximum(np.searchsorted(-total0, -(level + cdf_top), side="left") - 1, 0)
    depth = int((r1_top - r1_low).max()) + 1
    width = max(int((top - r_low).max()) + 1, 1)
    r1 = r1_low[:, None] + np.arange(depth)[None, :]  # [n1, j]
    r = r_low[:, None] + np.arange(width)[None, :]  # [n1, o]
    x1 = np.minimum(r1, n_max)
    rows = n1[:, None]
    # P(X2 > r - x1) depends on o - j only: one row per n1, read as a Toeplitz view.
    shift = (r_low - r1_low + 1)[:, None] + np.arange(-(depth - 1), width)[None, :]
    column = np.clip(shift, 0, n_max + 1)
    r_index = np.minimum(r, n) + 1

    def rejection(pmf: NDArray[np.float64], sf: NDArray[np.float64]) -> NDArray[np.float64]:
        """P(reject) on the band, laid out [n1, o, j] so the sum over x1 runs along memory."""
        band = sf[(n - n1)[:, None], column]
        tail = sliding_window_view(band, depth, axis=1)[:, :, ::-1]  # [n1, o, j]
        grid = np.multiply(pmf[rows, x1][:, None, :], tail)
        np.cumsum(grid, axis=2, out=grid)
        return np.subtract(sf[n, r_index][:, :, None], grid, out=grid)

    reject0 = rejection(pmf0, sf0)
    valid = (
        (r[:, :, None] >= r1[:, None, :])
        & (r[:, :, None] <= top)
        & (r1 <= r1_top[:, None])[:, None, :]
    )
    controls_alpha = valid & (reject0 <= level)
    offset = np.argmax(controls_alpha, axis=1)  # [n1, j]: smallest r controlling alpha
    achieved = np.take_along_axis(rejection(pmf1, sf1), offset[:, None, :], axis=1)[:, 0, :]
    feasible = controls_alpha.any(axis=1) & (achieved >= power)
    if not feasible.any():
        return None
    stop0 = 1.0 - sf0[rows, x1 + 1]
    en0 = np.where(feasible, n1[:, None] + (1.0 - stop0) * (n - n1)[:, None], np.inf)
    i, j = np.unravel_index(np.argmin(en0), en0.shape)
    return int(n1[i]), int(r1[i, j]), int(r[i, offset[i, j]])


def _design(
    n: int,
    n1: int,
    r1: int,
    r: int,
    pmf0: NDArray[np.float64],
    pmf1: NDArray[np.float64],
    sf0: NDArray[np.float64],
    sf1: NDArray[np.float64],
) -> SimonDesign:
    """The exact operating characteristics of (r1/n1, r/n)."""

    def reject(pmf: NDArray[np.float64], sf: NDArray[np.float64]) -> float:
        x1 = np.arange(r1 + 1, n1 + 1)
        tail = sf[n - n1, np.clip(r - x1 + 1, 0, None)]
        return float(np.dot(pmf[n1, x1], tail))

    pet0 = float(1.0 - sf0[n1, r1 + 1])
    pet1 = float(1.0 - sf1[n1, r1 + 1])
    return SimonDesign(
        r1=r1,
        n1=n1,
        r=r,
        n=n,
        alpha=reject(pmf0, sf0),
        power=reject(pmf1, sf1),
        expected_n0=n1 + (1.0 - pet0) * (n - n1),
        pet0=pet0,
        expected_n1=n1 + (1.0 - pet1) * (n - n1),
        pet1=pet1,
    )


def _admissible(best: dict[int, SimonDesign], minimax: SimonDesign) -> tuple[SimonDesign, ...]:
    """Lower convex hull of (n, EN0) from the minimax design on: designs minimising
    q n + (1 - q) EN0, each with the interval of q on which it is optimal."""
    points = [best[n] for n in sorted(best) if n >= minimax.n]
    hull: list[SimonDesign] = []
    for design in points:
        if hull and design.expected_n0 >= hull[-1].expected_n0:
            continue  # larger n without smaller EN0 is never admissible
        while len(hull) >= 2:
            a, b = hull[-2], hull[-1]
            cross = (b.n - a.n) * (design.expected_n0 - a.expected_n0) - (
                b.expected_n0 - a.expected_n0
            ) * (design.n - a.n)
            if cross <= 0:
                hull.pop()
            else:
                break
        hull.append(design)
    # q at which neighbours tie: q n_a + (1-q) e_a = q n_b + (1-q) e_b.
    breaks = []
    for a, b in itertools.pairwise(hull):
        slope = (a.expected_n0 - b.expected_n0) / (b.n - a.n)
        breaks.append(slope / (1.0 + slope))
    result = []
    for index, design in enumerate(hull):
        q_high = 1.0 if index == 0 else breaks[index - 1]
        q_low = 0.0 if index == len(hull) - 1 else breaks[index]
        result.append(
            SimonDesign(**{**asdict(design), "q_low": float(q_low), "q_high": float(q_high)})
        )
    return tuple(result)


def simon_two_stage(
    p0: float, p1: float, alpha: float = 0.05, beta: float = 0.2, n_max: int | None = None
) -> SimonResult:
    """Optimal, minimax and admissible Simon two-stage designs.

    Args:
        p0: uninteresting response rate (H0); p1: target response rate (p1 > p0).
        alpha: maximum type I error; beta: maximum type II error (1 - beta = power at p1).
        n_max: largest total sample size searched (default: 2.5 times the single-stage normal
            approximation plus 10, capped at 300).
    """
    check_probability("p0", p0)
    check_probability("p1", p1)
    if p1 <= p0:
        raise TrialInputError("p1", p1, f"a response rate greater than p0 = {p0:g}")
    check_alpha("alpha", alpha)
    check_probability("beta", beta)
    if 1.0 - beta <= alpha:
        raise TrialInputError("beta", beta, f"power 1 - beta above alpha = {alpha:g}")
    single = (
        (ndtri(1 - alpha) * math.sqrt(p0 * (1 - p0)) + ndtri(1 - beta) * math.sqrt(p1 * (1 - p1)))
        / (p1 - p0)
    ) ** 2
    limit = min(MAX_N, math.ceil(2.5 * single) + 10) if n_max is None else n_max
    check_int_range("n_max", limit, 2, MAX_N)
    best = _best_per_n(p0, p1, alpha, beta, limit)
    if not best and n_max is None and limit < MAX_N:
        best = _best_per_n(p0, p1, alpha, beta, MAX_N, n_min=limit + 1)
        limit = MAX_N
    if not best:
        reach = (
            f"no two-stage design with n <= {limit} reaches power {1 - beta:g} at alpha {alpha:g}"
        )
        if n_max is not None and n_max < MAX_N:
            raise TrialInputError("n_max", n_max, f"a larger maximum (at most {MAX_N}): {reach}")
        raise TrialInputError(
            "p1",
            p1,
            f"a target further from p0 = {p0:g}: {reach} (the search stops at {MAX_N}; a "
            f"single-stage design needs about {math.ceil(single)} patients)",
        )
    optimal = min(best.values(), key=lambda d: (d.expected_n0, d.n))
    minimax = best[min(best)]
    return SimonResult(
        p0=p0,
        p1=p1,
        alpha=alpha,
        beta=beta,
        optimal=optimal,
        minimax=minimax,
        admissible=_admissible(best, minimax),
    )
