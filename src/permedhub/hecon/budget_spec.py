"""Budget impact documents (YAML/JSON), evaluated with :mod:`permedhub.hecon.budget`.

```yaml
horizon_years: 5
prevalent: 1200                 # patients already eligible in year 1
incident: 400                   # new eligible patients each year (or one number per year)
annual_costs:                   # cost per patient by year since starting
  chemotherapy: [12000, 3000]
  test_and_targeted: [31000, 18000]
beyond_profile: repeat_last     # or zero: no cost after the profile ends
persistence: [1.0, 0.7, 0.5]    # optional: share still treated in a cohort's 1st, 2nd, ... year
reference_shares: {chemotherapy: 1.0, test_and_targeted: 0.0}    # without the technology
scenario_shares:                                                 # with it
  chemotherapy: [0.8, 0.6, 0.5, 0.4, 0.4]
  test_and_targeted: [0.2, 0.4, 0.5, 0.6, 0.6]
discount_rate: 0.0              # budget impact is usually reported undiscounted
discount_first_year: false
```

The reference and the scenario are two calls of :func:`~permedhub.hecon.budget.budget_impact`
on the same population and costs; the budget impact is their yearly difference
(:func:`~permedhub.hecon.budget.budget_impact_difference`). The shipped example is
``examples/budget/budget_impact.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from permedhub.hecon.budget import budget_impact, budget_impact_difference
from permedhub.hecon.errors import document_error, read_input_file
from permedhub.hecon.run import example_documents, records
from permedhub.hecon.spec import parse_yaml

WHAT = "budget document"


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


def budget_examples() -> dict[str, Path]:
    """The budget impact documents shipped with `permedhub.hecon` (name -> path)."""
    return example_documents("budget")


def validate_budget(data: dict[str, Any], where: str = "") -> BudgetDocument:
    """A parsed mapping as a BudgetDocument; HeconError "[<where>: ]invalid budget document:
    <location>: <problem>, got <value>; ..." (first six problems)."""
    try:
        return BudgetDocument.model_validate(data)
    except ValidationError as error:
        raise document_error(error, data, WHAT, limit=6, where=where) from None


def parse_budget_document(text: str, where: str = "") -> BudgetDocument:
    """A budget document from YAML/JSON text; errors start with `where` (e.g. the file) when
    given and name the line and column of a syntax error."""
    return validate_budget(parse_yaml(text, where, WHAT), where)


def load_budget_document(source: str | Path) -> BudgetDocument:
    """A budget document from a YAML/JSON file; every error names the file."""
    path = Path(source)
    text = read_input_file(path, "budget file")
    return parse_budget_document(text, f"budget file {path}")


@dataclass(frozen=True)
class BudgetRun:
    """The reference and scenario results (tidy frames of `budget_impact`) and their yearly
    difference (`budget_impact_difference`)."""

    document: BudgetDocument
    reference: pd.DataFrame
    scenario: pd.DataFrame
    difference: pd.DataFrame

    @property
    def total(self) -> float:
        return float(self.difference["budget_impact"].sum())

    @property
    def total_discounted(self) -> float:
        return float(self.difference["discounted_budget_impact"].sum())

    def scenario_by_strategy(self, column: str) -> pd.DataFrame:
        """`column` ('cost', 'patients', ...) of the scenario: one row per year, one column
        per strategy in document order."""
        wide = self.scenario.pivot(index="year", columns="strategy", values=column)
        return wide[list(self.document.annual_costs)].reset_index().rename_axis(columns=None)


def _shares_run(document: BudgetDocument, shares_name: str) -> pd.DataFrame:
    return budget_impact(
        document.horizon_years,
        document.prevalent,
        document.incident,
        getattr(document, shares_name),
        document.annual_costs,
        beyond_profile=document.beyond_profile,
        persistence=document.persistence,
        discount_rate=document.discount_rate,
        discount_first_year=document.discount_first_year,
        shares_name=shares_name,
    )


def run_budget(document: BudgetDocument) -> BudgetRun:
    """Reference and scenario over the horizon and the budget impact (scenario - reference);
    errors of the engine (shares not summing to 1, profiles of the wrong length, ...) name
    the document key (e.g. ``scenario_shares``)."""
    reference = _shares_run(document, "reference_shares")
    scenario = _shares_run(document, "scenario_shares")
    return BudgetRun(document, reference, scenario, budget_impact_difference(scenario, reference))


def budget_json(run: BudgetRun) -> dict[str, Any]:
    """A JSON-serialisable summary: the document, totals, the yearly difference and both
    tidy results."""
    return {
        "document": run.document.model_dump(),
        "total_budget_impact": run.total,
        "total_discounted_budget_impact": run.total_discounted,
        "by_year": records(run.difference),
        "reference": records(run.reference),
        "scenario": records(run.scenario),
    }
