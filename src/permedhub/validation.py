"""What a person reads when Pydantic refuses a value, shared by the importer, the curator
forms and the tool pages (hecon/ and trials/ keep their own: they import nothing from here)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Pydantic prefixes the message of an exception raised in a validator with its type; the
# reader wants the message the validator wrote.
_PREFIXES = ("Value error, ", "Assertion failed, ")


def expected(error: Mapping[str, Any]) -> str:
    """The message of one item of `ValidationError.errors()`, without Pydantic's prefix."""
    message = str(error.get("msg", "invalid"))
    for prefix in _PREFIXES:
        message = message.removeprefix(prefix)
    return message


class InputError(ValueError):
    """One input a service refuses: "<field> = <value> is invalid: expected <expected>"."""

    def __init__(self, field: str, value: Any, expected: str) -> None:
        self.field = field
        self.value = value
        self.expected = expected
        super().__init__(f"{field} = {value!r} is invalid: expected {expected}")
