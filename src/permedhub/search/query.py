"""Ranked full-text search: SQLite FTS5 (bm25) or PostgreSQL full text (ts_rank), one API.

A query matches when it has all its words (the last one as a prefix, as typed so far), or
when its words run together are a prefix of an indexed key ("eu-lac" -> "eulac*" finds
"eulacpermed"). Only the last word is a prefix because a prefix term costs the index a scan of
every matching word: on 100,000 organisations "synthetic* organisation* 4711*" took 200 ms, the
same query with one prefix under 1 ms. Names and acronyms weigh more than descriptions.
Snippets come back HTML-escaped with <mark> around matches.

Broad queries ("university", "Germany": tens of thousands of matches) are not ranked whole:
bm25 / ts_rank over every match cost 100-350 ms. When the whole words alone match more than
`candidates` records (default 2,000), the hits are the best-ranked among the first `candidates`
matches in index order, and the total becomes a lower bound (`SearchResults.total_exact` is
false): counting stops at `count_limit`, and words the last word only begins are not counted.
A query whose whole words match fewer records is ranked and counted exactly, as before.

A query that no record matches in all its terms still finds its best partial matches: terms
that match nothing (within the facets) are set aside, then the records with as many of the
others as any record has are ranked; `SearchResults.matched` and `unmatched` say which words
those were, and each hit's `matched_words` which it has. Country names and demonyms in English,
Spanish, Portuguese and French ("Alemania", "allemande") also match the country's English name
(`search.terms`, `search.countries`).
"""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Select, select, text
from sqlalchemy.orm import Session

from permedhub.search.countries import indexed_name
from permedhub.search.models import SearchDocument
from permedhub.search.terms import (
    Term,
    fts5_all,
    fts5_any_of,
    has_term,
    query_terms_of,
    tsquery_all,
    tsquery_any_of,
)
from permedhub.search.text import query_terms, words

# Snippets come from the body (column 3 of search_fts: title, acronym, keys, body): the keys
# column holds spelling variants for matching, not text a person wrote.
BODY_COLUMN = 3
# Private-use characters mark matches inside snippets: they cannot occur in indexed text, so the
# snippet can be escaped first and the marks turned into <mark> afterwards.
OPEN, CLOSE = "\ue000", "\ue001"
# The region facet reads which countries a region has from the graph's table of that name: a
# dependency on the database's schema (tested against the graph's model), not on graph code.
REGION_MEMBERSHIP_TABLE = "region_membership"
URL_PREFIX = {
    "initiative": "/initiatives/",
    "organisation": "/organisations/",
    "topic": "/topics/",
    "call": "/calls/",
    "helpdesk-faq": "/helpdesk/faq/",
    "helpdesk-body": "/helpdesk/facts/body/",
    "helpdesk-rule": "/helpdesk/facts/rule/",
    "helpdesk-funding": "/helpdesk/facts/funding/",
}


class SearchHit(BaseModel):
    entity_type: str
    id: str
    title: str
    acronym: str | None = None
    snippet_html: str = Field(description="HTML-escaped text; matches wrapped in <mark>")
    score: float
    url: str
    matched_words: list[str] = Field(
        default_factory=list,
        description="the query's words this record has; empty when it has them all",
    )


class SearchQueryError(ValueError):
    """The query has nothing to search for."""


@dataclass(frozen=True)
class SearchFilters:
    entity_types: tuple[str, ...] = ()
    country: str | None = None
    region: str | None = None
    kind: str | None = None


SEARCH_CANDIDATES = 2000
COUNT_LIMIT = 10_000
# A partial search tries the groups of the query's terms that are one term smaller at a time;
# beyond this many groups of one size it looks for records with any one term instead.
MAX_TERM_GROUPS = 35


