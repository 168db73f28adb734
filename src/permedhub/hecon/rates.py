"""Rate <-> probability conversions (constant hazard within the interval).

``rate_to_prob(r, t) = 1 - exp(-r t)``; ``prob_to_rate(p, t) = -ln(1 - p) / t``;
``rescale_prob(p, t_from, t_to)`` converts a probability over ``t_from`` years to one over
``t_to`` years assuming a constant hazard: ``1 - (1 - p) ** (t_to / t_from)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from permedhub.hecon.errors import ProbabilityError


def rate_to_prob(rate: Any, time: Any = 1.0) -> np.ndarray:
    """Probability of at least one event in `time` for a constant event `rate` (>= 0)."""
    r = np.asarray(rate, dtype=float)
    if r.size and r.min() < 0:  # one pass, no boolean temporary (NaN passes, as before)
        raise ProbabilityError(f"rate_to_prob: rate must be >= 0, got min {float(np.min(r))}")
    # -expm1(r * -t) in one fresh array: PSA values are (cycles, draws) planes, and every
    # temporary of that size costs a pass through memory
    p = np.asarray(np.multiply(r, -np.asarray(time, dtype=float)))
    np.expm1(p, out=p)
    return np.negative(p, out=p)


def prob_to_rate(prob: Any, time: Any = 1.0) -> np.ndarray:
    """Constant rate giving probability `prob` (in [0, 1)) over `time`."""
    p = np.asarray(prob, dtype=float)
    if np.any((p < 0) | (p >= 1)):
        raise ProbabilityError(f"prob_to_rate: probability must be in [0, 1), got {p!r}")
    return np.asarray(-np.log1p(-p) / np.asarray(time, dtype=float))


def rescale_prob(prob: Any, time_from: Any, time_to: Any) -> np.ndarray:
    """Convert a probability over `time_from` into one over `time_to` (constant hazard)."""
    return rate_to_prob(prob_to_rate(prob, time_from), time_to)
