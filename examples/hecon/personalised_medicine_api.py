"""The hecon Python API end to end.

Run: `.venv/bin/python examples/hecon/personalised_medicine_api.py`.

1. A test-and-treat decision tree (companion diagnostic) gives the share of patients started
   on the targeted therapy and the response probability among them.
2. Those feed the bundled personalised-medicine Markov model (as parameter values).
3. PSA, incremental table, one-way sensitivity, value-based price and an outcome-based refund.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from permedhub.hecon import cea, dsa, payment, tree
from permedhub.hecon.markov import MarkovModel
from permedhub.hecon.spec import load_model

MODEL = Path(str(resources.files("permedhub.hecon") / "examples" / "personalised_medicine.yaml"))


def main() -> None:
    # 1. test-and-treat tree: who gets the targeted therapy?
    assay = tree.DiagnosticTest("companion diagnostic", sensitivity=0.9, specificity=0.95, cost=300)
    outcomes = {k: tree.Outcome() for k in tree.OUTCOME_KEYS}
    leaves = tree.test_and_treat(0.3, [assay], outcomes).leaf_probabilities()["test_and_treat"]
    share_targeted = float(leaves["TP"][0] + leaves["FP"][0])
    print(f"share started on targeted therapy: {share_targeted:.4f}")

    # 2. the Markov model with the tree's inputs (base case)
    spec = load_model(MODEL)
    model = MarkovModel(spec)
    base = model.run(sampled={"prevalence": [0.3], "sensitivity": [0.9], "specificity": [0.95]})
    print(base.mean()[["cost", "qaly", "ly"]])

    # 3. PSA and incremental table
    psa = model.run(n_draws=2000, seed=42)
    costs, effects = psa.matrices()
    mean_costs, mean_effects = costs.mean(axis=0), effects.mean(axis=0)
    print(cea.calculate_icers(mean_costs, mean_effects, psa.strategies))

    # one-way DSA and the value-based price of the targeted therapy at 30,000 per QALY
    print(dsa.one_way(model, {"prevalence": (0.2, 0.4), "specificity": (0.9, 0.99)}, wtp=30_000))
    price = dsa.threshold(
        model, "price_targeted", (0, 200_000), "test_and_treat", "standard_care", 30_000
    )
    print(f"value-based price (test-and-treat vs standard care): {price:,.0f}")

    # outcome-based refund of the full price for non-responders after one cycle
    refunded = payment.with_outcome_refund(
        spec, "test_and_treat", "assess_targeted", "no_response", "price_targeted", "drug", 1
    )
    profile = payment.payment_profile(refunded, "test_and_treat", "drug", n_draws=500, seed=1)
    print(
        f"drug spend with refund: {profile.expected_cost:,.0f} per patient "
        f"(90% interval {profile.p05:,.0f}-{profile.p95:,.0f})"
    )


if __name__ == "__main__":
    main()