@dataclass(frozen=True)
class SearchResults:
    hits: list[SearchHit]
    total: int
    # False when `total` is a lower bound (a broad query; see the module's docstring).
    total_exact: bool = True
    # A broad query's hits are the best of this many matches (in index order); None: of all.
    ranked_within: int | None = None
    # The query's words (as typed, folded) that the hits have and those no hit has. When
    # `partial`, no record has them all and the hits have `matched_count` of them.
    matched: list[str] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    partial: bool = False
    matched_count: int = 0
    # Words read as a country: (words, ISO code, the country's name).
    countries: list[tuple[str, str, str]] = field(default_factory=list)
    # With no hits but facets set: how many records the query matches without them.
    unfiltered_total: int | None = None


def _terms(query: str) -> tuple[list[Term], str | None]:
    terms = query_terms_of(query)
    if not terms:
        raise SearchQueryError(f"q={query!r}: expected at least one letter or digit")
    return terms, query_terms(query)[1]


def fts5_expression(query: str, *, prefix: bool = True) -> str:
    terms, joined = _terms(query)
    star = "*" if prefix else ""
    all_terms = fts5_all(terms, prefix)
    return f'({all_terms}) OR "{joined}"{star}' if joined else all_terms


def tsquery_expression(query: str, *, prefix: bool = True) -> str:
    terms, joined = _terms(query)
    star = ":*" if prefix else ""
    all_terms = tsquery_all(terms, prefix)
    return f"({all_terms}) | {joined}{star}" if joined else all_terms


def matching_ids(session: Session, query: str, entity_type: str) -> Select[str]:
    """A sub-select of the ids of `entity_type` records that match `query` (for list filters)."""
    doc = SearchDocument
    if _dialect(session) == "sqlite":
        return (
            select(doc.entity_id)
            .where(doc.entity_type == entity_type)
            .where(
                doc.rowid.in_(
                    select(text("rowid"))
                    .select_from(text("search_fts"))
                    .where(text("search_fts MATCH :fts").bindparams(fts=fts5_expression(query)))
                )
            )
        )
    return select(doc.entity_id).where(
        doc.entity_type == entity_type,
        text("tsv @@ to_tsquery('simple', :tsq)").bindparams(tsq=tsquery_expression(query)),
    )


def search(
    session: Session,
    query: str,
    filters: SearchFilters | None = None,
    *,
    limit: int = 20,
    offset: int = 0,
    candidates: int = SEARCH_CANDIDATES,
    count_limit: int = COUNT_LIMIT,
) -> SearchResults:
    """Ranked hits for `query` (best first) and the number of matches.

    Exact for queries that match at most `candidates` records by their whole words; broader
    ones are ranked among the first `candidates` (or `offset + limit`, if more) matches and
    counted up to `count_limit` (see the module's docstring).
    """
    if limit < 1 or offset < 0 or candidates < 1 or count_limit < candidates:
        raise ValueError(
            f"limit={limit}, offset={offset}, candidates={candidates}, "
            f"count_limit={count_limit}: expected limit >= 1, offset >= 0, "
            "1 <= candidates <= count_limit"
        )
    filters = filters or SearchFilters()
    where, params = _filter_sql(filters)
    sqlite = _dialect(session) == "sqlite"
    terms, joined = _terms(query)
    countries = [
        (t.label, str(t.country), indexed_name(str(t.country))) for t in terms if t.country
    ]
    labels = [t.label for t in terms]
    window = max(candidates, offset + limit)

    def expression(prefix: bool) -> str:
        return (fts5_expression if sqlite else tsquery_expression)(query, prefix=prefix)

    found = _ranked(
        session,
        sqlite,
        expression,
        where,
        params,
        joined or labels[0],
        limit,
        offset,
        window,
        count_limit,
    )
    if found.total or len(terms) == 1:
        results = SearchResults(
            **found.__dict__,
            matched=labels if found.total else [],
            unmatched=[] if found.total else labels,
            countries=countries,
        )
        return _with_unfiltered_total(
            session, sqlite, results, expression(True), where, count_limit
        )
    present = [
        t
        for t in terms
        if _count(session, sqlite, (fts5_all if sqlite else tsquery_all)([t]), where, params, 1)
    ]
    unmatched = [t.label for t in terms if t not in present]
    if not present:
        results = SearchResults(hits=[], total=0, unmatched=labels, countries=countries)
        return _with_unfiltered_total(
            session, sqlite, results, expression(True), where, count_limit
        )
    any_of = fts5_any_of if sqlite else tsquery_any_of
    size = len(present)
    while size > 1:
        groups = list(combinations(present, size))
        if len(groups) <= MAX_TERM_GROUPS and _count(
            session, sqlite, any_of(groups, True), where, params, 1
        ):
            break
        size -= 1
    groups = list(combinations(present, size))

    def partial_expression(prefix: bool) -> str:
        return any_of(groups, prefix)

    found = _ranked(
        session,
        sqlite,
        partial_expression,
        where,
        params,
        "",
        limit,
        offset,
        window,
        count_limit,
        terms=present,
    )
    return SearchResults(
        **found.__dict__,
        matched=[t.label for t in present],
        unmatched=unmatched,
        partial=True,
        matched_count=size,
        countries=countries,
    )


