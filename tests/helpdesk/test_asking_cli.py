"""`permedhub helpdesk ask` as a user types it: answers on stdout (JSON with --json, nothing
else), errors on stderr with exit code 2."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from permedhub.cli.main import app


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('ask') / 'cli.sqlite'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PERMEDHUB_DATABASE_URL", url)
        loaded = CliRunner().invoke(app, ["helpdesk", "load", "--json"])
    assert loaded.exit_code == 0, loaded.output
    return url


def _run(database: str, monkeypatch: pytest.MonkeyPatch, *args: str):
    monkeypatch.setenv("PERMEDHUB_DATABASE_URL", database)
    return CliRunner().invoke(app, ["helpdesk", "ask", *args])


def test_json_holds_the_question_language_and_sourced_answers_only(database, monkeypatch):
    result = _run(database, monkeypatch, "Quem aprova ensaios clínicos no Brasil?", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert list(data) == ["question", "language", "answers"]
    assert data["question"] == "Quem aprova ensaios clínicos no Brasil?"
    assert data["language"] == "pt"
    first = data["answers"][0]
    assert {"text", "kind", "country", "source", "verified_on", "score"} <= set(first)
    assert "anvisa" in first["text"].lower() and first["country"] == "BR"
    assert first["verified_on"] == "2026-12-07" and first["source"].startswith("https://")
    assert len(data["answers"]) <= 5


def test_country_options_narrow_and_limit_counts(database, monkeypatch):
    result = _run(
        database, monkeypatch, "Who approves clinical trials?", "--country", "KE",
        "--country", "tz", "--limit", "8", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    answers = json.loads(result.stdout)["answers"]
    assert 0 < len(answers) <= 8 and {a["country"] for a in answers} == {"KE", "TZ"}


def test_text_output_quotes_each_answer_with_its_source(database, monkeypatch):
    result = _run(database, monkeypatch, "¿Qué agencia aprueba ensayos clínicos en Argentina?")
    assert result.exit_code == 0, result.output
    assert "\n1. [" in result.stdout and "· AR · score" in result.stdout
    assert "ANMAT" in result.stdout
    assert "source: https://" in result.stdout and "verified 2026-12-07" in result.stdout


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["", "--json"], "question: '': expected a question (it is empty)"),
        (["x" * 2001], "expected at most 2,000 characters, not 2,001"),
        (["who\x00approves"], "not binary data"),
        (["Who approves trials?", "--country", "QQ", "--json"], "country: 'QQ': expected an ISO"),
        (["Who approves trials?", "--limit", "0"], "limit: 0: expected a whole number"),
    ],
)
def test_bad_input_exits_2_with_the_error_on_stderr(database, monkeypatch, args, said):
    result = _run(database, monkeypatch, *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert said in " ".join(result.stderr.split())
