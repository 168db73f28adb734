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

Only organisations of the research kinds (RESEARCH_KINDS: universities, institutes,
hospitals, companies, NGOs, infrastructures) are searched unless `kinds` says otherwise. With a
call, organisations no participating funder would fund are dropped unless own-funded
partners are asked for; each kept one says which funder would fund it (`consortium.funder_for`).
Target countries or regions are filters. The profiles and their vectors are built once per
process and database state and reused until the graph changes.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, get_args

import numpy as np
import pandas as pd
from scipy import sparse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from permedhub.calls.model import Call, Partner
from permedhub.graph.models import (
    AuditEntry,
    Initiative,
    Organisation,
    Participation,
    RegionMembership,
    Topic,
)
from permedhub.graph.schemas import OrganisationKind
from permedhub.match.consortium import funder_for
from permedhub.match.errors import MatchInputError
from permedhub.search.lexical import rank_any
from permedhub.search.semantic import SemanticIndex, reciprocal_rank_fusion
from permedhub.search.text import words

# Who does research with a consortium (funders, ministries, agencies and regulators fund,
# govern or approve it): the kinds searched unless others are asked for.
RESEARCH_KINDS = ("university", "research-institute", "hospital", "company", "ngo",
                  "infrastructure")  # fmt: skip
WEIGHTS = {"idea": 0.5, "topics": 0.3, "collaboration": 0.1, "new_country": 0.1}
FULL_COLLABORATION = 3
CANDIDATES = 200  # per ranking, before the other parts are scored
MAX_IDEA = 2000
PROFILE_CHARACTERS = 600
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
    """The organisations, by position: ids, places and kinds as arrays, the topics each holds
    as a sparse (organisations x topics) matrix, and their profile vectors."""

    key: tuple[int, int, int]
    ids: np.ndarray
    position: dict[str, int]
    names: np.ndarray
    country: np.ndarray
    subdivision: np.ndarray
    kind: np.ndarray
    topic_column: dict[str, int]
    holds: sparse.csc_matrix
    topics_of: sparse.csr_matrix  # the same, by rows: the topics of one organisation
    semantic: SemanticIndex


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
    """Every organisation's profile, topics and vector (cached per database state)."""
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
        ).order_by(Organisation.id)
    ).all()
    position = {row[0]: n for n, row in enumerate(rows)}
    initiatives = {
        row.id: (
            " ".join(x for x in (row.acronym, row.name) if x),
            tuple(row.topics or ()),
        )
        for row in session.execute(
            select(Initiative.id, Initiative.name, Initiative.acronym, Initiative.topics)
        )
    }
    texts = [[name, acronym or "", *(topic_names.get(t, t) for t in expertise or [])]
             for _, name, acronym, *_, expertise in rows]  # fmt: skip
    lengths = [sum(len(p) for p in parts) for parts in texts]
    held: list[set[str]] = [set(row[6] or ()) for row in rows]
    for org_id, initiative_id in session.execute(
        select(Participation.organisation_id, Participation.initiative_id)
    ):
        n = position.get(org_id)
        found = initiatives.get(initiative_id)
        if n is None or found is None:
            continue
        label, topics = found
        held[n].update(topics)
        # A profile keeps the first initiatives that fit: what an organisation is known for,
        # not its whole history (that would make the vectors of the busiest ones all alike).
        if lengths[n] < PROFILE_CHARACTERS:
            texts[n].append(label)
            lengths[n] += len(label)
    topic_column = {t: c for c, t in enumerate(sorted({t for h in held for t in h}))}
    pairs = [(n, topic_column[t]) for n, h in enumerate(held) for t in h]
    rows_of = np.fromiter((r for r, _ in pairs), dtype=np.int64, count=len(pairs))
    cols_of = np.fromiter((c for _, c in pairs), dtype=np.int64, count=len(pairs))
    holds = sparse.csc_matrix(
        (np.ones(len(pairs), dtype=np.float32), (rows_of, cols_of)),
        shape=(len(rows), len(topic_column)),
    )
    column = list(zip(*rows, strict=True)) if rows else [()] * 7
    built = Profiles(
        key=key,
        ids=np.array(column[0], dtype=object),
        position=position,
        names=np.array(column[1], dtype=object),
        country=np.array([c or "" for c in column[3]], dtype=str),
        subdivision=np.array(column[4], dtype=object),
        kind=np.array([k or "" for k in column[5]], dtype=str),
        topic_column=topic_column,
        holds=holds,
        topics_of=holds.tocsr(),
        semantic=SemanticIndex.build(
            (row[0], " ".join(p for p in parts if p))
            for row, parts in zip(rows, texts, strict=True)
        ),
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
    kinds: Sequence[str] = RESEARCH_KINDS,
    limit: int = 20,
) -> PartnerSearch:
    """Organisations for `idea`, best first (see the module's score), with their reasons."""
    text = _checked_idea(idea)
    if not 1 <= limit <= 200:
        raise MatchInputError("limit", limit, "a whole number from 1 to 200")
    found = profiles(session)
    known_topics = set(session.scalars(select(Topic.id)))
    unknown = [t for t in topics if t not in known_topics]
    if unknown:
        raise MatchInputError("topics", unknown, "topic ids of the ICPerMed taxonomy")
    odd = sorted(set(kinds) - set(get_args(OrganisationKind)))
    if odd or not kinds:
        raise MatchInputError("kinds", odd or list(kinds), "organisation kinds of the graph")
    missing = [p for p in partners if p not in found.position]
    if missing:
        raise MatchInputError("partners", missing, "ids of organisations in the graph")
    places = _places(session, countries, regions)
    in_place = (
        np.ones(len(found.ids), dtype=bool)
        if places is None
        else np.isin(found.country, sorted(places))
    )
    in_place &= np.isin(found.kind, list(kinds))
    among = in_place
    semantic = [h.id for h in found.semantic.query(text, k=CANDIDATES, among=among)]
    lexical = [
        o for o in _lexical(session, text, CANDIDATES) if o in found.position
        and in_place[found.position[o]]
    ]  # fmt: skip
    fused = dict(reciprocal_rank_fusion([semantic, lexical]))
    semantic_rank = {o: n for n, o in enumerate(semantic, start=1)}
    lexical_rank = {o: n for n, o in enumerate(lexical, start=1)}

    # Candidates: those the idea found, and (within the places) those holding a wanted topic.
    wanted = [found.topic_column[t] for t in dict.fromkeys(topics) if t in found.topic_column]
    held = (
        np.asarray(found.holds[:, wanted].sum(axis=1)).ravel()
        if wanted
        else np.zeros(len(found.ids))
    )
    candidate = (held > 0) & in_place
    for org_id in fused:
        candidate[found.position[org_id]] = True
    for org_id in partners:
        candidate[found.position[org_id]] = False
    pool = np.flatnonzero(candidate)

    funders = np.full(len(pool), None, dtype=object)
    if call is not None:
        # One lookup per distinct place and kind, not per organisation.
        combos = {}
        for n, j in enumerate(pool):
            combo = (str(found.country[j]), found.subdivision[j], str(found.kind[j]))
            if combo not in combos:
                combos[combo] = funder_for(call, *combo)
            funders[n] = combos[combo]
        if not own_funded:
            keep = np.array([f is not None for f in funders], dtype=bool)
            pool, funders = pool[keep], funders[keep]

    best = 2.0 / (60 + 1)  # first in both rankings
    shared = _collaborations(session, partners)
    chosen_countries = {str(found.country[found.position[p]]) for p in partners}
    by_idea = np.zeros(len(found.ids))
    for org_id, value in fused.items():
        by_idea[found.position[org_id]] = value / best
    together = np.zeros(len(found.ids))
    for org_id, count in shared.items():
        if org_id in found.position:
            together[found.position[org_id]] = min(count, FULL_COLLABORATION)
    parts: dict[str, np.ndarray] = {
        "idea": by_idea[pool],
        "topics": held[pool] / len(topics) if topics else np.zeros(len(pool)),
        "collaboration": together[pool] / FULL_COLLABORATION,
        "new_country": (
            ~np.isin(found.country[pool], sorted(chosen_countries))
            if partners
            else np.zeros(len(pool), dtype=bool)
        ).astype(float),
    }
    score: np.ndarray = np.sum([WEIGHTS[k] * v for k, v in parts.items()], axis=0)
    # Ties go to the smaller id: positions follow the ids' order.
    order = np.lexsort((pool, -score))[:limit]
    matches = [
        _match(
            found,
            pool[n],
            float(score[n]),
            {k: float(v[n]) for k, v in parts.items()},
            funders[n],
            topics,
            call,
            semantic_rank,
            lexical_rank,
            shared,
        )
        for n in order
    ]
    return PartnerSearch(text, matches)


