"""`permedhub hecon icers | evpi | evppi`: thin shells over ``permedhub.hecon.cea`` / ``voi``.

These are plain functions; ``permedhub.cli.hecon`` registers them on its Typer app
(``app.command("icers")(icers)``). Each parses the CSV and options (Pydantic at the boundary),
calls one library function and renders a Rich table, JSON (``--json``) or a self-contained
HTML report (``--out``). Bad input goes to stderr naming the file, column and row; exit code 2.

File formats:

- ``icers``: columns ``strategy,cost,effect``, one row per strategy.
- ``evpi`` / ``evppi``: one row per PSA draw with ``cost_<strategy>`` and
  ``effect_<strategy>`` for every strategy, and one column per parameter.
"""

from __future__ import annotations

import html
import io
import json
import math
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import BaseModel, Field, ValidationError, field_validator
from rich.console import Console
from rich.table import Table

from permedhub.cli.errors import fail
from permedhub.cli.lazy import lazy_module
from permedhub.hecon.errors import HeconError, read_input_file, validation_problems

# pandas, Plotly and the engine load when a command first uses them (fast `--help`).
if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

    from permedhub.hecon import cea, plots, voi
else:
    pd = lazy_module("pandas")
    cea = lazy_module("permedhub.hecon.cea")
    plots = lazy_module("permedhub.hecon.plots")
    voi = lazy_module("permedhub.hecon.voi")

COST_PREFIX = "cost_"
EFFECT_PREFIX = "effect_"

_out = Console()


class Metamodel(StrEnum):
    gam = "gam"
    gp = "gp"


class CsvInputError(ValueError):
    """A CSV file does not have the expected layout (names the file, column and row)."""


def _emit_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, indent=2, allow_nan=False) + "\n")


def _none_if_nan(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {str(k): _none_if_nan(v.item() if hasattr(v, "item") else v) for k, v in row.items()}
        for row in frame.to_dict(orient="records")
    ]


# --------------------------------------------------------------------------- file schemas


class IcerRow(BaseModel):
    """One row of an ``icers`` input file."""

    strategy: str = Field(min_length=1)
    cost: float = Field(allow_inf_nan=False)
    effect: float = Field(allow_inf_nan=False)


