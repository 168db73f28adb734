"""Every table the portal shows, as a pandas frame: the page renders it, the CSV route sends it."""

from __future__ import annotations

import pandas as pd

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
    PartnerView,
    RegionProfile,
    SearchHit,
    Timeline,
)


def _frame(rows: list[dict[str, object]], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns)


def initiatives(items: list[InitiativeSummary]) -> pd.DataFrame:
    return _frame(
        [
            {
                "id": i.id,
                "acronym": i.acronym or "",
                "name": i.name,
                "kind": i.kind,
                "programme": i.programme or "",
                "start": i.start or "",
                "end": i.end or "",
                "status": i.status,
                "uncertain": "; ".join(sorted(i.uncertain)),
                "source": i.source or "",
            }
            for i in items
        ],
        [
            "id",
            "acronym",
            "name",
            "kind",
            "programme",
            "start",
            "end",
            "status",
            "uncertain",
            "source",
        ],
    )


def partners(items: list[PartnerView]) -> pd.DataFrame:
    return _frame(
        [
            {
                "organisation_id": p.organisation.id,
                "organisation": p.organisation.name,
                "acronym": p.organisation.acronym or "",
                "kind": p.organisation.kind or "",
                "country_code": p.organisation.country.code if p.organisation.country else "",
                "country": p.organisation.country.name if p.organisation.country else "",
                "subdivision": p.organisation.subdivision.name
                if p.organisation.subdivision
                else "",
                "role": p.role,
                "uncertain": "; ".join(sorted(p.uncertain)),
                "source": p.source or "",
            }
            for p in items
        ],
        [
            "organisation_id",
            "organisation",
            "acronym",
            "kind",
            "country_code",
            "country",
            "subdivision",
            "role",
            "uncertain",
            "source",
        ],
    )


def calls(detail: InitiativeDetail) -> pd.DataFrame:
    return _frame(
        [
            {
                "id": c.id,
                "title": c.title,
                "year": c.year,
                "funders": c.funders_count,
                "budget_eur": c.budget_eur,
                "proposals_submitted": c.proposals_submitted,
                "projects_funded": c.projects_funded,
                "uncertain": "; ".join(sorted(c.uncertain)),
                "source": c.source or "",
            }
            for c in detail.calls
        ],
        [
            "id",
            "title",
            "year",
            "funders",
            "budget_eur",
            "proposals_submitted",
            "projects_funded",
            "uncertain",
            "source",
        ],
    )


def participations(detail: OrganisationDetail) -> pd.DataFrame:
    return _frame(
        [
            {
                "initiative_id": p.initiative.id,
                "initiative": p.initiative.acronym or p.initiative.name,
                "kind": p.initiative.kind,
                "role": p.role,
                "start": p.initiative.start or "",
                "end": p.initiative.end or "",
                "status": p.initiative.status,
                "source": p.source or "",
            }
            for p in detail.participations
        ],
        ["initiative_id", "initiative", "kind", "role", "start", "end", "status", "source"],
    )


def organisations(items: list[OrganisationSummary]) -> pd.DataFrame:
    return _frame(
        [
            {
                "id": o.id,
                "name": o.name,
                "acronym": o.acronym or "",
                "kind": o.kind or "",
                "country_code": o.country.code if o.country else "",
                "subdivision": o.subdivision.name if o.subdivision else "",
                "city": o.city or "",
                "source": o.source or "",
            }
            for o in items
        ],
        ["id", "name", "acronym", "kind", "country_code", "subdivision", "city", "source"],
    )


def country_initiatives(profile: CountryProfile) -> pd.DataFrame:
    return _frame(
        [
            {
                "initiative_id": ci.initiative.id,
                "initiative": ci.initiative.acronym or ci.initiative.name,
                "kind": ci.initiative.kind,
                "roles": "; ".join(ci.roles),
                "organisations": ci.organisations,
                "declared": ci.declared,
                "status": ci.initiative.status,
            }
            for ci in profile.initiatives
        ],
        ["initiative_id", "initiative", "kind", "roles", "organisations", "declared", "status"],
    )


