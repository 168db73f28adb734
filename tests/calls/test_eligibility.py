"""The eligibility engine: every rule of the schema has an evaluator, each rule is caught
alone on a hand-made proposal with a message saying how to fix it."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from permedhub.calls.documents import load_call, load_proposals
from permedhub.calls.eligibility import check, evaluated_rules, schema_rules
from permedhub.calls.model import Call, ProposalSet

EXAMPLES = Path(__file__).parents[2] / "src" / "permedhub" / "calls" / "examples"


@pytest.fixture(scope="module")
def call() -> Call:
    return load_call(EXAMPLES / "synthetic-call.yaml")


def _partner(org: str, country: str, funder: str | None, eur: int = 100_000, **extra: Any) -> dict:  # type: ignore[type-arg]
    base = {"organisation": org, "country": country, "kind": "university", "funder": funder,
            "requested_eur": eur if funder else 0, "own_funded": funder is None}  # fmt: skip
    return {**base, **extra}


GOOD: dict[str, Any] = {
    "id": "syn-good",
    "modules": ["syn-module-a"],
    "partners": [
        _partner("syn-a", "DE", "syn-funder-de", coordinator=True),
        _partner("syn-b", "FR", "syn-funder-fr"),
        _partner("syn-c", "IT", "syn-funder-it", documents=["ethics-self-assessment"]),
    ],
}


def _check(call: Call, *proposals: dict) -> Any:  # type: ignore[type-arg]
    return check(call, ProposalSet.model_validate({"proposals": list(proposals)}))


def _broken(call: Call, change: Any) -> list[tuple[str, str]]:
    proposal = copy.deepcopy(GOOD)
    change(proposal)
    report = _check(call, proposal)
    return [(r.rule, r.message) for r in report.broken.itertuples(index=False)]


def test_every_rule_of_the_schema_has_an_evaluator() -> None:
    assert evaluated_rules() == schema_rules()


def test_a_good_proposal_breaks_nothing(call: Call) -> None:
    report = _check(call, GOOD)
    assert report.broken.empty and report.eligible_ids() == ["syn-good"]


def _add(*partners: dict) -> Any:  # type: ignore[type-arg]
    return lambda p: p["partners"].extend(partners)


CASES = [
    # A partner fewer: fewer countries as well.
    ("too few eligible partners", lambda p: p["partners"].pop(),
     "consortium.min_eligible_partners+consortium.min_countries",
     "2 eligible partners, the call asks for at least 3: add 1"),
    ("too few countries", lambda p: p["partners"][2].update(
        country="FR", funder="syn-funder-fr", documents=[]),
     "consortium.min_countries", "from 2 countries, at least 3 needed"),
    ("too many partners", _add(*(_partner(f"syn-x{i}", c, f"syn-funder-{c.lower()}")
                                 for i, c in enumerate(["ES", "DE", "FR", "ES"]))),
     "consortium.max_partners", "7 partners, at most 6 allowed: remove 1"),
    ("too many from one country", _add(_partner("syn-d", "DE", "syn-funder-de"),
                                       _partner("syn-e", "DE", None)),
     "consortium.max_per_country", "3 partners from DE, at most 2 per country: remove 1"),
    ("too many own-funded", _add(_partner("syn-d", "CH", None), _partner("syn-e", "US", None)),
     "consortium.max_own_funded", "2 own-funded partners, at most 1 allowed"),
    ("coordinator not eligible", lambda p: p["partners"].append(
        _partner("syn-d", "NL", None, coordinator=True)) or p["partners"][0].update(
        coordinator=False),
     "consortium.coordinator_eligible", "the coordinator syn-d is not eligible (own-funded)"),
    ("no module", lambda p: p.update(modules=[]),
     "consortium.modules_one_of", "addresses none of the modules"),
    # A partner of the wrong kind is not eligible: the consortium rules count it out too.
    ("kind not funded", lambda p: p["partners"][2].update(kind="company"),
     "funders.rules.eligible_kinds+consortium.min_eligible_partners+consortium.min_countries",
     "syn-c is a company; syn-funder-it funds only university"),
    ("request per partner", lambda p: p["partners"][0].update(requested_eur=300_000.5),
     "funders.rules.max_request_per_partner_eur",
     "syn-a asks 300,000.50 EUR from syn-funder-de, at most 300,000 EUR per partner: reduce "
     "the request by 0.50 EUR"),
    ("request per project", _add(_partner("syn-d", "FR", "syn-funder-fr", 160_000)),
     "funders.rules.max_request_per_project_eur",
     "the partners funded by syn-funder-fr ask 260,000 EUR in total, at most 250,000 EUR"),
    ("own funding refused", _add(_partner("syn-d", "ES", None)),
     "funders.rules.own_funded_allowed", "syn-funder-es does not allow"),
    ("document missing", lambda p: p["partners"][2].update(documents=[]),
     "funders.rules.extra_documents", "syn-c lacks the document 'ethics-self-assessment'"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "rule", "message"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_each_rule_alone(call: Call, change: Any, rule: str, message: str) -> None:
    broken = dict(_broken(call, change))
    first, *also = rule.split("+")
    assert set(broken) == {first, *also}, broken
    assert message in broken[first]


def test_required_modules_and_an_unknown_funder(call: Call) -> None:
    consortium = call.consortium.model_copy(update={"required_modules": ["syn-module-b"]})
    strict = call.model_copy(update={"consortium": consortium})
    proposal = copy.deepcopy(GOOD)
    proposal["partners"][1]["funder"] = "syn-funder-zz"  # the loader refuses it; the engine too
    broken = _check(strict, proposal).broken
    assert set(broken["rule"]) == {
        "consortium.required_modules", "partners.funder", "consortium.min_eligible_partners",
        "consortium.min_countries",
    }  # fmt: skip
    unknown = broken[broken["rule"] == "partners.funder"].iloc[0]
    assert unknown["partner"] == 1 and "takes no part in the call" in unknown["message"]


def test_the_example_proposals_exactly(call: Call) -> None:
    proposals = load_proposals(EXAMPLES / "synthetic-proposals.yaml", call)
    report = check(call, proposals)
    assert report.eligible_ids() == ["syn-p1", "syn-p2", "syn-p3", "syn-p4", "syn-p6"]
    rows = [(r.proposal_id, r.rule, r.partner) for r in report.broken.itertuples(index=False)]
    assert [(a, b, None if c is pd.NA else c) for a, b, c in rows] == [
        ("syn-p5", "consortium.min_countries", None),
        ("syn-p5", "funders.rules.own_funded_allowed", 3),
    ]
    payload = report.to_dict()
    assert payload["eligible"] == 5
    assert payload["proposals"][4]["broken"][0]["partner"] is None
