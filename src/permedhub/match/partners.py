"""Partner search: organisations of the graph ranked for a project idea, each with its reasons.

An organisation's score is a weighted sum of four parts, each in [0, 1] (WEIGHTS):

- **idea** (0.5): how well the organisation matches the idea's text. Two rankings fused by
  reciprocal rank fusion (`search.semantic.reciprocal_rank_fusion`): by meaning, the idea
  against the organisation's profile (its name, expertise and the names, topics and summaries
  of the initiatives it took part in; `search.semantic.SemanticIndex`), and by words, the
  search index's organisations and initiatives that hold the idea's words
  (`search.lexical.rank_any`), an initiative passing its rank to its participants. The fused
  score is divided by the best possible one (first in both rankings).
- **topics** (0.3): the share of the wanted topics the organisation holds (its expertise and
  its initiatives' topics).
- **collaboration** (0.1): initiatives shared with the partners already chosen, 3 or more
  counting fully.
- **new country** (0.1): 1 when the organisation's country is not yet among the chosen
  partners' (region and country balance of the consortium).

With a call, organisations no participating funder would fund are dropped unless own-funded
partners are asked for; each kept one says which funder would fund it (`consortium.funder_for`).
Target countries or regions are filters. The profiles and their vectors are built once per
process and database state and reused until the graph changes.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from permedhub.calls.model import Call
from permedhub.graph.models import (
    AuditEntry,
    Initiative,
    Organisation,
    Participation,
    RegionMembership,
    Topic,
)
from permedhub.match.consortium import funder_for
from permedhub.match.errors import MatchInputError
from permedhub.search.lexical import rank_any
from permedhub.search.semantic import SemanticIndex, reciprocal_rank_fusion
from permedhub.search.text import words

WEIGHTS = {"idea": 0.5, "topics": 0.3, "collaboration": 0.1, "new_country": 0.1}
FULL_COLLABORATION = 3
CANDIDATES = 200  # per ranking, before the other parts are scored
MAX_IDEA = 2000
PROFILE_CHARACTERS = 2000
STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "or",
        "of",
        "the",
        "in",
        "on",
        "for",
        "to",
        "with",
        "by",
        "from",
        "at",
        "as",
        "is",
        "are",
        "be",
        "we",
        "our",
        "this",
        "that",
        "into",
        "new",
        "using",
        "based",
        "study",
        "project",
        "research",
    ]
)


@dataclass(frozen=True)
class Profiles:
    key: tuple[int, int, int]
    organisations: pd.DataFrame  # indexed by id: name, acronym, country, subdivision, kind
    topics: dict[str, frozenset[str]]
    semantic: SemanticIndex
    by_topic: dict[str, frozenset[str]]


@dataclass(frozen=True)
class PartnerMatch:
    organisation: str
    name: str
    country: str | None
    kind: str | None
    score: float
    parts: dict[str, float]
    reasons: list[str]
    funder: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"organisation": self.organisation, "name": self.name, "country": self.country,
                "kind": self.kind, "score": round(self.score, 4),
                "parts": {k: round(v, 4) for k, v in self.parts.items()},
                "reasons": self.reasons, "funder": self.funder}  # fmt: skip


@dataclass(frozen=True)
class PartnerSearch:
    idea: str
    matches: list[PartnerMatch]
    weights: dict[str, float] = field(default_factory=lambda: dict(WEIGHTS))

    def frame(self) -> pd.DataFrame:
        """One row per match (organisation, name, country, kind, score): the consortium
        builder's candidates."""
        return pd.DataFrame(
            [(m.organisation, m.name, m.country, m.kind, m.score) for m in self.matches],
            columns=["organisation", "name", "country", "kind", "score"],
        )


_lock = threading.Lock()
_cache: dict[str, Profiles] = {}


def _state(session: Session) -> tuple[int, int, int]:
    """What changes whenever organisations or participations do (every write is audited)."""
    organisations = session.scalar(select(func.count()).select_from(Organisation)) or 0
    participations = session.scalar(select(func.count()).select_from(Participation)) or 0
    audit = session.scalar(select(func.max(AuditEntry.id))) or 0
    return (organisations, participations, audit)


