"""`permedhub calls ...`: a thin shell over `permedhub.calls`.

``show`` prints a call document, ``check`` the broken consortium and national rules of each
proposal with how to fix them, ``decide`` the funding decision with its what-if answers.
Every command takes ``--json`` (only JSON on stdout). A file that cannot be read, parsed or
validated is reported on stderr, each problem with its line, exit code 2. The library
(pandas, SciPy) is imported when a command first uses it.
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from permedhub.calls.errors import CallDocumentError, CallInputError
from permedhub.cli.errors import fail
from permedhub.cli.lazy import lazy_module

if TYPE_CHECKING:
    from permedhub.calls import decision as calls_decision
    from permedhub.calls import documents as calls_documents
    from permedhub.calls import eligibility as calls_eligibility
else:
    calls_decision = lazy_module("permedhub.calls.decision")
    calls_documents = lazy_module("permedhub.calls.documents")
    calls_eligibility = lazy_module("permedhub.calls.eligibility")

app = typer.Typer(
    help="Joint transnational calls: call documents, eligibility, funding decisions.",
    no_args_is_help=True,
)
_out = Console()

CallFile = Annotated[Path, typer.Argument(help="the call document (YAML or JSON)")]
ProposalsFile = Annotated[Path, typer.Argument(help="the proposals (YAML or JSON)")]
AsJson = Annotated[bool, typer.Option("--json", help="machine-readable output only")]


def _emit_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, indent=2, allow_nan=False) + "\n")


def _load(call_file: Path, proposals_file: Path | None = None) -> tuple[Any, Any]:
    """The call (and proposals), or exit 2 naming each problem with its line."""
    try:
        call = calls_documents.load_call(call_file)
        proposals = (
            None if proposals_file is None
            else calls_documents.load_proposals(proposals_file, call)
        )  # fmt: skip
    except (CallDocumentError, CallInputError) as error:
        raise fail(str(error)) from None
    return call, proposals


@app.command("show")
def show(call_file: CallFile, as_json: AsJson = False) -> None:
    """Print a call's whole document (validated)."""
    call, _ = _load(call_file)
    if as_json:
        _emit_json(call.model_dump(mode="json"))
        return
    _out.print(f"[bold]{escape(call.title)}[/bold] ({call.id}), funding: {call.funding.mode}")
    total = "unknown" if call.budget_eur is None else f"{call.budget_eur:,.0f} EUR"
    _out.print(f"secretariat: {call.secretariat or 'unknown'}, budget: {total}")
    stages = Table("stage", "deadline")
    for stage in call.stages:
        stages.add_row(escape(stage.name), stage.deadline.isoformat())
    _out.print(stages)
    funders = Table("funder", "country", "budget (EUR)", "rules")
    for funder in call.funders:
        rules = funder.rules.model_dump(exclude_defaults=True, mode="json")
        budget = "unknown" if funder.budget_eur is None else f"{funder.budget_eur:,.2f}"
        funders.add_row(funder.organisation, funder.country, budget,
                        escape(json.dumps(rules)))  # fmt: skip
    _out.print(funders)
    _out.print("consortium rules: " + escape(json.dumps(
        call.consortium.model_dump(exclude_defaults=True, mode="json")
    )))  # fmt: skip


@app.command("check")
def check(call_file: CallFile, proposals_file: ProposalsFile, as_json: AsJson = False) -> None:
    """List each broken consortium or national rule of each proposal, with how to fix it."""
    call, proposals = _load(call_file, proposals_file)
    report = calls_eligibility.check(call, proposals)
    if as_json:
        _emit_json({"call": call.id, **report.to_dict()})
        return
    total = len(report.proposals)
    _out.print(f"{report.to_dict()['eligible']} of {total} proposals break no rule")
    table = Table("proposal", "rule", "how to fix it")
    for row in report.broken.itertuples(index=False):
        table.add_row(row.proposal_id, row.rule, escape(str(row.message)))
    if len(report.broken):
        _out.print(table)


def _amount(option: str, text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise fail(
            f"{option} = {text!r} is invalid: expected an amount in EUR such as 500000"
        ) from None
    if not value.is_finite() or value < 0 or value != value.quantize(Decimal("0.01")):
        raise fail(f"{option} = {text!r} is invalid: expected an amount in EUR >= 0, cents at most")
    return value


@app.command("decide")
def decide(
    call_file: CallFile,
    proposals_file: ProposalsFile,
    top_up: Annotated[
        str | None, typer.Option("--top-up", help="a top-up pot in EUR (mixed procedure)")
    ] = None,
    next_k: Annotated[
        int, typer.Option("--next-k", min=0, help="reserve proposals the budget what-if covers")
    ] = 3,
    as_json: AsJson = False,
) -> None:
    """Funding decision down the ranking list, each funder's commitments and the what-ifs."""
    amount = _amount("--top-up", top_up)
    call, proposals = _load(call_file, proposals_file)
    try:
        result = calls_decision.decide(call, proposals, top_up_eur=amount, next_k=next_k)
    except CallInputError as error:
        raise fail(str(error)) from None
    if as_json:
        _emit_json({"call": call.id, **result.to_dict()})
        return
    _out.print(f"mode {result.mode}, top-up {result.top_up_eur:,.2f} EUR")
    _out.print(f"funded: {', '.join(result.funded) or '-'}")
    _out.print(f"reserve: {', '.join(result.reserve) or '-'}")
    commitments = Table("funder", "budget", "committed", "left")
    for row in result.commitments.itertuples(index=False):
        left = "-" if row.left_eur != row.left_eur else f"{row.left_eur:,.2f}"  # NaN: one pot
        commitments.add_row(row.funder, f"{row.budget_eur:,.2f}", f"{row.committed_eur:,.2f}",
                            left)  # fmt: skip
    _out.print(commitments)
    blocking = Table("reserve proposal", "budget short", "asked", "left", "shortfall")
    for row in result.blocking.itertuples(index=False):
        blocking.add_row(row.proposal_id, row.budget, f"{row.asked_eur:,.2f}",
                         f"{row.left_eur:,.2f}", f"{row.shortfall_eur:,.2f}")  # fmt: skip
    _out.print(blocking)
