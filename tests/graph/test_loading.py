"""Loading files: every bad input gets an error naming file, row, field, value and what was
expected, and leaves the database exactly as it was."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from permedhub.graph import models
from permedhub.graph.gazetteer import GAZETTEER
from permedhub.graph.loading import LoadError, load
from permedhub.graph.models import table_of
from permedhub.graph.preparing import CHUNK_ROWS, PreparingFailed, prepare_in_background
from permedhub.graph.queries import get_organisation

TABLES = [
    models.Organisation,
    models.Initiative,
    models.Participation,
    models.Link,
    models.Topic,
    models.Call,
    models.AuditEntry,
    models.SearchDocument,
]


def state(engine: Engine) -> dict[str, int]:
    """Row counts of every graph table plus the newest audit id: equal before and after means
    nothing was written."""
    with Session(engine) as session:
        counts = {
            m.__tablename__: session.execute(select(func.count()).select_from(m)).scalar_one()
            for m in TABLES
        }
        counts["max_audit"] = session.execute(select(func.max(models.AuditEntry.id))).scalar_one()
    return counts


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(textwrap.dedent(content).lstrip(), encoding="utf-8")
    return path


def assert_rejected(
    engine: Engine,
    path: Path,
    *,
    field: str | None,
    value: object,
    says: str,
    row: int | None = None,
) -> LoadError:
    before = state(engine)
    with pytest.raises(LoadError) as caught:
        load(engine, [path], background=False)
    # Big inputs are read by a child process: it must report exactly the same problems.
    with pytest.raises(LoadError) as caught_in_background:
        load(engine, [path], background=True)
    assert caught_in_background.value.issues == caught.value.issues
    assert _readers_of(path) == []  # whichever side found the problem, the reader has ended
    issue = caught.value.issues[0]
    assert issue.file == str(path)
    if field is not None:
        assert issue.field is not None and issue.field.endswith(field), issue
    if value is not None:
        assert issue.value == value, issue
    if row is not None:
        assert issue.row == row, issue
    assert says in str(issue), str(issue)
    assert state(engine) == before
    return caught.value


GOOD_ORG = {"id": "org-a", "name": "Organisation A", "country": "FR", "kind": "university"}


def test_yaml_upserts_by_stable_id_and_audits_the_change(engine, tmp_path):
    path = write(tmp_path, "a.yaml", json.dumps({"organisations": [GOOD_ORG]}))
    first = load(engine, [path], actor="alice")
    again = load(engine, [path], actor="alice")
    assert first.counts["organisations"].created == 1
    assert (
        again.counts["organisations"].unchanged == 1 and again.counts["organisations"].created == 0
    )
    changed = write(
        tmp_path, "b.yaml", json.dumps({"organisations": [{**GOOD_ORG, "city": "Lyon"}]})
    )
    report = load(engine, [changed], actor="bob")
    assert report.counts["organisations"].changed == 1
    with Session(engine) as session:
        entry = (
            session.execute(
                select(models.AuditEntry)
                .where(models.AuditEntry.entity_id == "org-a")
                .order_by(models.AuditEntry.id.desc())
            )
            .scalars()
            .first()
        )
        assert entry is not None
        assert (entry.actor, entry.action) == ("bob", "update")
        assert entry.old is not None and entry.old["city"] is None
        assert entry.new is not None and entry.new["city"] == "Lyon"
        assert get_organisation(session, "org-a").city == "Lyon"


def test_csv_files_of_each_entity(engine, tmp_path):
    orgs = write(
        tmp_path,
        "organisations.csv",
        """\
        id,name,acronym,kind,country,subdivision,expertise,uncertain
        org-b,Organisation B,OB,funder,ES,ES-CT,genomics;data,country
        """,
    )
    parts = write(
        tmp_path,
        "participations.csv",
        """\
        organisation,initiative,role,source
        org-b,erapermed,funder,https://example.org/list
        """,
    )
    report = load(engine, [orgs, parts])
    assert report.counts["organisations"].created == 1
    assert report.counts["participations"].created == 1
    with Session(engine) as session:
        org = get_organisation(session, "org-b")
    assert org.subdivision and org.subdivision.code == "ES-CT"
    assert org.uncertain == {"country": ""}
    assert [p.initiative.id for p in org.participations] == ["erapermed"]


def test_reading_in_a_child_process_stores_the_same_rows(engine, tmp_path):
    orgs = "".join(f"bg-{i},Org {i},{'DE' if i % 2 else 'ES'}\n" for i in range(5000))
    parts = "".join(f"bg-{i},erapermed,partner\n" for i in range(0, 5000, 3))
    files = [
        write(tmp_path, "organisations.csv", "id,name,country\n" + orgs + "bg-7,Org 7,DE\n"),
        write(tmp_path, "participations.csv", "organisation,initiative,role\n" + parts),
    ]
    ticks: list[int] = []
    first = load(engine, files, background=True, progress=ticks.append)
    assert first.counts["organisations"].created == 5000  # the repeated bg-7 counted once
    assert first.counts["participations"].created == 1667
    assert sum(ticks) == 6667
    # The same files read in this process find every row stored exactly as they say.
    again = load(engine, files, background=False)
    assert again.counts["organisations"].unchanged == 5000
    assert again.counts["participations"].unchanged == 1667
    assert again.rows == first.rows and not again.changes
    with Session(engine) as session:
        assert get_organisation(session, "bg-1").country.code == "DE"


def test_a_file_too_big_to_read_in_this_process_goes_to_a_child(engine, tmp_path, monkeypatch):
    from permedhub.graph import loading, preparing

    started: list[list[str]] = []
    real = preparing.subprocess.Popen

    def spy(command, **kwargs):
        started.append(command)
        return real(command, **kwargs)

    monkeypatch.setattr(preparing.subprocess, "Popen", spy)
    small = write(tmp_path, "organisations.csv", "id,name,country\nsmall,Small,FR\n")
    load(engine, [small])
    assert started == []
    monkeypatch.setattr(loading, "BACKGROUND_BYTES", small.stat().st_size)
    load(engine, [small])
    assert len(started) == 1 and started[0][-1] == str(small)


def test_malformed_yaml(engine, tmp_path):
    path = write(tmp_path, "bad.yaml", "organisations:\n  - {id: x, name: [unclosed\n")
    assert_rejected(engine, path, field=None, value=None, says="malformed YAML")


def test_blank_csv_lines_are_skipped_and_later_rows_keep_their_line_numbers(engine, tmp_path):
    path = write(tmp_path, "organisations.csv", "id,name,country\n\n , ,\nok-1,One,FR\nzz,Z,ZZ\n")
    assert_rejected(engine, path, field="country", value="ZZ", row=5, says="unknown country code")
    path.write_text("id,name,country\n\n , ,\nok-1,One,FR\n")
    assert load(engine, [path]).counts["organisations"].created == 1


def test_malformed_csv_row_with_missing_cells(engine, tmp_path):
    path = write(tmp_path, "organisations.csv", "id,name,country\nok-1,One,FR\nbad-2,Two\n")
    assert_rejected(engine, path, field=None, value=None, row=3, says="expected 3 cells")


def test_unknown_country_code(engine, tmp_path):
    path = write(tmp_path, "organisations.csv", "id,name,country\nok-1,One,FR\nzz-2,Two,ZZ\n")
    assert_rejected(engine, path, field="country", value="ZZ", row=3, says="unknown country code")


def test_duplicate_ids_with_conflicting_data(engine, tmp_path):
    path = write(
        tmp_path, "organisations.csv", "id,name,country\ndup,First name,FR\ndup,Second name,FR\n"
    )
    assert_rejected(engine, path, field="id", value="dup", row=3, says="already has it at row 2")


def test_identical_duplicates_are_accepted_once(engine, tmp_path):
    path = write(tmp_path, "organisations.csv", "id,name,country\ndup,Same,FR\ndup,Same,FR\n")
    assert load(engine, [path]).counts["organisations"].created == 1


def test_end_date_before_start(engine, tmp_path):
    doc = {
        "initiatives": [
            {"id": "late", "name": "Late", "kind": "csa", "start": "2021-05", "end": "2020-01-31"}
        ]
    }
    path = write(tmp_path, "i.json", json.dumps(doc))
    assert_rejected(engine, path, field="initiatives", value=None, row=1, says="before start")


def test_a_yaml_date_not_in_the_calendar_is_named_by_record_and_field(engine, tmp_path):
    # PyYAML's own date type raised a bare ValueError ("day is out of range for month").
    path = write(
        tmp_path,
        "i.yaml",
        """
        initiatives:
          - {id: ok, name: OK, kind: csa, start: 2021-02-28}
          - {id: feb30, name: Feb, kind: csa, start: 2021-02-30}
        """,
    )
    assert_rejected(engine, path, field="start", value="2021-02-30", row=3, says="day is out of")


def test_negative_money(engine, tmp_path):
    doc = {"initiatives": [{"id": "neg", "name": "Neg", "kind": "csa", "eu_contribution_eur": -5}]}
    path = write(tmp_path, "i.yaml", json.dumps(doc))
    assert_rejected(
        engine, path, field="eu_contribution_eur", value=-5, says="greater than or equal to 0"
    )


def test_participation_naming_an_unknown_organisation(engine, tmp_path):
    path = write(
        tmp_path,
        "participations.csv",
        "organisation,initiative,role\nisciii,permit,partner\nno-such-org,permit,partner\n",
    )
    assert_rejected(
        engine,
        path,
        field="organisation_id",
        value="no-such-org",
        row=3,
        says="existing organisation",
    )


def test_non_utf8_bytes(engine, tmp_path):
    path = write(tmp_path, "organisations.csv", "id,name,country\nx,Caf\xe9,FR\n".encode("latin-1"))
    assert_rejected(engine, path, field=None, value=None, says="not valid UTF-8")


def test_a_latin1_byte_is_reported_on_its_line_and_in_its_field(engine, tmp_path):
    # Far enough down that the decoder's read-ahead block starts before it.
    good = "".join(f"ok-{n},Organisation {n},FR\n" for n in range(400))
    content = f"id,name,country,city\n{good}".replace(",FR\n", ",FR,Paris\n")
    content += '"lat-1","Caf\xe9, Bar",FR,Lyon\n'
    path = write(tmp_path, "organisations.csv", content.encode("latin-1"))
    error = assert_rejected(
        engine, path, field="name", value=None, row=402, says="byte 0xe9 at line 402, column 13"
    )
    assert len(error.issues) == 1


def test_every_bad_country_code_in_a_file_is_listed(engine, tmp_path):
    path = write(
        tmp_path,
        "organisations.csv",
        "id,name,country\nbad-1,One,XX\nok-2,Two,FR\nbad-3,Three,YY\nbad-4,Four,ZZ\n",
    )
    error = assert_rejected(engine, path, field="country", value="XX", row=2, says="unknown")
    assert [(i.row, i.value) for i in error.issues] == [(2, "XX"), (4, "YY"), (5, "ZZ")]


def test_problems_in_several_files_are_listed_together(engine, tmp_path):
    first = write(tmp_path, "organisations.csv", "id,name,country\nbad-1,One,XX\n")
    second = write(tmp_path, "organisations_2.csv", "id,name,country\nbad-2,Two,YY\n")
    before = state(engine)
    with pytest.raises(LoadError) as caught:
        load(engine, [first, second])
    assert [(i.file, i.value) for i in caught.value.issues] == [
        (str(first), "XX"),
        (str(second), "YY"),
    ]
    assert state(engine) == before


def test_a_record_on_several_lines_is_numbered_by_its_first_line(engine, tmp_path):
    path = write(
        tmp_path,
        "organisations.csv",
        'id,name,country,notes\nok-1,One,FR,"two\nlines"\nzz-2,Two,ZZ,\n',
    )
    assert_rejected(engine, path, field="country", value="ZZ", row=4, says="unknown country")


def test_truncated_json_file(engine, tmp_path):
    text = json.dumps({"organisations": [GOOD_ORG, {**GOOD_ORG, "id": "org-z"}]})
    path = write(tmp_path, "cut.json", text[: len(text) // 2])
    assert_rejected(engine, path, field=None, value=None, says="malformed JSON")


def test_truncated_csv_file(engine, tmp_path):
    path = write(tmp_path, "organisations.csv", 'id,name,country\nok,One,FR\ncut,"Half a na')
    assert_rejected(engine, path, field=None, value=None, says="malformed CSV")


def test_a_bad_second_file_rolls_back_the_first(engine, tmp_path):
    good = write(tmp_path, "organisations.csv", "id,name,country\nfine,Fine,FR\n")
    bad = write(tmp_path, "participations.csv", "organisation,initiative,role\nfine,nope,chair\n")
    before = state(engine)
    with pytest.raises(LoadError) as caught:
        load(engine, [good, bad])
    assert caught.value.issues[0].field == "participations.role"
    assert state(engine) == before


def test_dry_run_counts_but_stores_nothing(engine, tmp_path):
    path = write(tmp_path, "organisations.csv", "id,name,country\nnew-1,New,FR\n")
    before = state(engine)
    report = load(engine, [path], dry_run=True)
    assert report.counts["organisations"].created == 1
    assert state(engine) == before


def _load_in_process(url: str, path: str, actor: str) -> None:
    from permedhub.db import make_engine
    from permedhub.graph.loading import load as load_files

    load_files(make_engine(url), [path], actor=actor)


def test_two_loads_at_once_both_land_intact(engine, tmp_path):
    files = []
    for n in range(2):
        rows = "".join(f"conc-{n}-{i},Org {n}-{i},FR\n" for i in range(3000))
        files.append(write(tmp_path, f"organisations_{n}.csv", "id,name,country\n" + rows))
    url = engine.url.render_as_string(hide_password=False)
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_load_in_process, args=(url, str(f), f"w{n}"))
        for n, f in enumerate(files)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
        assert w.exitcode == 0
    with Session(engine) as session:
        for n in range(2):
            count = session.execute(
                select(func.count(models.Organisation.id)).where(
                    models.Organisation.id.like(f"conc-{n}-%")
                )
            ).scalar_one()
            audits = session.execute(
                select(func.count(models.AuditEntry.id)).where(models.AuditEntry.actor == f"w{n}")
            ).scalar_one()
            assert (count, audits) == (3000, 3000)


KILL_SCRIPT = """
import sys, time
from pathlib import Path
from permedhub.db import make_engine
from permedhub.graph.loading import load

