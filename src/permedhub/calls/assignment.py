"""Reviewers to proposals: a MILP (scipy.optimize.milp, HiGHS) under conflicts of interest.

A reviewer has a conflict with a proposal when they share an organisation or a country with
any of its partners, or when the reviewer declared the proposal or one of its partners'
organisations. Only conflict-free pairs become variables (the sparse formulation), so no
solution can put a reviewer on a proposal they have a conflict with.

The model, for K reviewers per proposal and a load limit L:

    x[p, r] in {0, 1} for conflict-free pairs; short[p] in [0, K]
    sum_r x[p, r] + short[p] = K                  every proposal gets K (or is short)
    sum_p x[p, r] <= min(L, max_load[r])          loads
    minimise  COVER * sum short - sum match[p, r] x[p, r]

with `match` the number of the proposal's topics in the reviewer's expertise. The weights make
the goals strictly ordered: cover every proposal first, then the best expertise match. The
load limit L is the smallest that covers as many slots as any limit can: first the lower
bound ceil(P K / R), and only when that leaves slots short, a bisection between it and the
largest max_load. So the goals are, in order: coverage, the smallest largest load, the best
match. At a fixed L the model is a bipartite b-matching (totally unimodular), which HiGHS
solves at its root; integrality is still asked for if a solution were ever fractional.

A proposal left short is reported with the reason: too few conflict-free reviewers (and how
many conflicts of each kind it has), or conflict-free reviewers all at their load limit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from permedhub.calls.errors import CallInputError
from permedhub.calls.model import ProposalSet, ReviewerPool
from permedhub.calls.tables import country_of, partners_frame


@dataclass(frozen=True)
class Conflicts:
    """Boolean (proposals x reviewers) matrices, one per kind of conflict."""

    organisation: np.ndarray
    country: np.ndarray
    declared: np.ndarray

    @property
    def any(self) -> np.ndarray:
        return self.organisation | self.country | self.declared


@dataclass(frozen=True)
class Assignment:
    """assignments: proposal_id, reviewer, match; loads: reviewer, assigned, max_load;
    uncovered: proposal_id, assigned, needed, reason; status: HiGHS's message."""

    assignments: pd.DataFrame
    loads: pd.DataFrame
    uncovered: pd.DataFrame
    status: str


def conflicts(proposals: ProposalSet, pool: ReviewerPool) -> Conflicts:
    partners = partners_frame(proposals)[["proposal", "organisation", "country"]]
    reviewers = pd.DataFrame({
        "reviewer": np.arange(len(pool.reviewers)),
        "organisation": [r.organisation for r in pool.reviewers],
        "country": [country_of(r.country) for r in pool.reviewers],
    })  # fmt: skip
    shape = (len(proposals.proposals), len(pool.reviewers))

    def matrix(pairs: pd.DataFrame) -> np.ndarray:
        out = np.zeros(shape, dtype=bool)
        out[
            pairs["proposal"].to_numpy(dtype=np.int64), pairs["reviewer"].to_numpy(dtype=np.int64)
        ] = True
        return out

    declared = pd.DataFrame(
        [(j, name) for j, r in enumerate(pool.reviewers) for name in r.conflicts],
        columns=["reviewer", "name"],
    )
    ids = pd.DataFrame({"proposal": np.arange(shape[0]),
                        "name": [p.id for p in proposals.proposals]})  # fmt: skip
    by_id = declared.merge(ids, on="name")
    by_org = declared.merge(partners, left_on="name", right_on="organisation")
    return Conflicts(
        organisation=matrix(partners.merge(reviewers, on="organisation")),
        country=matrix(partners.merge(reviewers, on="country")),
        declared=matrix(pd.concat([by_id, by_org])[["proposal", "reviewer"]]),
    )


def expertise_match(proposals: ProposalSet, pool: ReviewerPool) -> np.ndarray:
    """(proposals x reviewers) number of the proposal's topics in the reviewer's expertise."""
    topics = sorted({t for p in proposals.proposals for t in p.topics})
    column = {t: i for i, t in enumerate(topics)}

    def incidence(lists: list[list[str]]) -> sparse.csr_matrix:
        rows = [i for i, items in enumerate(lists) for t in set(items) if t in column]
        cols = [column[t] for items in lists for t in set(items) if t in column]
        data = np.ones(len(rows), dtype=np.int64)
        return sparse.csr_matrix((data, (rows, cols)), shape=(len(lists), len(topics)))

    p = incidence([p.topics for p in proposals.proposals])
    r = incidence([r.expertise for r in pool.reviewers])
    return np.asarray((p @ r.T).todense(), dtype=np.int64)


