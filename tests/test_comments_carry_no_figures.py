"""Benchmark history ("13.4 -> 5.7 s") belongs in commit messages and benchmarks/README.md;
comments in the package say why, so they do not go stale when the figures change."""

from __future__ import annotations

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "permedhub"
# a measured before -> after pair with a unit of time
HISTORY = re.compile(r"\d+(\.\d+)?\s*(ms|s)?\s*(->|→)\s*\d+(\.\d+)?\s*(ms|s)\b")


def test_no_before_after_timings_in_the_package_source() -> None:
    found = [
        f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if HISTORY.search(line)
    ]
    assert found == []


def test_the_pattern_catches_the_form_it_is_for() -> None:
    assert HISTORY.search("# (PostgreSQL refresh after the benchmark load: 13.4 -> 5.7 s)")
    assert not HISTORY.search("# x -> y mapping, 3 s timeout")
