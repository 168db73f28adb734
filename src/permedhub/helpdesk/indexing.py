"""What each helpdesk fact is found by: its search document, and the text quoted when it answers.

Every body, rule, funder and FAQ entry is one document of the search index (entity types
`helpdesk-body`, ... as in `models.ENTITY_TYPE`), written through `search.index` in the
caller's transaction: `loading.load` re-indexes after every load, and whatever else writes
facts (an FAQ published from a ticket) calls `reindex` in its own transaction.

A document's shown text is the fact as stored (a rule's statement, a funder's description, an
FAQ's answer); what its codes mean (a body's role, a rule's aspect) is in its keys, in English,
Spanish and Portuguese, matched but never shown. On PostgreSQL the index's `simple`
configuration keeps accents, so the accent-free spelling of each accented word of the text is
a key too (SQLite's FTS5 folds them itself).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cache

from sqlalchemy import Connection, select

from permedhub.graph import models as graph_models
from permedhub.helpdesk.models import ENTITY_TYPE, TABLES
from permedhub.search.index import Document, index_documents, remove_documents
from permedhub.search.text import words

# What a role, aspect or funding kind means, in English | Spanish | Portuguese.
LABELS = {
    # The role the helpdesk asks about: the national competent authority that approves
    # clinical trials of medicines (what `ethics-oversight` is for ethics review).
    "medicines-regulator": "medicines regulator, national competent authority that approves "
    "clinical trials of medicinal products | agencia reguladora de medicamentos, autoridad "
    "competente que aprueba los ensayos clínicos | agência reguladora de medicamentos, "
    "autoridade competente que aprova os ensaios clínicos",
    "device-regulator": "medical devices regulator | regulador de dispositivos médicos | "
    "regulador de dispositivos médicos",
    "ethics-oversight": "research ethics committee, ethics oversight | comité de ética de la "
    "investigación | comitê de ética em pesquisa",
    "data-protection": "data protection authority | autoridad de protección de datos | "
    "autoridade de proteção de dados",
    "approval-pathway": "approval pathway, authorisation of clinical trials | aprobación y "
    "autorización de ensayos clínicos | aprovação e autorização de ensaios clínicos",
    "ethics-review": "ethics review | revisión ética | revisão ética",
    "timeline": "timeline, statutory time limit in days | plazos en días | prazos em dias",
    "submission-language": "submission language | idioma de la solicitud | idioma da submissão",
    "insurance": "insurance | seguro | seguro",
    "data-protection-law": "data protection law | ley de protección de datos | lei de proteção "
    "de dados",
    "sample-transfer": "export and import of biological samples | exportación de muestras "
    "biológicas | exportação de amostras biológicas",
    "fees": "fees | tasas | taxas",
    "agency": "research funder, funding agency | agencia de financiación de la investigación | "
    "agência de fomento à pesquisa",
    "programme": "funding programme | programa de financiación | programa de financiamento",
}
KIND_OF_SECTION = {"bodies": "body", "rules": "rule", "funding": "funding", "faq": "faq"}
TYPE_OF_KIND = {KIND_OF_SECTION[section]: t for section, t in ENTITY_TYPE.items()}
KIND_OF_TYPE = {t: kind for kind, t in TYPE_OF_KIND.items()}
LETTERS = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True)
class Fact:
    """One helpdesk record as the helpdesk quotes it."""

    id: str
    kind: str  # body, rule, funding or faq
    jurisdictions: tuple[str, ...]
    title: str  # a body's or funder's name (acronym), a rule's aspect, an FAQ's question
    text: str  # the stored text, verbatim
    topic: str | None  # role, aspect, funding kind; the first FAQ topic
    source: str
    verified_on: dt.date
    acronym: str = ""
    legal_reference: str | None = None
    website: str | None = None

    @property
    def entity_type(self) -> str:
        return TYPE_OF_KIND[self.kind]


def _named(name: str | None, acronym: str | None) -> str:
    if name and acronym and acronym.lower() not in name.lower():
        return f"{name} ({acronym})"
    return name or acronym or ""


def facts(connection: Connection) -> list[Fact]:
    """Every fact of the knowledge base, with linked organisations' names read from the graph."""
    organisation = graph_models.Organisation
    organisations = {
        row.id: row
        for row in connection.execute(
            select(organisation.id, organisation.name, organisation.acronym, organisation.website)
        )
    }
    found: list[Fact] = []
    for row in connection.execute(select(TABLES["bodies"])).mappings():
        linked = organisations.get(row["organisation_id"] or "")
        name = row["name"] or (linked.name if linked else None)
        acronym = row["acronym"] or (linked.acronym if linked else None)
        website = row["website"] or (linked.website if linked else None)
        named = _named(name, acronym)
        found.append(
            Fact(
                id=row["id"],
                kind="body",
                jurisdictions=(row["jurisdiction"],),
                title=named,
                text=" ".join(part for part in (named, row["notes"]) if part),
                topic=row["role"],
                source=row["source"],
                verified_on=row["verified_on"],
                acronym=acronym or "",
                website=website,
            )
        )
    for row in connection.execute(select(TABLES["rules"])).mappings():
        found.append(
            Fact(
                id=row["id"],
                kind="rule",
                jurisdictions=(row["jurisdiction"],),
                title=row["aspect"],
                text=row["statement"],
                topic=row["aspect"],
                source=row["source"],
                verified_on=row["verified_on"],
                legal_reference=row["legal_reference"],
            )
        )
    for row in connection.execute(select(TABLES["funding"])).mappings():
        linked = organisations.get(row["organisation_id"] or "")
        # A programme has its own name; `organisation` then names the funder running it.
        name = row["name"] or (linked.name if linked else None)
        acronym = row["acronym"] or (linked.acronym if linked and not row["name"] else None)
        website = row["website"] or (linked.website if linked else None)
        named = _named(name, acronym)
        found.append(
            Fact(
                id=row["id"],
                kind="funding",
                jurisdictions=(row["jurisdiction"],),
                title=named,
                text=" ".join(part for part in (named, row["description"], row["notes"]) if part),
                topic=row["kind"],
                source=row["source"],
                verified_on=row["verified_on"],
                acronym=acronym or "",
                website=website,
            )
        )
    for row in connection.execute(select(TABLES["faq"])).mappings():
        topics = list(row["topics"] or [])
        found.append(
            Fact(
                id=row["id"],
                kind="faq",
                jurisdictions=tuple(row["jurisdictions"] or ()),
                title=row["question"],
                text=row["answer"],
                topic=topics[0] if topics else None,
                source=row["source"],
                verified_on=row["verified_on"],
            )
        )
    return found


