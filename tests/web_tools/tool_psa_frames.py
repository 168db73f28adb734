"""A PSA table the hecon tool-page tests upload (a module of its own: two test files use it)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def psa_frame(draws: int = 400, seed: int = 11) -> pd.DataFrame:
    """A two-strategy PSA where the new treatment's benefit depends on `p_response` only."""
    rng = np.random.default_rng(seed)
    p_response = rng.beta(20, 30, draws)
    c_drug = rng.gamma(25, 40, draws)
    return pd.DataFrame(
        {
            "cost_old": rng.normal(5_000, 300, draws),
            "effect_old": rng.normal(2.0, 0.05, draws),
            "cost_new": 5_000 + c_drug,
            "effect_new": 2.0 + 0.3 * (p_response - 0.35),
            "p_response": p_response,
            "c_drug": c_drug,
        }
    )
