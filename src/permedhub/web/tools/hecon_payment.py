"""Payment strategies page (/tools/hecon/payment): rewrite a Markov model with one payment
scheme of `permedhub.hecon.payment` and compare the payer's payments before and after
(`payment_profile`) and the cost-effectiveness under the scheme (`run_analysis`)."""

from __future__ import annotations

from typing import Literal

import pandas as pd
import plotly.graph_objects as go
from pydantic import BaseModel, Field

from permedhub.hecon import payment
from permedhub.hecon.run import run_analysis
from permedhub.hecon.spec import ModelSpec
from permedhub.web.tools.common import PageResult, ToolInputError, table

MAX_DRAWS = 2_000
MONEY = 2


class PaymentForm(BaseModel):
    """The scheme and where it applies."""

    example: str | None = None
    strategy: str
    category: str
    scheme: Literal["refund", "pay_on_outcome", "instalments"] = "refund"
    amount: str
    from_state: str | None = None
    to_state: str | None = None
    until_cycle: int | None = Field(default=None, ge=1)
    n_cycles: int = Field(default=3, ge=1, le=1000)
    conditional_on_alive: bool = False
    psa_draws: int = Field(default=0, ge=0, le=MAX_DRAWS)
    seed: int = Field(default=1, ge=0, le=2**32 - 1)


# The form as first shown: a refund of the targeted therapy's price for patients who do not
# respond in the first cycle, in the shipped personalised-medicine example.
EXAMPLE_VALUES = {
    "example": "personalised_medicine",
    "strategy": "test_and_treat",
    "category": "drug",
    "scheme": "refund",
    "amount": "price_targeted",
    "from_state": "assess_targeted",
    "to_state": "no_response",
    "until_cycle": "1",
    "n_cycles": "3",
    "psa_draws": "500",
    "seed": "1",
}


def _flow(form: PaymentForm) -> tuple[str, str]:
    if not form.from_state:
        raise ToolInputError("from_state", f"the {form.scheme} scheme needs the flow's states")
    if not form.to_state:
        raise ToolInputError("to_state", f"the {form.scheme} scheme needs the flow's states")
    return form.from_state, form.to_state


def transformed(spec: ModelSpec, form: PaymentForm) -> ModelSpec:
    """The model rewritten by the chosen scheme (one library call)."""
    if form.scheme == "refund":
        return payment.with_outcome_refund(
            spec, form.strategy, *_flow(form), form.amount, form.category, form.until_cycle
        )
    if form.scheme == "pay_on_outcome":
        return payment.with_payment_on_outcome(
            spec, form.strategy, *_flow(form), form.amount, form.category, form.until_cycle
        )
    return payment.with_instalments(
        spec, form.strategy, form.amount, form.n_cycles, form.category, form.conditional_on_alive
    )


def payment_page(spec: ModelSpec, form: PaymentForm) -> PageResult:
    """A payment scheme applied to a Markov cohort model (the route checks the kind)."""
    scheme = transformed(spec, form)
    draws = form.psa_draws or None
    seed = form.seed if draws else None
    before = payment.payment_profile(spec, form.strategy, form.category, draws, seed)
    after = payment.payment_profile(scheme, form.strategy, form.category, draws, seed)
    labels = {"refund": "outcome-based refund", "pay_on_outcome": "payment on outcome",
              "instalments": "instalments"}  # fmt: skip
    page = PageResult(
        title=f"{labels[form.scheme]}: {form.strategy}, cost category {form.category}"
    )
    page.facts += [("Model", spec.name), ("PSA draws", f"{form.psa_draws:,}")]
    if draws:
        page.facts.append(("Seed", str(form.seed)))
    summary = pd.DataFrame(
        {
            "payment": ["current", labels[form.scheme]],
            "expected discounted cost (equivalent up-front price)": [
                before.expected_cost, after.expected_cost],
            "sd": [before.sd, after.sd],
            "p05": [before.p05, after.p05],
            "p95": [before.p95, after.p95],
        }
    )  # fmt: skip
    page.tables.append(
        ("Payer's payments per patient in the category", table(summary, default=MONEY))
    )
    icers = run_analysis(scheme).icers
    page.tables.append(
        ("Incremental analysis under the scheme (deterministic)",
         table(icers, {"cost": MONEY, "inc_cost": MONEY, "icer": MONEY}))
    )  # fmt: skip
    figure = go.Figure()
    for name, profile in (("current", before), (labels[form.scheme], after)):
        flows = profile.cashflows
        figure.add_trace(go.Scatter(x=flows["time"], y=flows["mean"], mode="lines+markers",
                                    name=f"{name}: mean"))  # fmt: skip
        if draws:
            figure.add_trace(
                go.Scatter(x=list(flows["time"]) + list(flows["time"])[::-1],
                           y=list(flows["p95"]) + list(flows["p05"])[::-1], fill="toself",
                           mode="none", opacity=0.25, name=f"{name}: 5th–95th percentile")
            )  # fmt: skip
    figure.update_layout(
        title="Payer's cash flows per patient (undiscounted)",
        xaxis_title="Time (years)",
        yaxis_title=f"Payments ({form.category})",
    )
    merged = before.cashflows[["time", "mean"]].rename(columns={"mean": "current (mean)"})
    merged[f"{labels[form.scheme]} (mean)"] = after.cashflows["mean"].to_numpy()
    page.add_figure("cashflows", figure, twin=merged, digits=MONEY)
    return page
