"""The readiness index against values computed by hand, its weights' rules and its
sensitivity; barriers by region type as tidy frames."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from pydantic import ValidationError

from permedhub.regions.analysis import (
    Weights,
    barriers_by,
    compare,
    one_at_a_time,
    parse_weights,
    rank_stability,
    readiness_index,
)
from permedhub.regions.survey import SCORES
from regions_support import HAND


def _responses() -> pd.DataFrame:
    frame = pd.DataFrame(HAND).rename(columns={"region": "region"})
    for name in SCORES:
        frame[name] = frame[name].astype(int)
    return frame


def _places() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "name": ["Toscana", "Galicia", "Sachsen"],
            "country": ["IT", "ES", "DE"],
            "ris_group": ["moderate-innovator", "moderate-innovator", "strong-innovator"],
            "density_class": ["intermediate", "low", None],
        },
        index=pd.Index(["IT-52", "ES-GA", "DE-SN"], name="code"),
    )


def test_equal_weights_give_the_hand_computed_index_and_ranks():
    table = readiness_index(_responses())
    assert table.loc["IT-52", "index"] == pytest.approx(75.0)
    assert table.loc["ES-GA", "index"] == pytest.approx(100 / 6)
    assert table.loc["DE-SN", "index"] == pytest.approx(500 / 6)
    assert list(table.index) == ["DE-SN", "IT-52", "ES-GA"]
    assert table["rank"].tolist() == [1, 2, 3]
    assert table.loc["IT-52", "answers"] == 2


def test_configured_weights_change_the_index_as_the_formula_says():
    # strategy weighs 3, the five others 1: sum 8.
    table = readiness_index(_responses(), Weights(weights={"readiness_strategy": 3}))
    assert table.loc["ES-GA", "index"] == pytest.approx(100 * 3 / 8)  # 37.5
    assert table.loc["DE-SN", "index"] == pytest.approx(100 * 5 / 8)  # 62.5
    assert table.loc["IT-52", "index"] == pytest.approx(75.0)
    assert list(table.index) == ["IT-52", "DE-SN", "ES-GA"]


def test_weights_are_divided_by_their_sum_so_only_their_ratios_matter():
    doubled = Weights(weights=dict.fromkeys(Weights().normalised(), 2.0))
    pd.testing.assert_frame_equal(
        readiness_index(_responses(), doubled), readiness_index(_responses())
    )
    assert math.isclose(sum(Weights(weights={"readiness_data": 7}).normalised().values()), 1.0)


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ({"readiness_strategy": -1}, "expected a finite number >= 0"),
        ({"readiness_strategy": float("nan")}, "expected a finite number >= 0"),
        ({"readiness_colour": 1}, "expected one of the readiness items"),
        (dict.fromkeys(Weights().normalised(), 0.0), "at least one positive weight"),
    ],
)
def test_bad_weights_are_refused_with_what_was_expected(weights, message):
    with pytest.raises(ValidationError, match=message):
        Weights(weights=weights)


def test_weights_parse_from_the_command_line_form():
    weights = parse_weights("strategy=3, readiness_data=0.5")
    assert weights.weights == {"readiness_strategy": 3.0, "readiness_data": 0.5}
    with pytest.raises(ValueError, match="expected name=value"):
        parse_weights("strategy")
    with pytest.raises(ValueError, match="is not a number"):
        parse_weights("strategy=high")


def test_one_at_a_time_reports_the_hand_computed_rank_change():
    table = one_at_a_time(_responses(), factors=(3.0,))
    strategy = table.set_index("item").loc["readiness_strategy"]
    # base ranks (IT-52, ES-GA, DE-SN) = (2, 3, 1); strategy x3 -> (1, 3, 2):
    # d = (1, 0, 1), rho = 1 - 6 * 2 / (3 * 8) = 0.5
    assert strategy["spearman"] == pytest.approx(0.5)
    assert strategy["max_rank_shift"] == 1
    assert not strategy["leader_kept"]
    assert strategy["weight"] == pytest.approx(3 / 8)
    others = table[table["item"] != "readiness_strategy"]
    assert (others["spearman"] == 1.0).all() and others["leader_kept"].all()


def test_rank_stability_is_seeded_and_keeps_a_rank_no_draw_can_change():
    first = rank_stability(_responses(), draws=500, seed=7)
    again = rank_stability(_responses(), draws=500, seed=7)
    pd.testing.assert_frame_equal(first, again)
    # ES-GA's index is w1 / sum(w) < 1/2 with every weight in [0.5, 1.5]: always last.
    assert first.loc["ES-GA"].tolist() == [3, 1.0, 3, 3]
    # DE-SN leads only while w2..w6 > 3 w1: some draws swap it with IT-52.
    assert 0 < first.loc["DE-SN", "kept_share"] < 1
    assert rank_stability(_responses(), spread=0.0, draws=10)["kept_share"].eq(1.0).all()


def test_barriers_by_innovation_group_is_a_tidy_frame_of_hand_computed_means():
    table = barriers_by(_responses(), _places(), "ris_group")
    assert list(table.columns) == [
        "grouping",
        "group",
        "barrier",
        "answers",
        "regions",
        "mean",
        "sd",
    ]
    funding = table.set_index(["group", "barrier"]).loc[("moderate-innovator", "barrier_funding")]
    # IT-52 answers 5 and 3, ES-GA answers 1: mean 3 over 3 answers from 2 regions.
    assert (funding["answers"], funding["regions"], funding["mean"]) == (3, 2, pytest.approx(3.0))
    strong = table.set_index(["group", "barrier"]).loc[("strong-innovator", "barrier_skills")]
    assert strong["mean"] == 5.0 and strong["answers"] == 1


def test_barriers_by_density_class_label_unknown_where_a_region_has_no_figures():
    table = barriers_by(_responses(), _places(), "density_class")
    assert set(table["group"]) == {"intermediate", "low", "unknown"}
    with pytest.raises(ValueError, match="expected one of"):
        barriers_by(_responses(), _places(), "colour")


def test_compare_puts_regions_side_by_side_and_names_regions_without_answers():
    table = compare(_responses(), _places(), ["ES-GA", "IT-52"])
    assert list(table.index) == ["ES-GA", "IT-52"]
    assert table.loc["IT-52", "score_readiness_strategy"] == pytest.approx(75.0)
    assert table.loc["ES-GA", "mean_barrier_funding"] == 1.0
    assert table.loc["ES-GA", "rank"] == 3  # rank among every region answered
    with pytest.raises(ValueError, match="PL-02: expected regions with survey answers"):
        compare(_responses(), _places(), ["PL-02"])


def test_the_report_barrier_axis_starts_at_zero_so_an_answer_of_one_shows():
    from permedhub.regions.report import barrier_figure

    table = compare(_responses(), _places())
    figure = barrier_figure(table, "ES-GA")  # every barrier answered 1
    assert tuple(figure.layout.xaxis.range) == (0, 5)
    assert list(figure.data[0].x) == [1.0] * 7
