"""Regions as places (innovation group, density class, family activity; every value sourced)
and events (seeded from public pages; registrations consented, curators only, deletable)."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from permedhub.db import Base
from permedhub.helpdesk import models as _helpdesk_models  # noqa: F401  (their tables, too)
from permedhub.regions import models as _regions_models  # noqa: F401
from permedhub.regions.events import (
    EventError,
    NotAllowed,
    delete_by_email,
    delete_registration,
    list_events,
    mark_attended,
    register,
    registrations,
    set_registration_open,
)
from permedhub.regions.models import EventRegistration
from permedhub.regions.places import density_class, places
from permedhub.regions.schemas import RegistrationIn
from permedhub.regions.seed import read, seed_files


def test_migration_0011_creates_exactly_the_tables_regions_models_describe(empty_engine):
    with empty_engine.connect() as connection:
        context = MigrationContext.configure(connection)
        differences = [
            d
            for d in compare_metadata(context, Base.metadata)
            if "search_fts" not in str(d) and "tsv" not in str(d)
        ]
    assert differences == []


@pytest.mark.parametrize(
    ("density", "expected"),
    [(None, None), (0.5, "sparse"), (12.49, "sparse"), (12.5, "low"), (99.9, "low"),
     (100, "intermediate"), (299.9, "intermediate"), (300, "dense"), (5000, "dense")],
)  # fmt: skip
def test_density_classes_follow_the_documented_thresholds(density, expected):
    assert density_class(density) == expected


def test_every_seeded_group_and_figure_cites_its_page():
    document = read(seed_files())
    for profile in document.profiles:
        for field in ("ris_group", "population", "area_km2", "stated_density"):
            if getattr(profile, field) is not None:
                assert (profile.sources.get(field) or profile.source or "").startswith("http")
    for event in document.events:
        assert event.source and event.source.startswith("http"), event.id


def test_the_graph_subnational_places_carry_group_class_and_activity(regions_engine):
    with Session(regions_engine) as session:
        by_code = {place.code: place for place in places(session)}
    # every subdivision an organisation of the family seed is in is a region
    assert {"IT-52", "IT-25", "ES-GA", "DE-SN", "BE-VLG", "GB-NIR", "PL-02"} <= set(by_code)
    tuscany = by_code["IT-52"]
    assert tuscany.ris_group == "moderate-innovator" and tuscany.ris_edition == 2023
    assert tuscany.density == pytest.approx(3_700_000 / 22_985)
    assert tuscany.density_class == "intermediate"
    assert tuscany.initiatives >= 1 and tuscany.organisations >= 1
    assert by_code["IT-25"].density_class == "dense"  # 10,103,969 / 23,844 = 424 per km²
    assert by_code["ES-GA"].density_class == "low"  # stated: 91.6 per km²
    # no page gave Northern Ireland a group nor figures: both stay empty
    assert by_code["GB-NIR"].ris_group is None and by_code["GB-NIR"].density_class is None


def test_seeded_events_list_with_agenda_regions_and_topics(regions_engine):
    with Session(regions_engine) as session:
        events = list_events(session)
        in_tuscany = list_events(session, region="IT-52")
    assert len(events) == len(read(seed_files()).events)
    siena = next(e for e in events if e.id == "icpermed-workshop-siena-2023")
    assert siena.start_date == dt.date(2023, 11, 14) and siena.regions == ["IT-52"]
    assert siena.agenda and siena.source.startswith("https://www.icpermed.eu/")
    assert {e.id for e in in_tuscany} >= {"icpermed-workshop-siena-2023"}
    assert events[-1].start_date is None  # undated events come last


def _person(**changes) -> RegistrationIn:
    data = {"name": "A. Person", "email": "a.person@example.org", "organisation": "Org",
            "region": "IT-52", "consent": True} | changes  # fmt: skip
    return RegistrationIn(**data)


def test_a_registration_needs_consent_and_an_open_event(regions_engine):
    with pytest.raises(ValidationError, match="consent is false"):
        _person(consent=False)
    with pytest.raises(ValidationError, match="not an e-mail address"):
        _person(email="nobody")
    event = "icpermed-workshop-siena-2023"
    with pytest.raises(EventError, match="not open for registration"):
        register(regions_engine, event, _person())
    with pytest.raises(NotAllowed):
        set_registration_open(regions_engine, event, True, role="viewer")
    set_registration_open(regions_engine, event, True, role="curator")
    moment = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)
    registration_id = register(regions_engine, event, _person(), now=moment).id
    with Session(regions_engine) as session:
        row = session.get(EventRegistration, registration_id)
        assert row is not None and row.consent_text.startswith("I agree")
        assert row.consent_at.replace(tzinfo=dt.UTC) == moment


def test_a_form_sent_twice_registers_the_person_once(regions_engine):
    event = "icpermed-workshop-siena-2023"
    set_registration_open(regions_engine, event, True, role="curator")
    register(regions_engine, event, _person())
    with pytest.raises(EventError, match="already registered for this event"):
        register(regions_engine, event, _person(email="A.Person@Example.org"))
    with Session(regions_engine) as session:
        count = session.scalar(select(func.count()).where(EventRegistration.event_id == event))
    assert count == 1


def test_registrations_are_visible_to_curators_only_and_deleted_on_request(regions_engine):
    event = "saphire-final-conference-2022"
    set_registration_open(regions_engine, event, True, role="admin")
    first = register(regions_engine, event, _person()).id
    register(regions_engine, event, _person(name="B", email="B@example.org"))
    with Session(regions_engine) as session:
        for role in (None, "viewer"):
            with pytest.raises(NotAllowed, match="personal data"):
                registrations(session, event, role=role)
        listed = registrations(session, event, role="curator")
        public = next(e for e in list_events(session) if e.id == event)
    assert [r.name for r in listed] == ["A. Person", "B"]
    assert (public.registrations, public.attended) == (2, 0)
    assert not hasattr(public, "email")  # the public view holds counts only
    mark_attended(regions_engine, first, True, role="curator")
    with pytest.raises(NotAllowed):
        delete_registration(regions_engine, first, role="viewer")
    delete_registration(regions_engine, first, role="curator")
    assert delete_by_email(regions_engine, "b@EXAMPLE.org", role="curator") == 1
    with Session(regions_engine) as session:
        assert session.execute(select(func.count(EventRegistration.id))).scalar_one() == 0
    with pytest.raises(EventError, match="does not exist"):
        delete_registration(regions_engine, first, role="curator")


def test_event_changes_and_survey_imports_are_audited_without_personal_data(
    regions_engine, tmp_path
):
    from permedhub.graph.models import AuditEntry
    from permedhub.regions.survey import import_survey
    from regions_support import HAND, write_csv

    event = "icpermed-workshop-pamplona-2023"
    set_registration_open(regions_engine, event, True, role="curator", actor="carol")
    registration_id = register(regions_engine, event, _person(email="secret@example.org")).id
    delete_registration(regions_engine, registration_id, role="curator", actor="carol")
    report = import_survey(regions_engine, write_csv(tmp_path / "s.csv", HAND), actor="dana")
    with Session(regions_engine) as session:
        entries = session.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.entity_type.in_(["region-event", "region-registration", "survey-batch"])
            )
            .order_by(AuditEntry.id)
        ).all()
    logged = [(e.actor, e.action, e.entity_type, e.old, e.new) for e in entries]
    assert logged == [
        (
            "carol",
            "update",
            "region-event",
            {"registration_open": False},
            {"registration_open": True},
        ),
        ("registrant", "create", "region-registration", None, {"event": event}),
        ("carol", "delete", "region-registration", {"event": event}, None),
        ("dana", "create", "survey-batch", None, {"file": "s.csv", "rows": 4}),
    ]
    assert entries[-1].entity_id == report.batch
    assert "secret@example.org" not in str(logged) and "A. Person" not in str(logged)


def test_the_person_deletes_their_own_registration_with_the_link_they_were_given(regions_engine):
    from permedhub.regions.events import delete_own

    event = "saphire-webinar-remote-regions-2021"
    set_registration_open(regions_engine, event, True, role="curator")
    kept = register(regions_engine, event, _person(email="other@example.org"))
    receipt = register(regions_engine, event, _person())
    assert len(receipt.deletion_token) >= 40 and receipt.deletion_token != kept.deletion_token
    assert delete_own(regions_engine, receipt.deletion_token) == event
    with pytest.raises(EventError, match="not valid"):
        delete_own(regions_engine, receipt.deletion_token)
    with Session(regions_engine) as session:
        left = session.scalars(select(EventRegistration.id)).all()
    assert left == [kept.id]
