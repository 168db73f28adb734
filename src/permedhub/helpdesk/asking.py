"""Asking the helpdesk: a question in English, Spanish or Portuguese, answered by stored facts.

`ask(session, question, countries)` never writes text of its own: every answer is a fact or
FAQ entry of the knowledge base, quoted as stored, with its source, the day it was verified and
its score. How it finds them:

1. The question is checked (not empty, at most MAX_QUESTION_CHARS characters, no control
   characters or undecodable bytes) and its language detected (`search.language`).
2. Countries narrow the facts: those given, plus those the question names in English,
   Spanish, Portuguese or French (`search.countries`: "Argentina", "Brasil", "Sudáfrica"), or
   through the acronym of one of their regulators or funders ("ANMAT", "COFEPRIS"). A question
   about an EU/EEA country also gets the rules of the EU as a whole. With no country, all facts
   are candidates.
3. Two rankings of the candidates: lexical, in the search index (`search.lexical.rank_any`: the
   question's content words as stems with their EN/ES/PT synonyms, `search.synonyms`), and
   semantic (`search.semantic`: static embeddings, cosine similarity).
4. Reciprocal rank fusion of the two (`search.semantic.reciprocal_rank_fusion`); the first
   `limit` are the answers, with their fused score.

The semantic index is built from the facts once per process and kept until the search index's
helpdesk documents change (a load or a published FAQ re-indexes them all, with new rowids).
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from permedhub.graph import models as graph_models
from permedhub.graph.schemas import country_code
from permedhub.helpdesk.indexing import KIND_OF_TYPE, TYPE_OF_KIND, Fact, facts, semantic_text
from permedhub.helpdesk.schemas import CONTROL_CHARACTERS, EU
from permedhub.search.countries import country_mentions
from permedhub.search.language import STOP_WORDS_ANY, detect_language
from permedhub.search.lexical import rank_any
from permedhub.search.models import SearchDocument
from permedhub.search.semantic import SemanticIndex, reciprocal_rank_fusion
from permedhub.search.synonyms import expand
from permedhub.search.text import words

MAX_QUESTION_CHARS = 2000
TOKEN = re.compile(r"[^\W_]+")
MAX_LIMIT = 50
# How many of each ranking are fused: enough that a fact ranked low by one side but high by
# the other still reaches the answers.
CANDIDATES = 50
# Region ids of the graph (graph.geography) whose members are bound by the EU's own rules.
EU_REGIONS = ("eu27", "eea")
# Words and phrases (folded) that name the Union itself.
EU_NAMES = {
    ("eu",),
    ("ue",),
    ("european", "union"),
    ("union", "europea"),
    ("uniao", "europeia"),
    ("europe",),
    ("europa",),
    ("european",),
    ("europeo",),
    ("europea",),
    ("europeu",),
    ("europeia",),
}
# A question naming a country also gets the EU's own rules, ranked after the country's: their
# fused score is multiplied by this.
UNION_WEIGHT = 0.8
# Each ranking's weight in the fusion, chosen on the tuning questions only (tests/helpdesk/eval):
# equal weights let the weaker semantic side displace the lexical side's first answer; MRR was
# flat for semantic weights from a half to four fifths of the lexical one, and this is its
# middle (the figures are in the commit that set it).
WEIGHTS = {"lexical": 1.0, "semantic": 0.7}
# Acronyms shorter than this are not read as naming a country ("EU" is read as the Union).
MIN_ACRONYM = 3
Mode = Literal["hybrid", "lexical", "semantic"]


class AskError(ValueError):
    """A question or option the helpdesk refuses: names the field, the value and what was
    expected."""

    def __init__(self, field: str, value: object, expected: str) -> None:
        shown = (
            repr(value)
            if not isinstance(value, str) or len(value) <= 80
            else (f"{value[:77]!r}... ({len(value)} characters)")
        )
        super().__init__(f"{field}: {shown}: expected {expected}")
        self.field = field
        self.value = value
        self.expected = expected


@dataclass(frozen=True)
class Answer:
    """One stored fact answering the question, quoted as stored."""

    id: str
    kind: str  # body, rule, funding or faq
    country: str | None  # the fact's jurisdiction (ISO code or EU); None for several
    text: str  # the fact's stored text, verbatim (an FAQ's answer)
    title: str  # a body's or funder's name, a rule's aspect, an FAQ's question
    topic: str | None
    source: str
    verified_on: dt.date
    score: float
    jurisdictions: tuple[str, ...] = ()
    legal_reference: str | None = None
    website: str | None = None

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["verified_on"] = self.verified_on.isoformat()
        data["jurisdictions"] = list(self.jurisdictions)
        return data


@dataclass(frozen=True)
class AskResult:
    question: str
    language: str  # en, es or pt
    answers: list[Answer]
    countries: list[str] = field(default_factory=list)  # what the facts were narrowed to

    def as_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "language": self.language,
            "answers": [a.as_json() for a in self.answers],
        }


@dataclass(frozen=True)
class _Base:
    """The knowledge base as asking reads it, kept until the index's documents change."""

    key: tuple[Any, ...]
    facts: dict[str, Fact]
    semantic: SemanticIndex
    acronyms: dict[str, frozenset[str]]  # folded acronym -> jurisdictions
    european: frozenset[str]  # EU/EEA member codes


