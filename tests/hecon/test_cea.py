"""The incremental table, net benefit, CEAC/CEAF, expected loss and CE plane.

Reference values:
- dampack ``tests/testthat/test_calculate_icers.R`` (the VA HERC example: six strategies, one
  extended-dominated and one dominated) and its three-strategy tie case.
- dampack ``vignettes/cdiff_icers.csv``: the ICER table of ``psa_cdiff`` (C. difficile
  strategies, Rajasingham et al. 2020) published with the dampack ``basic_cea`` vignette.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from permedhub.hecon.cea import (
    AnalysisInputError,
    calculate_icers,
    ce_plane,
    ceac,
    ceaf,
    efficiency_frontier,
    expected_loss,
    icers_from_psa,
    net_benefit_table,
    psa_from_tidy_frame,
    psa_from_wide_frame,
    psa_sample,
)

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "hecon"


def _cdiff() -> pd.DataFrame:
    path = SHARED / "dampack_psa_cdiff.csv"
    if not path.exists():
        pytest.skip("reference data ../shared/hecon/dampack_psa_cdiff.csv not available")
    return pd.read_csv(path)


def test_herc_example_matches_dampack_expected_table() -> None:
    # dampack test_calculate_icers.R, "calculate_icers returns correct object".
    table = calculate_icers(
        cost=[55000, 35000, 25000, 10000, 12000, 5000],
        effect=[5, 4, 3, 2, 1.5, 1],
        strategies=["E", "D", "C", "B", "A", "UC"],
    )
    assert table["strategy"].tolist() == ["UC", "B", "D", "E", "C", "A"]
    assert table["status"].tolist() == ["ND", "ND", "ND", "ND", "ED", "D"]
    np.testing.assert_allclose(table["icer"], [np.nan, 5000, 12500, 20000, np.nan, np.nan])
    np.testing.assert_allclose(table["inc_cost"], [np.nan, 5000, 25000, 20000, np.nan, np.nan])
    np.testing.assert_allclose(table["inc_effect"], [np.nan, 1, 2, 1, np.nan, np.nan])
    assert efficiency_frontier(table) == ["UC", "B", "D", "E"]


def test_equal_effect_tie_the_cheaper_strategy_is_the_reference() -> None:
    # dampack test_calculate_icers.R, "default reference strategy".
    table = calculate_icers(
        cost=[163771.0, 164848.7, 163765.1],
        effect=[6.48273, 6.52861, 6.52861],
        strategies=["No Treat", "Treat all", "Test & treat"],
    )
    assert table["strategy"].iloc[0] == "Test & treat"
    assert table.set_index("strategy")["status"].to_dict() == {
        "Test & treat": "ND",
        "No Treat": "D",
        "Treat all": "D",
    }


def test_identical_strategies_the_first_listed_stays_non_dominated() -> None:
    table = calculate_icers([100.0, 100.0, 200.0], [1.0, 1.0, 2.0], ["a", "b", "c"])
    assert table.set_index("strategy")["status"].to_dict() == {"a": "ND", "b": "D", "c": "ND"}


def test_extended_dominance_is_repeated_until_the_frontier_is_convex() -> None:
    # ICERs along the non-dominated chain are 10, 30, 20, 15: c (30 > 20) and d (20 > 15) are
    # marked in the same pass, as in dampack; e is then compared with b.
    table = calculate_icers(
        [0.0, 10.0, 40.0, 60.0, 75.0], [0.0, 1.0, 2.0, 3.0, 4.0], ["a", "b", "c", "d", "e"]
    )
    status = table.set_index("strategy")["status"].to_dict()
    assert status == {"a": "ND", "b": "ND", "c": "ED", "d": "ED", "e": "ND"}
    icer_e = table.set_index("strategy").loc["e", "icer"]
    assert icer_e == pytest.approx((75.0 - 10.0) / (4.0 - 1.0))


def test_single_strategy_has_no_increments() -> None:
    table = calculate_icers([1.0], [2.0], ["s"])
    assert table["status"].tolist() == ["ND"]
    assert table[["inc_cost", "inc_effect", "icer"]].isna().all().all()


def test_cdiff_icers_reproduce_the_dampack_vignette_table() -> None:
    psa = psa_from_wide_frame(_cdiff(), cost_prefix="cost_", effect_prefix="eff_")
    table = icers_from_psa(psa)
    # dampack vignettes/cdiff_icers.csv (rows in the published order).
    published = pd.DataFrame(
        {
            "strategy": ["s3", "s27", "s33", "s31", "s43", "s44", "s39", "s4", "s13", "s37", "s20"],
            "icer": [
                np.nan,
                2769.85470915263,
                4065.03105249231,
                5056.2216470406,
                8504.2160616553,
                38362.6519947134,
            ]
            + [np.nan] * 5,
            "status": ["ND"] * 6 + ["ED"] + ["D"] * 4,
        }
    )
    assert table["strategy"].tolist() == published["strategy"].tolist()
    assert table["status"].tolist() == published["status"].tolist()
    np.testing.assert_allclose(table["icer"], published["icer"], rtol=1e-10)
    assert table["cost"].iloc[0] == pytest.approx(57336.0059896538, rel=1e-12)
    assert table["effect"].iloc[0] == pytest.approx(12.9399639202408, rel=1e-12)


def test_cdiff_expected_loss_minimum_is_the_evpi_and_marks_the_frontier() -> None:
    # dampack test_evpi.R computes EVPI as the minimum over strategies of the expected loss.
    psa = psa_from_wide_frame(_cdiff(), cost_prefix="cost_", effect_prefix="eff_")
    wtp = np.array([0.0, 10_000.0, 50_000.0, 100_000.0])
    loss = expected_loss(psa, wtp)
    for threshold in wtp:
        nmb = threshold * psa.effects - psa.costs
        evpi = nmb.max(axis=1).mean() - nmb.mean(axis=0).max()
        rows = loss[loss["wtp"] == threshold]
        assert rows["expected_loss"].min() == pytest.approx(evpi, rel=1e-9)
        assert (
            rows.loc[rows["on_frontier"], "strategy"].item()
            == psa.strategies[int(nmb.mean(axis=0).argmax())]
        )


def test_ceac_probabilities_sum_to_one_and_match_a_direct_count() -> None:
    psa = psa_from_wide_frame(_cdiff(), cost_prefix="cost_", effect_prefix="eff_")
    wtp = np.linspace(0, 100_000, 101)
    curves = ceac(psa, wtp)
    sums = curves.groupby("wtp")["probability"].sum()
    np.testing.assert_allclose(sums.to_numpy(), 1.0)
    nmb = 50_000 * psa.effects - psa.costs
    direct = np.bincount(nmb.argmax(axis=1), minlength=psa.n_strategies) / psa.n_draws
    at_50k = curves[curves["wtp"] == 50_000].set_index("strategy")["probability"]
    np.testing.assert_allclose(at_50k[list(psa.strategies)].to_numpy(), direct)
    frontier = ceaf(psa, wtp)
    assert (frontier["probability"] <= 1.0).all()
    assert frontier.loc[frontier["wtp"] == 0, "strategy"].item() == "s3"  # cheapest on average
    assert frontier.loc[frontier["wtp"] == 100_000, "strategy"].item() == "s44"


def test_grid_results_do_not_depend_on_chunking() -> None:
    rng = np.random.default_rng(1)
    psa = psa_sample(rng.normal(1000, 100, (5000, 3)), rng.normal(1, 0.1, (5000, 3)))
    wtp = np.linspace(0, 20_000, 300)  # 300 × 5000 × 3 cells spans several chunks
    whole = ceac(psa, wtp)
    single = pd.concat([ceac(psa, [w]) for w in wtp[[0, 150, 299]]])
    merged = whole.merge(single, on=["wtp", "strategy"], suffixes=("", "_one"))
    np.testing.assert_allclose(merged["probability"], merged["probability_one"])


def test_net_benefit_table() -> None:
    table = net_benefit_table([1000.0, 3000.0], [1.0, 1.2], ["a", "b"], wtp=20_000)
    np.testing.assert_allclose(table["nmb"], [19_000.0, 21_000.0])
    np.testing.assert_allclose(table["nhb"], [0.95, 1.05])
    assert table["optimal"].tolist() == [False, True]
    with pytest.raises(AnalysisInputError, match="wtp"):
        net_benefit_table([1.0], [1.0], ["a"], wtp=0)


def test_ce_plane_is_incremental_versus_the_comparator() -> None:
    psa = psa_sample(
        [[1.0, 3.0, 4.0], [2.0, 5.0, 1.0]],
        [[0.1, 0.3, 0.2], [0.2, 0.1, 0.4]],
        ["soc", "new", "alt"],
    )
    plane = ce_plane(psa, comparator="soc")
    assert plane["strategy"].tolist() == ["new", "alt", "new", "alt"]
    np.testing.assert_allclose(plane["inc_cost"], [2.0, 3.0, 3.0, -1.0])
    np.testing.assert_allclose(plane["inc_effect"], [0.2, 0.1, -0.1, 0.2])
    with pytest.raises(AnalysisInputError, match="comparator: unknown strategy 'x'"):
        ce_plane(psa, comparator="x")


def test_tidy_and_wide_frames_give_the_same_sample() -> None:
    wide = pd.DataFrame(
        {"cost_a": [1.0, 2.0], "cost_b": [3.0, 4.0], "effect_a": [0.1, 0.2], "effect_b": [0.3, 0.4]}
    )
    tidy = pd.DataFrame(
        {
            "draw": [0, 0, 1, 1],
            "strategy": ["a", "b", "a", "b"],
            "cost": [1.0, 3.0, 2.0, 4.0],
            "effect": [0.1, 0.3, 0.2, 0.4],
        }
    )
    from_wide = psa_from_wide_frame(wide)
    from_tidy = psa_from_tidy_frame(tidy)
    assert from_wide.strategies == from_tidy.strategies == ("a", "b")
    np.testing.assert_array_equal(from_wide.costs, from_tidy.costs)
    np.testing.assert_array_equal(from_wide.effects, from_tidy.effects)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: calculate_icers([1.0, 2.0], [1.0], ["a", "b"]), "effect: expected 2 values"),
        (lambda: calculate_icers([1.0, np.nan], [1.0, 2.0], ["a", "b"]), "cost: expected finite"),
        (lambda: calculate_icers([1.0, 2.0], [1.0, 2.0], ["a", "a"]), "'a' repeats"),
        (lambda: calculate_icers([1.0, 2.0], [1.0, 2.0], ["a"]), "strategies: expected 2"),
        (lambda: psa_sample(np.ones((3, 2)), np.ones((3, 3))), "effects: expected the same"),
        (lambda: psa_sample(np.ones((3, 2, 1)), np.ones((3, 2))), "costs: expected a 2-D"),
        (lambda: psa_sample([[1.0, np.inf]], [[1.0, 1.0]]), "draw 0, strategy column 1"),
        (lambda: ceac(psa_sample([[1.0, 2.0]], [[1.0, 1.0]]), [-1.0]), "wtp: expected .*>= 0"),
        (lambda: ceac(psa_sample([[1.0, 2.0]], [[1.0, 1.0]]), []), "wtp: expected at least"),
        (lambda: ceac(psa_sample([[1.0, 2.0]], [[1.0, 1.0]]), ["x"]), "wtp: expected a number"),
        (lambda: psa_from_wide_frame(pd.DataFrame({"x": [1.0]})), "cost_<strategy>"),
        (lambda: psa_from_wide_frame(pd.DataFrame({"cost_a": [1.0]})), "missing effect"),
        (
            lambda: psa_from_wide_frame(pd.DataFrame({"cost_a": ["1", "zz"], "effect_a": [1, 2]})),
            "column 'cost_a': expected a finite number at row 1, got 'zz'",
        ),
    ],
)
def test_bad_input_names_the_field(call: object, message: str) -> None:
    with pytest.raises(AnalysisInputError, match=message):
        call()  # type: ignore[operator]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50)), min_size=1, max_size=8, unique=True)
)
def test_frontier_is_the_lower_right_convex_hull(points: list[tuple[int, int]]) -> None:
    """Every ND strategy is undominated and ICERs rise along the frontier; every other
    strategy is beaten by the frontier at some mix (its NMB is below the frontier's at every
    threshold that makes it better than its neighbours)."""
    cost = np.array([p[0] for p in points], dtype=float)
    effect = np.array([p[1] for p in points], dtype=float)
    names = [f"s{i}" for i in range(len(points))]
    table = calculate_icers(cost, effect, names)
    frontier = table[table["status"] == "ND"]
    assert np.all(np.diff(frontier["cost"]) > 0)
    assert np.all(np.diff(frontier["effect"]) > 0)
    icers = frontier["icer"].to_numpy()[1:]
    assert np.all(np.diff(icers) >= 0)
    # No strategy off the frontier maximises NMB uniquely at any threshold.
    for wtp in np.linspace(0, 100, 41):
        nmb = wtp * effect - cost
        best = set(np.array(names)[nmb == nmb.max()])
        assert best & set(frontier["strategy"])


def test_one_reading_of_a_wide_psa_layout_for_library_cli_and_portal() -> None:
    from permedhub.hecon.cea import AnalysisInputError, wide_psa_layout

    layout = wide_psa_layout(["p_x", "cost_a", "effect_a", "cost_b", "effect_b", "rr"])
    assert layout.strategies == ["a", "b"] and layout.parameters == ["p_x", "rr"]
    assert layout.cost_columns == ["cost_a", "cost_b"]
    for columns, said in (
        (["cost_a", "effect_a"], "at least 2 strategies"),
        (["cost_a", "cost_b", "effect_a"], "missing effect for b"),
        (["cost_a", "effect_a", "cost_b", "effect_b", "effect_c"], "no matching 'cost_'"),
    ):
        with pytest.raises(AnalysisInputError, match=said):
            wide_psa_layout(columns, min_strategies=2)
