"""The survey template and importer: one column definition behind CSV, XLSX and dictionary;
imports validated row by row, all-or-nothing, wrong columns named."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from permedhub.regions.models import SurveyResponse
from permedhub.regions.survey import (
    NAMES,
    SurveyError,
    data_dictionary,
    import_survey,
    read_table,
    responses_frame,
    store_answer,
    template_csv,
    write_template,
)
from regions_support import HAND, answer, write_csv

TODAY = dt.date(2026, 12, 7)


def _count(engine) -> int:
    with Session(engine) as session:
        return session.execute(select(func.count(SurveyResponse.id))).scalar_one()


def test_csv_xlsx_and_dictionary_come_from_one_column_definition(tmp_path):
    assert template_csv().splitlines()[0].split(",") == list(NAMES)
    book = load_workbook(write_template(tmp_path / "survey.xlsx"))
    assert [c.value for c in book["responses"][1]] == list(NAMES)
    dictionary = [row[0].value for row in book["dictionary"].iter_rows(min_row=2)]
    assert dictionary == list(NAMES) == [row["column"] for row in data_dictionary()]
    with pytest.raises(ValueError, match=r"expected a \.csv or \.xlsx"):
        write_template(tmp_path / "survey.ods")


def test_the_template_itself_imports_as_its_one_example_answer(regions_engine, tmp_path):
    for name in ("t.csv", "t.xlsx"):
        report = import_survey(regions_engine, write_template(tmp_path / name), today=TODAY)
        assert (report.rows, report.regions) == (1, ["IT-52"])
    assert _count(regions_engine) == 2


def test_a_valid_file_is_stored_whole(regions_engine, tmp_path):
    report = import_survey(regions_engine, write_csv(tmp_path / "s.csv", HAND), today=TODAY)
    assert report.rows == 4 and report.regions == ["DE-SN", "ES-GA", "IT-52"]
    with Session(regions_engine) as session:
        frame = responses_frame(session)
    assert frame.loc[frame["respondent_id"] == "b1", "readiness_strategy"].item() == 5


def test_wrong_columns_are_named_and_nothing_is_stored(regions_engine, tmp_path):
    header = [n for n in NAMES if n != "barrier_skills"] + ["barrier_weather"]
    path = write_csv(tmp_path / "s.csv", HAND, header=header)
    with pytest.raises(SurveyError) as caught:
        import_survey(regions_engine, path, today=TODAY)
    messages = [str(issue) for issue in caught.value.issues]
    assert any("barrier_skills" in m and "missing" in m for m in messages), messages
    assert any("barrier_weather" in m and "not among them" in m for m in messages), messages
    assert _count(regions_engine) == 0


def test_bad_values_are_listed_by_row_and_column_and_nothing_is_stored(regions_engine, tmp_path):
    rows = [
        answer("ok", "IT-52", (3, 3, 3, 3, 3, 3)),
        answer("x", "XX-99", (3, 3, 3, 3, 3, 3)),
        answer("y", "IT", (6, 3, 3, 3, 3, 3), stakeholder="astronaut", day="2030-01-01"),
        answer("ok", "ES-GA", (3, 3, 3, 3, 3, 3)),
    ]
    rows[1]["barrier_funding"] = "three"
    rows[2]["readiness_data"] = ""
    with pytest.raises(SurveyError) as caught:
        import_survey(regions_engine, write_csv(tmp_path / "s.csv", rows), today=TODAY)
    found = {(i.row, i.column): (i.value, i.expected) for i in caught.value.issues}
    assert found[(3, "region")] == ("XX-99", "an ISO 3166-2 subdivision code such as IT-52")
    assert found[(3, "barrier_funding")] == ("three", "a whole number from 1 to 5")
    assert found[(4, "region")][0] == "IT"  # a country is not a region
    assert found[(4, "readiness_strategy")] == ("6", "a whole number from 1 to 5")
    assert found[(4, "readiness_data")] == ("", "a value: the column is required")
    assert "one of policy-maker" in found[(4, "stakeholder")][1]
    assert found[(4, "survey_date")] == ("2030-01-01", "a day not after today (2026-12-07)")
    assert found[(5, "respondent_id")] == ("ok", "a unique id: row 2 has it too")
    assert _count(regions_engine) == 0


def test_an_xlsx_with_a_bad_score_names_its_sheet_row(regions_engine, tmp_path):
    path = write_template(tmp_path / "s.xlsx")
    book = load_workbook(path)
    book["responses"]["E2"] = 9  # barrier_funding of the example row
    book.save(path)
    with pytest.raises(SurveyError) as caught:
        import_survey(regions_engine, path, today=TODAY)
    assert [(i.row, i.column, i.value) for i in caught.value.issues] == [
        (2, "barrier_funding", "9")
    ]


def test_empty_and_foreign_files_are_refused_as_such(tmp_path):
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    with pytest.raises(SurveyError, match="header row"):
        read_table(tmp_path / "empty.csv")
    shutil.copy(tmp_path / "empty.csv", tmp_path / "s.txt")
    with pytest.raises(SurveyError, match=r"a \.csv or \.xlsx file"):
        read_table(tmp_path / "s.txt")


def test_the_online_form_answer_passes_the_same_rules(regions_engine):
    store_answer(regions_engine, answer("web-1", "IT-52", (4, 4, 4, 4, 4, 4)), today=TODAY)
    bad = answer("web-2", "IT-52", (4, 4, 4, 4, 4, 4)) | {"readiness_data": "0"}
    with pytest.raises(SurveyError) as caught:
        store_answer(regions_engine, bad, today=TODAY)
    assert [(i.column, i.value) for i in caught.value.issues] == [("readiness_data", "0")]
    assert _count(regions_engine) == 1


def test_an_xlsx_typed_in_a_spreadsheet_reads_dates_and_whole_numbers_as_written(
    regions_engine, tmp_path
):
    path = write_template(tmp_path / "s.xlsx")
    book = load_workbook(path)
    sheet = book["responses"]
    sheet["D2"] = dt.datetime(2024, 5, 2)  # a spreadsheet stores a typed date as a datetime
    sheet["E2"] = 4.0  # and may store a whole number as a float
    sheet.append(["r2", "ES-GA", "academia", dt.date(2024, 5, 3), *([3.5] + [3] * 12), None])
    book.save(path)
    with pytest.raises(SurveyError) as caught:
        import_survey(regions_engine, path, today=TODAY)
    assert [(i.row, i.column, i.value) for i in caught.value.issues] == [
        (3, "barrier_funding", "3.5")
    ]
    sheet["E3"] = 3
    book.save(path)
    assert import_survey(regions_engine, path, today=TODAY).rows == 2
    with Session(regions_engine) as session:
        frame = responses_frame(session)
    assert frame["survey_date"].tolist() == [dt.date(2024, 5, 2), dt.date(2024, 5, 3)]
    assert frame["barrier_funding"].tolist() == [4, 3]


def test_a_workbook_with_formulas_or_macros_is_refused_as_the_atlas_refuses_them(
    regions_engine, tmp_path
):
    path = write_template(tmp_path / "s.xlsx")
    book = load_workbook(path)
    sheet = book["responses"]
    sheet.append(["r1", "IT-52", "academia", dt.date(2024, 5, 3), "=2+2", *([3] * 12), None])
    book.save(path)
    with pytest.raises(SurveyError) as caught:
        import_survey(regions_engine, path, today=TODAY)
    [issue] = caught.value.issues
    assert (issue.row, issue.column) == (3, "barrier_funding")  # row 2: the example answer
    assert "not a formula" in issue.expected
    macro = tmp_path / "s.xlsm"
    shutil.copy(path, macro)
    with pytest.raises(SurveyError, match=r"a \.csv or \.xlsx file"):
        import_survey(regions_engine, macro, today=TODAY)
    assert _count(regions_engine) == 0