class VoiOptions(BaseModel):
    """Options shared by ``evpi`` and ``evppi``."""

    wtp: list[float] = Field(min_length=1)

    @field_validator("wtp")
    @classmethod
    def _non_negative(cls, values: list[float]) -> list[float]:
        for value in values:
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"expected finite thresholds >= 0, got {value}")
        return values


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        text = read_input_file(path, "FILE")
    except HeconError as error:
        raise CsvInputError(str(error)) from None
    try:
        frame = pd.read_csv(
            io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True
        )
    except pd.errors.EmptyDataError:
        raise CsvInputError(f"{path}: the file is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise CsvInputError(f"{path}: not a readable CSV file ({error})") from None
    if frame.empty:
        raise CsvInputError(f"{path}: no data rows under the header")
    return frame


def _require_columns(path: Path, frame: pd.DataFrame, columns: list[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise CsvInputError(
            f"{path}: missing column(s) {missing}; found {[str(c) for c in frame.columns]}"
        )


def _numeric(path: Path, frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Convert ``columns`` to floats; name the first bad cell by column and row (1 = first
    data row, i.e. line 2 of the file)."""
    converted = {}
    for column in columns:
        values = pd.to_numeric(frame[column].str.strip(), errors="coerce")
        bad = values.isna() | values.isin([math.inf, -math.inf])
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0])
            raise CsvInputError(
                f"{path}: column {column!r}, row {row + 1} (line {row + 2}): expected a finite "
                f"number, got {frame[column].iloc[row]!r}"
            )
        converted[column] = values.astype(float)
    return pd.DataFrame(converted)


def read_icer_file(path: Path) -> list[IcerRow]:
    """Read and validate an ``icers`` file (columns strategy, cost, effect)."""
    frame = _read_csv(path)
    _require_columns(path, frame, ["strategy", "cost", "effect"])
    rows = []
    for index, record in enumerate(frame[["strategy", "cost", "effect"]].to_dict("records")):
        try:
            rows.append(IcerRow.model_validate(record))
        except ValidationError as error:
            first = error.errors()[0]
            column = first["loc"][0] if first["loc"] else "?"
            raise CsvInputError(
                f"{path}: column {column!r}, row {index + 1} (line {index + 2}): "
                f"{first['msg']}, got {record.get(str(column))!r}"
            ) from None
    names = [r.strategy for r in rows]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise CsvInputError(f"{path}: column 'strategy': names repeat: {repeated}")
    return rows


def read_psa_file(path: Path) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Read a PSA file: returns the numeric frame, the strategies and the parameter columns."""
    frame = _read_csv(path)
    try:
        layout = cea.wide_psa_layout(frame.columns, COST_PREFIX, EFFECT_PREFIX, min_strategies=2)
    except cea.AnalysisInputError as error:
        raise CsvInputError(f"{path}: {error}") from None
    numeric = _numeric(path, frame, layout.cost_columns + layout.effect_columns)
    return (
        pd.concat([numeric, frame[layout.parameters]], axis=1),
        layout.strategies,
        layout.parameters,
    )


def _parse_wtp(text: str) -> VoiOptions:
    try:
        values = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise fail(f"--wtp = {text!r} is invalid: expected comma-separated numbers") from None
    try:
        return VoiOptions(wtp=values)
    except ValidationError as error:
        problems = validation_problems(error, {"wtp": values})
        detail = "; ".join(p.message for p in problems)
        raise fail(f"--wtp = {text!r} is invalid: {detail}") from None


# --------------------------------------------------------------------------- report


def _write_report(
    path: Path, title: str, inputs: dict[str, Any], table: pd.DataFrame, figure: go.Figure
) -> None:
    import plotly.io as pio

    listing = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
        for k, v in inputs.items()
    )
    body = (
        f"<h1>{html.escape(title)}</h1><h2>Inputs</h2><table>{listing}</table>"
        f"<h2>Results</h2>{table.to_html(index=False, na_rep='')}"
        f"{pio.to_html(figure, include_plotlyjs=True, full_html=False)}"
    )
    document = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head><body>{body}</body></html>"
    )
    try:
        path.write_text(document, encoding="utf-8")
    except OSError as error:
        raise fail(f"--out {path}: cannot write the report ({error.strerror})") from None


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


# --------------------------------------------------------------------------- commands


def icers(
    file: Annotated[Path, typer.Argument(help="CSV with columns strategy,cost,effect.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON to stdout.")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Write an HTML report.")] = None,
) -> None:
    """Incremental cost-effectiveness table with strong (D) and extended (ED) dominance."""
    try:
        rows = read_icer_file(file)
        table = cea.calculate_icers(
            [r.cost for r in rows], [r.effect for r in rows], [r.strategy for r in rows]
        )
    except (CsvInputError, cea.AnalysisInputError) as error:
        raise fail(str(error)) from None
    if out is not None:
        _write_report(
            out, "Incremental cost-effectiveness", {"file": file}, table, plots.icers_figure(table)
        )
    if as_json:
        _emit_json({"file": str(file), "icers": _records(table)})
        return
    rich_table = Table(title=f"Incremental cost-effectiveness ({file.name})")
    for header in ("Strategy", "Cost", "Effect", "Inc. cost", "Inc. effect", "ICER", "Status"):
        rich_table.add_column(header, justify="left" if header == "Strategy" else "right")
    for record in _records(table):
        rich_table.add_row(
            str(record["strategy"]),
            _fmt(record["cost"]),
            _fmt(record["effect"], 4),
            _fmt(record["inc_cost"]),
            _fmt(record["inc_effect"], 4),
            _fmt(record["icer"]),
            str(record["status"]),
        )
    _out.print(rich_table)


def evpi(
    file: Annotated[Path, typer.Argument(help="PSA CSV: cost_<s>, effect_<s> per draw.")],
    wtp: Annotated[str, typer.Option("--wtp", help="Threshold(s), e.g. 20000 or 0,10000,20000.")],
    population: Annotated[
        float | None, typer.Option("--population", help="People affected per year.")
    ] = None,
    horizon: Annotated[int, typer.Option("--horizon", help="Years the decision lasts.")] = 1,
    discount_rate: Annotated[
        float, typer.Option("--discount-rate", help="Discount rate for the population.")
    ] = 0.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON to stdout.")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Write an HTML report.")] = None,
) -> None:
    """Expected value of perfect information per person (and population with --population)."""
    options = _parse_wtp(wtp)
    try:
        frame, strategies, _ = read_psa_file(file)
        psa = cea.psa_from_wide_frame(frame, COST_PREFIX, EFFECT_PREFIX)
        result = voi.population_evpi(
            psa,
            options.wtp,
            population if population is not None else 1.0,
            horizon,
            discount_rate,
        )
    except (CsvInputError, cea.AnalysisInputError) as error:
        raise fail(str(error)) from None
    if population is None:
        result = result.drop(columns=["population", "evpi_population"])
    inputs = {
        "file": file,
        "wtp": options.wtp,
        "population": population,
        "horizon": horizon,
        "discount_rate": discount_rate,
    }
    if out is not None:
        _write_report(
            out, "Expected value of perfect information", inputs, result, plots.evpi_figure(result)
        )
    if as_json:
        _emit_json(
            {
                "file": str(file),
                "strategies": strategies,
                "n_draws": psa.n_draws,
                "evpi": _records(result),
            }
        )
        return
    rich_table = Table(title=f"EVPI ({file.name}, {psa.n_draws} draws)")
    for header in result.columns:
        rich_table.add_column(str(header), justify="right")
    for record in _records(result):
        rich_table.add_row(*(_fmt(record[c]) for c in result.columns))
    _out.print(rich_table)


def evppi(
    file: Annotated[Path, typer.Argument(help="PSA CSV with parameter columns.")],
    wtp: Annotated[str, typer.Option("--wtp", help="Threshold(s), e.g. 20000.")],
    params: Annotated[
        list[str],
        typer.Option(
            "--params",
            help="Parameters learnt together, comma-separated; repeat for several sets.",
        ),
    ],
    method: Annotated[
        Metamodel, typer.Option("--method", help="Metamodel: gam or gp.")
    ] = Metamodel.gam,
    seed: Annotated[int, typer.Option("--seed", help="Seed (GP subsamples).")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON to stdout.")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Write an HTML report.")] = None,
) -> None:
    """Expected value of partial perfect information of parameter sets (regression metamodel)."""
    options = _parse_wtp(wtp)
    sets = [[p.strip() for p in text.split(",") if p.strip()] for text in params]
    if not sets or any(not group for group in sets):
        raise fail(f"--params = {params!r} is invalid: expected parameter names")
    try:
        frame, strategies, parameter_columns = read_psa_file(file)
        unknown = sorted({p for group in sets for p in group} - set(parameter_columns))
        if unknown:
            raise CsvInputError(
                f"--params: unknown parameter(s) {unknown}; columns of {file}: {parameter_columns}"
            )
        inputs_frame = _numeric(file, frame, sorted({p for g in sets for p in g}))
        psa = cea.psa_from_wide_frame(frame, COST_PREFIX, EFFECT_PREFIX)
        result = voi.evppi(psa, inputs_frame, sets, wtp=options.wtp, method=method.value, seed=seed)
    except (CsvInputError, cea.AnalysisInputError) as error:
        raise fail(str(error)) from None
    inputs = {
        "file": file,
        "wtp": options.wtp,
        "params": sets,
        "method": method.value,
        "seed": seed,
    }
    if out is not None:
        _write_report(
            out,
            "Expected value of partial perfect information",
            inputs,
            result,
            plots.evppi_bar_figure(result, wtp=options.wtp[0]),
        )
    if as_json:
        _emit_json(
            {
                "file": str(file),
                "strategies": strategies,
                "n_draws": psa.n_draws,
                "method": method.value,
                "evppi": _records(result),
            }
        )
        return
    rich_table = Table(title=f"EVPPI ({file.name}, {psa.n_draws} draws, {method.value})")
    for header in ("parameters", "wtp", "evppi", "evpi"):
        rich_table.add_column(header, justify="left" if header == "parameters" else "right")
    for record in _records(result):
        rich_table.add_row(
            str(record["parameters"]),
            _fmt(record["wtp"]),
            _fmt(record["evppi"]),
            _fmt(record["evpi"]),
        )
    _out.print(rich_table)
