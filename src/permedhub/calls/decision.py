"""The funding decision down the ranking list, and the what-if questions, answered exactly.

Amounts are integer cents throughout, so every comparison is exact.

The procedure (`allocate`) goes down the ranking list once and funds a proposal when it fits,
else puts it on the reserve list:

- virtual common pot: each funder pays its own partners from its national budget; a proposal
  fits when every funder involved can still pay its partners' requests in full;
- mixed: the same, and a top-up pot pays the part of a proposal's requests that its funders
  can no longer pay; a proposal fits when the top-up left covers that part (national money is
  spent first). The virtual pot is the mixed one with an empty top-up;
- real common pot: all national budgets (and any top-up) form one pot; a proposal fits when
  the pot left covers its whole request.

Since requests are never negative, this greedy pass is the lexicographic optimum: among all
sets of proposals the budgets can pay, it funds the best-ranked proposal that can be funded,
then the best next one compatible with it, and so on (the tests check it against brute force).

What-ifs:

- `blocking`: for each reserve proposal, each budget it found short when its turn came, with
  what it asked, what was left and the shortfall;
- `budget_increases`: for the next k reserve proposals (k = 1, 2, ...), the smallest increase
  of each funder's budget with which the funded proposals and those k can all be paid, i.e.
  max(0, demand - budget) per funder (any smaller increase of any funder leaves it unable to
  pay them all); as an alternative, the top-up pot alone that would pay them with national
  budgets unchanged (or, for a real pot, the pot's increase). `rerun` says whether running
  the procedure again with the increased budgets funds all of them (it can also fund a
  further reserve proposal ranked above a funded one and so displace it; then it says so);
- `top_up_spending`: which proposals a top-up pot pays for and how much for each funder's
  partners (`decide(..., top_up_eur=...)`, the mixed procedure).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from permedhub.calls.eligibility import EligibilityReport, check
from permedhub.calls.errors import CallInputError
from permedhub.calls.model import Call, FundingMode, ProposalSet
from permedhub.calls.scores import ranking_from_proposals
from permedhub.calls.tables import (
    cents,
    demand_matrix,
    funders_frame,
    partners_frame,
    records,
)

TOP_UP = "top-up pot"
COMMON_POT = "common pot"


@dataclass(frozen=True)
class Allocation:
    """The procedure's result on arrays, rows in ranking order.

    funded: bool per proposal; national: cents each funder pays each proposal; top_up: cents
    the top-up pot pays for each funder's partners of each proposal (real pot: the whole
    payment is in `top_up`'s place as pot money, see `pooled`); shortfall: for reserve
    proposals, cents each funder could not pay when its turn came; pot_short: cents the
    top-up (or common) pot lacked then.
    """

    funded: np.ndarray
    national: np.ndarray
    top_up: np.ndarray
    shortfall: np.ndarray
    pot_short: np.ndarray
    pooled: bool = False


def allocate(
    demand: np.ndarray, budgets: np.ndarray, top_up: int = 0, mode: FundingMode = "virtual"
) -> Allocation:
    """Run the procedure on `demand` (proposals in ranking order x funders, cents) and
    `budgets` (cents per funder). `top_up` is used by the mixed and real modes."""
    demand = np.asarray(demand, dtype=np.int64)
    budgets = np.asarray(budgets, dtype=np.int64)
    n, m = demand.shape
    if (demand < 0).any() or (budgets < 0).any() or top_up < 0:
        raise CallInputError("amounts", "negative", "requests, budgets and top-up >= 0")
    funded = np.zeros(n, dtype=bool)
    national = np.zeros((n, m), dtype=np.int64)
    paid_by_pot = np.zeros((n, m), dtype=np.int64)
    shortfall = np.zeros((n, m), dtype=np.int64)
    pot_short = np.zeros(n, dtype=np.int64)
    if mode == "real":
        pot = int(budgets.sum()) + int(top_up)
        totals = demand.sum(axis=1)
        for i in range(n):
            if totals[i] <= pot:
                pot -= int(totals[i])
                funded[i] = True
                paid_by_pot[i] = demand[i]
            else:
                pot_short[i] = int(totals[i]) - pot
        return Allocation(funded, national, paid_by_pot, shortfall, pot_short, pooled=True)
    pot = int(top_up) if mode == "mixed" else 0
    left = budgets.copy()
    involved = [np.flatnonzero(row) for row in demand]
    for i in range(n):
        cols = involved[i]
        asked = demand[i, cols]
        short = np.maximum(asked - left[cols], 0)
        need = int(short.sum())
        if need <= pot:
            funded[i] = True
            pay = asked - short
            national[i, cols] = pay
            paid_by_pot[i, cols] = short
            left[cols] -= pay
            pot -= need
        else:
            shortfall[i, cols] = short
            pot_short[i] = need - pot
    return Allocation(funded, national, paid_by_pot, shortfall, pot_short)


def increases_for(
    demand: np.ndarray, budgets: np.ndarray, chosen: np.ndarray, top_up: int, mode: FundingMode
) -> tuple[np.ndarray, int]:
    """(per-funder increase, pot increase) with which the proposals `chosen` (bool) can all be
    paid: per funder max(0, demand - budget) with national budgets alone (virtual, mixed), and
    the top-up (mixed, virtual) or common pot (real) increase that alone would pay them."""
    total = demand[chosen].sum(axis=0)
    per_funder = np.maximum(total - budgets, 0)
    if mode == "real":
        return per_funder, max(0, int(total.sum()) - int(budgets.sum()) - int(top_up))
    pot = top_up if mode == "mixed" else 0
    return per_funder, max(0, int(per_funder.sum()) - int(pot))


@dataclass
class Decision:
    """Tidy frames (EUR as floats): see the module docstring for each what-if."""

    mode: FundingMode
    top_up_eur: float
    ranking: pd.DataFrame
    funded: list[str]
    reserve: list[str]
    not_ranked: pd.DataFrame
    payments: pd.DataFrame
    commitments: pd.DataFrame
    blocking: pd.DataFrame
    budget_increases: pd.DataFrame
    next_k: pd.DataFrame
    top_up_spending: pd.DataFrame
    eligibility: EligibilityReport = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the funded and reserve lists, commitments and every what-if answer."""
        return {
            "mode": self.mode,
            "top_up_eur": self.top_up_eur,
            "funded": self.funded,
            "reserve": self.reserve,
            "not_ranked": records(self.not_ranked),
            "ranking": records(self.ranking),
            "commitments": records(self.commitments),
            "payments": records(self.payments),
            "what_if": {
                "blocking": records(self.blocking),
                "budget_increases": records(self.budget_increases),
                "next_k": records(self.next_k),
                "top_up_spending": records(self.top_up_spending),
            },
        }


