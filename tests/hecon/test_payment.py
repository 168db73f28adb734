"""Payment strategies, tested from first principles on the personalised-medicine example."""

from __future__ import annotations

import numpy as np
import pytest
from hecon_paths import EXAMPLES

from permedhub.hecon import payment
from permedhub.hecon.markov import MarkovModel
from permedhub.hecon.spec import load_model

PRICE = 30_000.0


@pytest.fixture
def pm_model():
    return load_model(EXAMPLES / "personalised_medicine.yaml")


def _cycle1_flow(spec, strategy: str, origin: str, dest: str) -> float:
    """Share of the cohort moving origin -> dest in cycle 1, from the trace and the base-case
    transition probability (computed independently of the reward machinery)."""
    res = MarkovModel(spec).run()
    tr = res.trace[res.trace.strategy == strategy].set_index("cycle")
    start = tr.loc[0, origin]
    # dest is entered only from the assess states in cycle 1, and 'no_response' is the
    # complement: flow = start * (1 - resp_targeted - p_background_death)
    ns = MarkovModel(spec).strategies[
        [s.name for s in MarkovModel(spec).strategies].index(strategy)
    ]
    values = ns.evaluator.namespace(MarkovModel(spec).params.base_values())
    p = 1 - float(values["resp_targeted"].reshape(-1)[0]) - 0.02
    assert dest == "no_response"
    return float(start * p)


def test_refund_equals_negative_transition_cost_on_the_non_response_flow(pm_model) -> None:
    """Outcome-based refund of the full price for targeted-therapy non-responders assessed
    after cycle 1: the payer's discounted drug cost falls by price x P(non-response flow) x
    (1.035)^-1 (cycle-end discounting of a cycle-1 event)."""
    refunded = payment.with_outcome_refund(
        pm_model, "test_and_treat", "assess_targeted", "no_response", PRICE, "drug", until_cycle=1
    )
    before = MarkovModel(pm_model).run().mean().loc["test_and_treat", "cost_drug"]
    after = MarkovModel(refunded).run().mean().loc["test_and_treat", "cost_drug"]
    flow = _cycle1_flow(pm_model, "test_and_treat", "assess_targeted", "no_response")
    assert before - after == pytest.approx(PRICE * flow / 1.035, rel=1e-12)
    # other strategies untouched
    assert MarkovModel(refunded).run().mean().loc["standard_care", "cost"] == pytest.approx(
        MarkovModel(pm_model).run().mean().loc["standard_care", "cost"]
    )


def test_pay_for_response_equals_price_minus_refund_without_discounting(pm_model) -> None:
    """'No pay for non-responders' (price paid on the response flow) equals an up-front price
    with a full refund for non-responders when the first cycle is not discounted, provided
    nobody dies before assessment (here: background death is refunded too)."""
    doc = pm_model.model_dump(by_alias=True)
    doc["settings"]["discount_method"] = "cycle_start"
    doc["parameters"]["p_background_death"] = 0.0
    spec = load_model(doc)
    refund = payment.with_outcome_refund(
        spec, "targeted_for_all", "assess_targeted", "no_response", PRICE, "drug", until_cycle=1
    )
    pay = payment.with_payment_on_outcome(
        spec, "targeted_for_all", "assess_targeted", "response", PRICE, "drug", until_cycle=1
    )
    a = MarkovModel(refund).run().mean().loc["targeted_for_all"]
    b = MarkovModel(pay).run().mean().loc["targeted_for_all"]
    assert a.cost == pytest.approx(b.cost, rel=1e-12)


