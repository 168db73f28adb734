"""Score aggregation (the documented rule) and ranking with explicit tie-breaks."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from permedhub.calls.documents import load_call
from permedhub.calls.errors import CallInputError
from permedhub.calls.model import Call
from permedhub.calls.scores import aggregate, rank

EXAMPLES = Path(__file__).parents[2] / "src" / "permedhub" / "calls" / "examples"


@pytest.fixture(scope="module")
def call() -> Call:
    return load_call(EXAMPLES / "synthetic-call.yaml")


def _reviews(rows: list[tuple[str, str, float, float, float]]) -> pd.DataFrame:
    """(proposal, reviewer, excellence, impact, implementation) -> long REVIEW_COLUMNS."""
    return pd.DataFrame(
        [(p, r, c, s) for p, r, *scores in rows
         for c, s in zip(("excellence", "impact", "implementation"), scores, strict=True)],
        columns=["proposal_id", "reviewer", "criterion", "score"],
    )  # fmt: skip


REVIEWS = _reviews([
    ("syn-a", "r1", 5, 4, 3), ("syn-a", "r2", 4, 4, 4), ("syn-a", "r3", 3, 1, 5),
    ("syn-b", "r1", 2, 5, 5), ("syn-b", "r2", 3, 5, 5),
])  # fmt: skip


def test_mean_per_criterion_weighted_total_and_thresholds(call: Call) -> None:
    table = aggregate(call, REVIEWS).set_index("proposal_id")
    assert table.loc["syn-a", ["excellence", "impact", "implementation"]].tolist() == [4, 3, 4]
    assert table.loc["syn-a", "total"] == 11 and table.loc["syn-a", "passed"]
    # syn-b: excellence 2.5 is under its threshold 3, though the total 12.5 passes.
    assert table.loc["syn-b", "total"] == 12.5 and not table.loc["syn-b", "passed"]


def test_median_when_the_call_says_so(call: Call) -> None:
    evaluation = call.evaluation.model_copy(update={"aggregation": "median"})  # type: ignore[union-attr]
    table = aggregate(call.model_copy(update={"evaluation": evaluation}), REVIEWS)
    assert table.set_index("proposal_id").loc["syn-a", "impact"] == 4


def test_panel_adjustment_needs_a_reason_and_keeps_it(call: Call) -> None:
    adjust = pd.DataFrame([{"proposal_id": "syn-b", "criterion": "excellence", "score": 3.5,
                            "reason": "reviewer r1 misread the aims"}])  # fmt: skip
    table = aggregate(call, REVIEWS, adjust).set_index("proposal_id")
    assert table.loc["syn-b", "excellence"] == 3.5 and table.loc["syn-b", "passed"]
    assert table.loc["syn-b", "adjusted"] == "excellence set to 3.5: reviewer r1 misread the aims"
    with pytest.raises(CallInputError, match=r"adjustments\[0\]\.reason"):
        aggregate(call, REVIEWS, adjust.assign(reason=" "))


def test_scores_off_the_scale_or_for_unknown_criteria(call: Call) -> None:
    with pytest.raises(CallInputError, match=r"reviews\[1\]\.score = 7.*from 0 to 5"):
        aggregate(call, REVIEWS.assign(score=[4, 7, *REVIEWS["score"][2:]]))
    with pytest.raises(CallInputError, match=r"reviews\[0\]\.criterion = 'charm'"):
        aggregate(call, REVIEWS.assign(criterion=["charm", *REVIEWS["criterion"][1:]]))
    with pytest.raises(CallInputError, match=r"reviews = 'syn-b / r2'.*every criterion"):
        aggregate(call, REVIEWS.iloc[:-1])


def test_ties_are_broken_by_the_call_s_rules_then_by_id(call: Call) -> None:
    table = pd.DataFrame({
        "proposal_id": ["syn-d", "syn-c", "syn-b", "syn-a", "syn-e"],
        "total": [12.0, 12.0, 12.0, 12.0, 13.0],
        "excellence": [4.0, 4.5, 4.0, 4.0, 3.0],
        "requested_eur": [500.0, 900.0, 400.0, 500.0, 100.0],
    })  # fmt: skip
    ranked = rank(call, table)
    assert ranked["proposal_id"].tolist() == ["syn-e", "syn-c", "syn-b", "syn-a", "syn-d"]
    assert ranked["decided_by"].tolist() == [
        "",
        "total",
        "criterion:excellence",
        "lower_request",
        "proposal id",
    ]
    assert ranked["rank"].tolist() == [1, 2, 3, 4, 5]
