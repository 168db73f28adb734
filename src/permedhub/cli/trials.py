"""`permedhub trials ...`: a thin shell over `permedhub.trials`.

Each command parses options, calls one library function and renders its result (a Rich table,
or JSON with ``--json``). Bad input is reported on stderr naming the option, exit code 2.
The library modules are imported inside the commands: `permedhub --help` must not pay for
NumPy and SciPy.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from permedhub.cli.errors import fail
from permedhub.trials.errors import MissingInput, TrialInputError, require

if TYPE_CHECKING:
    from permedhub.trials import simon

app = typer.Typer(
    help="Trial design: group-sequential, Simon, sample size, PERMIT.", no_args_is_help=True
)
_out = Console()
_err = Console(stderr=True, soft_wrap=True)
T = TypeVar("T")

# Library field name -> CLI option, so errors name what the user typed.
_OPTION_NAMES = {
    "looks": "--looks",
    "boundary": "--boundary",
    "alpha": "--alpha",
    "beta": "--beta",
    "sided": "--sided",
    "information_rates": "--timing",
    "futility": "--futility",
    "gamma": "--gamma",
    "rho": "--rho",
    "delta_wt": "--delta-wt",
    "hp_interim": "--hp-interim",
    "beta_spending": "--beta-spending",
    "efficacy_looks": "--efficacy-looks",
    "futility_looks": "--futility-looks",
    "p0": "--p0",
    "p1": "--p1",
    "n_max": "--n-max",
    "p_control": "--p-control",
    "p_treatment": "--p-treatment",
    "allocation_ratio": "--allocation-ratio",
    "delta": "--delta",
    "sd": "--sd",
    "hazard_ratio": "--hazard-ratio",
    "events": "--events",
    "n_control": "--n-control",
    "accrual_duration": "--accrual",
    "accrual": "--accrual",
    "median_control": "--median-control",
    "follow_up": "--follow-up",
    "hazard rate": "--hazard-rates",
    "cuts": "--hazard-cuts",
    "rates/cuts": "--hazard-rates/--hazard-cuts",
    "median": "--median-control",
    "prevalence": "--prevalence",
    "sensitivity": "--sensitivity",
    "specificity": "--specificity",
    "effect_pos": "--effect-pos",
    "effect_neg": "--effect-neg",
    "p_control_pos": "--control-pos",
    "p_control_neg": "--control-neg",
    "p_treatment_pos": "--treatment-pos",
    "p_treatment_neg": "--treatment-neg",
    "response_rates": "--rates",
    "n": "--n",
    "lambda": "--lambda",
    "epsilon": "--epsilon",
    "tau": "--tau",
    "criterion": "--criterion",
}


def _run(call: Callable[[], T]) -> T:
    """Call the library; turn a TrialInputError into an error naming the CLI option."""
    try:
        return call()
    except MissingInput as error:
        raise fail(f"{_option_of(error.field)} is required for {error.needed_for}") from None
    except TrialInputError as error:
        raise fail(
            f"{_option_of(error.field)} = {error.value!r} is invalid: expected {error.expected}"
        ) from None


def _option_of(field: str) -> str:
    """The CLI option for a library field; an item of a list option reads "--rates item 2"."""
    name, bracket, rest = field.partition("[")
    index = rest.removesuffix("]")
    if bracket and index.isdigit() and name in _OPTION_NAMES:
        return f"{_OPTION_NAMES[name]} item {int(index) + 1}"
    return _OPTION_NAMES.get(field, field)


def _emit_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, indent=2, allow_nan=False) + "\n")


def _floats(option: str, text: str | None) -> list[float] | None:
    if text is None:
        return None
    try:
        return [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise fail(f"{option} = {text!r} is invalid: expected comma-separated numbers") from None


def _flags(option: str, text: str | None) -> list[bool] | None:
    if text is None:
        return None
    mapping = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}
    parts = [part.strip().lower() for part in text.split(",") if part.strip()]
    if not parts or any(part not in mapping for part in parts):
        raise fail(f"{option} = {text!r} is invalid: expected comma-separated 1/0 flags")
    return [mapping[part] for part in parts]


def _fmt(value: float | None, digits: int = 4) -> str:
    if value is None:
        return "-"
    if value == float("inf"):
        return "∞"
    if value == float("-inf"):
        return "-∞"
    return f"{value:.{digits}f}"


class Boundary(StrEnum):
    pocock = "pocock"
    obf = "obf"
    wt = "wt"
    hp = "hp"
    ld_obf = "ld-obf"
    ld_pocock = "ld-pocock"
    hsd = "hsd"
    power = "power"


class Futility(StrEnum):
    none = "none"
    binding = "binding"
    nonbinding = "nonbinding"


class SimonChoice(StrEnum):
    optimal = "optimal"
    minimax = "minimax"
    admissible = "admissible"


class Endpoint(StrEnum):
    binary = "binary"
    continuous = "continuous"
    survival = "survival"


# The design options `gsd` and `gsd-size` share (Typer reads each default as the option).
_LOOKS = typer.Option(..., "--looks", help="Number of analyses K.")
_BOUNDARY = typer.Option(..., "--boundary", help="Boundary family.")
_GSD_ALPHA = typer.Option(0.025, "--alpha", help="Type I error (two-sided if --sided 2).")
_GSD_BETA = typer.Option(0.2, "--beta", help="Type II error.")
_GSD_SIDED = typer.Option(1, "--sided", help="1 or 2.")
_FUTILITY = typer.Option(Futility.none, "--futility")
_GAMMA = typer.Option(None, "--gamma", help="Hwang–Shih–DeCani gamma.")
_RHO = typer.Option(None, "--rho", help="Power-family exponent rho.")
_DELTA_WT = typer.Option(None, "--delta-wt", help="Wang–Tsiatis Delta.")
_HP_INTERIM = typer.Option(3.0, "--hp-interim", help="Haybittle–Peto interim bound.")
_TIMING = typer.Option(None, "--timing", help="Information fractions, e.g. 0.3,0.6,1")


@app.command("gsd")
def gsd_command(
    looks: int = _LOOKS,
    boundary: Boundary = _BOUNDARY,
    alpha: float = _GSD_ALPHA,
    beta: float = _GSD_BETA,
    sided: int = _GSD_SIDED,
    timing: str | None = _TIMING,
    futility: Futility = _FUTILITY,
    gamma: float | None = _GAMMA,
    rho: float | None = _RHO,
    delta_wt: float | None = _DELTA_WT,
    hp_interim: float = _HP_INTERIM,
    beta_spending: str | None = typer.Option(
        None, "--beta-spending", help="ld-obf|ld-pocock|hsd|power (default: as alpha)."
    ),
    beta_gamma: float | None = typer.Option(None, "--beta-gamma"),
    beta_rho: float | None = typer.Option(None, "--beta-rho"),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable JSON on stdout."),
    efficacy_looks: str | None = typer.Option(
        None, "--efficacy-looks", help="Per-look efficacy flags, e.g. 0,1,1 (final must be 1)."
    ),
    futility_looks: str | None = typer.Option(
        None, "--futility-looks", help="Per-look futility flags, e.g. 1,1,1."
    ),
    out: Path | None = typer.Option(None, "--out", help="Write a self-contained HTML report."),
) -> None:
    """Group-sequential design: critical values, nominal p-values, alpha spent, inflation."""
    from permedhub.trials import gsd

    rates = _floats("--timing", timing)
    efficacy_flags = _flags("--efficacy-looks", efficacy_looks)
    futility_flags = _flags("--futility-looks", futility_looks)
    design = _run(
        lambda: gsd.design_gsd(
            looks, boundary.value, alpha, beta, sided, rates, futility=futility.value,
            gamma=gamma, rho=rho, delta_wt=delta_wt, hp_interim=hp_interim,
            beta_spending=beta_spending, beta_gamma=beta_gamma, beta_rho=beta_rho,
            efficacy_looks=efficacy_flags, futility_looks=futility_flags,
        )
    )  # fmt: skip
    if out is not None:
        try:
            out.write_text(design.to_html(), encoding="utf-8")
        except OSError as error:
            raise fail(
                f"--out = {str(out)!r} is invalid: expected a writable path ({error})"
            ) from None
    if as_json:
        _emit_json(design.to_dict())
        return
    table = Table(title=f"{boundary.value} design, K={looks}, alpha={alpha:g} ({sided}-sided)")
    for column in (
        "look",
        "t",
        "efficacy z",
        "nominal p",
        "futility z",
        "cum. alpha",
        "P(stop|H1)",
    ):
        table.add_column(column, justify="right")
    stop_h1 = design.prob_efficacy_h1 + design.prob_futility_h1
    for k in range(design.looks):
        table.add_row(
            str(k + 1),
            _fmt(design.information_rates[k], 3),
            _fmt(design.efficacy_bounds[k]),
            _fmt(design.nominal_p_efficacy[k], 5),
            _fmt(design.futility_bounds[k]),
            _fmt(design.cumulative_alpha_spent[k], 5),
            _fmt(stop_h1[k]),
        )
    _out.print(table)
    _out.print(
        f"inflation factor {design.inflation_factor:.4f}; expected sample size / fixed: "
        f"H0 {design.expected_sample_size_h0:.4f}, H1 {design.expected_sample_size_h1:.4f}; "
        f"power {design.power:.4f}"
    )


@app.command("simon")
def simon_command(
    p0: float = typer.Option(..., "--p0", help="Uninteresting response rate."),
    p1: float = typer.Option(..., "--p1", help="Target response rate."),
    alpha: float = typer.Option(0.05, "--alpha"),
    beta: float = typer.Option(0.2, "--beta"),
    design: SimonChoice | None = typer.Option(None, "--design", help="Show only this design."),
    n_max: int | None = typer.Option(None, "--n-max", help="Largest total n searched."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Simon two-stage designs (optimal, minimax, admissible) by exact enumeration."""
    from permedhub.trials import simon

    result = _run(lambda: simon.simon_two_stage(p0, p1, alpha, beta, n_max))
    rows: list[tuple[str, simon.SimonDesign]] = []
    if design in (None, SimonChoice.optimal):
        rows.append(("optimal", result.optimal))
    if design in (None, SimonChoice.minimax):
        rows.append(("minimax", result.minimax))
    if design in (None, SimonChoice.admissible):
        rows.extend(("admissible", d) for d in result.admissible)
    if as_json:
        payload = result.to_dict()
        if design is not None:
            payload = {k: v for k, v in payload.items() if k in ("p0", "p1", "alpha", "beta")}
            chosen = result.design(design.value)
            payload[design.value] = (
                [d.to_dict() for d in chosen] if isinstance(chosen, tuple) else chosen.to_dict()
            )
        _emit_json(payload)
        return
    table = Table(
        title=f"Simon two-stage designs: p0={p0:g}, p1={p1:g}, alpha={alpha:g}, beta={beta:g}"
    )
    for column in ("design", "r1/n1", "r/n", "EN(p0)", "PET(p0)", "alpha", "power", "q range"):
        table.add_column(column, justify="right")
    for name, d in rows:
        q = "-" if d.q_low is None else f"[{d.q_low:.3f}, {d.q_high:.3f}]"
        table.add_row(
            name, f"{d.r1}/{d.n1}", f"{d.r}/{d.n}", f"{d.expected_n0:.2f}", f"{d.pet0:.3f}",
            f"{d.alpha:.4f}", f"{d.power:.4f}", q,
        )  # fmt: skip
    _out.print(table)


