"""Offline language detection (en/es/pt) and the EN/ES/PT stems and synonyms of questions."""

from __future__ import annotations

import pytest

from permedhub.search.language import content_words, detect_language
from permedhub.search.synonyms import expand, stem


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("¿Qué agencia aprueba ensayos clínicos en Argentina?", "es"),
        ("Quem aprova ensaios clínicos no Brasil?", "pt"),
        ("Who approves clinical trials in Brazil?", "en"),
        ("Cuánto tiempo tarda la aprobación", "es"),
        ("Quanto tempo demora a aprovação?", "pt"),
        ("¿Quién financia la investigación en Sudáfrica?", "es"),
        ("Quem financia a pesquisa na África do Sul?", "pt"),
        ("How long does the NMPA take?", "en"),
        ("ANMAT", "en"),  # no evidence: the base's own language
    ],
)
def test_languages_are_told_apart(question: str, language: str) -> None:
    assert detect_language(question) == language


def test_content_words_drop_function_words_of_all_three_languages() -> None:
    assert content_words("¿Qué agencia aprueba los ensayos en Argentina?") == [
        "agencia",
        "aprueba",
        "ensayos",
        "argentina",
    ]
    assert content_words("How long does it take?") == ["long", "take"]


def test_stems_and_synonyms_meet_the_english_facts() -> None:
    assert stem("approves") == stem("approval") == "approv"
    assert stem("trials") == "trial" and stem("apply") == "appl"
    assert "trial" in expand("ensayos").stems and "trial" in expand("ensaios").stems
    assert {"approv", "authoris"} <= set(expand("aprueba").stems)
    assert "fund" in expand("financia").stems and "funding" in expand("financia").concepts
    assert "regulator" not in expand("regulation").concepts  # a Regulation is a law
    assert expand("argentina").stems == ("argentin",) and expand("argentina").gloss == ""
    assert "funds" in expand("financiamento").gloss
