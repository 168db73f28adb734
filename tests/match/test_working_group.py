"""Working-group selection by MILP, on registers small enough to check by hand (and, for
random ones, against every possible group)."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from permedhub.match.errors import MatchInputError
from permedhub.match.working_group import GroupRequest, Infeasible, select_working_group


def register(*rows: tuple[str, str, str, list[str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["expert_id", "region", "sector", "topics"])


EXPERTS = register(
    ("ana", "europe", "academia", ["genomics", "health-economics"]),
    ("ben", "europe", "academia", ["genomics"]),
    ("chen", "china", "industry", ["genomics", "data"]),
    ("dara", "africa", "academia", []),
    ("eli", "celac", "government", ["health-economics"]),
    ("fay", "europe", "industry", ["data", "genomics", "health-economics"]),
)


def test_the_group_covers_the_topics_and_spreads_over_regions_and_sectors() -> None:
    group = select_working_group(
        EXPERTS, GroupRequest(size=3, topics=["genomics", "data", "health-economics"])
    )
    # One member per region and per sector is possible (penalty 1 + 1). Among such groups
    # that cover every topic, {ana, chen, eli} holds the most wanted topics (2 + 2 + 1 = 5);
    # the runner-up {fay, dara, eli} holds 3 + 0 + 1 = 4.
    assert sorted(group.members["expert_id"]) == ["ana", "chen", "eli"]
    assert (group.largest_region, group.largest_sector) == (1, 1)
    assert group.coverage.to_dict("records") == [
        {"topic": "genomics", "experts": 2, "needed": 1},
        {"topic": "data", "experts": 1, "needed": 1},
        {"topic": "health-economics", "experts": 2, "needed": 1},
    ]
    assert group.topic_matches == 5
    assert group.members.loc[group.members["expert_id"] == "ana", "matched"].item() == [
        "genomics", "health-economics"]  # fmt: skip


def test_balance_comes_before_depth_of_expertise() -> None:
    # fay alone holds all three topics, but with ana she makes Europe a group of 2; the model
    # prefers the even spread: largest region 1 is reachable, so it is chosen.
    group = select_working_group(EXPERTS, GroupRequest(size=2, topics=["genomics"]))
    assert group.largest_region == 1 and group.largest_sector == 1
    assert group.members["region"].nunique() == 2


def test_minimums_include_and_exclude_are_respected() -> None:
    request = GroupRequest(size=3, topics=["genomics"], cover=2, region_min={"europe": 2},
                           include=["eli"], exclude=["fay"])  # fmt: skip
    group = select_working_group(EXPERTS, request)
    members = set(group.members["expert_id"])
    assert "eli" in members and "fay" not in members
    assert (group.members["region"] == "europe").sum() == 2
    assert group.coverage.loc[0, "experts"] >= 2
    assert members == {"ana", "ben", "eli"}


@pytest.mark.parametrize(
    ("request_", "binding"),
    [
        (GroupRequest(size=7, topics=[]), ["size: 7 experts asked, 6 available"]),
        (GroupRequest(size=2, topics=["proteomics"]),
         ["topics: 'proteomics' is held by 0 available expert(s), 1 needed"]),
        (GroupRequest(size=2, topics=["health-economics"], cover=4),
         ["topics: 'health-economics' is held by 3 available expert(s), 4 needed"]),
        (GroupRequest(size=3, topics=[], region_min={"china": 2}),
         ["region_min: china needs 2, 1 available"]),
        (GroupRequest(size=2, topics=[], sector_min={"academia": 2, "industry": 1}),
         ["sector_min: the minimums add up to 3, more than the size 2"]),
        (GroupRequest(size=5, topics=[], max_per_region=1),
         ["max_per_region: 1 per region x 4 regions = 4 < size 5"]),
    ],
)  # fmt: skip
def test_an_impossible_request_names_what_binds(request_: GroupRequest, binding: list[str]) -> None:
    with pytest.raises(Infeasible) as caught:
        select_working_group(EXPERTS, request_)
    assert caught.value.binding == binding


def test_constraints_that_bind_only_together_are_found_by_dropping_each() -> None:
    # Each count is possible alone; but the only government expert (eli) holds no genomics,
    # and cover 2 for genomics with size 2 leaves no place for a government member.
    request = GroupRequest(size=2, topics=["genomics"], cover=2, sector_min={"government": 1})
    with pytest.raises(Infeasible) as caught:
        select_working_group(EXPERTS, request)
    assert caught.value.binding == [
        "topics: without it a group exists", "sector_min: without it a group exists"]  # fmt: skip
    assert "no working group meets every constraint" in str(caught.value)


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (GroupRequest(size=0, topics=[]), "size"),
        (GroupRequest(size=2, topics=[], cover=0), "cover"),
        (GroupRequest(size=2, topics=[], region_min={"europe": -1}), "region_min.europe"),
        (GroupRequest(size=2, topics=[], include=["zoe"]), "include"),
        (GroupRequest(size=2, topics=[], include=["ana"], exclude=["ana"]), "include"),
    ],
)
def test_bad_requests_name_the_field(request_: GroupRequest, field: str) -> None:
    with pytest.raises(MatchInputError) as caught:
        select_working_group(EXPERTS, request_)
    assert caught.value.field == field and "is invalid: expected" in str(caught.value)


def test_a_register_without_the_needed_columns_is_refused() -> None:
    with pytest.raises(MatchInputError, match="the columns \\['topics'\\] too"):
        select_working_group(EXPERTS.drop(columns="topics"), GroupRequest(size=1, topics=[]))
    with pytest.raises(MatchInputError, match="each expert once"):
        select_working_group(pd.concat([EXPERTS, EXPERTS.iloc[:1]]), GroupRequest(1, []))


def _best_by_enumeration(experts: pd.DataFrame, request: GroupRequest) -> tuple[int, int] | None:
    """(balance penalty, topic matches) of the best feasible group, by trying every group."""
    best = None
    wanted = set(request.topics)
    for combo in itertools.combinations(range(len(experts)), request.size):
        rows = experts.iloc[list(combo)]
        if any(sum(t in ts for ts in rows["topics"]) < request.cover for t in wanted):
            continue
        penalty = int(rows["region"].value_counts().max() + rows["sector"].value_counts().max())
        matches = sum(len(wanted & set(ts)) for ts in rows["topics"])
        key = (penalty, -matches)
        if best is None or key < best:
            best = key
    return None if best is None else (best[0], -best[1])


TOPICS = ["a", "b", "c", "d"]
expert_rows = st.tuples(
    st.sampled_from(["r1", "r2", "r3"]),
    st.sampled_from(["s1", "s2"]),
    st.lists(st.sampled_from(TOPICS), max_size=3, unique=True),
)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(expert_rows, min_size=1, max_size=8),
    size=st.integers(1, 4),
    topics=st.lists(st.sampled_from(TOPICS), max_size=3, unique=True),
)
def test_the_milp_finds_the_best_group_that_enumeration_finds(
    rows: list[tuple[str, str, list[str]]], size: int, topics: list[str]
) -> None:
    experts = register(*[(f"e{i}", *row) for i, row in enumerate(rows)])
    request = GroupRequest(size=size, topics=topics)
    best = _best_by_enumeration(experts, request) if size <= len(experts) else None
    if best is None:
        with pytest.raises(Infeasible):
            select_working_group(experts, request)
        return
    group = select_working_group(experts, request)
    assert len(group.members) == size
    assert (group.largest_region + group.largest_sector, group.topic_matches) == best
