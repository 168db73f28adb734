"""Every table the portal shows, as a pandas frame: the page renders it, the CSV route sends it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

import pandas as pd

from permedhub.calls.catalogue import Listing, funder_marks
from permedhub.calls.model import Call, Funder
from permedhub.graph.curation import AuditView
from permedhub.graph.layout import SubnationalOrganisation
from permedhub.graph.views import (
    CountryProfile,
    Counts,
    InitiativeDetail,
    InitiativeSummary,
    Network,
    OrganisationDetail,
    OrganisationSummary,
    RegionProfile,
    Timeline,
)
from permedhub.search.query import SearchHit

T = TypeVar("T")


def _frame(items: Iterable[T], columns: dict[str, Callable[[T], object]]) -> pd.DataFrame:
    """One row per item, one column per entry of `columns` (name -> how to read it), in order;
    an empty table keeps its header."""
    rows = list(items)
    return pd.DataFrame(
        {name: [read(item) for item in rows] for name, read in columns.items()},
        columns=list(columns),
    )


def initiatives(items: list[InitiativeSummary]) -> pd.DataFrame:
    return _frame(
        items,
        {
            "id": lambda i: i.id,
            "acronym": lambda i: i.acronym or "",
            "name": lambda i: i.name,
            "kind": lambda i: i.kind,
            "programme": lambda i: i.programme or "",
            "start": lambda i: i.start or "",
            "end": lambda i: i.end or "",
            "status": lambda i: i.status,
            "uncertain": lambda i: "; ".join(sorted(i.uncertain)),
            "source": lambda i: i.source or "",
        },
    )


def calls(detail: InitiativeDetail) -> pd.DataFrame:
    return _frame(
        detail.calls,
        {
            "id": lambda c: c.id,
            "title": lambda c: c.title,
            "year": lambda c: c.year,
            "funders": lambda c: c.funders_count,
            "budget_eur": lambda c: c.budget_eur,
            "proposals_submitted": lambda c: c.proposals_submitted,
            "projects_funded": lambda c: c.projects_funded,
            "uncertain": lambda c: "; ".join(sorted(c.uncertain)),
            "source": lambda c: c.source or "",
        },
    )


def call_listing(rows: list[Listing]) -> pd.DataFrame:
    """The list of calls; an empty cell is a value no source states."""
    frame = _frame(
        rows,
        {
            "id": lambda c: c.id,
            "title": lambda c: c.title,
            "initiative": lambda c: c.initiative_id or "",
            "year": lambda c: c.year,
            "deadlines": lambda c: "; ".join(f"{stage}: {day}" for stage, day in c.stages),
            "funders": lambda c: c.funders_count,
            "funders_listed": lambda c: c.funders_listed,
            "budget_eur": lambda c: c.budget_eur,
            "state": lambda c: c.schedule.state,
            "published_in_workflow": lambda c: c.published,
            "call_document": lambda c: c.documented,
            "uncertain": lambda c: "; ".join(f"{k}: {v}" for k, v in sorted(c.uncertain.items())),
            "approximate": lambda c: "; ".join(
                f"{k}: {v}" if v else k for k, v in sorted(c.approximate.items())
            ),
        },
    )
    # Whole numbers stay whole where some are unknown (pandas would make them floats).
    return frame.astype({"year": "Int64", "funders": "Int64"})


def _amount(value: object) -> float | None:
    return None if value is None else float(str(value))


def call_funders(call: Call, organisations: dict[str, OrganisationSummary]) -> pd.DataFrame:
    """A call document's funders with their national budgets and rules; an empty cell is a
    value the document does not state (the page says unknown)."""
    marks = [funder_marks(call, i) for i in range(len(call.funders))]

    def name(f: Funder) -> str:
        known = organisations.get(f.organisation)
        return f.name or (known.name if known else "")

    def joined(pairs: dict[str, str]) -> str:
        return "; ".join(f"{k}: {v}" for k, v in sorted(pairs.items()))

    frame = _frame(
        call.funders,
        {
            "organisation_id": lambda f: f.organisation,
            "organisation": name,
            "country": lambda f: f.country,
            "budget_eur": lambda f: _amount(f.budget_eur),
            "eligible_kinds": lambda f: (
                "" if f.rules.eligible_kinds is None else "; ".join(f.rules.eligible_kinds)
            ),
            "max_request_per_partner_eur": lambda f: _amount(f.rules.max_request_per_partner_eur),
            "max_request_per_project_eur": lambda f: _amount(f.rules.max_request_per_project_eur),
            "own_funded_allowed": lambda f: f.rules.own_funded_allowed,
            "extra_documents": lambda f: "; ".join(f.rules.extra_documents),
            "source": lambda f: f.source or call.source or "",
        },
    )
    frame["uncertain"] = [joined(doubts) for doubts, _ in marks]
    frame["sources"] = [joined(sources) for _, sources in marks]
    return frame


def participations(detail: OrganisationDetail) -> pd.DataFrame:
    return _frame(
        detail.participations,
        {
            "initiative_id": lambda p: p.initiative.id,
            "initiative": lambda p: p.initiative.acronym or p.initiative.name,
            "kind": lambda p: p.initiative.kind,
            "role": lambda p: p.role,
            "start": lambda p: p.initiative.start or "",
            "end": lambda p: p.initiative.end or "",
            "status": lambda p: p.initiative.status,
            "source": lambda p: p.source or "",
        },
    )


def organisations(items: list[OrganisationSummary]) -> pd.DataFrame:
    return _frame(
        items,
        {
            "id": lambda o: o.id,
            "name": lambda o: o.name,
            "acronym": lambda o: o.acronym or "",
            "kind": lambda o: o.kind or "",
            "country_code": lambda o: o.country.code if o.country else "",
            "subdivision": lambda o: o.subdivision.name if o.subdivision else "",
            "city": lambda o: o.city or "",
            "source": lambda o: o.source or "",
        },
    )


def country_initiatives(profile: CountryProfile) -> pd.DataFrame:
    return _frame(
        profile.initiatives,
        {
            "initiative_id": lambda ci: ci.initiative.id,
            "initiative": lambda ci: ci.initiative.acronym or ci.initiative.name,
            "kind": lambda ci: ci.initiative.kind,
            "roles": lambda ci: "; ".join(ci.roles),
            "organisations": lambda ci: ci.organisations,
            "declared": lambda ci: ci.declared,
            "status": lambda ci: ci.initiative.status,
        },
    )


def projects(detail: InitiativeDetail) -> pd.DataFrame:
    return _frame(
        detail.projects,
        {
            "call": lambda p: p.call_id,
            "id": lambda p: p.id,
            "acronym": lambda p: p.acronym or "",
            "name": lambda p: p.name,
            "start": lambda p: p.start or "",
            "end": lambda p: p.end or "",
            "status": lambda p: p.status,
        },
    )


def region_members(profile: RegionProfile) -> pd.DataFrame:
    return _frame(
        profile.members,
        {
            "code": lambda m: m.code,
            "country": lambda m: m.name,
            "takes_part": lambda m: m.takes_part,
            "organisations": lambda m: m.organisations,
            "participations": lambda m: m.participations,
            "initiatives": lambda m: m.initiatives_total,
            "initiatives_declared_only": lambda m: m.declared_only,
        },
    )


def countries(counts: Counts) -> pd.DataFrame:
    return _frame(
        counts.by_country,
        {
            "code": lambda c: c.code,
            "country": lambda c: c.name,
            "organisations": lambda c: c.organisations,
            "participations": lambda c: c.participations,
            "initiatives": lambda c: c.initiatives,
        },
    )


def regions(counts: Counts) -> pd.DataFrame:
    return _frame(
        counts.by_region,
        {
            "id": lambda r: r.id,
            "region": lambda r: r.name,
            "countries_taking_part": lambda r: r.countries_taking_part,
            "countries_total": lambda r: r.countries_total,
            "organisations": lambda r: r.organisations,
            "participations": lambda r: r.participations,
        },
    )


def network_edges(network: Network) -> pd.DataFrame:
    """The network's table twin: one row per edge, both ends named, with their pages."""
    nodes = {n.id: n for n in network.nodes}
    ends = [
        (nodes[e.source], e, nodes[e.target])
        for e in network.edges
        if e.source in nodes and e.target in nodes
    ]
    frame = _frame(
        ends,
        {
            "from": lambda end: end[0].label,
            "from_type": lambda end: end[0].type,
            "from_url": lambda end: end[0].url or "",
            "relation": lambda end: end[1].label or end[1].type,
            "to": lambda end: end[2].label,
            "to_type": lambda end: end[2].type,
            "to_url": lambda end: end[2].url or "",
            "weight": lambda end: end[1].weight,
        },
    )
    return frame.sort_values(["to_type", "to", "from"], kind="stable").reset_index(drop=True)


