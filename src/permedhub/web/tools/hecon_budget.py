"""Budget impact page (/tools/hecon/budget): renders `permedhub.hecon.budget_spec` (the
document schema, its parsing and the reference/scenario run with their difference live there,
shared with `permedhub hecon budget`)."""

from __future__ import annotations

import plotly.graph_objects as go

from permedhub.hecon.budget_spec import (
    BudgetDocument,
    budget_examples,
    parse_budget_document,
    run_budget,
)
from permedhub.hecon.errors import HeconError
from permedhub.web.tools.common import PageResult, ToolInputError, table

EXAMPLE_DOCUMENT = budget_examples()["budget_impact"].read_text(encoding="utf-8")


def parse_document(text: str, field_name: str) -> BudgetDocument:
    """The budget document in the form field (or upload) `field_name`; problems name it."""
    try:
        return parse_budget_document(text)
    except HeconError as error:
        raise ToolInputError(field_name, str(error)) from None


def budget_page(document: BudgetDocument) -> PageResult:
    run = run_budget(document)
    difference = run.difference
    page = PageResult(title=f"Budget impact over {document.horizon_years} years")
    page.facts += [
        ("Total budget impact", f"{run.total:,.0f}"),
        ("Total discounted budget impact", f"{run.total_discounted:,.0f}"),
    ]
    page.tables.append(
        ("Budget impact by year (scenario − reference)", table(difference, default=2))
    )
    page.tables.append(
        (
            "Scenario cost by strategy and year",
            table(run.scenario_by_strategy("cost"), default=2),
        )
    )
    page.tables.append(
        (
            "Scenario patients treated by strategy and year",
            table(run.scenario_by_strategy("patients"), default=0),
        )
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
