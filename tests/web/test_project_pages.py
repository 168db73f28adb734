"""A project's page shows its call (linked), its partners' countries and its call's funders
there; an initiative with calls lists the projects funded under them, with a CSV twin."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from permedhub.graph.models import Call, Initiative, Organisation, Participation


def _projects_with_calls(client: TestClient) -> list[tuple[str, str, str]]:
    """(project, call, call's initiative) for every project whose call_topic names a call."""
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        return [
            (p, c, i)
            for p, c, i in session.execute(
                select(Initiative.id, Call.id, Call.initiative_id)
                .join(Call, Call.id == Initiative.call_topic)
                .where(Initiative.kind == "project")
            )
        ]


def _funders_in_partner_countries(client: TestClient, project: str, call: str) -> set[str]:
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        funders = session.get_one(Call, call).funder_ids or []
        countries = set(
            session.execute(
                select(Organisation.country_code)
                .join(Participation, Participation.organisation_id == Organisation.id)
                .where(Participation.initiative_id == project)
            ).scalars()
        )
        return {
            o.id
            for o in session.execute(
                select(Organisation).where(Organisation.id.in_(funders))
            ).scalars()
            if o.country_code in countries
        }


def test_a_project_page_links_its_call_and_names_the_funders_there(
    read_client: TestClient,
) -> None:
    projects = _projects_with_calls(read_client)
    assert projects, "the seed has projects funded under its calls"
    some_funders = False
    for project, call, owner in projects:
        page = read_client.get(f"/initiatives/{project}").text
        assert f'<dt>Call</dt><dd><a href="/initiatives/{owner}#call-{call}">' in page
        assert "Call and funders" in page and "Partners’ countries" in page
        detail = read_client.get(f"/api/initiatives/{project}").json()
        assert detail["call"]["id"] == call
        expected = _funders_in_partner_countries(read_client, project, call)
        assert {f["id"] for f in detail["call_funders_here"]} == expected
        for funder in expected:
            assert f'href="/organisations/{funder}"' in page
        some_funders |= bool(expected)
    assert some_funders, "at least one project has a funder of its call in a partner's country"


def test_an_initiative_lists_the_projects_of_its_calls(read_client: TestClient) -> None:
    by_owner: dict[str, set[str]] = {}
    for project, _call, owner in _projects_with_calls(read_client):
        by_owner.setdefault(owner, set()).add(project)
    for owner, projects in by_owner.items():
        page = read_client.get(f"/initiatives/{owner}").text
        assert f"Funded projects ({len(projects)})" in page
        for project in projects:
            assert f'<a href="/initiatives/{project}">' in page
        listed = read_client.get(f"/initiatives/{owner}/projects.csv").content.decode("utf-8-sig")
        assert {row["id"] for row in csv.DictReader(io.StringIO(listed))} == projects
        api = read_client.get(f"/api/initiatives/{owner}").json()
        assert {p["id"] for p in api["projects"]} == projects


def test_an_initiative_without_calls_lists_no_projects(read_client: TestClient) -> None:
    page = read_client.get("/initiatives/permit").text
    assert "Funded projects" not in page and "Call and funders" not in page