url, path, marker, background = sys.argv[1:]
seen = 0
def progress(n):
    global seen
    seen += n
    if seen >= 15000:
        Path(marker).write_text("half-way")
        time.sleep(60)
load(make_engine(url), [path], progress=progress, background=background == "1")
"""


def _readers_of(path: Path) -> list[int]:
    """Process ids of reading processes (permedhub.graph.preparing) still working on `path`."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"permedhub.graph.preparing" in command and str(path).encode() in command:
            found.append(int(entry.name))
    return found


def test_a_writer_failing_early_stops_a_reader_far_ahead(engine, tmp_path):
    # Far more chunks than the writer receives ahead: the reader is still busy (or waiting for
    # room) when the first chunk is refused.
    rows = "".join(f"nobody-{n},erapermed,partner\n" for n in range(40 * CHUNK_ROWS))
    path = write(tmp_path, "participations.csv", "organisation,initiative,role\n" + rows)
    before = state(engine)
    with pytest.raises(LoadError) as caught:
        load(engine, [path], background=True)
    assert caught.value.issues[0].value == "nobody-0"
    assert _readers_of(path) == []
    assert state(engine) == before


@pytest.mark.parametrize(
    ("child", "says"),
    [
        ("printf 'not a pickle'", "cannot read what the file-reading process sent"),
        ("exit 3", "ended early \\(exit code 3\\)"),
    ],
    ids=["garbled", "silent"],
)
def test_a_reading_process_that_misbehaves_is_an_error_not_a_hang(
    tmp_path, monkeypatch, child, says
):
    stand_in = tmp_path / "python"  # started instead of `python -m permedhub.graph.preparing`
    stand_in.write_text(f"#!/bin/sh\n{child}\n")
    stand_in.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(stand_in))
    with pytest.raises(PreparingFailed, match=says):
        list(prepare_in_background([tmp_path / "organisations.csv"]))


