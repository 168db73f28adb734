"""Times a SYNTHETIC joint call: eligibility, review assignment, funding decision + what-ifs.

    PYTHONPATH=$PWD/src .venv/bin/python benchmarks/calls_decision.py
    PYTHONPATH=$PWD/src .venv/bin/python benchmarks/calls_decision.py --proposals 200 --seed 2

The call, proposals and reviewers are invented (ids start with `syn-`): 40 funders in 40
countries, 1,000 pre-proposals of 3-7 partners, 300 reviewers with 2-5 expertise topics.
Targets (issue 12): eligibility < 2 s, assignment (3 reviewers each) < 30 s, decision plus
what-ifs < 1 s. Each step is timed once, after one unmeasured warm-up on a tiny instance so
imports and first-call costs are not counted.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

from permedhub.calls.assignment import assign
from permedhub.calls.decision import decide
from permedhub.calls.eligibility import check
from permedhub.calls.model import Call, ProposalSet, ReviewerPool

COUNTRIES = [
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT",
    "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "NO", "IS", "CH",
    "IL", "TR", "CA", "BR", "AR", "PA", "EG", "ZA", "TW", "JP",
]  # fmt: skip
KINDS = ["university", "research-institute", "hospital", "company", "ngo"]
KIND_SHARES = [0.4, 0.25, 0.25, 0.07, 0.03]
TOPICS = [f"syn-topic-{i}" for i in range(30)]


def synthetic_call(funders: int, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    return {
        "id": "syn-benchmark-call",
        "title": "Synthetic benchmark call (invented)",
        "synthetic": True,
        "modules": [{"id": f"syn-module-{m}"} for m in "abc"],
        "stages": [
            {"name": "pre-proposal", "deadline": "2026-03-05T14:00:00+01:00"},
            {"name": "full proposal", "deadline": "2026-06-18T14:00:00+02:00"},
        ],
        "funders": [
            {
                "organisation": f"syn-funder-{i}",
                "country": COUNTRIES[i % len(COUNTRIES)],
                "budget_eur": int(rng.integers(5, 40)) * 250_000,
                "rules": {
                    "eligible_kinds": KINDS[: 3 + int(rng.integers(0, 3))],
                    "max_request_per_partner_eur": 350_000,
                    "max_request_per_project_eur": 600_000,
                    "own_funded_allowed": bool(rng.random() < 0.8),
                    "extra_documents": ["syn-letter"] if rng.random() < 0.2 else [],
                },
            }
            for i in range(funders)
        ],
        "consortium": {
            "min_eligible_partners": 3,
            "min_countries": 3,
            "max_partners": 6,
            "max_per_country": 2,
            "max_own_funded": 1,
            "coordinator_eligible": True,
            "modules_one_of": ["syn-module-a", "syn-module-b", "syn-module-c"],
        },
        "evaluation": {
            "criteria": [
                {"id": "excellence", "weight": 1, "threshold": 3},
                {"id": "impact", "weight": 1},
                {"id": "implementation", "weight": 1},
            ],
            "tie_breaks": ["criterion:excellence", "lower_request"],
        },
        "funding": {"mode": "virtual"},
    }


def synthetic_proposals(call: dict[str, Any], n: int, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed + 1)
    funders = call["funders"]
    proposals = []
    for i in range(n):
        size = int(rng.integers(3, 8))
        picks = rng.choice(len(funders), size=size, replace=True)
        partners = []
        for j, f in enumerate(picks):
            own = bool(j > 0 and rng.random() < 0.08)
            partners.append({
                "organisation": f"syn-org-{int(rng.integers(0, 3000))}",
                "country": funders[f]["country"],
                "kind": str(rng.choice(KINDS, p=KIND_SHARES)) if j else "university",
                "funder": None if own else funders[f]["organisation"],
                "requested_eur": 0 if own else int(rng.integers(4, 16)) * 25_000,
                "own_funded": own,
                "coordinator": j == 0,
                "documents": ["syn-letter"] if rng.random() < 0.95 else [],
            })  # fmt: skip
        scores = {c: round(float(rng.uniform(2.5, 5)), 1)
                  for c in ("excellence", "impact", "implementation")}  # fmt: skip
        proposals.append({
            "id": f"syn-p{i:04d}",
            "modules": [f"syn-module-{'abc'[int(rng.integers(0, 3))]}"],
            "topics": list(rng.choice(TOPICS, size=3, replace=False)),
            "score": round(sum(scores.values()), 1),
            "scores": scores,
            "partners": partners,
        })  # fmt: skip
    return {"call": call["id"], "proposals": proposals}


def synthetic_reviewers(n: int, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed + 2)
    return {
        "reviewers": [
            {
                "id": f"syn-reviewer-{i}",
                "organisation": f"syn-org-{int(rng.integers(0, 3000))}",
                "country": COUNTRIES[int(rng.integers(0, len(COUNTRIES)))],
                "expertise": list(rng.choice(TOPICS, size=int(rng.integers(2, 6)), replace=False)),
            }
            for i in range(n)
        ]
    }


def instance(proposals: int, funders: int, reviewers: int, seed: int) -> tuple[Any, ...]:
    raw = synthetic_call(funders, seed)
    call = Call.model_validate(raw)
    started = time.perf_counter()
    proposal_set = ProposalSet.model_validate(synthetic_proposals(raw, proposals, seed))
    parsed = time.perf_counter() - started
    pool = ReviewerPool.model_validate(synthetic_reviewers(reviewers, seed))
    return call, proposal_set, pool, parsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--proposals", type=int, default=1000)
    parser.add_argument("--funders", type=int, default=40)
    parser.add_argument("--reviewers", type=int, default=300)
    parser.add_argument("--per-proposal", type=int, default=3)
    parser.add_argument("--next-k", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    tiny = instance(20, 5, 12, args.seed)
    check(tiny[0], tiny[1])
    decide(tiny[0], tiny[1])
    assign(tiny[1], tiny[2], args.per_proposal)

    call, proposals, pool, parsed = instance(
        args.proposals, args.funders, args.reviewers, args.seed
    )
    timings: list[tuple[str, float, float, str]] = []
    started = time.perf_counter()
    report = check(call, proposals)
    timings.append(("eligibility, all proposals", time.perf_counter() - started, 2.0,
                    f"{int(report.proposals['eligible'].sum())} eligible, "
                    f"{len(report.broken)} broken rules"))  # fmt: skip
    started = time.perf_counter()
    result = assign(proposals, pool, args.per_proposal)
    loads = result.loads["assigned"]
    timings.append(("review assignment (MILP)", time.perf_counter() - started, 30.0,
                    f"{len(result.assignments)} assignments, {len(result.uncovered)} short, "
                    f"load {loads.min()}-{loads.max()}, match {result.assignments['match'].sum()}, "
                    f"{result.status}"))  # fmt: skip
    started = time.perf_counter()
    decision = decide(call, proposals, next_k=args.next_k, eligibility=report)
    timings.append(("decision + what-ifs (eligibility given)", time.perf_counter() - started, 1.0,
                    f"{len(decision.funded)} funded, {len(decision.reserve)} reserve, "
                    f"{len(decision.blocking)} blocking rows, next {args.next_k}"))  # fmt: skip
    started = time.perf_counter()
    with_top_up = decide(
        call, proposals, top_up_eur=2_000_000, next_k=args.next_k, eligibility=report
    )
    timings.append(("decision with a 2 M EUR top-up", time.perf_counter() - started, 1.0,
                    f"{len(with_top_up.funded)} funded"))  # fmt: skip

    print(f"synthetic call: {args.proposals} proposals "
          f"({sum(len(p.partners) for p in proposals.proposals)} partners), {args.funders} "
          f"funders, {args.reviewers} reviewers, seed {args.seed}; "
          f"parsing the proposals {parsed:.2f} s (not timed below)")  # fmt: skip
    print(f"{'step':40} {'time':>8} {'target':>8}  verdict  detail")
    for name, seconds, target, detail in timings:
        verdict = "ok" if seconds < target else "OVER"
        print(f"{name:40} {seconds:7.2f}s {target:7.1f}s  {verdict:7}  {detail}")


if __name__ == "__main__":
    main()
