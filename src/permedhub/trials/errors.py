"""Errors shared by every part of `permedhub.trials`.

`TrialInputError` is raised for any design input outside its valid range. It is a `ValueError`
so callers that already catch `ValueError` keep working, and its message always names the
field, the offending value and what was expected, e.g.::

    alpha = 0.7 is invalid: expected a number in (0, 0.5)

The helpers below are the single place where common range checks are written, so every module
reports bad input in the same words.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from pydantic import ValidationError

T = TypeVar("T")


class TrialInputError(ValueError):
    """A design input is outside its valid range.

    Attributes:
        field: the name of the input (as the user spells it: argument, YAML key or CLI option).
        value: the value that was given.
        expected: a human-readable description of the valid range.
    """

    def __init__(self, field: str, value: Any, expected: str) -> None:
        self.field = field
        self.value = value
        self.expected = expected
        super().__init__(f"{field} = {value!r} is invalid: expected {expected}")


class MissingInput(TrialInputError):
    """An input that the chosen design needs was not given; `needed_for` says which design."""

    def __init__(self, field: str, needed_for: str) -> None:
        super().__init__(field, None, f"a value (required for {needed_for})")
        self.needed_for = needed_for
        self.args = (f"{field} is required for {needed_for}",)


def require(field: str, value: T | None, needed_for: str) -> T:
    """`value`, or a MissingInput naming `field` when it was not given."""
    if value is None:
        raise MissingInput(field, needed_for)
    return value


class ExactComputationTooLarge(TrialInputError):
    """An exact computation would enumerate more outcomes than its stated limit.

    The message names the input, the number of outcomes, the limit and what to do instead
    (typically a simulation); `outcomes` and `limit` are kept as attributes.
    """

    def __init__(self, field: str, value: Any, outcomes: int, limit: int, instead: str) -> None:
        super().__init__(field, value, f"a design with at most {limit:,} outcomes to enumerate")
        self.outcomes = outcomes
        self.limit = limit
        self.args = (
            f"{field} = {value!r}: the exact computation would enumerate {outcomes:,} outcomes, "
            f"more than the limit of {limit:,}; {instead}",
        )


def _is_real(value: Any) -> bool:
    try:
        return not isinstance(value, bool) and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def check_probability(field: str, value: Any) -> float:
    """Return `value` as a float if it lies strictly inside (0, 1)."""
    if not _is_real(value) or not 0.0 < float(value) < 1.0:
        raise TrialInputError(field, value, "a probability strictly between 0 and 1")
    return float(value)


def check_alpha(field: str, value: Any, upper: float = 0.5) -> float:
    """Return a significance level in (0, upper) (default upper bound 0.5)."""
    if not _is_real(value) or not 0.0 < float(value) < upper:
        raise TrialInputError(field, value, f"a number in (0, {upper:g})")
    return float(value)


def check_positive(field: str, value: Any, allow_zero: bool = False) -> float:
    """Return `value` as a finite float that is > 0 (or >= 0 with `allow_zero`)."""
    ok = _is_real(value) and (float(value) >= 0.0 if allow_zero else float(value) > 0.0)
    if not ok:
        raise TrialInputError(
            field, value, "a finite number >= 0" if allow_zero else "a finite number > 0"
        )
    return float(value)


def check_int_range(field: str, value: Any, low: int, high: int) -> int:
    """Return `value` as an int in [low, high]."""
    if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
        raise TrialInputError(field, value, f"an integer from {low} to {high}")
    if not low <= int(value) <= high:
        raise TrialInputError(field, value, f"an integer from {low} to {high}")
    return int(value)


def check_increasing_fractions(field: str, values: Sequence[float]) -> list[float]:
    """Return information fractions that are strictly increasing in (0, 1] and end at 1."""
    fractions = list(values)
    if not fractions or not all(_is_real(v) for v in fractions):
        raise TrialInputError(field, values, "a non-empty list of finite numbers")
    floats = [float(v) for v in fractions]
    if any(b <= a for a, b in itertools.pairwise(floats)) or floats[0] <= 0.0:
        raise TrialInputError(field, values, "strictly increasing values in (0, 1] ending at 1")
    if abs(floats[-1] - 1.0) > 1e-9:
        raise TrialInputError(field, values, "strictly increasing values in (0, 1] ending at 1")
    floats[-1] = 1.0
    return floats


def validation_problems(error: ValidationError, skip: int = 0) -> list[str]:
    """One line per problem Pydantic found, as "field = value is invalid: expected ...".

    `skip` drops leading location parts that are not the user's (a wrapper model's field, a
    discriminator tag); list indices read as `stage_sample_sizes[0]`.
    """
    problems = []
    for problem in error.errors():
        cause = (problem.get("ctx") or {}).get("error")
        if isinstance(cause, TrialInputError):
            problems.append(str(cause))
            continue
        field = ""
        for part in problem["loc"][skip:]:
            field += f"[{part}]" if isinstance(part, int) else f".{part}" if field else str(part)
        message = problem["msg"].removeprefix("Value error, ")
        if problem["type"] == "missing":
            problems.append(f"{field or 'document'}: {message}")
        elif field:
            problems.append(f"{field} = {problem.get('input')!r} is invalid: {message}")
        else:
            problems.append(f"document is invalid: {message}")
    return problems