_cache: dict[str, _Base] = {}
_lock = threading.Lock()


def checked_question(question: object) -> str:
    if not isinstance(question, str):
        raise AskError("question", question, "text")
    stripped = question.strip()
    if not stripped:
        raise AskError("question", question, "a question (it is empty)")
    if len(stripped) > MAX_QUESTION_CHARS:
        raise AskError(
            "question",
            stripped,
            f"at most {MAX_QUESTION_CHARS:,} characters, not {len(stripped):,}",
        )
    bad = CONTROL_CHARACTERS.search(stripped)
    if bad or "\ufffd" in stripped:
        where = bad.start() if bad else stripped.index("\ufffd")
        raise AskError(
            "question",
            stripped,
            f"printable text, not binary data (control character or undecodable byte at "
            f"position {where})",
        )
    return stripped


def checked_countries(countries: Sequence[str]) -> list[str]:
    if isinstance(countries, str):
        countries = [countries]
    codes: list[str] = []
    for value in countries:
        if isinstance(value, str) and value.strip().upper() == EU:
            codes.append(EU)
            continue
        try:
            code = country_code(value)
        except (ValueError, TypeError):
            code = None
        if code is None or "-" in code:
            raise AskError(
                "country", value, "an ISO 3166-1 country code (such as AR, BR or ZA) or EU"
            )
        codes.append(code)
    return list(dict.fromkeys(codes))


def _base(session: Session) -> _Base:
    documents = SearchDocument.__table__
    types = list(TYPE_OF_KIND.values())
    count, last = session.execute(
        select(func.count(), func.max(documents.c.rowid)).where(documents.c.entity_type.in_(types))
    ).one()
    url = session.get_bind().engine.url.render_as_string(hide_password=True)
    key = (count, last)
    with _lock:
        cached = _cache.get(url)
        if cached is not None and cached.key == key:
            return cached
    found = {f.id: f for f in facts(session.connection())}
    acronyms: dict[str, set[str]] = {}
    for fact in found.values():
        folded = "".join(words(fact.acronym))
        if len(folded) >= MIN_ACRONYM and folded not in STOP_WORDS_ANY:
            acronyms.setdefault(folded, set()).update(fact.jurisdictions)
    membership = graph_models.RegionMembership
    european = frozenset(
        session.scalars(select(membership.country_code).where(membership.region_id.in_(EU_REGIONS)))
    )
    base = _Base(
        key=key,
        facts=found,
        semantic=SemanticIndex.build((f.id, semantic_text(f)) for f in found.values()),
        acronyms={a: frozenset(j) for a, j in acronyms.items()},
        european=european,
    )
    with _lock:
        _cache[url] = base
    return base


def _named_places(base: _Base, folded: list[str]) -> tuple[set[str], set[int]]:
    """The jurisdictions the question names, and the positions of the words naming them."""
    codes: set[str] = set()
    used: set[int] = set()
    position = 0
    for mention in country_mentions(folded):
        while tuple(folded[position : position + len(mention.words)]) != mention.words:
            position += 1
        codes.add(mention.code)
        used.update(range(position, position + len(mention.words)))
        position += len(mention.words)
    for n in range(len(folded)):
        for size in (2, 1):
            if tuple(folded[n : n + size]) in EU_NAMES:
                codes.add(EU)
                used.update(range(n, n + size))
    for n, word in enumerate(folded):
        if word in base.acronyms and n not in used:
            codes.update(base.acronyms[word])
    return codes, used


