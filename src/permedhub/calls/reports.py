"""What a funding decision means for each funder and each country, and its export.

`funder_report`: one row per funder: its national budget, what it committed, what remains,
the top-up (or common pot) money its partners got, and how many of the partners asking it
are in funded and in reserve proposals. `country_success`: one row per country: proposals
with a partner there and partners there, submitted (every proposal given to the decision)
and funded, with the success rates. `decision_tables` gathers them with the funded and
reserve lists and the what-if answers, one tidy frame per table, for the CSV and XLSX
exports (`decision_workbook`) and the pages.

Partners are counted by their country (a region's code as its country's, `tables.country_of`);
a rate is NaN where nothing was submitted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from permedhub.calls.decision import Decision
from permedhub.calls.model import Call, ProposalSet
from permedhub.calls.tables import partners_frame, records
from permedhub.graph.spreadsheets import workbook_bytes

if TYPE_CHECKING:
    import plotly.graph_objects as go

FUNDER_COLUMNS = [
    "funder", "name", "country", "budget_eur", "committed_eur", "remaining_eur",
    "committed_share", "top_up_eur", "partners_asking", "partners_funded", "partners_reserve",
    "proposals_asking", "proposals_funded",
]  # fmt: skip
COUNTRY_COLUMNS = [
    "country", "proposals_submitted", "proposals_funded", "proposal_success_rate",
    "partners_submitted", "partners_funded", "partner_success_rate",
]  # fmt: skip


def _status_of_partners(proposals: ProposalSet, decision: Decision) -> pd.DataFrame:
    """partners_frame with each partner's proposal status: funded, reserve or not ranked."""
    partners = partners_frame(proposals)
    status = {pid: "funded" for pid in decision.funded}
    status |= {pid: "reserve" for pid in decision.reserve}
    partners["status"] = partners["proposal_id"].map(status).fillna("not ranked")
    return partners


def funder_report(call: Call, proposals: ProposalSet, decision: Decision) -> pd.DataFrame:
    """One row per funder of `call` (its order): budget, committed, remaining (NaN for a real
    common pot: no national balance), committed_share of the budget, the top-up or pot money
    its partners got, partners (and proposals) asking it, and of those in funded and in
    reserve proposals."""
    partners = _status_of_partners(proposals, decision)
    asking = partners[partners["funder"].notna()]
    by_status = (
        asking.groupby(["funder", "status"]).size().unstack(fill_value=0)
        if len(asking)
        else pd.DataFrame()
    )
    commitments = decision.commitments.set_index("funder")
    pot_column = next(c for c in commitments.columns if c.endswith("_for_its_partners_eur"))
    rows = []
    for funder in call.funders:
        fid = funder.organisation
        counts = by_status.loc[fid] if fid in by_status.index else pd.Series(dtype="int64")
        row = commitments.loc[fid]
        budget, committed = float(row["budget_eur"]), float(row["committed_eur"])
        rows.append({
            "funder": fid,
            "name": funder.name or fid,
            "country": funder.country,
            "budget_eur": budget,
            "committed_eur": committed,
            "remaining_eur": float(row["left_eur"]),
            "committed_share": committed / budget if budget > 0 else np.nan,
            "top_up_eur": float(row[pot_column]),
            "partners_asking": int(counts.sum()),
            "partners_funded": int(counts.get("funded", 0)),
            "partners_reserve": int(counts.get("reserve", 0)),
            "proposals_asking": int(asking.loc[asking["funder"] == fid, "proposal_id"].nunique()),
            "proposals_funded": int(row["funded_proposals"]),
        })  # fmt: skip
    return pd.DataFrame(rows, columns=FUNDER_COLUMNS)


def country_success(proposals: ProposalSet, decision: Decision) -> pd.DataFrame:
    """One row per country with a partner in `proposals`, by country code: proposals with a
    partner there and partners there, submitted and funded, and the two success rates."""
    partners = _status_of_partners(proposals, decision)
    funded = partners["status"] == "funded"
    grouped = partners.assign(funded=funded).groupby("country", sort=True)
    frame = pd.DataFrame({
        "proposals_submitted": grouped["proposal_id"].nunique(),
        "proposals_funded": grouped.apply(
            lambda g: g.loc[g["funded"], "proposal_id"].nunique(), include_groups=False
        ),
        "partners_submitted": grouped.size(),
        "partners_funded": grouped["funded"].sum(),
    }).reset_index()  # fmt: skip
    frame = frame.astype({c: "int64" for c in frame.columns if c != "country"})
    frame["proposal_success_rate"] = frame["proposals_funded"] / frame["proposals_submitted"]
    frame["partner_success_rate"] = frame["partners_funded"] / frame["partners_submitted"]
    return frame[COUNTRY_COLUMNS]


def _listed(decision: Decision, status: str, proposals: ProposalSet) -> pd.DataFrame:
    """The funded or reserve list in ranking order, with acronyms and what each asks."""
    acronyms = {p.id: p.acronym or "" for p in proposals.proposals}
    ranking = decision.ranking[decision.ranking["status"] == status]
    columns = ["order", "proposal_id", "acronym", "rank", "total", "requested_eur", "status"]
    frame = ranking.assign(acronym=ranking["proposal_id"].map(acronyms))
    return frame[[c for c in columns if c in frame.columns]].reset_index(drop=True)


def decision_tables(
    call: Call, proposals: ProposalSet, decision: Decision
) -> dict[str, pd.DataFrame]:
    """Every table of a decision by its name (an XLSX sheet's, a CSV file's): the funded and
    reserve lists, the proposals not ranked, each funder's report, success by country, the
    payments and the what-if answers."""
    return {
        "funded": _listed(decision, "funded", proposals),
        "reserve": _listed(decision, "reserve", proposals),
        "not-ranked": decision.not_ranked,
        "funders": funder_report(call, proposals, decision),
        "countries": country_success(proposals, decision),
        "payments": decision.payments,
        "blocking": decision.blocking,
        "budget-increases": decision.budget_increases,
        "next-k": decision.next_k,
        "top-up-spending": decision.top_up_spending,
    }


def decision_workbook(call: Call, proposals: ProposalSet, decision: Decision) -> bytes:
    """The decision's tables as one XLSX workbook, a sheet per table (text never a formula)."""
    return workbook_bytes(decision_tables(call, proposals, decision))


def commitments_figure(report: pd.DataFrame) -> go.Figure:
    """Bars per funder: national budget, committed and top-up money (the report's twin)."""
    import plotly.graph_objects as go

    labels = report["funder"].tolist()
    figure = go.Figure()
    figure.add_bar(name="national budget", x=labels, y=report["budget_eur"].tolist())
    figure.add_bar(name="committed", x=labels, y=report["committed_eur"].tolist())
    if (report["top_up_eur"] > 0).any():
        figure.add_bar(name="top-up or pot for its partners", x=labels,
                       y=report["top_up_eur"].tolist())  # fmt: skip
    figure.update_layout(
        title="Commitments against each funder's national budget (EUR)",
        barmode="group", height=380, yaxis_title="EUR", legend_orientation="h",
        legend_y=-0.2,
    )  # fmt: skip
    return figure


def report_payload(call: Call, proposals: ProposalSet, decision: Decision) -> dict[str, Any]:
    """The funder report and success by country as JSON-ready records."""
    return {
        "funders": records(funder_report(call, proposals, decision)),
        "countries": records(country_success(proposals, decision)),
    }
