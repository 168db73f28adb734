"""Trial-design pages (/tools/trials): group-sequential designs, Simon two-stage designs,
fixed two-arm sample sizes (GET forms: pure calculations, shareable URLs) and simulation of a
design document (POST with CSRF: it uploads a file). Thin shells over `permedhub.trials`."""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from permedhub.trials import biomarker, fixed
from permedhub.trials.errors import TrialInputError
from permedhub.trials.examples import example_names, example_path
from permedhub.trials.gsd import design_gsd
from permedhub.trials.report import render_html
from permedhub.trials.simon import simon_two_stage
from permedhub.trials.simulate import simulate_design
from permedhub.web.auth import check_csrf
from permedhub.web.tools import trials_views
from permedhub.web.tools.common import (
    ToolInputError,
    form_fields,
    html_download,
    json_download,
    read_upload,
    render_tool,
    split_numbers,
    upload_or_example,
    validate_form,
)

T = TypeVar("T")
MAX_LOOKS = 20
MAX_N_SIM = 100_000
MAX_N_SIM_BAYESIAN = 5_000  # each Bayesian hierarchical trial integrates a posterior grid
# The design the simulation page opens on: an adaptive enrichment design that runs in well
# under a second at the default number of trials.
DEFAULT_SIMULATION = "enrichment_binary_obf"
router = APIRouter(prefix="/tools/trials", include_in_schema=False)
Checked = [Depends(check_csrf)]

# Library field name -> form field, so that errors point at what the user typed.
FIELD_OF = {
    "information_rates": "timing",
    "accrual_duration": "accrual",
    "median": "median_control",
}

Boundary = Literal["pocock", "obf", "wt", "hp", "ld-obf", "ld-pocock", "hsd", "power"]
BOUNDARIES: list[tuple[str, str]] = [
    ("obf", "O'Brien–Fleming"), ("pocock", "Pocock"), ("wt", "Wang–Tsiatis (Δ)"),
    ("hp", "Haybittle–Peto"), ("ld-obf", "Lan–DeMets, O'Brien–Fleming type"),
    ("ld-pocock", "Lan–DeMets, Pocock type"), ("hsd", "Hwang–Shih–DeCani (γ)"),
    ("power", "Power family (ρ)"),
]  # fmt: skip


class GsdForm(BaseModel):
    looks: int = Field(default=3, ge=1, le=MAX_LOOKS)
    boundary: Boundary = "obf"
    alpha: float = 0.025
    beta: float = 0.2
    sided: int = Field(default=1, ge=1, le=2)
    timing: str | None = None
    futility: Literal["none", "binding", "nonbinding"] = "none"
    gamma: float | None = None
    rho: float | None = None
    delta_wt: float | None = None
    hp_interim: float = 3.0
    beta_spending: Literal["ld-obf", "ld-pocock", "hsd", "power"] | None = None
    beta_gamma: float | None = None
    beta_rho: float | None = None
    efficacy_looks: str | None = None
    futility_looks: str | None = None
    output: Literal["page", "report", "json"] = "page"


class SimonForm(BaseModel):
    p0: float
    p1: float
    alpha: float = 0.05
    beta: float = 0.2
    n_max: int | None = Field(default=None, ge=2, le=300)
    output: Literal["page", "json"] = "page"


class SampleSizeForm(BaseModel):
    endpoint: Literal["binary", "continuous", "survival"] = "binary"
    alpha: float = 0.05
    beta: float = 0.2
    sided: int = Field(default=2, ge=1, le=2)
    allocation_ratio: float = 1.0
    p_control: float | None = None
    p_treatment: float | None = None
    variance: Literal["pooled", "unpooled"] = "pooled"
    continuity_correction: bool = False
    delta: float | None = None
    sd: float | None = None
    continuous_method: Literal["normal", "t"] = "t"
    hazard_ratio: float | None = None
    survival_method: Literal["schoenfeld", "freedman"] = "schoenfeld"
    median_control: float | None = None
    accrual: float | None = None
    follow_up: float | None = None
    dropout_hazard: float = Field(default=0.0, ge=0)
    n_control: float | None = Field(default=None, gt=0)
    events: float | None = Field(default=None, gt=0)
    output: Literal["page", "json"] = "page"


class BiomarkerForm(BaseModel):
    endpoint: Literal["binary", "continuous"] = "binary"
    prevalence: float
    sensitivity: float = 1.0
    specificity: float = 1.0
    alpha: float = 0.05
    beta: float = 0.2
    sided: int = Field(default=2, ge=1, le=2)
    p_control_pos: float | None = None
    p_control_neg: float | None = None
    p_treatment_pos: float | None = None
    p_treatment_neg: float | None = None
    effect_pos: float | None = None
    effect_neg: float | None = None
    sd: float | None = None


