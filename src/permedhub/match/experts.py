"""The expert register: people who consented to be listed, with their expertise, country and
sector; and the register as the frame working-group selection reads.

A listing needs explicit consent: `consent: true` and the statement the person agreed to
(stored with the moment of consent). Deleting a listing on request removes the row; the audit
log records only the id, the actor and the time (no name, no e-mail). E-mail addresses are for
curators: `Expert.public()` leaves them out.

Balance regions: each expert counts in the first of BALANCE_REGIONS whose graph region holds
their country (Latin America and the Caribbean before the Americas, so "americas" is what is
left: North America). A country in none of them is "other".
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from typing import Any, Literal, get_args

import pandas as pd
from pydantic import ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from permedhub.db import writing
from permedhub.graph.curation import audit_service_record
from permedhub.graph.models import Organisation, Region, RegionMembership, Topic
from permedhub.graph.schemas import CountryCode, StableId
from permedhub.match.errors import MatchInputError
from permedhub.match.models import PUBLIC_FIELDS, Expert
from permedhub.validation import expected

Sector = Literal[
    "academia", "healthcare", "industry", "government", "funder", "patient-organisation", "ngo"
]
SECTORS: tuple[str, ...] = get_args(Sector)
BALANCE_REGIONS = ("europe", "celac", "africa", "asia", "oceania", "americas")
OTHER_REGION = "other"
# What a person agrees to when they list themself on the portal; stored with the listing.
CONSENT_STATEMENT = (
    "I agree to be listed in the PerMed Hub expert register. My name, country, sector, "
    "organisation, topics and expertise are shown to anyone on the register's page and in its "
    "CSV download, and programme managers may choose me for a working group. My e-mail address "
    "is shown only to the portal's curators, who may write to me about the register. I can "
    "delete my listing at any time; deleting it removes my name, e-mail and expertise."
)
AUDIT_TYPE = "expert"
# A plain check (one @, a dot in the domain, no spaces): the address is only shown to
# curators who write to the person; deliverability is not this register's to prove.
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ExpertIn(StableId):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    country: CountryCode
    sector: Sector
    organisation: str | None = None
    topics: list[str] = Field(default_factory=list, max_length=50)
    expertise: str | None = Field(default=None, max_length=2000)
    consent: bool
    consent_statement: str = Field(min_length=10, max_length=2000)
    consented_at: dt.datetime | None = None

    @field_validator("consent")
    @classmethod
    def _consented(cls, value: bool) -> bool:
        if not value:
            raise ValueError("a listing needs the person's consent (consent: true)")
        return value

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not EMAIL.match(value):
            raise ValueError(f"{value!r} is not an e-mail address (name@domain.tld)")
        return value


def validate_listings(records: Sequence[Any]) -> list[ExpertIn]:
    """Every record validated; MatchInputError names the first problem's record and field."""
    if not isinstance(records, list):
        raise MatchInputError("experts", type(records).__name__, "a list of expert records")
    listings = []
    for position, record in enumerate(records):
        try:
            listings.append(ExpertIn.model_validate(record))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "record"
            raise MatchInputError(f"experts[{position}].{where}", first.get("input"),
                                  expected(first)) from None  # fmt: skip
    ids = [listing.id for listing in listings]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise MatchInputError("experts[].id", repeated, "each id once")
    return listings


def check_topics(session: Session, topics: Sequence[str], field: str) -> None:
    """MatchInputError naming `field` when a topic is not in the graph's taxonomy."""
    wanted = set(topics)
    known = set(session.scalars(select(Topic.id).where(Topic.id.in_(wanted)))) if wanted else set()
    unknown = [t for t in topics if t not in known]
    if unknown:
        raise MatchInputError(field, unknown, "topic ids of the ICPerMed taxonomy in the graph")


def _check_references(session: Session, listings: Iterable[ExpertIn]) -> None:
    listings = list(listings)
    organisations = {x.organisation for x in listings if x.organisation}
    found = set(session.scalars(select(Organisation.id).where(Organisation.id.in_(organisations))))
    for position, listing in enumerate(listings):
        check_topics(session, listing.topics, f"experts[{position}].topics")
        if listing.organisation and listing.organisation not in found:
            raise MatchInputError(f"experts[{position}].organisation", listing.organisation,
                                  "the id of an organisation in the graph")  # fmt: skip


