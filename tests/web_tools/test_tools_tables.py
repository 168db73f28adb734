"""Result tables as a reader sees them (issue 16): headings are labels with units, the code name
(the one the JSON and CSV downloads keep) is the heading's tooltip, counts print as whole
numbers, and a wide table opens on its key columns with the rest one click away."""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient
from tools_pages import submit_rendered_form, table_rows, tool_pages

from permedhub.web.tools.columns import COLUMNS, column
from permedhub.web.tools.common import WIDE_TABLE, table

HEADER = re.compile(r"<th([^>]*)>(.*?)</th>", re.S)
CODE_NAME = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)+$")


def headers(page: str) -> list[tuple[str, str]]:
    """(heading text, tooltip) of every column header of the results."""
    results = page.split('id="results"', 1)[1]
    found = []
    for attributes, text in HEADER.findall(results):
        title = re.search(r'title="([^"]*)"', attributes)
        found.append((html.unescape(re.sub(r"<[^>]+>", "", text)).strip(),
                      html.unescape(title.group(1)) if title else ""))  # fmt: skip
    return found


@pytest.mark.parametrize("path", tool_pages())
def test_no_default_result_is_headed_by_a_code_name(client: TestClient, path: str) -> None:
    page = submit_rendered_form(client, path).text
    shown = headers(page)
    assert shown, f"{path} shows no table headers"
    # What is left are names the user's own input gave (strategies, parameters): they appear
    # on the page outside the headers too, e.g. in the form or in the tables' cells.
    elsewhere = HEADER.sub("", page)
    for text, _ in shown:
        if CODE_NAME.match(text):
            assert text in elsewhere, f"{path}: column headed by the code name {text!r}"


def test_a_labelled_heading_keeps_its_code_name_as_tooltip(client: TestClient) -> None:
    shown = dict(headers(submit_rendered_form(client, "/tools/trials/gsd").text))
    assert shown["Nominal p at the efficacy bound (one-sided)"] == "nominal_p_efficacy"
    assert shown["Efficacy bound (z)"] == "efficacy_z"
    shown = dict(headers(submit_rendered_form(client, "/tools/hecon/budget").text))
    assert shown["Cost, scenario"] == "cost_scenario"


def test_patient_counts_print_as_whole_numbers(client: TestClient) -> None:
    page = submit_rendered_form(client, "/tools/hecon/budget").text
    rows = table_rows(page, "Scenario patients treated by strategy and year")
    assert rows[0][1:] == ["1,280", "320"]
    assert rows[0][0] == "1"  # the year, not "1.0000"


def test_the_evidence_table_names_its_quantities_for_people(client: TestClient) -> None:
    page = submit_rendered_form(client, "/tools/hecon/payment/evidence").text
    quantities = [row[0] for row in table_rows(page, "Value of the study at WTP")]
    assert "EVSI (per person)" in quantities
    assert not [q for q in quantities if CODE_NAME.match(q)]


def test_a_wide_table_hides_its_detail_columns_behind_one_toggle(client: TestClient) -> None:
    page = submit_rendered_form(client, "/tools/trials/gsd").text
    block = re.search(r'<input type="checkbox" class="show-all-columns".*?</table>', page, re.S)
    assert block, "the 10-column boundary table offers no 'show all columns'"
    assert "Show all 10 columns" in block.group(0)
    detail = [html.unescape(re.sub(r"<[^>]+>", "", text)) for attributes, text in
              HEADER.findall(block.group(0)) if "col-detail" in attributes]  # fmt: skip
    assert detail == ["P(stop for efficacy | H0)", "P(stop for futility | H0)",
                      "P(stop for futility | H1)"]  # fmt: skip


def test_a_narrow_table_shows_every_column() -> None:
    import pandas as pd

    narrow = table(pd.DataFrame({"strategy": ["a"], "qaly": [1.0], "ly": [2.0]}))
    assert narrow["detail"] == [False, False, False] and not narrow["has_detail"]
    wide = pd.DataFrame({f"c{i}": [1.0] for i in range(WIDE_TABLE)} | {"qaly": [1.0]})
    assert table(wide)["detail"][-1] is True


def test_column_rules() -> None:
    assert column("cost_drug").heading == "Cost: drug"
    assert column("cost_drug").detail
    assert column("standard_care").heading == "standard_care"  # a user's own name, as given
    assert column("year").digits == 0
    assert all(not CODE_NAME.match(c.label) for c in COLUMNS.values())
