"""Spreadsheets, safely both ways. Reading a filled-in survey (CSV or XLSX), for every
importer that takes one (atlas mapping surveys, regions' readiness surveys): one place that
refuses what a spreadsheet can smuggle in. Writing tables for spreadsheet programs (the
exports): text a spreadsheet would run as a formula stays text (`neutralised` for CSV,
`workbook_bytes` for XLSX).

Refused, each with a LoadIssue naming file, row and column where there is one: files above
`max_bytes` or with more than `max_rows` data rows; macro-enabled workbooks (.xlsm, or a
vbaProject part inside an .xlsx); formulas (their value would be whatever the spreadsheet last
computed, or nothing); text that is not UTF-8 (UTF-16 "Unicode text" named as such) or holds NUL
bytes; malformed CSV; cells to the right of the header. The caller judges the header
(`check_header`, before any row is read) and the cells.

Cells come as a CSV holds them: text, or from a workbook dates as ISO days and whole numbers
without a decimal point.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from permedhub.graph.preparing import MAX_ISSUES, LoadError, LoadIssue, not_utf8

HeaderCheck = Callable[[list[str]], list[LoadIssue]]
Rows = Iterator[tuple[int, list[Any]]]  # (the file's line or the sheet's row, its cells)
SUFFIXES = (".csv", ".xlsx")
# A cell starting with one of these is run as a formula by spreadsheet programs (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@")
SEPARATOR = "\x00"  # never in a cell a CSV download holds, and harmless if it is
MAX_SHEET_NAME = 31  # Excel's limit


def _issue(path: Path, row: int | None, field: str | None, value: Any, expected: str) -> LoadIssue:
    return LoadIssue(str(path), row, field, value, expected)


def read_table(
    path: Path,
    *,
    sheet: str | None,
    max_bytes: int,
    max_rows: int,
    check_header: HeaderCheck,
) -> tuple[list[str], Rows]:
    """The header and the non-blank data rows of a CSV or XLSX file (`sheet`, else the first).
    The header is read and checked at once; rows are read as the caller iterates, and a problem
    in them raises LoadError then."""
    _check_size(path, max_bytes)
    suffix = path.suffix.lower()
    if suffix in {".xlsm", ".xltm"}:
        raise LoadError(
            [
                _issue(
                    path,
                    None,
                    None,
                    path.suffix,
                    "a macro-enabled workbook is "
                    "refused: save the survey as .xlsx (no macros) or .csv",
                )
            ]
        )
    if suffix == ".csv":
        return _read_csv(path, max_rows, check_header)
    if suffix == ".xlsx":
        return _read_xlsx(path, sheet, max_rows, check_header)
    raise LoadError([_issue(path, None, None, path.suffix, "a .csv or .xlsx file")])


def _check_size(path: Path, max_bytes: int) -> None:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise LoadError([_issue(path, None, None, None, f"cannot read: {exc}")]) from None
    if size > max_bytes:
        raise LoadError(
            [
                _issue(
                    path,
                    None,
                    None,
                    f"{size:,} bytes",
                    f"a survey of at most {max_bytes // (1024 * 1024)} MB: split the file",
                )
            ]
        )


def _too_many(path: Path, row: int, max_rows: int) -> LoadIssue:
    return _issue(path, row, None, None, f"at most {max_rows:,} rows in one survey: split the file")


def _read_csv(path: Path, max_rows: int, check_header: HeaderCheck) -> tuple[list[str], Rows]:
    content = path.read_bytes()
    if content[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise LoadError(
            [
                _issue(
                    path,
                    1,
                    None,
                    None,
                    "UTF-16 text (Excel's 'Unicode text'): "
                    "expected UTF-8; save the survey as 'CSV UTF-8'",
                )
            ]
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise LoadError([not_utf8(path, csv_file=True)]) from None
    if "\x00" in text:
        raise LoadError([_issue(path, None, None, None, "NUL bytes: expected UTF-8 text")])
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise LoadError([_issue(path, None, None, None, "the file is empty")]) from None
    except csv.Error as exc:
        raise LoadError([_issue(path, 1, None, None, f"malformed CSV: {exc}")]) from None
    if issues := check_header(header):
        raise LoadError(issues)

    def rows() -> Rows:
        count = 0
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
            count += 1
            if count > max_rows:
                raise LoadError([_too_many(path, number, max_rows)])
            if len(cells) > len(header):
                raise LoadError(
                    [
                        _issue(
                            path,
                            number,
                            None,
                            None,
                            f"at most {len(header)} cells "
                            f"as in the header, found {len(cells)} (an unquoted "
                            "comma?)",
                        )
                    ]
                )
            yield number, list(cells)

    return header, rows()


def _read_xlsx(
    path: Path, sheet: str | None, max_rows: int, check_header: HeaderCheck
) -> tuple[list[str], Rows]:
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
                    "not an XLSX workbook (expected an Office "
                    "Open XML .xlsx file; an old .xls must be saved as .xlsx)",
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
        found = book[sheet] if sheet in book.sheetnames else book.worksheets[0]
        cells_of = found.iter_rows()
        try:
            header_cells = next(cells_of)
        except StopIteration:
            raise LoadError([_issue(path, None, None, None, "the sheet is empty")]) from None
        header = [str(c.value).strip() if c.value is not None else "" for c in header_cells]
        while header and not header[-1]:
            header.pop()
        if issues := check_header(header):
            raise LoadError(issues)
    except BaseException:
        book.close()
        raise

    def rows() -> Rows:
        issues: list[LoadIssue] = []
        count = 0
        try:
            for number, cells in enumerate(cells_of, start=2):
                values = []
                for index, cell in enumerate(cells):
                    if cell.data_type == "f" or (
                        isinstance(cell.value, str) and cell.value[:1] == "="
                    ):
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
                    values.append(plain(cell.value))
                if all(v is None or str(v).strip() == "" for v in values):
                    continue
                count += 1
                if count > max_rows:
                    raise LoadError([_too_many(path, number, max_rows)])
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
                    yield number, values
                elif len(issues) >= MAX_ISSUES:
                    break
            if issues:
                raise LoadError(issues[:MAX_ISSUES])
        finally:
            book.close()

    return header, rows()


def plain(value: Any) -> Any:
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


def formula_like(value: Any) -> bool:
    """Whether a spreadsheet program would take the text `value` for a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def neutralised(text: str) -> str:
    """A CSV cell a spreadsheet will not run as a formula: a leading =, +, - or @ is preceded
    by an apostrophe (CSV has no cell types, so the text itself must say it is text)."""
    return "'" + text if formula_like(text) else text


