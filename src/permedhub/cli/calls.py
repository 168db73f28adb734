"""`permedhub calls ...`: a thin shell over `permedhub.calls`.

``show`` prints a call document, ``check`` the broken consortium and national rules of each
proposal with how to fix them, ``decide`` the funding decision with its what-if answers and
each funder's report (``--out FILE.xlsx``: every table, a sheet each), ``assign`` reviewers to
proposals, ``stats`` the statistics of calls (run in PerMed Hub, or seeded real ones).
``publish``, ``grant``, ``revoke`` and ``outbox`` run the workflow's operator steps on the
configured database (the secretariat's steps are on the portal). Every command takes ``--json``
(only JSON on stdout). A file that cannot be read, parsed or validated is reported on stderr,
each problem with its line, exit code 2. The library (pandas, SciPy) is imported when a command
first uses it.
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

from permedhub.calls.errors import CallDocumentError, CallInputError, NotAllowed, NotFoundError
from permedhub.cli.errors import fail
from permedhub.cli.lazy import lazy_module

if TYPE_CHECKING:
    from permedhub.calls import assignment as calls_assignment
    from permedhub.calls import decision as calls_decision
    from permedhub.calls import documents as calls_documents
    from permedhub.calls import eligibility as calls_eligibility
    from permedhub.calls import mail as calls_mail
    from permedhub.calls import reports as calls_reports
    from permedhub.calls import statistics as calls_statistics
    from permedhub.calls import tables as calls_tables
    from permedhub.calls import workflow as calls_workflow
else:
    calls_assignment = lazy_module("permedhub.calls.assignment")
    calls_decision = lazy_module("permedhub.calls.decision")
    calls_documents = lazy_module("permedhub.calls.documents")
    calls_eligibility = lazy_module("permedhub.calls.eligibility")
    calls_mail = lazy_module("permedhub.calls.mail")
    calls_reports = lazy_module("permedhub.calls.reports")
    calls_statistics = lazy_module("permedhub.calls.statistics")
    calls_tables = lazy_module("permedhub.calls.tables")
    calls_workflow = lazy_module("permedhub.calls.workflow")

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
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="also write the decision to FILE: .json, .csv (the ranking list) or .xlsx "
            "(every table: funded, reserve, funders, countries, what-ifs; a sheet each)",
        ),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Funding decision down the ranking list, each funder's report and the what-ifs."""
    amount = _amount("--top-up", top_up)
    call, proposals = _load(call_file, proposals_file)
    try:
        result = calls_decision.decide(call, proposals, top_up_eur=amount, next_k=next_k)
    except CallInputError as error:
        raise fail(str(error)) from None
    payload = {
        "call": call.id,
        **result.to_dict(),
        "report": calls_reports.report_payload(call, proposals, result),
    }
    if out is not None:
        tables = calls_reports.decision_tables(call, proposals, result)
        _write_report(out, payload, result.ranking, tables)
    if as_json:
        _emit_json(payload)
        return
    _out.print(f"mode {result.mode}, top-up {result.top_up_eur:,.2f} EUR")
    _out.print(f"funded: {', '.join(result.funded) or '-'}")
    _out.print(f"reserve: {', '.join(result.reserve) or '-'}")
    report = calls_reports.funder_report(call, proposals, result)
    commitments = Table(
        "funder", "budget", "committed", "left", "partners funded", "partners reserve"
    )
    for row in report.itertuples(index=False):
        left = "-" if row.remaining_eur != row.remaining_eur else f"{row.remaining_eur:,.2f}"
        commitments.add_row(row.funder, f"{row.budget_eur:,.2f}", f"{row.committed_eur:,.2f}",
                            left, str(row.partners_funded),
                            str(row.partners_reserve))  # fmt: skip  # NaN left: one pot
    _out.print(commitments)
    blocking = Table("reserve proposal", "budget short", "asked", "left", "shortfall")
    for row in result.blocking.itertuples(index=False):
        blocking.add_row(row.proposal_id, row.budget, f"{row.asked_eur:,.2f}",
                         f"{row.left_eur:,.2f}", f"{row.shortfall_eur:,.2f}")  # fmt: skip
    _out.print(blocking)


# ---------------------------------------------------------------- reviewer assignment

ReviewersOption = Annotated[
    Path, typer.Option("--reviewers", help="the reviewer pool (YAML or JSON: reviewers: [...])")
]
OutFile = Annotated[
    Path | None,
    typer.Option("--out", help="also write the report to FILE (.csv, .json or .xlsx)"),
]


