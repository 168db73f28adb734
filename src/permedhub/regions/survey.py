"""The barrier and readiness survey: one column definition, from which the CSV and XLSX
templates, the data dictionary, the online form and the importer's checks all come.

Scores are 1-5 Likert answers. Barrier items: 1 = no barrier at all ... 5 = a blocking
barrier. Readiness items: 1 = absent ... 5 = fully in place. Every score column is required;
a survey file either imports whole or not at all (errors per row and column; a file whose
header is not the template's names the missing and unexpected columns).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from permedhub.db import writing
from permedhub.graph import spreadsheets
from permedhub.graph.curation import audit_service_record
from permedhub.graph.models import Country
from permedhub.graph.preparing import LoadError
from permedhub.graph.schemas import country_code
from permedhub.regions.models import SurveyResponse

Kind = Literal["id", "region", "choice", "date", "score", "text"]
STAKEHOLDERS = (
    "policy-maker",
    "healthcare-provider",
    "academia",
    "industry",
    "patient-organisation",
    "funder",
    "regional-agency",
    "other",
)
SCORE_RANGE = (1, 5)


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    label: str
    description: str
    required: bool = True
    choices: tuple[str, ...] = ()
    group: str = ""  # "barrier" or "readiness" for score items


def _barrier(name: str, label: str) -> Column:
    return Column(
        f"barrier_{name}",
        "score",
        label,
        f"How much does {label.lower()} hold back personalised medicine in the region? "
        "1 = not at all, 5 = it blocks it",
        group="barrier",
    )


def _readiness(name: str, label: str) -> Column:
    return Column(
        f"readiness_{name}",
        "score",
        label,
        f"How far is this in place in the region: {label.lower()}? 1 = absent, 5 = fully",
        group="readiness",
    )


COLUMNS: tuple[Column, ...] = (
    Column("respondent_id", "id", "Respondent id",
           "Your own reference for the answer (no names): unique within a file"),
    Column("region", "region", "Region",
           "ISO 3166-2 code of the region answered for, e.g. IT-52 (Tuscany)"),
    Column("stakeholder", "choice", "Stakeholder group", "The respondent's group",
           choices=STAKEHOLDERS),
    Column("survey_date", "date", "Date", "Day of the answer, YYYY-MM-DD, not in the future"),
    _barrier("funding", "Lack of funding"),
    _barrier("infrastructure", "Missing infrastructure (genomics, biobanks, IT)"),
    _barrier("data_sharing", "Obstacles to sharing health data"),
    _barrier("skills", "Shortage of skills in the workforce"),
    _barrier("regulation", "Regulatory and legal uncertainty"),
    _barrier("awareness", "Low awareness among citizens and patients"),
    _barrier("reimbursement", "No reimbursement pathway"),
    _readiness("strategy", "A regional strategy for personalised medicine"),
    _readiness("data", "Interoperable health-data infrastructure"),
    _readiness("workforce", "A trained workforce"),
    _readiness("funding", "Dedicated funding"),
    _readiness("engagement", "Citizen and patient engagement"),
    _readiness("collaboration", "Interregional collaboration"),
    Column("comments", "text", "Comments", "Free text (no personal data)", required=False),
)  # fmt: skip
NAMES = tuple(c.name for c in COLUMNS)
BY_NAME = {c.name: c for c in COLUMNS}
BARRIERS = tuple(c.name for c in COLUMNS if c.group == "barrier")
READINESS = tuple(c.name for c in COLUMNS if c.group == "readiness")
SCORES = BARRIERS + READINESS
MAX_ISSUES = 200
SHEET = "responses"
# A region's survey is a few hundred answers; far larger files are mistakes, not surveys.
MAX_BYTES = 16 * 1024 * 1024
MAX_ROWS = 100_000


# ------------------------------------------------------------------ template and dictionary
def data_dictionary() -> list[dict[str, str]]:
    """One row per column: name, type, required, allowed values and meaning."""
    rows = []
    for c in COLUMNS:
        allowed = {
            "id": "1-80 characters, unique in the file",
            "region": "an ISO 3166-2 subdivision code",
            "choice": " | ".join(c.choices),
            "date": "YYYY-MM-DD, not after today",
            "score": f"integer {SCORE_RANGE[0]}-{SCORE_RANGE[1]}",
            "text": "any text, up to 2000 characters",
        }[c.kind]
        rows.append({
            "column": c.name, "label": c.label, "group": c.group or "-",
            "required": "yes" if c.required else "no", "allowed": allowed,
            "meaning": c.description,
        })  # fmt: skip
    return rows


EXAMPLE = {
    "respondent_id": "example-1", "region": "IT-52", "stakeholder": "policy-maker",
    "survey_date": "2024-05-02", **dict.fromkeys(SCORES, "3"), "comments": "",
}  # fmt: skip


def template_csv() -> str:
    """The CSV template: the header and one example row (delete it before filling in)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(NAMES)
    writer.writerow([EXAMPLE[n] for n in NAMES])
    return buffer.getvalue()