def decide(
    call: Call,
    proposals: ProposalSet,
    top_up_eur: Decimal | float | None = None,
    next_k: int = 3,
    eligibility: EligibilityReport | None = None,
) -> Decision:
    """The funding decision of `call` for `proposals` (final scores or ranks given): eligible
    proposals that pass the thresholds, in ranking order, through the call's funding mode.
    `top_up_eur` (when given) is a top-up pot: the mixed procedure with that pot (a real pot
    gets it added). `next_k`: how many reserve proposals the budget what-if looks at.
    `eligibility`: the report of `check(call, proposals)` when the caller has it already."""
    if next_k < 0:
        raise CallInputError("next_k", next_k, "a whole number >= 0")
    unknown = [i for i, funder in enumerate(call.funders) if funder.budget_eur is None]
    if unknown:
        names = ", ".join(call.funders[i].organisation for i in unknown)
        raise CallInputError(
            f"funders[{unknown[0]}].budget_eur", None,
            f"a national budget in EUR for every funder; the call document leaves the budget "
            f"of {names} unknown",
        )  # fmt: skip
    mode: FundingMode = call.funding.mode
    top_up = cents(call.funding.top_up_eur) if mode != "virtual" else 0
    if top_up_eur is not None:
        amount = Decimal(str(top_up_eur))
        if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
            raise CallInputError("top_up_eur", top_up_eur, "an amount in EUR >= 0, cents at most")
        top_up = cents(amount)
        mode = "real" if mode == "real" else "mixed"
    partners = partners_frame(proposals)
    report = check(call, proposals, partners) if eligibility is None else eligibility
    ranking = ranking_from_proposals(call, proposals, partners)
    ranking["eligible"] = ranking["proposal_id"].isin(set(report.eligible_ids()))
    in_play = ranking[ranking["eligible"] & ranking["passed"]].reset_index(drop=True)
    not_ranked = (
        ranking[~(ranking["eligible"] & ranking["passed"])]
        .assign(reason=lambda f: np.where(~f["eligible"], "not eligible", "below a threshold"))[
            ["proposal_id", "reason"]
        ]
        .reset_index(drop=True)
    )

    funders = funders_frame(call)
    funder_ids = list(funders.index)
    budgets = funders["budget"].to_numpy(dtype=np.int64)
    order = {p.id: i for i, p in enumerate(proposals.proposals)}
    demand = demand_matrix(partners, len(order), funder_ids)
    demand = demand[[order[p] for p in in_play["proposal_id"]]]
    result = allocate(demand, budgets, top_up, mode)

    ids = in_play["proposal_id"].to_numpy()
    status = np.where(result.funded, "funded", "reserve")
    in_play["status"] = status
    in_play["order"] = np.arange(1, len(in_play) + 1)
    return Decision(
        mode=mode,
        top_up_eur=top_up / 100,
        ranking=in_play,
        funded=list(ids[result.funded]),
        reserve=list(ids[~result.funded]),
        not_ranked=not_ranked,
        payments=_payments(ids, funder_ids, demand, result),
        commitments=_commitments(funders, demand, result),
        blocking=_blocking(ids, funder_ids, demand, budgets, top_up, result, mode),
        budget_increases=(increases := _increases(
            ids, funder_ids, demand, budgets, top_up, result, mode, next_k
        ))[0],
        next_k=increases[1],
        top_up_spending=_top_up_spending(ids, funder_ids, result),
        eligibility=report,
    )  # fmt: skip


