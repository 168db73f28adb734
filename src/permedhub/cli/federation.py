"""`permedhub federation ...`: ask the registered nodes for feasibility counts; make
synthetic regional data. A thin shell over `permedhub.federation`.

Exit codes of `query`: 0 every node answered; 1 at least one node did not (each is reported);
2 bad input (cohort or nodes file).
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from permedhub.cli.errors import fail

app = typer.Typer(help="Federated feasibility counts over regional OMOP nodes.",
                  no_args_is_help=True)  # fmt: skip
_err = Console(stderr=True, soft_wrap=True)
_out = Console()


@app.command("query")
def query(
    cohort_file: Path = typer.Argument(..., help="the cohort definition (JSON)"),
    nodes_file: Path = typer.Option(..., "--nodes", help="YAML list of nodes and credentials"),
    as_json: bool = typer.Option(False, "--json", help="the result as JSON on stdout"),
    out: Path | None = typer.Option(None, "--out", help="also write the JSON result here"),
) -> None:
    """Send the cohort to every node at once; print each node's outcome and the total."""
    from permedhub.federation.cohort import CohortError, parse_cohort
    from permedhub.federation.hub import NodesFileError, load_nodes, query_nodes

    try:
        cohort = parse_cohort(cohort_file.read_bytes())
    except OSError as exc:
        raise fail(f"cohort file {cohort_file}: {exc}") from None
    except CohortError as exc:
        for problem in exc.problems:
            _err.print(f"error: {cohort_file}: {problem}", markup=False, highlight=False)
        raise typer.Exit(2) from None
    try:
        nodes = load_nodes(nodes_file)
    except NodesFileError as exc:
        raise fail(str(exc)) from None
    result = query_nodes(cohort, nodes)
    data = result.as_dict()
    if out is not None:
        out.write_text(json.dumps(data, indent=2), encoding="utf-8")
    if as_json:
        typer.echo(json.dumps(data))
    else:
        table = Table("node", "status", "count", "seconds", "detail", title=cohort.name)
        for o in result.nodes:
            count = "-" if o.status != "answered" else (
                "suppressed" if o.count is None else str(o.count))  # fmt: skip
            detail = "" if o.detail is None else (
                o.detail if isinstance(o.detail, str) else json.dumps(o.detail))  # fmt: skip
            table.add_row(o.node, o.status, count, f"{o.seconds:.2f}", detail[:160])
        _out.print(table)
        _out.print(f"total: {result.total} (from {', '.join(result.nodes_in_total) or 'no node'})")
        for caveat in result.caveats:
            _out.print(f"- {caveat}", markup=False)
    if result.not_answered:
        raise typer.Exit(1)


@app.command("synth")
def synth(
    data: str = typer.Option(..., "--data", help="where to write: duckdb:///PATH or a "
                             "SQLAlchemy URL of an empty database"),
    region: str = typer.Option(..., "--region", help="north, south, east, west, islands, or "
                               "any name (default profile)"),
    persons: int = typer.Option(10_000, "--persons", min=1, help="number of persons"),
    seed: int = typer.Option(0, "--seed", help="random seed (same seed, same data)"),
    as_json: bool = typer.Option(False, "--json", help="print the planted counts as JSON"),
) -> None:  # fmt: skip
    """Write a SYNTHETIC OMOP CDM v5.4 region (no real patients) with planted prevalences."""
    from permedhub.federation.store import write_tables
    from permedhub.federation.synthetic import generate, region_spec

    try:
        synthetic = generate(region_spec(region, persons, seed))
        write_tables(data, synthetic.tables)
    except Exception as exc:
        raise fail(f"--data {data!r}: {exc}") from None
    if as_json:
        typer.echo(json.dumps(synthetic.planted))
    else:
        _err.print(f"wrote SYNTHETIC region {region} ({persons} persons, seed {seed}) to {data}")