class SimulateForm(BaseModel):
    example: str | None = None
    n_sim: int = Field(default=2_000, ge=1, le=MAX_N_SIM)
    seed: int = Field(default=1, ge=0, le=2**32 - 1)
    engine: Literal["summary", "patient"] = "summary"
    output: Literal["page", "report", "json"] = "page"


def _tool_error(error: ValueError) -> ToolInputError:
    if isinstance(error, ToolInputError):
        return error
    if isinstance(error, TrialInputError):
        return ToolInputError(FIELD_OF.get(error.field, error.field), str(error))
    return ToolInputError("form", str(error))


def _page(
    request: Request, template: str, context: dict[str, Any], error: ValueError | None = None
) -> HTMLResponse:
    if error is None:
        return render_tool(request, template, context)
    problem = _tool_error(error)
    return render_tool(
        request,
        template,
        {**context, "problem": str(problem), "problem_field": problem.field},
        problem.status_code,
    )


@router.get("", response_class=HTMLResponse)
def index(request: Request) -> HTMLResponse:
    return render_tool(request, "tools/trials_index.html", {})


@router.get("/gsd", response_model=None)
def gsd(request: Request) -> Response:
    values = dict(request.query_params)
    context: dict[str, Any] = {"values": values, "boundaries": BOUNDARIES, "max_looks": MAX_LOOKS}
    if "run" not in values:
        return _page(request, "tools/trials_gsd.html", context)
    try:
        form = validate_form(GsdForm, form_fields(values))
        design = design_gsd(
            form.looks, form.boundary, form.alpha, form.beta, form.sided,
            split_numbers("timing", form.timing), futility=form.futility, gamma=form.gamma,
            rho=form.rho, delta_wt=form.delta_wt, hp_interim=form.hp_interim,
            beta_spending=form.beta_spending, beta_gamma=form.beta_gamma, beta_rho=form.beta_rho,
            efficacy_looks=_flags("efficacy_looks", form.efficacy_looks),
            futility_looks=_flags("futility_looks", form.futility_looks),
        )  # fmt: skip
    except ValueError as error:
        return _page(request, "tools/trials_gsd.html", context, error)
    if form.output == "report":
        return html_download(design.to_html(), "gsd-report.html")
    if form.output == "json":
        return json_download(design.to_dict(), "gsd-design.json")
    context["result"] = trials_views.gsd_page(design)
    return _page(request, "tools/trials_gsd.html", context)


def _flags(field: str, text: str | None) -> list[bool] | None:
    """'0, 1, 1' -> [False, True, True]: per-look flags (1/0, yes/no, true/false)."""
    if text is None:
        return None
    mapping = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}
    parts = [part.strip().lower() for part in text.split(",") if part.strip()]
    if not parts or any(part not in mapping for part in parts):
        raise ToolInputError(
            field, f"expected comma-separated 1/0 flags, one per look, got {text!r}"
        )
    return [mapping[part] for part in parts]


@router.get("/simon", response_model=None)
def simon(request: Request) -> Response:
    values = dict(request.query_params)
    context: dict[str, Any] = {"values": values}
    if "run" not in values:
        return _page(request, "tools/trials_simon.html", context)
    try:
        form = validate_form(SimonForm, form_fields(values))
        result = simon_two_stage(form.p0, form.p1, form.alpha, form.beta, form.n_max)
    except ValueError as error:
        return _page(request, "tools/trials_simon.html", context, error)
    if form.output == "json":
        return json_download(result.to_dict(), "simon-designs.json")
    context["result"] = trials_views.simon_page(result)
    return _page(request, "tools/trials_simon.html", context)


@router.get("/sample-size", response_model=None)
def sample_size(request: Request) -> Response:
    values = dict(request.query_params)
    context: dict[str, Any] = {"values": values}
    if "run" not in values:
        return _page(request, "tools/trials_sample_size.html", context)
    try:
        form = validate_form(SampleSizeForm, form_fields(values))
        size = form.events if form.endpoint == "survival" else form.n_control
        if size is not None:
            inverse = fixed.power_and_effect(
                form.endpoint, size, form.alpha, form.beta, form.sided, form.allocation_ratio,
                p_control=form.p_control, p_treatment=form.p_treatment,
                variance=form.variance, continuity_correction=form.continuity_correction,
                sd=form.sd, delta=form.delta, continuous_method=form.continuous_method,
                hazard_ratio=form.hazard_ratio, survival_method=form.survival_method,
            )  # fmt: skip
            context["result"] = trials_views.power_and_effect_page(inverse)
            return _page(request, "tools/trials_sample_size.html", context)
        design = _fixed_design(form)
    except ValueError as error:
        return _page(request, "tools/trials_sample_size.html", context, error)
    if form.output == "json":
        return json_download(design.to_dict(), "sample-size.json")
    context["result"] = trials_views.fixed_page(design)
    return _page(request, "tools/trials_sample_size.html", context)


