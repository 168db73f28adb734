"""`permedhub db ...`: migrations, loading and export of the knowledge graph."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

if TYPE_CHECKING:
    from permedhub.graph.loading import LoadError, LoadReport

app = typer.Typer(help="The knowledge graph's database.", no_args_is_help=True)
err = Console(stderr=True)


@app.command()
def upgrade() -> None:
    """Run pending migrations on the configured database (PERMEDHUB_DATABASE_URL)."""
    from permedhub import db

    engine = db.make_engine()
    db.upgrade(engine)
    err.print(f"database at {engine.url.render_as_string(hide_password=True)} is up to date")


@app.command()
def seed() -> None:
    """(Re)load the ICPerMed family seed, the helpdesk's, the atlas's and regions/' (profiles,
    events); records already there are updated, nothing is lost."""
    from permedhub import db
    from permedhub.atlas.seed import seed as seed_atlas
    from permedhub.graph.seed import seed as seed_family
    from permedhub.helpdesk.seed import seed as seed_helpdesk
    from permedhub.regions.seed import seed as seed_regions

    engine = db.make_engine()
    db.upgrade(engine)
    print_report(seed_family(engine), as_json=False)
    print_report(seed_helpdesk(engine), as_json=False, what="helpdesk")
    regions = seed_regions(engine)
    typer.echo(f"loaded: regions ({regions.profiles} profiles, {regions.events} events)")
    print_report(seed_atlas(engine), as_json=False, what="atlas")


@app.command("load")
def load_files(
    files: list[Path] = typer.Argument(
        ..., exists=True, dir_okay=False, readable=True, help="YAML, JSON, JSON Lines or CSV files"
    ),
    entity: str | None = typer.Option(None, help="entity of CSV files whose name doesn't say"),
    actor: str = typer.Option("cli", help="name recorded in the audit trail"),
    dry_run: bool = typer.Option(False, "--dry-run", help="check and count, store nothing"),
    as_json: bool = typer.Option(False, "--json", help="machine-readable report on stdout"),
) -> None:
    """Load files in ONE transaction: all records are stored, or none and the errors listed."""
    from permedhub import db
    from permedhub.graph.loading import LoadError, load

    engine = db.make_engine()
    db.ensure_ready(engine)
    try:
        if sys.stderr.isatty() and not as_json:
            with Progress(
                TextColumn("loading"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("records"),
                TimeElapsedColumn(),
                console=err,
            ) as bar:
                task = bar.add_task("load", total=None)
                report = load(
                    engine,
                    files,
                    actor=actor,
                    entity=entity,
                    dry_run=dry_run,
                    progress=lambda n: bar.advance(task, n),
                )
        else:
            report = load(engine, files, actor=actor, entity=entity, dry_run=dry_run)
    except LoadError as exc:
        raise refused_load(exc, as_json=as_json) from None
    print_report(report, as_json=as_json, dry_run=dry_run)


@app.command("export")
def export_graph(
    fmt: str = typer.Option(..., "--format", "-f", help="json | jsonld | csv | graphml"),
    out: Path | None = typer.Option(
        None,
        "--out",
        "-o",
        help="file to write (csv: a directory or a .zip); default: stdout (not for csv)",
    ),
) -> None:
    """Write the whole graph: the import format (json, csv), schema.org JSON-LD or GraphML."""
    from permedhub import db
    from permedhub.graph.export import FORMATS, ExportError, export

    if fmt not in FORMATS:
        typer.echo(f"error: --format {fmt!r}: expected one of {', '.join(FORMATS)}", err=True)
        raise typer.Exit(code=2)
    engine = db.make_engine()
    db.ensure_ready(engine)
    try:
        if out is None:
            if fmt == "csv":
                raise ExportError("csv export writes one file per entity: give --out DIR or .zip")
            report = export(engine, fmt, sys.stdout)
        elif sys.stderr.isatty():
            with Progress(
                TextColumn("exporting"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("rows"),
                TimeElapsedColumn(),
                console=err,
            ) as bar:
                task = bar.add_task("export", total=None)
                report = export(engine, fmt, out, progress=lambda n: bar.advance(task, n))
        else:
            report = export(engine, fmt, out)
    except ExportError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    if out is not None:
        err.print(f"wrote {sum(report.counts.values())} records as {fmt} to {out}")


def refused_load(exc: LoadError, as_json: bool) -> typer.Exit:
    """Every problem of a refused load on stderr (and as JSON on stdout with --json); exit 2."""
    if as_json:
        typer.echo(
            json.dumps(
                {"ok": False, "issues": [issue.__dict__ for issue in exc.issues]}, default=str
            )
        )
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(code=2)


def print_report(
    report: LoadReport, *, as_json: bool, dry_run: bool = False, what: str = ""
) -> None:
    counts = {entity: c.__dict__ for entity, c in report.counts.items()}
    if as_json:
        typer.echo(
            json.dumps({"ok": True, "dry_run": dry_run, "batch": report.batch, "counts": counts})
        )
        return
    title = ("would load (dry run)" if dry_run else "loaded") + (f": {what}" if what else "")
    table = Table(title=title)
    for column in ("entity", "created", "changed", "unchanged"):
        table.add_column(column, justify="left" if column == "entity" else "right")
    for entity, c in report.counts.items():
        table.add_row(entity, str(c.created), str(c.changed), str(c.unchanged))
    Console().print(table)
