"""From reviewers' scores to a ranking list, by a documented rule with explicit tie-breaks.

The aggregation rule (`aggregate`):

1. Each criterion's score of a proposal is the mean (or, if the call says
   `aggregation: median`, the median) of its reviewers' scores on that criterion. Every score
   must lie on the criterion's scale.
2. A panel may replace a criterion's aggregated score (`adjustments`); each replacement
   needs a reason, and the reason is kept in the output.
3. The total is the weighted sum of the criterion scores (the call's weights).
4. A proposal passes when every criterion that has a threshold reaches it and the total
   reaches `total_threshold` (when set). Only passing proposals are ranked for funding.

The ranking (`rank`): total, higher first; then the call's `tie_breaks` in order
(`criterion:<id>`: higher first; `lower_request`: the smaller total request first); then the
proposal id (alphabetical), so that the order is total and reproducible. The `decided_by`
column says which key separated a proposal from the one ranked just above it.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from permedhub.calls.errors import CallInputError
from permedhub.calls.model import Call, Criterion, Evaluation, ProposalSet
from permedhub.calls.tables import eur, partners_frame

REVIEW_COLUMNS = ["proposal_id", "reviewer", "criterion", "score"]


def _evaluation(call: Call) -> Evaluation:
    if call.evaluation is None:
        raise CallInputError("evaluation", None, "the call's evaluation criteria (none given)")
    return call.evaluation


def aggregate(
    call: Call, reviews: pd.DataFrame, adjustments: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One row per proposal: a column per criterion, `total`, `passed`, `adjusted` (the
    panel's reasons, '' when none). `reviews`: REVIEW_COLUMNS; `adjustments`: proposal_id,
    criterion, score, reason."""
    evaluation = _evaluation(call)
    missing = [c for c in REVIEW_COLUMNS if c not in reviews.columns]
    if missing:
        raise CallInputError("reviews", list(reviews.columns), f"columns {REVIEW_COLUMNS}")
    criteria = {c.id: c for c in evaluation.criteria}
    _check_scores(reviews, criteria, "reviews")
    scored = reviews.groupby(["proposal_id", "reviewer"])["criterion"].nunique()
    incomplete = scored[scored < len(criteria)]
    if len(incomplete):
        proposal, reviewer = incomplete.index[0]
        raise CallInputError(
            "reviews", f"{proposal} / {reviewer}",
            f"a score for every criterion ({', '.join(criteria)}) in each review",
        )  # fmt: skip
    how = "median" if evaluation.aggregation == "median" else "mean"
    table = reviews.pivot_table(
        index="proposal_id", columns="criterion", values="score", aggfunc=how
    ).reindex(columns=list(criteria))
    table.columns.name = None
    reasons = pd.Series("", index=table.index, dtype=object)
    if adjustments is not None and len(adjustments):
        _check_scores(adjustments, criteria, "adjustments")
        for i, row in enumerate(adjustments.itertuples(index=False)):
            reason = str(getattr(row, "reason", "") or "").strip()
            if not reason:
                raise CallInputError(f"adjustments[{i}].reason", reason, "a reason for the change")
            if row.proposal_id not in table.index:
                raise CallInputError(
                    f"adjustments[{i}].proposal_id", row.proposal_id, "a reviewed proposal"
                )
            table.loc[row.proposal_id, row.criterion] = float(row.score)
            note = f"{row.criterion} set to {float(row.score):g}: {reason}"
            reasons[row.proposal_id] = "; ".join(filter(None, [reasons[row.proposal_id], note]))
    unscored = table.isna()
    if unscored.to_numpy().any():
        proposal, criterion = np.argwhere(unscored.to_numpy())[0]
        raise CallInputError(
            "reviews", f"{table.index[proposal]} / {table.columns[criterion]}",
            "a score for every criterion of every reviewed proposal",
        )  # fmt: skip
    weights = np.array([criteria[c].weight for c in table.columns])
    table["total"] = table[list(criteria)].to_numpy() @ weights
    passed = pd.Series(True, index=table.index)
    for criterion in criteria.values():
        if criterion.threshold is not None:
            passed &= table[criterion.id] >= criterion.threshold
    if evaluation.total_threshold is not None:
        passed &= table["total"] >= evaluation.total_threshold
    table["passed"] = passed
    table["adjusted"] = reasons
    return table.reset_index()


