"""Every CSV download of the portal goes through `rendering.csv_response`, which keeps
spreadsheet programs from running a cell as a formula."""

import pandas as pd

from permedhub.web.pages.rendering import csv_response


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
