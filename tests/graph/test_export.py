"""Exporting the whole graph: the import format round-trips, JSON-LD and GraphML are well formed.

Each test works on its own copy of a SQLite database seeded with the ICPerMed family (the
package's seed YAML), plus, where a test needs it, a small hostile document whose names are
`<script>&"'` and whose values carry uncertain and approximate marks.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, insert

from permedhub.db import make_engine, upgrade
from permedhub.graph import models
from permedhub.graph.export import FIELDS, ExportError, export
from permedhub.graph.loading import load
from permedhub.graph.models import table_of
from permedhub.graph.schemas import LOAD_ORDER
from permedhub.graph.seed import load_geography, seed_files

HOSTILE = "<script>&\"'"
GRAPHML = "{http://graphml.graphdrawing.org/xmlns}"


def _hostile_document() -> dict[str, Any]:
    return {
        "organisations": [
            {
                "id": "hostile-org",
                "name": HOSTILE + " Institute",
                "acronym": "]]>&amp;",
                "kind": "research-institute",
                "country": "DE",
                "subdivision": "DE-BY",
                "city": 'Münch\u00e9n, "Bavaria"',
                "latitude": 48.137154,
                "longitude": 11.576124,
                "expertise": ["genomics", "ELSA"],
                "notes": "line one\nline two, with a comma",
                "source": "https://example.org/?a=1&b=<2>",
                "uncertain": {"city": "guessed from the " + HOSTILE + " page"},
            }
        ],
        "initiatives": [
            {
                "id": "hostile-project",
                "name": HOSTILE + " Project",
                "kind": "project",
                "programme": "Horizon Europe",
                "grant_id": "101000001",
                "eu_contribution_eur": {"value": 1234567.5, "approx": True, "note": "about"},
                "start": {"value": "2021", "uncertain": True, "note": "year only"},
                "end": "2024-06",
                "aims": ["First aim, with a comma", 'A "quoted" aim'],
                "countries": ["DE", "FR"],
                "target_regions": ["eu27"],
                "topics": ["vision-2030"],
                "facts": {"partners": 7, "note": 'a "fact" & more', "nested": {"a": [1, 2]}},
            }
        ],
        "participations": [
            {
                "organisation": "hostile-org",
                "initiative": "hostile-project",
                "role": "coordinator",
                "start": "2021-03-15",
                "uncertain": {"record": "coordinator presumed"},
            },
            {"organisation": "isciii", "initiative": "hostile-project", "role": "funder"},
        ],
        "links": [
            {
                "from": "hostile-project",
                "to": "icpermed",
                "kind": "collaborates-with",
                "uncertain": {"kind": ""},
            }
        ],
    }


@pytest.fixture
def family_file(sqlite_template: Path, tmp_path: Path) -> Path:
    """This test's own copy of the seeded database (`sqlite_template`, tests/conftest.py)."""
    copy = tmp_path / "family.sqlite"
    shutil.copyfile(sqlite_template, copy)
    return copy


def _family_engine(family_file: Path, *, hostile: bool = False) -> Engine:
    engine = make_engine(f"sqlite:///{family_file}")
    if hostile:
        document = family_file.parent / "hostile.json"
        document.write_text(json.dumps(_hostile_document()), encoding="utf-8")
        load(engine, [document], actor="test")
    return engine


def _empty_engine(path: Path) -> Engine:
    """Tables and ISO geography, but no family: what an import into a new portal meets."""
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    load_geography(engine)
    return engine


