"""A SYNTHETIC knowledge graph for load and API benchmarks — not data about anything real.

Run:  .venv/bin/python benchmarks/synthetic_graph.py [OUT_DIR] [--orgs N] [--participations N]
      [--initiatives N] [--seed S]

Writes organisations.csv, initiatives.csv and participations.csv (the loader's CSV format) and
MANIFEST.json into OUT_DIR (default benchmarks/data/, git-ignored). Every organisation and
initiative has `synthetic: true`, an id starting "syn-" and a name such as "Synthetic
Organisation 12345"; every row's `source` says it is synthetic. Nothing here loads the files:
benchmarks/graph_api.py loads them into a throw-away database of its own.

The mix (default 100,000 organisations, 2,000 initiatives, 1,000,000 participations) imitates
the shape of EU research networks, not their facts: organisation kinds and countries are drawn
from fixed weights (Europe-heavy, with CELAC, African, Asian and North American partners), 15 %
of organisations sit in an ISO 3166-2 subdivision, initiative sizes are log-normal and a few
organisations take part in very many initiatives (Pareto activity). Each initiative has exactly
one coordinator; participations span their initiative's dates (some partners join later).
The same arguments and seed give byte-identical files.
"""

from __future__ import annotations

import argparse
import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pycountry

DEFAULT_OUT = Path(__file__).resolve().parent / "data"
DEFAULT_SEED = 20261128
SOURCE = "SYNTHETIC benchmark record (benchmarks/synthetic_graph.py, seed {seed}); not real data"

ORGANISATION_KINDS = {
    "university": 0.30,
    "research-institute": 0.20,
    "hospital": 0.15,
    "company": 0.12,
    "ngo": 0.05,
    "funder": 0.04,
    "agency": 0.04,
    "ministry": 0.02,
    "infrastructure": 0.02,
    "regional-government": 0.02,
    "regulator": 0.01,
    "ethics-committee": 0.02,
    "intergovernmental": 0.01,
}
COUNTRY_WEIGHTS = {
    # Europe
    "DE": 12, "FR": 9, "ES": 9, "IT": 9, "GB": 5, "NL": 5, "BE": 4, "SE": 3, "AT": 3, "PL": 3,
    "CH": 2, "PT": 2, "IE": 2, "DK": 2, "FI": 2, "NO": 2, "GR": 1.5, "CZ": 1.5, "HU": 1,
    "RO": 1, "SI": 0.5, "HR": 0.5, "LV": 0.3, "LT": 0.3, "EE": 0.3, "LU": 0.3, "IL": 1, "TR": 1,
    # the Americas
    "CA": 2, "US": 3, "BR": 2, "AR": 1, "MX": 1, "CL": 0.7, "CO": 0.7, "PE": 0.3, "UY": 0.2,
    "PA": 0.2, "CU": 0.1,
    # Africa
    "ZA": 1, "KE": 0.5, "NG": 0.5, "EG": 0.5, "GH": 0.3, "TZ": 0.3, "ET": 0.3, "SN": 0.2,
    "RW": 0.2, "UG": 0.2,
    # Asia-Pacific
    "CN": 3, "JP": 1, "KR": 0.5, "IN": 1, "SG": 0.3, "AU": 1,
}  # fmt: skip
SUBDIVISION_SHARE = 0.15
INITIATIVE_KINDS = {
    "project": 0.70,
    "csa": 0.15,
    "era-net-cofund": 0.05,
    "infrastructure": 0.04,
    "partnership": 0.03,
    "consortium": 0.03,
}
# Roles other than the one coordinator per initiative.
ROLES = {"partner": 0.72, "associated": 0.10, "funder": 0.08, "member": 0.07, "observer": 0.03}
LATE_JOIN_SHARE = 0.10
UNCERTAIN_END_SHARE = 0.02


@cache
def top_level_subdivisions(country: str) -> tuple[str, ...]:
    """ISO 3166-2 codes of a country's first-level subdivisions (none for some countries)."""
    found = pycountry.subdivisions.get(country_code=country) or []
    return tuple(sorted(s.code for s in found if s.parent_code is None))


