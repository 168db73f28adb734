"""Review assignment: conflicts of interest never violated, coverage, load balance, expertise
match, and the reason a proposal cannot be covered."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from permedhub.calls.assignment import assign, conflicts
from permedhub.calls.model import ProposalSet, ReviewerPool

COUNTRIES = ["DE", "FR", "IT", "ES", "NL", "PL"]


def _proposal(pid: str, partners: list[tuple[str, str]], topics: list[str]) -> dict:  # type: ignore[type-arg]
    return {
        "id": pid, "topics": topics,
        "partners": [{"organisation": o, "country": c, "kind": "university",
                      "funder": "syn-f", "requested_eur": 1} for o, c in partners],
    }  # fmt: skip


def _reviewer(rid: str, org: str, country: str, expertise: list[str], **extra: object) -> dict:  # type: ignore[type-arg]
    return {"id": rid, "organisation": org, "country": country, "expertise": expertise, **extra}


def test_conflicts_of_each_kind_are_found_and_avoided() -> None:
    proposals = ProposalSet.model_validate({"proposals": [
        _proposal("syn-p1", [("syn-o1", "DE"), ("syn-o2", "FR")], ["genomics"]),
        _proposal("syn-p2", [("syn-o3", "IT"), ("syn-o4", "ES")], ["imaging"]),
    ]})  # fmt: skip
    pool = ReviewerPool.model_validate({"reviewers": [
        _reviewer("r-org", "syn-o1", "NL", ["genomics"]),  # same organisation as syn-p1
        _reviewer("r-country", "syn-o9", "FR", ["genomics"]),  # same country as syn-p1
        _reviewer("r-declared", "syn-o8", "PL", ["genomics"], conflicts=["syn-p1"]),
        _reviewer("r-declared-org", "syn-o7", "PL", ["imaging"], conflicts=["syn-o4"]),
        _reviewer("r-free-1", "syn-o5", "NL", ["genomics", "imaging"]),
        _reviewer("r-free-2", "syn-o6", "PL", ["imaging"]),
    ]})  # fmt: skip
    found = conflicts(proposals, pool)
    assert found.organisation[0].tolist() == [True, False, False, False, False, False]
    assert found.country[0].tolist() == [False, True, False, False, False, False]
    assert found.declared.tolist() == [[False, False, True, False, False, False],
                                       [False, False, False, True, False, False]]  # fmt: skip
    result = assign(proposals, pool, per_proposal=2)
    pairs = set(result.assignments[["proposal_id", "reviewer"]].itertuples(index=False, name=None))
    first = {r for p, r in pairs if p == "syn-p1"}
    second = {r for p, r in pairs if p == "syn-p2"}
    assert not first & {"r-org", "r-country", "r-declared"} and "r-declared-org" not in second
    # The only genomics expert without a conflict reviews the genomics proposal; 4 slots
    # over 6 reviewers: nobody reviews twice.
    assert "r-free-1" in first and len(first) == len(second) == 2
    assert result.loads["assigned"].max() == 1 and result.uncovered.empty


def test_a_proposal_that_cannot_be_covered_says_why() -> None:
    proposals = ProposalSet.model_validate({"proposals": [
        _proposal("syn-p1", [("syn-o1", "DE"), ("syn-o2", "FR")], []),
        _proposal("syn-p2", [("syn-o3", "IT")], []),
        _proposal("syn-p3", [("syn-o4", "IT")], []),
    ]})  # fmt: skip
    pool = ReviewerPool.model_validate({"reviewers": [
        _reviewer("r1", "syn-x1", "DE", []), _reviewer("r2", "syn-x2", "FR", []),
        _reviewer("r3", "syn-x3", "ES", [], max_load=1),
        _reviewer("r4", "syn-x4", "NL", [], max_load=1),
    ]})  # fmt: skip
    result = assign(proposals, pool, per_proposal=3)
    uncovered = result.uncovered.set_index("proposal_id")
    # syn-p1 can only have r3 and r4 (r1 and r2 share its countries).
    assert uncovered.loc["syn-p1", "reason"].startswith("only 2 of 4 reviewers have no conflict")
    assert "0 share an organisation, 2 a country" in uncovered.loc["syn-p1", "reason"]
    # 9 slots, but r1 and r2 can review 2 proposals each (syn-p2, syn-p3) and r3, r4 one.
    assert len(result.assignments) == 6
    others = uncovered.drop(index="syn-p1")
    assert len(others) >= 1 and others["reason"].str.contains("max_load").all()
    assert result.loads.set_index("reviewer").loc[["r3", "r4"], "assigned"].tolist() == [1, 1]


def test_the_largest_load_is_as_small_as_possible_and_expertise_counts() -> None:
    proposals = ProposalSet.model_validate({"proposals": [
        _proposal(f"syn-p{i}", [(f"syn-o{i}", "DE")], ["genomics" if i % 2 else "imaging"])
        for i in range(6)
    ]})  # fmt: skip
    pool = ReviewerPool.model_validate({"reviewers": [
        _reviewer(f"r{j}", f"syn-x{j}", "FR", ["genomics" if j < 2 else "imaging"])
        for j in range(4)
    ]})  # fmt: skip
    result = assign(proposals, pool, per_proposal=2)
    assert result.loads["assigned"].max() == 3  # 12 slots over 4 reviewers
    assert result.assignments["match"].sum() == 12  # everyone on their own topic


assignment_instances = st.tuples(
    st.lists(st.lists(st.tuples(st.integers(0, 5), st.sampled_from(COUNTRIES)),
                      min_size=1, max_size=3), min_size=1, max_size=8),
    st.lists(st.tuples(st.integers(0, 5), st.sampled_from(COUNTRIES),
                       st.lists(st.integers(0, 7), max_size=2)), min_size=1, max_size=8),
    st.integers(1, 3),
)  # fmt: skip


@settings(max_examples=25, deadline=None)
@given(assignment_instances)
def test_an_assignment_never_violates_a_conflict_of_interest(case) -> None:  # type: ignore[no-untyped-def]
    partner_lists, reviewers, k = case
    proposals = ProposalSet.model_validate({"proposals": [
        _proposal(f"syn-p{i}", [(f"syn-o{o}", c) for o, c in partners], [])
        for i, partners in enumerate(partner_lists)
    ]})  # fmt: skip
    pool = ReviewerPool.model_validate({"reviewers": [
        _reviewer(f"r{j}", f"syn-o{o}", c, [], conflicts=[f"syn-p{d}" for d in declared])
        for j, (o, c, declared) in enumerate(reviewers)
    ]})  # fmt: skip
    result = assign(proposals, pool, per_proposal=k)
    for row in result.assignments.itertuples(index=False):
        proposal = next(p for p in proposals.proposals if p.id == row.proposal_id)
        reviewer = next(r for r in pool.reviewers if r.id == row.reviewer)
        assert reviewer.organisation not in {p.organisation for p in proposal.partners}
        assert reviewer.country not in {p.country for p in proposal.partners}
        assert proposal.id not in reviewer.conflicts
    # Without load limits every proposal gets min(K, its conflict-free reviewers).
    free = (~conflicts(proposals, pool).any).sum(axis=1)
    got = result.assignments.groupby("proposal_id").size()
    got = got.reindex([p.id for p in proposals.proposals], fill_value=0).to_numpy()
    assert (got == np.minimum(free, k)).all()
    assert set(result.uncovered["proposal_id"]) == {
        p.id for p, f in zip(proposals.proposals, free, strict=True) if f < k
    }
    if (free >= k).all():
        assert result.loads["assigned"].max() >= math.ceil(len(partner_lists) * k / len(reviewers))