@pytest.mark.parametrize("background", [False, True], ids=["one-process", "with-reader"])
def test_a_load_killed_half_way_leaves_nothing(engine, tmp_path, background):
    rows = "".join(f"kill-{i},Org {i},DE\n" for i in range(30000))
    path = write(tmp_path, "organisations.csv", "id,name,country\n" + rows)
    marker = tmp_path / "marker"
    before = state(engine)
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            KILL_SCRIPT,
            engine.url.render_as_string(hide_password=False),
            str(path),
            str(marker),
            "1" if background else "0",
        ],
    )
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert process.poll() is None, "the loader ended before reaching half-way"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert state(engine) == before
    # The reading process notices that nobody listens any more and ends too.
    deadline = time.monotonic() + 30
    while _readers_of(path):
        assert time.monotonic() < deadline, "the reading process outlived the loader"
        time.sleep(0.1)
    # and the database still takes writes
    load(engine, [write(tmp_path, "organisations_ok.csv", "id,name,country\nafter,After,DE\n")])


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)  # VACUUM is PostgreSQL's
def test_a_big_load_on_postgresql_is_vacuumed_and_analysed_once_committed(
    engine, tmp_path, monkeypatch
):
    from permedhub.graph import loading

    def vacuumed(table: str) -> tuple[object, object]:
        with engine.connect() as connection:
            return connection.exec_driver_sql(
                "SELECT last_vacuum, last_analyze FROM pg_stat_user_tables WHERE relname = %s",
                (table,),
            ).one()

    monkeypatch.setattr(loading, "VACUUM_ROWS", 3)
    small = write(tmp_path, "organisations.csv", "id,name,country\nv-1,One,FR\nv-2,Two,FR\n")
    load(engine, [small])  # 2 rows: below the threshold
    assert vacuumed("organisation") == (None, None)
    load(engine, [small], dry_run=True)
    assert vacuumed("organisation") == (None, None)
    big = write(tmp_path, "organisations_2.csv", "id,name,country\nv-3,3,FR\nv-4,4,FR\nv-5,5,FR\n")
    load(engine, [big])
    for table in ("organisation", "audit_entry", "search_document", "place_total"):
        last_vacuum, last_analyze = vacuumed(table)
        assert last_vacuum is not None and last_analyze is not None, table