def region_members(profile: RegionProfile) -> pd.DataFrame:
    return _frame(
        [
            {
                "code": m.code,
                "country": m.name,
                "takes_part": m.takes_part,
                "organisations": m.organisations,
                "participations": m.participations,
                "initiatives": m.initiatives_total,
            }
            for m in profile.members
        ],
        ["code", "country", "takes_part", "organisations", "participations", "initiatives"],
    )


def countries(counts: Counts) -> pd.DataFrame:
    return _frame(
        [
            {
                "code": c.code,
                "country": c.name,
                "organisations": c.organisations,
                "participations": c.participations,
                "initiatives": c.initiatives,
            }
            for c in counts.by_country
        ],
        ["code", "country", "organisations", "participations", "initiatives"],
    )


def regions(counts: Counts) -> pd.DataFrame:
    return _frame(
        [
            {
                "id": r.id,
                "region": r.name,
                "countries_taking_part": r.countries_taking_part,
                "countries_total": r.countries_total,
                "organisations": r.organisations,
                "participations": r.participations,
            }
            for r in counts.by_region
        ],
        [
            "id",
            "region",
            "countries_taking_part",
            "countries_total",
            "organisations",
            "participations",
        ],
    )


def network_edges(network: Network) -> pd.DataFrame:
    """The network's table twin: one row per edge, both ends named, with their pages."""
    nodes = {n.id: n for n in network.nodes}
    rows = []
    for e in network.edges:
        source, target = nodes.get(e.source), nodes.get(e.target)
        if source is None or target is None:
            continue
        rows.append(
            {
                "from": source.label,
                "from_type": source.type,
                "from_url": source.url or "",
                "relation": e.label or e.type,
                "to": target.label,
                "to_type": target.type,
                "to_url": target.url or "",
                "weight": e.weight,
            }
        )
    frame = _frame(
        rows, ["from", "from_type", "from_url", "relation", "to", "to_type", "to_url", "weight"]
    )
    return frame.sort_values(["to_type", "to", "from"], kind="stable").reset_index(drop=True)


def timeline(data: Timeline) -> pd.DataFrame:
    return _frame(
        [
            {
                "id": i.id,
                "initiative": i.label,
                "kind": i.kind,
                "start": i.start or "",
                "end": i.end or "",
                "status": i.status,
                "uncertain": "; ".join(f"{k}: {v}" if v else k for k, v in i.uncertain.items()),
            }
            for i in data.items
        ],
        ["id", "initiative", "kind", "start", "end", "status", "uncertain"],
    )


def subnational(items: list[SubnationalOrganisation]) -> pd.DataFrame:
    return _frame(
        [
            {
                "organisation_id": o.id,
                "organisation": o.name,
                "kind": o.kind or "",
                "subdivision_code": o.subdivision_code,
                "subdivision": o.subdivision_name,
                "country_code": o.country_code or "",
            }
            for o in items
        ],
        [
            "organisation_id",
            "organisation",
            "kind",
            "subdivision_code",
            "subdivision",
            "country_code",
        ],
    )


def search_hits(hits: list[SearchHit]) -> pd.DataFrame:
    return _frame(
        [
            {"type": h.entity_type, "id": h.id, "title": h.title, "url": h.url, "score": h.score}
            for h in hits
        ],
        ["type", "id", "title", "url", "score"],
    )


def audit(entries: list[AuditView]) -> pd.DataFrame:
    return _frame(
        [
            {
                "id": e.id,
                "at": e.at.isoformat() if e.at else "",
                "actor": e.actor,
                "action": e.action,
                "entity_type": e.entity_type,
                "entity_id": e.entity_id,
                "changes": "; ".join(
                    f"{k}: {old!r} -> {new!r}" for k, (old, new) in e.changed.items()
                ),
                "undone_by": e.undone_by or "",
            }
            for e in entries
        ],
        ["id", "at", "actor", "action", "entity_type", "entity_id", "changes", "undone_by"],
    )
