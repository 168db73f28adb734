"""Health-economics pages (/tools/hecon): run a model document (with an optional tornado),
analyse a PSA sample (EVPI, EVPPI, EVSI), rank strategies from a `strategy,cost,effect` table,
budget impact and payment strategies. Thin shells over `permedhub.hecon`."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from permedhub.hecon import dsa
from permedhub.hecon.errors import HeconError
from permedhub.hecon.report import render_report
from permedhub.hecon.run import ExampleTable, example_tables, to_json
from permedhub.web.auth import check_csrf
from permedhub.web.pages.rendering import csv_response
from permedhub.web.tools import hecon_budget, hecon_payment, hecon_views
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

MAX_PSA_DRAWS = 5_000
# The worked example every model-reading page opens on (a Markov cohort, so that payment
# schemes and tornado diagrams apply), and the shipped tables made from it.
DEFAULT_EXAMPLE = "personalised_medicine"
DEFAULT_SAMPLE = "personalised_medicine"
router = APIRouter(prefix="/tools/hecon", include_in_schema=False)
Checked = [Depends(check_csrf)]


class ModelForm(BaseModel):
    """Options of a model run (the model comes from `example` or the uploaded `model_file`)."""

    example: str | None = None
    psa_draws: int = Field(default=0, ge=0, le=MAX_PSA_DRAWS)
    seed: int = Field(default=1, ge=0, le=2**32 - 1)
    wtp: float = Field(default=20_000, ge=0, allow_inf_nan=False)
    wtp_max: float = Field(default=100_000, gt=0, le=1e9, allow_inf_nan=False)
    output: Literal["page", "report", "json", "psa_csv"] = "page"
    ranges: str = ""
    intervention: str | None = None
    comparator: str | None = None


class PsaForm(BaseModel):
    sample: str | None = None
    wtp: float = Field(default=20_000, ge=0, allow_inf_nan=False)
    wtp_max: float = Field(default=100_000, gt=0, le=1e9, allow_inf_nan=False)
    parameters: str = ""
    method: Literal["gam", "gp"] = "gam"
    seed: int = Field(default=0, ge=0, le=2**32 - 1)
    evsi_study: Literal["none", "binary", "trial_binary", "normal_known"] = "none"
    evsi_parameters: str = ""
    evsi_sizes: str = "10, 50, 100, 500"
    evsi_sd: float = Field(default=1.0, gt=0, allow_inf_nan=False)


MAX_PARAMETER_SETS = 10


def _parameter_sets(text: str) -> list[list[str]]:
    """'a,b; c' -> [['a', 'b'], ['c']] (sets separated by ';', names by ',')."""
    sets = [
        [name.strip() for name in group.split(",") if name.strip()]
        for group in text.split(";")
        if group.strip()
    ]
    if len(sets) > MAX_PARAMETER_SETS:
        raise ToolInputError(
            "parameters", f"{len(sets)} parameter sets; at most {MAX_PARAMETER_SETS} per request"
        )
    return sets


MAX_EVSI_SIZES = 20


def _sample_sizes(text: str) -> list[int]:
    """'10, 50, 100' -> [10, 50, 100]: whole numbers >= 1, at most MAX_EVSI_SIZES of them."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts or len(parts) > MAX_EVSI_SIZES or not all(p.isdigit() and int(p) >= 1
                                                              for p in parts):  # fmt: skip
        raise ToolInputError(
            "evsi_sizes",
            f"expected 1 to {MAX_EVSI_SIZES} whole numbers >= 1 separated by commas, got {text!r}",
        )
    return [int(part) for part in parts]


def _problem(
    request: Request, template: str, error: ValueError, context: dict[str, Any]
) -> HTMLResponse:
    status = error.status_code if isinstance(error, ToolInputError) else 422
    field = error.field if isinstance(error, ToolInputError) else None
    return render_tool(
        request, template, {**context, "problem": str(error), "problem_field": field}, status
    )


@router.get("", response_class=HTMLResponse)
def index(request: Request) -> HTMLResponse:
    return render_tool(request, "tools/hecon_index.html", {})


def _model_context(values: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "examples": sorted(hecon_views.example_models()),
        "values": values if values is not None else {"example": DEFAULT_EXAMPLE},
        "max_draws": MAX_PSA_DRAWS,
    }


def _table_context(kind: ExampleTable, values: dict[str, str]) -> dict[str, Any]:
    """A CSV-reading page's form: its values and the shipped tables it offers."""
    return {"values": values, "samples": sorted(example_tables(kind)), "sample_kind": kind}