@pytest.mark.parametrize(
    ("record", "field", "says"),
    [
        ({"website": "javascript:alert(1)"}, "website", "http(s) address"),
        ({"website": "JavaScript:alert(document.cookie)"}, "website", "http(s) address"),
        ({"website": "www.example.org"}, "website", "http(s) address"),
        ({"website": "ftp://example.org/x"}, "website", "http(s) address"),
        ({"source": "javascript:alert(1)"}, "source", "not a script or data link"),
        ({"source": "java\tscript:alert(1)"}, "source", "not a script or data link"),
        ({"source": "data:text/html,<script>alert(1)</script>"}, "source", "script or data"),
    ],
)
def test_link_fields_take_web_addresses_only(engine, tmp_path, record, field, says):
    path = write(tmp_path, "links.yaml", json.dumps({"organisations": [{**GOOD_ORG, **record}]}))
    assert_rejected(engine, path, field=field, value=record[field], says=says)


def test_citations_and_web_addresses_are_kept(engine, tmp_path):
    record = {
        **GOOD_ORG,
        "website": "https://example.org/a?b=1",
        "source": "CORDIS: project 779282; https://cordis.europa.eu/project/id/779282",
    }
    path = write(tmp_path, "ok.yaml", json.dumps({"organisations": [record]}))
    assert load(engine, [path]).counts["organisations"].created == 1


