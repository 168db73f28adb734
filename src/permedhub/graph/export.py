"""Writing the whole knowledge graph out: the import format (JSON, CSV), JSON-LD and GraphML.

`export(engine, fmt, out)` reads every table inside one read transaction (a consistent snapshot;
REPEATABLE READ on PostgreSQL) and streams the rows (`yield_per`, a server-side cursor on
PostgreSQL), so a graph with a million participations never sits in memory. Rows are written in
a fixed order (by id; topics parents first), so the same graph always gives the same bytes.

Formats
-------
``json``
    One document in exactly the import format of `graph.schemas` (lists `topics`,
    `organisations`, `initiatives`, `links`, `participations`, `calls`, same field names, with
    `source`, `sources`, `uncertain` and `approximate`). Dates keep their precision: an
    initiative that starts "2016-11" is written "2016-11". Empty values are left out.
    Exporting, loading the file into an empty database and exporting again gives the same bytes.
``csv``
    One file per entity (`topics.csv`, `organisations.csv`, ...) in a directory, or inside a zip
    file when `out` ends in ".zip", with the header the loader's CSV reader expects: list columns
    joined with ";", `facts`, `rules`, `sources`, `uncertain` and `approximate` as JSON objects.
``jsonld``
    JSON-LD with an inline `@context` (`@vocab` https://schema.org/), one `@graph` array:

    ========================  =================================================================
    graph                     schema.org
    ========================  =================================================================
    organisation              `Organization` (plus `CollegeOrUniversity`, `Hospital`,
                              `GovernmentOrganization`, `ResearchOrganization`, `Corporation`
                              or `NGO` by kind); `name`, `alternateName` (acronym), `url`,
                              `address` (`PostalAddress`: `addressCountry` ISO alpha-2,
                              `addressRegion` ISO 3166-2, `addressLocality` city), `location`
                              (the Country / subdivision node), `geo`, `knowsAbout`
                              (expertise), `identifier` (`PropertyValue`: permedhub id, ROR)
    initiative                `ResearchProject`: `name`, `alternateName`, `startDate`,
                              `endDate` (ISO 8601 at the stored precision: "2016-11"), `url`,
                              `description` (summary), `knowsAbout` (topics), `areaServed`
                              (countries; target regions as text), `funding` → `MonetaryGrant`
                              (`identifier` grant id, `name` programme, `amount` →
                              `MonetaryAmount` EUR = the EU contribution, `funder` the European
                              Union — the field is by definition the EU's contribution)
    participation             a `Role` (`roleName`, `startDate`, `endDate`) in the schema.org
                              role pattern: `ResearchProject.member → Role.member → Organization`
                              for every role except `funder`, which is written as
                              `ResearchProject.funder → Role.funder → Organization`. A
                              coordinator stays a `member` with roleName "coordinator": it is
                              not written as `sponsor`/`funder`, because nothing stored says it
                              pays for the initiative (the graph records that as role `funder`).
    link                      a `Role` (roleName = link kind) under `memberOf` (member-of), under
                              the target's `funder` (cofunds), or under the terms
                              `permedhub:supports`, `permedhub:successorOf`,
                              `permedhub:collaboratesWith` (schema.org has no such properties)
    country / subdivision     `Country` (`identifier` ISO code, `name`) / `AdministrativeArea`
                              (`containedInPlace` its country); only those the graph refers to
    topic                     `DefinedTerm` (`termCode` id, `name`, `skos:broader` its parent)
    call                      `Event` (`name` title, `startDate` opening, `endDate` full-proposal
                              deadline, `subEvent` the deadlines, `organizer` the initiative,
                              `funder` the funders, `funding` → `MonetaryGrant` budget,
                              `audience.geographicArea` the eligible countries)
    ========================  =================================================================

    Marks survive as `additionalProperty` `PropertyValue`s with `propertyID` "uncertain" or
    "approximate", `name` the field and `description` the note (on a `Role`: in `description`);
    `source` is `subjectOf` → `CreativeWork` and each per-field source a `PropertyValue` with
    `propertyID` "source", `name` the field and `value` the citation; `synthetic` records say
    so in `additionalProperty`.
    A participation or link is a separate node object with the initiative's `@id` (JSON-LD
    merges node objects with the same `@id`), which keeps the export streamable.
``graphml``
    GraphML with `<key>` declarations; nodes are initiatives, organisations and the countries
    organisations are in; edges are participations (role, dates), links (kind) and
    organisation → country ("located-in"). Marks are JSON strings in `sources`, `uncertain` and
    `approximate`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Literal, TextIO, cast, get_args
from xml.sax.saxutils import escape, quoteattr

from sqlalchemy import Connection, Engine, Table, select

from permedhub import __version__
from permedhub.graph import models
from permedhub.graph.models import table_of
from permedhub.graph.records import FIELDS, Field
from permedhub.graph.schemas import LOAD_ORDER

ExportFormat = Literal["json", "jsonld", "csv", "graphml"]
FORMATS: tuple[str, ...] = get_args(ExportFormat)
STREAM_ROWS = 5000
Progress = Callable[[int], None]

TOPIC = table_of(models.Topic)
ORGANISATION = table_of(models.Organisation)
INITIATIVE = table_of(models.Initiative)
LINK = table_of(models.Link)
PARTICIPATION = table_of(models.Participation)
CALL = table_of(models.Call)
COUNTRY = table_of(models.Country)
TABLES: dict[str, Table] = {
    "topics": TOPIC,
    "organisations": ORGANISATION,
    "initiatives": INITIATIVE,
    "links": LINK,
    "participations": PARTICIPATION,
    "calls": CALL,
}


class ExportError(ValueError):
    """A graph that cannot be written in the asked format, or an unusable destination."""


@dataclass
class ExportReport:
    """What an export wrote: rows per entity (and, for JSON-LD/GraphML, country nodes)."""

    format: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(self.counts.values())


def _number(value: Decimal | float | int) -> int | float:
    """Money as the plainest number: 2000000, not 2000000.00."""
    number = Decimal(value) if not isinstance(value, Decimal) else value
    return int(number) if number == number.to_integral_value() else float(number)


def date_text(value: dt.date, precision: str | None) -> str:
    """A stored date written back at its precision: "2016", "2016-11" or "2016-11-01"."""
    if precision == "year":
        return f"{value.year:04d}"
    if precision == "month":
        return f"{value.year:04d}-{value.month:02d}"
    return value.isoformat()


def _value(spec: Field, row: Any) -> Any:
    value = row[spec.column]
    if value is None:
        return None
    if spec.kind == "money":
        return _number(value)
    if spec.kind == "date":
        return date_text(value, row[spec.precision] if spec.precision else None)
    return value


def import_record(entity: str, row: Any) -> dict[str, Any]:
    """A stored row as the record an import file would hold (empty values left out)."""
    record: dict[str, Any] = {}
    for spec in FIELDS[entity]:
        value = _value(spec, row)
        if spec.kind == "keep" or value not in (None, [], {}):
            record[spec.name] = value
    return record


# ------------------------------------------------------------ reading, streamed


def _ordered(entity: str) -> Any:
    table = TABLES[entity]
    return select(table).order_by(table.c.id)


def _rows(connection: Connection, statement: Any, progress: Progress | None) -> Iterator[Any]:
    """Rows of `statement`, fetched STREAM_ROWS at a time (server-side cursor on PostgreSQL)."""
    result = connection.execute(statement.execution_options(yield_per=STREAM_ROWS))
    for chunk in result.mappings().partitions():
        yield from chunk
        if progress:
            progress(len(chunk))


def _topics_parents_first(connection: Connection, progress: Progress | None) -> list[Any]:
    """Topics ordered so that a parent comes before its children (the loader needs that).

    A taxonomy is small, so it is read whole.
    """
    topics = list(_rows(connection, _ordered("topics"), progress))
    parent_of = {t["id"]: t["parent_id"] for t in topics}

    def depth(topic_id: str) -> int:
        seen: set[str] = set()
        while parent_of.get(topic_id) in parent_of and topic_id not in seen:
            seen.add(topic_id)
            topic_id = parent_of[topic_id]
        return len(seen)

    return sorted(topics, key=lambda t: (depth(t["id"]), t["id"]))


def _entity_rows(connection: Connection, entity: str, progress: Progress | None) -> Iterator[Any]:
    if entity == "topics":
        return iter(_topics_parents_first(connection, progress))
    return _rows(connection, _ordered(entity), progress)


# ------------------------------------------------------------ the entry point


def export(
    engine: Engine,
    fmt: str,
    out: str | Path | IO[str] | IO[bytes],
    progress: Progress | None = None,
) -> ExportReport:
    """Write the whole graph to `out` in format `fmt` (one of FORMATS).

    `out` is a file path or an open text/binary stream; for "csv" it is a directory (created if
    missing) or a path ending in ".zip". `progress(n)` is called as rows are read.
    """
    if fmt not in FORMATS:
        raise ExportError(f"format {fmt!r} is not known: expected one of {', '.join(FORMATS)}")
    report = ExportReport(format=fmt)
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            if fmt == "csv":
                if not isinstance(out, str | Path):
                    raise ExportError(
                        "csv export writes one file per entity: `out` must be a directory "
                        f"path or a path ending in .zip, got a {type(out).__name__}"
                    )
                _write_csv(connection, Path(out), report, progress)
            else:
                writer = {"json": _write_json, "jsonld": _write_jsonld, "graphml": _write_graphml}
                with _text_stream(out) as stream:
                    writer[fmt](connection, stream, report, progress)
    return report


class _text_stream:
    """`out` as a UTF-8 text stream with "\\n" line ends; closes only what it opened."""

    def __init__(self, out: str | Path | IO[str] | IO[bytes]):
        self.out = out
        self.stack = ExitStack()

    def __enter__(self) -> TextIO:
        if isinstance(self.out, str | Path):
            path = Path(self.out)
            if path.is_dir():
                raise ExportError(f"out {str(path)!r} is a directory: expected a file path")
            return self.stack.enter_context(path.open("w", encoding="utf-8", newline="\n"))
        if isinstance(self.out, io.TextIOBase):
            return self.out  # type: ignore[return-value]
        wrapper = io.TextIOWrapper(cast(IO[bytes], self.out), encoding="utf-8", newline="\n")
        self.stack.callback(wrapper.detach)
        self.stack.callback(wrapper.flush)
        return wrapper

    def __exit__(self, *exc: object) -> None:
        self.stack.close()


# ------------------------------------------------------------ json (the import format)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def _write_json(
    connection: Connection, stream: TextIO, report: ExportReport, progress: Progress | None
) -> None:
    meta = {
        "generator": f"permedhub {__version__} graph export",
        "format": "permedhub import document (graph.schemas.GraphDocument)",
    }
    stream.write('{\n  "meta": ' + _dumps(meta))
    for entity in LOAD_ORDER:
        stream.write(f',\n  "{entity}": [')
        count = 0
        for row in _entity_rows(connection, entity, progress):
            stream.write(
                ("\n    " if count == 0 else ",\n    ") + _dumps(import_record(entity, row))
            )
            count += 1
        stream.write("\n  ]" if count else "]")
        report.counts[entity] = count
    stream.write("\n}\n")


# ------------------------------------------------------------ csv (one file per entity)

CSV_NAMES = {entity: f"{entity}.csv" for entity in LOAD_ORDER}


def _csv_cell(entity: str, spec: Field, record_id: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if spec.kind == "list":
        for item in value:
            text = str(item)
            if ";" in text or text != text.strip() or not text:
                raise ExportError(
                    f"{entity} {record_id!r}, field {spec.name!r}: item {text!r} cannot be "
                    "written to CSV, whose list cells join items with ';' (expected items "
                    "without ';' and without surrounding spaces); export as json instead"
                )
        return ";".join(str(item) for item in value)
    if spec.kind == "mapping":
        return json.dumps(value, ensure_ascii=False) if value else ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _write_csv_entity(
    connection: Connection, entity: str, handle: TextIO, progress: Progress | None
) -> int:
    specs = FIELDS[entity]
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow([spec.name for spec in specs])
    count = 0
    for row in _entity_rows(connection, entity, progress):
        writer.writerow([_csv_cell(entity, spec, row["id"], _value(spec, row)) for spec in specs])
        count += 1
    return count


def _write_csv(
    connection: Connection, out: Path, report: ExportReport, progress: Progress | None
) -> None:
    if out.suffix.lower() == ".zip":
        if out.is_dir():
            raise ExportError(f"out {str(out)!r} is a directory: expected a .zip file path")
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for entity, name in CSV_NAMES.items():
                with (
                    archive.open(name, "w", force_zip64=True) as raw,
                    io.TextIOWrapper(raw, encoding="utf-8", newline="") as handle,
                ):
                    report.counts[entity] = _write_csv_entity(connection, entity, handle, progress)
        return
    if out.exists() and not out.is_dir():
        raise ExportError(f"out {str(out)!r} is a file: csv export expects a directory or .zip")
    out.mkdir(parents=True, exist_ok=True)
    for entity, name in CSV_NAMES.items():
        with (out / name).open("w", encoding="utf-8", newline="") as handle:
            report.counts[entity] = _write_csv_entity(connection, entity, handle, progress)


# ------------------------------------------------------------ JSON-LD (schema.org)

URN = "urn:permedhub:"
EUROPEAN_UNION = {
    "@id": URN + "organisation:european-union",
    "@type": "GovernmentOrganization",
    "name": "European Union",
}
ORGANISATION_TYPES = {
    "university": "CollegeOrUniversity",
    "hospital": "Hospital",
    "research-institute": "ResearchOrganization",
    "ministry": "GovernmentOrganization",
    "agency": "GovernmentOrganization",
    "regulator": "GovernmentOrganization",
    "regional-government": "GovernmentOrganization",
    "company": "Corporation",
    "ngo": "NGO",
}
LINK_PROPERTIES = {
    "member-of": "memberOf",
    "supports": "permedhub:supports",
    "successor-of": "permedhub:successorOf",
    "collaborates-with": "permedhub:collaboratesWith",
}
JSONLD_CONTEXT = {
    "@vocab": "https://schema.org/",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "permedhub": URN + "vocab:",
    "skos:broader": {"@type": "@id"},
}


def node_id(kind: str, key: str) -> str:
    """The IRI of a graph entity: urn:permedhub:<kind>:<id>."""
    return f"{URN}{kind}:{key}"


def _ref(kind: str, key: str) -> dict[str, str]:
    return {"@id": node_id(kind, key)}


def _marks_properties(row: Any) -> list[dict[str, Any]]:
    properties: list[dict[str, Any]] = []
    for mark in ("uncertain", "approximate"):
        for name, note in (row[mark] or {}).items():
            item = {"@type": "PropertyValue", "propertyID": mark, "name": name}
            properties.append({**item, "description": note} if note else item)
    for name, citation in (row["sources"] or {}).items():
        properties.append(
            {"@type": "PropertyValue", "propertyID": "source", "name": name, "value": citation}
        )
    return properties


def _marks_text(row: Any) -> str | None:
    parts = [
        f"{mark}: {name}" + (f" ({note})" if note else "")
        for mark in ("uncertain", "approximate")
        for name, note in (row[mark] or {}).items()
    ]
    return "; ".join(parts) or None


def _source(row: Any) -> dict[str, Any] | None:
    return {"@type": "CreativeWork", "text": row["source"]} if row["source"] else None


def _compact(node: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in node.items() if v not in (None, [], {}, "")}


def _money(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    return {"@type": "MonetaryAmount", "currency": "EUR", "value": _number(value)}


def _property(name: str, value: Any) -> dict[str, Any]:
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False)
    return {"@type": "PropertyValue", "propertyID": name, "value": value}


class _Places:
    """The country/subdivision codes the written nodes refer to (at most the ISO list)."""

    def __init__(self) -> None:
        self.codes: set[str] = set()

    def ref(self, code: str | None) -> dict[str, str] | None:
        if not code:
            return None
        self.codes.add(code)
        return _ref("country", code)


def _organisation_node(row: Any, places: _Places) -> dict[str, Any]:
    extra_type = ORGANISATION_TYPES.get(row["kind"] or "")
    identifiers = [{"@type": "PropertyValue", "propertyID": "permedhub", "value": row["id"]}]
    if row["ror_id"]:
        identifiers.append({"@type": "PropertyValue", "propertyID": "ROR", "value": row["ror_id"]})
    address = _compact(
        {
            "@type": "PostalAddress",
            "addressCountry": row["country_code"],
            "addressRegion": row["subdivision_code"],
            "addressLocality": row["city"],
        }
    )
    geo = None
    if row["latitude"] is not None and row["longitude"] is not None:
        geo = {
            "@type": "GeoCoordinates",
            "latitude": row["latitude"],
            "longitude": row["longitude"],
        }
    extra = _marks_properties(row)
    if row["kind"]:
        extra.insert(0, _property("kind", row["kind"]))
    if row["synthetic"]:
        extra.append(_property("synthetic", True))
    return _compact(
        {
            "@id": node_id("organisation", row["id"]),
            "@type": ["Organization", extra_type] if extra_type else "Organization",
            "identifier": identifiers,
            "name": row["name"],
            "alternateName": row["acronym"],
            "url": row["website"],
            "address": address if len(address) > 1 else None,
            "location": places.ref(row["subdivision_code"] or row["country_code"]),
            "geo": geo,
            "knowsAbout": row["expertise"],
            "description": row["notes"],
            "subjectOf": _source(row),
            "additionalProperty": extra,
        }
    )


def _initiative_node(row: Any, places: _Places) -> dict[str, Any]:
    grant = None
    if row["grant_id"] or row["eu_contribution_eur"] is not None:
        grant = _compact(
            {
                "@type": "MonetaryGrant",
                "identifier": row["grant_id"],
                "name": " ".join(p for p in (row["programme"], row["call_topic"]) if p) or None,
                "amount": _money(row["eu_contribution_eur"]),
                "funder": EUROPEAN_UNION,
            }
        )
    extra = [_property("kind", row["kind"])]
    if row["programme"] and not grant:
        extra.append(_property("programme", row["programme"]))
    if row["total_budget_eur"] is not None:
        extra.append(
            {
                "@type": "PropertyValue",
                "propertyID": "totalBudget",
                "value": _number(row["total_budget_eur"]),
                "unitText": "EUR",
            }
        )
    extra += [_property("aim", aim) for aim in row["aims"] or []]
    extra += [_property(key, value) for key, value in (row["facts"] or {}).items()]
    extra += _marks_properties(row)
    if row["synthetic"]:
        extra.append(_property("synthetic", True))
    areas: list[Any] = [places.ref(code) for code in row["countries"] or []]
    areas += list(row["target_regions"] or [])
    return _compact(
        {
            "@id": node_id("initiative", row["id"]),
            "@type": "ResearchProject",
            "identifier": {"@type": "PropertyValue", "propertyID": "permedhub", "value": row["id"]},
            "name": row["name"],
            "alternateName": row["acronym"],
            "startDate": _date_or_none(row["start_date"], row["start_precision"]),
            "endDate": _date_or_none(row["end_date"], row["end_precision"]),
            "url": row["website"],
            "description": row["summary"],
            "funding": grant,
            "knowsAbout": [_ref("topic", t) for t in row["topics"] or []],
            "areaServed": areas,
            "subjectOf": _source(row),
            "additionalProperty": extra,
        }
    )


def _date_or_none(value: dt.date | None, precision: str | None = None) -> str | None:
    return date_text(value, precision) if value is not None else None


def _role(prop: str, target: dict[str, str], role_name: str, row: Any) -> dict[str, Any]:
    return _compact(
        {
            "@type": "Role",
            "roleName": role_name,
            prop: target,
            "startDate": _date_or_none(row.get("start_date")),
            "endDate": _date_or_none(row.get("end_date")),
            "identifier": row["id"],
            "description": _marks_text(row),
            "subjectOf": _source(row),
        }
    )


def _participation_nodes(rows: Iterable[Any]) -> Iterator[dict[str, Any]]:
    """One node object per initiative with its member/funder roles (rows ordered by initiative)."""
    current: str | None = None
    roles: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        if row["initiative_id"] != current:
            if current is not None:
                yield {"@id": node_id("initiative", current), **roles}
            current, roles = row["initiative_id"], {}
        prop = "funder" if row["role"] == "funder" else "member"
        target = _ref("organisation", row["organisation_id"])
        roles.setdefault(prop, []).append(_role(prop, target, row["role"], row))
    if current is not None:
        yield {"@id": node_id("initiative", current), **roles}


def initiative_json_ld(
    connection: Connection, initiative_id: str, *, max_roles: int | None = None
) -> dict[str, Any]:
    """One initiative as a standalone JSON-LD document (for its page): the same nodes the
    whole-graph export writes for it, its roles merged in, and the organisations they name.

    `max_roles` bounds the roles embedded (coordinators first, then in the export's order):
    a page of an initiative with thousands of partners would otherwise carry them all, and
    build them on every visit. The whole-graph export always has every role."""
    initiative = (
        connection.execute(select(INITIATIVE).where(INITIATIVE.c.id == initiative_id))
        .mappings()
        .one()
    )
    chosen = select(PARTICIPATION).where(PARTICIPATION.c.initiative_id == initiative_id)
    if max_roles is not None:
        chosen = chosen.order_by(PARTICIPATION.c.role != "coordinator", PARTICIPATION.c.id).limit(
            max_roles
        )
    participations = sorted(connection.execute(chosen).mappings().all(), key=lambda row: row["id"])
    organisations = connection.execute(
        select(ORGANISATION)
        .where(ORGANISATION.c.id.in_({p["organisation_id"] for p in participations}))
        .order_by(ORGANISATION.c.id)
    ).mappings()
    places = _Places()
    node = _initiative_node(initiative, places)
    for roles in _participation_nodes(participations):
        node.update({key: value for key, value in roles.items() if key != "@id"})
    return {
        "@context": JSONLD_CONTEXT,
        "@graph": [node, *(_organisation_node(row, places) for row in organisations)],
    }


def _link_node(row: Any) -> dict[str, Any]:
    if row["kind"] == "cofunds":  # `from` cofunds `to`: `from` is a funder of `to`
        subject, prop, target = row["to_id"], "funder", row["from_id"]
    else:
        subject, prop, target = row["from_id"], LINK_PROPERTIES[row["kind"]], row["to_id"]
    return {
        "@id": node_id("initiative", subject),
        prop: _role(prop, _ref("initiative", target), row["kind"], row),
    }


def _topic_node(row: Any) -> dict[str, Any]:
    return _compact(
        {
            "@id": node_id("topic", row["id"]),
            "@type": "DefinedTerm",
            "termCode": row["id"],
            "name": row["name"],
            "skos:broader": node_id("topic", row["parent_id"]) if row["parent_id"] else None,
            "position": row["position"],
            "additionalProperty": [_property("kind", row["kind"]), *_marks_properties(row)],
            "subjectOf": _source(row),
        }
    )


def _call_node(row: Any, places: _Places) -> dict[str, Any]:
    funders: list[dict[str, Any]] = [_ref("organisation", f) for f in row["funder_ids"] or []]
    if row["ec_cofunded"]:
        funders.append(EUROPEAN_UNION)
    deadlines = [
        {"@type": "Event", "name": name, "startDate": row[column].isoformat()}
        for name, column in (
            ("pre-proposal deadline", "pre_proposal_deadline"),
            ("full-proposal deadline", "full_proposal_deadline"),
        )
        if row[column] is not None
    ]
    funding = None
    if row["budget_eur"] is not None:
        funding = {"@type": "MonetaryGrant", "amount": _money(row["budget_eur"])}
    extra = [
        _property(name, row[name])
        for name in ("year", "funders_count", "procedure", "proposals_submitted", "projects_funded")
        if row[name] is not None
    ]
    if row["ec_cofunded"] is not None:
        extra.append(_property("ecCofunded", row["ec_cofunded"]))
    extra += [_property(key, value) for key, value in (row["rules"] or {}).items()]
    extra += _marks_properties(row)
    areas = [places.ref(code) for code in row["countries"] or []]
    return _compact(
        {
            "@id": node_id("call", row["id"]),
            "@type": "Event",
            "name": row["title"],
            "startDate": _date_or_none(row["opening"]),
            "endDate": _date_or_none(row["full_proposal_deadline"]),
            "subEvent": deadlines,
            "organizer": _ref("initiative", row["initiative_id"]),
            "contributor": _ref("organisation", row["secretariat_id"])
            if row["secretariat_id"]
            else None,
            "funder": funders,
            "funding": funding,
            "audience": {"@type": "Audience", "geographicArea": areas} if areas else None,
            "subjectOf": _source(row),
            "additionalProperty": extra,
        }
    )


def _place_rows(connection: Connection, codes: set[str]) -> list[Any]:
    """Countries/subdivisions with these codes, plus the countries the subdivisions are in."""
    rows: dict[str, Any] = {}
    asked: set[str] = set()
    wanted = set(codes)
    while wanted:
        asked |= wanted
        statement = select(COUNTRY).where(COUNTRY.c.code.in_(sorted(wanted)))
        for row in connection.execute(statement).mappings():
            rows[row["code"]] = row
        wanted = {r["parent_code"] for r in rows.values() if r["parent_code"]} - asked
    return [rows[code] for code in sorted(rows)]


def _place_node(row: Any) -> dict[str, Any]:
    if row["parent_code"]:
        return _compact(
            {
                "@id": node_id("country", row["code"]),
                "@type": "AdministrativeArea",
                "identifier": row["code"],
                "name": row["name"],
                "additionalType": row["subdivision_type"],
                "containedInPlace": _ref("country", row["parent_code"]),
            }
        )
    return _compact(
        {
            "@id": node_id("country", row["code"]),
            "@type": "Country",
            "identifier": row["code"],
            "name": row["name"],
        }
    )


def _write_jsonld(
    connection: Connection, stream: TextIO, report: ExportReport, progress: Progress | None
) -> None:
    places = _Places()
    stream.write('{\n  "@context": ' + _dumps(JSONLD_CONTEXT) + ',\n  "@graph": [')
    first = True

    def emit(node: dict[str, Any]) -> None:
        nonlocal first
        stream.write(("\n    " if first else ",\n    ") + _dumps(node))
        first = False

    builders: dict[str, Callable[[Any], dict[str, Any]]] = {
        "topics": _topic_node,
        "organisations": lambda row: _organisation_node(row, places),
        "initiatives": lambda row: _initiative_node(row, places),
        "links": _link_node,
        "calls": lambda row: _call_node(row, places),
    }
    for entity in LOAD_ORDER:
        count = 0
        if entity == "participations":
            statement = select(PARTICIPATION).order_by(
                PARTICIPATION.c.initiative_id, PARTICIPATION.c.id
            )
            counted = _counting(_rows(connection, statement, progress))
            for node in _participation_nodes(counted):
                emit(node)
            count = counted.count
        else:
            for row in _entity_rows(connection, entity, progress):
                emit(builders[entity](row))
                count += 1
        report.counts[entity] = count
    place_rows = _place_rows(connection, places.codes)
    for row in place_rows:
        emit(_place_node(row))
    report.counts["countries"] = len(place_rows)
    stream.write("\n  ]\n}\n" if not first else "]\n}\n")


class _counting:
    def __init__(self, rows: Iterator[Any]):
        self.rows = rows
        self.count = 0

    def __iter__(self) -> Iterator[Any]:
        for row in self.rows:
            self.count += 1
            yield row


# ------------------------------------------------------------ GraphML

# Characters XML 1.0 cannot hold at all (escaping does not help): replaced by U+FFFD.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
GRAPHML_KEYS: tuple[tuple[str, str, str], ...] = (  # (id, for, type)
    ("type", "all", "string"),
    ("name", "node", "string"),
    ("acronym", "node", "string"),
    ("kind", "all", "string"),
    ("country", "node", "string"),
    ("subdivision", "node", "string"),
    ("city", "node", "string"),
    ("latitude", "node", "double"),
    ("longitude", "node", "double"),
    ("start", "all", "string"),
    ("end", "all", "string"),
    ("role", "edge", "string"),
    ("synthetic", "node", "boolean"),
    ("source", "all", "string"),
    ("sources", "all", "string"),
    ("uncertain", "all", "string"),
    ("approximate", "all", "string"),
)


def xml_text(value: str) -> str:
    """`value` escaped for XML character data, with characters XML cannot hold replaced."""
    return escape(_XML_INVALID.sub("\ufffd", value))


def _xml_attr(value: str) -> str:
    return quoteattr(_XML_INVALID.sub("\ufffd", value))


def _data(values: Sequence[tuple[str, Any]]) -> str:
    parts: list[str] = []
    for key, value in values:
        if value is None or value in ({}, ""):
            continue
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, dict):
            text = json.dumps(value, ensure_ascii=False)
        else:
            text = str(value)
        parts.append(f'<data key="{key}">{xml_text(text)}</data>')
    return "".join(parts)


def _marks(row: Any) -> list[tuple[str, Any]]:
    return [
        ("source", row["source"]),
        ("sources", row["sources"]),
        ("uncertain", row["uncertain"]),
        ("approximate", row["approximate"]),
    ]


def _write_graphml(
    connection: Connection, stream: TextIO, report: ExportReport, progress: Progress | None
) -> None:
    stream.write(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns '
        'http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">\n'
    )
    for key, domain, kind in GRAPHML_KEYS:
        stream.write(f'  <key id="{key}" for="{domain}" attr.name="{key}" attr.type="{kind}"/>\n')
    stream.write('  <graph id="permedhub" edgedefault="directed">\n')

    def node(node_key: str, values: list[tuple[str, Any]]) -> None:
        stream.write(f"    <node id={_xml_attr(node_key)}>{_data(values)}</node>\n")

    def edge(edge_key: str, source: str, target: str, values: list[tuple[str, Any]]) -> None:
        stream.write(
            f"    <edge id={_xml_attr(edge_key)} source={_xml_attr(source)} "
            f"target={_xml_attr(target)}>{_data(values)}</edge>\n"
        )

    count = 0
    for row in _rows(connection, _ordered("initiatives"), progress):
        node(
            f"initiative:{row['id']}",
            [
                ("type", "initiative"),
                ("name", row["name"]),
                ("acronym", row["acronym"]),
                ("kind", row["kind"]),
                ("start", _date_or_none(row["start_date"], row["start_precision"])),
                ("end", _date_or_none(row["end_date"], row["end_precision"])),
                ("synthetic", row["synthetic"]),
                *_marks(row),
            ],
        )
        count += 1
    report.counts["initiatives"] = count

    count, countries = 0, set()
    for row in _rows(connection, _ordered("organisations"), progress):
        node(
            f"organisation:{row['id']}",
            [
                ("type", "organisation"),
                ("name", row["name"]),
                ("acronym", row["acronym"]),
                ("kind", row["kind"]),
                ("country", row["country_code"]),
                ("subdivision", row["subdivision_code"]),
                ("city", row["city"]),
                ("latitude", row["latitude"]),
                ("longitude", row["longitude"]),
                ("synthetic", row["synthetic"]),
                *_marks(row),
            ],
        )
        if row["country_code"]:
            countries.add(row["country_code"])
        count += 1
    report.counts["organisations"] = count

    country_rows = connection.execute(
        select(COUNTRY.c.code, COUNTRY.c.name)
        .where(COUNTRY.c.code.in_(sorted(countries)))
        .order_by(COUNTRY.c.code)
    ).all()
    for code, name in country_rows:
        node(f"country:{code}", [("type", "country"), ("name", name)])
    report.counts["countries"] = len(country_rows)

    count = 0
    for row in _rows(connection, _ordered("participations"), progress):
        edge(
            f"participation:{row['id']}",
            f"organisation:{row['organisation_id']}",
            f"initiative:{row['initiative_id']}",
            [
                ("type", "participation"),
                ("role", row["role"]),
                ("start", _date_or_none(row["start_date"])),
                ("end", _date_or_none(row["end_date"])),
                *_marks(row),
            ],
        )
        count += 1
    report.counts["participations"] = count

    count = 0
    for row in _rows(connection, _ordered("links"), progress):
        edge(
            f"link:{row['id']}",
            f"initiative:{row['from_id']}",
            f"initiative:{row['to_id']}",
            [("type", "link"), ("kind", row["kind"]), *_marks(row)],
        )
        count += 1
    report.counts["links"] = count

    statement = (
        select(ORGANISATION.c.id, ORGANISATION.c.country_code)
        .where(ORGANISATION.c.country_code.is_not(None))
        .order_by(ORGANISATION.c.id)
    )
    for row in _rows(connection, statement, None):
        edge(
            f"located-in:{row['id']}",
            f"organisation:{row['id']}",
            f"country:{row['country_code']}",
            [("type", "located-in")],
        )
    stream.write("  </graph>\n</graphml>\n")
