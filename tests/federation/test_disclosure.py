"""Disclosure control on tables: minimum cell size, rounding up, complementary suppression."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from permedhub.federation.disclosure import (
    PRIMARY,
    SECONDARY,
    Rules,
    _lines,
    publish,
    published_table,
    round_up,
    with_margins,
)

RULES = Rules(k=10, base=10)


def test_counts_are_rounded_up_and_small_ones_suppressed() -> None:
    assert [round_up(n, 10) for n in (10, 11, 19, 20, 123)] == [10, 20, 20, 20, 130]
    assert [publish(n, RULES) for n in (0, 1, 9, 10, 11)] == [None, None, None, 10, 20]


def test_a_lone_small_cell_takes_its_smallest_neighbour_with_it() -> None:
    values, marks = published_table(with_margins(np.array([40, 5, 25])), RULES)
    assert marks.tolist() == ["", PRIMARY, SECONDARY, ""]
    assert values.tolist() == [40, None, None, 70]


def test_two_small_cells_need_no_secondary() -> None:
    values, marks = published_table(with_margins(np.array([40, 5, 3, 25])), RULES)
    assert marks.tolist() == ["", PRIMARY, PRIMARY, "", ""]
    assert values.tolist() == [40, None, None, 30, 80]


def test_a_small_total_hides_everything() -> None:
    values, _ = published_table(with_margins(np.array([4, 3])), RULES)
    assert values.tolist() == [None, None, None]


def test_two_way_table_spreads_suppression_to_rows_and_columns() -> None:
    table = with_margins(np.array([[25, 5, 40], [30, 33, 12]]))
    values, marks = published_table(table, RULES)
    assert marks[0, 1] == PRIMARY
    assert marks[0, 0] == SECONDARY  # smallest other cell of row 0
    assert marks[1, 1] == SECONDARY  # column 1 had a lone suppressed cell
    assert marks[1, 0] == SECONDARY  # then column 0 did
    assert values[2, 3] == 150 and values[1, 2] == 20


def test_k_must_be_positive() -> None:
    with pytest.raises(ValueError, match="k"):
        Rules(k=0)


tables = st.integers(1, 2).flatmap(
    lambda dims: st.lists(st.integers(1, 5), min_size=dims, max_size=dims).flatmap(
        lambda shape: st.lists(
            st.integers(0, 60), min_size=int(np.prod(shape)), max_size=int(np.prod(shape))
        ).map(lambda cells: np.array(cells).reshape(shape))
    )
)


@settings(max_examples=300, deadline=None)
@given(tables)
def test_no_line_ever_has_a_lone_suppressed_cell(counts: np.ndarray) -> None:
    table = with_margins(counts)
    values, marks = published_table(table, RULES)
    for line in _lines(table.shape):
        assert sum(1 for cell in line if marks[cell]) != 1
    for cell in np.ndindex(table.shape):
        if table[cell] < RULES.k:
            assert marks[cell] == PRIMARY
        if values[cell] is not None:
            assert values[cell] >= table[cell] and values[cell] % 10 == 0
            assert values[cell] - table[cell] < 10