def _payments(
    ids: np.ndarray, funder_ids: list[str], demand: np.ndarray, result: Allocation
) -> pd.DataFrame:
    """One row per funded proposal and funder it pays (or the pot pays for)."""
    rows, cols = np.nonzero(demand * result.funded[:, None])
    by_pot = "paid_by_pot_eur" if result.pooled else "paid_by_top_up_eur"
    return pd.DataFrame({
        "proposal_id": ids[rows],
        "funder": np.asarray(funder_ids, dtype=object)[cols],
        "requested_eur": demand[rows, cols] / 100,
        "paid_by_funder_eur": result.national[rows, cols] / 100,
        by_pot: result.top_up[rows, cols] / 100,
    })  # fmt: skip


def _commitments(funders: pd.DataFrame, demand: np.ndarray, result: Allocation) -> pd.DataFrame:
    funded = result.funded
    committed = result.national.sum(axis=0)
    frame = pd.DataFrame({
        "funder": funders.index,
        "name": funders["name"].to_numpy(),
        "budget_eur": funders["budget"].to_numpy() / 100,
        "committed_eur": committed / 100,
        "top_up_for_its_partners_eur": result.top_up.sum(axis=0) / 100,
        "left_eur": (funders["budget"].to_numpy() - committed) / 100,
        "funded_proposals": ((demand > 0) & funded[:, None]).sum(axis=0),
        "applying_proposals": (demand > 0).sum(axis=0),
    })  # fmt: skip
    if result.pooled:
        frame = frame.rename(columns={"top_up_for_its_partners_eur": "pot_for_its_partners_eur"})
        frame["left_eur"] = np.nan  # one pot: no national balance
    return frame


