"""`permedhub trials simulate` (and `examples`): thin shells over `permedhub.trials.simulate`.

These are plain functions with Typer annotations; `permedhub.cli.trials` registers them on
the `trials` command group. They parse options, call `load_design` + `simulate_design`, and
render: a Rich table (stdout), JSON (`--json`, nothing else on stdout) and/or a
self-contained HTML report (`--out`). Errors go to stderr with exit code 2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from permedhub.cli.errors import fail
from permedhub.trials.errors import TrialInputError
from permedhub.trials.examples import example_names, example_path

if TYPE_CHECKING:
    from permedhub.trials.simulate import SimulationReport

_out = Console()
_err = Console(stderr=True, soft_wrap=True)


def _render_table(report: SimulationReport) -> None:
    for scenario in report.scenarios:
        kind = "exact" if scenario.exact else f"{report.n_sim:,} simulated trials"
        table = Table(title=f"{scenario.name} ({kind}, seed {report.seed})")
        for column in ("result", "estimate", "MC SE"):
            table.add_column(column, justify="left" if column == "result" else "right")
        for metric, value in scenario.metrics.items():
            table.add_row(metric, f"{value['estimate']:.5g}", f"{value['mc_se']:.2g}")
        _out.print(table)


def simulate(
    design: Annotated[Path, typer.Argument(help="Design document (YAML or JSON).")],
    n_sim: Annotated[int, typer.Option("--n-sim", help="Simulated trials per scenario.")] = 10_000,
    seed: Annotated[int, typer.Option("--seed", help="Seed (same seed, same bits).")] = 1,
    engine: Annotated[
        str, typer.Option("--engine", help="summary | patient (enrichment designs).")
    ] = "summary",
    workers: Annotated[int, typer.Option("--workers", help="Local worker processes.")] = 1,
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="Dask scheduler address, or 'local' for a local cluster."),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="JSON to stdout.")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Write an HTML report.")] = None,
) -> None:
    """Simulate a trial design document: operating characteristics with Monte-Carlo SEs."""
    from pydantic import ValidationError

    from permedhub.trials.design_spec import design_problems, load_design
    from permedhub.trials.report import write_html
    from permedhub.trials.simulate import simulate_design

    try:
        spec = load_design(design)
        if sys.stderr.isatty() and not json_output:
            with Progress(
                TextColumn("simulating"), BarColumn(), TextColumn("{task.completed:,}"),
                TimeRemainingColumn(), console=_err, transient=True,
            ) as bar:  # fmt: skip
                task = bar.add_task("simulate", total=None)
                report = simulate_design(
                    spec, n_sim, seed, engine=engine, workers=workers,  # type: ignore[arg-type]
                    scheduler=scheduler,
                    progress=lambda done, total: bar.update(task, completed=done, total=total),
                )  # fmt: skip
        else:
            report = simulate_design(
                spec, n_sim, seed, engine=engine, workers=workers,  # type: ignore[arg-type]
                scheduler=scheduler,
            )  # fmt: skip
    except TrialInputError as error:
        raise fail(str(error)) from error
    except ValidationError as error:
        details = "; ".join(design_problems(error))
        raise fail(f"invalid design document {design}: {details}") from error
    if out is not None:
        write_html(report, out)
    if json_output:
        sys.stdout.write(json.dumps(report.to_dict(), indent=2, default=str) + "\n")
        return
    _render_table(report)
    if out is not None:
        _out.print(f"report written to {out}")


def examples(
    name: Annotated[str | None, typer.Argument(help="Print this example's YAML.")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="JSON to stdout.")] = False,
) -> None:
    """List the shipped example designs, or print one (to copy and edit)."""
    try:
        if name is None:
            names = example_names()
            if json_output:
                sys.stdout.write(json.dumps(names) + "\n")
            else:
                for entry in names:
                    _out.print(entry)
            return
        text = example_path(name).read_text(encoding="utf-8")
    except TrialInputError as error:
        raise fail(str(error)) from error
    if json_output:
        sys.stdout.write(json.dumps({"name": name, "yaml": text}) + "\n")
    else:
        sys.stdout.write(text)
