"""Importing mapping surveys: the template round-trips, and every kind of bad input is refused
with the row, column and value named, and nothing stored."""

from __future__ import annotations

import csv
import datetime as dt
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from permedhub.atlas import survey
from permedhub.atlas.loading import LoadError, load
from permedhub.atlas.models import PLACES, RECORDS, TOPICS
from permedhub.atlas.schemas import COLUMN_NAMES
from permedhub.graph.models import AuditEntry

GOOD = {
    "id": "x-1",
    "name": "Survey record one",
    "type": "funding-programme",
    "countries": "FR; DE",
    "topics": "t1;t2",
    "capacity": "emerging",
    "start": "2019-03",
    "source": "https://example.org/x-1",
}


def write_csv(path: Path, rows: list[dict[str, str]], header: list[str] | None = None) -> Path:
    header = header or list(COLUMN_NAMES)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


def count(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(RECORDS)).scalar_one()


def issues_of(engine, path: Path) -> list:
    before = count(engine)
    with pytest.raises(LoadError) as caught:
        load(engine, [path])
    assert count(engine) == before  # nothing stored half-way
    return caught.value.issues


def test_the_template_is_the_column_definition_with_its_dictionary(tmp_path):
    written = survey.write_template(tmp_path, [("t1", "Topic one")])
    assert [p.name for p in written] == ["survey.csv", "survey.xlsx", "survey-dictionary.md"]
    assert next(csv.reader((tmp_path / "survey.csv").open(encoding="utf-8"))) == list(COLUMN_NAMES)
    book = load_workbook(tmp_path / "survey.xlsx")
    assert book.sheetnames == ["records", "data dictionary"]
    assert [c.value for c in book["records"][1]] == list(COLUMN_NAMES)
    described = [row[0] for row in book["data dictionary"].iter_rows(values_only=True)]
    assert set(COLUMN_NAMES) <= set(described) and "t1" in described
    dictionary = (tmp_path / "survey-dictionary.md").read_text(encoding="utf-8")
    assert "| capacity | no |" in dictionary and "| t1 | Topic one |" in dictionary


def test_a_filled_csv_template_imports_and_a_dry_run_stores_nothing(world, tmp_path):
    path = write_csv(tmp_path / "survey.csv", [GOOD, {**GOOD, "id": "x-2", "countries": "ES-CT"}])
    before = count(world)
    report = load(world, [path], dry_run=True)
    assert report.counts["records"].created == 2 and count(world) == before
    report = load(world, [path])
    assert report.counts["records"].created == 2 and count(world) == before + 2
    with world.connect() as connection:
        places = connection.execute(
            select(PLACES.c.place_code, PLACES.c.country_code).where(PLACES.c.record_id == "x-2")
        ).all()
        assert places == [("ES-CT", "ES")]
        row = connection.execute(select(RECORDS).where(RECORDS.c.id == "x-1")).mappings().one()
        assert row["start_date"] == dt.date(2019, 3, 1) and row["start_precision"] == "month"
        assert row["countries"] == ["FR", "DE"] and row["topics"] == ["t1", "t2"]
    # Changed on a second import: updated, with an audit entry, and its topics rewritten.
    write_csv(path, [{**GOOD, "topics": "t3"}, {**GOOD, "id": "x-2", "countries": "ES-CT"}])
    report = load(world, [path])
    assert (report.counts["records"].changed, report.counts["records"].unchanged) == (1, 1)
    with world.connect() as connection:
        topics = (
            connection.execute(select(TOPICS.c.topic_id).where(TOPICS.c.record_id == "x-1"))
            .scalars()
            .all()
        )
        assert topics == ["t3"]
        actions = (
            connection.execute(select(AuditEntry.action).where(AuditEntry.entity_id == "x-1"))
            .scalars()
            .all()
        )
        assert sorted(actions) == ["create", "update"]


def test_unknown_topics_countries_and_values_are_named_by_row_and_column(world, tmp_path):
    path = write_csv(
        tmp_path / "survey.csv",
        [
            GOOD,
            {**GOOD, "id": "x-2", "topics": "t1; t4"},
            {**GOOD, "id": "x-3", "countries": "FR; XX"},
            {**GOOD, "id": "x-4", "type": "hospital", "capacity": "huge"},
            {**GOOD, "id": "x-5", "regions": "atlantis", "countries": ""},
            {**GOOD, "id": "x-6", "source": ""},
            {**GOOD, "id": "x-7", "start": "2021", "end": "2019"},
        ],
    )
    found = {(i.row, i.field, i.value): i.expected for i in issues_of(world, path)}
    assert "did you mean" in found[(3, "topics", "t4")]
    assert "unknown country code 'XX'" in found[(4, "countries.1", "XX")]
    assert "'policy-strategy'" in found[(5, "type", "hospital")]
    assert (5, "capacity", "huge") in found
    assert "one of" in found[(6, "regions", "atlantis")]
    assert found[(7, "source", None)].startswith("required")
    assert any(row == 8 and "before start" in text for (row, _, _), text in found.items())


