"""Semantic retrieval: static embeddings on the CPU, and rank fusion with lexical results.

One component for every service that ranks short texts by meaning (the helpdesk now, partner
search later): an index over `(id, text)` items (`SemanticIndex.build`, `query(text, k)`) and
`reciprocal_rank_fusion`, which merges its ranking with the lexical index's.

Where the vectors come from: WordLlama's `l2_supercat` model (D. Miller, MIT licence), token
embeddings distilled from Llama 2 family models and trained for sentence similarity. The
`wordllama` wheel on PyPI ships both files this module reads: `weights/l2_supercat_256.safetensors`
(32,000 tokens x 256 dimensions, 16 MB) and `tokenizers/l2_supercat_tokenizer_config.json` (the
Llama 2 SentencePiece vocabulary as a `tokenizers` file). They are read here directly, with
`safetensors` and `tokenizers`, and not through `WordLlama.load`: that looks for the tokenizer
in a folder name the wheel does not have and then downloads it from Hugging Face. Here nothing
is ever fetched, and neither PyTorch nor any GPU stack is installed (wordllama's own
dependencies are numpy, safetensors, tokenizers, pydantic, toml and requests).

A text's vector is the mean of its tokens' vectors, scaled to unit length (WordLlama's own
average pooling); similarity is the dot product. The vocabulary is of sub-word pieces, so
Spanish and Portuguese words share pieces with their English cognates ("clín|icos",
"aut|oriz|ación"), which carries some meaning across the three languages; the lexical side
adds what pieces do not (see `search.synonyms`).

Fusion is reciprocal rank fusion (Cormack, Clarke and Büttcher, SIGIR 2009): an item's fused
score is the sum over the rankings of weight / (k + rank), rank counted from 1. It needs no
calibration between BM25 scores and cosine similarities, which live on unrelated scales.
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from scipy import sparse

# The constant of reciprocal rank fusion: 60, as in the paper (ranks beyond the first few
# then count little more than each other, so no one ranking's tail decides).
RRF_K = 60
WEIGHTS_FILE = "weights/l2_supercat_256.safetensors"
TOKENIZER_FILE = "tokenizers/l2_supercat_tokenizer_config.json"


class Embedder(Protocol):
    """Turns texts into unit vectors, one row per text."""

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


class StaticEmbedder:
    """Mean-pooled static token embeddings: a text is the average of its tokens' vectors."""

    def __init__(self, vectors: np.ndarray, tokenizer: object) -> None:
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.tokenizer = tokenizer

    @property
    def dimensions(self) -> int:
        return int(self.vectors.shape[1])

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of `texts`: each the normalised sum (so the mean) of its tokens'.

        The tokenizer puts a word marker before every space-separated word and merges no
        piece across one, so a text's tokens are its words' tokens in order: each distinct
        word is tokenized once, however many texts hold it (100,000 facts have millions of
        words but some ten thousand distinct ones). Runs of whitespace count as one space.
        """
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        vocabulary: dict[str, int] = {}
        rows: list[int] = []
        columns: list[int] = []
        for row, value in enumerate(texts):
            for word in value.split():
                rows.append(row)
                columns.append(vocabulary.setdefault(word, len(vocabulary)))
        distinct = list(vocabulary)
        tokenizer: Any = self.tokenizer
        encoded = tokenizer.encode_batch(distinct, add_special_tokens=False) if distinct else []
        lengths = np.fromiter((len(e.ids) for e in encoded), dtype=np.int64, count=len(distinct))
        ids = np.fromiter(
            (i for e in encoded for i in e.ids), dtype=np.int64, count=int(lengths.sum())
        )
        np.clip(ids, 0, self.vectors.shape[0] - 1, out=ids)
        # Sparse token counts of each distinct word times the embedding table: each word's
        # sum of token vectors; then word counts of each text times those: each text's sum.
        word_tokens = sparse.csr_matrix(
            (
                np.ones(len(ids), dtype=np.float32),
                (np.repeat(np.arange(len(distinct)), lengths), ids),
            ),
            shape=(len(distinct), self.vectors.shape[0]),
        )
        word_sums = np.asarray(word_tokens @ self.vectors, dtype=np.float32)
        text_words = sparse.csr_matrix(
            (np.ones(len(rows), dtype=np.float32), (rows, columns)),
            shape=(len(texts), len(distinct)),
        )
        return normalised(np.asarray(text_words @ word_sums, dtype=np.float32))


def normalised(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length; an empty text's zero row stays zero."""
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1.0, norms)


