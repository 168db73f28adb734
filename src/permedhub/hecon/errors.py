"""Errors raised by `permedhub.hecon`: all are `ValueError`s naming the model element at fault.

Document validation (Pydantic) reports every problem as ``<location>: <message>``, the location
written as the document spells it (``strategies.new.transition_rewards[2].to``, ``document``
at the top level): :func:`document_error` is the one formatter the document loaders use.
"""

from __future__ import annotations

import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

Location = tuple[str | int, ...]

# Pydantic error types whose input is the enclosing object or already quoted in the message.
_NO_GIVEN_VALUE = {"missing", "value_error", "assertion_error"}
_MAX_VALUE_CHARS = 60


class HeconError(ValueError):
    """Base class: invalid model input; names the element, the value and what was expected.

    ``location`` (optional) is where in a document the problem is, relative to the part being
    validated when raised inside a Pydantic validator (the formatter prefixes the rest)."""

    def __init__(self, *args: object, location: Location = ()) -> None:
        super().__init__(*args)
        self.location = location


class ExpressionError(HeconError):
    """An expression uses syntax, a name or a function outside the restricted language."""


class CircularDefinitionError(HeconError):
    """Parameters depend on each other in a cycle."""


class UnknownNameError(HeconError):
    """A state, strategy or parameter name that the model does not define."""


class ProbabilityError(HeconError):
    """A probability outside [0, 1] or a transition-matrix row that does not sum to 1."""


class DistributionError(HeconError):
    """A distribution with impossible parameters (e.g. a beta with a negative shape)."""


class ConventionError(HeconError):
    """A counting/discounting convention that cannot be applied (e.g. Simpson with odd cycles)."""


class DocumentPartError(HeconError):
    """One part of a document (e.g. a parameter) failed its own validation inside a validator
    of the enclosing document; the formatter lists the part's problems at their full location
    instead of one nested message."""

    def __init__(self, location: Location, error: ValidationError, data: Any) -> None:
        super().__init__(describe_problems(validation_problems(error, data)), location=location)
        self.error = error
        self.data = data


@dataclass(frozen=True)
class Problem:
    """One validation problem: where, what, and the value given (None: not worth repeating)."""

    location: Location
    message: str
    given: str | None = None

    def describe(self, root: str = "document") -> str:
        """'location: message, got value'; just the message at the top level if `root` is ''."""
        text = self.message + (f", got {self.given}" if self.given is not None else "")
        location = format_location(self.location, root)
        return f"{location}: {text}" if location else text


def format_location(location: Location, root: str = "document") -> str:
    """('strategies', 'new', 'transition_rewards', 2, 'to') ->
    'strategies.new.transition_rewards[2].to'; `root` for the top level."""
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or root


def _document_path(data: Any, loc: Sequence[str | int], last_is_key: bool) -> Location:
    """The part of a Pydantic error location that names keys/indices of the input `data`:
    union member tags such as 'float' or 'list[float]' are dropped (they are no key of the
    input). The last part of a 'missing' error is a key although absent from the input."""
    path: list[str | int] = []
    node = data
    for i, part in enumerate(loc):
        # An int key of a mapping (YAML `1: ...`) is no list index: written as a name.
        key = str(part) if isinstance(node, dict) else part
        if _has_key(node, part):
            node = node[part]
        elif not (last_is_key and i == len(loc) - 1):
            continue
        path.append(key)
    return tuple(path)


def _has_key(node: Any, part: str | int) -> bool:
    if isinstance(node, dict):
        return part in node
    return isinstance(node, list | tuple) and isinstance(part, int) and 0 <= part < len(node)


def _given(value: Any) -> str | None:
    if isinstance(value, dict | BaseModel):
        return None
    text = repr(value)
    return text if len(text) <= _MAX_VALUE_CHARS else text[: _MAX_VALUE_CHARS - 3] + "..."


