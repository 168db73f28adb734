"""The funding decision and its what-ifs: exact on the example call, and against brute force
on small random instances (hypothesis)."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from permedhub.calls.decision import COMMON_POT, TOP_UP, allocate, decide, increases_for
from permedhub.calls.documents import load_call, load_proposals
from permedhub.calls.errors import CallInputError

EXAMPLES = Path(__file__).parents[2] / "src" / "permedhub" / "calls" / "examples"
MODES = ("virtual", "mixed", "real")


@pytest.fixture(scope="module")
def example():  # type: ignore[no-untyped-def]
    call = load_call(EXAMPLES / "synthetic-call.yaml")
    return call, load_proposals(EXAMPLES / "synthetic-proposals.yaml", call)


def test_virtual_pot_funds_down_the_ranking_and_skips_what_a_funder_cannot_pay(example) -> None:  # type: ignore[no-untyped-def]
    decision = decide(*example)
    # syn-p5 breaks rules; syn-p3 finds DE (50k left, asks 100k) and ES (150k left, asks
    # 200k) short; syn-p4 still fits; syn-p6 finds DE empty and FR with 50k for 100k.
    assert decision.funded == ["syn-p1", "syn-p2", "syn-p4"]
    assert decision.reserve == ["syn-p3", "syn-p6"]
    assert decision.not_ranked.to_dict("records") == [
        {"proposal_id": "syn-p5", "reason": "not eligible"}
    ]
    blocking = decision.blocking[
        ["proposal_id", "budget", "asked_eur", "left_eur", "shortfall_eur"]
    ]
    assert [tuple(r) for r in blocking.itertuples(index=False)] == [
        ("syn-p3", "syn-funder-de", 100_000.0, 50_000.0, 50_000.0),
        ("syn-p3", "syn-funder-es", 200_000.0, 150_000.0, 50_000.0),
        ("syn-p6", "syn-funder-de", 100_000.0, 0.0, 100_000.0),
        ("syn-p6", "syn-funder-fr", 100_000.0, 50_000.0, 50_000.0),
    ]
    commitments = decision.commitments.set_index("funder")
    assert commitments["committed_eur"].to_dict() == {
        "syn-funder-de": 600_000.0, "syn-funder-fr": 450_000.0,
        "syn-funder-es": 150_000.0, "syn-funder-it": 250_000.0,
    }  # fmt: skip
    assert (commitments["committed_eur"] <= commitments["budget_eur"]).all()


def test_budget_increase_for_the_next_reserve_proposals(example) -> None:  # type: ignore[no-untyped-def]
    decision = decide(*example, next_k=2)
    increases = decision.budget_increases
    first = increases[increases["k"] == 1].set_index("budget")["increase_eur"].to_dict()
    # Funding syn-p3 too: DE needs 700k of 600k, ES 350k of 300k; or a 150k top-up alone.
    assert first == {"syn-funder-de": 100_000.0, "syn-funder-es": 50_000.0, TOP_UP: 150_000.0}
    second = increases[increases["k"] == 2].set_index("budget")["increase_eur"].to_dict()
    assert second == {
        "syn-funder-de": 200_000.0, "syn-funder-fr": 50_000.0, "syn-funder-es": 50_000.0,
        "syn-funder-it": 100_000.0, TOP_UP: 400_000.0,
    }  # fmt: skip
    assert decision.next_k["rerun_funds_all"].tolist() == [True, True]
    assert decision.next_k["pot_increase_alone_eur"].tolist() == [150_000.0, 400_000.0]
    assert decision.next_k["pot"].tolist() == [TOP_UP, TOP_UP]


def test_a_top_up_pot_funds_the_best_reserve_proposal_first(example) -> None:  # type: ignore[no-untyped-def]
    decision = decide(*example, top_up_eur=100_000)
    assert decision.mode == "mixed"
    # syn-p3's 100k shortfall is paid by the top-up, then syn-p4 finds DE empty.
    assert decision.funded == ["syn-p1", "syn-p2", "syn-p3"]
    spending = decision.top_up_spending.set_index("funder")["top_up_eur"].to_dict()
    assert spending == {"syn-funder-de": 50_000.0, "syn-funder-es": 50_000.0}
    assert decision.top_up_spending["proposal_id"].unique().tolist() == ["syn-p3"]


def test_real_common_pot_pools_the_budgets(example) -> None:  # type: ignore[no-untyped-def]
    call, proposals = example
    real = call.model_copy(update={"funding": call.funding.model_copy(update={"mode": "real"})})
    decision = decide(real, proposals)
    # 1.8 M EUR in one pot: 600k + 650k + 450k = 1.7 M, then 200k does not fit, 300k neither.
    assert decision.funded == ["syn-p1", "syn-p2", "syn-p3"]
    assert decision.blocking["budget"].tolist() == [COMMON_POT, COMMON_POT]
    assert decision.blocking["left_eur"].tolist() == [100_000.0, 100_000.0]


def test_bad_top_up_is_refused_naming_it(example) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CallInputError, match="top_up_eur = -1"):
        decide(*example, top_up_eur=-1)
    with pytest.raises(CallInputError, match=r"top_up_eur = 0\.001"):
        decide(*example, top_up_eur=0.001)


# ---------------------------------------------------------------- brute force


def _fits(demand: np.ndarray, budgets: np.ndarray, top_up: int, mode: str) -> bool:
    """Can the budgets pay every proposal whose rows `demand` holds, all together?"""
    total = demand.sum(axis=0)
    if mode == "virtual":
        return bool((total <= budgets).all())
    if mode == "mixed":
        return int(np.maximum(total - budgets, 0).sum()) <= top_up
    return int(total.sum()) <= int(budgets.sum()) + top_up


def _lexicographic_optimum(demand, budgets, top_up, mode) -> tuple[bool, ...]:  # type: ignore[no-untyped-def]
    n = len(demand)
    feasible = (
        chosen for chosen in itertools.product((True, False), repeat=n)
        if _fits(demand[list(chosen)], budgets, top_up, mode)
    )  # fmt: skip
    return max(feasible)  # tuples of bools in ranking order compare lexicographically


instances = st.integers(1, 7).flatmap(
    lambda n: st.integers(1, 3).flatmap(
        lambda m: st.tuples(
            st.lists(st.lists(st.integers(0, 6), min_size=m, max_size=m), min_size=n, max_size=n),
            st.lists(st.integers(0, 12), min_size=m, max_size=m),
            st.integers(0, 8),
            st.sampled_from(MODES),
        )
    )
)
FAST = settings(max_examples=80, deadline=None)


@FAST
@given(instances)
def test_the_procedure_is_the_lexicographic_optimum_and_never_overspends(case) -> None:  # type: ignore[no-untyped-def]
    rows, budget_list, top_up, mode = case
    demand, budgets = np.array(rows, dtype=np.int64), np.array(budget_list, dtype=np.int64)
    result = allocate(demand, budgets, top_up, mode)
    assert tuple(result.funded) == _lexicographic_optimum(demand, budgets, top_up, mode)
    if mode != "real":
        assert (result.national.sum(axis=0) <= budgets).all()
        assert result.top_up.sum() <= (top_up if mode == "mixed" else 0)
        paid = result.national + result.top_up
        assert (paid == demand * result.funded[:, None]).all()
    else:
        assert result.top_up.sum() <= budgets.sum() + top_up
    # No proposal is skipped that fits beside the better-ranked proposals funded.
    for i in np.flatnonzero(~result.funded):
        above = np.append(result.funded[:i], True)
        assert not _fits(demand[: i + 1][above], budgets, top_up, mode)


@FAST
@given(instances)
def test_blocking_shortfalls_equal_brute_force(case) -> None:  # type: ignore[no-untyped-def]
    rows, budget_list, top_up, mode = case
    demand, budgets = np.array(rows, dtype=np.int64), np.array(budget_list, dtype=np.int64)
    result = allocate(demand, budgets, top_up, mode)
    best = np.array(_lexicographic_optimum(demand, budgets, top_up, mode))
    for i in np.flatnonzero(~best):
        with_it = demand[: i + 1][np.append(best[:i], True)].sum(axis=0)
        over = np.maximum(with_it - budgets, 0)
        if mode == "real":
            assert result.pot_short[i] == with_it.sum() - budgets.sum() - top_up
            continue
        assert (result.shortfall[i] == np.minimum(demand[i], over)).all()
        pot = top_up if mode == "mixed" else 0
        assert result.pot_short[i] == max(0, int(over.sum()) - pot)


@settings(max_examples=40, deadline=None)
@given(instances, st.integers(1, 3))
def test_budget_increases_equal_brute_force(case, k) -> None:  # type: ignore[no-untyped-def]
    rows, budget_list, top_up, mode = case
    demand, budgets = np.array(rows, dtype=np.int64), np.array(budget_list, dtype=np.int64)
    funded = np.array(_lexicographic_optimum(demand, budgets, top_up, mode))
    skipped = np.flatnonzero(~funded)[:k]
    if not len(skipped):
        return
    chosen = funded.copy()
    chosen[skipped] = True
    per_funder, pot = increases_for(demand, budgets, chosen, top_up, mode)
    if mode != "real":
        # Every increase vector on a grid (0 .. demand + 1 per funder) with which national
        # money alone pays all chosen proposals: the answer is among them, below each of them.
        need = demand[chosen].sum(axis=0)
        grid = np.array(list(itertools.product(*(range(int(n) + 2) for n in need))))
        paying = grid[(need <= budgets + grid).all(axis=1)]
        assert any((row == per_funder).all() for row in paying)
        assert (paying >= per_funder).all()
        # And re-running the procedure with them funds the k reserve proposals.
        rerun = allocate(demand, budgets + per_funder, top_up, mode)
        assert rerun.funded[skipped].all()
    # The pot increase alone (national budgets unchanged) is the smallest that pays them all.
    smallest = next(
        extra for extra in range(int(demand.sum()) + 1)
        if _fits(demand[chosen], budgets, top_up + extra if mode != "virtual" else extra,
                 "real" if mode == "real" else "mixed")
    )  # fmt: skip
    assert pot == smallest


def test_negative_amounts_are_refused() -> None:
    with pytest.raises(CallInputError, match="amounts"):
        allocate(np.array([[1, -1]]), np.array([3, 3]))