def test_a_field_read_on_another_page_keeps_that_page_as_its_source(engine, tmp_path):
    record = {
        **GOOD_ORG,
        "city": {"value": "Lyon", "source": "https://example.org/city-page"},
        "sources": {"website": "https://example.org/about"},
        "website": "https://example.org/",
        "source": "https://example.org/members",
    }
    path = write(tmp_path, "sources.yaml", json.dumps({"organisations": [record]}))
    load(engine, [path])
    with engine.connect() as connection:
        row = connection.execute(
            select(table_of(models.Organisation)).where(models.Organisation.id == "org-a")
        ).one()
    assert row.city == "Lyon"
    assert row.source == "https://example.org/members"
    assert row.sources == {
        "website": "https://example.org/about",
        "city": "https://example.org/city-page",
        # the coordinates it was not given are the city's, from the gazetteer
        "latitude": GAZETTEER,
        "longitude": GAZETTEER,
    }


@pytest.mark.parametrize(
    ("sources", "field", "says"),
    [
        ({"town": "https://example.org/"}, "sources", "'town', which this record does not have"),
        ({"city": "javascript:alert(1)"}, "sources.city", "not a script or data link"),
        ("https://example.org/", "sources", "Input should be a valid dictionary"),
    ],
)
def test_per_field_sources_name_real_fields_and_take_citations_only(
    engine, tmp_path, sources, field, says
):
    record = {**GOOD_ORG, "sources": sources}
    path = write(tmp_path, "bad-sources.yaml", json.dumps({"organisations": [record]}))
    assert_rejected(engine, path, field=field, value=None, says=says)