def validation_problems(error: ValidationError, data: Any, prefix: Location = ()) -> list[Problem]:
    """Every problem of `error` (raised validating `data`) at its document location, messages
    without Pydantic's 'Value error, ' prefix; the alternatives of a union at one location
    become one problem ('... or ...')."""
    problems: list[Problem] = []
    union_at: dict[Location, int] = {}  # location -> index in `problems` of its union
    alternatives: dict[int, list[Problem]] = {}
    for item in error.errors():
        loc = tuple(item["loc"])
        path = _document_path(data, loc, last_is_key=item["type"] == "missing")
        cause = item.get("ctx", {}).get("error")
        if isinstance(cause, DocumentPartError):
            where = (*prefix, *path, *cause.location)
            problems += validation_problems(cause.error, cause.data, where)
            continue
        if isinstance(cause, Exception):
            extra = cause.location if isinstance(cause, HeconError) else ()
            problem = Problem((*prefix, *path, *extra), str(cause))
        else:
            given = None if item["type"] in _NO_GIVEN_VALUE else _given(item.get("input"))
            problem = Problem((*prefix, *path), str(item["msg"]), given)
        if len(path) < len(loc) and cause is None:  # a union member's complaint
            at = union_at.setdefault(problem.location, len(problems))
            if at == len(problems):
                problems.append(problem)
            alternatives.setdefault(at, []).append(problem)
        else:
            problems.append(problem)
    return [_merge(alternatives[i]) if i in alternatives else p for i, p in enumerate(problems)]


_SHOULD_BE = "Input should be "


def _merge(alternatives: list[Problem]) -> Problem:
    """'Input should be a valid number' + '... a valid list' -> 'Input should be a valid
    number or a valid list'."""
    messages = list(dict.fromkeys(p.message for p in alternatives))
    if len(messages) > 1 and all(m.startswith(_SHOULD_BE) for m in messages):
        tails = [m.removeprefix(_SHOULD_BE) for m in messages]
        messages = [_SHOULD_BE + ", ".join(tails[:-1]) + " or " + tails[-1]]
    return Problem(alternatives[0].location, " or ".join(messages), alternatives[0].given)


def describe_problems(problems: Sequence[Problem], limit: int = 8, root: str = "document") -> str:
    """'loc: message; loc: message' for the first `limit` problems (and how many were left);
    `root` names the top level (see :meth:`Problem.describe`)."""
    text = "; ".join(p.describe(root) for p in problems[:limit])
    left = len(problems) - limit
    return text + (f"; and {left} more" if left > 0 else "")


def document_error(
    error: ValidationError, data: Any, what: str, limit: int = 8, where: str = ""
) -> HeconError:
    """The HeconError for a document that failed validation: "[<where>: ]invalid <what>:
    <problems>"; an UnknownNameError when a validator found an unknown name."""
    causes = [item.get("ctx", {}).get("error") for item in error.errors()]
    kind = UnknownNameError if any(isinstance(c, UnknownNameError) for c in causes) else HeconError
    problems = describe_problems(validation_problems(error, data), limit)
    prefix = f"{where}: " if where else ""
    return kind(f"{prefix}invalid {what}: {problems}")


_FILE_KINDS = (
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISSOCK, "a socket"),
)


def read_input_file(path: Path, what: str) -> str:
    """The text of an input file, read once (so pipes such as ``<(...)`` work); otherwise a
    HeconError "<what> <path>: <the truth>": no such file, a directory, unreadable, or empty
    (saying when it is not a regular file, e.g. /dev/null is an empty character device)."""
    try:
        mode = path.stat().st_mode
        if stat.S_ISDIR(mode):
            raise HeconError(f"{what} {path}: is a directory, not a file")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise HeconError(f"{what} {path}: no such file") from None
    except UnicodeDecodeError as error:
        raise HeconError(f"{what} {path}: not UTF-8 text ({error.reason})") from None
    except OSError as error:
        raise HeconError(f"{what} {path}: cannot be read ({error.strerror})") from None
    if not text.strip():
        kind = next((name for test, name in _FILE_KINDS if test(mode)), None)
        detail = f" ({kind}, not a regular file)" if kind else ""
        content = "the file is empty" if not text else "the file holds only blank space"
        raise HeconError(f"{what} {path}: {content}{detail}")
    return text
