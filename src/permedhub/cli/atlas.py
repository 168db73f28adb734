"""`permedhub atlas ...`: mapping surveys (template, import) and the atlas's analyses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from permedhub.cli.db import print_report, refused_load

app = typer.Typer(
    help="The atlas: mapping records, coverage, gaps, mutual interest.", no_args_is_help=True
)
err = Console(stderr=True)


def _engine() -> Any:
    from permedhub import db

    engine = db.make_engine()
    db.ensure_ready(engine)
    return engine


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=2)


def _emit(payload: dict[str, Any], out: Path | None) -> None:
    text = json.dumps(payload, default=str, ensure_ascii=False)
    if out is not None:
        out.write_text(text, encoding="utf-8")
        err.print(f"wrote {out}")
    else:
        typer.echo(text)


def _show(title: str, frame: Any, limit: int = 40) -> None:
    table = Table(title=title)
    columns = ["", *map(str, frame.columns)] if frame.index.name else list(map(str, frame.columns))
    for column in columns:
        table.add_column(column)
    for index, row in frame.head(limit).iterrows():
        cells = [str(v if not isinstance(v, float) else round(v, 3)) for v in row.tolist()]
        table.add_row(*([str(index)] if frame.index.name else []), *cells)
    Console().print(table)
    if len(frame) > limit:
        Console().print(f"... {len(frame) - limit} more rows (use --json for all)")


@app.command()
def template(
    out: Path = typer.Option(..., "--out", "-o", file_okay=False, help="folder to write into"),
) -> None:
    """Write the mapping survey's template: survey.csv, survey.xlsx (data dictionary as its
    second sheet) and survey-dictionary.md, with the graph's topic ids."""
    from sqlalchemy import text

    from permedhub.atlas.survey import write_template

    engine = _engine()
    with engine.connect() as connection:
        topics = [
            (row.id, row.name)
            for row in connection.execute(
                text(
                    "SELECT id, name FROM topic WHERE kind <> 'document' ORDER BY parent_id, "
                    "position, id"
                )
            )
        ]
    for path in write_template(out, topics):
        err.print(f"wrote {path}")


@app.command("import")
def import_survey(
    files: list[Path] = typer.Argument(
        ..., exists=True, dir_okay=False, readable=True, help="surveys: .csv, .xlsx, .yaml, .json"
    ),
    actor: str = typer.Option("cli", help="name recorded in the audit trail"),
    dry_run: bool = typer.Option(False, "--dry-run", help="check and count, store nothing"),
    as_json: bool = typer.Option(False, "--json", help="machine-readable report on stdout"),
) -> None:
    """Import mapping surveys in ONE transaction: every row is stored, or none and each problem
    is listed by row and column."""
    from permedhub.atlas.loading import LoadError, load

    try:
        report = load(_engine(), files, actor=actor, dry_run=dry_run)
    except LoadError as exc:
        raise refused_load(exc, as_json=as_json) from None
    print_report(report, as_json=as_json, dry_run=dry_run, what="atlas")


@app.command()
def coverage(
    by: str = typer.Option("country", help="country | region"),
    region: str | None = typer.Option(None, help="only the member countries of this region"),
    as_json: bool = typer.Option(False, "--json", help="machine-readable result on stdout"),
    out: Path | None = typer.Option(None, "--out", "-o", help="write the JSON result here"),
) -> None:
    """Country (or region) x topic matrices: mapping records, participations, funders."""
    from permedhub.atlas.analyses import AtlasError
    from permedhub.atlas.analyses import coverage as run

    try:
        result = run(_engine(), by=by, region=region)
    except AtlasError as exc:
        raise _fail(str(exc)) from None
    if as_json or out:
        _emit(result.as_dict(), out)
        return
    _show("mapping records", result.records)
    _show("participations in family initiatives", result.participations)


@app.command()
def gaps(
    region: str = typer.Argument(..., help="a region id of the graph (africa, celac, ...)"),
    as_json: bool = typer.Option(False, "--json", help="machine-readable result on stdout"),
    out: Path | None = typer.Option(None, "--out", "-o", help="write the JSON result here"),
) -> None:
    """Where a region is weak (topics without capacity), whom to invite, who is absent."""
    from permedhub.atlas.analyses import AtlasError
    from permedhub.atlas.analyses import gaps as run

    try:
        result = run(_engine(), region)
    except AtlasError as exc:
        raise _fail(str(exc)) from None
    if as_json or out:
        _emit(result.as_dict(), out)
        return
    _show("topics without capacity", result.topics_without_capacity)
    _show("to invite (capacity, no participation)", result.to_invite)
    _show("absent from everything", result.absent)


@app.command()
def mutual(
    a: str = typer.Argument(..., help="first region id"),
    b: str = typer.Argument(..., help="second region id"),
    limit: int = typer.Option(20, min=1, help="bridging organisations to list"),
    as_json: bool = typer.Option(False, "--json", help="machine-readable result on stdout"),
    out: Path | None = typer.Option(None, "--out", "-o", help="write the JSON result here"),
) -> None:
    """Areas of mutual interest of two regions, complementarities and bridging organisations."""
    from permedhub.atlas.analyses import AtlasError
    from permedhub.atlas.analyses import mutual as run

    try:
        result = run(_engine(), a, b, limit=limit)
    except AtlasError as exc:
        raise _fail(str(exc)) from None
    if as_json or out:
        _emit(result.as_dict(), out)
        return
    _show("shared topics", result.shared[["topic_id", "share_a", "share_b", "score"]])
    _show("complementarities", result.complementary[["topic_id", "share_a", "share_b", "stronger"]])
    _show("bridging organisations", result.bridges)


@app.command()
def network(
    top: int = typer.Option(50, min=0, help="organisations to list (0: all)"),
    samples: int = typer.Option(50, min=1, help="betweenness samples above 5,000 nodes"),
    seed: int = typer.Option(1, help="seed of the sampled betweenness"),
    as_json: bool = typer.Option(False, "--json", help="machine-readable result on stdout"),
    out: Path | None = typer.Option(None, "--out", "-o", help="write the JSON result here"),
) -> None:
    """Centrality of organisations and countries, links between continents, growth by year."""
    from permedhub.atlas.network import network as run

    result = run(_engine(), top=top, samples=samples, seed=seed)
    if as_json or out:
        _emit(result.as_dict(), out)
        return
    _show("organisations by betweenness", result.organisations, 20)
    _show("countries by betweenness", result.countries, 20)
    _show("links between continents", result.regions)
    _show("growth", result.growth)


@app.command()
def report(
    region: str = typer.Argument(..., help="a region id of the graph"),
    out: Path = typer.Option(..., "--out", "-o", dir_okay=False, help="the HTML file to write"),
    other: str | None = typer.Option(None, "--with", help="also: mutual interest with this region"),
) -> None:
    """A self-contained HTML report of a region (print it to PDF from the browser)."""
    from permedhub.atlas.analyses import AtlasError
    from permedhub.atlas.report import write_report

    try:
        write_report(_engine(), region, out, other=other)
    except AtlasError as exc:
        raise _fail(str(exc)) from None
    err.print(f"wrote {out}")
