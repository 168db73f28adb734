"""Events: the family's workshops and conferences, registrations, attendance and outcomes.

Registrations are personal data. They are stored only with the person's consent (the notice
they agreed to and when are kept with the row), listed only to curators (`require_curator`),
and deleted on request: `delete_registration` removes the row itself, so nothing of it
remains; the event keeps only counts.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from permedhub.db import writing
from permedhub.graph.curation import audit_service_record, role_rank
from permedhub.regions.models import EventRegistration, RegionEvent
from permedhub.regions.schemas import CONSENT_TEXT, RegistrationIn

CURATOR = "curator"


class EventError(Exception):
    """A request about events that cannot be met; the message names what and why."""


class NotAllowed(EventError):
    """The caller's role may not see or change registrations."""


def _audit(
    session: Session, actor: str, action: str, entity_type: str, entity_id: object,
    old: dict[str, object] | None = None, new: dict[str, object] | None = None,
) -> None:  # fmt: skip
    """An entry in the graph's audit log. Registrations are logged by id and event only: the
    log must not keep the personal data a deletion removes."""
    audit_service_record(session, actor, action, entity_type, str(entity_id), old=old, new=new)


def require_curator(role: str | None) -> None:
    if role is None or role_rank(role) < role_rank(CURATOR):
        raise NotAllowed(
            f"registrations are personal data: they need the curator role, not {role or 'none'}"
        )


@dataclass(frozen=True)
class EventView:
    id: str
    title: str
    kind: str
    initiative_id: str | None
    start_date: dt.date | None
    end_date: dt.date | None
    city: str | None
    venue: str | None
    online: bool
    regions: list[str]
    topics: list[str]
    agenda: list[str]
    outcomes: str | None
    summary: str | None
    notes: str | None
    registration_open: bool
    registrations: int
    attended: int
    source: str | None
    sources: dict[str, str]
    uncertain: dict[str, str]


def _view(event: RegionEvent, registrations: int, attended: int) -> EventView:
    return EventView(
        id=event.id, title=event.title, kind=event.kind, initiative_id=event.initiative_id,
        start_date=event.start_date, end_date=event.end_date, city=event.city, venue=event.venue,
        online=event.online, regions=list(event.regions), topics=list(event.topics),
        agenda=list(event.agenda), outcomes=event.outcomes, summary=event.summary,
        notes=event.notes, registration_open=event.registration_open,
        registrations=registrations, attended=attended, source=event.source,
        sources=dict(event.sources or {}), uncertain=dict(event.uncertain or {}),
    )  # fmt: skip


def list_events(session: Session, region: str | None = None) -> list[EventView]:
    """Every event (newest first, undated last) with registration and attendance counts only."""
    counts = (
        select(
            EventRegistration.event_id,
            func.count().label("n"),
            func.count().filter(EventRegistration.attended).label("attended"),
        )
        .group_by(EventRegistration.event_id)
        .subquery()
    )
    statement = select(RegionEvent, counts.c.n, counts.c.attended).outerjoin(
        counts, counts.c.event_id == RegionEvent.id
    )
    views = [_view(e, n or 0, a or 0) for e, n, a in session.execute(statement)]
    if region:
        views = [v for v in views if region in v.regions]
    return sorted(
        views,
        key=lambda v: (v.start_date is None, -(v.start_date or dt.date.min).toordinal(), v.id),
    )


def get_event(session: Session, event_id: str) -> RegionEvent:
    event = session.get(RegionEvent, event_id)
    if event is None:
        raise EventError(f"event {event_id!r} does not exist")
    return event


def set_registration_open(
    engine: Engine, event_id: str, is_open: bool, *, role: str, actor: str = "cli"
) -> None:
    require_curator(role)
    with writing(engine) as session:
        event = get_event(session, event_id)
        _audit(
            session,
            actor,
            "update",
            "region-event",
            event_id,
            {"registration_open": event.registration_open},
            {"registration_open": is_open},
        )
        event.registration_open = is_open


def set_outcomes(
    engine: Engine, event_id: str, outcomes: str, *, role: str, actor: str = "cli"
) -> None:
    require_curator(role)
    with writing(engine) as session:
        event = get_event(session, event_id)
        _audit(session, actor, "update", "region-event", event_id,
               {"outcomes": event.outcomes}, {"outcomes": outcomes.strip() or None})  # fmt: skip
        event.outcomes = outcomes.strip() or None


