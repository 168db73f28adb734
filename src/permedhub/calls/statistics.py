"""Statistics of calls: submissions, eligibility and success by country, funder, organisation
kind and module, per call and across calls. Every table is tidy (one row per observation).

Two kinds of calls, two kinds of data:

- a call run in PerMed Hub (`jtc_*` tables): per stage, the proposals submitted, eligible
  (the consortium check passed and no funder rejected a partner) and funded (the funding
  decision), and their partners, by the partners' country, the funder they ask (own-funded
  partners under "own funded"), the organisation kind they declare and the proposal's
  modules (`workflow_statistics`). A proposal counts once under each value one of its
  partners (or its modules) has; partners are not counted by module;
- a seeded real call: what the public data allow. The funded projects the knowledge graph
  holds for it (projects whose `call_topic` is the call) and their partners by country and
  by organisation kind (`graph_statistics`), and the figures the call's announcements
  state (`Call.outcome`; a success rate only where they give both the projects funded and
  the proposals it is a share of, and of which proposals is said). The graph holds a part of
  the projects only: its counts are of the projects found, not of the call's.

`call_summary` puts one row per call across all of it.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from permedhub.calls.documents import load_call, seeded_call_files
from permedhub.calls.model import Call
from permedhub.calls.store import CallRecord, FundingOutcome, NationalCheck, ProposalRecord
from permedhub.calls.tables import country_of, records
from permedhub.graph.models import Call as GraphCall
from permedhub.graph.models import Initiative, Organisation, Participation

if TYPE_CHECKING:
    import plotly.graph_objects as go

OWN_FUNDED = "own funded"
UNKNOWN = "unknown"
DIMENSIONS = ("all", "country", "funder", "organisation kind", "module")
WORKFLOW_COLUMNS = [
    "call", "stage", "dimension", "value", "proposals_submitted", "proposals_eligible",
    "proposals_funded", "proposal_success_rate", "partners_submitted", "partners_eligible",
    "partners_funded",
]  # fmt: skip
GRAPH_COLUMNS = ["call", "dimension", "value", "projects", "partners"]
PUBLISHED_FIELDS = (
    "pre_proposals_submitted", "pre_proposals_eligible", "full_proposals_invited",
    "projects_funded", "funding_eur",
)  # fmt: skip


# ---------------------------------------------------------------- calls run in PerMed Hub


def workflow_calls(session: Session, decided_only: bool = False) -> list[str]:
    """The ids of the calls in the workflow (with `decided_only`, those with a funding
    decision), by id."""
    stmt = select(CallRecord.id).order_by(CallRecord.id)
    if decided_only:
        stmt = stmt.where(CallRecord.id.in_(select(FundingOutcome.call_id)))
    return list(session.execute(stmt).scalars())


def _workflow_partners(session: Session, call_ids: Sequence[str]) -> pd.DataFrame:
    """One row per partner of every submitted proposal of `call_ids`, with its proposal's
    stage, eligibility and outcome; modules as a tuple."""
    rejected = set(
        session.execute(
            select(NationalCheck.proposal_id).where(NationalCheck.accepted.is_(False))
        ).scalars()
    )
    funded = set(
        session.execute(
            select(FundingOutcome.proposal_id).where(
                FundingOutcome.call_id.in_(list(call_ids)), FundingOutcome.status == "funded"
            )
        ).scalars()
    )
    stage_names = {
        record.id: [s["name"] for s in record.document.get("stages", [])]
        for record in session.execute(
            select(CallRecord).where(CallRecord.id.in_(list(call_ids)))
        ).scalars()
    }
    rows = []
    proposals = session.execute(
        select(ProposalRecord)
        .where(ProposalRecord.call_id.in_(list(call_ids)), ProposalRecord.state == "submitted")
        .order_by(ProposalRecord.id)
    ).scalars()
    for p in proposals:
        eligible = bool(p.eligible) and p.id not in rejected
        names = stage_names.get(p.call_id, [])
        stage = names[p.stage] if p.stage < len(names) else str(p.stage)
        modules = tuple(p.fields.get("modules") or ())
        for partner in p.fields.get("partners") or []:
            rows.append((
                p.call_id, stage, p.stage, p.id, country_of(str(partner.get("country"))),
                partner.get("funder") or OWN_FUNDED, partner.get("kind") or UNKNOWN, modules,
                eligible, p.id in funded,
            ))  # fmt: skip
    columns = ["call", "stage", "stage_index", "proposal", "country", "funder",
               "organisation kind", "modules", "eligible", "funded"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def _counts(frame: pd.DataFrame, keys: list[str], partners: bool = True) -> pd.DataFrame:
    """Proposals (distinct) and partners submitted, eligible and funded per `keys`."""
    grouped = frame.groupby(keys, sort=False)
    out = pd.DataFrame({
        "proposals_submitted": grouped["proposal"].nunique(),
        "proposals_eligible": grouped.apply(
            lambda g: g.loc[g["eligible"], "proposal"].nunique(), include_groups=False
        ),
        "proposals_funded": grouped.apply(
            lambda g: g.loc[g["funded"], "proposal"].nunique(), include_groups=False
        ),
        "partners_submitted": grouped.size() if partners else np.nan,
        "partners_eligible": grouped["eligible"].sum() if partners else np.nan,
        "partners_funded": grouped["funded"].sum() if partners else np.nan,
    })  # fmt: skip
    return out.reset_index()


def workflow_statistics(session: Session, call_ids: Sequence[str]) -> pd.DataFrame:
    """The tidy table of the calls `call_ids` run in PerMed Hub: one row per call, stage,
    dimension (all, country, funder, organisation kind, module) and value, with proposals
    and partners submitted, eligible and funded and the proposals' success rate (funded of
    submitted). Rows by call, stage, dimension (that order) and value."""
    partners = _workflow_partners(session, call_ids)
    if not len(partners):
        return pd.DataFrame(columns=WORKFLOW_COLUMNS)
    base = ["call", "stage_index", "stage"]
    parts = [_counts(partners, base).assign(dimension="all", value="all")]
    for dimension in ("country", "funder", "organisation kind"):
        counted = _counts(partners, [*base, dimension]).rename(columns={dimension: "value"})
        parts.append(counted.assign(dimension=dimension))
    by_module = partners.explode("modules").dropna(subset=["modules"])
    if len(by_module):
        # One row per proposal and module: partner counts would repeat, so none are given.
        one = by_module.drop_duplicates(["proposal", "modules"])
        counted = _counts(one, [*base, "modules"], partners=False)
        parts.append(counted.rename(columns={"modules": "value"}).assign(dimension="module"))
    table = pd.concat(parts, ignore_index=True)
    table["dimension_order"] = table["dimension"].map(DIMENSIONS.index)
    table = table.sort_values(["call", "stage_index", "dimension_order", "value"], kind="stable")
    table["proposal_success_rate"] = table["proposals_funded"] / table["proposals_submitted"]
    for column in ("partners_submitted", "partners_eligible", "partners_funded"):
        table[column] = table[column].astype("Int64")
    return table[WORKFLOW_COLUMNS].reset_index(drop=True)


# ---------------------------------------------------------------- seeded real calls


@functools.cache
def seeded_calls() -> dict[str, Call]:
    """The seeded real call documents (calls/seed), by id: package data, read once per
    process (callers must not change them)."""
    return {call.id: call for call in map(load_call, seeded_call_files())}


def _graph_partners(session: Session, call_ids: Sequence[str]) -> pd.DataFrame:
    """One row per participation in a funded project of `call_ids` the graph holds:
    call, project, organisation, country (unknown where the graph has none) and kind."""
    rows = session.execute(
        select(
            Initiative.call_topic, Initiative.id, Organisation.id,
            Organisation.country_code, Organisation.kind,
        )
        .join(Participation, Participation.initiative_id == Initiative.id)
        .join(Organisation, Organisation.id == Participation.organisation_id)
        .where(Initiative.kind == "project", Initiative.call_topic.in_(list(call_ids)))
        .order_by(Initiative.call_topic, Initiative.id, Organisation.id)
    ).all()  # fmt: skip
    frame = pd.DataFrame(
        rows, columns=["call", "project", "organisation", "country", "organisation kind"]
    )
    return frame.fillna({"country": UNKNOWN, "organisation kind": UNKNOWN})


def projects_found(session: Session, call_ids: Sequence[str]) -> dict[str, int]:
    """How many funded projects the graph holds per call (with or without partners)."""
    rows = session.execute(
        select(Initiative.call_topic, func.count(Initiative.id))
        .where(Initiative.kind == "project", Initiative.call_topic.in_(list(call_ids)))
        .group_by(Initiative.call_topic)
    ).all()
    return {str(call): int(count) for call, count in rows}


def graph_statistics(session: Session, call_ids: Sequence[str]) -> pd.DataFrame:
    """The funded projects the graph holds for `call_ids` and their partners: one row per
    call, dimension (all, country, organisation kind) and value, with the projects having a
    partner there and the partners (participations). "all" counts every project found,
    also those whose partners the graph does not list."""
    found = projects_found(session, call_ids)
    partners = _graph_partners(session, call_ids)
    total = partners.groupby("call").size()
    listed = [c for c in call_ids if c in found]
    whole = pd.DataFrame({
        "call": listed, "dimension": "all", "value": "all",
        "projects": [found[c] for c in listed],
        "partners": [int(total.get(c, 0)) for c in listed],
    })  # fmt: skip
    parts = [whole]
    for dimension in ("country", "organisation kind"):
        grouped = partners.groupby(["call", dimension])
        counted = pd.DataFrame(
            {"projects": grouped["project"].nunique(), "partners": grouped.size()}
        ).reset_index()
        parts.append(counted.rename(columns={dimension: "value"}).assign(dimension=dimension))
    table = pd.concat(parts, ignore_index=True)
    order = {c: i for i, c in enumerate(call_ids)}
    table = table.assign(
        call_order=table["call"].map(order),
        dimension_order=table["dimension"].map(DIMENSIONS.index),
    )
    table = table.sort_values(
        ["call_order", "dimension_order", "partners", "value"],
        ascending=[True, True, False, True],
        kind="stable",
    )
    table = table.astype({"projects": "int64", "partners": "int64"})
    return table[GRAPH_COLUMNS].reset_index(drop=True)


def published_outcomes(calls: Sequence[Call]) -> pd.DataFrame:
    """The outcome each call's announcements state (empty where they state none), and the
    success rate: projects funded of the pre-proposals submitted where those are stated,
    else of the eligible ones (`success_rate_of` says which); NaN without both figures."""
    rows = []
    for call in calls:
        outcome = call.outcome
        figures: dict[str, Any] = {f: getattr(outcome, f, None) for f in PUBLISHED_FIELDS}
        figures["funding_eur"] = (
            None if figures["funding_eur"] is None else float(figures["funding_eur"])
        )
        funded = figures["projects_funded"]
        of, base = next(
            (
                (label, figures[field])
                for field, label in (
                    ("pre_proposals_submitted", "submitted pre-proposals"),
                    ("pre_proposals_eligible", "eligible pre-proposals"),
                )
                if figures[field]
            ),
            (None, None),
        )
        rate = funded / base if funded is not None and base else np.nan
        rows.append({
            "call": call.id, **figures, "success_rate": rate, "success_rate_of": of,
            "source": outcome.source if outcome else None,
            "uncertain": "; ".join(f"{k}: {v}" for k, v in outcome.uncertain.items()) or None
            if outcome else None,
        })  # fmt: skip
    columns = ["call", *PUBLISHED_FIELDS, "success_rate", "success_rate_of", "source", "uncertain"]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.astype({f: "Int64" for f in PUBLISHED_FIELDS if f != "funding_eur"})


# ---------------------------------------------------------------- across calls


def known_calls(session: Session, public: bool = True) -> dict[str, str]:
    """Every call statistics exist for, id -> title, by year then id: the seeded real calls,
    the graph's calls and the calls run in PerMed Hub (`public`: only those decided, whose
    statistics are public once the decision is made)."""
    graph = {
        c.id: (c.year, c.title)
        for c in session.execute(select(GraphCall).order_by(GraphCall.year, GraphCall.id)).scalars()
    }
    found: dict[str, tuple[int | None, str]] = dict(graph)
    for call in seeded_calls().values():
        found.setdefault(call.id, (call.stages[0].deadline.year, call.title))
    for record in session.execute(
        select(CallRecord).where(CallRecord.id.in_(workflow_calls(session, public)))
    ).scalars():
        deadline = record.document["stages"][0]["deadline"]
        found.setdefault(record.id, (int(str(deadline)[:4]), record.title))
    ordered = sorted(found.items(), key=lambda item: (item[1][0] or 0, item[0]))
    return {call_id: title for call_id, (_, title) in ordered}


def call_summary(
    session: Session, call_ids: Sequence[str] | None = None, public: bool = True
) -> pd.DataFrame:
    """One row per call (`call_ids`, default every known call): its title; for a call run in
    PerMed Hub the proposals submitted at its first stage, eligible there, and funded; the
    outcome its announcements state with the success rate; the funded projects the graph
    holds, their partners and countries."""
    titles = known_calls(session, public)
    ids = list(titles) if call_ids is None else list(call_ids)
    seeded = seeded_calls()
    run = set(workflow_calls(session, public))
    workflow = workflow_statistics(session, [c for c in ids if c in run])
    first = workflow[workflow["dimension"] == "all"].groupby("call", sort=False)
    hub = {
        call: {
            "hub_proposals_submitted": int(g["proposals_submitted"].iloc[0]),
            "hub_proposals_eligible": int(g["proposals_eligible"].iloc[0]),
            "hub_proposals_funded": int(g["proposals_funded"].max()),
        }
        for call, g in first
    }
    published = published_outcomes([seeded[c] for c in ids if c in seeded]).set_index("call")
    graph = graph_statistics(session, ids)
    rows = []
    for call_id in ids:
        mine = graph[graph["call"] == call_id]
        whole = mine[mine["dimension"] == "all"]
        countries = mine[(mine["dimension"] == "country") & (mine["value"] != UNKNOWN)]
        stated = published.loc[call_id] if call_id in published.index else None
        rows.append({
            "call": call_id,
            "title": titles.get(call_id),
            "run_in_permed_hub": call_id in run,
            **hub.get(call_id, dict.fromkeys(
                ("hub_proposals_submitted", "hub_proposals_eligible", "hub_proposals_funded")
            )),
            **{f"published_{f}": None if stated is None else stated[f] for f in PUBLISHED_FIELDS},
            "published_success_rate": np.nan if stated is None else stated["success_rate"],
            "published_success_rate_of": None if stated is None else stated["success_rate_of"],
            "published_source": None if stated is None else stated["source"],
            "graph_projects": int(whole["projects"].sum()),
            "graph_partners": int(whole["partners"].sum()),
            "graph_countries": len(countries),
        })  # fmt: skip
    counts = [
        *(f"hub_proposals_{k}" for k in ("submitted", "eligible", "funded")),
        *(f"published_{f}" for f in PUBLISHED_FIELDS if f != "funding_eur"),
    ]
    return pd.DataFrame(rows).astype({c: "Int64" for c in counts})


def statistics_payload(session: Session, call_ids: Sequence[str], public: bool) -> dict[str, Any]:
    """Every table of `call_ids` as JSON-ready records (the CLI's --json)."""
    run = set(workflow_calls(session, public))
    seeded = seeded_calls()
    return {
        "calls": records(call_summary(session, call_ids, public)),
        "workflow": records(workflow_statistics(session, [c for c in call_ids if c in run])),
        "published": records(published_outcomes([seeded[c] for c in call_ids if c in seeded])),
        "graph": records(graph_statistics(session, call_ids)),
    }


def partners_figure(graph: pd.DataFrame, title: str) -> go.Figure:
    """Bars of the funded projects' partners per country (graph_statistics' country rows),
    one colour per call."""
    import plotly.graph_objects as go

    rows = graph[graph["dimension"] == "country"]
    totals = rows.groupby("value")["partners"].sum().sort_values(ascending=False)
    figure = go.Figure()
    for call, group in rows.groupby("call", sort=False):
        by_country = group.set_index("value")["partners"].reindex(totals.index, fill_value=0)
        figure.add_bar(name=str(call), x=list(totals.index), y=by_country.tolist())
    figure.update_layout(
        title=title, barmode="stack", height=380, yaxis_title="partners",
        legend_orientation="h", legend_y=-0.25,
    )  # fmt: skip
    return figure


def proposals_figure(workflow: pd.DataFrame, title: str) -> go.Figure:
    """Bars per country of a call run in PerMed Hub (workflow_statistics' country rows of its
    last stage): proposals with a partner there submitted, eligible and funded."""
    import plotly.graph_objects as go

    rows = workflow[workflow["dimension"] == "country"]
    rows = rows[rows["stage"] == rows["stage"].iloc[-1]] if len(rows) else rows
    labels = rows["value"].tolist()
    figure = go.Figure()
    for column, name in (("proposals_submitted", "submitted"),
                         ("proposals_eligible", "eligible"),
                         ("proposals_funded", "funded")):  # fmt: skip
        figure.add_bar(name=name, x=labels, y=rows[column].astype(int).tolist())
    figure.update_layout(
        title=title, barmode="group", height=380, yaxis_title="proposals",
        legend_orientation="h", legend_y=-0.25,
    )  # fmt: skip
    return figure
