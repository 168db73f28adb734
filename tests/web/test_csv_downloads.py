"""Every CSV download of the portal goes through `rendering.csv_response` (or, for downloads
of thousands of rows, `rendering.csv_bytes`, which writes the same bytes), which keeps
spreadsheet programs from running a cell as a formula."""

import pandas as pd

from permedhub.web.pages.rendering import csv_bytes, csv_response


def test_formula_like_text_is_neutralised_and_numbers_stay_numbers() -> None:
    frame = pd.DataFrame(
        {"name": ['=HYPERLINK("http://x")', "@SUM(A1)", "Charité"], "partners": [-3, 0, 12]}
    )
    response = csv_response(frame, "organisations.csv")
    body = response.body.decode("utf-8")
    assert body.startswith("\ufeff")  # spreadsheet programs read the accents
    lines = body.lstrip("\ufeff").splitlines()
    assert lines == [
        "name,partners",
        '"\'=HYPERLINK(""http://x"")",-3',
        "'@SUM(A1),0",
        "Charité,12",
    ]
    assert response.headers["content-disposition"] == 'attachment; filename="organisations.csv"'


def test_csv_bytes_writes_what_csv_response_writes_for_the_same_rows() -> None:
    header = ["name", "partners", "note", "share"]
    rows = [
        ('=HYPERLINK("http://x")', -3, None, 0.25),
        ("@SUM(A1)", 0, "line one\nline two", 1.0),
        ("Charité, Berlin", 12, "-minus first", -2.5),
        ("+plus", 7, "", 3.0),
        ("plain", 1, "a \x00=b", None),  # a separator in a cell: the slow path, same result
    ]
    frame = pd.DataFrame.from_records(rows, columns=header)
    body = csv_bytes(header, rows)
    assert body == csv_response(frame, "x.csv").body
    assert "'=HYPERLINK" in body.decode() and "'-minus first" in body.decode()
    assert csv_bytes(header, []) == csv_response(pd.DataFrame(columns=header), "x.csv").body