def timeline(data: Timeline) -> pd.DataFrame:
    return _frame(
        data.items,
        {
            "id": lambda i: i.id,
            "initiative": lambda i: i.label,
            "kind": lambda i: i.kind,
            "start": lambda i: i.start or "",
            "end": lambda i: i.end or "",
            "status": lambda i: i.status,
            "uncertain": lambda i: "; ".join(
                f"{k}: {v}" if v else k for k, v in i.uncertain.items()
            ),
        },
    )


def subnational(items: list[SubnationalOrganisation]) -> pd.DataFrame:
    return _frame(
        items,
        {
            "organisation_id": lambda o: o.id,
            "organisation": lambda o: o.name,
            "kind": lambda o: o.kind or "",
            "subdivision_code": lambda o: o.subdivision_code,
            "subdivision": lambda o: o.subdivision_name,
            "country_code": lambda o: o.country_code or "",
        },
    )


def search_hits(hits: list[SearchHit]) -> pd.DataFrame:
    return _frame(
        hits,
        {
            "type": lambda h: h.entity_type,
            "id": lambda h: h.id,
            "title": lambda h: h.title,
            "url": lambda h: h.url,
            "score": lambda h: h.score,
        },
    )


def audit(entries: list[AuditView]) -> pd.DataFrame:
    return _frame(
        entries,
        {
            "id": lambda e: e.id,
            "at": lambda e: e.at.isoformat() if e.at else "",
            "actor": lambda e: e.actor,
            "action": lambda e: e.action,
            "entity_type": lambda e: e.entity_type,
            "entity_id": lambda e: e.entity_id,
            "changes": lambda e: "; ".join(
                f"{k}: {old!r} -> {new!r}" for k, (old, new) in e.changed.items()
            ),
            "undone_by": lambda e: e.undone_by or "",
        },
    )