def _fixed_design(form: SampleSizeForm) -> fixed.FixedDesign:
    return fixed.sample_size(
        form.endpoint, form.alpha, form.beta, form.sided, form.allocation_ratio,
        p_control=form.p_control, p_treatment=form.p_treatment, variance=form.variance,
        continuity_correction=form.continuity_correction, delta=form.delta, sd=form.sd,
        continuous_method=form.continuous_method, hazard_ratio=form.hazard_ratio,
        survival_method=form.survival_method, median_control=form.median_control,
        accrual=form.accrual, follow_up=form.follow_up, dropout_hazard=form.dropout_hazard,
    )  # fmt: skip


@router.get("/biomarker", response_class=HTMLResponse)
def biomarker_designs(request: Request) -> HTMLResponse:
    values = dict(request.query_params)
    context: dict[str, Any] = {"values": values}
    if "run" not in values:
        return _page(request, "tools/trials_biomarker.html", context)
    try:
        form = validate_form(BiomarkerForm, form_fields(values))
        outcomes = biomarker.cell_outcomes(
            form.endpoint, effect_pos=form.effect_pos, effect_neg=form.effect_neg, sd=form.sd,
            p_control_pos=form.p_control_pos, p_control_neg=form.p_control_neg,
            p_treatment_pos=form.p_treatment_pos, p_treatment_neg=form.p_treatment_neg,
        )  # fmt: skip
        assay = biomarker.Assay(form.prevalence, form.sensitivity, form.specificity)
        page = trials_views.biomarker_page(outcomes, assay, form.alpha, form.beta, form.sided)
    except ValueError as error:
        return _page(request, "tools/trials_biomarker.html", context, error)
    context["result"] = page
    return _page(request, "tools/trials_biomarker.html", context)


def _simulate_context(values: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "values": values if values is not None else {"example": DEFAULT_SIMULATION},
        "examples": example_names(),
        "max_n_sim": MAX_N_SIM,
        "max_n_sim_bayesian": MAX_N_SIM_BAYESIAN,
    }


@router.get("/examples/{name}.yaml")
def example_document(name: str) -> Response:
    """A shipped example design, to download, edit and upload again."""
    if name not in example_names():
        raise HTTPException(404, f"No example design {name!r}; examples: {example_names()}")
    return Response(
        example_path(name).read_bytes(),
        media_type="application/yaml",
        headers={"Content-Disposition": f'attachment; filename="{name}.yaml"'},
    )


@router.get("/simulate", response_class=HTMLResponse)
def simulate_form(request: Request) -> HTMLResponse:
    return _page(request, "tools/trials_simulate.html", _simulate_context())


@router.post("/simulate", dependencies=Checked, response_model=None)
async def simulate(request: Request) -> Response:
    form = await request.form()
    fields = form_fields(form)
    context = _simulate_context(fields)
    try:
        options = validate_form(SimulateForm, fields)
        spec = await upload_or_example(
            form,
            "design_file",
            options.example,
            trials_views.design_from_text,
            trials_views.design_from_example,
            "design",
        )
        if trials_views.is_bayesian_basket(spec) and options.n_sim > MAX_N_SIM_BAYESIAN:
            raise ToolInputError(
                "n_sim",
                f"{options.n_sim} is too many for a Bayesian hierarchical basket design on the "
                f"web: at most {MAX_N_SIM_BAYESIAN:,} (use permedhub trials simulate for more)",
            )
        report = await run_in_threadpool(
            simulate_design, spec, options.n_sim, options.seed, engine=options.engine
        )
    except ValueError as error:
        return _page(request, "tools/trials_simulate.html", context, error)
    if options.output == "report":
        return html_download(render_html(report), "trial-simulation-report.html")
    if options.output == "json":
        return json_download(report.to_dict(), "trial-simulation.json")
    context["result"] = trials_views.simulation_page(report)
    return _page(request, "tools/trials_simulate.html", context)


@router.get("/checklist", response_class=HTMLResponse)
def checklist_form(request: Request) -> HTMLResponse:
    return _page(
        request, "tools/trials_checklist.html", {"document": trials_views.EXAMPLE_PROTOCOL}
    )


@router.post("/checklist", dependencies=Checked, response_class=HTMLResponse)
async def checklist_run(request: Request) -> HTMLResponse:
    form = await request.form()
    typed = form.get("document")
    context: dict[str, Any] = {"document": typed if isinstance(typed, str) else ""}
    try:
        uploaded = await read_upload(form, "protocol_file", required=False)
        if uploaded is not None:
            context["document"] = uploaded
        text = uploaded if uploaded is not None else context["document"]
        if not text.strip():
            raise ToolInputError("document", "write a protocol document or upload one")
        field = "protocol_file" if uploaded is not None else "document"
        page = trials_views.checklist_page(text, field)
    except ValueError as error:
        return _page(request, "tools/trials_checklist.html", context, error)
    return _page(request, "tools/trials_checklist.html", {**context, "result": page})
