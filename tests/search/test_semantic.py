"""The semantic component of search/: static embeddings read from the installed wordllama
wheel (nothing downloaded), an exact index over (id, text) items, and reciprocal rank fusion."""

from __future__ import annotations

import socket

import numpy as np
import pytest

from permedhub.search.semantic import (
    RRF_K,
    SemanticIndex,
    default_embedder,
    fingerprint,
    reciprocal_rank_fusion,
    wordllama_files,
)

FACTS = [
    ("anmat", "ANMAT authorises clinical trials of medicines in Argentina."),
    ("nrf", "The National Research Foundation funds research projects in South Africa."),
    ("gdpr", "Personal data of trial participants are protected by data protection law."),
    ("insurance", "The sponsor must hold an insurance policy covering the participants."),
]


def test_the_weights_come_from_the_installed_wheel_without_the_network(monkeypatch):
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("semantic retrieval opened a network connection")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    default_embedder.cache_clear()
    weights, tokenizer = wordllama_files()
    assert weights.name == "l2_supercat_256.safetensors" and "wordllama" in str(weights)
    assert tokenizer.name == "l2_supercat_tokenizer_config.json"
    embedder = default_embedder()
    vectors = embedder.embed(["ensayos clínicos", ""])
    assert vectors.shape == (2, 256) and vectors.dtype == np.float32
    assert np.linalg.norm(vectors[0]) == pytest.approx(1.0, abs=1e-5)
    assert not vectors[1].any()  # an empty text is the zero vector, not NaN


def test_a_query_finds_the_closest_text_across_languages():
    index = SemanticIndex.build(FACTS)
    assert len(index) == 4
    assert index.query("Who funds research?", k=1)[0].id == "nrf"
    assert index.query("protección de datos personales", k=1)[0].id == "gdpr"
    assert index.query("seguro para los participantes", k=1)[0].id == "insurance"


def test_a_query_among_some_ids_ranks_only_those():
    index = SemanticIndex.build(FACTS)
    hits = index.query("Who funds research?", k=10, among=["anmat", "insurance", "unknown"])
    assert {h.id for h in hits} == {"anmat", "insurance"}
    assert index.query("anything", among=[]) == []
    scores = [h.score for h in index.query("clinical trials", k=4)]
    assert scores == sorted(scores, reverse=True)


def test_ids_must_be_unique_and_k_positive():
    with pytest.raises(ValueError, match="'a' given twice"):
        SemanticIndex.build([("a", "x"), ("b", "y"), ("a", "z")])
    with pytest.raises(ValueError, match="k=0"):
        SemanticIndex.build(FACTS).query("x", k=0)
    assert SemanticIndex.build([]).query("x") == []


def test_fingerprints_follow_contents():
    assert fingerprint(FACTS) == fingerprint(list(FACTS))
    assert fingerprint(FACTS) != fingerprint([*FACTS[:3], ("insurance", "changed")])


def test_reciprocal_rank_fusion_sums_weight_over_k_plus_rank():
    fused = dict(reciprocal_rank_fusion([["a", "b", "c"], ["c", "a"]]))
    assert fused["a"] == pytest.approx(1 / (RRF_K + 1) + 1 / (RRF_K + 2))
    assert fused["c"] == pytest.approx(1 / (RRF_K + 3) + 1 / (RRF_K + 1))
    assert fused["b"] == pytest.approx(1 / (RRF_K + 2))
    assert [i for i, _ in reciprocal_rank_fusion([["a", "b", "c"], ["c", "a"]])] == ["a", "c", "b"]
    weighted = dict(reciprocal_rank_fusion([["a"], ["b"]], weights=[1.0, 0.5], k=1))
    assert weighted == {"a": 0.5, "b": 0.25}


def test_ties_in_fusion_are_broken_by_best_rank_then_id():
    assert [i for i, _ in reciprocal_rank_fusion([["b", "a"], ["a", "b"]])] == ["a", "b"]
    with pytest.raises(ValueError, match="2 weights for 1 rankings"):
        reciprocal_rank_fusion([["a"]], weights=[1, 2])


def test_word_by_word_tokenizing_gives_the_whole_texts_vectors():
    """`embed` tokenizes each distinct word once; the vectors are those of the whole text."""
    embedder = default_embedder()
    texts = [
        "Since 1 December 2025 ANMAT Disposition 7516/2025 governs good clinical practice.",
        "¿Qué agencia aprueba ensayos clínicos?  Quem aprova\nensaios no Brasil?",
    ]
    for vector, value in zip(embedder.embed(texts), texts, strict=True):
        ids = embedder.tokenizer.encode(" ".join(value.split()), add_special_tokens=False).ids  # type: ignore[attr-defined]
        whole = embedder.vectors[ids].sum(axis=0)
        np.testing.assert_allclose(vector, whole / np.linalg.norm(whole), atol=1e-5)


def test_embedding_neither_imports_wordllama_nor_configures_logging():
    """wordllama's own `__init__` imports requests and sets the root logger to INFO; only its
    files are read."""
    import subprocess
    import sys

    script = (
        "import logging, sys\n"
        "from permedhub.search.semantic import default_embedder\n"
        "default_embedder().embed(['ensayos'])\n"
        "print(sorted(m for m in ('wordllama', 'requests', 'torch') if m in sys.modules),"
        " logging.getLogger().handlers)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "[] []"
