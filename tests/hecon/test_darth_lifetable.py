"""Age-dependent mortality from the DARTH life table with DARTH's within-cycle correction.

Alarid-Escudero F, Krijkamp EM, Enns EA, et al. A tutorial on time-dependent cohort
state-transition models in R using a cost-effectiveness analysis example. Med Decis Making
2023;43(1):21-41: background mortality r_HD(age) from the US 2015 life table, p = 1 - exp(-r),
half-cycle (trapezoid) weights on trace points and discount factors (1 + d)^-(k L) on point k.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hecon_paths import SHARED

from permedhub.hecon.markov import MarkovModel
from permedhub.hecon.spec import load_model

LIFE_TABLE = SHARED / "darth_LifeTable_USA_Mx_2015.csv"


@pytest.fixture
def life_table() -> pd.DataFrame:
    if not LIFE_TABLE.is_file():
        pytest.skip(f"reference data {LIFE_TABLE} not available")
    return pd.read_csv(LIFE_TABLE)


def test_life_expectancy_from_csv_life_table_with_darth_conventions(life_table, tmp_path) -> None:
    age0, cycles, d = 25, 75, 0.03
    doc = {
        "name": "darth background mortality",
        "settings": {
            "cycles": cycles,
            "cycle_length": 1,
            "discount_costs": d,
            "discount_outcomes": d,
            "discount_method": "point",
            "counting": "half_cycle",
            "effect": "ly",
        },
        "states": [{"name": "H"}, {"name": "D", "dead": True}],
        "parameters": {
            "mx": {"file": str(LIFE_TABLE), "key": "Age", "column": "Total", "method": "step"},
            # the rate for the age at the start of cycle t (DARTH: ages 25..99)
            "p_HD": f"rate_to_prob(mx({age0} + model_time - 1))",
        },
        "strategies": {"soc": {}},
        "transitions": {"H": {"H": "C", "D": "p_HD"}},
        "initial": {"H": 1},
        "state_utilities": {"H": 1},
    }
    res = MarkovModel(load_model(doc)).run().mean().loc["soc"]
    # direct DARTH-style computation
    mx = life_table.set_index("Age")["Total"]
    p = 1 - np.exp(-mx.loc[age0 : age0 + cycles - 1].to_numpy())
    alive = np.concatenate([[1.0], np.cumprod(1 - p)])
    wcc = np.ones(cycles + 1)
    wcc[0] = wcc[-1] = 0.5
    disc = (1 + d) ** -np.arange(cycles + 1.0)
    assert res["ly"] == pytest.approx(float(np.sum(alive * wcc * disc)), rel=1e-12)
    assert res["ly_undiscounted"] == pytest.approx(float(np.sum(alive * wcc)), rel=1e-12)
    # sanity: US life expectancy at 25 (2015) is about 53 years; truncated at age 100 here
    assert 50 < res["ly_undiscounted"] < 56
