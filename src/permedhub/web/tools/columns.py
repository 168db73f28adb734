"""How the tool pages head the columns of the libraries' result frames.

The frames (and the JSON and CSV downloads made from them) keep the libraries' code names, which
scripts rely on; a page shows a label with its unit and keeps the code name as the header's
tooltip. Columns marked `detail` are hidden until the reader asks for all columns, so that a wide
table opens on the columns that answer the page's question.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    label: str
    unit: str = ""
    digits: int | None = None  # None: the table's default; 0 prints whole numbers ("1,280")
    detail: bool = False

    @property
    def heading(self) -> str:
        return f"{self.label} ({self.unit})" if self.unit else self.label


COLUMNS: dict[str, Column] = {
    # health economics: costs carry the model's own currency, which the model does not name
    "strategy": Column("Strategy"),
    "year": Column("Year", digits=0),
    "time": Column("Time", "years"),
    "cost": Column("Cost"),
    "effect": Column("Effect"),
    "qaly": Column("QALYs", detail=True),
    "ly": Column("Life years", detail=True),
    "inc_cost": Column("Incremental cost"),
    "inc_effect": Column("Incremental effect"),
    "icer": Column("ICER", "cost per unit of effect"),
    "status": Column("Status"),
    "nmb": Column("Net monetary benefit"),
    "nhb": Column("Net health benefit", "units of effect"),
    "optimal": Column("Optimal"),
    "cost_scenario": Column("Cost, scenario"),
    "cost_reference": Column("Cost, reference"),
    "budget_impact": Column("Budget impact"),
    "discounted_budget_impact": Column("Budget impact, discounted"),
    "outcome": Column("Outcome"),
    "mean": Column("Mean"),
    "sd": Column("SD"),
    "p05": Column("5th percentile"),
    "p95": Column("95th percentile"),
    "p2.5": Column("2.5th percentile"),
    "p97.5": Column("97.5th percentile"),
    "wtp": Column("Willingness to pay", "per unit of effect"),
    "evpi": Column("EVPI", "per person"),
    "evppi": Column("EVPPI", "per person"),
    "raw_evppi": Column("EVPPI before the cap at EVPI", "per person", detail=True),
    "method": Column("Method", detail=True),
    "parameters": Column("Parameters"),
    "probability": Column("Probability cost-effective"),
    "expected_nmb": Column("Expected net monetary benefit"),
    # trial design
    "look": Column("Look", digits=0),
    "information_rate": Column("Information fraction"),
    "efficacy_z": Column("Efficacy bound", "z"),
    "futility_z": Column("Futility bound", "z"),
    "nominal_p_efficacy": Column("Nominal p at the efficacy bound", "one-sided"),
    "cumulative_alpha_spent": Column("Cumulative α spent"),
    "prob_efficacy_h0": Column("P(stop for efficacy | H0)", detail=True),
    "prob_futility_h0": Column("P(stop for futility | H0)", detail=True),
    "prob_efficacy_h1": Column("P(stop for efficacy | H1)"),
    "prob_futility_h1": Column("P(stop for futility | H1)", detail=True),
    "design": Column("Design"),
    "randomised": Column("Randomised", "patients", digits=0),
    "screened (expected)": Column("Screened, expected", "patients"),
    "quantity": Column("Quantity"),
    "value": Column("Value"),
    "result": Column("Result"),
    "estimate": Column("Estimate"),
    "boundary": Column("Boundary"),
    "item": Column("Item"),
    "recommendation": Column("Recommendation"),
    "evidence": Column("Evidence"),
    "source": Column("Source"),
    "payment": Column("Payment"),
    "volume": Column("Patients treated", "per year"),
    "evsi_per_person": Column("EVSI", "per person"),
    "evpi_per_person": Column("EVPI", "per person"),
    "population": Column("Patients over the horizon", "discounted"),
    "evsi_population": Column("EVSI", "population"),
    "study_cost": Column("Study cost"),
    "expected_net_gain_of_sampling": Column("Expected net gain of sampling"),
    "alpha": Column("Type I error α", "exact"),
    "power": Column("Power", "exact"),
}

# Cost components are named by the model ("cost_drug", "cost_societal", ...).
COST_COMPONENT_PREFIX = "cost_"
# Whatever else a frame holds (strategy names as columns, a file's own parameter names, headings
# a view already wrote for people) is shown as it is.


def column(code: str) -> Column:
    """The label, unit and display rules of the result column named `code`."""
    if code in COLUMNS:
        return COLUMNS[code]
    if code.startswith(COST_COMPONENT_PREFIX):
        part = code.removeprefix(COST_COMPONENT_PREFIX).replace("_", " ")
        return Column(f"Cost: {part}", detail=True)
    return Column(code)