def _blocking(
    ids: np.ndarray, funder_ids: list[str], demand: np.ndarray, budgets: np.ndarray,
    top_up: int, result: Allocation, mode: FundingMode,
) -> pd.DataFrame:  # fmt: skip
    """For each reserve proposal, each budget short at its turn: asked, left, shortfall."""
    records = []
    # What was paid before each proposal's turn (national money, and pot money).
    national_before = np.cumsum(result.national, axis=0) - result.national
    pot_before = np.cumsum(result.top_up.sum(axis=1)) - result.top_up.sum(axis=1)
    pot = int(budgets.sum()) + top_up if mode == "real" else top_up
    for i in np.flatnonzero(~result.funded):
        for j in np.flatnonzero(result.shortfall[i]):
            left = budgets[j] - national_before[i, j]
            records.append((ids[i], i + 1, funder_ids[j], demand[i, j], left,
                            result.shortfall[i, j]))  # fmt: skip
        if mode in ("mixed", "real") and result.pot_short[i] > 0:
            name = COMMON_POT if mode == "real" else TOP_UP
            asked = demand[i].sum() if mode == "real" else result.shortfall[i].sum()
            left = pot - pot_before[i]
            records.append((ids[i], i + 1, name, asked, left, result.pot_short[i]))
    frame = pd.DataFrame(
        records, columns=["proposal_id", "order", "budget", "asked", "left", "shortfall"]
    )
    for column in ("asked", "left", "shortfall"):
        frame[f"{column}_eur"] = frame.pop(column).astype("int64") / 100
    return frame


def _increases(
    ids: np.ndarray, funder_ids: list[str], demand: np.ndarray, budgets: np.ndarray,
    top_up: int, result: Allocation, mode: FundingMode, next_k: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:  # fmt: skip
    skipped = np.flatnonzero(~result.funded)
    rows, summary = [], []
    pot_name = COMMON_POT if mode == "real" else TOP_UP
    for k in range(1, min(next_k, len(skipped)) + 1):
        chosen = result.funded.copy()
        chosen[skipped[:k]] = True
        per_funder, pot = increases_for(demand, budgets, chosen, top_up, mode)
        kth = ids[skipped[k - 1]]
        if mode != "real":
            rows += [(k, kth, funder_ids[j], per_funder[j]) for j in np.flatnonzero(per_funder)]
        rows.append((k, kth, pot_name, pot))
        if mode == "real":
            again = allocate(demand, budgets, top_up + pot, mode)
        else:
            again = allocate(demand, budgets + per_funder, top_up, mode)
        summary.append({
            "k": k,
            "proposal_id": kth,
            "proposals": ", ".join(ids[skipped[:k]]),
            "funder_increase_total_eur": int(per_funder.sum()) / 100 if mode != "real" else 0.0,
            "pot": pot_name,
            "pot_increase_alone_eur": pot / 100,
            "rerun_funds_all": bool(again.funded[chosen].all()),
            "rerun_displaces": ", ".join(ids[chosen & ~again.funded]),
            "rerun_also_funds": ", ".join(ids[again.funded & ~chosen]),
        })  # fmt: skip
    frame = pd.DataFrame(rows, columns=["k", "proposal_id", "budget", "increase"])
    frame["increase_eur"] = frame.pop("increase").astype("int64") / 100
    return frame, pd.DataFrame(summary)


def _top_up_spending(ids: np.ndarray, funder_ids: list[str], result: Allocation) -> pd.DataFrame:
    if result.pooled:
        return pd.DataFrame(columns=["proposal_id", "order", "funder", "top_up_eur"])
    rows, cols = np.nonzero(result.top_up)
    return pd.DataFrame({
        "proposal_id": ids[rows], "order": rows + 1,
        "funder": np.asarray(funder_ids, dtype=object)[cols],
        "top_up_eur": result.top_up[rows, cols] / 100,
    })  # fmt: skip