@dataclass(frozen=True)
class Receipt:
    """What a registrant is given: the registration's id and the secret of their deletion
    link (`delete_own`)."""

    id: int
    deletion_token: str


def register(
    engine: Engine, event_id: str, data: RegistrationIn, *, now: dt.datetime | None = None
) -> Receipt:
    """Store a consented registration for an open event, with a deletion link's secret."""
    with writing(engine) as session:
        event = get_event(session, event_id)
        if not event.registration_open:
            raise EventError(f"event {event_id!r} is not open for registration")
        # A form sent twice (a reload after registering) must not register the person twice.
        already = session.scalars(
            select(EventRegistration.id).where(
                EventRegistration.event_id == event_id,
                func.lower(EventRegistration.email) == data.email.lower(),
            )
        ).first()
        if already is not None:
            raise EventError(
                f"email {data.email!r} is already registered for this event: expected one "
                "registration per person (the deletion link withdraws it)"
            )
        registration = EventRegistration(
            event_id=event_id, name=data.name, email=data.email, organisation=data.organisation,
            region_code=data.region, consent_text=CONSENT_TEXT,
            consent_at=now or dt.datetime.now(dt.UTC),
            deletion_token=secrets.token_urlsafe(32),
        )  # fmt: skip
        session.add(registration)
        session.flush()
        _audit(
            session,
            "registrant",
            "create",
            "region-registration",
            registration.id,
            new={"event": event_id},
        )
        return Receipt(registration.id, registration.deletion_token)


def delete_own(engine: Engine, token: str) -> str:
    """The person deletes their own registration with the link they were given; the event's
    id. An unknown or used link is an EventError (nothing says whether it ever existed)."""
    with writing(engine) as session:
        registration = session.scalars(
            select(EventRegistration).where(EventRegistration.deletion_token == token)
        ).first()
        if registration is None:
            raise EventError("this deletion link is not valid (or was used already)")
        event_id = registration.event_id
        _audit(
            session, "registrant", "delete", "region-registration", registration.id,
            old={"event": event_id},
        )  # fmt: skip
        session.delete(registration)
        return event_id


@dataclass(frozen=True)
class RegistrationView:
    id: int
    event_id: str
    name: str
    email: str
    organisation: str | None
    region: str | None
    consent_at: dt.datetime
    attended: bool


def registrations(session: Session, event_id: str, *, role: str | None) -> list[RegistrationView]:
    """An event's registrations: curators only."""
    require_curator(role)
    get_event(session, event_id)
    rows = session.scalars(
        select(EventRegistration)
        .where(EventRegistration.event_id == event_id)
        .order_by(EventRegistration.id)
    )
    return [
        RegistrationView(r.id, r.event_id, r.name, r.email, r.organisation, r.region_code,
                         r.consent_at, r.attended)
        for r in rows
    ]  # fmt: skip


def mark_attended(
    engine: Engine, registration_id: int, attended: bool, *, role: str, actor: str = "cli"
) -> None:
    require_curator(role)
    with writing(engine) as session:
        registration = session.get(EventRegistration, registration_id)
        if registration is None:
            raise EventError(f"registration {registration_id} does not exist")
        _audit(
            session,
            actor,
            "update",
            "region-registration",
            registration_id,
            {"attended": registration.attended},
            {"attended": attended},
        )
        registration.attended = attended


def delete_registration(
    engine: Engine, registration_id: int, *, role: str, actor: str = "cli"
) -> None:
    """Delete a registration on the person's request: the row goes, nothing of it is kept
    (the audit entry names the registration's id and event only)."""
    require_curator(role)
    with writing(engine) as session:
        registration = session.get(EventRegistration, registration_id)
        if registration is None:
            raise EventError(f"registration {registration_id} does not exist")
        _audit(
            session,
            actor,
            "delete",
            "region-registration",
            registration_id,
            old={"event": registration.event_id},
        )
        session.delete(registration)


def delete_by_email(engine: Engine, email: str, *, role: str, actor: str = "cli") -> int:
    """Delete every registration of one e-mail address (a person's request); how many went."""
    require_curator(role)
    with writing(engine) as session:
        rows = list(
            session.scalars(
                select(EventRegistration).where(
                    func.lower(EventRegistration.email) == email.strip().lower()
                )
            )
        )
        for row in rows:
            _audit(
                session, actor, "delete", "region-registration", row.id, old={"event": row.event_id}
            )
            session.delete(row)
        return len(rows)
