"""`permedhub regions ...`: barrier and readiness surveys, the readiness index, comparison of
regions and region reports (regions/)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer

from permedhub.cli.errors import fail

app = typer.Typer(
    help="Regional adoption: surveys, readiness index, comparison, reports.", no_args_is_help=True
)

WEIGHTS_HELP = (
    "readiness weights as name=value,... (names: strategy, data, workforce, funding, "
    "engagement, collaboration; unnamed ones weigh 1; >= 0, not all 0; divided by their sum)"
)


def _engine() -> Any:
    from permedhub import db
    from permedhub.regions.seed import ensure_seeded

    engine = db.make_engine()
    db.ensure_ready(engine)
    ensure_seeded(engine)
    return engine


def _weights(text: str | None) -> Any:
    from pydantic import ValidationError

    from permedhub.regions.analysis import parse_weights

    try:
        return parse_weights(text)
    except ValidationError as exc:
        raise fail("--weights: " + "; ".join(e["msg"] for e in exc.errors())) from None
    except ValueError as exc:
        raise fail(f"--weights: {exc}") from None


def _frames(engine: Any) -> tuple[Any, Any]:
    from sqlalchemy.orm import Session

    from permedhub.regions.places import places_frame
    from permedhub.regions.survey import responses_frame

    with Session(engine) as session:
        return responses_frame(session), places_frame(session)


def _emit(payload: dict[str, Any], as_json: bool, out: Path | None, text: str) -> None:
    document = json.dumps(payload, indent=2, default=str)
    if out is not None:
        out.write_text(document + "\n", encoding="utf-8")
    if as_json:
        sys.stdout.write(document + "\n")
    else:
        typer.echo(text)


@app.command("template")
def template(
    out: Path = typer.Argument(..., dir_okay=False, help="file to write: .csv or .xlsx"),
    dictionary: bool = typer.Option(
        False, "--dictionary", help="also print the data dictionary (JSON with --json)"
    ),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output on stdout"),
) -> None:
    """Write the survey template (CSV, or XLSX with a 'dictionary' sheet)."""
    from permedhub.regions.survey import NAMES, data_dictionary, write_template

    try:
        write_template(out)
    except ValueError as exc:
        raise fail(str(exc)) from None
    rows = data_dictionary()
    if as_json:
        payload: dict[str, Any] = {"file": str(out), "columns": list(NAMES)}
        if dictionary:
            payload["dictionary"] = rows
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return
    typer.echo(f"wrote {out} ({len(NAMES)} columns)")
    if dictionary:
        for row in rows:
            typer.echo(f"{row['column']}: {row['allowed']} - {row['meaning']}")


@app.command("import")
def import_file(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    as_json: bool = typer.Option(False, "--json", help="machine-readable report on stdout"),
) -> None:
    """Import a filled-in survey (CSV or XLSX): every row is stored, or none and each problem
    is listed by row and column."""
    from permedhub.regions.survey import SurveyError, import_survey

    engine = _engine()
    try:
        report = import_survey(engine, file)
    except SurveyError as exc:
        issues = [
            {"row": i.row, "column": i.column, "value": i.value, "expected": i.expected}
            for i in exc.issues
        ]
        if as_json:
            sys.stdout.write(json.dumps({"stored": 0, "issues": issues}, indent=2) + "\n")
        for issue in exc.issues[:20]:
            typer.echo(f"{file.name}: {issue}", err=True)
        raise fail(f"{file.name}: {len(exc.issues)} problem(s); nothing was stored") from None
    finally:
        engine.dispose()
    payload = {"stored": report.rows, "batch": report.batch, "regions": report.regions}
    _emit(payload, as_json, None, f"stored {report.rows} answers for {', '.join(report.regions)}")


@app.command("index")
def index(
    weights: str | None = typer.Option(None, "--weights", help=WEIGHTS_HELP),
    seed: int = typer.Option(0, help="seed of the random weight perturbation"),
    draws: int = typer.Option(1000, min=1, help="random weight draws for rank stability"),
    spread: float = typer.Option(0.5, min=0, max=1, help="each weight times U(1-s, 1+s)"),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output on stdout"),
    out: Path | None = typer.Option(None, "--out", help="also write the JSON result here"),
) -> None:
    """The readiness index of every region answered, with its sensitivity to the weights."""
    from permedhub.regions.analysis import (
        frame_records,
        one_at_a_time,
        rank_stability,
        readiness_index,
    )

    parsed = _weights(weights)
    engine = _engine()
    try:
        responses, _ = _frames(engine)
    finally:
        engine.dispose()
    if responses.empty:
        raise fail("no survey answers yet: import a file with `permedhub regions import FILE`")
    table = readiness_index(responses, parsed)
    stability = rank_stability(responses, parsed, spread=spread, draws=draws, seed=seed)
    payload = {
        "weights": parsed.normalised(),
        "index": frame_records(table, "region"),
        "one_at_a_time": frame_records(one_at_a_time(responses, parsed)),
        "rank_stability": frame_records(stability, "region"),
        "seed": seed,
        "draws": draws,
        "spread": spread,
    }
    lines = [f"{r['rank']:>3}  {r['region']:<8} {r['index']:6.1f}" for r in payload["index"]]
    _emit(payload, as_json, out, "\n".join(["rank region    index", *lines]))


@app.command("compare")
def compare_regions(
    regions: list[str] = typer.Argument(..., help="ISO 3166-2 codes, e.g. IT-52 ES-GA"),
    weights: str | None = typer.Option(None, "--weights", help=WEIGHTS_HELP),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output on stdout"),
    out: Path | None = typer.Option(None, "--out", help="also write the JSON result here"),
) -> None:
    """Regions side by side: index, rank, readiness items, barriers, group and density class."""
    from permedhub.regions.analysis import compare, frame_records

    parsed = _weights(weights)
    engine = _engine()
    try:
        responses, places = _frames(engine)
    finally:
        engine.dispose()
    codes = [code.strip().upper() for code in regions]
    try:
        table = compare(responses, places, codes, parsed)
    except ValueError as exc:
        raise fail(str(exc)) from None
    payload = {"weights": parsed.normalised(), "regions": frame_records(table, "region")}
    lines = [
        f"{r['region']:<8} index {r['index']:6.1f}  rank {r['rank']}  "
        f"{r['ris_group'] or '-'} / {r['density_class'] or '-'}"
        for r in payload["regions"]
    ]
    _emit(payload, as_json, out, "\n".join(lines))


@app.command("report")
def report(
    region: str = typer.Argument(..., help="ISO 3166-2 code of the region"),
    out: Path = typer.Option(..., "--out", help="HTML file to write (self-contained)"),
    weights: str | None = typer.Option(None, "--weights", help=WEIGHTS_HELP),
    seed: int = typer.Option(0, help="seed of the random weight perturbation"),
    as_json: bool = typer.Option(False, "--json", help="print {file, region} on stdout"),
) -> None:
    """Write a region's readiness report as one self-contained HTML file."""
    from permedhub.regions.report import render_html, write_html

    parsed = _weights(weights)
    engine = _engine()
    try:
        responses, places = _frames(engine)
    finally:
        engine.dispose()
    try:
        text = render_html(responses, places, region.strip().upper(), parsed, seed=seed)
    except ValueError as exc:
        raise fail(str(exc)) from None
    write_html(text, out)
    if as_json:
        sys.stdout.write(json.dumps({"file": str(out), "region": region.upper()}) + "\n")
    else:
        typer.echo(f"wrote {out}")
