"""`permedhub helpdesk ...`: the clinical-trials helpdesk's knowledge base."""

from __future__ import annotations

from pathlib import Path

import typer

from permedhub.cli.db import print_report, refused_load

app = typer.Typer(help="The clinical-trials helpdesk's knowledge base.", no_args_is_help=True)


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