def _seeded(section: str) -> int:
    """How many records the seed files declare in one section (the seed grows; counts follow)."""
    return sum(
        len((yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get(section, []))
        for path in seed_files()
    )


def _export_bytes(engine: Engine, fmt: str = "json") -> bytes:
    buffer = io.BytesIO()
    export(engine, fmt, buffer)
    return buffer.getvalue()


# ------------------------------------------------------------------ json: the import format


def test_json_export_loads_into_an_empty_database_and_exports_the_same_bytes(family_file, tmp_path):
    family = _family_engine(family_file, hostile=True)
    first = tmp_path / "graph.json"
    report = export(family, "json", first)
    assert report.counts["initiatives"] == _seeded("initiatives") + 1  # + the hostile one

    fresh = _empty_engine(tmp_path / "fresh.sqlite")
    load(fresh, [first], actor="round-trip")
    assert _export_bytes(fresh) == first.read_bytes()


def test_json_export_is_the_import_format_with_dates_at_their_precision(family_file):
    document = json.loads(_export_bytes(_family_engine(family_file, hostile=True)))
    assert set(document) == {"meta", *LOAD_ORDER}
    initiatives = {r["id"]: r for r in document["initiatives"]}
    # initiatives.yaml: ICPerMed Secretariat 1 starts 2016-11 and ends 2021-04-30 (uncertain)
    secretariat = initiatives["icpermed-secretariat-1"]
    assert secretariat["start"] == "2016-11"
    assert secretariat["end"] == "2021-04-30"
    assert secretariat["uncertain"] == {"end": "end of reporting period 2; inferred"}
    # EP PerMed ends "2033" (year precision, uncertain) with an approximate total budget
    ep_permed = initiatives["ep-permed"]
    assert ep_permed["end"] == "2033"
    assert ep_permed["total_budget_eur"] == 375000000
    assert "total_budget_eur" in ep_permed["approximate"]
    hostile = initiatives["hostile-project"]
    assert hostile["name"] == HOSTILE + " Project"
    assert hostile["start"] == "2021"
    assert hostile["end"] == "2024-06"
    assert hostile["eu_contribution_eur"] == 1234567.5
    assert hostile["uncertain"] == {"start": "year only"}
    assert hostile["approximate"] == {"eu_contribution_eur": "about"}
    # every field written is a field of the import schema
    for entity in LOAD_ORDER:
        names = {spec.name for spec in FIELDS[entity]}
        for record in document[entity]:
            assert set(record) <= names


def test_json_export_to_a_text_stream_equals_the_file(family_file):
    engine = _family_engine(family_file)
    text = io.StringIO()
    export(engine, "json", text)
    assert text.getvalue().encode("utf-8") == _export_bytes(engine)


def test_progress_counts_every_row_read(family_file):
    engine = _family_engine(family_file)
    seen: list[int] = []
    report = export(engine, "json", io.BytesIO(), progress=seen.append)
    assert sum(seen) == report.rows == sum(_seeded(section) for section in LOAD_ORDER)


# ------------------------------------------------------------------ csv


def test_csv_export_round_trips_through_the_loader(family_file, tmp_path):
    family = _family_engine(family_file, hostile=True)
    folder = tmp_path / "csv"
    export(family, "csv", folder)
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{e}.csv" for e in LOAD_ORDER)

    fresh = _empty_engine(tmp_path / "fresh.sqlite")
    load(fresh, [folder / f"{entity}.csv" for entity in LOAD_ORDER], actor="round-trip")
    assert _export_bytes(fresh) == _export_bytes(family)


def test_csv_headers_are_the_import_field_names_and_lists_join_with_semicolons(
    family_file, tmp_path
):
    folder = tmp_path / "csv"
    export(_family_engine(family_file, hostile=True), "csv", folder)
    with (folder / "initiatives.csv").open(encoding="utf-8", newline="") as handle:
        rows = {row["id"]: row for row in csv.DictReader(handle)}
    hostile = rows["hostile-project"]
    assert hostile["countries"] == "DE;FR"
    assert hostile["start"] == "2021"
    assert json.loads(hostile["uncertain"]) == {"start": "year only"}
    assert json.loads(hostile["facts"])["nested"] == {"a": [1, 2]}
    assert list(rows["erapermed"]) == [spec.name for spec in FIELDS["initiatives"]]


def test_csv_export_into_a_zip_file_holds_the_same_files(family_file, tmp_path):
    engine = _family_engine(family_file)
    export(engine, "csv", tmp_path / "folder")
    export(engine, "csv", tmp_path / "graph.zip")
    with zipfile.ZipFile(tmp_path / "graph.zip") as archive:
        assert sorted(archive.namelist()) == sorted(f"{e}.csv" for e in LOAD_ORDER)
        for name in archive.namelist():
            assert archive.read(name) == (tmp_path / "folder" / name).read_bytes()


def test_csv_refuses_a_list_item_the_loader_would_split(family_file, tmp_path):
    engine = _family_engine(family_file)
    with engine.begin() as connection:
        connection.execute(
            insert(table_of(models.Initiative)),
            [{"id": "semi", "name": "Semi", "kind": "project", "aims": ["one; two"]}],
        )
    with pytest.raises(ExportError, match=r"initiatives 'semi', field 'aims': item 'one; two'"):
        export(engine, "csv", tmp_path / "csv")


# ------------------------------------------------------------------ JSON-LD


def _nodes(graph: list[dict[str, Any]], node_id: str) -> list[dict[str, Any]]:
    return [node for node in graph if node.get("@id") == node_id]


def test_jsonld_uses_schema_org_types_and_the_role_pattern(family_file):
    document = json.loads(_export_bytes(_family_engine(family_file, hostile=True), "jsonld"))
    assert document["@context"]["@vocab"] == "https://schema.org/"
    graph = document["@graph"]

    erapermed = _nodes(graph, "urn:permedhub:initiative:erapermed")
    project = next(n for n in erapermed if n.get("@type") == "ResearchProject")
    assert project["alternateName"] == "ERA PerMed"
    assert project["funding"]["@type"] == "MonetaryGrant"
    assert project["funding"]["identifier"] == "779282"  # relations/initiatives.yaml grant id
    # relations.yaml: ISCIII coordinates ERA PerMed; ANR is one of its funders
    members = [role for n in erapermed for role in n.get("member", [])]
    coordinator = next(r for r in members if r["roleName"] == "coordinator")
    assert coordinator["@type"] == "Role"
    assert coordinator["member"] == {"@id": "urn:permedhub:organisation:isciii"}
    funders = [role for n in erapermed for role in n.get("funder", [])]
    assert {"@id": "urn:permedhub:organisation:anr"} in [r["funder"] for r in funders]

    hostile = next(
        n
        for n in _nodes(graph, "urn:permedhub:initiative:hostile-project")
        if n.get("@type") == "ResearchProject"
    )
    assert hostile["name"] == HOSTILE + " Project"
    assert hostile["startDate"] == "2021"
    assert hostile["funding"]["amount"] == {
        "@type": "MonetaryAmount",
        "currency": "EUR",
        "value": 1234567.5,
    }
    marks = {(p["propertyID"], p["name"]) for p in hostile["additionalProperty"] if "name" in p}
    assert marks == {("uncertain", "start"), ("approximate", "eu_contribution_eur")}

    org = _nodes(graph, "urn:permedhub:organisation:hostile-org")[0]
    assert "Organization" in org["@type"] and "ResearchOrganization" in org["@type"]
    assert org["address"]["addressCountry"] == "DE"
    assert org["address"]["addressRegion"] == "DE-BY"
    germany = _nodes(graph, "urn:permedhub:country:DE")[0]
    assert germany == {
        "@id": "urn:permedhub:country:DE",
        "@type": "Country",
        "identifier": "DE",
        "name": "Germany",
    }
    bavaria = _nodes(graph, "urn:permedhub:country:DE-BY")[0]
    assert bavaria["containedInPlace"] == {"@id": "urn:permedhub:country:DE"}


def test_jsonld_refers_only_to_nodes_it_defines(family_file):
    document = json.loads(_export_bytes(_family_engine(family_file, hostile=True), "jsonld"))
    defined = {n["@id"] for n in document["@graph"] if "@type" in n}
    referenced: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if set(value) == {"@id"}:
                referenced.add(value["@id"])
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(document["@graph"])
    assert referenced - defined == set()


# ------------------------------------------------------------------ GraphML


def test_graphml_is_valid_xml_with_declared_keys_and_exact_names(family_file):
    engine = _family_engine(family_file, hostile=True)
    root = ET.fromstring(_export_bytes(engine, "graphml"))
    keys = {key.get("id") for key in root.iter(GRAPHML + "key")}
    used = {data.get("key") for data in root.iter(GRAPHML + "data")}
    assert used <= keys

    def data(element: ET.Element) -> dict[str, str | None]:
        return {d.get("key") or "": d.text for d in element.iter(GRAPHML + "data")}

    nodes = {n.get("id"): data(n) for n in root.iter(GRAPHML + "node")}
    edges = [(e.get("source"), e.get("target"), data(e)) for e in root.iter(GRAPHML + "edge")]
    types = [d["type"] for d in nodes.values()]
    assert types.count("initiative") == _seeded("initiatives") + 1
    assert types.count("organisation") == _seeded("organisations") + 1
    participations = sum(1 for *_, d in edges if d["type"] == "participation")
    assert participations == _seeded("participations") + 2
    assert sum(1 for *_, d in edges if d["type"] == "link") == _seeded("links") + 1

    hostile = nodes["organisation:hostile-org"]
    assert hostile["name"] == HOSTILE + " Institute"
    assert hostile["acronym"] == "]]>&amp;"
    city_note = "guessed from the " + HOSTILE + " page"
    assert json.loads(hostile["uncertain"] or "") == {"city": city_note}
    assert ("organisation:hostile-org", "country:DE", {"type": "located-in"}) in edges
    pair = ("organisation:hostile-org", "initiative:hostile-project")
    coordinator = next(d for s, t, d in edges if (s, t) == pair)
    assert coordinator["role"] == "coordinator"
    assert json.loads(coordinator["uncertain"] or "") == {"record": "coordinator presumed"}
    # every edge ends at a node of the file
    assert {s for s, *_ in edges} | {t for _, t, _ in edges} <= set(nodes)


def test_graphml_replaces_characters_xml_cannot_hold(family_file):
    engine = _family_engine(family_file)
    with engine.begin() as connection:
        connection.execute(
            insert(table_of(models.Organisation)), [{"id": "bell", "name": "Bell\x07 Labs"}]
        )
    root = ET.fromstring(_export_bytes(engine, "graphml"))
    node = next(n for n in root.iter(GRAPHML + "node") if n.get("id") == "organisation:bell")
    names = [d.text for d in node.iter(GRAPHML + "data") if d.get("key") == "name"]
    assert names == ["Bell\ufffd Labs"]


# ------------------------------------------------------------------ bad requests


def test_unknown_format_is_refused_by_name(family_file, tmp_path):
    with pytest.raises(ExportError, match=r"format 'xlsx' is not known: expected one of json"):
        export(_family_engine(family_file), "xlsx", tmp_path / "out")


def test_csv_needs_a_directory_or_zip_path(family_file):
    with pytest.raises(ExportError, match=r"must be a directory path or a path ending in \.zip"):
        export(_family_engine(family_file), "csv", io.BytesIO())


# ------------------------------------------------------------------ both backends


def test_the_family_exports_to_the_same_bytes_on_every_backend(engine, family_file):
    """`engine` (tests/conftest.py) is a seeded database on SQLite and, when set up, PostgreSQL."""
    for fmt in ("json", "jsonld", "graphml"):
        assert _export_bytes(engine, fmt) == _export_bytes(_family_engine(family_file), fmt)


def test_an_export_loads_into_an_empty_database_on_every_backend(empty_engine, family_file):
    family = _family_engine(family_file, hostile=True)
    document = family_file.parent / "graph.json"
    export(family, "json", document)
    load_geography(empty_engine)
    load(empty_engine, [document], actor="round-trip")
    assert _export_bytes(empty_engine) == document.read_bytes()
