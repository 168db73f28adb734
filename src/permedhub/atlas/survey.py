"""The mapping survey: its template (CSV and XLSX, made from `schemas.COLUMNS`, with a data
dictionary) and the reading of a filled-in survey into raw rows, each with the row a person
sees in their editor or spreadsheet.

Reading refuses, with an issue naming file, row and column: files above MAX_BYTES or
MAX_ROWS, text that is not UTF-8 (UTF-16 "Unicode text" named as such), a header without the
required columns or with unknown ones, rows with more cells than the header, and in XLSX any
formula (its value would be whatever the spreadsheet last computed, or nothing) and any macro
(.xlsm files, or a vbaProject part inside an .xlsx).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from permedhub.atlas.schemas import COLUMN_NAMES, COLUMNS, JSON_COLUMNS
from permedhub.graph import spreadsheets
from permedhub.graph.preparing import LoadError, LoadIssue

MAX_BYTES = 64 * 1024 * 1024
MAX_ROWS = 200_000
SHEET = "records"
DICTIONARY_SHEET = "data dictionary"
REQUIRED = {column.name for column in COLUMNS if column.required}


@dataclass
class RawRow:
    """One data row of a survey: its row number as the editor shows it, and its cells."""

    row: int
    data: dict[str, Any]


# ------------------------------------------------------------------ the template


def dictionary_markdown(topics: Iterable[tuple[str, str]] = ()) -> str:
    """The data dictionary: one line per column, then the topic ids a survey may use."""
    lines = [
        "# PerMed Hub mapping survey: data dictionary",
        "",
        "One row per mapping record. Lists are separated by `;`. Every row cites the page or "
        "report it was read in (`source`); leave a cell empty when the source does not state "
        "it, and name doubtful fields in `uncertain`. Save CSV files as UTF-8.",
        "",
        "| column | required | meaning | allowed values | example |",
        "| --- | --- | --- | --- | --- |",
    ]
    for column in COLUMNS:
        lines.append(
            f"| {column.name} | {'yes' if column.required else 'no'} | {column.meaning} | "
            f"{column.allowed} | {column.example} |"
        )
    topics = list(topics)
    if topics:
        lines += ["", "## Topics (ICPerMed taxonomy)", "", "| topic id | name |", "| --- | --- |"]
        lines += [f"| {topic_id} | {name} |" for topic_id, name in topics]
    return "\n".join(lines) + "\n"


def write_template(folder: Path, topics: Iterable[tuple[str, str]] = ()) -> list[Path]:
    """survey.csv (the header), survey.xlsx (the header, and the data dictionary as its second
    sheet) and survey-dictionary.md into `folder`."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    folder.mkdir(parents=True, exist_ok=True)
    topics = list(topics)
    written = [folder / "survey.csv", folder / "survey.xlsx", folder / "survey-dictionary.md"]
    with written[0].open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerow(COLUMN_NAMES)
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook has one sheet
    sheet.title = SHEET
    sheet.append(list(COLUMN_NAMES))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    dictionary = book.create_sheet(DICTIONARY_SHEET)
    dictionary.append(["column", "required", "meaning", "allowed values", "example"])
    for column in COLUMNS:
        dictionary.append(
            [
                column.name,
                "yes" if column.required else "no",
                column.meaning,
                column.allowed,
                column.example,
            ]
        )
    if topics:
        dictionary.append([])
        dictionary.append(["topic id", "name"])
        for topic_id, name in topics:
            dictionary.append([topic_id, name])
    for cell in dictionary[1]:
        cell.font = Font(bold=True)
    book.save(written[1])
    written[2].write_text(dictionary_markdown(topics), encoding="utf-8")
    return written


# ------------------------------------------------------------------ reading a survey


def read_survey(path: Path) -> Iterator[RawRow]:
    """The data rows of a CSV or XLSX survey (YAML and JSON: use `loading.read_document`)."""
    if path.suffix.lower() not in {*spreadsheets.SUFFIXES, ".xlsm", ".xltm"}:
        raise LoadError([_issue(path, None, None, path.suffix, "unsupported survey file: "
                                "expected .csv, .xlsx, .yaml, .yml or .json")])  # fmt: skip
    header, rows = spreadsheets.read_table(
        path,
        sheet=SHEET,
        max_bytes=MAX_BYTES,
        max_rows=MAX_ROWS,
        check_header=lambda found: _header_issues(path, found),
    )
    for number, cells in rows:
        yield _cells(path, number, header, cells)


def _issue(path: Path, row: int | None, field: str | None, value: Any, expected: str) -> LoadIssue:
    return LoadIssue(str(path), row, field, value, expected)


def _header_issues(path: Path, header: list[str]) -> list[LoadIssue]:
    issues = []
    unknown = [name for name in header if name and name not in COLUMN_NAMES]
    if unknown:
        issues.append(
            _issue(
                path,
                1,
                None,
                ", ".join(unknown),
                "unknown column(s): expected only the template's columns "
                f"({', '.join(COLUMN_NAMES)})",
            )
        )
    missing = [name for name in COLUMN_NAMES if name in REQUIRED and name not in header]
    if missing:
        issues.append(
            _issue(path, 1, None, ", ".join(missing), "required column(s) missing from the header")
        )
    repeated = sorted({name for name in header if name and header.count(name) > 1})
    if repeated:
        issues.append(_issue(path, 1, None, ", ".join(repeated), "a column named only once"))
    return issues


def _cells(path: Path, row: int, header: list[str], values: list[Any]) -> RawRow:
    """A row's non-empty cells by column; JSON columns and `{...}` uncertain cells parsed."""
    data: dict[str, Any] = {}
    for name, value in zip(header, values, strict=False):
        if not name or value is None:
            continue
        if isinstance(value, str):
            value = value.strip()
            if value == "":
                continue
        if name in JSON_COLUMNS or (name == "uncertain" and str(value)[:1] == "{"):
            try:
                value = json.loads(str(value))
            except json.JSONDecodeError as exc:
                raise LoadError(
                    [_issue(path, row, name, value, f"a JSON object: {exc.msg}")]
                ) from None
        data[name] = value
    return RawRow(row, data)