def neutralised_frame(frame: Any) -> Any:
    """A pandas frame for CSV export with every formula-like text cell `neutralised`
    (numbers, negative ones too, stay numbers)."""
    return frame.map(lambda v: neutralised(v) if isinstance(v, str) else v)


def neutralised_rows(rows: Iterable[Sequence[Any]]) -> list[tuple[Any, ...]]:
    """Rows for CSV export, each text cell `neutralised` as `neutralised_frame` does: the same
    table without building a frame, for downloads of thousands of rows.

    Tested a column at a time: a column of text whose cells joined after a separator hold no
    separator-then-formula-start has no formula-like cell (a cell holding the separator at
    most sends its column to the cell-by-cell test), so most columns skip the per-cell test
    that would otherwise be most of a big download's time."""
    columns = list(zip(*rows, strict=True))
    if not columns:
        return []
    for index, column in enumerate(columns):
        try:
            joined = SEPARATOR + SEPARATOR.join(column)
        except TypeError:  # not all text
            joined = None
        if joined is None or any(SEPARATOR + start in joined for start in FORMULA_STARTS):
            columns[index] = tuple(neutralised(v) if isinstance(v, str) else v for v in column)
    return list(zip(*columns, strict=True))


def workbook_bytes(sheets: dict[str, Any]) -> bytes:
    """An XLSX workbook with one sheet per (name, pandas frame), header row in bold.

    Every text cell is written as a string cell: openpyxl would otherwise store text starting
    with '=' as a formula, which the spreadsheet program then runs. Text that looks like a
    formula also gets Excel's quote prefix, so editing the cell does not turn it into one."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    for name, frame in sheets.items():
        if len(name) > MAX_SHEET_NAME or not name or any(c in name for c in "[]:*?/\\"):
            raise ValueError(f"sheet = {name!r} is invalid: expected 1-31 characters, no []:*?/\\")
        sheet = book.create_sheet(name)
        sheet.append([str(c) for c in frame.columns])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in frame.itertuples(index=False):
            sheet.append([_cell_value(v) for v in row])
        for column in sheet.iter_cols(min_row=2):
            for cell in column:
                if isinstance(cell.value, str):
                    cell.data_type = "s"
                    if formula_like(cell.value):
                        cell.quotePrefix = True
        for cell in sheet[1]:
            cell.data_type = "s"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _cell_value(value: Any) -> Any:
    """NumPy scalars as Python ones, missing values (None, NaN, pd.NA) as empty cells,
    sequences as '; '-joined text."""
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if value is None or (isinstance(value, float) and value != value):
        return None
    if type(value).__name__ == "NAType":
        return None
    if isinstance(value, list | tuple | set):
        return "; ".join(str(v) for v in value)
    return value
