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
import datetime as dt
import io
import json
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from permedhub.atlas.schemas import COLUMN_NAMES, COLUMNS, JSON_COLUMNS
from permedhub.graph import preparing
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
    _check_size(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        yield from _read_csv(path)
    elif suffix in {".xlsm", ".xltm"}:
        raise LoadError(
            [
                _issue(
                    path,
                    None,
                    None,
                    path.suffix,
                    "a macro-enabled workbook is refused: save "
                    "the survey as .xlsx (no macros) or .csv",
                )
            ]
        )
    elif suffix == ".xlsx":
        yield from _read_xlsx(path)
    else:
        raise LoadError(
            [
                _issue(
                    path,
                    None,
                    None,
                    path.suffix,
                    "unsupported survey file: expected .csv, .xlsx, .yaml, .yml or .json",
                )
            ]
        )


def _issue(path: Path, row: int | None, field: str | None, value: Any, expected: str) -> LoadIssue:
    return LoadIssue(str(path), row, field, value, expected)


def _check_size(path: Path) -> None:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise LoadError([_issue(path, None, None, None, f"cannot read: {exc}")]) from None
    if size > MAX_BYTES:
        raise LoadError(
            [
                _issue(
                    path,
                    None,
                    None,
                    f"{size:,} bytes",
                    f"a survey of at most {MAX_BYTES // (1024 * 1024)} MB: split the file",
                )
            ]
        )


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


def _read_csv(path: Path) -> Iterator[RawRow]:
    content = path.read_bytes()
    if content[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise LoadError(
            [
                _issue(
                    path,
                    1,
                    None,
                    None,
                    "UTF-16 text (Excel's 'Unicode text'): expected UTF-8; "
                    "save the survey as 'CSV UTF-8'",
                )
            ]
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise LoadError([preparing._not_utf8(path, csv_file=True)]) from None
    if "\x00" in text:
        raise LoadError([_issue(path, None, None, None, "NUL bytes: expected UTF-8 text")])
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise LoadError([_issue(path, None, None, None, "the file is empty")]) from None
    except csv.Error as exc:
        raise LoadError([_issue(path, 1, None, None, f"malformed CSV: {exc}")]) from None
    if issues := _header_issues(path, header):
        raise LoadError(issues)
    rows = 0
    while True:
        number = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise LoadError(
                [_issue(path, reader.line_num, None, None, f"malformed CSV: {exc}")]
            ) from None
        if not "".join(cells).strip():
            continue
        rows += 1
        if rows > MAX_ROWS:
            raise LoadError([_too_many(path, number)])
        if len(cells) > len(header):
            raise LoadError(
                [
                    _issue(
                        path,
                        number,
                        None,
                        None,
                        f"at most {len(header)} cells as in the header, found {len(cells)} "
                        "(an unquoted comma?)",
                    )
                ]
            )
        yield _cells(path, number, header, cells)


def _too_many(path: Path, row: int) -> LoadIssue:
    return _issue(path, row, None, None, f"at most {MAX_ROWS:,} rows in one survey: split the file")


def _read_xlsx(path: Path) -> Iterator[RawRow]:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.namelist()
    except (zipfile.BadZipFile, OSError):
        raise LoadError(
            [
                _issue(
                    path,
                    None,
                    None,
                    None,
                    "not an XLSX workbook (expected an Office Open XML "
                    ".xlsx file; an old .xls must be saved as .xlsx)",
                )
            ]
        ) from None
    if any(part.lower().endswith("vbaproject.bin") for part in parts):
        raise LoadError(
            [
                _issue(
                    path,
                    None,
                    None,
                    "vbaProject.bin",
                    "a workbook with macros is refused: save it as .xlsx without macros or as .csv",
                )
            ]
        )
    try:
        book = load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise LoadError(
            [_issue(path, None, None, None, f"cannot read the workbook: {exc}")]
        ) from None
    try:
        sheet = book[SHEET] if SHEET in book.sheetnames else book.worksheets[0]
        rows = sheet.iter_rows()
        try:
            header_cells = next(rows)
        except StopIteration:
            raise LoadError([_issue(path, None, None, None, "the sheet is empty")]) from None
        header = [str(c.value).strip() if c.value is not None else "" for c in header_cells]
        while header and not header[-1]:
            header.pop()
        if issues := _header_issues(path, header):
            raise LoadError(issues)
        issues = []
        count = 0
        for number, cells in enumerate(rows, start=2):
            values = []
            for index, cell in enumerate(cells):
                if cell.data_type == "f" or (isinstance(cell.value, str) and cell.value[:1] == "="):
                    column = header[index] if index < len(header) else f"column {index + 1}"
                    issues.append(
                        _issue(
                            path,
                            number,
                            column,
                            cell.value,
                            "a value, not a formula: paste the values (formulas are refused)",
                        )
                    )
                values.append(_plain(cell.value))
            if all(v is None or str(v).strip() == "" for v in values):
                continue
            count += 1
            if count > MAX_ROWS:
                raise LoadError([_too_many(path, number)])
            if any(v not in (None, "") for v in values[len(header) :]):
                issues.append(
                    _issue(
                        path,
                        number,
                        None,
                        None,
                        f"cells only under the {len(header)} header columns",
                    )
                )
            if not issues:
                yield _cells(path, number, header, values)
            elif len(issues) >= preparing.MAX_ISSUES:
                break
        if issues:
            raise LoadError(issues[: preparing.MAX_ISSUES])
    finally:
        book.close()


def _plain(value: Any) -> Any:
    """A spreadsheet cell as the text a CSV would hold: dates as ISO days, whole numbers
    (a year typed as 2016) without a decimal point."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return str(value)
    return value