def ask(
    session: Session,
    question: str,
    countries: Sequence[str] = (),
    limit: int = 5,
    *,
    mode: Mode = "hybrid",
) -> AskResult:
    """The stored facts that best answer `question`, best first (at most `limit`).

    `countries` (ISO codes or EU) narrow the facts, together with the countries the question
    names; `mode` ranks by one side alone (for the benchmark) instead of fusing both.
    """
    text = checked_question(question)
    chosen = checked_countries(countries)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise AskError("limit", limit, f"a whole number from 1 to {MAX_LIMIT}")
    if mode not in ("hybrid", "lexical", "semantic"):
        raise AskError("mode", mode, "hybrid, lexical or semantic")
    language = detect_language(text)
    base = _base(session)
    folded = words(text)
    named, used = _named_places(base, folded)
    scope = set(chosen) | named
    if scope & base.european:
        scope.add(EU)
    # An FAQ entry about no jurisdiction in particular holds everywhere.
    allowed = (
        {i for i, f in base.facts.items() if not f.jurisdictions or scope & set(f.jurisdictions)}
        if scope
        else None
    )
    content = [w for n, w in enumerate(folded) if n not in used and w not in STOP_WORDS_ANY]
    if not content and not scope:  # "¿Qué?": nothing to look for, and no place to list
        return AskResult(question=text, language=language, answers=[], countries=[])
    expanded = [expand(w) for w in content]
    rankings: list[list[str]] = []
    sides: list[str] = []
    if mode in ("hybrid", "lexical"):
        terms = [e.stems for e in expanded]
        hits = rank_any(
            session,
            terms,
            list(TYPE_OF_KIND.values()),
            countries=(scope | {None}) if scope else None,
            limit=CANDIDATES,
        )
        lexical = [h.id for h in hits if h.entity_type in KIND_OF_TYPE and h.id in base.facts]
        rankings.append([i for i in lexical if allowed is None or i in allowed])
        sides.append("lexical")
    if mode in ("hybrid", "semantic"):
        # The question without the places it names (the candidates are narrowed to them
        # already), and its concepts in English.
        kept = [raw for raw, positions in _tokens(text) if not used & set(positions)]
        glosses = dict.fromkeys(e.gloss for e in expanded if e.gloss)
        query = " ".join([*kept, *glosses]) or text
        semantic = base.semantic.query(query, k=CANDIDATES, among=allowed)
        rankings.append([h.id for h in semantic])
        sides.append("semantic")
    fused = reciprocal_rank_fusion(rankings, weights=[WEIGHTS[m] for m in sides])
    if scope and EU not in named and EU not in chosen:
        national = scope - {EU}
        fused = sorted(
            (
                (i, score if national & set(base.facts[i].jurisdictions) else score * UNION_WEIGHT)
                for i, score in fused
            ),
            key=lambda pair: -pair[1],
        )
    answers = [_answer(base.facts[i], score) for i, score in fused[:limit]]
    return AskResult(question=text, language=language, answers=answers, countries=sorted(scope))


def _tokens(text: str) -> list[tuple[str, list[int]]]:
    """The question's tokens as typed (accents kept, for the embeddings), each with the
    positions of its folded words in `words(text)`."""
    tokens: list[tuple[str, list[int]]] = []
    position = 0
    for raw in TOKEN.findall(text):
        count = len(words(raw))
        tokens.append((raw, list(range(position, position + count))))
        position += count
    return tokens


def _answer(fact: Fact, score: float) -> Answer:
    return Answer(
        id=fact.id,
        kind=fact.kind,
        country=fact.jurisdictions[0] if len(fact.jurisdictions) == 1 else None,
        text=fact.text,
        title=fact.title,
        topic=fact.topic,
        source=fact.source,
        verified_on=fact.verified_on,
        score=round(score, 6),
        jurisdictions=fact.jurisdictions,
        legal_reference=fact.legal_reference,
        website=fact.website,
    )
