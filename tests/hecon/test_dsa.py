"""Deterministic sensitivity analysis on the Briggs HIV model (Exercise 2.5)."""

from __future__ import annotations

import pytest

from permedhub.hecon import dsa
from permedhub.hecon.markov import MarkovModel
from permedhub.hecon.spec import load_model


def _icer(frame) -> float:
    return (frame.loc["combination", "cost"] - frame.loc["monotherapy", "cost"]) / (
        frame.loc["combination", "ly"] - frame.loc["monotherapy", "ly"]
    )


def test_one_way_equals_rerunning_the_model_with_the_changed_value(hiv_model) -> None:
    model = MarkovModel(hiv_model)
    ow = dsa.one_way(model, {"rr": (0.365, 0.710), "c_lam": (1500, 2500)})
    assert len(ow) == 2 * 2 * 2
    doc = hiv_model.model_dump(by_alias=True)
    doc["parameters"]["c_lam"] = 2500
    rerun = MarkovModel(load_model(doc)).run().mean()
    row = ow[(ow.parameter == "c_lam") & (ow.bound == "high") & (ow.strategy == "combination")]
    assert float(row.cost.iloc[0]) == pytest.approx(rerun.loc["combination", "cost"], rel=1e-12)


def test_tornado_sorted_by_swing_and_base_value(hiv_model) -> None:
    model = MarkovModel(hiv_model)
    table, base = dsa.tornado(
        model,
        {"rr": (0.365, 0.710), "c_lam": (1500, 2500), "dmca": (1000, 2500)},
        intervention="combination",
        comparator="monotherapy",
        wtp=10_000,
    )
    assert list(table.swing) == sorted(table.swing, reverse=True)
    res = model.run().mean()
    assert base == pytest.approx(
        10_000 * (res.ly.combination - res.ly.monotherapy)
        - (res.cost.combination - res.cost.monotherapy)
    )


def test_value_based_price_makes_the_icer_equal_the_threshold(hiv_model) -> None:
    """Threshold analysis by Brent's method: at the returned lamivudine price the ICER of
    combination therapy equals the willingness to pay (GBP 6,276 at the list price of
    GBP 2,086.50, Briggs Ex. 2.5, so at WTP 8,000 the value-based price is higher)."""
    model = MarkovModel(hiv_model)
    price = dsa.threshold(model, "c_lam", (0, 10_000), "combination", "monotherapy", 8_000)
    assert price > 2_086.5
    doc = hiv_model.model_dump(by_alias=True)
    doc["parameters"]["c_lam"] = price
    assert _icer(MarkovModel(load_model(doc)).run().mean()) == pytest.approx(8_000, rel=1e-7)


def test_two_way_grid(hiv_model) -> None:
    model = MarkovModel(hiv_model)
    grid = dsa.two_way(model, ("rr", [0.4, 0.5, 0.6]), ("c_lam", [1000, 2000]), wtp=5_000)
    assert len(grid) == 3 * 2 * 2
    cell = grid[(grid.rr == 0.5) & (grid.c_lam == 2000) & (grid.strategy == "combination")]
    ow = dsa.one_way(model, {"rr": (0.5, 0.5)})
    assert float(cell.effect.iloc[0]) != pytest.approx(
        float(ow[ow.strategy == "monotherapy"].effect.iloc[0])
    )
    assert set(grid.columns) == {"rr", "c_lam", "strategy", "cost", "effect", "nmb"}


def test_dsa_unknown_parameter(hiv_model) -> None:
    with pytest.raises(ValueError, match="unknown parameters"):
        dsa.one_way(MarkovModel(hiv_model), {"nope": (0, 1)})


def test_sensitivity_ranges_are_read_by_one_function_for_cli_and_portal() -> None:
    from permedhub.hecon.dsa import parse_ranges
    from permedhub.hecon.errors import HeconError

    assert parse_ranges("rr=0.365:0.71, c_lam=1500:2500") == {
        "rr": (0.365, 0.71), "c_lam": (1500.0, 2500.0),
    }  # fmt: skip
    assert parse_ranges(["rr=0.4:0.7", "p=0:1"]) == {"rr": (0.4, 0.7), "p": (0.0, 1.0)}
    for bad, said in (
        ("rr", "expected name=low:high"),
        ("=1:2", "name is missing"),
        ("rr=a:b", "expected name=low:high"),
        ("rr=1:2; rr=2:3", "given twice"),
    ):
        with pytest.raises(HeconError, match=said):
            parse_ranges(bad)