def test_a_yaml_record_is_numbered_by_the_line_it_starts_on(engine, tmp_path):
    content = (
        "# two organisations, the second one wrong\n"
        "organisations:\n"
        "  - id: ok-1\n"
        "    name: One\n"
        "    country: FR\n"
        "\n"
        "  - id: zz-2\n"
        "    name: Two\n"
        "    country: ZZ\n"
    )
    path = write(tmp_path, "orgs.yaml", content)
    assert_rejected(engine, path, field="country", value="ZZ", row=7, says="unknown country")


def test_a_json_record_is_numbered_by_the_line_it_starts_on(engine, tmp_path):
    doc = {
        "meta": {"note": 'lists [and] braces {in} strings, "quoted"'},
        "organisations": [GOOD_ORG, {**GOOD_ORG, "id": "zz-2", "country": "ZZ"}],
    }
    path = write(tmp_path, "orgs.json", json.dumps(doc, indent=2))
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if '"zz-2"' in text)
    # the record's opening brace is the line before its first key
    assert_rejected(engine, path, field="country", value="ZZ", row=line - 1, says="unknown")


def test_a_document_level_problem_names_the_records_line(engine, tmp_path):
    content = "organisations:\n  - {id: a, name: A, country: FR}\n  - 7\n"
    path = write(tmp_path, "orgs.yaml", content)
    assert_rejected(engine, path, field="organisations", value=7, row=3, says="dictionary")