def _write_report(
    out: Path, payload: dict[str, Any], table: Any, sheets: dict[str, Any] | None = None
) -> None:
    """`payload` as JSON for a .json file, `sheets` (name -> frame) as an XLSX workbook for
    a .xlsx file, else `table` (a frame) as CSV; text cells never become formulas."""
    from permedhub.graph.spreadsheets import neutralised_frame, workbook_bytes

    suffix = out.suffix.lower()
    try:
        if suffix == ".json":
            out.write_text(json.dumps(payload, indent=2, allow_nan=False) + "\n", encoding="utf-8")
        elif suffix == ".xlsx":
            out.write_bytes(workbook_bytes(sheets or {"report": table}))
        else:
            neutralised_frame(table).to_csv(out, index=False)
    except OSError as error:
        raise fail(f"--out = {str(out)!r} is invalid: expected a writable file ({error})") from None


@app.command("assign")
def assign(
    call_file: CallFile,
    proposals_file: ProposalsFile,
    reviewers_file: ReviewersOption,
    per_proposal: Annotated[
        int, typer.Option("--per-proposal", min=1, help="reviewers each proposal needs")
    ] = 3,
    out: OutFile = None,
    as_json: AsJson = False,
) -> None:
    """Reviewers to proposals (MILP): conflicts of interest respected, loads balanced, the
    expertise match maximised; each proposal left short with the reason."""
    call, proposals = _load(call_file, proposals_file)
    try:
        pool = calls_documents.load_reviewers(reviewers_file)
        result = calls_assignment.assign(proposals, pool, per_proposal=per_proposal)
    except (CallDocumentError, CallInputError) as error:
        raise fail(str(error)) from None
    payload = {
        "call": call.id,
        "per_proposal": per_proposal,
        "assignments": calls_tables.records(result.assignments),
        "loads": calls_tables.records(result.loads),
        "uncovered": calls_tables.records(result.uncovered),
        "status": result.status,
    }
    if out is not None:
        sheets = {"assignments": result.assignments, "loads": result.loads,
                  "uncovered": result.uncovered}  # fmt: skip
        _write_report(out, payload, result.assignments, sheets)
    if as_json:
        _emit_json(payload)
        return
    covered = len(proposals.proposals) - len(result.uncovered)
    _out.print(f"{covered} of {len(proposals.proposals)} proposals have {per_proposal} reviewers")
    table = Table("proposal", "reviewers")
    for proposal_id, group in result.assignments.groupby("proposal_id", sort=False):
        table.add_row(str(proposal_id), ", ".join(group["reviewer"]))
    _out.print(table)
    for row in result.uncovered.itertuples(index=False):
        _out.print(f"{row.proposal_id}: {row.assigned} of {row.needed}: {escape(row.reason)}")


# ---------------------------------------------------------------- the workflow (operator)


def _workflow() -> Any:
    from permedhub import db

    engine = db.make_engine()
    db.ensure_ready(engine)
    return calls_workflow.Workflow(engine)


def _workflow_step(step: Any) -> Any:
    """Run one workflow step; its refusals as errors (exit 2)."""
    try:
        return step()
    except (CallDocumentError, CallInputError, NotAllowed, NotFoundError) as error:
        raise fail(str(error)) from None