def wordllama_files() -> tuple[Path, Path]:
    """The weights and tokenizer files inside the installed `wordllama` package.

    Found without importing the package: its `__init__` imports `requests` and calls
    `logging.basicConfig(level=INFO)`, which would turn on every library's INFO logs in the
    portal and the CLI.
    """
    spec = importlib.util.find_spec("wordllama")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("wordllama: not installed (it is a dependency of permedhub)")
    root = Path(next(iter(spec.submodule_search_locations)))
    weights, tokenizer = root / WEIGHTS_FILE, root / TOKENIZER_FILE
    for path in (weights, tokenizer):
        if not path.is_file():
            raise FileNotFoundError(
                f"{path}: expected the file the wordllama wheel ships (reinstall wordllama)"
            )
    return weights, tokenizer


@cache
def default_embedder() -> StaticEmbedder:
    """WordLlama l2_supercat, 256 dimensions, read once per process from the installed wheel."""
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer

    weights, tokenizer_file = wordllama_files()
    tokenizer = Tokenizer.from_file(str(tokenizer_file))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return StaticEmbedder(load_file(str(weights))["embedding.weight"], tokenizer)


@dataclass(frozen=True)
class SemanticHit:
    id: str
    score: float  # cosine similarity, -1 to 1


class SemanticIndex:
    """Unit vectors of `(id, text)` items, searched by exact dot product (no approximation:
    100,000 items x 256 dimensions is one matrix-vector product)."""

    def __init__(self, ids: Sequence[str], matrix: np.ndarray, embedder: Embedder) -> None:
        if len(ids) != matrix.shape[0]:
            raise ValueError(f"{len(ids)} ids for {matrix.shape[0]} vectors: expected one each")
        self.ids = list(ids)
        self.matrix = matrix
        self.embedder = embedder
        self._position = {item: n for n, item in enumerate(self.ids)}

    @classmethod
    def build(
        cls, items: Iterable[tuple[str, str]], embedder: Embedder | None = None
    ) -> SemanticIndex:
        """Embed every item's text; ids must be unique."""
        pairs = list(items)
        ids = [item for item, _ in pairs]
        if len(set(ids)) != len(ids):
            seen: set[str] = set()
            twice = next(item for item in ids if item in seen or seen.add(item))  # type: ignore[func-returns-value]
            raise ValueError(f"id {twice!r} given twice: expected unique ids")
        chosen = embedder or default_embedder()
        return cls(ids, chosen.embed([text for _, text in pairs]), chosen)

    def __len__(self) -> int:
        return len(self.ids)

    def query(
        self, text: str, k: int = 10, among: Collection[str] | None = None
    ) -> list[SemanticHit]:
        """The `k` items most similar to `text`, best first; with `among`, only those ids."""
        if k < 1:
            raise ValueError(f"k={k}: expected at least 1")
        if not self.ids:
            return []
        vector = self.embedder.embed([text])[0]
        if among is None:
            positions = np.arange(len(self.ids))
        else:
            positions = np.fromiter(
                (self._position[i] for i in among if i in self._position), dtype=np.int64
            )
            if not len(positions):
                return []
        scores = self.matrix[positions] @ vector
        top = min(k, len(positions))
        best = np.argpartition(-scores, top - 1)[:top]
        # Ties are broken by id, so the order does not depend on the items' order.
        ordered = sorted(best, key=lambda n: (-scores[n], self.ids[positions[n]]))
        return [SemanticHit(self.ids[positions[n]], float(scores[n])) for n in ordered]


def fingerprint(items: Iterable[tuple[str, str]]) -> str:
    """A digest of the items: equal for equal contents, so an index can be kept until they
    change."""
    digest = hashlib.blake2b(digest_size=16)
    for item, text in items:
        digest.update(item.encode())
        digest.update(b"\x00")
        digest.update(text.encode())
        digest.update(b"\x01")
    return digest.hexdigest()


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[str]],
    k: int = RRF_K,
    weights: Sequence[float] | None = None,
) -> list[tuple[str, float]]:
    """Ids of several rankings (each best first) fused: score = sum of weight / (k + rank).

    An id absent from a ranking gets nothing from it. Ties are broken by the best rank the id
    has in any ranking, then by id, so the result is deterministic.
    """
    if k < 1:
        raise ValueError(f"k={k}: expected at least 1")
    chosen = list(weights) if weights is not None else [1.0] * len(rankings)
    if len(chosen) != len(rankings):
        raise ValueError(f"{len(chosen)} weights for {len(rankings)} rankings: expected one each")
    scores: dict[str, float] = {}
    best_rank: dict[str, int] = {}
    for ranking, weight in zip(rankings, chosen, strict=True):
        for rank, item in enumerate(dict.fromkeys(ranking), start=1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
            best_rank[item] = min(best_rank.get(item, rank), rank)
    return sorted(scores.items(), key=lambda pair: (-pair[1], best_rank[pair[0]], pair[0]))