def test_a_repeated_id_is_refused_at_its_second_row(world, tmp_path):
    path = write_csv(tmp_path / "survey.csv", [GOOD, GOOD])
    [issue] = issues_of(world, path)
    assert (issue.row, issue.field, issue.value) == (3, "id", "x-1")
    assert "already has it at row 2" in issue.expected


def test_wrong_encodings_are_named(world, tmp_path):
    latin = tmp_path / "latin.csv"
    header = ",".join(COLUMN_NAMES)
    latin.write_bytes(
        (header + "\n").encode() + "x-1,Programa de Medicina Genómica".encode("latin-1") + b"\n"
    )
    [issue] = issues_of(world, latin)
    assert issue.row == 2 and issue.field == "name" and "not valid UTF-8" in issue.expected
    utf16 = tmp_path / "utf16.csv"
    utf16.write_text(header + "\n", encoding="utf-16")
    [issue] = issues_of(world, utf16)
    assert "UTF-16" in issue.expected


def test_wrong_columns_are_named(world, tmp_path):
    path = write_csv(tmp_path / "s.csv", [{"id": "x", "nom": "y"}], header=["id", "nom"])
    issues = issues_of(world, path)
    assert any(i.value == "nom" and "unknown column" in i.expected for i in issues)
    assert any("name, type, source" in str(i.value) and "missing" in i.expected for i in issues)


def test_huge_files_are_refused_before_reading(world, tmp_path, monkeypatch):
    path = write_csv(tmp_path / "survey.csv", [GOOD, {**GOOD, "id": "x-2"}, {**GOOD, "id": "x-3"}])
    monkeypatch.setattr(survey, "MAX_ROWS", 2)
    [issue] = issues_of(world, path)
    assert issue.row == 4 and "at most 2 rows" in issue.expected
    monkeypatch.setattr(survey, "MAX_BYTES", 100)
    [issue] = issues_of(world, path)
    assert "at most 0 MB" in issue.expected or "split the file" in issue.expected


def xlsx(path: Path, rows: list[list[object]]) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.title = "records"
    sheet.append(list(COLUMN_NAMES))
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def cells(**values: object) -> list[object]:
    return [values.get(name) for name in COLUMN_NAMES]


def test_an_xlsx_survey_imports_with_dates_and_years_as_typed(world, tmp_path):
    path = xlsx(
        tmp_path / "survey.xlsx",
        [
            cells(**{**GOOD, "start": dt.datetime(2019, 3, 4)}),
            cells(**{**GOOD, "id": "x-2", "start": 2016}),
        ],
    )
    assert load(world, [path]).counts["records"].created == 2
    with world.connect() as connection:
        starts = dict(connection.execute(select(RECORDS.c.id, RECORDS.c.start_date)).all())
    assert starts["x-1"] == dt.date(2019, 3, 4) and starts["x-2"] == dt.date(2016, 1, 1)


def test_formulas_and_macros_in_workbooks_are_refused(world, tmp_path):
    path = xlsx(tmp_path / "f.xlsx", [cells(**{**GOOD, "name": '=CONCAT("a","b")'})])
    [issue] = issues_of(world, path)
    assert (issue.row, issue.field) == (2, "name") and "not a formula" in issue.expected
    macro = tmp_path / "m.xlsm"
    macro.write_bytes(path.read_bytes())
    [issue] = issues_of(world, macro)
    assert "macro-enabled" in issue.expected
    smuggled = tmp_path / "smuggled.xlsx"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(smuggled, "w") as target:
        for item in source.infolist():
            target.writestr(item, source.read(item.filename))
        target.writestr("xl/vbaProject.bin", b"\x00macro")
    [issue] = issues_of(world, smuggled)
    assert "macros is refused" in issue.expected
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip")
    [issue] = issues_of(world, broken)
    assert "not an XLSX workbook" in issue.expected


def test_one_bad_row_among_good_ones_stores_nothing(world, tmp_path):
    rows = [{**GOOD, "id": f"x-{n}"} for n in range(50)]
    rows[37]["topics"] = "nope"
    [issue] = issues_of(world, write_csv(tmp_path / "s.csv", rows))
    assert (issue.row, issue.field, issue.value) == (39, "topics", "nope")


def test_the_coverage_cells_follow_a_record_that_moves(world, tmp_path):
    from permedhub.atlas.analyses import coverage

    before = coverage(world).records
    path = write_csv(tmp_path / "s.csv", [GOOD])  # FR and DE, t1 and t2
    load(world, [path])
    after = coverage(world).records
    assert after.loc["FR", "t1"] == before.loc["FR", "t1"] + 1
    assert after.loc["DE", "t2"] == before.loc["DE", "t2"] + 1
    write_csv(path, [{**GOOD, "countries": "KE", "topics": "t3"}])
    load(world, [path])
    moved = coverage(world).records
    assert moved.loc["FR"].tolist() == before.loc["FR"].tolist()
    assert moved.loc["DE"].tolist() == before.loc["DE"].tolist()
    assert moved.loc["KE", "t3"] == before.loc["KE", "t3"] + 1
    regions = coverage(world, by="region").records
    assert regions.loc["eu27"].tolist() == [2, 1, 0]  # as before the first import
