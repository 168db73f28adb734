"""Analyses of the survey: barriers by region type, the readiness index, its sensitivity to the
weights, and the comparison of regions. Inputs and outputs are tidy pandas frames.

Readiness index (documented formula). For region r and readiness item d (survey.READINESS),
with m(r, d) the mean of the region's 1-5 answers to d:

    s(r, d)  = (m(r, d) - 1) / 4                       each item scaled to 0..1
    index(r) = 100 * sum_d w(d) * s(r, d) / sum_d w(d)  0 = nothing in place, 100 = all of it

Weights (`Weights`): one per readiness item, default 1 (equal weights); each must be finite
and >= 0 and at least one > 0. They need not sum to 1: they are divided by their sum, so only
their ratios matter (weights 2,2,2,2,2,2 give the same index as 1,1,1,1,1,1).

Ranks: 1 = the highest index; equal indices share the better rank ("min" method).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from permedhub.regions.places import UNKNOWN
from permedhub.regions.survey import BARRIERS, READINESS

GROUPINGS = ("density_class", "ris_group", "stakeholder", "region", "country")


class Weights(BaseModel):
    """Readiness weights by item name (survey.READINESS); unnamed items weigh 1."""

    model_config = ConfigDict(extra="forbid")
    weights: dict[str, float] = Field(default_factory=dict)

    @field_validator("weights")
    @classmethod
    def _known_non_negative(cls, weights: dict[str, float]) -> dict[str, float]:
        for name, value in weights.items():
            if name not in READINESS:
                raise ValueError(
                    f"weight for {name!r}: expected one of the readiness items "
                    f"{', '.join(READINESS)}"
                )
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"weight {name}={value!r}: expected a finite number >= 0")
        return weights

    @model_validator(mode="after")
    def _positive_sum(self) -> Weights:
        if sum(self.vector()) <= 0:
            raise ValueError(
                "every weight is 0: expected at least one positive weight (the index divides "
                "by the weights' sum)"
            )
        return self

    def vector(self) -> np.ndarray:
        return np.array([self.weights.get(name, 1.0) for name in READINESS], dtype=float)

    def normalised(self) -> dict[str, float]:
        vector = self.vector()
        return dict(zip(READINESS, (vector / vector.sum()).tolist(), strict=True))


def parse_weights(text: str | None) -> Weights:
    """`name=value,name=value` (CLI and forms) as Weights; names may omit `readiness_`."""
    weights: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep:
            raise ValueError(f"weight {part!r}: expected name=value")
        if not name.startswith("readiness_"):
            name = f"readiness_{name}"
        try:
            weights[name] = float(value)
        except ValueError:
            raise ValueError(f"weight {part!r}: {value.strip()!r} is not a number") from None
    return Weights(weights=weights)


def with_places(responses: pd.DataFrame, places: pd.DataFrame) -> pd.DataFrame:
    """Answers with their region's group, class and country (UNKNOWN where a region has none)."""
    info = places[["name", "country", "ris_group", "density_class"]].rename(
        columns={"name": "region_name"}
    )
    merged = responses.join(info, on="region")
    for column in ("ris_group", "density_class"):
        merged[column] = merged[column].fillna(UNKNOWN)
    return merged


def barriers_by(responses: pd.DataFrame, places: pd.DataFrame, by: str) -> pd.DataFrame:
    """Tidy: one row per (group, barrier) with answers, regions, mean and standard deviation."""
    if by not in GROUPINGS:
        raise ValueError(f"grouping {by!r}: expected one of {', '.join(GROUPINGS)}")
    merged = with_places(responses, places)
    long = merged.melt(
        id_vars=[by, "region"] if by != "region" else ["region"],
        value_vars=list(BARRIERS),
        var_name="barrier",
        value_name="score",
    )
    grouped = long.groupby([by, "barrier"], sort=True)
    table = grouped["score"].agg(answers="count", mean="mean", sd="std").reset_index()
    regions = grouped["region"].nunique().rename("regions").reset_index()
    table = table.merge(regions, on=[by, "barrier"])
    table["barrier"] = pd.Categorical(table["barrier"], categories=list(BARRIERS), ordered=True)
    return (
        table.rename(columns={by: "group"})
        .assign(grouping=by)[["grouping", "group", "barrier", "answers", "regions", "mean", "sd"]]
        .sort_values(["group", "barrier"])
        .reset_index(drop=True)
    )


def item_scores(responses: pd.DataFrame) -> pd.DataFrame:
    """s(r, d): each region's mean readiness answers scaled to 0..1 (regions by code)."""
    means = responses.groupby("region")[list(READINESS)].mean()
    return (means - 1.0) / 4.0


def readiness_index(responses: pd.DataFrame, weights: Weights | None = None) -> pd.DataFrame:
    """Index and rank per region, with the answers it rests on, best first."""
    weights = weights or Weights()
    scores = item_scores(responses)
    vector = weights.vector()
    index = 100.0 * (scores.to_numpy() @ vector) / vector.sum()
    frame = pd.DataFrame(
        {
            "index": index,
            "answers": responses.groupby("region").size().reindex(scores.index).to_numpy(),
        },
        index=scores.index,
    )
    frame["rank"] = frame["index"].rank(ascending=False, method="min").astype(int)
    return frame.sort_values(["rank", "index"]).rename_axis("region")


