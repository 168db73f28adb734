"""Arrange `permedhub.trials` results into tables and figures for the portal.

The numbers come from the library (`design_gsd`, `simon_two_stage`, `fixed.*`,
`simulate_design`); this module only lays them out and draws them.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go
import yaml
from pydantic import ValidationError

from permedhub.trials import biomarker, checklist, fixed
from permedhub.trials import report as report_figures
from permedhub.trials.design_spec import BasketSpec, design_problems, parse_design
from permedhub.trials.examples import example_names, example_path
from permedhub.trials.gsd import GroupSequentialDesign
from permedhub.trials.simon import SimonResult
from permedhub.trials.simulate import SimulationReport
from permedhub.web.tools.common import PageResult, ToolInputError, table

# --------------------------------------------------------------------------- group-sequential


def gsd_page(design: GroupSequentialDesign) -> PageResult:
    page = PageResult(title=f"{design.boundary} design, K = {design.looks}")
    page.facts += [
        ("Alpha", f"{design.alpha:g} ({design.sided}-sided)"),
        ("Beta", f"{design.beta:g}"),
        ("Futility", design.futility),
        ("Inflation factor", f"{design.inflation_factor:.4f}"),
        ("Expected sample size / fixed under H0", f"{design.expected_sample_size_h0:.4f}"),
        ("Expected sample size / fixed under H1", f"{design.expected_sample_size_h1:.4f}"),
        ("Power", f"{design.power:.4f}"),
        ("Drift (mean of Z at full information)", f"{design.drift:.4f}"),
    ]
    page.tables.append(("Boundaries per look (z scale)", table(design.to_frame())))
    page.add_figure("boundaries", design.to_figure())
    return page


# --------------------------------------------------------------------------- Simon


def simon_page(result: SimonResult) -> PageResult:
    page = PageResult(
        title=f"Simon two-stage designs: p0 = {result.p0:g}, p1 = {result.p1:g}, "
        f"alpha = {result.alpha:g}, beta = {result.beta:g}"
    )
    rows = [("optimal", result.optimal), ("minimax", result.minimax)]
    rows += [("admissible", d) for d in result.admissible]
    frame = pd.DataFrame(
        {
            "design": [name for name, _ in rows],
            "r1/n1": [f"{d.r1}/{d.n1}" for _, d in rows],
            "r/n": [f"{d.r}/{d.n}" for _, d in rows],
            "EN(p0)": [d.expected_n0 for _, d in rows],
            "PET(p0)": [d.pet0 for _, d in rows],
            "alpha": [d.alpha for _, d in rows],
            "power": [d.power for _, d in rows],
            "q range": ["—" if d.q_low is None else f"[{d.q_low:.3f}, {d.q_high:.3f}]"
                        for _, d in rows],
        }
    )  # fmt: skip
    page.tables.append(
        ("Designs (stop after stage 1 if responses ≤ r1; reject H0 if total > r)",
         table(frame, {"EN(p0)": 2, "PET(p0)": 3}))
    )  # fmt: skip
    figure = go.Figure()
    for name, _ in rows[:2]:
        design = result.optimal if name == "optimal" else result.minimax
        figure.add_trace(
            go.Scatter(x=[design.n], y=[design.expected_n0], mode="markers", name=name,
                       marker={"size": 12})
        )  # fmt: skip
    if result.admissible:
        figure.add_trace(
            go.Scatter(x=[d.n for d in result.admissible],
                       y=[d.expected_n0 for d in result.admissible],
                       mode="lines+markers", name="admissible")
        )  # fmt: skip
    figure.update_layout(
        title="Maximum against expected sample size under p0",
        xaxis_title="Maximum sample size n",
        yaxis_title="Expected sample size under p0",
    )
    page.add_figure("simon", figure)
    return page


# --------------------------------------------------------------------------- fixed designs


def fixed_page(design: fixed.FixedDesign) -> PageResult:
    page = PageResult(title=f"{design.endpoint} endpoint: {design.method}")
    rows: list[tuple[str, Any]] = []
    if design.n_total:
        rows += [("control arm", design.n_control), ("treatment arm", design.n_treatment),
                 ("total", design.n_total)]  # fmt: skip
    if design.events is not None:
        rows.append(("events", design.events))
    if design.probability_of_event is not None:
        rows.append(("P(event)", design.probability_of_event))
    rows.append(("power at these sizes", design.power))
    shown = [f"{v:,}" if isinstance(v, int) else f"{v:.4f}" for _, v in rows]
    frame = pd.DataFrame({"quantity": [r[0] for r in rows], "value": shown})
    page.tables.append(("Sample size", table(frame)))
    return page


def power_and_effect_page(result: fixed.PowerAndEffect) -> PageResult:
    page = PageResult(title=f"{result.endpoint} endpoint: power and detectable effect")
    rows = result.rows()
    frame = pd.DataFrame(
        {"quantity": [r[0] for r in rows], "value": [f"{r[1]:,.4f}" for r in rows]}
    )
    page.tables.append(("Power and detectable effect", table(frame)))
    return page


# --------------------------------------------------------------------------- simulation


def design_from_text(text: str, filename: str) -> Any:
    """Validate an uploaded design document (YAML or JSON)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ToolInputError("design_file", f"{filename} is not valid YAML/JSON: {error}") from None
    return validated_design(data, "design_file")


