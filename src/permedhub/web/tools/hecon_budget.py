"""Budget impact page (/tools/hecon/budget): a small YAML/JSON document validated by Pydantic,
two calls of `permedhub.hecon.budget.budget_impact` (reference and new market shares) and
their difference."""

from __future__ import annotations

from typing import Any, Literal

import pandas as pd
import plotly.graph_objects as go
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from permedhub.hecon.budget import budget_impact, budget_impact_difference
from permedhub.web.tools.common import PageResult, ToolInputError, table

EXAMPLE_DOCUMENT = """\
# Illustrative: a companion diagnostic plus targeted therapy replacing chemotherapy.
horizon_years: 5
prevalent: 1200          # patients already eligible in year 1
incident: 400            # new eligible patients each year (or one number per year)
annual_costs:            # cost per patient by year since starting (last value repeats)
  chemotherapy: [12000, 3000]
  test_and_targeted: [31000, 18000]
beyond_profile: repeat_last   # or zero: no cost after the profile ends
persistence: [1.0, 0.7, 0.5]  # share of a cohort still treated in its 1st, 2nd, 3rd+ year
reference_shares:        # market shares without the new technology
  chemotherapy: 1.0
  test_and_targeted: 0.0
scenario_shares:         # market shares with it (one value per year, or one for all)
  chemotherapy: [0.8, 0.6, 0.5, 0.4, 0.4]
  test_and_targeted: [0.2, 0.4, 0.5, 0.6, 0.6]
discount_rate: 0.0
"""


class BudgetDocument(BaseModel):
    """A budget impact scenario against a reference (Sullivan et al., Value Health 2014)."""

    model_config = ConfigDict(extra="forbid")

    horizon_years: int = Field(ge=1, le=50)
    prevalent: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    incident: float | list[float] = 0.0
    annual_costs: dict[str, list[float]]
    beyond_profile: Literal["zero", "repeat_last"]
    persistence: list[float] | None = None
    reference_shares: dict[str, float | list[float]]
    scenario_shares: dict[str, float | list[float]]
    discount_rate: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    discount_first_year: bool = False


def parse_document(text: str, field_name: str) -> BudgetDocument:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ToolInputError(field_name, f"not valid YAML/JSON: {error}") from None
    if not isinstance(data, dict):
        raise ToolInputError(field_name, "expected a mapping (keys such as horizon_years)")
    try:
        return BudgetDocument.model_validate(data)
    except ValidationError as error:
        details = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'document'}: {e['msg']}"
            for e in error.errors()[:6]
        )
        raise ToolInputError(field_name, details) from None


def _run(document: BudgetDocument, shares: dict[str, Any]) -> pd.DataFrame:
    return budget_impact(
        document.horizon_years,
        document.prevalent,
        document.incident,
        shares,
        document.annual_costs,
        beyond_profile=document.beyond_profile,
        persistence=document.persistence,
        discount_rate=document.discount_rate,
        discount_first_year=document.discount_first_year,
    )


def budget_page(document: BudgetDocument) -> PageResult:
    reference = _run(document, document.reference_shares)
    scenario = _run(document, document.scenario_shares)
    difference = budget_impact_difference(scenario, reference)
    page = PageResult(title=f"Budget impact over {document.horizon_years} years")
    page.facts += [
        ("Total budget impact", f"{difference['budget_impact'].sum():,.0f}"),
        ("Total discounted budget impact", f"{difference['discounted_budget_impact'].sum():,.0f}"),
    ]
    page.tables.append(
        ("Budget impact by year (scenario − reference)", table(difference, {"year": 0}, 2))
    )
    by_strategy = scenario.pivot(index="year", columns="strategy", values="cost")
    by_strategy = by_strategy[list(document.annual_costs)].reset_index().rename_axis(columns=None)
    page.tables.append(("Scenario cost by strategy and year", table(by_strategy, {"year": 0}, 2)))
    patients = scenario.pivot(index="year", columns="strategy", values="patients")
    patients = patients[list(document.annual_costs)].reset_index().rename_axis(columns=None)
    page.tables.append(
        ("Scenario patients treated by strategy and year", table(patients, {"year": 0}, 1))
    )
    figure = go.Figure(
        [
            go.Bar(name="reference", x=difference["year"], y=difference["cost_reference"]),
            go.Bar(name="scenario", x=difference["year"], y=difference["cost_scenario"]),
            go.Scatter(name="budget impact", x=difference["year"], y=difference["budget_impact"],
                       mode="lines+markers"),
        ]
    )  # fmt: skip
    figure.update_layout(
        title="Total cost per year and budget impact",
        barmode="group",
        xaxis_title="Year",
        yaxis_title="Cost",
    )
    page.add_figure("budget", figure)
    return page