def test_unconditional_instalments_have_the_up_front_present_value() -> None:
    """Annuity-immediate: instalment_for_price(P, r, n) paid at the end of each of n cycles
    is worth P today (cycle-end discounting, end-of-cycle counting)."""
    doc = {
        "name": "instalments",
        "settings": {
            "cycles": 10,
            "cycle_length": 1,
            "discount_costs": 0.035,
            "discount_outcomes": 0.035,
            "discount_method": "cycle_end",
            "counting": "end",
            "effect": "qaly",
        },
        "states": [{"name": "alive"}, {"name": "dead", "dead": True}],
        "parameters": {"p_die": 0.1},
        "strategies": {"drug": {}},
        "transitions": {"alive": {"alive": "C", "dead": "p_die"}},
        "initial": {"alive": 1},
        "initial_costs": {"drug": PRICE},
        "state_utilities": {"alive": 1},
    }
    spec = load_model(doc)
    amount = payment.instalment_for_price(PRICE, 0.035, 5)
    uncond = payment.with_instalments(spec, "drug", amount, 5, "drug", conditional_on_alive=False)
    profile = payment.payment_profile(uncond, "drug", "drug")
    assert profile.equivalent_upfront_price == pytest.approx(PRICE, rel=1e-12)
    # conditional on survival: each instalment is paid with probability 0.9^t
    cond = payment.with_instalments(spec, "drug", amount, 5, "drug", conditional_on_alive=True)
    expected = sum(amount * 0.9**t / 1.035**t for t in range(1, 6))
    assert payment.payment_profile(cond, "drug", "drug").expected_cost == pytest.approx(expected)
    flows = payment.payment_profile(cond, "drug", "drug").cashflows
    assert flows["mean"].iloc[0] == 0 and flows["mean"].iloc[1] == pytest.approx(amount * 0.9)


def test_payment_risk_under_psa(pm_model) -> None:
    refunded = payment.with_outcome_refund(
        pm_model, "test_and_treat", "assess_targeted", "no_response", PRICE, "drug", until_cycle=1
    )
    prof = payment.payment_profile(refunded, "test_and_treat", "drug", n_draws=400, seed=3)
    assert prof.sd > 0 and prof.p05 < prof.expected_cost < prof.p95
    assert prof.draws.shape == (400,)


def test_population_spend_price_volume_and_budget_cap() -> None:
    per_patient = np.array([[100.0, 50.0, 25.0]])
    spend = payment.population_spend(per_patient, [10, 20, 0, 5])
    np.testing.assert_allclose(spend, [[1000, 500 + 2000, 250 + 1000, 500 + 500]])
    tiers = [(0, 100.0), (1000, 80.0), (5000, 50.0)]
    np.testing.assert_allclose(
        payment.price_volume_spend([500, 3000, 6000], tiers),
        [50_000, 100_000 + 2000 * 80, 100_000 + 4000 * 80 + 1000 * 50],
    )
    paid, rebate = payment.budget_cap(spend, 2000)
    assert np.all(paid <= 2000) and np.allclose(paid + rebate, spend)


def test_unknown_flow_is_rejected(pm_model) -> None:
    with pytest.raises(ValueError, match="no transition response->assess_targeted"):
        payment.with_outcome_refund(
            pm_model, "test_and_treat", "response", "assess_targeted", 1, "drug"
        )


def test_coverage_with_evidence_development_uses_evsi(hiv_model) -> None:
    """Coverage with evidence development: collect data when population EVSI exceeds the
    study cost; a study costing more than the population EVPI is never worth it."""
    model = MarkovModel(hiv_model)
    res = model.run(n_draws=600, seed=5)
    costs, effects = res.matrices()
    inputs = res.summary[res.summary.strategy == "monotherapy"][["draw"]].assign(
        rr=res.parameters["rr"]
    )
    common = dict(
        costs=costs,
        effects=effects,
        strategies=res.strategies,
        inputs=inputs,
        parameters=["rr"],
        prior_sample_size=50,
        sample_size=500,
        wtp=6_000,
        annual_population=1_000,
        horizon_years=10,
        discount_rate=0.035,
    )
    cheap = payment.coverage_with_evidence_development(**common, study_cost=0.0)
    assert cheap["evsi_per_person"] >= 0
    assert cheap["evsi_per_person"] <= cheap["evpi_per_person"] + 1e-9
    dear = payment.coverage_with_evidence_development(
        **common, study_cost=cheap["evpi_per_person"] * cheap["population"] * 2 + 1
    )
    assert dear["decision"] == "decide_now"
    if cheap["evsi_population"] > 0:
        assert cheap["decision"] == "collect_evidence"