def design_from_example(name: str) -> Any:
    if name not in example_names():
        raise ToolInputError("example", f"unknown example {name!r}; one of {example_names()}")
    data = yaml.safe_load(example_path(name).read_text(encoding="utf-8"))
    return validated_design(data, "example")


def validated_design(data: Any, field_name: str) -> Any:
    try:
        return parse_design(data)
    except ValidationError as error:
        details = "; ".join(design_problems(error)[:6])
        raise ToolInputError(field_name, f"invalid design document: {details}") from None


def is_bayesian_basket(spec: Any) -> bool:
    return isinstance(spec, BasketSpec) and spec.method == "bhm"


def simulation_page(report: SimulationReport) -> PageResult:
    title = str(report.design.get("title", report.design.get("design", "Design")))
    page = PageResult(title=title)
    page.facts += [
        ("Design family", str(report.design.get("design"))),
        ("Simulated trials per scenario", f"{report.n_sim:,}"),
        ("Seed", str(report.seed)),
        ("Engine", report.engine),
        ("Elapsed seconds", f"{report.elapsed_seconds:.2f}"),
    ]
    if report.boundaries:
        frame = pd.DataFrame(
            {"boundary": list(report.boundaries),
             "values by stage": [", ".join(f"{v:.4f}" for v in values)
                                 for values in report.boundaries.values()]}
        )  # fmt: skip
        page.tables.append(("Boundaries", table(frame)))
    for scenario in report.scenarios:
        kind = "exact" if scenario.exact else "simulated"
        frame = pd.DataFrame(
            {"result": list(scenario.metrics),
             "estimate": [m["estimate"] for m in scenario.metrics.values()],
             "Monte-Carlo SE": [m["mc_se"] for m in scenario.metrics.values()]}
        )  # fmt: skip
        page.tables.append((f"Scenario: {scenario.name} ({kind})", table(frame, default=5)))
    page.add_figure("rejection", report_figures.rejection_figure(report))
    return page


# --------------------------------------------------------------------------- biomarker designs


def biomarker_page(
    outcomes: biomarker.CellOutcomes, assay: biomarker.Assay, alpha: float, beta: float,
    sided: int,
) -> PageResult:  # fmt: skip
    """The four biomarker design families side by side for one set of cell outcomes and one
    assay: targeted vs untargeted, marker-stratified (interaction) and biomarker-strategy."""
    compared = biomarker.compare_designs(outcomes, assay, alpha, beta, sided)
    comparison, designs = compared.targeted, compared.designs
    page = PageResult(title="Biomarker designs compared")
    page.facts += [
        ("Test-positive rate", f"{assay.test_positive_rate:.4f}"),
        ("Positive predictive value", f"{assay.ppv:.4f}"),
        ("Randomised: untargeted / targeted", f"{comparison.ratio_randomised:.3f}"),
        ("Untargeted randomised / targeted screened", f"{comparison.ratio_screened:.3f}"),
    ]
    page.facts += [("Not applicable", reason) for reason in compared.not_applicable]
    frame = pd.DataFrame(
        {
            "design": [d.design for d in designs],
            "effect": [d.effect for d in designs],
            "randomised": [d.n_randomised for d in designs],
            "screened (expected)": [d.n_screened for d in designs],
        }
    )
    page.tables.append(
        ("Patients by design (totals over arms)", table(frame, {"screened (expected)": 1}))
    )
    figure = go.Figure(
        [
            go.Bar(name="randomised", x=frame["design"], y=frame["randomised"]),
            go.Bar(name="screened (expected)", x=frame["design"], y=frame["screened (expected)"]),
        ]
    )
    figure.update_layout(
        title="Patients randomised and screened", barmode="group", yaxis_title="Patients"
    )
    page.add_figure("biomarker", figure)
    return page


# --------------------------------------------------------------------------- PERMIT checklist

EXAMPLE_PROTOCOL = """\
title: My trial
stages: [clinical-trial]          # preclinical and/or clinical-trial
design:
  kind: gsd                       # gsd | fixed | simon | biomarker-targeted |
                                  # biomarker-stratified | biomarker-strategy | basket |
                                  # platform | adaptive-enrichment | other
  parameters: {looks: 3, boundary: ld-obf, alpha: 0.025, beta: 0.1}
addressed:
  - id: FOSSE2023-R7
    evidence: "Data sharing plan, protocol section 12"
"""


def checklist_page(text: str, field_name: str) -> PageResult:
    """The PERMIT checklist for a protocol document (`permedhub trials checklist`)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ToolInputError(field_name, f"not valid YAML/JSON: {error}") from None
    report = checklist.evaluate_protocol(checklist.parse_protocol(data))
    page = PageResult(title=f"PERMIT checklist: {report.title}")
    page.facts += [(status, str(count)) for status, count in sorted(report.counts.items())]
    frame = pd.DataFrame(
        {
            "item": [i.id for i in report.items],
            "status": [i.status for i in report.items],
            "recommendation": [i.text for i in report.items],
            "evidence": [i.evidence or i.design_evidence or "" for i in report.items],
            "source": [f"{i.citation} ({i.locator})" for i in report.items],
        }
    )
    page.tables.append(("Items (verified PERMIT recommendations)", table(frame)))
    return page
