"""The network of initiatives, organisations and countries: drawn in detail, or aggregated
when it would be too large to draw."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from permedhub.graph.models import (
    ALL_COUNTRIES,
    Country,
    Initiative,
    InitiativeActivity,
    Link,
    Organisation,
    Participation,
    PlaceTotal,
    Region,
    RegionMembership,
)
from permedhub.graph.queries.common import (
    InvalidFilter,
    among_values,
    country_names,
    initiative_filters,
)
from permedhub.graph.queries.counting import participations_without_country
from permedhub.graph.queries.places import initiatives_declaring
from permedhub.graph.views import Network, NetworkEdge, NetworkNode

NETWORK_MAX_NODES = 2000
# An aggregated network shows this many initiatives one by one, the others as one node.
NETWORK_TOP_INITIATIVES = 40
OTHER_INITIATIVES = "aggregate:other-initiatives"


def network(
    session: Session,
    *,
    kinds: Sequence[str] | None = None,
    region: str | None = None,
    year_from: int | None = None,
    year_to: int | None = None,
    max_nodes: int = NETWORK_MAX_NODES,
) -> Network:
    """Initiatives, their organisations and countries as nodes; roles and links as edges.

    When initiatives and organisations would push the graph past `max_nodes`, it is drawn from
    the activity aggregates instead (see `_aggregated_network`): one node per country, the
    initiatives with most participations, one node for all the other initiatives.
    """
    if region is not None and session.get(Region, region) is None:
        raise InvalidFilter("region", region, "a region id such as eu27, celac or african-union")
    filters = initiative_filters(kinds, year_from, year_to)
    filtered = bool(filters)
    members = (
        sorted(
            session.execute(
                select(RegionMembership.country_code).where(RegionMembership.region_id == region)
            ).scalars()
        )
        if region
        else None
    )
    n_initiatives = session.execute(
        select(func.count()).select_from(Initiative).where(*filters)
    ).scalar_one()
    room = max_nodes - n_initiatives
    if room < 0 or _participating_organisations(session, filters, members, room + 1) > room:
        return _aggregated_network(session, filters, region, members, max_nodes)
    return _detailed_network(session, filters, filtered, region, members)


def _participating_organisations(
    session: Session, filters: list[Any], members: list[str] | None, cap: int
) -> int:
    """How many organisations take part in the chosen initiatives (in the region), counting no
    further than `cap`: the answer only decides whether they fit the drawing."""
    takes_part = select(Participation.organisation_id).where(
        Participation.organisation_id == Organisation.id
    )
    if filters:
        # A join, not `initiative_id IN (chosen ids)`: SQLite probed (organisation, initiative)
        # once per chosen initiative for every organisation (50 ms for the 1,400 projects).
        takes_part = takes_part.join(
            Initiative, Initiative.id == Participation.initiative_id
        ).where(*filters)
    found = select(Organisation.id).where(takes_part.exists())
    if members is not None:
        found = found.where(Organisation.country_code.in_(members))
    return int(
        session.execute(select(func.count()).select_from(found.limit(cap).subquery())).scalar_one()
    )


def _initiative_nodes(session: Session, filters: list[Any]) -> list[NetworkNode]:
    return [
        NetworkNode(
            id=f"initiative:{i}",
            type="initiative",
            label=acronym or name,
            kind=kind,
            url=f"/initiatives/{i}",
        )
        for i, acronym, name, kind in session.execute(
            select(Initiative.id, Initiative.acronym, Initiative.name, Initiative.kind)
            .where(*filters)
            .order_by(Initiative.id)
        )
    ]


def _link_edges(session: Session, ids: Sequence[str]) -> list[NetworkEdge]:
    if not ids:
        return []
    return [
        NetworkEdge(
            source=f"initiative:{source}", target=f"initiative:{target}", type="link", label=kind
        )
        for source, target, kind in session.execute(
            select(Link.from_id, Link.to_id, Link.kind).where(
                among_values(session, Link.from_id, ids), among_values(session, Link.to_id, ids)
            )
        )
    ]


def _detailed_network(
    session: Session,
    filters: list[Any],
    filtered: bool,
    region: str | None,
    members: list[str] | None,
) -> Network:
    """Every organisation as a node (the graph fits `max_nodes`)."""
    nodes = _initiative_nodes(session, filters)
    org_filter: list[ColumnElement[bool]] = []
    # Restrict participations to the chosen initiatives only when a filter chose some: an
    # IN over every initiative would make the database walk all participations.
    if filtered:
        org_filter.append(Participation.initiative_id.in_([n.id.split(":", 1)[1] for n in nodes]))
    if members is not None:
        org_filter.append(Organisation.country_code.in_(members))
    edges: list[NetworkEdge] = []
    countries: dict[str, int] = defaultdict(int)
    seen_orgs: set[str] = set()
    for p_role, o_id, o_name, o_acr, o_kind, o_country, i_id in session.execute(
        select(
            Participation.role,
            Organisation.id,
            Organisation.name,
            Organisation.acronym,
            Organisation.kind,
            Organisation.country_code,
            Participation.initiative_id,
        )
        .join(Organisation, Organisation.id == Participation.organisation_id)
        .where(*org_filter)
        .order_by(Organisation.id)
    ):
        if o_id not in seen_orgs:
            seen_orgs.add(o_id)
            nodes.append(
                NetworkNode(
                    id=f"organisation:{o_id}",
                    type="organisation",
                    label=o_acr or o_name,
                    kind=o_kind,
                    country=o_country,
                    url=f"/organisations/{o_id}",
                )
            )
            if o_country:
                countries[o_country] += 1
                edges.append(
                    NetworkEdge(
                        source=f"organisation:{o_id}",
                        target=f"country:{o_country}",
                        type="location",
                    )
                )
        edges.append(
            NetworkEdge(
                source=f"organisation:{o_id}",
                target=f"initiative:{i_id}",
                type="participation",
                label=p_role,
            )
        )
    if members is not None:
        # Within a region, show the initiatives its organisations take part in or that list
        # one of its countries, not the whole family.
        keep = {e.target for e in edges if e.type == "participation"} | {
            f"initiative:{i}" for i in initiatives_declaring(session, members)
        }
        nodes = [n for n in nodes if n.type != "initiative" or n.id in keep]
    shown = [n.id.split(":", 1)[1] for n in nodes if n.type == "initiative"]
    edges = _link_edges(session, shown) + edges
    names = country_names(session, countries)
    nodes.extend(
        NetworkNode(
            id=f"country:{code}",
            type="country",
            label=names.get(code, code),
            country=code,
            weight=n,
            url=f"/countries/{code}",
        )
        for code, n in sorted(countries.items())
    )
    return Network(nodes=nodes, edges=edges, aggregated=None)


def _aggregated_network(
    session: Session,
    filters: list[Any],
    region: str | None,
    members: list[str] | None,
    max_nodes: int,
) -> Network:
    """The network from the activity aggregates, never from the participations.

    One node per country (weight = its organisations' participations in the chosen
    initiatives); the NETWORK_TOP_INITIATIVES initiatives with most participations (in the
    region, if one is chosen) with an edge from every country taking part (weight =
    participations); all other initiatives as one node, with an edge from each country for the
    rest of its participations. Unfiltered it reads about a hundred aggregate rows whatever the
    graph's size; a kind or year filter adds up the chosen initiatives' country rows.
    """
    scope = region or ALL_COUNTRIES
    # Every country (not subdivisions, whose organisations their country counts already), or
    # the region's members.
    places = (
        Country.parent_code.is_(None)
        if members is None
        else among_values(session, Country.code, members)
    )
    # Participations per country in the chosen initiatives, and per (country, top initiative).
    if filters:
        # The chosen initiatives' per-country breakdowns in this scope, added up: a few
        # thousand small JSON objects instead of grouping a hundred thousand rows in SQL.
        sums: dict[str, int] = defaultdict(int)
        for (breakdown,) in session.execute(
            select(InitiativeActivity.countries)
            .join(Initiative, Initiative.id == InitiativeActivity.initiative_id)
            .where(InitiativeActivity.scope == scope, *filters)
        ):
            for place, n in (breakdown or {}).items():
                sums[place] += int(n)
        names = country_names(session, sums)
        country_totals = {c: (n, names.get(c, c)) for c, n in sums.items()}
    else:
        country_totals = {
            str(c): (int(n), str(name))
            for c, name, n in session.execute(
                select(PlaceTotal.place_code, Country.name, PlaceTotal.participations)
                .join(Country, Country.code == PlaceTotal.place_code)
                .where(places)
            )
        }
    active_countries = sorted(c for c, (n, _) in country_totals.items() if n > 0)
    room = max(1, min(NETWORK_TOP_INITIATIVES, max_nodes - len(active_countries) - 1))
    # Ranking: participations in the scope, then initiatives that only declare a country there.
    ranking = (
        select(
            InitiativeActivity.initiative_id,
            Initiative.acronym,
            Initiative.name,
            Initiative.kind,
            InitiativeActivity.countries,
        )
        .join(Initiative, Initiative.id == InitiativeActivity.initiative_id)
        .where(InitiativeActivity.scope == scope, *filters)
    )
    ranked_rows = session.execute(
        ranking.order_by(
            InitiativeActivity.participations.desc(), InitiativeActivity.initiative_id
        ).limit(room)
    ).all()
    ranked = [str(r[0]) for r in ranked_rows]
    labels = {str(r[0]): (r[1] or r[2], r[3]) for r in ranked_rows}
    counted = (
        select(func.count())
        .select_from(InitiativeActivity)
        .where(InitiativeActivity.scope == scope)
    )
    if filters:
        counted = counted.join(Initiative, Initiative.id == InitiativeActivity.initiative_id).where(
            *filters
        )
    active_total = session.execute(counted).scalar_one()
    declared_only: list[str] = []
    if members is not None:
        declaring = initiatives_declaring(session, members)
        if declaring:
            active = set(
                session.execute(
                    select(InitiativeActivity.initiative_id).where(
                        InitiativeActivity.scope == scope,
                        InitiativeActivity.initiative_id.in_(declaring),
                    )
                ).scalars()
            )
            declared_only = sorted(
                session.execute(
                    select(Initiative.id).where(Initiative.id.in_(declaring - active), *filters)
                ).scalars()
            )
        in_scope = active_total + len(declared_only)
    else:
        in_scope = session.execute(
            select(func.count()).select_from(Initiative).where(*filters)
        ).scalar_one()
    top = ranked + declared_only[: max(0, room - len(ranked))]
    others = in_scope - len(top)
    # The ranking's rows carry their per-country breakdown: the edges need no other query.
    shown_countries = set(active_countries)
    pairs = [
        (place, str(r[0]), int(n))
        for r in ranked_rows
        for place, n in (r[4] or {}).items()
        if place in shown_countries and n
    ]
    if len(top) > len(ranked):  # declared-only initiatives are not in the ranking's rows
        labels.update(
            (i, (acronym or name, kind))
            for i, acronym, name, kind in session.execute(
                select(Initiative.id, Initiative.acronym, Initiative.name, Initiative.kind).where(
                    Initiative.id.in_(top[len(ranked) :])
                )
            )
        )
    nodes = [
        NetworkNode(
            id=f"initiative:{i}",
            type="initiative",
            label=labels[i][0],
            kind=labels[i][1],
            url=f"/initiatives/{i}",
        )
        for i in top
    ]
    edges = _link_edges(session, top)
    rest = {c: n for c, (n, _) in country_totals.items()}
    for place, initiative_id, n in sorted(pairs, key=lambda r: (r[1], r[0])):
        rest[place] = rest.get(place, 0) - int(n)
        edges.append(
            NetworkEdge(
                source=f"aggregate:{place}",
                target=f"initiative:{initiative_id}",
                type="participation",
                weight=int(n),
                label=f"{n} participations",
            )
        )
    if others > 0:
        nodes.append(
            NetworkNode(
                id=OTHER_INITIATIVES,
                type="aggregate",
                label=f"{others} other initiatives",
                weight=sum(n for n in rest.values() if n > 0),
                url="/initiatives",
            )
        )
        edges.extend(
            NetworkEdge(
                source=f"aggregate:{place}",
                target=OTHER_INITIATIVES,
                type="participation",
                weight=n,
                label=f"{n} participations",
            )
            for place, n in sorted(rest.items())
            if n > 0
        )
    nodes.extend(
        NetworkNode(
            id=f"aggregate:{code}",
            type="aggregate",
            label=name,
            country=code,
            weight=n,
            url=f"/countries/{code}",
        )
        for code, (n, name) in sorted(country_totals.items())
        if n > 0
    )
    participations = sum(n for n, _ in country_totals.values() if n > 0)
    aggregated = (
        f"More than {max_nodes} nodes: organisations are aggregated into one node per country "
        f"({len(active_countries)} countries, "
        f"{participations} participations; weights count participations)"
    )
    if others > 0:
        aggregated += (
            f", and the {len(top)} initiatives with most participations are shown, "
            f"the other {others} as one node"
        )
    if members is None:
        stateless = participations_without_country(session)
        if stateless:
            aggregated += (
                f"; {stateless} participations of organisations without a country are not drawn"
            )
    return Network(nodes=nodes, edges=edges, aggregated=aggregated)
