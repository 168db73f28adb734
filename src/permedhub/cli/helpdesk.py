"""`permedhub helpdesk ...`: the clinical-trials helpdesk's knowledge base, and asking it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from permedhub.cli.db import print_report, refused_load
from permedhub.cli.errors import fail

if TYPE_CHECKING:
    from permedhub.helpdesk.asking import AskResult

app = typer.Typer(help="The clinical-trials helpdesk's knowledge base.", no_args_is_help=True)


@app.command("ask")
def ask_question(
    question: str = typer.Argument(..., help="the question, in English, Spanish or Portuguese"),
    country: list[str] | None = typer.Option(
        None, "--country", "-c", help="ISO country code (or EU) to narrow to; repeatable"
    ),
    limit: int = typer.Option(5, help="how many answers, at most"),
    as_json: bool = typer.Option(
        False, "--json", help='{"question", "language", "answers"} on stdout, nothing else'
    ),
) -> None:
    """Answer a question with stored facts and FAQ entries, each quoted with its source and
    the day it was verified (no text is generated)."""
    import json

    from sqlalchemy.orm import Session

    from permedhub import db
    from permedhub.helpdesk.asking import AskError, ask

    engine = db.make_engine()
    db.ensure_ready(engine)
    try:
        with Session(engine) as session:
            result = ask(session, question, country or (), limit)
    except AskError as exc:
        raise fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps(result.as_json(), ensure_ascii=False, indent=2))
        return
    print_answers(result)


def print_answers(result: AskResult) -> None:
    from rich.console import Console
    from rich.markup import escape

    console = Console(soft_wrap=True)  # long facts and URLs stay whole lines
    scope = f" · {', '.join(result.countries)}" if result.countries else ""
    console.print(f"[bold]{escape(result.question)}[/bold] ({result.language}{scope})")
    if not result.answers:
        console.print("No stored fact answers this question.")
    for n, answer in enumerate(result.answers, start=1):
        where = answer.country or ", ".join(answer.jurisdictions) or "—"
        console.print(
            escape(f"\n{n}. [{answer.kind} · {where} · score {answer.score:.4f}]"),
            highlight=False,
        )
        if answer.kind == "faq":
            console.print(f"   Q: {escape(answer.title)}", highlight=False)
        console.print(f"   {escape(answer.text)}", highlight=False)
        console.print(
            f"   source: {escape(answer.source)} (verified {answer.verified_on.isoformat()})",
            highlight=False,
        )


@app.command("load")
def load_files(
    files: list[Path] | None = typer.Argument(
        None,
        exists=True,
        dir_okay=False,
        readable=True,
        help="helpdesk YAML or JSON files (default: the package's seed)",
    ),
    actor: str = typer.Option("cli", help="name recorded in the audit trail"),
    dry_run: bool = typer.Option(False, "--dry-run", help="check and count, store nothing"),
    as_json: bool = typer.Option(False, "--json", help="machine-readable report on stdout"),
) -> None:
    """Load helpdesk files in ONE transaction: every record is stored, or none and each problem
    is listed. Without FILES, (re)loads the package's seed."""
    from permedhub import db
    from permedhub.graph.loading import LoadError
    from permedhub.helpdesk.loading import load
    from permedhub.helpdesk.seed import seed_files

    engine = db.make_engine()
    db.ensure_ready(engine)  # the graph's organisations, which helpdesk records name
    try:
        report = load(
            engine, files or seed_files(), actor=actor if files else "seed", dry_run=dry_run
        )
    except LoadError as exc:
        raise refused_load(exc, as_json=as_json) from None
    print_report(report, as_json=as_json, dry_run=dry_run)


@app.command("compare")
def compare_countries(
    countries: list[str] = typer.Argument(
        ..., help="2 to 5 ISO 3166-1 codes (AR, BRA, ...) or EU", show_default=False
    ),
    as_json: bool = typer.Option(False, "--json", help="machine-readable comparison on stdout"),
    out: Path | None = typer.Option(
        None, "--out", help="write the comparison to FILE.csv or FILE.html (self-contained)"
    ),
    stale_days: int | None = typer.Option(
        None,
        "--stale-days",
        min=1,
        help="mark facts verified longer ago than this as possibly stale "
        "(default: PERMEDHUB_HELPDESK_STALE_DAYS, else 365)",
    ),
) -> None:
    """Compare countries side by side: regulators by role, trial rules by aspect (timelines in
    days), funders; gaps and possibly stale facts are marked."""
    from sqlalchemy.orm import Session

    from permedhub import db
    from permedhub.cli.errors import fail
    from permedhub.helpdesk.comparing import CompareError, compare, to_csv, to_html

    if out is not None and out.suffix.lower() not in (".csv", ".html"):
        raise fail(f"--out {str(out)!r}: expected a file name ending in .csv or .html")
    engine = db.make_engine()
    db.ensure_ready(engine)
    try:
        with Session(engine) as session:
            comparison = compare(session, countries, stale_after_days=stale_days)
    except CompareError as exc:
        raise fail(str(exc)) from None
    except ValueError as exc:  # a bad PERMEDHUB_HELPDESK_STALE_DAYS
        raise fail(str(exc)) from None
    finally:
        engine.dispose()
    if out is not None:
        text = to_csv(comparison) if out.suffix.lower() == ".csv" else to_html(comparison)
        out.write_text(text, encoding="utf-8")
    if as_json:
        import json

        typer.echo(json.dumps(comparison.as_json(), ensure_ascii=False))
        return
    _print_comparison(comparison, out)


def _print_comparison(comparison: object, out: Path | None) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from permedhub.helpdesk.comparing import Comparison

    assert isinstance(comparison, Comparison)
    console = Console()
    for _section, label, rows in comparison.sections():
        table = Table(title=label, show_lines=True)
        table.add_column("topic")
        for code in comparison.countries:
            table.add_column(f"{comparison.names[code]} ({code})")
        for row in rows:
            cells = []
            for code in comparison.countries:
                facts = row.cells[code]
                if not facts:
                    cells.append("[italic]gap[/italic]")
                    continue
                cells.append(
                    "\n".join(
                        escape(f.text)
                        + (f" [dim]({escape(f.detail)})[/dim]" if f.detail else "")
                        + (" [yellow]possibly stale[/yellow]" if f.stale else "")
                        + (" [blue]EU-wide[/blue]" if f.eu_wide else "")
                        for f in facts
                    )
                )
            table.add_row(row.label, *cells)
        console.print(table)
    console.print(
        f"{comparison.gap_count()} gaps, {comparison.stale_count()} possibly stale facts "
        f"(verified more than {comparison.stale_after_days} days ago)"
        + (f"; written to {escape(str(out))}" if out else "")
    )
