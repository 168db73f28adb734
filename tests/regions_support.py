"""Survey files for the regions tests, written from the template's own column list."""

from __future__ import annotations

import csv
from pathlib import Path

from permedhub.regions.survey import BARRIERS, NAMES, READINESS


def answer(
    respondent: str,
    region: str,
    readiness: tuple[int, ...],
    barriers: tuple[int, ...] = (3, 3, 3, 3, 3, 3, 3),
    stakeholder: str = "policy-maker",
    day: str = "2024-05-02",
) -> dict[str, str]:
    row = {"respondent_id": respondent, "region": region, "stakeholder": stakeholder,
           "survey_date": day, "comments": ""}  # fmt: skip
    row |= {name: str(value) for name, value in zip(READINESS, readiness, strict=True)}
    row |= {name: str(value) for name, value in zip(BARRIERS, barriers, strict=True)}
    return row


# Three regions whose index is computed by hand in test_regions_analysis.py:
#   IT-52: two answers, all readiness 5 and all 3 -> mean 4 -> s = 0.75 -> index 75
#   ES-GA: readiness (5,1,1,1,1,1) -> s = (1,0,0,0,0,0) -> index 100/6 with equal weights
#   DE-SN: readiness (1,5,5,5,5,5) -> s = (0,1,1,1,1,1) -> index 500/6
HAND = [
    answer("a1", "IT-52", (5, 5, 5, 5, 5, 5), barriers=(5, 4, 3, 2, 1, 1, 1)),
    answer("a2", "IT-52", (3, 3, 3, 3, 3, 3), barriers=(3, 2, 1, 2, 1, 1, 1)),
    answer("b1", "ES-GA", (5, 1, 1, 1, 1, 1), barriers=(1, 1, 1, 1, 1, 1, 1)),
    answer("c1", "DE-SN", (1, 5, 5, 5, 5, 5), barriers=(5, 5, 5, 5, 5, 5, 5)),
]


def write_csv(path: Path, rows: list[dict[str, str]], header: list[str] | None = None) -> Path:
    header = header or list(NAMES)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path