def profiles(session: Session) -> Profiles:
    """Every organisation's profile text, topics and vector (cached per database state)."""
    url = session.get_bind().engine.url.render_as_string(hide_password=True)
    key = _state(session)
    with _lock:
        cached = _cache.get(url)
        if cached is not None and cached.key == key:
            return cached
    topic_names = {tid: name for tid, name in session.execute(select(Topic.id, Topic.name))}
    rows = session.execute(
        select(
            Organisation.id,
            Organisation.name,
            Organisation.acronym,
            Organisation.country_code,
            Organisation.subdivision_code,
            Organisation.kind,
            Organisation.expertise,
        )
    ).all()
    organisations = pd.DataFrame(
        [row[:6] for row in rows],
        columns=["id", "name", "acronym", "country", "subdivision", "kind"],
    ).set_index("id")
    initiatives = {
        row.id: row
        for row in session.execute(
            select(
                Initiative.id,
                Initiative.name,
                Initiative.acronym,
                Initiative.topics,
                Initiative.summary,
            )
        )
    }
    texts: dict[str, list[str]] = {}
    topics: dict[str, set[str]] = {}
    for org_id, name, acronym, *_, expertise in rows:
        own = list(expertise or [])
        topics[org_id] = set(own)
        texts[org_id] = [name, acronym or "", *(topic_names.get(t, t) for t in own)]
    for org_id, initiative_id in session.execute(
        select(Participation.organisation_id, Participation.initiative_id)
    ):
        initiative = initiatives.get(initiative_id)
        if initiative is None or org_id not in texts:
            continue
        topics[org_id].update(initiative.topics or [])
        parts = texts[org_id]
        if sum(len(p) for p in parts) < PROFILE_CHARACTERS:
            parts += [initiative.acronym or "", initiative.name,
                      *(topic_names.get(t, t) for t in initiative.topics or []),
                      (initiative.summary or "")[:300]]  # fmt: skip
    by_topic: dict[str, set[str]] = {}
    for org_id, held in topics.items():
        for topic in held:
            by_topic.setdefault(topic, set()).add(org_id)
    built = Profiles(
        key=key,
        organisations=organisations,
        topics={k: frozenset(v) for k, v in topics.items()},
        semantic=SemanticIndex.build(
            (org_id, " ".join(p for p in parts if p)[:PROFILE_CHARACTERS])
            for org_id, parts in texts.items()
        ),
        by_topic={k: frozenset(v) for k, v in by_topic.items()},
    )
    with _lock:
        _cache[url] = built
    return built


def _checked_idea(idea: object) -> str:
    if not isinstance(idea, str) or not idea.strip():
        raise MatchInputError("idea", idea, "a description of the project idea")
    if len(idea) > MAX_IDEA:
        raise MatchInputError("idea", f"{len(idea)} characters", f"at most {MAX_IDEA}")
    if any(ord(c) < 32 and c not in "\t\n\r" for c in idea):
        raise MatchInputError("idea", idea[:40], "text without control characters")
    return idea.strip()


def _places(session: Session, countries: Sequence[str], regions: Sequence[str]) -> set[str] | None:
    if not countries and not regions:
        return None
    places = {c.upper() for c in countries}
    for region in regions:
        in_region = select(RegionMembership.country_code).where(
            RegionMembership.region_id == region
        )
        members = set(session.scalars(in_region))
        if not members:
            raise MatchInputError("region", region, "the id of a graph region (e.g. celac, eu27)")
        places |= members
    return places


def _lexical(session: Session, idea: str, limit: int) -> list[str]:
    """Organisations by the idea's words: their own documents, and the participants of the
    initiatives that hold the words, in rank order."""
    terms = [[w] for w in dict.fromkeys(words(idea)) if w not in STOP_WORDS and len(w) > 2]
    if not terms:
        return []
    hits = rank_any(session, terms, ["organisation", "initiative"], limit=limit)
    initiative_ids = [h.id for h in hits if h.entity_type == "initiative"]
    members: dict[str, list[str]] = {}
    if initiative_ids:
        for org_id, initiative_id in session.execute(
            select(Participation.organisation_id, Participation.initiative_id).where(
                Participation.initiative_id.in_(initiative_ids))):  # fmt: skip
            members.setdefault(initiative_id, []).append(org_id)
    ranked: list[str] = []
    for hit in hits:
        ranked += [hit.id] if hit.entity_type == "organisation" else sorted(members.get(hit.id, []))
    return list(dict.fromkeys(ranked))