def _check_scores(frame: pd.DataFrame, criteria: dict[str, Criterion], what: str) -> None:
    for i, row in enumerate(frame.itertuples(index=False)):
        criterion = criteria.get(row.criterion)
        if criterion is None:
            raise CallInputError(
                f"{what}[{i}].criterion", row.criterion, f"one of {', '.join(criteria)}"
            )
        low, high = criterion.scale_min, criterion.scale_max
        score = row.score
        if not isinstance(score, int | float | np.number) or not low <= float(score) <= high:
            raise CallInputError(f"{what}[{i}].score", score, f"a score from {low:g} to {high:g}")


def rank(call: Call, table: pd.DataFrame) -> pd.DataFrame:
    """`table` (proposal_id, total, criterion columns named by tie-breaks, requested_eur for
    lower_request) sorted into the ranking list, with `rank` (1 = best) and `decided_by`."""
    evaluation = call.evaluation
    keys: list[tuple[str, str, bool]] = [("total", "total", False)]
    for rule in evaluation.tie_breaks if evaluation else []:
        if rule == "lower_request":
            keys.append((rule, "requested_eur", True))
        else:
            criterion = rule.partition(":")[2]
            keys.append((rule, criterion, False))
    keys.append(("proposal id", "proposal_id", True))
    for _, column, _ in keys:
        if column not in table.columns:
            raise CallInputError("ranking", column, "a column of the score table (tie-break)")
    ordered = table.sort_values(
        [c for _, c, _ in keys], ascending=[a for _, _, a in keys], kind="stable"
    ).reset_index(drop=True)
    decided = [""]
    values = ordered[[c for _, c, _ in keys]].to_numpy(dtype=object)
    for previous, current in itertools.pairwise(values):
        first = next(i for i, (a, b) in enumerate(zip(previous, current, strict=True)) if a != b)
        decided.append(keys[first][0])
    ordered["rank"] = np.arange(1, len(ordered) + 1)
    ordered["decided_by"] = decided
    return ordered


def ranking_from_proposals(
    call: Call, proposals: ProposalSet, partners: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The ranking list of the proposals' final ranks (all given) or final scores (all given),
    with requested_eur; passed per the call's thresholds where the scores allow."""
    items = proposals.proposals
    partners = partners_frame(proposals) if partners is None else partners
    requested = partners.groupby("proposal_id", sort=False)["requested"].sum()
    if items and all(p.rank is not None for p in items):
        frame = pd.DataFrame({
            "proposal_id": [p.id for p in items],
            "rank": [p.rank for p in items],
            "requested_eur": [eur(requested[p.id]) for p in items],
        }).sort_values("rank", kind="stable").reset_index(drop=True)  # fmt: skip
        frame["passed"] = True
        frame["decided_by"] = "rank given"
        return frame
    without = [i for i, p in enumerate(items) if p.score is None]
    if without:
        raise CallInputError(
            f"proposals[{without[0]}].score", None,
            "a final score for every proposal, or a final rank for every proposal",
        )  # fmt: skip
    criteria = [c.id for c in call.evaluation.criteria] if call.evaluation else []
    rows = []
    for i, proposal in enumerate(items):
        unknown = sorted(set(proposal.scores) - set(criteria))
        if unknown:
            raise CallInputError(
                f"proposals[{i}].scores", unknown[0], f"one of the criteria {', '.join(criteria)}"
            )
        rows.append({
            "proposal_id": proposal.id, "total": proposal.score,
            "requested_eur": eur(requested[proposal.id]),
            **{c: proposal.scores.get(c, np.nan) for c in criteria},
        })  # fmt: skip
    table = pd.DataFrame(rows)
    table["passed"] = _passes(call, table)
    return rank(call, table)


def _passes(call: Call, table: pd.DataFrame) -> pd.Series:
    """Thresholds applied to the scores given (a criterion not given is not held against)."""
    passed = pd.Series(True, index=table.index)
    if call.evaluation is None:
        return passed
    for criterion in call.evaluation.criteria:
        if criterion.threshold is not None:
            passed &= ~(table[criterion.id] < criterion.threshold)
    if call.evaluation.total_threshold is not None:
        passed &= table["total"] >= call.evaluation.total_threshold
    return passed
