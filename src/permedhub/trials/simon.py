"""Simon (1989) two-stage single-arm phase II designs by exact binomial enumeration.

Design (r1/n1, r/n): treat n1 patients; stop for futility if at most r1 respond; otherwise treat
n - n1 more and declare the treatment promising if more than r respond in all n. Constraints:
P(declare promising | p0) <= alpha and P(declare promising | p1) >= 1 - beta.

* optimal: minimum expected sample size under p0 (EN0) among all feasible designs;
* minimax: minimum maximum sample size n, then minimum EN0;
* admissible (Jung, Lee, Kim & George 2004, Stat Med 23:561-569): the designs minimising the
  expected loss q * n + (1 - q) * EN0 for some q in [0, 1] (the lower convex hull of the
  (n, EN0) points between minimax and optimal), each with its interval of q.

Every (n, n1, r1, r) is enumerated exactly: for one n all n1, r1 and r are handled at once as a
three-dimensional NumPy array. For each (n, n1, r1) the final bound r is the smallest one that
keeps the type I error at or below alpha (so it has the largest power); the design is feasible if
that power reaches 1 - beta.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
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


def _rejection_probabilities(n: int, p: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """P(X1 > r1 and X1 + X2 > r) for every n1 in 1..n-1, r1 in 0..n, r in 0..n,
    and P(X1 <= r1) (early termination) for every n1, r1."""
    n1 = np.arange(1, n)[:, None]
    x = np.arange(0, n + 1)[None, :]
    stage1 = binom.pmf(x, n1, p)  # [n1, x1], zero for x1 > n1
    # P(X2 > k) for k = -n..n, X2 ~ Bin(n - n1, p).
    k = np.arange(-n, n + 1)[None, :]
    tail2 = binom.sf(k, n - n1, p)  # [n1, k + n]
    r = np.arange(0, n + 1)
    index = (r[None, :] - x.T) + n  # [x1, r] -> position of k = r - x1
    joint = stage1[:, :, None] * tail2[:, index]  # [n1, x1, r]
    # Sum over x1 > r1: reverse cumulative sum, shifted by one.
    from_above = np.cumsum(joint[:, ::-1, :], axis=1)[:, ::-1, :]
    reject = np.zeros_like(from_above)
    reject[:, :-1, :] = from_above[:, 1:, :]
    early_stop = np.cumsum(stage1, axis=1)  # P(X1 <= r1) [n1, r1]
    return reject, early_stop


def _best_per_n(
    p0: float, p1: float, alpha: float, beta: float, n_max: int
) -> dict[int, SimonDesign]:
    best: dict[int, SimonDesign] = {}
    for n in range(2, n_max + 1):
        reject0, stop0 = _rejection_probabilities(n, p0)
        reject1, stop1 = _rejection_probabilities(n, p1)
        n1 = np.arange(1, n)[:, None]
        r1 = np.arange(0, n + 1)[None, :]
        r = np.arange(0, n + 1)
        # Valid: r1 < n1 (a stage-1 stop must be avoidable), r1 <= r < n.
        valid = (
            (r[None, None, :] >= r1[:, :, None]) & (r[None, None, :] < n) & (r1 < n1)[:, :, None]
        )
        controls_alpha = valid & (reject0 <= alpha + 1e-12)
        has_r = controls_alpha.any(axis=2)
        r_choice = np.argmax(controls_alpha, axis=2)  # smallest r controlling alpha
        power = np.take_along_axis(reject1, r_choice[:, :, None], axis=2)[:, :, 0]
        feasible = has_r & (power >= 1.0 - beta - 1e-12)
        if not feasible.any():
            continue
        en0 = n1 + (1.0 - stop0[:, : n + 1]) * (n - n1)
        en0 = np.where(feasible, en0, np.inf)
        i, j = np.unravel_index(np.argmin(en0), en0.shape)
        chosen_r = int(r_choice[i, j])
        size1 = int(n1[i, 0])
        best[n] = SimonDesign(
            r1=int(j),
            n1=size1,
            r=chosen_r,
            n=n,
            alpha=float(reject0[i, j, chosen_r]),
            power=float(reject1[i, j, chosen_r]),
            expected_n0=float(en0[i, j]),
            pet0=float(stop0[i, j]),
            expected_n1=float(size1 + (1.0 - stop1[i, j]) * (n - size1)),
            pet1=float(stop1[i, j]),
        )
    return best


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
    if not best:
        raise TrialInputError(
            "n_max", limit, f"a larger maximum: no design reaches power {1 - beta:g} with n <= it"
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
