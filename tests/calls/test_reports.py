"""The per-funder report, success by country and the decision's export, exact on a small
hand-made call whose every number is worked out by hand below."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import load_workbook

from permedhub.calls.decision import decide
from permedhub.calls.documents import parse_call
from permedhub.calls.model import ProposalSet
from permedhub.calls.reports import (
    commitments_figure,
    country_success,
    decision_tables,
    decision_workbook,
    funder_report,
)
from permedhub.graph.spreadsheets import neutralised, neutralised_frame

CALL = {
    "id": "syn-small",
    "title": "A hand-made call",
    "synthetic": True,
    "stages": [{"name": "full proposal", "deadline": "2026-06-01T12:00:00+00:00"}],
    "funders": [
        {"organisation": "syn-a", "name": "Funder A", "country": "DE", "budget_eur": 100000},
        {"organisation": "syn-b", "name": "Funder B", "country": "FR", "budget_eur": 50000},
    ],
}


def _partner(org: str, country: str, funder: str | None, eur: int, kind: str = "university"):  # type: ignore[no-untyped-def]
    if funder is None:
        return {"organisation": org, "country": country, "kind": kind, "own_funded": True}
    return {"organisation": org, "country": country, "kind": kind, "funder": funder,
            "requested_eur": eur}  # fmt: skip


# P1 (rank 1) asks A 60k and B 30k; P2 (rank 2) asks A 50k and B 10k; P3 (rank 3) asks A 40k
# and has an own-funded Italian company. Virtual pot: P1 fits (A 40k left, B 20k left); P2
# finds A short (50k of 40k): reserve; P3 takes A's last 40k: funded.
PROPOSALS: dict[str, Any] = {
    "proposals": [
        {"id": "P1", "acronym": "ONE", "rank": 1, "partners": [
            _partner("syn-de-1", "DE", "syn-a", 60000),
            _partner("syn-fr-1", "FR", "syn-b", 30000, "hospital")]},
        {"id": "P2", "acronym": "=HYPERLINK(\"http://x.test\")", "rank": 2, "partners": [
            _partner("syn-de-2", "DE", "syn-a", 50000),
            _partner("syn-fr-2", "FR", "syn-b", 10000)]},
        {"id": "P3", "acronym": "-3", "rank": 3, "partners": [
            _partner("syn-de-3", "DE-BY", "syn-a", 40000),
            _partner("syn-it-1", "IT", None, 0, "company")]},
    ]
}  # fmt: skip


@pytest.fixture(scope="module")
def small() -> tuple[Any, ProposalSet]:
    return parse_call(CALL), ProposalSet.model_validate(PROPOSALS)


def _rows(frame: Any, key: str) -> dict[str, dict[str, Any]]:
    return {r[key]: r for r in frame.to_dict("records")}


def test_the_funder_report_of_a_virtual_pot(small) -> None:  # type: ignore[no-untyped-def]
    call, proposals = small
    decision = decide(call, proposals)
    assert (decision.funded, decision.reserve) == (["P1", "P3"], ["P2"])
    report = _rows(funder_report(call, proposals, decision), "funder")
    a, b = report["syn-a"], report["syn-b"]
    assert (a["budget_eur"], a["committed_eur"], a["remaining_eur"]) == (100000, 100000, 0)
    assert a["committed_share"] == 1.0 and a["top_up_eur"] == 0
    assert (a["partners_asking"], a["partners_funded"], a["partners_reserve"]) == (3, 2, 1)
    assert (a["proposals_asking"], a["proposals_funded"]) == (3, 2)
    assert (b["budget_eur"], b["committed_eur"], b["remaining_eur"]) == (50000, 30000, 20000)
    assert b["committed_share"] == pytest.approx(0.6)
    assert (b["partners_asking"], b["partners_funded"], b["partners_reserve"]) == (2, 1, 1)
    assert (b["proposals_asking"], b["proposals_funded"]) == (2, 1)
    assert (a["name"], a["country"]) == ("Funder A", "DE")


def test_a_top_up_shows_in_the_report_of_the_funder_whose_partners_it_pays(small) -> None:  # type: ignore[no-untyped-def]
    call, proposals = small
    # Mixed with a 10k pot: P2's 10k that A cannot pay comes from the pot; P3 then finds A
    # empty (40k short, pot empty): reserve.
    decision = decide(call, proposals, top_up_eur=10000)
    assert (decision.funded, decision.reserve) == (["P1", "P2"], ["P3"])
    report = _rows(funder_report(call, proposals, decision), "funder")
    a, b = report["syn-a"], report["syn-b"]
    assert (a["committed_eur"], a["remaining_eur"], a["top_up_eur"]) == (100000, 0, 10000)
    assert (a["partners_funded"], a["partners_reserve"]) == (2, 1)
    assert (b["committed_eur"], b["remaining_eur"], b["top_up_eur"]) == (40000, 10000, 0)
    assert (b["partners_funded"], b["partners_reserve"]) == (2, 0)


def test_a_real_pot_has_no_national_balance(small) -> None:  # type: ignore[no-untyped-def]
    _, proposals = small
    pooled = parse_call({**CALL, "funding": {"mode": "real"}})
    # One pot of 150k: P1 (90k), P2 (60k) fit; P3 (40k) finds nothing left.
    decision = decide(pooled, proposals)
    assert decision.funded == ["P1", "P2"]
    report = _rows(funder_report(pooled, proposals, decision), "funder")
    assert report["syn-a"]["remaining_eur"] != report["syn-a"]["remaining_eur"]  # NaN
    assert report["syn-a"]["top_up_eur"] == 110000  # the pot paid A's partners of P1 and P2


def test_success_by_country(small) -> None:  # type: ignore[no-untyped-def]
    call, proposals = small
    countries = _rows(country_success(proposals, decide(call, proposals)), "country")
    assert list(countries) == ["DE", "FR", "IT"]  # DE-BY counts as Germany
    de, fr, it = countries["DE"], countries["FR"], countries["IT"]
    assert (de["proposals_submitted"], de["proposals_funded"]) == (3, 2)
    assert (de["partners_submitted"], de["partners_funded"]) == (3, 2)
    assert de["proposal_success_rate"] == pytest.approx(2 / 3)
    assert (fr["proposals_submitted"], fr["proposals_funded"], fr["partner_success_rate"]) == (
        2, 1, 0.5,
    )  # fmt: skip
    assert (it["proposals_submitted"], it["proposals_funded"]) == (1, 1)


def test_the_workbook_has_a_sheet_per_table_and_text_never_becomes_a_formula(small) -> None:  # type: ignore[no-untyped-def]
    call, proposals = small
    decision = decide(call, proposals)
    book = load_workbook(io.BytesIO(decision_workbook(call, proposals, decision)))
    assert book.sheetnames == list(decision_tables(call, proposals, decision))
    assert book.sheetnames[:5] == ["funded", "reserve", "not-ranked", "funders", "countries"]
    funded = [[c.value for c in row] for row in book["funded"].iter_rows()]
    assert funded[0][:3] == ["order", "proposal_id", "acronym"]
    assert [r[1] for r in funded[1:]] == ["P1", "P3"]
    assert funded[2][2] == "-3" and book["funded"].cell(3, 3).data_type == "s"
    reserve = book["reserve"]
    cell = reserve.cell(2, 3)
    assert cell.value == '=HYPERLINK("http://x.test")' and cell.data_type == "s"
    assert cell.quotePrefix  # Excel shows it as text and keeps it text on editing
    funders = [[c.value for c in row] for row in book["funders"].iter_rows()]
    header = funders[0]
    a = dict(zip(header, funders[1], strict=True))
    assert (a["funder"], a["committed_eur"], a["partners_reserve"]) == ("syn-a", 100000, 1)
    assert isinstance(a["budget_eur"], int | float)  # a number, not text
    blocking = dict(zip(*[[c.value for c in r] for r in book["blocking"].iter_rows()], strict=True))
    assert (blocking["proposal_id"], blocking["budget"], blocking["shortfall_eur"]) == (
        "P2", "syn-a", 10000,
    )  # fmt: skip
    # No cell anywhere in the workbook is a formula.
    assert all(
        c.data_type != "f" for sheet in book.worksheets for row in sheet.iter_rows() for c in row
    )


def test_csv_cells_that_look_like_formulas_are_neutralised(small) -> None:  # type: ignore[no-untyped-def]
    call, proposals = small
    tables = decision_tables(call, proposals, decide(call, proposals))
    text = neutralised_frame(tables["reserve"]).to_csv(index=False)
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text
    funded = neutralised_frame(tables["funded"]).to_csv(index=False)
    assert ",'-3," in funded  # text "-3" (an acronym) is neutralised
    assert ",100000.0," not in funded and "90000.0" in funded  # numbers stay numbers
    assert neutralised("@SUM(A1)") == "'@SUM(A1)" and neutralised("plain") == "plain"


def test_the_chart_is_the_reports_twin(small) -> None:  # type: ignore[no-untyped-def]
    call, proposals = small
    decision = decide(call, proposals, top_up_eur=10000)
    report = funder_report(call, proposals, decision)
    figure = commitments_figure(report)
    bars = {trace.name: list(trace.y) for trace in figure.data}
    assert bars["national budget"] == [100000, 50000]
    assert bars["committed"] == [100000, 40000]
    assert bars["top-up or pot for its partners"] == [10000, 0]
    no_top_up = commitments_figure(funder_report(call, proposals, decide(call, proposals)))
    assert [t.name for t in no_top_up.data] == ["national budget", "committed"]
