"""A refused value reads as the validator wrote it, wherever Pydantic validates people's input:
the tool forms, the importer and the curator forms share `permedhub.validation.expected`."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError, field_validator

from permedhub.validation import expected
from permedhub.web.tools.common import ToolInputError, validate_form


class Looks(BaseModel):
    looks: int

    @field_validator("looks")
    @classmethod
    def _at_least_two(cls, value: int) -> int:
        if value < 2:
            raise ValueError("expected at least 2 analyses")
        return value


def test_a_tool_form_names_the_field_the_value_and_the_expectation() -> None:
    with pytest.raises(ToolInputError) as raised:
        validate_form(Looks, {"looks": "1"})
    assert raised.value.field == "looks"
    assert str(raised.value) == "looks: expected at least 2 analyses, got '1'"


def test_the_message_loses_only_pydantics_prefix() -> None:
    with pytest.raises(ValidationError) as raised:
        Looks.model_validate({"looks": 1})
    assert expected(raised.value.errors()[0]) == "expected at least 2 analyses"
    with pytest.raises(ValidationError) as raised:
        Looks.model_validate({"looks": "many"})
    assert expected(raised.value.errors()[0]).startswith("Input should be a valid integer")
