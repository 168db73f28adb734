"""The rules on EU member states and associated countries, and on groups of modules: the
country lists as explicit, sourced data, each evaluator on hand-made consortia, and both
against a brute-force recount on random consortia (hypothesis)."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pycountry
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from permedhub.calls.countries import (
    ASSOCIATED,
    NON_ISO_CODES,
    associated_countries,
    eu_member_states,
    eu_or_associated,
)
from permedhub.calls.documents import parse_call
from permedhub.calls.eligibility import check
from permedhub.calls.errors import CallDocumentError
from permedhub.calls.model import Call, ProposalSet
from permedhub.graph.geography import known_codes


def _codes(text: str) -> set[str]:
    return set(text.split())


EU27 = _codes("AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE")


# ---------------------------------------------------------------- the country lists


def test_eu_member_states_per_programme() -> None:
    assert eu_member_states("horizon-europe") == EU27
    # Horizon 2020 counts the United Kingdom as a member state (EU28; Withdrawal Agreement).
    assert eu_member_states("h2020") == EU27 | {"GB"}


def test_associated_countries_are_the_dated_public_lists() -> None:
    h2020 = associated_countries("h2020")
    assert h2020 == _codes("IS NO AL BA MK ME RS TR IL MD CH FO UA TN GE AM")
    horizon_europe = associated_countries("horizon-europe")
    assert len(horizon_europe) == 20
    assert {"GB", "CA", "NZ", "KR", "XK"} <= horizon_europe and "CH" not in horizon_europe
    for entry in ASSOCIATED.values():
        assert entry.source.startswith("https://") and entry.note
        assert entry.as_of <= dt.date(2026, 1, 1)
    assert ASSOCIATED["horizon-europe"].as_of == dt.date(2024, 11, 21)


@pytest.mark.parametrize("programme", ["h2020", "horizon-europe"])
def test_lists_are_iso_codes_and_disjoint(programme: Any) -> None:
    eu, associated = eu_member_states(programme), associated_countries(programme)
    assert not eu & associated
    assert eu_or_associated(programme) == eu | associated
    # Every code is an ISO 3166-1 country, except Kosovo's user-assigned XK, said so.
    assert (eu | associated) - known_codes() == set(NON_ISO_CODES) & (eu | associated)
    for code in (eu | associated) - NON_ISO_CODES:
        assert pycountry.countries.get(alpha_2=code) is not None


# ---------------------------------------------------------------- the rules on hand-made calls

BASE: dict[str, Any] = {
    "id": "syn-eu-call",
    "title": "Synthetic call for the EU/associated-country rules",
    "synthetic": True,
    "stages": [{"name": "pre-proposal", "deadline": "2026-03-05T17:00:00+01:00"}],
    "modules": [{"id": m} for m in ("m1a", "m1b", "m2a", "m3a", "m3b")],
    "funders": [
        {"organisation": f"syn-funder-{c.lower()}", "country": c, "budget_eur": 1_000_000}
        for c in ("DE", "FR", "NO", "CH", "GB", "CA", "EG", "US")
    ],
    "consortium": {
        "min_eu_associated_countries": {"countries": 2, "programme": "h2020"},
        "modules_one_of_each": [["m1a", "m1b", "m2a"], ["m3a", "m3b"]],
    },
}


def _call(**consortium: Any) -> Call:
    data = copy.deepcopy(BASE)
    data["consortium"].update(consortium)
    return parse_call(data)


def _partner(country: str, own_funded: bool = False) -> dict[str, Any]:
    funder = None if own_funded else f"syn-funder-{country.lower()}"
    return {"organisation": f"syn-{country.lower()}", "country": country, "kind": "university",
            "funder": funder, "own_funded": own_funded}  # fmt: skip


def _broken(
    call: Call, countries: list[str], modules: list[str], own: frozenset[int] = frozenset()
) -> dict[str, str]:
    proposal = {"id": "syn-p", "modules": modules,
                "partners": [_partner(c, i in own) for i, c in enumerate(countries)]}  # fmt: skip
    report = check(call, ProposalSet.model_validate({"proposals": [proposal]}))
    return {r.rule: r.message for r in report.broken.itertuples(index=False)}


def test_two_eu_or_associated_countries_are_enough() -> None:
    call = _call()
    assert _broken(call, ["DE", "NO", "EG"], ["m1a", "m3a"]) == {}
    # Switzerland is associated to Horizon 2020 but not (in the dated list) to Horizon Europe.
    assert _broken(call, ["DE", "CH"], ["m1a", "m3a"]) == {}
    later = _call(min_eu_associated_countries={"countries": 2, "programme": "horizon-europe"})
    assert set(_broken(later, ["DE", "CH"], ["m1a", "m3a"])) == {
        "consortium.min_eu_associated_countries"
    }
    # The UK counts for Horizon 2020 (Withdrawal Agreement) and Horizon Europe (associated).
    assert _broken(call, ["GB", "FR"], ["m1a", "m3a"]) == {}
    assert _broken(later, ["GB", "FR"], ["m1a", "m3a"]) == {}


def test_one_eu_country_twice_or_third_countries_do_not_count() -> None:
    call = _call()
    broken = _broken(call, ["DE", "DE", "CA", "EG", "US"], ["m1a", "m3a"])
    assert set(broken) == {"consortium.min_eu_associated_countries"}
    message = broken["consortium.min_eu_associated_countries"]
    assert message.startswith(
        "eligible partners from 1 different EU member state or Horizon 2020 associated "
        "country (DE), at least 2 needed: add eligible partners from 1 more"
    )


def test_own_funded_partners_do_not_count() -> None:
    broken = _broken(_call(), ["DE", "FR", "EG"], ["m1a", "m3a"], own=frozenset({1}))
    assert "(DE), at least 2" in broken["consortium.min_eu_associated_countries"]


def test_one_row_per_group_of_modules_missed() -> None:
    call = _call()
    assert set(_broken(call, ["DE", "FR"], ["m1b", "m3b"])) == set()
    broken = _broken(call, ["DE", "FR"], ["m3a"])
    assert broken == {
        "consortium.modules_one_of_each": "addresses none of the modules m1a, m1b, m2a: name at "
        "least one of them (the call asks for one module of each group)"
    }
    rows = check(call, ProposalSet.model_validate({"proposals": [
        {"id": "syn-p", "modules": [], "partners": [_partner("DE"), _partner("FR")]}
    ]})).broken  # fmt: skip
    assert list(rows["limit"]) == ["m1a, m1b, m2a", "m3a, m3b"]


@pytest.mark.parametrize(
    ("change", "field", "expected"),
    [
        ({"min_eu_associated_countries": {"countries": 2, "programme": "fp7"}},
         "consortium.min_eu_associated_countries.programme", "'h2020' or 'horizon-europe'"),
        ({"min_eu_associated_countries": {"countries": 0, "programme": "h2020"}},
         "consortium.min_eu_associated_countries.countries", "greater than 0"),
        ({"min_eu_associated_countries": {"countries": 7, "programme": "h2020"},
          "max_partners": 6},
         "consortium.min_eu_associated_countries.countries", "at most max_partners (6)"),
        ({"modules_one_of_each": [["m1a", "m9z"]]},
         "consortium.modules_one_of_each[0][1]", "one of the call's modules"),
        ({"modules_one_of_each": [[]]}, "consortium.modules_one_of_each[0]", "at least 1 item"),
    ],
)  # fmt: skip
def test_bad_rules_are_refused_naming_the_field(change: Any, field: str, expected: str) -> None:
    with pytest.raises(CallDocumentError) as error:
        _call(**change)
    problems = {p.field: p.expected for p in error.value.problems}
    assert field in problems, problems
    assert expected in str(problems[field])


def test_marks_must_name_fields_of_the_document() -> None:
    data = copy.deepcopy(BASE)
    data["uncertain"] = {"budgets": "a typo"}
    with pytest.raises(CallDocumentError) as error:
        parse_call(data)
    assert "uncertain.budgets" in str(error.value)
    data = copy.deepcopy(BASE)
    data["funders"][0]["sources"] = {"rules.max_request_per_partner_eur": "https://example.org"}
    data["uncertain"] = {"stages[0].deadline": "as written: 17:00 CET"}
    assert parse_call(data).funders[0].sources


# ---------------------------------------------------------------- against brute force

COUNTRIES = ["DE", "FR", "IT", "NO", "CH", "GB", "CA", "EG", "US", "TR"]
partners = st.lists(st.tuples(st.sampled_from(COUNTRIES), st.booleans()), min_size=1, max_size=7)
proposals = st.lists(
    st.tuples(partners, st.lists(st.sampled_from(["m1a", "m1b", "m2a", "m3a", "m3b"]),
                                 unique=True)),
    min_size=1, max_size=6,
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(proposals, st.integers(1, 4), st.sampled_from(["h2020", "horizon-europe"]))
def test_both_rules_equal_a_brute_force_recount(cases: Any, n: int, programme: Any) -> None:
    call = _call(min_eu_associated_countries={"countries": n, "programme": programme})
    funded_countries = {f.country for f in call.funders}  # US partners ask syn-funder-us too
    members = eu_or_associated(programme)
    groups = call.consortium.modules_one_of_each
    proposal_set = ProposalSet.model_validate({"proposals": [
        {"id": f"syn-{i}", "modules": modules,
         "partners": [_partner(c, own) for c, own in people]}
        for i, (people, modules) in enumerate(cases)
    ]})  # fmt: skip
    report = check(call, proposal_set)
    for i, (people, modules) in enumerate(cases):
        rows = report.broken[report.broken["proposal_id"] == f"syn-{i}"]
        eligible = {c for c, own in people if not own and c in funded_countries}
        expect_eu = len(eligible & members) < n
        assert ("consortium.min_eu_associated_countries" in set(rows["rule"])) == expect_eu
        missed = [g for g in groups if not set(g) & set(modules)]
        assert (rows["rule"] == "consortium.modules_one_of_each").sum() == len(missed)
        # TR has no funder in the call: its partners also break partners.funder.
        assert set(rows["rule"]) <= {
            "consortium.min_eu_associated_countries", "consortium.modules_one_of_each",
            "partners.funder",
        }  # fmt: skip
