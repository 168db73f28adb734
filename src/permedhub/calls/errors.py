"""Errors of `permedhub.calls`: every one names the field, the value and what was expected.

`CallInputError` is one problem; `CallDocumentError` is every problem found in one file, each
with its line when the file is known, so the CLI can print them all and exit 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from permedhub.validation import InputError


class CallInputError(InputError):
    """One input of a call, proposal set or reviewer pool is invalid."""


SHOWN_VALUE = 80


@dataclass(frozen=True)
class Problem:
    """One problem of a document: where (field path and line, when known) and what."""

    field: str
    value: Any
    expected: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line is not None else ""
        shown = "(missing)" if self.value is _MISSING else repr(self.value)
        if len(shown) > SHOWN_VALUE:  # a whole mapping or list: its start is enough
            shown = shown[: SHOWN_VALUE - 3] + "..."
        return f"{where}{self.field or 'document'} = {shown} is invalid: expected {self.expected}"


class _Missing:
    def __repr__(self) -> str:
        return "(missing)"


_MISSING: Any = _Missing()
MISSING = _MISSING


class CallDocumentError(ValueError):
    """A call or proposals document is invalid; `problems` lists each problem found."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  {problem}" for problem in problems)
        super().__init__(f"{source}: {len(problems)} problem(s)\n{lines}")


class NotAllowed(PermissionError):
    """The user does not hold the role a step needs in the call."""


class WorkflowError(CallInputError):
    """A step's input or the call's state does not allow the step (field, value, expected)."""


class LateSubmission(WorkflowError):
    """The stage's deadline has passed on the server clock."""


class NotFoundError(LookupError):
    """No such call, consortium or proposal."""