@app.command("sample-size")
def sample_size_command(
    endpoint: Endpoint = typer.Option(..., "--endpoint"),
    alpha: float = typer.Option(0.05, "--alpha"),
    beta: float = typer.Option(0.2, "--beta"),
    sided: int = typer.Option(2, "--sided"),
    allocation_ratio: float = typer.Option(1.0, "--allocation-ratio", help="n_treatment/n_control"),
    p_control: float | None = typer.Option(None, "--p-control", help="binary"),
    p_treatment: float | None = typer.Option(None, "--p-treatment", help="binary"),
    variance: str = typer.Option("pooled", "--variance", help="binary: pooled|unpooled"),
    continuity_correction: bool = typer.Option(False, "--continuity-correction", help="binary"),
    delta: float | None = typer.Option(None, "--delta", help="continuous: mean difference"),
    sd: float | None = typer.Option(None, "--sd", help="continuous: outcome SD"),
    method: str | None = typer.Option(
        None, "--method", help="continuous: normal|t (default t); survival: schoenfeld|freedman"
    ),
    hazard_ratio: float | None = typer.Option(None, "--hazard-ratio", help="survival"),
    median_control: float | None = typer.Option(None, "--median-control", help="survival"),
    hazard_rates: str | None = typer.Option(
        None, "--hazard-rates", help="survival, e.g. 0.05,0.03"
    ),
    hazard_cuts: str | None = typer.Option(None, "--hazard-cuts", help="survival, e.g. 0,6"),
    accrual: float | None = typer.Option(None, "--accrual", help="survival: accrual duration"),
    follow_up: float | None = typer.Option(None, "--follow-up", help="survival: follow-up"),
    dropout_hazard: float = typer.Option(0.0, "--dropout-hazard", help="survival: per time unit"),
    n_control: int | None = typer.Option(
        None, "--n-control", help="binary/continuous: given size -> power and detectable effect"
    ),
    events: int | None = typer.Option(
        None, "--events", help="survival: given events -> power and detectable hazard ratio"
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Fixed two-arm sample size (binary, continuous or survival endpoint).

    With --n-control (or --events for survival) it reports the power at that size and the
    detectable effect (the inverse problem) instead.
    """
    from permedhub.trials import fixed

    name = endpoint.value
    survival = endpoint is Endpoint.survival
    if n_control is not None or events is not None:
        size = _run(
            lambda: require(
                "events" if survival else "n_control", events if survival else n_control,
                f"power at a given size ({name} endpoint)",
            )
        )  # fmt: skip
        inverse = _run(
            lambda: fixed.power_and_effect(
                name, size, alpha, beta, sided, allocation_ratio,  # type: ignore[arg-type]
                p_control=p_control, p_treatment=p_treatment,
                variance="unpooled" if variance == "unpooled" else "pooled",
                continuity_correction=continuity_correction, sd=sd, delta=delta,
                continuous_method="normal" if method == "normal" else "t",
                hazard_ratio=hazard_ratio,
                survival_method="freedman" if method == "freedman" else "schoenfeld",
            )
        )  # fmt: skip
        if as_json:
            _emit_json(inverse.to_dict())
            return
        table = Table(title=f"{name} endpoint: power and detectable effect")
        table.add_column("quantity")
        table.add_column("value", justify="right")
        for label, value in inverse.rows():
            table.add_row(label, f"{value:.4f}")
        _out.print(table)
        return
    if variance not in ("pooled", "unpooled"):
        raise fail(f"--variance = {variance!r} is invalid: expected pooled or unpooled")
    allowed = ("schoenfeld", "freedman") if survival else ("normal", "t")
    chosen = method or allowed[0 if survival else 1]
    if endpoint is not Endpoint.binary and chosen not in allowed:
        raise fail(f"--method = {chosen!r} is invalid: expected {' or '.join(allowed)}")
    control_hazard = None
    if hazard_rates is not None:
        rates = _floats("--hazard-rates", hazard_rates) or []
        cuts = _floats("--hazard-cuts", hazard_cuts) or [0.0]
        control_hazard = _run(lambda: fixed.hazard_from_rates(rates, cuts))
    result = _run(
        lambda: fixed.sample_size(
            name, alpha, beta, sided, allocation_ratio,  # type: ignore[arg-type]
            p_control=p_control, p_treatment=p_treatment,
            variance="pooled" if variance == "pooled" else "unpooled",
            continuity_correction=continuity_correction, delta=delta, sd=sd,
            continuous_method="normal" if chosen == "normal" else "t",
            hazard_ratio=hazard_ratio,
            survival_method="freedman" if chosen == "freedman" else "schoenfeld",
            median_control=median_control, control_hazard=control_hazard, accrual=accrual,
            follow_up=follow_up, dropout_hazard=dropout_hazard,
        )
    )  # fmt: skip
    if as_json:
        _emit_json(result.to_dict())
        return
    table = Table(title=f"{name} endpoint: {result.method}")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    if result.n_total is not None:
        table.add_row("control arm", str(result.n_control))
        table.add_row("treatment arm", str(result.n_treatment))
        table.add_row("total", str(result.n_total))
    if result.events is not None:
        table.add_row("events", str(result.events))
    if result.probability_of_event is not None:
        table.add_row("P(event)", f"{result.probability_of_event:.4f}")
    table.add_row("power at these sizes", f"{result.power:.4f}")
    _out.print(table)


@app.command("gsd-size")
def gsd_size_command(
    looks: int = _LOOKS,
    boundary: Boundary = _BOUNDARY,
    endpoint: Endpoint = typer.Option(
        ..., "--endpoint", help="binary/continuous: patients; survival: events."
    ),
    alpha: float = _GSD_ALPHA,
    beta: float = _GSD_BETA,
    sided: int = _GSD_SIDED,
    timing: str | None = _TIMING,
    futility: Futility = _FUTILITY,
    gamma: float | None = _GAMMA,
    rho: float | None = _RHO,
    delta_wt: float | None = _DELTA_WT,
    hp_interim: float = _HP_INTERIM,
    allocation_ratio: float = typer.Option(1.0, "--allocation-ratio", help="n_treatment/n_control"),
    p_control: float | None = typer.Option(None, "--p-control", help="binary"),
    p_treatment: float | None = typer.Option(None, "--p-treatment", help="binary"),
    variance: str = typer.Option("pooled", "--variance", help="binary: pooled|unpooled"),
    delta: float | None = typer.Option(None, "--delta", help="continuous: mean difference"),
    sd: float | None = typer.Option(None, "--sd", help="continuous: outcome SD"),
    hazard_ratio: float | None = typer.Option(None, "--hazard-ratio", help="survival"),
    method: str | None = typer.Option(
        None, "--method", help="survival: schoenfeld|freedman (default schoenfeld)"
    ),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable JSON on stdout."),
) -> None:
    """Group-sequential sample size (patients) or number of events (survival).

    The fixed design of the same alpha, power and sidedness (normal approximation, as the
    inflation factor assumes) is sized per arm and inflated; each look's planned size is its
    information fraction of the maximum.
    """
    from permedhub.trials import fixed, gsd

    name = endpoint.value
    rates = _floats("--timing", timing)
    design = _run(
        lambda: gsd.design_gsd(
            looks, boundary.value, alpha, beta, sided, rates, futility=futility.value,
            gamma=gamma, rho=rho, delta_wt=delta_wt, hp_interim=hp_interim,
        )
    )  # fmt: skip
    if variance not in ("pooled", "unpooled"):
        raise fail(f"--variance = {variance!r} is invalid: expected pooled or unpooled")
    chosen = method or "schoenfeld"
    if endpoint is Endpoint.survival and chosen not in ("schoenfeld", "freedman"):
        raise fail(f"--method = {chosen!r} is invalid: expected schoenfeld or freedman")
    # the normal approximation for a continuous endpoint, as the inflation factor assumes
    base = _run(
        lambda: fixed.sample_size(
            name, alpha, beta, sided, allocation_ratio,  # type: ignore[arg-type]
            p_control=p_control, p_treatment=p_treatment,
            variance="pooled" if variance == "pooled" else "unpooled", delta=delta, sd=sd,
            continuous_method="normal", hazard_ratio=hazard_ratio,
            survival_method="freedman" if chosen == "freedman" else "schoenfeld",
        )
    )  # fmt: skip
    if endpoint is Endpoint.survival:
        size = gsd.group_sequential_size(design, [float(base.inputs["events_exact"])], "events")
    else:
        control = float(base.inputs["n_control_exact"])
        ratio = float(base.inputs["allocation_ratio"])
        size = gsd.group_sequential_size(design, [control, ratio * control])
    if as_json:
        _emit_json({"design": design.to_dict(), "fixed": base.to_dict(), "size": size.to_dict()})
        return
    table = Table(
        title=f"{boundary.value} design, K={looks}: {size.unit} ({name} endpoint, {base.method})"
    )
    for column in ("look", "t", f"cumulative {size.unit}", "efficacy z", "futility z"):
        table.add_column(column, justify="right")
    for k in range(design.looks):
        table.add_row(
            str(k + 1), _fmt(design.information_rates[k], 3), str(size.cumulative[k]),
            _fmt(design.efficacy_bounds[k]), _fmt(design.futility_bounds[k]),
        )  # fmt: skip
    _out.print(table)
    parts = " + ".join(str(n) for n in size.maximum_by_part)
    _out.print(
        f"fixed design {sum(size.fixed):.2f} {size.unit}; inflation factor "
        f"{design.inflation_factor:.4f}; maximum {size.maximum} ({parts}); expected "
        f"{size.expected_h0:.1f} under H0, {size.expected_h1:.1f} under H1"
    )


class BiomarkerEndpoint(StrEnum):
    continuous = "continuous"
    binary = "binary"


@app.command("biomarker")
def biomarker_command(
    endpoint: BiomarkerEndpoint = typer.Option(..., "--endpoint"),
    prevalence: float = typer.Option(..., "--prevalence", help="True marker prevalence."),
    sensitivity: float = typer.Option(1.0, "--sensitivity", help="Assay sensitivity."),
    specificity: float = typer.Option(1.0, "--specificity", help="Assay specificity."),
    effect_pos: float | None = typer.Option(
        None, "--effect-pos", help="continuous: treatment effect in marker+ patients"
    ),
    effect_neg: float | None = typer.Option(
        None, "--effect-neg", help="continuous: treatment effect in marker- patients"
    ),
    sd: float | None = typer.Option(None, "--sd", help="continuous: outcome SD"),
    control_pos: float | None = typer.Option(None, "--control-pos", help="binary: P(response)"),
    control_neg: float | None = typer.Option(None, "--control-neg", help="binary"),
    treatment_pos: float | None = typer.Option(None, "--treatment-pos", help="binary"),
    treatment_neg: float | None = typer.Option(None, "--treatment-neg", help="binary"),
    alpha: float = typer.Option(0.05, "--alpha"),
    beta: float = typer.Option(0.2, "--beta"),
    sided: int = typer.Option(2, "--sided"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Biomarker designs side by side: targeted vs untargeted (enrichment ratios),
    marker-stratified interaction and biomarker-strategy designs."""
    from permedhub.trials import biomarker

    outcomes = _run(
        lambda: biomarker.cell_outcomes(
            endpoint.value,
            effect_pos=effect_pos, effect_neg=effect_neg, sd=sd, p_control_pos=control_pos,
            p_control_neg=control_neg, p_treatment_pos=treatment_pos,
            p_treatment_neg=treatment_neg,
        )
    )  # fmt: skip
    assay = _run(lambda: biomarker.Assay(prevalence, sensitivity, specificity))
    compared = _run(lambda: biomarker.compare_designs(outcomes, assay, alpha, beta, sided))
    if as_json:
        _emit_json(compared.to_dict())
        return
    table = Table(title=f"Biomarker designs ({endpoint.value} endpoint, totals over arms)")
    for column in ("design", "effect", "randomised", "screened (expected)"):
        table.add_column(column, justify="left" if column == "design" else "right")
    for d in compared.designs:
        table.add_row(d.design, _fmt(d.effect), str(d.n_randomised), f"{d.n_screened:.1f}")
    _out.print(table)
    _out.print(
        f"test-positive rate {assay.test_positive_rate:.4f}, PPV {assay.ppv:.4f}; randomised "
        f"untargeted/targeted {compared.targeted.ratio_randomised:.3f}, untargeted randomised/"
        f"targeted screened {compared.targeted.ratio_screened:.3f}"
    )
    for reason in compared.not_applicable:
        _err.print(f"not applicable: {escape(reason)}", highlight=False)


class BasketMethod(StrEnum):
    fujikawa = "fujikawa"
    power_prior = "power_prior"
    independent = "independent"


@app.command("basket")
def basket_command(
    rates: str = typer.Option(..., "--rates", help="True response rate per basket, e.g. 0.2,0.4"),
    p0: float = typer.Option(..., "--p0", help="Uninteresting response rate (every basket)."),
    n: int = typer.Option(..., "--n", help="Patients per basket (one analysis)."),
    method: BasketMethod = typer.Option(BasketMethod.fujikawa, "--method"),
    lambda_: float = typer.Option(
        0.99, "--lambda", help="Posterior probability that rejects H0 (borrowing methods)."
    ),
    epsilon: float = typer.Option(2.0, "--epsilon", help="Borrowing: similarity exponent."),
    tau: float = typer.Option(0.0, "--tau", help="Borrowing: similarity threshold."),
    alpha: float = typer.Option(0.05, "--alpha", help="independent: per-basket level."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Single-analysis basket design: exact rejection probabilities per basket, FWER and the
    chance of at least one correct rejection (Fujikawa borrowing, power prior or each basket
    tested alone by an exact binomial test)."""
    from permedhub.trials import basket

    response_rates = _floats("--rates", rates) or []
    if method is BasketMethod.independent:
        result = _run(
            lambda: basket.independent_baskets(
                response_rates, p0, None, alpha, criterion="single_stage", n=n
            )
        )
    else:
        borrowing: Literal["fujikawa", "power_prior"] = (
            "fujikawa" if method is BasketMethod.fujikawa else "power_prior"
        )
        settings = _run(
            lambda: basket.FujikawaSettings(
                lambda_=lambda_, epsilon=epsilon, tau=tau, borrowing=borrowing
            )
        )
        result = _run(lambda: basket.fujikawa_design(tuple(response_rates), p0, n, settings))
    if as_json:
        _emit_json(result.to_dict())
        return
    table = Table(title=f"Basket design: {result.design}, n = {n} per basket, exact")
    for column in ("basket", "true rate", "P(reject H0)", "H0 true"):
        table.add_column(column, justify="right")
    for i, (rate, reject) in enumerate(
        zip(result.response_rates, result.rejection_probabilities, strict=True)
    ):
        table.add_row(str(i + 1), _fmt(rate, 3), _fmt(reject), "yes" if rate <= p0 else "no")
    _out.print(table)
    _out.print(
        f"FWER {result.fwer:.4f}; P(at least one correct rejection) "
        f"{result.any_correct_rejection:.4f}"
    )


@app.command("checklist")
def checklist_command(
    protocol: Path = typer.Argument(..., help="Protocol YAML (design and addressed items)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """PERMIT checklist: addressed, satisfied by the design's computed results, or missing."""
    from permedhub.trials import checklist

    report = _run(lambda: checklist.evaluate_protocol(checklist.load_protocol(protocol)))
    if as_json:
        _emit_json(report.to_dict())
        return
    table = Table(title=f"PERMIT checklist: {report.title}")
    for column in ("item", "status", "evidence"):
        table.add_column(column)
    for item in report.items:
        evidence = item.evidence or item.design_evidence or ""
        table.add_row(item.id, item.status, evidence)
    _out.print(table)
    _out.print(", ".join(f"{key}: {value}" for key, value in sorted(report.counts.items())))


def _register_optional_commands() -> None:
    """Commands from the simulation part and the PERMIT checklist, when present."""
    if importlib.util.find_spec("permedhub.cli.trials_sim") is None:
        return
    trials_sim = importlib.import_module("permedhub.cli.trials_sim")
    for name in ("simulate", "examples"):
        command = getattr(trials_sim, name, None)
        if command is not None:
            app.command(name)(command)


_register_optional_commands()