def _collaborations(session: Session, partners: Sequence[str]) -> dict[str, int]:
    if not partners:
        return {}
    theirs = select(Participation.initiative_id).where(Participation.organisation_id.in_(partners))
    rows = session.execute(
        select(
            Participation.organisation_id,
            func.count(func.distinct(Participation.initiative_id)),
        )
        .where(Participation.initiative_id.in_(theirs))
        .group_by(Participation.organisation_id)
    )  # fmt: skip
    return {org: int(n) for org, n in rows}


def search_partners(
    session: Session,
    idea: str,
    *,
    topics: Sequence[str] = (),
    countries: Sequence[str] = (),
    regions: Sequence[str] = (),
    partners: Sequence[str] = (),
    call: Call | None = None,
    own_funded: bool = False,
    limit: int = 20,
) -> PartnerSearch:
    """Organisations for `idea`, best first (see the module's score), with their reasons."""
    text = _checked_idea(idea)
    if not 1 <= limit <= 200:
        raise MatchInputError("limit", limit, "a whole number from 1 to 200")
    found = profiles(session)
    orgs = found.organisations
    known_topics = set(session.scalars(select(Topic.id)))
    unknown = [t for t in topics if t not in known_topics]
    if unknown:
        raise MatchInputError("topics", unknown, "topic ids of the ICPerMed taxonomy")
    missing = [p for p in partners if p not in orgs.index]
    if missing:
        raise MatchInputError("partners", missing, "ids of organisations in the graph")
    places = _places(session, countries, regions)
    allowed = None if places is None else set(orgs.index[orgs["country"].isin(places)])
    semantic = [h.id for h in found.semantic.query(text, k=CANDIDATES, among=allowed)]
    lexical = [o for o in _lexical(session, text, CANDIDATES) if allowed is None or o in allowed]
    fused = dict(reciprocal_rank_fusion([semantic, lexical]))
    best = 2.0 / (60 + 1)
    semantic_rank = {o: n for n, o in enumerate(semantic, start=1)}
    lexical_rank = {o: n for n, o in enumerate(lexical, start=1)}
    pool = set(fused)
    for topic in topics:
        pool |= {o for o in found.by_topic.get(topic, ()) if allowed is None or o in allowed}
    pool -= set(partners)
    shared = _collaborations(session, partners)
    chosen_countries = {orgs.at[p, "country"] for p in partners}
    matches = []
    for org_id in pool:
        row = orgs.loc[org_id]
        reasons: list[str] = []
        funder = None
        if call is not None:
            funder = funder_for(call, row["country"] or "", row["subdivision"], row["kind"] or "")
            if funder is None and not own_funded:
                continue
            reasons.append(f"eligible in {call.id} through {funder}" if funder
                           else f"no funder of {call.id} funds it: own-funded only")  # fmt: skip
        held = sorted(set(topics) & found.topics.get(org_id, frozenset()))
        parts = {
            "idea": fused.get(org_id, 0.0) / best,
            "topics": len(held) / len(topics) if topics else 0.0,
            "collaboration": min(shared.get(org_id, 0), FULL_COLLABORATION) / FULL_COLLABORATION,
            "new_country": 1.0 if partners and row["country"] not in chosen_countries else 0.0,
        }
        if org_id in semantic_rank or org_id in lexical_rank:
            ranks = [
                f"{semantic_rank[org_id]} by meaning" if org_id in semantic_rank else "",
                f"{lexical_rank[org_id]} by words" if org_id in lexical_rank else "",
            ]
            reasons.insert(0, f"matches the idea (rank {' and '.join(r for r in ranks if r)})")
        if held:
            reasons.append(f"holds {len(held)} of {len(topics)} wanted topics: {', '.join(held)}")
        if shared.get(org_id):
            reasons.append(f"shared {shared[org_id]} initiative(s) with the chosen partners")
        if parts["new_country"]:
            reasons.append(f"adds a country to the consortium ({row['country']})")
        score = sum(WEIGHTS[k] * v for k, v in parts.items())
        matches.append(PartnerMatch(org_id, row["name"], row["country"], row["kind"], score,
                                    parts, reasons, funder))  # fmt: skip
    matches.sort(key=lambda m: (-m.score, m.organisation))
    return PartnerSearch(text, matches[:limit])
