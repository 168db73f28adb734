"""FlowSum: the entry-to-state sums of a cycle equal the 0/1 incidence product they replace."""

from __future__ import annotations

import numpy as np
import pytest

from permedhub.hecon.markov_flows import FlowSum, origin_runs


def _incidence_sum(destinations: np.ndarray, n_states: int, flows: np.ndarray) -> np.ndarray:
    incidence = np.zeros((n_states, len(destinations)))
    incidence[destinations, np.arange(len(destinations))] = 1.0
    return incidence @ flows


@pytest.mark.parametrize(
    "destinations, n_states",
    [
        # progressive stages: stay (C), die, progress per stage; dead absorbing first (constant)
        ([3, 0, 3, 1, 1, 3, 2, 2, 3], 4),
        # a state nobody enters (0), a state with four entries in (2), backwards moves
        ([2, 1, 2, 2, 1, 3, 2], 4),
        # one entry per state, in reverse order
        ([2, 1, 0], 3),
    ],
)
def test_flow_sum_equals_incidence_product(destinations: list[int], n_states: int) -> None:
    dest = np.asarray(destinations)
    rng = np.random.default_rng(5)
    cycles, draws = 3, 7
    out = np.full((cycles, n_states, draws), np.nan)  # every state must be written
    flows = np.empty((len(dest), draws))
    summed = FlowSum(dest, n_states).bind(flows, out)
    for t in range(cycles):
        flows[...] = rng.random(flows.shape)
        summed(t)
        np.testing.assert_allclose(out[t], _incidence_sum(dest, n_states, flows), rtol=1e-15)


def test_flow_sum_of_one_or_two_entries_is_rounded_as_the_product() -> None:
    dest = np.array([0, 1, 1, 0])
    flows = np.random.default_rng(1).random((4, 50))
    out = np.empty((1, 2, 50))
    FlowSum(dest, 2).bind(flows, out)(0)
    assert np.array_equal(out[0], _incidence_sum(dest, 2, flows))


def test_copies_written_by_the_caller_are_skipped() -> None:
    """A run of entries copied whole into states (every stage's 'stay', ordered by rank) may be
    written there by the caller: bound with it as `written`, the sums leave those states'
    first entries to the caller and still equal the product."""
    dest = np.array([3, 0, 1, 2, 1, 2, 3, 3, 3])  # dead stay; stays 0-2; progress; deaths
    summed = FlowSum(dest, 4)
    copies = summed.copies()
    assert copies == {(1, 4, 1): slice(0, 3)}  # the stays, rows 1-3 -> states 0-2
    flows = np.random.default_rng(2).random((len(dest), 6))
    out = np.full((1, 4, 6), np.nan)
    out[0, 0:3] = flows[1:4]  # the caller's direct write
    flows_seen = flows.copy()
    flows[1:4] = np.nan  # not read any more
    summed.bind(flows, out, frozenset(copies))(0)
    np.testing.assert_allclose(out[0], _incidence_sum(dest, 4, flows_seen), rtol=1e-15)


def test_origin_runs_are_slices_of_the_cohort() -> None:
    origins = np.array([9, 0, 1, 2, 0, 1, 2, 0, 2, 4])
    runs = origin_runs(origins)
    assert runs == [
        (slice(0, 1, 1), slice(9, 10, 1)),
        (slice(1, 4, 1), slice(0, 3, 1)),
        (slice(4, 7, 1), slice(0, 3, 1)),
        (slice(7, 10, 1), slice(0, 5, 2)),
    ]
    for entries, states in runs:
        assert np.array_equal(np.arange(10)[states], origins[entries])
