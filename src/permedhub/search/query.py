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
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from pydantic import BaseModel, Field
from sqlalchemy import Select, select, text
from sqlalchemy.orm import Session

from permedhub.search.models import SearchDocument
from permedhub.search.text import query_terms

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
}


class SearchHit(BaseModel):
    entity_type: str
    id: str
    title: str
    acronym: str | None = None
    snippet_html: str = Field(description="HTML-escaped text; matches wrapped in <mark>")
    score: float
    url: str


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


@dataclass(frozen=True)
class SearchResults:
    hits: list[SearchHit]
    total: int
    # False when `total` is a lower bound (a broad query; see the module's docstring).
    total_exact: bool = True
    # A broad query's hits are the best of this many matches (in index order); None: of all.
    ranked_within: int | None = None


def _terms(query: str) -> tuple[list[str], str | None]:
    parts, joined = query_terms(query)
    if not parts:
        raise SearchQueryError(f"q={query!r}: expected at least one letter or digit")
    return parts, joined


def fts5_expression(query: str, *, prefix: bool = True) -> str:
    parts, joined = _terms(query)
    star = "*" if prefix else ""
    all_words = " AND ".join([*(f'"{p}"' for p in parts[:-1]), f'"{parts[-1]}"{star}'])
    return f'({all_words}) OR "{joined}"{star}' if joined else all_words


def tsquery_expression(query: str, *, prefix: bool = True) -> str:
    parts, joined = _terms(query)
    star = ":*" if prefix else ""
    all_words = " & ".join([*parts[:-1], f"{parts[-1]}{star}"])
    return f"({all_words}) | {joined}{star}" if joined else all_words


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
    window = max(candidates, offset + limit)
    sqlite = _dialect(session) == "sqlite"
    expression = fts5_expression if sqlite else tsquery_expression
    # Whole words first: if they alone fill the window, the prefix expansion (on the benchmark
    # graph "synthetic*" opens 100,000 distinct keys) would only add cost.
    whole_words = expression(query, prefix=False)
    if _count(session, sqlite, whole_words, where, params, window + 1) > window:
        match = whole_words
        total = _count(session, sqlite, match, where, params, count_limit)
        exact = False
        ranked_within: int | None = window
    else:
        match = expression(query)
        total = _count(session, sqlite, match, where, params, count_limit + 1)
        exact = total <= count_limit
        total = min(total, count_limit)
        ranked_within = window if total > window else None
    # An acronym typed in full ("era permed" for "ERA PerMed") outranks any longer text match.
    parts, joined = query_terms(query)
    params["compact"] = joined or (parts[0] if parts else "")
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
            "SELECT d.entity_type, d.entity_id, d.title, d.acronym, "
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
            "SELECT d.entity_type, d.entity_id, d.title, d.acronym, "
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
        )
        for r in rows
    ]
    return SearchResults(
        hits=hits, total=int(total), total_exact=exact, ranked_within=ranked_within
    )


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