def write_template(path: Path) -> Path:
    """Write the template as CSV or XLSX (by suffix); the XLSX has a 'dictionary' sheet."""
    if path.suffix.lower() == ".csv":
        path.write_text(template_csv(), encoding="utf-8")
        return path
    if path.suffix.lower() != ".xlsx":
        raise ValueError(f"template {path.name!r}: expected a .csv or .xlsx file name")
    from openpyxl import Workbook
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = SHEET
    sheet.append(list(NAMES))
    sheet.append([int(v) if n in SCORES else v for n, v in EXAMPLE.items()])
    scores = DataValidation(type="whole", operator="between", formula1="1", formula2="5")
    stakeholders = DataValidation(type="list", formula1='"' + ",".join(STAKEHOLDERS) + '"')
    for index, name in enumerate(NAMES, start=1):
        letter = sheet.cell(row=1, column=index).column_letter
        if name in SCORES:
            scores.add(f"{letter}2:{letter}1000")
        elif name == "stakeholder":
            stakeholders.add(f"{letter}2:{letter}1000")
    sheet.add_data_validation(scores)
    sheet.add_data_validation(stakeholders)
    dictionary = book.create_sheet("dictionary")
    rows = data_dictionary()
    dictionary.append(list(rows[0]))
    for row in rows:
        dictionary.append(list(row.values()))
    book.save(path)
    return path


# ------------------------------------------------------------------ reading and validating
@dataclass(frozen=True)
class SurveyIssue:
    row: int | None  # the file's line (CSV) or sheet row (XLSX); None: the file as a whole
    column: str | None
    value: str | None
    expected: str

    def __str__(self) -> str:
        where = f"row {self.row}" if self.row is not None else "file"
        column = f", column {self.column}" if self.column else ""
        value = f": {self.value!r}" if self.value is not None else ""
        return f"{where}{column}{value}: expected {self.expected}"


class SurveyError(Exception):
    def __init__(self, file: str, issues: list[SurveyIssue]) -> None:
        self.file = file
        self.issues = issues
        super().__init__(f"{file}: " + "; ".join(map(str, issues[:5])))


@dataclass
class SurveyRow:
    line: int
    respondent_id: str
    region: str
    stakeholder: str
    survey_date: dt.date
    scores: dict[str, int] = field(default_factory=dict)
    comments: str | None = None