def _match(
    found: Profiles,
    j: int,
    score: float,
    parts: dict[str, float],
    funder: str | None,
    topics: Sequence[str],
    call: Call | None,
    semantic_rank: dict[str, int],
    lexical_rank: dict[str, int],
    shared: dict[str, int],
) -> PartnerMatch:
    """One ranked organisation with the reasons behind each part of its score."""
    org_id = str(found.ids[j])
    reasons: list[str] = []
    if org_id in semantic_rank or org_id in lexical_rank:
        ranks = [
            f"{semantic_rank[org_id]} by meaning" if org_id in semantic_rank else "",
            f"{lexical_rank[org_id]} by words" if org_id in lexical_rank else "",
        ]
        reasons.append(f"matches the idea (rank {' and '.join(r for r in ranks if r)})")
    if call is not None:
        reasons.append(
            f"eligible in {call.id} through {funder}"
            if funder
            else f"no funder of {call.id} funds it: own-funded only"
        )
    rows = found.topics_of
    columns = rows.indices[rows.indptr[j] : rows.indptr[j + 1]]
    by_column = {c: t for t, c in found.topic_column.items()}
    held = sorted(set(topics) & {by_column[c] for c in columns})
    if held:
        reasons.append(f"holds {len(held)} of {len(topics)} wanted topics: {', '.join(held)}")
    if shared.get(org_id):
        reasons.append(f"shared {shared[org_id]} initiative(s) with the chosen partners")
    if parts["new_country"]:
        reasons.append(f"adds a country to the consortium ({found.country[j]})")
    country, kind = str(found.country[j]) or None, str(found.kind[j]) or None
    return PartnerMatch(org_id, str(found.names[j]), country, kind, score, parts, reasons, funder)


def as_call_partners(session: Session, call: Call, ids: Sequence[str]) -> list[Partner]:
    """The chosen organisations as partners of the call (each asking the funder that would
    fund it, own-funded when none would)."""
    rows = session.execute(
        select(Organisation.id, Organisation.name, Organisation.country_code,
               Organisation.subdivision_code, Organisation.kind)
        .where(Organisation.id.in_(ids))
    ).all()  # fmt: skip
    unknown = sorted(set(ids) - {row[0] for row in rows})
    if unknown:
        raise MatchInputError("partners", unknown, "ids of organisations in the graph")
    partners = []
    for org_id, name, country, subdivision, kind in rows:
        if not country or not kind:
            raise MatchInputError("partners", org_id, "an organisation with a country and a "
                                  "kind (the call's rules need both)")  # fmt: skip
        funder = funder_for(call, country, subdivision, kind)
        partners.append(Partner(organisation=org_id, name=name, country=country, kind=kind,
                                funder=funder, own_funded=funder is None))  # fmt: skip
    return partners
