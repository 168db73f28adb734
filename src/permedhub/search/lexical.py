"""Ranking records of the search index by any of a question's terms (BM25 / ts_rank).

`search.query.search` wants every word of a query, as a person types names. A question is
different: "who approves clinical trials in Argentina?" has words no fact holds ("who") and
facts hold words it lacks. Here each term is a group of alternative stems, matched as
prefixes; a record matches when it has any term, and ranks by how many and how rare (SQLite
FTS5's bm25, PostgreSQL's ts_rank over the same weighted columns the index already has).

Callers narrow by entity types (always: this is retrieval within one service's records) and,
optionally, by country codes (a code of None matches records without a country).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

# Column weights (title, acronym, keys, body) for bm25: names and their spelling keys weigh
# more than the body, as in `search.query`, but less steeply: a fact's body is its substance.
BM25_WEIGHTS = (3.0, 4.0, 2.0, 1.0)


@dataclass(frozen=True)
class LexicalHit:
    entity_type: str
    id: str
    score: float  # larger is better (bm25 negated on SQLite; ts_rank on PostgreSQL)


def _fts5(terms: Sequence[Sequence[str]]) -> str:
    options = [f'"{s}"*' for group in terms for s in group]
    return " OR ".join(dict.fromkeys(options))


def _tsquery(terms: Sequence[Sequence[str]]) -> str:
    options = [f"{s}:*" for group in terms for s in group]
    return " | ".join(dict.fromkeys(options))


def rank_any(
    session: Session,
    terms: Sequence[Sequence[str]],
    entity_types: Sequence[str],
    countries: Collection[str | None] | None = None,
    limit: int = 50,
) -> list[LexicalHit]:
    """Records of `entity_types` that have any stem of any term, best first (at most `limit`).

    Stems must be folded words (`search.text.words`): letters and digits only, which is what
    makes them safe inside a match expression.
    """
    if not entity_types:
        raise ValueError("entity_types: expected at least one type to rank within")
    for group in terms:
        for s in group:
            if not s.isalnum() or s != s.lower():
                raise ValueError(f"stem {s!r}: expected a folded word (a-z, 0-9)")
    if not any(terms):
        return []
    params: dict[str, object] = {"limit": limit}
    type_names = [f"t{n}" for n in range(len(entity_types))]
    params.update(zip(type_names, entity_types, strict=True))
    where = f" AND d.entity_type IN ({', '.join(':' + n for n in type_names)})"
    if countries is not None:
        codes = sorted(c for c in countries if c is not None)
        names = [f"c{n}" for n in range(len(codes))]
        params.update(zip(names, codes, strict=True))
        clauses = [f"d.country_code IN ({', '.join(':' + n for n in names)})"] if codes else []
        if None in countries:
            clauses.append("d.country_code IS NULL")
        where += f" AND ({' OR '.join(clauses) or 'FALSE'})"
    if session.get_bind().dialect.name == "sqlite":
        params["fts"] = _fts5(terms)
        weights = ", ".join(str(w) for w in BM25_WEIGHTS)
        sql = (
            f"SELECT d.entity_type, d.entity_id, bm25(search_fts, {weights}) AS rank "
            "FROM search_fts CROSS JOIN search_document d ON d.rowid = search_fts.rowid "
            f"WHERE search_fts MATCH :fts {where} ORDER BY rank, d.entity_id LIMIT :limit"
        )
        sign = -1.0
    else:
        params["tsq"] = _tsquery(terms)
        # ts_rank's weights run D, C, B, A: body, -, title, acronym and keys.
        sql = (
            "SELECT d.entity_type, d.entity_id, "
            "ts_rank('{0.25, 0.5, 0.75, 1.0}', d.tsv, q.q, 1) AS rank "
            "FROM search_document d, to_tsquery('simple', :tsq) AS q(q) "
            f"WHERE d.tsv @@ q.q {where} ORDER BY rank DESC, d.entity_id LIMIT :limit"
        )
        sign = 1.0
    rows = session.execute(text(sql), params)
    return [LexicalHit(r.entity_type, r.entity_id, sign * float(r.rank)) for r in rows]
