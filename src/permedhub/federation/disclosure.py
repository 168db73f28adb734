"""Statistical disclosure control applied by the node to every number it publishes.

- **Minimum cell size k** (default 10): a count below k (zero included, so that "none" and
  "a few" look alike) is not published; the cell says it was suppressed.
- **Rounding**: a published count is rounded *up* to a multiple of `base` (default 10), so
  a count never shows its last digit and is never understated below k.
- **Complementary suppression**: a breakdown is published with its margins (per-category
  totals and the grand total). In every line of the table — a row or a column, each with its
  margin, which is the sum of the others — a suppressed cell never stands alone: if exactly
  one cell of a line is suppressed, the smallest other cell of that line is suppressed too
  (an inner cell before the margin), and this repeats until no line has a lone suppressed
  cell. Subtracting the published cells of a line from its total then leaves at least two
  unknowns, never one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PRIMARY = "primary"
SECONDARY = "secondary"


@dataclass(frozen=True)
class Rules:
    k: int = 10
    base: int = 10

    def __post_init__(self) -> None:
        if self.k < 1:
            raise ValueError(f"k (value {self.k}): expected a minimum cell size of at least 1")
        if self.base < 1:
            raise ValueError(f"rounding base (value {self.base}): expected at least 1")


def round_up(count: int, base: int) -> int:
    return -(-count // base) * base


def publish(count: int, rules: Rules) -> int | None:
    """The published form of one count: None when suppressed, else rounded up."""
    return None if count < rules.k else round_up(count, rules.base)


def with_margins(counts: np.ndarray) -> np.ndarray:
    """A 1-D table gets its total appended; a 2-D table a margin row, column and corner."""
    if counts.ndim == 1:
        return np.append(counts, counts.sum())
    rows = np.vstack([counts, counts.sum(axis=0, keepdims=True)])
    return np.hstack([rows, rows.sum(axis=1, keepdims=True)])


def _lines(shape: tuple[int, ...]) -> list[list[tuple[int, ...]]]:
    """Every line of a table with margins (the last index of each axis is the margin); each
    line lists its inner cells first and its margin last."""
    if len(shape) == 1:
        return [[(i,) for i in range(shape[0])]]
    rows, cols = shape
    lines: list[list[tuple[int, ...]]] = []
    lines += [[(i, j) for j in range(cols)] for i in range(rows)]
    lines += [[(i, j) for i in range(rows)] for j in range(cols)]
    return lines


def suppression(table: np.ndarray, rules: Rules) -> np.ndarray:
    """For a table with margins (`with_margins`), an array of "" (published), PRIMARY or
    SECONDARY per cell."""
    marks = np.where(table < rules.k, PRIMARY, "").astype(object)
    lines = _lines(table.shape)
    changed = True
    while changed:
        changed = False
        for line in lines:
            hidden = [cell for cell in line if marks[cell]]
            if len(hidden) != 1:
                continue
            shown = [cell for cell in line if not marks[cell]]
            inner = shown[:-1] if line[-1] in shown else shown
            pick = min(inner or shown, key=lambda cell: (table[cell], cell))
            marks[pick] = SECONDARY
            changed = True
    return marks


def published_table(table: np.ndarray, rules: Rules) -> tuple[np.ndarray, np.ndarray]:
    """(published counts as an object array with None where suppressed, suppression marks)."""
    marks = suppression(table, rules)
    values = np.empty(table.shape, dtype=object)
    for cell in np.ndindex(table.shape):
        values[cell] = None if marks[cell] else round_up(int(table[cell]), rules.base)
    return values, marks
