"""A call document given as text (the curator's form) is read and validated as a file is:
every problem with its field, value, expectation and line."""

from __future__ import annotations

import pytest

from calls_world import CALL_FILE
from permedhub.calls.documents import load_call, read_call_text
from permedhub.calls.errors import CallDocumentError


def _problems(text: str | bytes) -> list[str]:
    with pytest.raises(CallDocumentError) as caught:
        read_call_text(text)
    return [str(p) for p in caught.value.problems]


def test_the_text_of_a_file_reads_as_the_file() -> None:
    text = CALL_FILE.read_text(encoding="utf-8")
    assert read_call_text(text) == load_call(CALL_FILE)
    assert read_call_text(text.encode("utf-8")) == load_call(CALL_FILE)


def test_a_syntax_error_names_its_line_and_its_text() -> None:
    text = CALL_FILE.read_text(encoding="utf-8").replace(
        "  - name: full proposal", "  - name: [full proposal", 1
    )
    line = text.splitlines().index("  - name: [full proposal") + 1
    (problem,) = _problems(text)
    # The parser notices on the next line; the message names where the sequence started.
    assert problem == (
        f"line {line + 1}: document = 'deadline: 2026-06-18T14:00:00+02:00' is invalid: "
        "expected valid YAML (expected ',' or ']', but got ':', while parsing a flow sequence "
        f"that starts on line {line}) at column 13"
    )


def test_an_invalid_value_names_its_field_and_line() -> None:
    text = CALL_FILE.read_text(encoding="utf-8")
    lines = text.splitlines()
    line = lines.index("    budget_eur: 500000") + 1
    (problem,) = _problems(text.replace("    budget_eur: 500000", "    budget_eur: -5", 1))
    assert problem == (
        f"line {line}: funders[1].budget_eur = -5 is invalid: expected a number greater than or "
        "equal to 0"
    )


def test_bytes_that_are_not_utf8_name_their_line() -> None:
    data = CALL_FILE.read_bytes()
    line = data[: data.index(b"Synthetic Funder France")].count(b"\n") + 1
    (problem,) = _problems(data.replace(b"Synthetic Funder France", b"Synth\xe9tic", 1))
    assert problem.startswith(f"line {line}: document = 'byte ") and "expected UTF-8" in problem


def test_a_document_that_is_not_a_mapping_is_refused() -> None:
    assert _problems("- just\n- a list\n") == [
        "document = 'list' is invalid: expected a mapping (YAML/JSON object)"
    ]
