"""Ranked full-text search: SQLite FTS5 (bm25) or PostgreSQL full text (ts_rank), one API.

A query matches when it has all its words (the last one as a prefix, as typed so far), or
when its words run together are a prefix of an indexed key ("eu-lac" -> "eulac*" finds
"eulacpermed"). Only the last word is a prefix because a prefix term costs the index a scan of
every matching word: on 100,000 organisations "synthetic* organisation* 4711*" took 200 ms, the
same query with one prefix under 1 ms. Names and acronyms weigh more than descriptions.
Snippets come back HTML-escaped with <mark> around matches.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from sqlalchemy import Select, select, text
from sqlalchemy.orm import Session

from permedhub.graph.models import RegionMembership, SearchDocument
from permedhub.graph.views import SearchHit
from permedhub.search.text import query_terms

# Private-use characters mark matches inside snippets: they cannot occur in indexed text, so the
# snippet can be escaped first and the marks turned into <mark> afterwards.
OPEN, CLOSE = "\ue000", "\ue001"
URL_PREFIX = {
    "initiative": "/initiatives/",
    "organisation": "/organisations/",
    "topic": "/topics/",
    "call": "/calls/",
}


class SearchQueryError(ValueError):
    """The query has nothing to search for."""


@dataclass(frozen=True)
class SearchFilters:
    entity_types: tuple[str, ...] = ()
    country: str | None = None
    region: str | None = None
    kind: str | None = None


def fts5_expression(query: str) -> str:
    parts, joined = query_terms(query)
    if not parts:
        raise SearchQueryError(f"q={query!r}: expected at least one letter or digit")
    all_words = " AND ".join([*(f'"{p}"' for p in parts[:-1]), f'"{parts[-1]}"*'])
    return f'({all_words}) OR "{joined}"*' if joined else all_words


def tsquery_expression(query: str) -> str:
    parts, joined = query_terms(query)
    if not parts:
        raise SearchQueryError(f"q={query!r}: expected at least one letter or digit")
    all_words = " & ".join([*parts[:-1], f"{parts[-1]}:*"])
    return f"({all_words}) | {joined}:*" if joined else all_words


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
) -> tuple[list[SearchHit], int]:
    """Ranked hits for `query` (best first) and the total number of matches."""
    filters = filters or SearchFilters()
    where, params = _filter_sql(filters)
    # An acronym typed in full ("era permed" for "ERA PerMed") outranks any longer text match.
    parts, joined = query_terms(query)
    params["compact"] = joined or (parts[0] if parts else "")
    exact_acronym = (
        "(replace(replace(replace(lower(d.acronym), ' ', ''), '-', ''), '.', '') = :compact)"
    )
    if _dialect(session) == "sqlite":
        params["fts"] = fts5_expression(query)
        base = (
            "FROM search_fts JOIN search_document d ON d.rowid = search_fts.rowid "
            f"WHERE search_fts MATCH :fts {where}"
        )
        rows_sql = text(
            "SELECT d.entity_type, d.entity_id, d.title, d.acronym, "
            "bm25(search_fts, 5.0, 10.0, 8.0, 1.0) AS rank, "
            f"snippet(search_fts, -1, '{OPEN}', '{CLOSE}', '…', 16) AS snip "
            f"{base} ORDER BY {exact_acronym} DESC, rank LIMIT :limit OFFSET :offset"
        )
        score_sign = -1.0  # bm25: lower is better
    else:
        params["tsq"] = tsquery_expression(query)
        base = f"FROM search_document d, to_tsquery('simple', :tsq) q WHERE d.tsv @@ q {where}"
        rows_sql = text(
            "SELECT d.entity_type, d.entity_id, d.title, d.acronym, "
            "ts_rank(d.tsv, q) AS rank, "
            f"ts_headline('simple', d.title || ' · ' || d.body, q, "
            f"'StartSel={OPEN}, StopSel={CLOSE}, MaxWords=24, MinWords=8') AS snip "
            f"{base} ORDER BY {exact_acronym} DESC, rank DESC, d.title "
            "LIMIT :limit OFFSET :offset"
        )
        score_sign = 1.0
    count_params = {k: v for k, v in params.items() if k != "compact"}
    if not where and "fts" in params:  # no facet: count in the index alone, without the join
        count_sql = "SELECT count(*) FROM search_fts WHERE search_fts MATCH :fts"
    else:
        count_sql = f"SELECT count(*) {base}"
    total = session.execute(text(count_sql), count_params).scalar_one()
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
    return hits, int(total)


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
            f"d.country_code IN (SELECT country_code FROM {RegionMembership.__tablename__} "
            "WHERE region_id = :region)"
        )
        params["region"] = filters.region
    return "".join(" AND " + c for c in clauses), params


def _snippet_html(snippet: str) -> str:
    return html.escape(snippet).replace(OPEN, "<mark>").replace(CLOSE, "</mark>")


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name