def read_table(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and (row number, cells) of a CSV or XLSX file, cells as text; the file-level
    refusals (formulas, macros, encodings, size) are `graph.spreadsheets`'."""
    if path.suffix.lower() not in spreadsheets.SUFFIXES:
        raise SurveyError(str(path), [SurveyIssue(None, None, path.suffix, "a .csv or .xlsx file")])
    try:
        header, rows = spreadsheets.read_table(
            path, sheet=SHEET, max_bytes=MAX_BYTES, max_rows=MAX_ROWS, check_header=lambda _: []
        )
        body = [(n, ["" if v is None else str(v) for v in cells]) for n, cells in rows]
    except LoadError as exc:
        issues = [
            SurveyIssue(i.row, i.field, None if i.value is None else str(i.value),
                        "a header row: the file is empty" if "is empty" in i.expected
                        else i.expected)
            for i in exc.issues
        ]  # fmt: skip
        raise SurveyError(str(path), issues) from None
    return [h.strip() for h in header], body


def header_issues(header: list[str]) -> list[SurveyIssue]:
    """Missing and unexpected columns, each named (order does not matter)."""
    issues = []
    missing = [n for n in NAMES if BY_NAME[n].required and n not in header]
    unexpected = [h for h in header if h not in BY_NAME]
    duplicated = sorted({h for h in header if header.count(h) > 1})
    if missing:
        issues.append(
            SurveyIssue(1, ", ".join(missing), None, "these template columns: they are missing")
        )
    if unexpected:
        issues.append(SurveyIssue(1, ", ".join(unexpected), None,
                                  "only the template's columns: these are not among them "
                                  f"({', '.join(NAMES)})"))  # fmt: skip
    if duplicated:
        issues.append(SurveyIssue(1, ", ".join(duplicated), None, "each column once"))
    return issues


def validate_row(
    line: int, record: dict[str, str], subdivisions: frozenset[str], today: dt.date
) -> tuple[SurveyRow | None, list[SurveyIssue]]:
    """One row checked column by column: the row, or every problem in it."""
    issues: list[SurveyIssue] = []
    values: dict[str, Any] = {}
    for column in COLUMNS:
        raw = (record.get(column.name) or "").strip()
        if not raw:
            if column.required:
                issues.append(
                    SurveyIssue(line, column.name, raw, "a value: the column is required")
                )
            values[column.name] = None
            continue
        try:
            values[column.name] = _parse(column, raw, subdivisions, today)
        except ValueError as error:
            issues.append(SurveyIssue(line, column.name, raw, str(error)))
    if issues:
        return None, issues
    return (
        SurveyRow(
            line=line,
            respondent_id=values["respondent_id"],
            region=values["region"],
            stakeholder=values["stakeholder"],
            survey_date=values["survey_date"],
            scores={n: values[n] for n in SCORES},
            comments=values["comments"],
        ),
        [],
    )


def _parse(column: Column, raw: str, subdivisions: frozenset[str], today: dt.date) -> Any:
    if column.kind == "id":
        if len(raw) > 80:
            raise ValueError("at most 80 characters")
        return raw
    if column.kind == "region":
        try:
            code = country_code(raw)
        except ValueError:
            code = None
        if code is None or code not in subdivisions:
            raise ValueError("an ISO 3166-2 subdivision code such as IT-52") from None
        return code
    if column.kind == "choice":
        if raw not in column.choices:
            raise ValueError("one of " + ", ".join(column.choices))
        return raw
    if column.kind == "date":
        try:
            day = dt.date.fromisoformat(raw)
        except ValueError:
            raise ValueError("a date as YYYY-MM-DD") from None
        if day > today:
            raise ValueError(f"a day not after today ({today.isoformat()})")
        return day
    if column.kind == "score":
        low, high = SCORE_RANGE
        if not raw.isdigit() or not low <= int(raw) <= high:
            raise ValueError(f"a whole number from {low} to {high}")
        return int(raw)
    if len(raw) > 2000:
        raise ValueError("at most 2000 characters")
    return raw


def validate(
    path: Path, subdivisions: frozenset[str], today: dt.date | None = None
) -> list[SurveyRow]:
    """Every row of a survey file, or SurveyError listing each problem (up to MAX_ISSUES)."""
    today = today or dt.date.today()
    header, body = read_table(path)
    issues = header_issues(header)
    if issues:
        raise SurveyError(str(path), issues)
    if not body:
        raise SurveyError(str(path), [SurveyIssue(None, None, None, "at least one answer row")])
    rows: list[SurveyRow] = []
    first_line: dict[str, int] = {}
    for line, cells in body:
        if len(cells) > len(header):
            issues.append(SurveyIssue(line, None, None, f"{len(header)} cells, found {len(cells)}"))
            continue
        record = dict(zip(header, cells, strict=False))
        row, problems = validate_row(line, record, subdivisions, today)
        issues += problems
        if row is None:
            continue
        earlier = first_line.setdefault(row.respondent_id, line)
        if earlier != line:
            issues.append(SurveyIssue(line, "respondent_id", row.respondent_id,
                                      f"a unique id: row {earlier} has it too"))  # fmt: skip
            continue
        rows.append(row)
    if issues:
        raise SurveyError(str(path), issues[:MAX_ISSUES])
    return rows


def subdivision_codes(session: Session) -> frozenset[str]:
    return frozenset(session.scalars(select(Country.code).where(Country.parent_code.is_not(None))))


@dataclass(frozen=True)
class ImportReport:
    file: str
    batch: str
    rows: int
    regions: list[str]


def import_survey(
    engine: Engine, path: Path | str, *, today: dt.date | None = None, actor: str = "cli"
) -> ImportReport:
    """Validate a survey file and store all its rows in one transaction, or none; the import
    is one audit entry (its batch, file and row count)."""
    path = Path(path)
    with Session(engine) as session:
        codes = subdivision_codes(session)
    rows = validate(path, codes, today)
    batch = uuid.uuid4().hex
    with writing(engine) as session:
        session.add_all(
            SurveyResponse(
                respondent_id=row.respondent_id, region_code=row.region,
                stakeholder=row.stakeholder, survey_date=row.survey_date, scores=row.scores,
                comments=row.comments, batch=batch, file=path.name,
            )
            for row in rows
        )  # fmt: skip
        audit_service_record(session, actor, "create", "survey-batch", batch, batch=batch,
                             new={"file": path.name, "rows": len(rows)})  # fmt: skip
    return ImportReport(path.name, batch, len(rows), sorted({r.region for r in rows}))


def store_answer(
    engine: Engine, record: dict[str, str], *, today: dt.date | None = None
) -> SurveyRow:
    """One answer from the online form, checked by the same column rules as a file row."""
    with Session(engine) as session:
        codes = subdivision_codes(session)
    row, issues = validate_row(1, record, codes, today or dt.date.today())
    if row is None:
        raise SurveyError(
            "form", [SurveyIssue(None, i.column, i.value, i.expected) for i in issues]
        )
    with writing(engine) as session:
        session.add(
            SurveyResponse(
                respondent_id=row.respondent_id, region_code=row.region,
                stakeholder=row.stakeholder, survey_date=row.survey_date, scores=row.scores,
                comments=row.comments, batch=f"form-{uuid.uuid4().hex[:12]}", file="online form",
            )
        )  # fmt: skip
    return row


def responses_frame(session: Session, regions: Iterable[str] | None = None) -> Any:
    """Stored answers as a wide frame: respondent, region, stakeholder, date, each score."""
    import pandas as pd

    statement = select(SurveyResponse).order_by(SurveyResponse.id)
    if regions is not None:
        statement = statement.where(SurveyResponse.region_code.in_(list(regions)))
    records = [
        {"respondent_id": r.respondent_id, "region": r.region_code, "stakeholder": r.stakeholder,
         "survey_date": r.survey_date, **{n: r.scores.get(n) for n in SCORES}}
        for r in session.scalars(statement)
    ]  # fmt: skip
    return pd.DataFrame(
        records, columns=["respondent_id", "region", "stakeholder", "survey_date", *SCORES]
    )