def _draw(rng: np.random.Generator, weights: dict[str, float], size: int) -> np.ndarray:
    names = np.array(list(weights))
    p = np.array(list(weights.values()), dtype=float)
    return names[rng.choice(len(names), size=size, p=p / p.sum())]


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pd.Series:
    return prefix + pd.Series(numbers).astype(str).str.zfill(width)


def _month_text(month_index: np.ndarray) -> pd.Series:
    """Months counted from year 0 as "YYYY-MM"."""
    years = pd.Series(month_index // 12).astype(str)
    months = pd.Series(month_index % 12 + 1).astype(str).str.zfill(2)
    return years + "-" + months


def organisations(rng: np.random.Generator, count: int, seed: int) -> pd.DataFrame:
    numbers = np.arange(1, count + 1)
    countries = _draw(rng, COUNTRY_WEIGHTS, count)
    in_subdivision = rng.random(count) < SUBDIVISION_SHARE
    pick = rng.random(count)
    subdivisions = np.full(count, "", dtype=object)
    for country in np.unique(countries[in_subdivision]):
        choices = top_level_subdivisions(str(country))
        rows = np.flatnonzero(in_subdivision & (countries == country))
        if choices:
            subdivisions[rows] = np.array(choices)[(pick[rows] * len(choices)).astype(int)]
    has_acronym = rng.random(count) < 0.4
    return pd.DataFrame(
        {
            "id": _ids("syn-org-", numbers, 6),
            "name": "Synthetic Organisation " + pd.Series(numbers).astype(str),
            "acronym": np.where(has_acronym, "SYN-O" + pd.Series(numbers).astype(str), ""),
            "kind": _draw(rng, ORGANISATION_KINDS, count),
            "country": countries,
            "subdivision": subdivisions,
            "synthetic": "true",
            "source": SOURCE.format(seed=seed),
        }
    )


def initiatives(
    rng: np.random.Generator, count: int, seed: int
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The initiatives, and their start and end as month indices (for the participations)."""
    numbers = np.arange(1, count + 1)
    start = (rng.integers(2008, 2025, count) * 12 + rng.integers(0, 12, count)).astype(np.int64)
    duration = rng.integers(24, 85, count)
    end = start + duration - 1
    start_year = start // 12
    programme = np.select(
        [start_year < 2014, start_year < 2021], ["FP7", "Horizon 2020"], "Horizon Europe"
    )
    contribution = np.round(rng.lognormal(np.log(3e6), 0.8, count), 2)
    total = np.round(contribution * rng.uniform(1.0, 1.6, count), 2)
    frame = pd.DataFrame(
        {
            "id": _ids("syn-ini-", numbers, 5),
            "name": "Synthetic Initiative " + pd.Series(numbers).astype(str),
            "acronym": "SYN-I" + pd.Series(numbers).astype(str),
            "kind": _draw(rng, INITIATIVE_KINDS, count),
            "programme": programme,
            "grant_id": "SYN-" + pd.Series(numbers).astype(str),
            "eu_contribution_eur": contribution,
            "total_budget_eur": total,
            "start": _month_text(start),
            "end": _month_text(end),
            "summary": "Synthetic initiative generated for benchmarking; not a real project.",
            "target_regions": "europe",
            "synthetic": "true",
            "source": SOURCE.format(seed=seed),
        }
    )
    return frame, start, end


def _unique_pairs(
    rng: np.random.Generator, count: int, n_initiatives: int, n_organisations: int
) -> tuple[np.ndarray, np.ndarray]:
    """`count` distinct (initiative, organisation) pairs, sizes log-normal, activity Pareto."""
    if count > n_initiatives * n_organisations:
        raise ValueError(
            f"participations={count} is more than initiatives x organisations "
            f"({n_initiatives} x {n_organisations}) distinct pairs"
        )
    size_weight = rng.lognormal(0.0, 1.0, n_initiatives)
    activity = rng.pareto(1.2, n_organisations) + 1.0
    size_p, activity_p = size_weight / size_weight.sum(), activity / activity.sum()
    keys = np.empty(0, dtype=np.int64)
    while keys.size < count:
        draw = int((count - keys.size) * 1.2) + 1000
        new = rng.choice(n_initiatives, draw, p=size_p).astype(np.int64) * n_organisations
        new += rng.choice(n_organisations, draw, p=activity_p)
        merged = np.concatenate([keys, new])
        _, first = np.unique(merged, return_index=True)
        keys = merged[np.sort(first)]  # first occurrences, in draw order
    keys = np.sort(keys[:count])
    return keys // n_organisations, keys % n_organisations


def participations(
    rng: np.random.Generator,
    count: int,
    n_organisations: int,
    initiative_ids: pd.Series,
    start: np.ndarray,
    end: np.ndarray,
    seed: int,
) -> pd.DataFrame:
    initiative, organisation = _unique_pairs(rng, count, len(initiative_ids), n_organisations)
    roles = _draw(rng, ROLES, count).astype(object)
    # One coordinator per initiative, drawn at random among its participants.
    order = np.lexsort((rng.random(count), initiative))
    first_of_initiative = np.zeros(count, dtype=bool)
    first_of_initiative[order[np.r_[True, initiative[order][1:] != initiative[order][:-1]]]] = True
    roles[first_of_initiative] = "coordinator"
    joins = start[initiative].copy()
    late = (rng.random(count) < LATE_JOIN_SHARE) & ~first_of_initiative
    span = end[initiative] - start[initiative]
    joins[late] += (rng.random(late.sum()) * span[late]).astype(np.int64)
    uncertain = np.where(rng.random(count) < UNCERTAIN_END_SHARE, "end", "")
    return pd.DataFrame(
        {
            "organisation": _ids("syn-org-", organisation + 1, 6),
            "initiative": initiative_ids.to_numpy()[initiative],
            "role": roles,
            "start": _month_text(joins),
            "end": _month_text(end[initiative]),
            "uncertain": uncertain,
            "source": SOURCE.format(seed=seed),
        }
    )


def generate(
    out_dir: Path,
    *,
    n_organisations: int = 100_000,
    n_participations: int = 1_000_000,
    n_initiatives: int = 2_000,
    seed: int = DEFAULT_SEED,
) -> dict[str, int]:
    """Write the synthetic CSVs and MANIFEST.json into `out_dir`; returns rows per file."""
    for name, value in (
        ("orgs", n_organisations),
        ("initiatives", n_initiatives),
        ("participations", n_participations),
    ):
        if value < 1:
            raise ValueError(f"{name} must be at least 1, got {value}")
    rng = np.random.default_rng(seed)
    orgs = organisations(rng, n_organisations, seed)
    inits, start, end = initiatives(rng, n_initiatives, seed)
    parts = participations(rng, n_participations, n_organisations, inits["id"], start, end, seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for name, frame in (
        ("organisations", orgs),
        ("initiatives", inits),
        ("participations", parts),
    ):
        frame.to_csv(out_dir / f"{name}.csv", index=False, lineterminator="\n")
        counts[name] = len(frame)
    manifest = {
        "synthetic": True,
        "warning": "SYNTHETIC benchmark data: no record describes a real organisation or project",
        "generator": "benchmarks/synthetic_graph.py",
        "seed": seed,
        "rows": counts,
    }
    (out_dir / "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return counts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", nargs="?", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--orgs", type=int, default=100_000)
    parser.add_argument("--participations", type=int, default=1_000_000)
    parser.add_argument("--initiatives", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    counts = generate(
        args.out,
        n_organisations=args.orgs,
        n_participations=args.participations,
        n_initiatives=args.initiatives,
        seed=args.seed,
    )
    for name, rows in counts.items():
        print(f"{args.out / (name + '.csv')}: {rows:,} synthetic rows")


if __name__ == "__main__":
    main()