@app.command("publish")
def publish(
    call_file: CallFile,
    secretariat: Annotated[
        list[str] | None,
        typer.Option("--secretariat", help="NAME=EMAIL of a portal user (repeatable)"),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Put a call into the workflow (applicants may then register and submit), with its
    secretariat; a call without submissions may be published again with a new document."""
    call, _ = _load(call_file)
    pairs = []
    for item in secretariat or []:
        name, sep, email = item.partition("=")
        if not sep or not name or not email:
            raise fail(f"--secretariat = {item!r} is invalid: expected NAME=EMAIL")
        pairs.append((name.strip(), email.strip()))
    workflow = _workflow()
    _workflow_step(lambda: workflow.publish(call, "command line", secretariat=pairs))
    if as_json:
        _emit_json({"call": call.id, "published": True, "secretariat": [p[0] for p in pairs]})
        return
    _out.print(f"published {call.id} with {len(pairs)} secretariat member(s)")


@app.command("grant")
def grant(
    call_id: Annotated[str, typer.Argument(help="a published call's id")],
    user: Annotated[str, typer.Argument(help="a portal user's name")],
    role: Annotated[str, typer.Argument(help="applicant, reviewer, funder or secretariat")],
    email: Annotated[str, typer.Option("--email", help="where their notices go")],
    funder: Annotated[
        str | None, typer.Option("--funder", help="funder role: the funder's id in the call")
    ] = None,
    organisation: Annotated[
        str | None, typer.Option("--organisation", help="reviewer: their organisation id")
    ] = None,
    country: Annotated[str | None, typer.Option("--country", help="reviewer: country")] = None,
    expertise: Annotated[
        str | None, typer.Option("--expertise", help="reviewer: topics, comma-separated")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Give a portal user a role in a call (as the operator)."""
    payload: dict[str, Any] = {"user": user, "role": role, "email": email, "funder": funder}
    if role == "reviewer" and (organisation or country):
        topics = [t.strip() for t in (expertise or "").split(",") if t.strip()]
        payload["profile"] = {"organisation": organisation, "country": country,
                              "expertise": topics}  # fmt: skip
    workflow = _workflow()
    _workflow_step(lambda: workflow.grant(call_id, "command line", payload))
    if as_json:
        _emit_json({"call": call_id, "user": user, "role": role})
        return
    _out.print(f"{user} is now {role} of {call_id}")


@app.command("revoke")
def revoke(
    call_id: Annotated[str, typer.Argument(help="a published call's id")],
    user: Annotated[str, typer.Argument(help="a portal user's name")],
    role: Annotated[str, typer.Argument(help="applicant, reviewer, funder or secretariat")],
    as_json: AsJson = False,
) -> None:
    """Take a role in a call from a portal user (as the operator); refused while the role is
    in use (the last secretariat member, a reviewer with reviews, a consortium's applicant)."""
    workflow = _workflow()
    _workflow_step(lambda: workflow.revoke(call_id, "command line", user, role))
    if as_json:
        _emit_json({"call": call_id, "user": user, "revoked": role})
        return
    _out.print(f"{user} is no longer {role} of {call_id}")


@app.command("outbox")
def outbox(
    send: Annotated[bool, typer.Option("--send", help="hand the queue to the SMTP server")] = False,
    as_json: AsJson = False,
) -> None:
    """The workflow's notices not sent yet (none are sent without PERMEDHUB_SMTP_HOST)."""
    workflow = _workflow()
    sent = calls_mail.deliver(workflow.engine) if send else 0
    pending = calls_mail.pending(workflow.engine)
    if as_json:
        _emit_json({"sent": sent, "pending": pending})
        return
    if send:
        _out.print(f"sent {sent}")
    table = Table("call", "to", "subject", "error")
    for item in pending:
        table.add_row(
            item["call"], item["to"], escape(str(item["subject"])), escape(item["error"] or "")
        )
    _out.print(table)


# ---------------------------------------------------------------- statistics


@app.command("stats")
def stats(
    call_ids: Annotated[
        list[str] | None,
        typer.Argument(help="calls (ids); none: across every call", show_default=False),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Statistics per call and across calls: for calls run in PerMed Hub the proposals and
    partners submitted, eligible and funded by country, funder, organisation kind and
    module; for the seeded real calls the funded projects the graph holds, their partners
    by country and kind, and the outcome the announcements state with its success rate."""
    from sqlalchemy.orm import Session

    workflow = _workflow()
    with Session(workflow.engine) as session:
        known = calls_statistics.known_calls(session, public=False)
        chosen = list(call_ids or known)
        unknown = [c for c in chosen if c not in known]
        if unknown:
            raise fail(
                f"call = {unknown[0]!r} is invalid: expected a call with statistics: "
                + ", ".join(known)
            )
        payload = calls_statistics.statistics_payload(session, chosen, public=False)
    if as_json:
        _emit_json(payload)
        return
    summary = Table("call", "run here", "submitted", "eligible", "funded", "published funded",
                    "success rate", "projects in graph", "partners", "countries")  # fmt: skip
    for row in payload["calls"]:
        rate = row["published_success_rate"]
        summary.add_row(
            row["call"], "yes" if row["run_in_permed_hub"] else "no",
            *(_count(row[f"hub_proposals_{k}"]) for k in ("submitted", "eligible", "funded")),
            _count(row["published_projects_funded"]),
            "-" if rate is None else f"{rate:.1%} of {row['published_success_rate_of']}",
            str(row["graph_projects"]), str(row["graph_partners"]), str(row["graph_countries"]),
        )  # fmt: skip
    _out.print(summary)
    if payload["workflow"]:
        table = Table("call", "stage", "by", "value", "submitted", "eligible", "funded",
                      "partners submitted", "partners funded")  # fmt: skip
        for row in payload["workflow"]:
            table.add_row(
                row["call"], row["stage"], row["dimension"], escape(str(row["value"])),
                str(row["proposals_submitted"]), str(row["proposals_eligible"]),
                str(row["proposals_funded"]), _count(row["partners_submitted"]),
                _count(row["partners_funded"]),
            )  # fmt: skip
        _out.print(table)
    if payload["graph"]:
        table = Table("call", "by", "value", "funded projects (graph)", "partners")
        for row in payload["graph"]:
            table.add_row(row["call"], row["dimension"], escape(str(row["value"])),
                          str(row["projects"]), str(row["partners"]))  # fmt: skip
        _out.print(table)


def _count(value: Any) -> str:
    return "-" if value is None else str(value)
