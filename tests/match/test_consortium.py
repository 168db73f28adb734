"""The consortium builder on the synthetic example call: the completions below are worked out
by hand, and the call's own rule engine must pass every completed consortium."""

from __future__ import annotations

from importlib import resources

import pandas as pd
import pytest

from permedhub.calls.documents import load_call
from permedhub.calls.model import Call, EuAssociatedRule, Partner
from permedhub.match.consortium import CannotComplete, complete_consortium, funder_for
from permedhub.match.errors import MatchInputError

EXAMPLE = resources.files("permedhub.calls") / "examples" / "synthetic-call.yaml"
MODULES = ["syn-module-a"]
COORDINATOR = Partner(organisation="de-uni", country="DE", kind="university",
                      funder="syn-funder-de", coordinator=True)  # fmt: skip
CANDIDATES = pd.DataFrame(
    [
        ("de-hosp", "DE hospital", "DE", "hospital", 5.0),
        ("de-uni2", "DE university 2", "DE", "university", 4.0),
        ("fr-company", "FR company", "FR", "company", 3.0),
        ("it-uni", "IT university", "IT", "university", 2.0),
        ("es-ngo", "ES NGO", "ES", "ngo", 1.0),
        ("nl-uni", "NL university (no NL funder)", "NL", "university", 9.0),
        ("it-company", "IT company (IT funds no companies)", "IT", "company", 8.0),
    ],
    columns=["organisation", "name", "country", "kind", "score"],
)


@pytest.fixture(scope="module")
def call() -> Call:
    return load_call(str(EXAMPLE))


def added(call: Call, **options: object) -> list[str]:
    done = complete_consortium(call, [COORDINATOR], CANDIDATES, modules=MODULES, **options)  # type: ignore[arg-type]
    assert done.meets_consortium_rules, done.check.to_dict()
    # What is left is the partners' paperwork: IT's funder asks for an extra document.
    left = set(zip(done.check.broken["organisation"], done.check.broken["rule"], strict=True))
    assert left <= {("it-uni", "funders.rules.extra_documents")}
    return sorted(done.added["organisation"])


def test_funders_are_found_by_place_and_kind(call: Call) -> None:
    assert funder_for(call, "FR", None, "company") == "syn-funder-fr"
    assert funder_for(call, "IT", None, "company") is None  # IT funds no companies
    assert funder_for(call, "NL", None, "university") is None  # no NL funder in the call
    assert funder_for(call, "ES", "ES-CT", "ngo") == "syn-funder-es"  # national, no regional


def test_the_fewest_partners_then_the_best_score(call: Call) -> None:
    # Two more countries are needed (min 3, DE is in): pairs from FR/IT/ES; FR+IT scores 5.
    assert added(call) == ["fr-company", "it-uni"]


def test_at_a_given_size_the_best_score_within_the_rules(call: Call) -> None:
    # 3 more: de-hosp (5) + fr (3) + it (2) = 10 beats de-uni2 in de-hosp's place (9).
    assert added(call, size=4) == ["de-hosp", "fr-company", "it-uni"]
    # 4 more: de-hosp and de-uni2 together would make DE 3 > max_per_country 2.
    assert added(call, size=5) == ["de-hosp", "es-ngo", "fr-company", "it-uni"]


def test_own_funded_partners_count_against_their_limit(call: Call) -> None:
    # nl-uni (9) may join own-funded; it-company (8) too, but only one of them (max 1), and
    # neither counts towards the countries: nl + fr + it = 14.
    assert added(call, size=4, own_funded=True) == ["fr-company", "it-uni", "nl-uni"]


def test_the_eu_associated_rule_is_met(call: Call) -> None:
    canada = {"organisation": "syn-funder-ca", "name": "Synthetic Funder Canada", "country": "CA"}
    funders = [*call.funders, call.funders[0].model_copy(update=canada)]
    eu_rule = EuAssociatedRule(countries=3, programme="h2020")
    rules = call.consortium.model_copy(update={"min_eu_associated_countries": eu_rule})
    variant = Call.model_validate(
        {**call.model_dump(), "funders": [f.model_dump() for f in funders],
         "consortium": rules.model_dump()}
    )  # fmt: skip
    ca_uni = pd.DataFrame([("ca-uni", "CA university", "CA", "university", 10.0)],
                          columns=CANDIDATES.columns)  # fmt: skip
    candidates = pd.concat([CANDIDATES, ca_uni])
    done = complete_consortium(variant, [COORDINATOR], candidates, modules=MODULES)
    # ca-uni + fr would meet min_countries with 13, but three EU countries need FR and IT.
    assert sorted(done.added["organisation"]) == ["fr-company", "it-uni"]
    assert done.meets_consortium_rules


def test_what_cannot_be_met_is_named(call: Call) -> None:
    only_de_and_fr = CANDIDATES[CANDIDATES["organisation"].isin(["de-hosp", "fr-company"])]
    with pytest.raises(CannotComplete) as caught:
        complete_consortium(call, [COORDINATOR], only_de_and_fr, modules=MODULES)
    assert caught.value.binding == ["min_countries: without it the consortium could be completed"]
    with pytest.raises(CannotComplete) as caught:
        complete_consortium(call, [COORDINATOR], CANDIDATES, size=7)
    assert caught.value.binding == ["size: without it the consortium could be completed"]


def test_bad_candidates_are_refused(call: Call) -> None:
    with pytest.raises(MatchInputError, match="the columns \\['score'\\] too"):
        complete_consortium(call, [COORDINATOR], CANDIDATES.drop(columns="score"))
    negative = CANDIDATES.assign(score=[1.0, -1.0, 1, 1, 1, 1, 1])
    with pytest.raises(MatchInputError, match=r"candidates\[de-uni2\]\.score"):
        complete_consortium(call, [COORDINATOR], negative)
    with pytest.raises(MatchInputError, match="at least the 1 partners already in"):
        complete_consortium(call, [COORDINATOR], CANDIDATES, size=0)