async def _chosen_table(form: Any, field: str, kind: ExampleTable, sample: str | None) -> Any:
    """The uploaded CSV in `field` (it wins) or the chosen shipped table of `kind`."""
    return await upload_or_example(
        form,
        field,
        sample,
        lambda text, _filename: hecon_views.read_csv_text(field, text),
        lambda name: hecon_views.example_table(kind, name, field),
        "CSV file",
    )


async def _chosen_model(form: Any, example: str | None) -> hecon_views.AnyModel:
    """The uploaded model document (it wins) or the chosen shipped example."""
    return await upload_or_example(
        form,
        "model_file",
        example,
        hecon_views.parse_model_text,
        hecon_views.load_example,
        "model",
    )


@router.get("/model", response_class=HTMLResponse)
def model_form(request: Request) -> HTMLResponse:
    return render_tool(request, "tools/hecon_model.html", _model_context())


@router.post("/model", dependencies=Checked, response_model=None)
async def model_run(request: Request) -> Response:
    form = await request.form()
    fields = form_fields(form)
    context = _model_context(fields)
    try:
        options = validate_form(ModelForm, fields)
        spec = await _chosen_model(form, options.example)
        run = await run_in_threadpool(
            hecon_views.model_run, spec, options.psa_draws, options.seed, options.wtp_max
        )
        if options.output == "report":
            return html_download(render_report(run), "hecon-report.html")
        if options.output == "json":
            return json_download(to_json(run), "hecon-results.json")
        if options.output == "psa_csv":
            return csv_response(hecon_views.psa_sample_frame(run), "hecon-psa-sample.csv")
        page = hecon_views.model_page(run, options.wtp)
        try:
            ranges = dsa.parse_ranges(options.ranges)
        except HeconError as error:
            raise ToolInputError("ranges", str(error)) from None
        if ranges:
            await run_in_threadpool(
                hecon_views.add_tornado, page, run, ranges, options.intervention,
                options.comparator, options.wtp,
            )  # fmt: skip
    except ValueError as error:
        return _problem(request, "tools/hecon_model.html", error, context)
    return render_tool(request, "tools/hecon_model.html", {**context, "result": page})


@router.get("/examples/{name}.yaml")
def example_document(name: str) -> Response:
    """A shipped example model, to download, edit and upload again."""
    examples = hecon_views.example_models()
    if name not in examples:
        raise HTTPException(404, f"No example model {name!r}; examples: {sorted(examples)}")
    return Response(
        examples[name].read_bytes(),
        media_type="application/yaml",
        headers={"Content-Disposition": f'attachment; filename="{name}.yaml"'},
    )