def labels(fact: Fact) -> str:
    """What the fact's codes mean, in the three languages."""
    return LABELS.get(fact.topic or "", "")


def semantic_text(fact: Fact) -> str:
    """What the semantic index embeds: the fact's title, text and (English) label."""
    english = labels(fact).split("|")[0].strip()
    parts = [fact.title if fact.kind != "rule" else "", fact.text, english]
    return ". ".join(part for part in parts if part)


def document(fact: Fact) -> Document:
    shown = fact.text if fact.kind != "body" else ""
    # Only words with letters outside ASCII can have an accent to fold away.
    accented = {w for w in _raw_words(f"{fact.title} {fact.text}") if not w.isascii()}
    return Document(
        entity_type=fact.entity_type,
        entity_id=fact.id,
        title=fact.title if fact.kind != "rule" else labels(fact).split("|")[0].strip(),
        acronym=fact.acronym,
        text=shown,
        names=[fact.legal_reference, " ".join(words(" ".join(sorted(accented))))],
        # The label's words, folded once per label: codes are matched as they are.
        codes=[fact.id, fact.kind, fact.topic or "", _label_words(fact.topic or "")],
        country_code=fact.jurisdictions[0] if len(fact.jurisdictions) == 1 else None,
        kind=fact.topic,
    )


@cache
def _label_words(topic: str) -> str:
    return " ".join(dict.fromkeys(words(LABELS.get(topic, ""))))


def _raw_words(value: str) -> list[str]:
    return LETTERS.findall(value.lower())


def reindex(connection: Connection) -> int:
    """Replace every helpdesk document of the search index with the facts as they are now."""
    current = facts(connection)
    for entity_type in ENTITY_TYPE.values():
        remove_documents(connection, entity_type)
    index_documents(connection, [document(f) for f in current], [])
    return len(current)
