"""Deterministic sensitivity analysis: one-way, two-way, tornado and threshold analysis.

Because the Markov engine is vectorised over draws, a DSA is a single run: every scenario
(one parameter at its low or high value, or one cell of a two-way grid) is one pseudo-draw in
which all other parameters keep their base-case values. Parameters may be stochastic or
expression parameters (the expression is then replaced by the value); strategy-specific
overrides keep precedence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from permedhub.hecon.errors import HeconError
from permedhub.hecon.markov import MarkovModel


def _base_inputs(model: MarkovModel, names: Sequence[str]) -> dict[str, float]:
    """Base-case values of the named parameters (evaluated for expression parameters)."""
    base = {k: float(v[0]) for k, v in model.params.base_values().items()}
    missing = [n for n in names if n not in base]
    if missing:
        unknown = [n for n in missing if n not in model.params.expressions]
        if unknown:
            raise HeconError(f"DSA: unknown parameters {unknown}")
        strat = model.strategies[0]
        ns = strat.evaluator.namespace(model.params.base_values())
        for n in missing:
            v = np.asarray(ns[n])
            if v.size != 1:
                raise HeconError(
                    f"DSA: parameter {n!r} varies over time; vary the inputs it is built from"
                )
            base[n] = float(v.reshape(-1)[0])
    return base


def _run_scenarios(model: MarkovModel, columns: Mapping[str, np.ndarray]) -> pd.DataFrame:
    result = model.run(sampled=dict(columns))
    return result.summary


def deterministic(model: MarkovModel) -> pd.DataFrame:
    """Base-case results per strategy (cost by category and perspective, QALY, LY)."""
    return model.run().mean()


def parse_ranges(text: str | Iterable[str]) -> dict[str, tuple[float, float]]:
    """Sensitivity ranges written 'name=low:high': one text with the ranges separated by
    commas, semicolons or lines ('rr=0.365:0.71, c_lam=1500:2500'), or one range per item."""
    parts = re.split(r"[,;\n]+", text) if isinstance(text, str) else list(text)
    ranges: dict[str, tuple[float, float]] = {}
    for part in (p.strip() for p in parts):
        if not part:
            continue
        name, equals, bounds = part.partition("=")
        low, colon, high = bounds.partition(":")
        try:
            if not (equals and colon):
                raise ValueError
            values = (float(low), float(high))
        except ValueError:
            raise HeconError(f"{part!r}: expected name=low:high, e.g. rr=0.4:0.7") from None
        if not name.strip():
            raise HeconError(f"{part!r}: the parameter name is missing")
        if name.strip() in ranges:
            raise HeconError(f"{part!r}: {name.strip()!r} is given twice")
        ranges[name.strip()] = values
    return ranges


def one_way(
    model: MarkovModel, ranges: Mapping[str, tuple[float, float]], wtp: float | None = None
) -> pd.DataFrame:
    """Each parameter at its low and high value, others at base case.

    Columns: parameter, bound (low/high), value, strategy, cost, effect[, nmb]."""
    names = list(ranges)
    base = _base_inputs(model, names)
    rows: list[tuple[str, str, float]] = []
    for n in names:
        low, high = ranges[n]
        rows += [(n, "low", float(low)), (n, "high", float(high))]
    columns = {n: np.full(len(rows), base[n]) for n in names}
    for i, (n, _, v) in enumerate(rows):
        columns[n][i] = v
    summary = _run_scenarios(model, columns)
    effect = model.settings.effect
    out = summary[["strategy", "draw", "cost", effect]].rename(columns={effect: "effect"})
    meta = pd.DataFrame(rows, columns=["parameter", "bound", "value"])
    meta["draw"] = np.arange(len(rows))
    out = meta.merge(out, on="draw").drop(columns="draw")
    if wtp is not None:
        out["nmb"] = wtp * out["effect"] - out["cost"]
    return out


def tornado(
    model: MarkovModel,
    ranges: Mapping[str, tuple[float, float]],
    intervention: str,
    comparator: str,
    wtp: float,
) -> tuple[pd.DataFrame, float]:
    """Tornado data for the incremental NMB of `intervention` vs `comparator` at `wtp`.

    Returns (rows sorted by decreasing swing with columns parameter, low, high, low_value,
    high_value, swing; base-case incremental NMB)."""
    base_res = model.run().mean()
    effect = model.settings.effect

    def inmb(frame: pd.DataFrame) -> float:
        return float(
            wtp * (frame.loc[intervention, effect] - frame.loc[comparator, effect])
            - (frame.loc[intervention, "cost"] - frame.loc[comparator, "cost"])
        )

    for s in (intervention, comparator):
        if s not in base_res.index:
            raise HeconError(f"tornado: unknown strategy {s!r}; strategies: {list(base_res.index)}")
    base_value = inmb(base_res)
    ow = one_way(model, ranges)
    rows = []
    for n in ranges:
        vals = {}
        for bound in ("low", "high"):
            part = ow[(ow.parameter == n) & (ow.bound == bound)].set_index("strategy")
            part = part.rename(columns={"effect": effect})
            vals[bound] = inmb(part)
        rows.append(
            {
                "parameter": n,
                "low": vals["low"],
                "high": vals["high"],
                "low_value": ranges[n][0],
                "high_value": ranges[n][1],
                "swing": abs(vals["high"] - vals["low"]),
            }
        )
    table = pd.DataFrame(rows).sort_values("swing", ascending=False, ignore_index=True)
    return table, base_value


def two_way(
    model: MarkovModel,
    first: tuple[str, Sequence[float]],
    second: tuple[str, Sequence[float]],
    wtp: float | None = None,
) -> pd.DataFrame:
    """Grid of two parameters; columns: <first>, <second>, strategy, cost, effect[, nmb]."""
    (n1, v1), (n2, v2) = first, second
    if n1 == n2:
        raise HeconError("two-way DSA needs two different parameters")
    _base_inputs(model, [n1, n2])  # validates the names
    g1, g2 = np.meshgrid(np.asarray(v1, float), np.asarray(v2, float), indexing="ij")
    columns = {n1: g1.reshape(-1), n2: g2.reshape(-1)}
    summary = _run_scenarios(model, columns)
    effect = model.settings.effect
    out = summary[["strategy", "draw", "cost", effect]].rename(columns={effect: "effect"})
    out[n1] = columns[n1][out["draw"].to_numpy()]
    out[n2] = columns[n2][out["draw"].to_numpy()]
    if wtp is not None:
        out["nmb"] = wtp * out["effect"] - out["cost"]
    return out[[n1, n2, "strategy", "cost", "effect", *(["nmb"] if wtp is not None else [])]]


def threshold(
    model: MarkovModel,
    parameter: str,
    bracket: tuple[float, float],
    intervention: str,
    comparator: str,
    wtp: float,
    xtol: float = 1e-8,
) -> float:
    """Value of `parameter` at which the incremental NMB of `intervention` vs `comparator` is
    zero at `wtp` (Brent's method within `bracket`). With a price parameter this is the
    value-based price: the highest price at which the intervention is cost-effective."""
    _base_inputs(model, [parameter])
    effect = model.settings.effect

    def inmb(values: np.ndarray) -> np.ndarray:
        summary = model.run(sampled={parameter: values}).summary
        wide = summary.pivot(index="draw", columns="strategy")
        return np.asarray(
            wtp * (wide[effect][intervention] - wide[effect][comparator])
            - (wide["cost"][intervention] - wide["cost"][comparator])
        )

    lo, hi = (float(b) for b in bracket)
    ends = inmb(np.array([lo, hi]))
    if np.sign(ends[0]) == np.sign(ends[1]):
        raise HeconError(
            f"threshold: incremental NMB has the same sign at {parameter}={lo} ({ends[0]:.6g}) "
            f"and {parameter}={hi} ({ends[1]:.6g}); widen the bracket"
        )
    return float(brentq(lambda x: float(inmb(np.array([x]))[0]), lo, hi, xtol=xtol))