def _audit(session: Session, actor: str, action: str, expert_id: str) -> None:
    # No snapshot: the audit log outlives a deleted listing and must not keep its person.
    audit_service_record(session, actor, action, AUDIT_TYPE, expert_id)


def register(engine: Engine, records: Sequence[Any], *, actor: str) -> list[str]:
    """Add or replace consented listings in one transaction; their ids. Nothing is stored
    when any record is refused."""
    listings = validate_listings(records)
    now = dt.datetime.now(dt.UTC)
    with writing(engine) as session:
        _check_references(session, listings)
        for listing in listings:
            existing = session.get(Expert, listing.id)
            values = {
                "name": listing.name, "email": listing.email, "country_code": listing.country,
                "sector": listing.sector, "organisation_id": listing.organisation,
                "topics": listing.topics, "expertise": listing.expertise,
                "consent_statement": listing.consent_statement,
                "consented_at": listing.consented_at or now,
            }  # fmt: skip
            if existing is None:
                session.add(Expert(id=listing.id, **values))
            else:
                for key, value in values.items():
                    setattr(existing, key, value)
            _audit(session, actor, "update" if existing else "create", listing.id)
    return [listing.id for listing in listings]


def delete(engine: Engine, expert_id: str, *, actor: str) -> None:
    """Remove a listing on the person's request (name, e-mail and expertise go with it)."""
    with writing(engine) as session:
        expert = session.get(Expert, expert_id)
        if expert is None:
            raise MatchInputError("expert_id", expert_id, "the id of a listed expert")
        session.delete(expert)
        _audit(session, actor, "delete", expert_id)


def balance_regions(session: Session) -> dict[str, str]:
    """Country code -> its balance region (see the module's note)."""
    rows = session.execute(
        select(RegionMembership.country_code, RegionMembership.region_id).where(
            RegionMembership.region_id.in_(BALANCE_REGIONS)
        )
    ).all()
    rank = {region: position for position, region in enumerate(BALANCE_REGIONS)}
    chosen: dict[str, str] = {}
    for country, region in sorted(rows, key=lambda row: rank[row[1]]):
        chosen.setdefault(country, region)
    return chosen


def register_frame(session: Session) -> pd.DataFrame:
    """The register as working-group selection reads it: expert_id, name, country, region,
    sector, topics (public fields only)."""
    regions = balance_regions(session)
    experts = session.scalars(select(Expert).order_by(Expert.id)).all()
    return pd.DataFrame(
        {
            "expert_id": [e.id for e in experts],
            "name": [e.name for e in experts],
            "country": [e.country_code for e in experts],
            "region": [regions.get(e.country_code, OTHER_REGION) for e in experts],
            "sector": [e.sector for e in experts],
            "topics": [list(e.topics) for e in experts],
        }
    )


def public_frame(
    session: Session,
    *,
    topic: str | None = None,
    country: str | None = None,
    region: str | None = None,
) -> pd.DataFrame:
    """The listings anyone may see (PUBLIC_FIELDS, topics joined by '; '), by name; only those
    holding `topic`, in `country` or in a country of the graph region `region` when given."""
    if topic:
        check_topics(session, [topic], "topic")
    if region and session.get(Region, region) is None:
        raise MatchInputError("region", region, "the id of a graph region (e.g. celac, eu27)")
    query = select(Expert).order_by(Expert.name, Expert.id)
    if country:
        query = query.where(Expert.country_code == country.upper())
    if region:
        members = select(RegionMembership.country_code).where(RegionMembership.region_id == region)
        query = query.where(Expert.country_code.in_(members))
    rows = [e.public() for e in session.scalars(query) if not topic or topic in e.topics]
    frame = pd.DataFrame(rows, columns=list(PUBLIC_FIELDS))
    frame["topics"] = frame["topics"].map("; ".join)
    return frame.fillna("")


def contacts(session: Session) -> dict[str, str]:
    """Listing id -> e-mail address, for curators only (the public frame has none)."""
    rows = session.execute(select(Expert.id, Expert.email))
    return {expert_id: email for expert_id, email in rows if email}
