"""A query as terms, and each term as an FTS5 or tsquery expression.

A term is one word of the query, or the words that together name a country ("reino unido"),
which then also match the country's English name as documents hold it ("united kingdom"). The
last term is a prefix (the word is being typed), unless it names a country.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from permedhub.search.countries import CountryMention, country_mentions
from permedhub.search.text import words


@dataclass(frozen=True)
class Term:
    typed: tuple[str, ...]  # the query's folded words
    # Phrases (each a tuple of words) any one of which matches the term.
    alternatives: tuple[tuple[str, ...], ...]
    prefix: bool = False
    country: str | None = None

    @property
    def label(self) -> str:
        return " ".join(self.typed)


def query_terms_of(query: str) -> list[Term]:
    """The terms of `query`, in order."""
    parts = words(query)
    mentions: dict[int, CountryMention] = {}
    position = 0
    for mention in country_mentions(parts):
        # country_mentions walks left to right without overlaps: find each run's start.
        while tuple(parts[position : position + len(mention.words)]) != mention.words:
            position += 1
        mentions[position] = mention
        position += len(mention.words)
    terms: list[Term] = []
    i = 0
    while i < len(parts):
        named = mentions.get(i)
        if named is not None:
            alternatives = tuple(dict.fromkeys([named.words, named.indexed_name]))
            terms.append(Term(named.words, alternatives, country=named.code))
            i += len(named.words)
        else:
            terms.append(Term((parts[i],), ((parts[i],),)))
            i += 1
    if terms and terms[-1].country is None:
        last = terms[-1]
        terms[-1] = Term(last.typed, last.alternatives, prefix=True)
    return terms


def _fts5_term(term: Term, prefix: bool) -> str:
    star = "*" if prefix and term.prefix else ""
    options = [f'"{" ".join(phrase)}"{star}' for phrase in term.alternatives]
    return options[0] if len(options) == 1 else "(" + " OR ".join(options) + ")"


def _tsquery_term(term: Term, prefix: bool) -> str:
    star = ":*" if prefix and term.prefix else ""
    options = [" <-> ".join(phrase) + star for phrase in term.alternatives]
    options = [f"({o})" if " " in o else o for o in options]
    return options[0] if len(options) == 1 else "(" + " | ".join(options) + ")"


def fts5_all(terms: Sequence[Term], prefix: bool = True) -> str:
    return " AND ".join(_fts5_term(t, prefix) for t in terms)


def tsquery_all(terms: Sequence[Term], prefix: bool = True) -> str:
    return " & ".join(_tsquery_term(t, prefix) for t in terms)


def fts5_any_of(groups: Sequence[Sequence[Term]], prefix: bool = True) -> str:
    """Records that have all the terms of at least one group."""
    return " OR ".join(f"({fts5_all(g, prefix)})" for g in groups)


def tsquery_any_of(groups: Sequence[Sequence[Term]], prefix: bool = True) -> str:
    return " | ".join(f"({tsquery_all(g, prefix)})" for g in groups)


def has_term(term: Term, document_words: Sequence[str]) -> bool:
    """Whether a document of these (folded) words has the term, as the index would match it."""
    for phrase in term.alternatives:
        n = len(phrase)
        for i in range(len(document_words) - n + 1):
            window = document_words[i : i + n]
            if list(window[:-1]) == list(phrase[:-1]) and (
                window[-1] == phrase[-1] or (term.prefix and window[-1].startswith(phrase[-1]))
            ):
                return True
    return False