def _ranks(scores: np.ndarray, vector: np.ndarray) -> np.ndarray:
    index = scores @ vector / vector.sum()
    return pd.Series(index).rank(ascending=False, method="min").to_numpy()


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) < 2 or np.std(a) == 0 or np.std(b) == 0:
        return 1.0 if np.array_equal(a, b) else float("nan")
    return float(np.corrcoef(pd.Series(a).rank(), pd.Series(b).rank())[0, 1])


def one_at_a_time(
    responses: pd.DataFrame, weights: Weights | None = None, factors: tuple[float, ...] = (0.5, 1.5)
) -> pd.DataFrame:
    """Each weight multiplied by each factor in turn (others kept): the ranks' Spearman
    correlation with the base ranks, the largest rank shift and whether the leader changes."""
    weights = weights or Weights()
    scores = item_scores(responses)
    matrix = scores.to_numpy()
    base_vector = weights.vector()
    base = _ranks(matrix, base_vector)
    rows = []
    for position, item in enumerate(READINESS):
        for factor in factors:
            if factor < 0:
                raise ValueError(f"factor {factor}: expected a number >= 0")
            vector = base_vector.copy()
            vector[position] *= factor
            if vector.sum() <= 0:
                continue  # every other weight is 0: no index to compare
            ranks = _ranks(matrix, vector)
            rows.append({
                "item": item, "factor": factor,
                "weight": float(vector[position] / vector.sum()),
                "spearman": _spearman(base, ranks),
                "max_rank_shift": int(np.max(np.abs(ranks - base))) if len(ranks) else 0,
                "leader_kept": bool(len(ranks) == 0 or set(np.flatnonzero(ranks == 1))
                                    == set(np.flatnonzero(base == 1))),
            })  # fmt: skip
    return pd.DataFrame(
        rows, columns=["item", "factor", "weight", "spearman", "max_rank_shift", "leader_kept"]
    )


def rank_stability(
    responses: pd.DataFrame,
    weights: Weights | None = None,
    *,
    spread: float = 0.5,
    draws: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """Every weight multiplied by an independent U(1 - spread, 1 + spread) draw, `draws` times:
    per region its base rank, the share of draws keeping it, and the best and worst rank seen."""
    if not 0 <= spread <= 1:
        raise ValueError(f"spread {spread}: expected a number from 0 to 1")
    if draws < 1:
        raise ValueError(f"draws {draws}: expected at least 1")
    weights = weights or Weights()
    scores = item_scores(responses)
    matrix = scores.to_numpy()
    base_vector = weights.vector()
    base = _ranks(matrix, base_vector)
    rng = np.random.default_rng(seed)
    multipliers = rng.uniform(1 - spread, 1 + spread, size=(draws, len(READINESS)))
    vectors = multipliers * base_vector
    vectors = vectors[vectors.sum(axis=1) > 0]
    indices = matrix @ vectors.T / vectors.sum(axis=1)  # regions x draws
    ranks = pd.DataFrame(indices).rank(ascending=False, method="min").to_numpy()
    return pd.DataFrame(
        {
            "base_rank": base.astype(int),
            "kept_share": (ranks == base[:, None]).mean(axis=1),
            "best_rank": ranks.min(axis=1).astype(int),
            "worst_rank": ranks.max(axis=1).astype(int),
        },
        index=scores.index,
    ).sort_values("base_rank")


def compare(
    responses: pd.DataFrame,
    places: pd.DataFrame,
    regions: list[str] | None = None,
    weights: Weights | None = None,
) -> pd.DataFrame:
    """Regions side by side: index and rank (among all regions answered), each readiness item
    scaled 0..100, the mean of each barrier, innovation group and density class."""
    index = readiness_index(responses, weights)
    items = (item_scores(responses) * 100).add_prefix("score_")
    barriers = responses.groupby("region")[list(BARRIERS)].mean().add_prefix("mean_")
    frame = index.join(items).join(barriers)
    frame = frame.join(places[["name", "ris_group", "density_class"]])
    if regions:
        unknown = sorted(set(regions) - set(frame.index))
        if unknown:
            raise ValueError(
                f"regions {', '.join(unknown)}: expected regions with survey answers "
                f"({', '.join(frame.index) or 'none yet'})"
            )
        frame = frame.loc[regions]
    return frame


def frame_records(frame: pd.DataFrame, index_name: str | None = None) -> list[dict[str, object]]:
    """A frame as JSON-ready records (NaN as None), its index as a column when named."""
    table = frame.reset_index() if index_name else frame
    table = table.astype(object).where(pd.notna(table), None)
    return [
        {str(k): (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}
        for row in table.to_dict(orient="records")
    ]


def weights_table(weights: Weights) -> Mapping[str, float]:
    return weights.normalised()
