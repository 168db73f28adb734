"""`permedhub hecon ...`: a thin shell over `permedhub.hecon`.

``run`` evaluates a model document (YAML/JSON): deterministic results, the incremental table
and, with ``--psa N --seed S``, a probabilistic analysis; ``--json`` prints machine-readable
results only, ``--out FILE`` writes a self-contained HTML report listing every input.
``examples`` lists the bundled example models (usable as ``example:<name>``); ``tornado``,
``threshold`` and ``payment`` run DSA, value-based price and payment schemes; ``budget`` runs a
budget impact document (:mod:`permedhub.hecon.budget_spec`). ``icers``,
``evpi`` and ``evppi`` come from :mod:`permedhub.cli.hecon_analysis`.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from permedhub.cli import hecon_analysis
from permedhub.cli.errors import fail
from permedhub.cli.lazy import lazy_module
from permedhub.hecon.errors import HeconError

# The engine (NumPy, SciPy, pandas, Plotly) loads when a command first uses it, so that
# `permedhub --help` and `permedhub hecon --help` start at once.
if TYPE_CHECKING:
    from permedhub.hecon import budget_spec, dsa, markov, payment, report
    from permedhub.hecon import run as hecon_run
    from permedhub.hecon import spec as hecon_spec
else:
    budget_spec = lazy_module("permedhub.hecon.budget_spec")
    dsa = lazy_module("permedhub.hecon.dsa")
    markov = lazy_module("permedhub.hecon.markov")
    payment = lazy_module("permedhub.hecon.payment")
    report = lazy_module("permedhub.hecon.report")
    hecon_spec = lazy_module("permedhub.hecon.spec")
    hecon_run = lazy_module("permedhub.hecon.run")

app = typer.Typer(
    help="Health-economic models and analyses (permedhub.hecon).", no_args_is_help=True
)
app.command("icers")(hecon_analysis.icers)
app.command("evpi")(hecon_analysis.evpi)
app.command("evppi")(hecon_analysis.evppi)

_out = Console()
_err = Console(stderr=True)
EXAMPLE_PREFIX = "example:"


def _model_path(model: str, examples: dict[str, Path] | None = None) -> Path:
    """The file `model` names: a path, or example:<name> among `examples` (default: the
    example models)."""
    if model.startswith(EXAMPLE_PREFIX):
        name = model[len(EXAMPLE_PREFIX) :]
        examples = hecon_run.example_models() if examples is None else examples
        if name not in examples:
            raise HeconError(f"unknown example {name!r}; available: {', '.join(sorted(examples))}")
        return examples[name]
    return Path(model)


def _load_any(path: Path) -> hecon_run.AnySpec:
    return hecon_run.load_document(path)


def _print_tables(run: hecon_run.ModelRun) -> None:
    det = Table(title=f"{run.spec.name}: base case")
    cols = ["strategy", "cost", "effect"]
    cols += [c for c in ("qaly", "ly") if c in run.deterministic.columns]
    for c in cols:
        det.add_column(c, justify="left" if c == "strategy" else "right")
    for row in hecon_run.records(run.deterministic.reset_index()):
        det.add_row(str(row["strategy"]), *[f"{row[c]:,.4f}" for c in cols[1:]])
    _out.print(det)
    inc = Table(title=f"Incremental analysis (effect: {run.effect_name})")
    for c in ("strategy", "cost", "effect", "inc_cost", "inc_effect", "icer", "status"):
        inc.add_column(c)
    for row in hecon_run.records(run.icers):
        inc.add_row(
            *[
                "—"
                if row[c] is None
                else (f"{row[c]:,.4f}" if isinstance(row[c], float) else str(row[c]))
                for c in ("strategy", "cost", "effect", "inc_cost", "inc_effect", "icer", "status")
            ]
        )
    _out.print(inc)
    if run.psa_summary is not None:
        psa = Table(title=f"PSA: {run.n_draws} draws, seed {run.seed}")
        for c in ("strategy", "outcome", "mean", "sd", "p2.5", "p97.5"):
            psa.add_column(c)
        for row in hecon_run.records(run.psa_summary):
            psa.add_row(
                str(row["strategy"]),
                str(row["outcome"]),
                *[f"{row[c]:,.4f}" for c in ("mean", "sd", "p2.5", "p97.5")],
            )
        _out.print(psa)


@app.command("run")
def run(
    model: Annotated[str, typer.Argument(help="model YAML/JSON file, or example:<name>")],
    psa: Annotated[int | None, typer.Option("--psa", min=1, help="number of PSA draws")] = None,
    seed: Annotated[
        int | None, typer.Option("--seed", help="random seed (needed with --psa)")
    ] = None,
    wtp_max: Annotated[
        float, typer.Option("--wtp-max", min=0, help="CEAC upper threshold")
    ] = 100_000,
    evppi_wtp: Annotated[
        float | None,
        typer.Option("--evppi-wtp", min=0, help="with --psa: EVPPI of each input at this WTP"),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="machine-readable JSON on stdout")
    ] = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="write a self-contained HTML report")
    ] = None,
) -> None:
    """Run a model: base case, incremental table and (with --psa) a probabilistic analysis."""
    try:
        if psa is not None and seed is None:
            raise HeconError("--psa needs --seed (the same seed gives identical results)")
        spec = _load_any(_model_path(model))
        if psa and sys.stderr.isatty():
            with _err.status(f"running {psa} PSA draws..."):
                result = hecon_run.run_analysis(spec, psa, seed, wtp_max, evppi_wtp)
        else:
            result = hecon_run.run_analysis(spec, psa, seed, wtp_max, evppi_wtp)
        if out is not None:
            out.write_text(report.render_report(result), encoding="utf-8")
    except (HeconError, ValueError, OSError) as exc:
        raise fail(str(exc)) from exc
    if as_json:
        sys.stdout.write(json.dumps(hecon_run.to_json(result), indent=2) + "\n")
        return
    _print_tables(result)
    if out is not None:
        _out.print(f"report written to {out}")


@app.command("examples")
def examples(
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable JSON")] = False,
) -> None:
    """List the bundled example models (run them with `run example:<name>`)."""
    items = {name: str(path) for name, path in sorted(hecon_run.example_models().items())}
    if as_json:
        sys.stdout.write(json.dumps(items, indent=2) + "\n")
        return
    table = Table(title="Example models")
    table.add_column("name")
    table.add_column("title")
    for name, path in items.items():
        table.add_row(name, _load_any(Path(path)).name)
    _out.print(table)


@app.command("tornado")
def tornado(
    model: Annotated[str, typer.Argument(help="model YAML/JSON file, or example:<name>")],
    ranges: Annotated[
        list[str], typer.Option("--range", help="parameter range name=low:high (repeatable)")
    ],
    intervention: Annotated[str, typer.Option("--intervention", help="strategy to evaluate")],
    comparator: Annotated[str, typer.Option("--comparator", help="reference strategy")],
    wtp: Annotated[float, typer.Option("--wtp", min=0, help="willingness to pay per effect")],
    as_json: Annotated[
        bool, typer.Option("--json", help="machine-readable JSON on stdout")
    ] = False,
    out: Annotated[Path | None, typer.Option("--out", help="write an HTML tornado report")] = None,
) -> None:
    """One-way DSA: incremental net monetary benefit with each parameter at its low/high value."""
    try:
        try:
            parsed = dsa.parse_ranges(ranges)
        except HeconError as exc:
            raise HeconError(f"--range {exc}") from None
        spec = hecon_spec.load_model(_model_path(model))
        table, base = dsa.tornado(markov.MarkovModel(spec), parsed, intervention, comparator, wtp)
        if out is not None:
            out.write_text(
                report.render_tornado_report(spec.name, table, base, intervention, comparator, wtp),
                encoding="utf-8",
            )
    except (HeconError, ValueError, OSError) as exc:
        raise fail(str(exc)) from exc
    if as_json:
        payload = {"base_inmb": base, "wtp": wtp, "rows": hecon_run.records(table)}
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return
    t = Table(title=f"Tornado: INMB of {intervention} vs {comparator} at WTP {wtp:,.0f}")
    for c in ("parameter", "low_value", "high_value", "low", "high", "swing"):
        t.add_column(c)
    for row in hecon_run.records(table):
        t.add_row(
            row["parameter"],
            *[f"{row[c]:,.4f}" for c in ("low_value", "high_value", "low", "high", "swing")],
        )
    _out.print(t)
    _out.print(f"base-case INMB: {base:,.4f}")


@app.command("threshold")
def threshold(
    model: Annotated[str, typer.Argument(help="model YAML/JSON file, or example:<name>")],
    parameter: Annotated[str, typer.Option("--parameter", help="parameter to solve for")],
    low: Annotated[float, typer.Option("--low", help="lower end of the search bracket")],
    high: Annotated[float, typer.Option("--high", help="upper end of the search bracket")],
    intervention: Annotated[str, typer.Option("--intervention", help="strategy to evaluate")],
    comparator: Annotated[str, typer.Option("--comparator", help="reference strategy")],
    wtp: Annotated[float, typer.Option("--wtp", min=0, help="willingness to pay per effect")],
    as_json: Annotated[
        bool, typer.Option("--json", help="machine-readable JSON on stdout")
    ] = False,
) -> None:
    """Threshold analysis: the parameter value (e.g. a price) at which INMB = 0 (brentq)."""
    try:
        spec = hecon_spec.load_model(_model_path(model))
        value = dsa.threshold(
            markov.MarkovModel(spec), parameter, (low, high), intervention, comparator, wtp
        )
    except (HeconError, ValueError, OSError) as exc:
        raise fail(str(exc)) from exc
    if as_json:
        payload = {
            "parameter": parameter,
            "threshold": value,
            "wtp": wtp,
            "intervention": intervention,
            "comparator": comparator,
        }
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return
    _out.print(
        f"{parameter} = {value:,.6f} makes {intervention} vs {comparator} break even at "
        f"WTP {wtp:,.0f}"
    )


class PaymentScheme(StrEnum):
    refund = "refund"
    pay_on_response = "pay-on-response"
    instalments = "instalments"


@app.command("payment")
def payment_cmd(
    model: Annotated[str, typer.Argument(help="model YAML/JSON file, or example:<name>")],
    scheme: Annotated[PaymentScheme, typer.Option("--scheme", help="payment scheme")],
    strategy: Annotated[str, typer.Option("--strategy", help="strategy the scheme applies to")],
    category: Annotated[str, typer.Option("--category", help="cost category paid (e.g. drug)")],
    amount: Annotated[str, typer.Option("--amount", help="amount (number or expression)")],
    from_state: Annotated[
        str | None, typer.Option("--from", help="origin of the outcome flow (refund/pay)")
    ] = None,
    to_state: Annotated[
        str | None, typer.Option("--to", help="destination of the outcome flow (refund/pay)")
    ] = None,
    until_cycle: Annotated[
        int | None, typer.Option("--until-cycle", min=1, help="assessment window (cycles)")
    ] = None,
    n_cycles: Annotated[
        int | None, typer.Option("--n-cycles", min=1, help="number of instalments")
    ] = None,
    unconditional: Annotated[
        bool, typer.Option("--unconditional", help="instalments also after death")
    ] = False,
    psa: Annotated[int | None, typer.Option("--psa", min=2, help="PSA draws for the risk")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="random seed (with --psa)")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="machine-readable JSON on stdout")
    ] = False,
) -> None:
    """Apply a payment scheme and report the payer's cash flows, expected cost, risk and the
    equivalent up-front price, before and after."""
    try:
        if psa is not None and seed is None:
            raise HeconError("--psa needs --seed (the same seed gives identical results)")
        spec = hecon_spec.load_model(_model_path(model))
        if scheme is PaymentScheme.instalments:
            if n_cycles is None:
                raise HeconError("--scheme instalments needs --n-cycles")
            changed = payment.with_instalments(
                spec, strategy, amount, n_cycles, category, conditional_on_alive=not unconditional
            )
        else:
            if from_state is None or to_state is None:
                raise HeconError(f"--scheme {scheme.value} needs --from and --to (the flow)")
            transform = (
                payment.with_outcome_refund
                if scheme is PaymentScheme.refund
                else payment.with_payment_on_outcome
            )
            changed = transform(spec, strategy, from_state, to_state, amount, category, until_cycle)
        before = payment.payment_profile(spec, strategy, category, psa, seed)
        after = payment.payment_profile(changed, strategy, category, psa, seed)
    except (HeconError, ValueError, OSError) as exc:
        raise fail(str(exc)) from exc

    def summary(p: payment.PaymentProfile) -> dict[str, float]:
        return {
            "expected_cost": p.expected_cost,
            "equivalent_upfront_price": p.equivalent_upfront_price,
            "sd": p.sd,
            "p05": p.p05,
            "p95": p.p95,
        }

    if as_json:
        payload = {
            "scheme": scheme.value,
            "strategy": strategy,
            "category": category,
            "before": {**summary(before), "cashflows": hecon_run.records(before.cashflows)},
            "after": {**summary(after), "cashflows": hecon_run.records(after.cashflows)},
        }
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return
    table = Table(title=f"{scheme.value} for {strategy} ({category}), discounted per patient")
    for c in ("", "expected cost", "sd", "p05", "p95"):
        table.add_column(c)
    for label, p in (("current", before), (scheme.value, after)):
        table.add_row(label, *[f"{v:,.2f}" for v in (p.expected_cost, p.sd, p.p05, p.p95)])
    _out.print(table)


def _print_budget(result: budget_spec.BudgetRun, title: str) -> None:
    money = [
        ("cost_reference", "reference"),
        ("cost_scenario", "scenario"),
        ("budget_impact", "budget impact"),
        ("discounted_budget_impact", "discounted"),
    ]
    by_year = Table(title=f"Budget impact (scenario - reference): {title}")
    by_year.add_column("year", justify="right")
    for _, header in money:
        by_year.add_column(header, justify="right")
    for row in hecon_run.records(result.difference):
        by_year.add_row(str(row["year"]), *[f"{row[c]:,.2f}" for c, _ in money])
    by_year.add_section()
    by_year.add_row(
        "total",
        *[f"{float(result.difference[c].sum()):,.2f}" for c, _ in money],
    )
    _out.print(by_year)
    for column, what, digits in (("cost", "cost", 2), ("patients", "patients treated", 1)):
        frame = result.scenario_by_strategy(column)
        wide = Table(title=f"Scenario {what} by strategy and year")
        for c in frame.columns:
            wide.add_column(str(c), justify="right")
        for row in hecon_run.records(frame):
            wide.add_row(str(row["year"]), *[f"{row[c]:,.{digits}f}" for c in frame.columns[1:]])
        _out.print(wide)


@app.command("budget")
def budget(
    document: Annotated[
        str,
        typer.Argument(metavar="FILE", help="budget impact YAML/JSON file, or example:<name>"),
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="machine-readable JSON on stdout")
    ] = False,
) -> None:
    """Budget impact: yearly cost of a scenario of market shares minus a reference's, for the
    same eligible population and per-patient costs (ISPOR good practice, Sullivan 2014)."""
    try:
        path = _model_path(document, budget_spec.budget_examples())
        spec = budget_spec.load_budget_document(path)
    except (HeconError, OSError) as exc:
        raise fail(str(exc)) from exc
    try:
        result = budget_spec.run_budget(spec)
    except ValueError as exc:
        raise fail(f"budget file {path}: {exc}") from exc
    if as_json:
        payload = {"file": str(path), **budget_spec.budget_json(result)}
        sys.stdout.write(json.dumps(payload, indent=2, allow_nan=False) + "\n")
        return
    _print_budget(result, f"{spec.horizon_years} years, {path.name}")