@router.get("/examples/{kind}/{name}.csv")
def example_table_file(kind: ExampleTable, name: str) -> Response:
    """A shipped CSV table, to see the format the page reads and to start from."""
    tables = example_tables(kind)
    if name not in tables:
        raise HTTPException(404, f"No {kind} table {name!r}; tables: {sorted(tables)}")
    return Response(
        tables[name].read_bytes(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{kind}-{name}.csv"'},
    )


# The PSA page as first shown: the shipped sample, with the EVPPI of the marker-positive
# response rate and of the test's accuracy (the prevalence, sensitivity and specificity together).
PSA_EXAMPLE_VALUES = {
    "sample": DEFAULT_SAMPLE,
    "parameters": "resp_targeted_pos; prevalence, sensitivity, specificity",
}


@router.get("/psa", response_class=HTMLResponse)
def psa_form(request: Request) -> HTMLResponse:
    return render_tool(request, "tools/hecon_psa.html", _table_context("psa", PSA_EXAMPLE_VALUES))


@router.post("/psa", dependencies=Checked, response_class=HTMLResponse)
async def psa_run(request: Request) -> HTMLResponse:
    form = await request.form()
    fields = form_fields(form)
    context = _table_context("psa", fields)
    try:
        options = validate_form(PsaForm, fields)
        frame = await _chosen_table(form, "psa_file", "psa", options.sample)
        page = await run_in_threadpool(
            hecon_views.psa_page,
            frame, "psa_file", options.wtp, options.wtp_max,
            _parameter_sets(options.parameters), options.method, options.seed,
        )  # fmt: skip
        if options.evsi_study != "none":
            await run_in_threadpool(
                hecon_views.add_evsi, page, frame, "psa_file", options.evsi_study,
                [p.strip() for p in options.evsi_parameters.split(",") if p.strip()],
                _sample_sizes(options.evsi_sizes), options.evsi_sd, options.wtp, options.seed,
            )  # fmt: skip
    except ValueError as error:
        return _problem(request, "tools/hecon_psa.html", error, context)
    return render_tool(request, "tools/hecon_psa.html", {**context, "result": page})


class IcersForm(BaseModel):
    sample: str | None = None


@router.get("/icers", response_class=HTMLResponse)
def icers_form(request: Request) -> HTMLResponse:
    context = _table_context("icers", {"sample": DEFAULT_SAMPLE})
    return render_tool(request, "tools/hecon_icers.html", context)


@router.post("/icers", dependencies=Checked, response_class=HTMLResponse)
async def icers_run(request: Request) -> HTMLResponse:
    form = await request.form()
    fields = form_fields(form)
    context = _table_context("icers", fields)
    try:
        options = validate_form(IcersForm, fields)
        frame = await _chosen_table(form, "icers_file", "icers", options.sample)
        page = hecon_views.icers_page(frame, "icers_file")
    except ValueError as error:
        return _problem(request, "tools/hecon_icers.html", error, context)
    return render_tool(request, "tools/hecon_icers.html", {**context, "result": page})


@router.get("/budget", response_class=HTMLResponse)
def budget_form(request: Request) -> HTMLResponse:
    return render_tool(
        request, "tools/hecon_budget.html", {"document": hecon_budget.EXAMPLE_DOCUMENT}
    )


@router.post("/budget", dependencies=Checked, response_class=HTMLResponse)
async def budget_run(request: Request) -> HTMLResponse:
    form = await request.form()
    document_text = form.get("document")
    text = document_text if isinstance(document_text, str) else ""
    context: dict[str, Any] = {"document": text}
    try:
        uploaded = await read_upload(form, "budget_file", required=False)
        field = "budget_file" if uploaded is not None else "document"
        if uploaded is not None:
            context["document"] = uploaded
        source = uploaded if uploaded is not None else text
        if not source.strip():
            raise ToolInputError("document", "write a budget document or upload one")
        page = hecon_budget.budget_page(hecon_budget.parse_document(source, field))
    except ValueError as error:
        return _problem(request, "tools/hecon_budget.html", error, context)
    return render_tool(request, "tools/hecon_budget.html", {**context, "result": page})


def _payment_context(
    values: dict[str, str] | None = None, shown_first: dict[str, str] = hecon_payment.EXAMPLE_VALUES
) -> dict[str, Any]:
    """A payment page's form: its values, or `shown_first` before anything was submitted."""
    return {
        "examples": sorted(hecon_views.example_models()),
        "values": values if values is not None else shown_first,
        "max_draws": hecon_payment.MAX_DRAWS,
    }


@router.get("/payment", response_class=HTMLResponse)
def payment_form(request: Request) -> HTMLResponse:
    return render_tool(request, "tools/hecon_payment.html", _payment_context())


@router.post("/payment", dependencies=Checked, response_class=HTMLResponse)
async def payment_run(request: Request) -> HTMLResponse:
    form = await request.form()
    fields = form_fields(form)
    context = _payment_context(fields)
    try:
        options = validate_form(hecon_payment.PaymentForm, fields)
        spec = await _chosen_model(form, options.example)
        markov = hecon_views.markov_cohort_only(spec, "model_file", "payment schemes")
        page = await run_in_threadpool(hecon_payment.payment_page, markov, options)
    except ValueError as error:
        return _problem(request, "tools/hecon_payment.html", error, context)
    return render_tool(request, "tools/hecon_payment.html", {**context, "result": page})


MAX_YEARS = 50


class PopulationPaymentForm(BaseModel):
    """A population-level scheme on yearly spend: price-volume tiers or a budget cap."""

    scheme: Literal["price_volume", "budget_cap"] = "price_volume"
    new_patients: str
    discount_rate: float = Field(default=0.035, ge=0, lt=1, allow_inf_nan=False)
    tiers: str = ""
    example: str | None = None
    strategy: str = ""
    category: str = ""
    cap: str = ""
    psa_draws: int = Field(default=0, ge=0, le=hecon_payment.MAX_DRAWS)
    seed: int = Field(default=1, ge=0, le=2**32 - 1)


# The form as first shown: 100 patients a year for 5 years in the shipped personalised-medicine
# example; a discount on units beyond 120 a year; a yearly cap on the targeted drug's spend.
POPULATION_EXAMPLE_VALUES = {
    "scheme": "price_volume",
    "new_patients": "80, 100, 120, 140, 160",
    "discount_rate": "0.035",
    "tiers": "0:30000, 120:24000",
    "example": "personalised_medicine",
    "strategy": "test_and_treat",
    "category": "drug",
    "cap": "1500000",
    "psa_draws": "300",
    "seed": "1",
}


def _yearly_numbers(field: str, text: str, minimum: float) -> list[float]:
    numbers = split_numbers(field, text)
    if not numbers or len(numbers) > MAX_YEARS or min(numbers) < minimum:
        raise ToolInputError(
            field, f"expected 1 to {MAX_YEARS} numbers >= {minimum:g} (one per year), got {text!r}"
        )
    return numbers


@router.get("/payment/population", response_class=HTMLResponse)
def population_payment_form(request: Request) -> HTMLResponse:
    return render_tool(
        request,
        "tools/hecon_payment_population.html",
        _payment_context(shown_first=POPULATION_EXAMPLE_VALUES),
    )


@router.post("/payment/population", dependencies=Checked, response_class=HTMLResponse)
async def population_payment_run(request: Request) -> HTMLResponse:
    form = await request.form()
    fields = form_fields(form)
    context = _payment_context(fields)
    template = "tools/hecon_payment_population.html"
    try:
        options = validate_form(PopulationPaymentForm, fields)
        new_patients = _yearly_numbers("new_patients", options.new_patients, 0)
        if options.scheme == "price_volume":
            page = hecon_views.price_volume_page(
                new_patients, hecon_views.parse_tiers(options.tiers), options.discount_rate
            )
        else:
            cap = _yearly_numbers("cap", options.cap, 0)
            spec = await _chosen_model(form, options.example)
            markov = hecon_views.markov_cohort_only(spec, "model_file", "budget caps")
            page = await run_in_threadpool(
                hecon_views.budget_cap_page, markov, options.strategy, options.category,
                new_patients, cap, options.discount_rate, options.psa_draws, options.seed,
            )  # fmt: skip
    except ValueError as error:
        return _problem(request, template, error, context)
    return render_tool(request, template, {**context, "result": page})


class EvidenceForm(BaseModel):
    """Coverage with evidence development: the proposed study and the population it serves."""

    sample: str | None = None
    ced_parameters: str
    prior_sample_size: float = Field(gt=0, allow_inf_nan=False)
    sample_size: int = Field(ge=1, le=10_000_000)
    wtp: float = Field(default=20_000, ge=0, allow_inf_nan=False)
    annual_population: float = Field(ge=0, allow_inf_nan=False)
    horizon_years: int = Field(default=10, ge=1, le=MAX_YEARS)
    discount_rate: float = Field(default=0.035, ge=0, lt=1, allow_inf_nan=False)
    study_cost: float = Field(ge=0, allow_inf_nan=False)


EVIDENCE_EXAMPLE_VALUES = {
    "sample": DEFAULT_SAMPLE,
    "ced_parameters": "resp_targeted_pos",
    "prior_sample_size": "50",
    "sample_size": "200",
    "wtp": "20000",
    "annual_population": "1000",
    "horizon_years": "10",
    "discount_rate": "0.035",
    "study_cost": "500000",
}


@router.get("/payment/evidence", response_class=HTMLResponse)
def evidence_form(request: Request) -> HTMLResponse:
    return render_tool(
        request, "tools/hecon_payment_evidence.html", _table_context("psa", EVIDENCE_EXAMPLE_VALUES)
    )


@router.post("/payment/evidence", dependencies=Checked, response_class=HTMLResponse)
async def evidence_run(request: Request) -> HTMLResponse:
    form = await request.form()
    fields = form_fields(form)
    context = _table_context("psa", fields)
    template = "tools/hecon_payment_evidence.html"
    try:
        options = validate_form(EvidenceForm, fields)
        frame = await _chosen_table(form, "psa_file", "psa", options.sample)
        page = await run_in_threadpool(
            hecon_views.ced_page, frame, "psa_file",
            [p.strip() for p in options.ced_parameters.split(",") if p.strip()],
            options.prior_sample_size, options.sample_size, options.wtp,
            options.annual_population, options.horizon_years, options.discount_rate,
            options.study_cost,
        )  # fmt: skip
    except ValueError as error:
        return _problem(request, template, error, context)
    return render_tool(request, template, {**context, "result": page})