def assign(
    proposals: ProposalSet, pool: ReviewerPool, per_proposal: int = 3, time_limit: float = 120.0
) -> Assignment:
    """At least (exactly) `per_proposal` conflict-free reviewers per proposal where possible,
    the largest load as small as possible, then the expertise match as large as possible."""
    if per_proposal < 1:
        raise CallInputError("per_proposal", per_proposal, "a whole number >= 1")
    n_p, n_r = len(proposals.proposals), len(pool.reviewers)
    found = conflicts(proposals, pool)
    match = expertise_match(proposals, pool)
    p_idx, r_idx = np.nonzero(~found.any)
    problem = _Problem(p_idx, r_idx, match[p_idx, r_idx].astype(float), n_p, n_r, per_proposal,
                       time_limit)  # fmt: skip
    caps = np.array([min(r.max_load or n_p, n_p) for r in pool.reviewers], dtype=np.int64)
    # The largest load is at least the slots over the reviewers; most calls reach it at once.
    low = max(1, -(-n_p * per_proposal // n_r))
    chosen, short, status = problem.solve(np.minimum(caps, low))
    if short > 0:
        # Some slots cannot be filled at any load: find the smallest largest load that fills
        # all the others (coverage first, then balance), by bisection on the load.
        _, unavoidable, _ = problem.solve(caps)
        high = int(caps.max())
        while low < high:
            middle = (low + high) // 2
            if problem.solve(np.minimum(caps, middle))[1] == unavoidable:
                high = middle
            else:
                low = middle + 1
        chosen, short, status = problem.solve(np.minimum(caps, low))
    return _report(proposals, pool, found, match, p_idx[chosen], r_idx[chosen], per_proposal,
                   np.minimum(caps, low), status)  # fmt: skip


@dataclass(frozen=True)
class _Problem:
    """The assignment at a fixed load limit per reviewer: a bipartite b-matching, whose
    constraint matrix is totally unimodular, so HiGHS's simplex vertex is already integral;
    if it ever is not, the same model is solved again with integrality required."""

    p_idx: np.ndarray
    r_idx: np.ndarray
    match: np.ndarray
    n_p: int
    n_r: int
    k: int
    time_limit: float

    def solve(self, limits: np.ndarray) -> tuple[np.ndarray, int, str]:
        n_x, n_p = len(self.p_idx), self.n_p
        columns = np.arange(n_x)
        # One unfilled slot costs more than any expertise match can gain.
        cover = 1.0 + float(self.match.sum())
        c = np.concatenate([-self.match, np.full(n_p, cover)])
        per_proposal = sparse.csr_matrix(
            (np.ones(n_x + n_p), (np.concatenate([self.p_idx, np.arange(n_p)]),
                                  np.concatenate([columns, n_x + np.arange(n_p)]))),
            shape=(n_p, n_x + n_p),
        )  # fmt: skip
        loads = sparse.csr_matrix(
            (np.ones(n_x), (self.r_idx, columns)), shape=(self.n_r, n_x + n_p)
        )
        constraints = [
            LinearConstraint(per_proposal, self.k, self.k),
            LinearConstraint(loads, -np.inf, limits.astype(float)),
        ]
        bounds = Bounds(np.zeros(n_x + n_p), np.concatenate([np.ones(n_x), np.full(n_p, self.k)]))
        # HiGHS's presolve finds nothing to remove here and took most of the time.
        options = {"time_limit": self.time_limit, "disp": False, "presolve": False}
        for integral in (0, 1):
            result = milp(c, constraints=constraints, integrality=np.full(n_x + n_p, integral),
                          bounds=bounds, options=options)  # fmt: skip
            if result.x is None:
                raise CallInputError("assignment", result.message, "a solvable assignment")
            x = result.x
            if np.all(np.abs(x - np.round(x)) < 1e-6):
                break
        chosen = np.round(x[:n_x]).astype(bool)
        short = int(np.round(x[n_x:]).sum())
        return chosen, short, str(result.message)


def _report(
    proposals: ProposalSet, pool: ReviewerPool, found: Conflicts, match: np.ndarray,
    p_sel: np.ndarray, r_sel: np.ndarray, k: int, limits: np.ndarray, status: str,
) -> Assignment:  # fmt: skip
    proposal_ids = np.array([p.id for p in proposals.proposals], dtype=object)
    reviewer_ids = np.array([r.id for r in pool.reviewers], dtype=object)
    order = np.lexsort((r_sel, p_sel))
    p_sel, r_sel = p_sel[order], r_sel[order]
    assignments = pd.DataFrame({
        "proposal_id": proposal_ids[p_sel], "reviewer": reviewer_ids[r_sel],
        "match": match[p_sel, r_sel],
    })  # fmt: skip
    load = np.bincount(r_sel, minlength=len(reviewer_ids))
    loads = pd.DataFrame({
        "reviewer": reviewer_ids, "assigned": load,
        "max_load": [r.max_load for r in pool.reviewers],
    })  # fmt: skip
    got = np.bincount(p_sel, minlength=len(proposal_ids))
    free = ~found.any
    rows = []
    for p in np.flatnonzero(got < k):
        candidates = int(free[p].sum())
        if candidates < k:
            reason = (
                f"only {candidates} of {len(reviewer_ids)} reviewers have no conflict of "
                f"interest ({int(found.organisation[p].sum())} share an organisation, "
                f"{int(found.country[p].sum())} a country with a partner, "
                f"{int(found.declared[p].sum())} declared one): add reviewers from other "
                "countries and organisations"
            )
        else:
            full = int((free[p] & (load >= limits)).sum())
            reason = (
                f"its {candidates} conflict-free reviewers are taken: {full} of them are at "
                "their load limit (max_load, or the largest load that covers the most "
                "proposals); raise max_load or add reviewers"
            )
        rows.append((proposal_ids[p], int(got[p]), k, reason))
    uncovered = pd.DataFrame(rows, columns=["proposal_id", "assigned", "needed", "reason"])
    return Assignment(assignments, loads, uncovered, status)
