"""The roles page of a call: only its secretariat grants and revokes, a granted role takes
effect at once (the user opens the page of that role), refusals say why and change nothing."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from calls_portal import log_in_as, people_template, set_up_call
from calls_world import Clock, mail_of
from permedhub.db import make_engine
from permedhub.graph.models import UserAccount
from smtp_support import Mailbox as Inbox
from smtp_support import smtp_inbox, wait_for

CALL = "syn-jtc-example"
ROLES = f"/calls/{CALL}/roles"
REVIEWER = {
    "user": "out",
    "role": "reviewer",
    "email": mail_of("out"),
    "organisation": "syn-uni-utrecht",
    "country": "NL",
    "expertise": "genomics, oncology",
}


@pytest.fixture(scope="module")
def calls_template(portal_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return people_template(portal_template, tmp_path_factory.mktemp("calls-roles"))


@pytest.fixture
def web_engine(calls_template: Path, tmp_path: Path) -> Iterator[Engine]:
    shutil.copyfile(calls_template, tmp_path / "portal.sqlite")
    engine = make_engine(f"sqlite:///{tmp_path / 'portal.sqlite'}")
    yield engine
    engine.dispose()


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, Any]]:
    with smtp_inbox() as server:
        yield server


@pytest.fixture
def clock(app: FastAPI, web_engine: Engine, smtp: tuple[Inbox, Any]) -> Clock:
    return set_up_call(app, web_engine, smtp[1])


def _roles_of(client: TestClient, name: str) -> set[str]:
    workflow = client.app.state.calls_workflow  # type: ignore[attr-defined]
    with Session(workflow.engine) as session:
        user_id = session.execute(
            select(UserAccount.id).where(UserAccount.name == name)
        ).scalar_one()
    return set(workflow.roles_of(CALL, user_id))


def test_only_the_secretariat_sees_and_changes_the_roles(client, clock) -> None:
    assert client.get(ROLES).status_code == 401
    for name in ("out", "rev-nl", "app0"):
        token = log_in_as(client, name)
        assert client.get(ROLES).status_code == 403, name
        response = client.post(f"{ROLES}/grant", data={**REVIEWER, "csrf_token": token})
        assert response.status_code == 403, name
        response = client.post(
            f"{ROLES}/revoke", data={"user": "fun-de", "role": "funder", "csrf_token": token}
        )
        assert response.status_code == 403, name
    assert _roles_of(client, "out") == set() and _roles_of(client, "fun-de") == {"funder"}


def test_a_granted_role_takes_effect_and_is_mailed(client, clock, smtp) -> None:
    inbox, _ = smtp
    token = log_in_as(client, "out")
    assert client.get(f"/calls/{CALL}/review").status_code == 403
    token = log_in_as(client, "sec")
    page = client.get(ROLES)
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert mail_of("fun-de") in page.text
    response = client.post(
        f"{ROLES}/grant", data={**REVIEWER, "csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 303
    assert "is no longer" not in client.get(response.headers["location"]).text
    assert wait_for(inbox, mail_of("out"), 1)[-1]["Subject"] == f"{CALL}: you are a reviewer"
    log_in_as(client, "out")
    assert client.get(f"/calls/{CALL}/review").status_code == 200
    # Revoked, the page is closed to them again.
    token = log_in_as(client, "sec")
    response = client.post(
        f"{ROLES}/revoke", data={"user": "out", "role": "reviewer", "csrf_token": token},
        follow_redirects=False,
    )  # fmt: skip
    assert response.status_code == 303
    log_in_as(client, "out")
    assert client.get(f"/calls/{CALL}/review").status_code == 403


def test_a_funder_role_needs_the_funder_and_refusals_change_nothing(client, clock) -> None:
    token = log_in_as(client, "sec")
    grant = {"user": "out", "role": "funder", "email": mail_of("out"), "csrf_token": token}
    response = client.post(f"{ROLES}/grant", data=grant)
    assert response.status_code == 422
    assert "funder = None is invalid: expected a funder of call syn-jtc-example" in response.text
    assert _roles_of(client, "out") == set()
    response = client.post(f"{ROLES}/grant", data={**grant, "funder": "syn-funder-it"})
    assert response.status_code == 200 and "out is now funder." in response.text
    assert _roles_of(client, "out") == {"funder"}
    log_in_as(client, "out")
    assert client.get(f"/calls/{CALL}/funder").status_code == 200


def test_the_last_secretariat_member_cannot_be_revoked(client, clock) -> None:
    token = log_in_as(client, "sec")
    response = client.post(
        f"{ROLES}/revoke", data={"user": "sec", "role": "secretariat", "csrf_token": token}
    )
    assert response.status_code == 422 and "another secretariat member first" in response.text
    assert _roles_of(client, "sec") == {"secretariat"}


def test_a_form_without_its_token_is_refused(client, clock) -> None:
    log_in_as(client, "sec")
    response = client.post(f"{ROLES}/grant", data=REVIEWER)
    assert response.status_code == 403 and "security token" in response.text
    response = client.post(f"{ROLES}/revoke", data={"user": "fun-de", "role": "funder"})
    assert response.status_code == 403
    assert _roles_of(client, "out") == set() and _roles_of(client, "fun-de") == {"funder"}


def test_the_secretariat_dashboard_links_to_the_roles(client, clock) -> None:
    log_in_as(client, "sec")
    assert f'<a href="{ROLES}">' in client.get(f"/calls/{CALL}/secretariat").text
    assert f'<a href="{ROLES}">Roles</a>' in client.get(f"/calls/{CALL}").text
