"""The example call on the portal for the page tests: users with passwords in each role,
the workflow's clock and SMTP server replaced by the test's, and logging in."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from calls_world import (
    BEFORE_PRE_DEADLINE,
    CALL_FILE,
    REVIEWERS,
    Clock,
    add_example_organisations,
    mail_of,
)
from permedhub.calls.documents import load_call
from permedhub.db import make_engine
from permedhub.graph.curation import create_user
from permedhub.graph.models import UserAccount

PASSWORD = "call-password-1"
# One reviewer is enough for the pages; its country and organisation are no partner's.
PEOPLE = ["sec", "app0", "app1", "rev-nl", "fun-de", "fun-fr", "out"]
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def add_people(engine: Engine) -> None:
    """The accounts of PEOPLE (argon2 hashing is slow: once per test session)."""
    for name in PEOPLE:
        create_user(engine, name, PASSWORD, "viewer")


def set_up_call(app: FastAPI, engine: Engine, smtp: Any) -> Clock:
    """Publish the example call with a secretariat, a reviewer, two funders and two
    registered applicants (PEOPLE's accounts exist); the workflow reads the returned clock."""
    with Session(engine) as session:
        users = dict(session.execute(select(UserAccount.name, UserAccount.id)).all())
    workflow = app.state.calls_workflow
    clock = Clock(BEFORE_PRE_DEADLINE)
    workflow.clock, workflow.smtp = clock, smtp
    call = load_call(CALL_FILE)
    add_example_organisations(engine)
    workflow.publish(call, "operator", secretariat=[("sec", mail_of("sec"))])
    organisation, country, expertise = REVIEWERS["rev-nl"]
    workflow.grant(
        call.id,
        "operator",
        {
            "user": "rev-nl",
            "role": "reviewer",
            "email": mail_of("rev-nl"),
            "profile": {"organisation": organisation, "country": country, "expertise": expertise},
        },
    )
    for funder in ("de", "fr"):
        workflow.grant(
            call.id,
            "operator",
            {
                "user": f"fun-{funder}",
                "role": "funder",
                "email": mail_of(f"fun-{funder}"),
                "funder": f"syn-funder-{funder}",
            },
        )
    from permedhub.calls.workflow_base import Actor

    for name in ("app0", "app1"):
        workflow.register_applicant(call.id, Actor(users[name], name), mail_of(name))
    return clock


def csrf(client: TestClient, path: str = "/login") -> str:
    match = CSRF_INPUT.search(client.get(path).text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def log_in_as(client: TestClient, name: str) -> str:
    """Log `name` in; the session's CSRF token."""
    client.cookies.clear()
    response = client.post(
        "/login",
        data={"name": name, "password": PASSWORD, "csrf_token": csrf(client)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return csrf(client, "/curate")


def partner_fields(partners: list[dict[str, Any]]) -> dict[str, str]:
    """The application form's partner rows for `partners`."""
    data: dict[str, str] = {}
    for i, partner in enumerate(partners):
        for key in ("organisation", "name", "country", "kind", "funder"):
            if partner.get(key):
                data[f"p{i}_{key}"] = str(partner[key])
        if partner.get("requested_eur") is not None:
            data[f"p{i}_requested_eur"] = str(partner["requested_eur"])
        for flag in ("own_funded", "coordinator"):
            if partner.get(flag):
                data[f"p{i}_{flag}"] = "on"
        if partner.get("documents"):
            data[f"p{i}_documents"] = ", ".join(partner["documents"])
    return data


def people_template(portal_template: Path, folder: Path) -> Path:
    """A copy of the portal's template database plus PEOPLE's accounts."""
    path = folder / "portal.sqlite"
    shutil.copyfile(portal_template, path)
    engine = make_engine(f"sqlite:///{path}")
    add_people(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path