@dataclass(frozen=True)
class _Ranked:
    hits: list[SearchHit]
    total: int
    total_exact: bool
    ranked_within: int | None


def _with_unfiltered_total(
    session: Session,
    sqlite: bool,
    results: SearchResults,
    match: str,
    where: str,
    count_limit: int,
) -> SearchResults:
    """An empty result under facets says how many records the query finds without them."""
    if results.total or not where:
        return results
    unfiltered = _count(session, sqlite, match, "", {}, count_limit)
    return dataclasses.replace(results, unfiltered_total=unfiltered)


def _ranked(
    session: Session,
    sqlite: bool,
    expression: Callable[[bool], str],
    where: str,
    filter_params: dict[str, object],
    compact: str,
    limit: int,
    offset: int,
    window: int,
    count_limit: int,
    terms: Sequence[Term] = (),
) -> _Ranked:
    """The best hits for one match expression (built with or without the last word as a
    prefix); with `terms`, each hit says which of them it has."""
    params = dict(filter_params)
    # Whole words first: if they alone fill the window, the prefix expansion (on the benchmark
    # graph "synthetic*" opens 100,000 distinct keys) would only add cost.
    whole_words = expression(False)
    if _count(session, sqlite, whole_words, where, params, window + 1) > window:
        match = whole_words
        total = _count(session, sqlite, match, where, params, count_limit)
        exact = False
        ranked_within: int | None = window
    else:
        match = expression(True)
        total = _count(session, sqlite, match, where, params, count_limit + 1)
        exact = total <= count_limit
        total = min(total, count_limit)
        ranked_within = window if total > window else None
    # An acronym typed in full ("era permed" for "ERA PerMed") outranks any longer text match.
    params["compact"] = compact
    exact_acronym = (
        "(replace(replace(replace(lower(d.acronym), ' ', ''), '-', ''), '.', '') = :compact)"
    )
    if sqlite:
        params["fts"] = match
        # CROSS JOIN keeps the index outermost: with a type facet SQLite otherwise walked the
        # documents of that type and ran the full-text query once for each (30 s for
        # "synthetic" among 2,000 initiatives, 30 ms this way).
        base = (
            "FROM search_fts CROSS JOIN search_document d ON d.rowid = search_fts.rowid "
            f"WHERE search_fts MATCH :fts {where}"
        )
        if ranked_within is not None:
            # The window ends at its last match's rowid: FTS5 takes a rowid range natively.
            params["last_rowid"] = session.execute(
                text(f"SELECT search_fts.rowid {base} ORDER BY search_fts.rowid LIMIT 1 OFFSET :n"),
                {**params, "n": window - 1},
            ).scalar_one()
            base += " AND search_fts.rowid <= :last_rowid"
        rows_sql = text(
            "SELECT d.entity_type, d.entity_id, d.title, d.acronym, d.keys, d.body, "
            "bm25(search_fts, 5.0, 10.0, 8.0, 1.0) AS rank, "
            f"snippet(search_fts, {BODY_COLUMN}, '{OPEN}', '{CLOSE}', '…', 16) AS snip "
            f"{base} ORDER BY {exact_acronym} DESC, rank LIMIT :limit OFFSET :offset"
        )
        score_sign = -1.0  # bm25: lower is better
    else:
        params["tsq"] = match
        params["window"] = window if ranked_within is not None else None  # LIMIT NULL: all
        rows_sql = text(
            "WITH q AS (SELECT to_tsquery('simple', :tsq) AS q), "
            "c AS MATERIALIZED (SELECT d.* FROM search_document d, q "
            f"WHERE d.tsv @@ q.q {where} LIMIT :window) "
            "SELECT d.entity_type, d.entity_id, d.title, d.acronym, d.keys, d.body, "
            "ts_rank(d.tsv, q.q) AS rank, "
            f"ts_headline('simple', d.title || ' · ' || d.body, q.q, "
            f"'StartSel={OPEN}, StopSel={CLOSE}, MaxWords=24, MinWords=8') AS snip "
            f"FROM c d, q ORDER BY {exact_acronym} DESC, rank DESC, d.title "
            "LIMIT :limit OFFSET :offset"
        )
        score_sign = 1.0
    rows = session.execute(rows_sql, {**params, "limit": limit, "offset": offset})
    hits = [
        SearchHit(
            entity_type=r.entity_type,
            id=r.entity_id,
            title=r.title,
            acronym=r.acronym or None,
            snippet_html=_snippet_html(r.snip or r.title),
            score=round(score_sign * float(r.rank), 6),
            url=URL_PREFIX.get(r.entity_type, "/") + r.entity_id,
            matched_words=_matched_words(terms, r) if terms else [],
        )
        for r in rows
    ]
    return _Ranked(hits=hits, total=int(total), total_exact=exact, ranked_within=ranked_within)


def _matched_words(terms: Sequence[Term], row: Any) -> list[str]:
    document_words = words(" ".join([row.title, row.acronym or "", row.keys or "", row.body or ""]))
    return [t.label for t in terms if has_term(t, document_words)]


def _count(
    session: Session,
    sqlite: bool,
    match: str,
    where: str,
    params: dict[str, object],
    cap: int,
) -> int:
    """The number of records matching `match` and the facets, counting no further than `cap`."""
    if sqlite and not where:  # no facet: count in the index alone, without the join
        inner = "SELECT 1 FROM search_fts WHERE search_fts MATCH :m LIMIT :cap"
    elif sqlite:
        inner = (
            "SELECT 1 FROM search_fts CROSS JOIN search_document d ON d.rowid = search_fts.rowid "
            f"WHERE search_fts MATCH :m {where} LIMIT :cap"
        )
    else:
        inner = (
            "SELECT 1 FROM search_document d "
            f"WHERE d.tsv @@ to_tsquery('simple', :m) {where} LIMIT :cap"
        )
    counted = session.execute(
        text(f"SELECT count(*) FROM ({inner}) AS matches"), {**params, "m": match, "cap": cap}
    ).scalar_one()
    return int(counted)


def _filter_sql(filters: SearchFilters) -> tuple[str, dict[str, object]]:
    clauses: list[str] = []
    params: dict[str, object] = {}
    if filters.entity_types:
        names = [f"et{i}" for i in range(len(filters.entity_types))]
        clauses.append(f"d.entity_type IN ({', '.join(':' + n for n in names)})")
        params.update(dict(zip(names, filters.entity_types, strict=True)))
    if filters.country:
        clauses.append("d.country_code = :country")
        params["country"] = filters.country.upper()
    if filters.kind:
        clauses.append("d.kind = :kind")
        params["kind"] = filters.kind
    if filters.region:
        clauses.append(
            f"d.country_code IN (SELECT country_code FROM {REGION_MEMBERSHIP_TABLE} "
            "WHERE region_id = :region)"
        )
        params["region"] = filters.region
    return "".join(" AND " + c for c in clauses), params


def _snippet_html(snippet: str) -> str:
    return html.escape(snippet).replace(OPEN, "<mark>").replace(CLOSE, "</mark>")


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name
