"""The regional adoption pages over HTTP: regions with sourced groups, the survey form (same
rules as a file import), the readiness comparison with its weights, events and registration
(consent required; registrations shown to curators only; deleted on request)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from permedhub.regions.models import EventRegistration, SurveyResponse
from permedhub.regions.seed import seed
from permedhub.regions.survey import import_survey
from regions_support import HAND, write_csv

EVENT = "icpermed-workshop-siena-2023"


@pytest.fixture
def adoption(client, web_engine):
    seed(web_engine)
    return client


def _answer(**changes: str) -> dict[str, str]:
    data = {"respondent_id": "web-1", "region": "IT-52", "stakeholder": "academia",
            "survey_date": "2024-03-01", "comments": ""}  # fmt: skip
    data |= {f"barrier_{n}": "2" for n in ("funding", "infrastructure", "data_sharing",
             "skills", "regulation", "awareness", "reimbursement")}  # fmt: skip
    data |= {f"readiness_{n}": "4" for n in ("strategy", "data", "workforce", "funding",
             "engagement", "collaboration")}  # fmt: skip
    return data | changes


def _count(engine, model) -> int:
    with Session(engine) as session:
        return session.execute(select(func.count(model.id))).scalar_one()


def test_regions_page_shows_groups_classes_and_their_sources(adoption: TestClient):
    page = adoption.get("/adoption")
    assert page.status_code == 200
    row = re.search(r"<tr>\s*<td><a href=\"/countries/IT-52\">.*?</tr>", page.text, re.S)
    assert row and "moderate innovator" in row.group() and "intermediate" in row.group()
    assert "https://promisalute.it/innovation-scoreboard-2023-italia" in row.group()


def test_the_survey_form_stores_a_valid_answer_and_refuses_a_bad_one(adoption, web_engine, csrf_of):
    token = csrf_of(adoption, "/adoption/survey")
    bad = adoption.post("/adoption/survey", data=_answer(readiness_data="", csrf_token=token))
    assert bad.status_code == 422 and "Nothing was saved" in bad.text
    assert "readiness_data" in bad.text and "the column is required" in bad.text
    assert _count(web_engine, SurveyResponse) == 0
    good = adoption.post("/adoption/survey", data=_answer(csrf_token=token), follow_redirects=False)
    assert good.status_code == 303
    assert _count(web_engine, SurveyResponse) == 1
    forged = adoption.post("/adoption/survey", data=_answer(csrf_token="forged"))
    assert forged.status_code == 403 and _count(web_engine, SurveyResponse) == 1


def test_templates_download_as_csv_and_xlsx(adoption):
    csv_file = adoption.get("/adoption/survey/template.csv")
    assert csv_file.text.startswith("respondent_id,region,stakeholder,survey_date,barrier_")
    xlsx = adoption.get("/adoption/survey/template.xlsx")
    assert xlsx.content[:2] == b"PK" and "spreadsheetml" in xlsx.headers["content-type"]


def test_readiness_compares_regions_with_configured_weights(adoption, web_engine, tmp_path):
    import_survey(web_engine, write_csv(tmp_path / "s.csv", HAND))
    page = adoption.get("/adoption/readiness", params={"weights": "strategy=3"})
    assert page.status_code == 200
    table = re.search(
        r'<table class="data" data-sortable id="readiness-table">.*?</table>', page.text, re.S
    )
    assert table
    cells = re.findall(r"<tr><td>([^<]*)</td><td class=\"num\">([\d.]+)</td>", table.group())
    assert cells == [
        ("Toscana (IT-52)", "75.0"),
        ("Sachsen (DE-SN)", "62.5"),
        ("Galicia [Galicia] (ES-GA)", "37.5"),
    ]
    assert 'id="figure-data-index"' in page.text and "stability-table" in page.text
    refused = adoption.get("/adoption/readiness", params={"weights": "strategy=-1"})
    assert refused.status_code == 422 and "expected a finite number &gt;= 0" in refused.text


def test_registration_needs_consent_and_only_curators_see_or_delete_it(
    adoption, web_engine, csrf_of, log_in
):
    closed = adoption.get(f"/adoption/events/{EVENT}")
    assert "Registration is closed" in closed.text
    token = log_in(adoption, "carol")
    adoption.post(f"/adoption/events/{EVENT}/open", data={"open": "yes", "csrf_token": token})
    person = {"name": "Rita Reg", "email": "rita@example.org", "region": "IT-52",
              "csrf_token": token}  # fmt: skip
    refused = adoption.post(f"/adoption/events/{EVENT}/register", data=person)
    assert refused.status_code == 422 and "consent is false" in refused.text
    assert _count(web_engine, EventRegistration) == 0
    done = adoption.post(f"/adoption/events/{EVENT}/register", data=person | {"consent": "yes"})
    assert done.status_code == 200 and "your registration is recorded" in done.text
    assert 'id="deletion-link"' in done.text
    assert "rita@example.org" in done.text  # carol is a curator
    adoption.post("/logout", data={"csrf_token": token})
    anonymous = adoption.get(f"/adoption/events/{EVENT}")
    assert "rita@example.org" not in anonymous.text and "Rita Reg" not in anonymous.text
    assert "1 (0 attended)" in anonymous.text
    with Session(web_engine) as session:
        registration_id = session.scalars(select(EventRegistration.id)).one()
    token = csrf_of(adoption, f"/adoption/events/{EVENT}")
    stranger = adoption.post(f"/adoption/registrations/{registration_id}/delete",
                             data={"event": EVENT, "csrf_token": token})  # fmt: skip
    assert stranger.status_code == 401 and _count(web_engine, EventRegistration) == 1
    token = log_in(adoption, "vera")  # a viewer
    viewer = adoption.post(f"/adoption/registrations/{registration_id}/delete",
                           data={"event": EVENT, "csrf_token": token})  # fmt: skip
    assert viewer.status_code == 403
    assert "rita@example.org" not in adoption.get(f"/adoption/events/{EVENT}").text
    token = log_in(adoption, "carol")
    deleted = adoption.post(f"/adoption/registrations/{registration_id}/delete",
                            data={"event": EVENT, "csrf_token": token})  # fmt: skip
    assert deleted.status_code == 200 and "The registration was deleted" in deleted.text
    assert _count(web_engine, EventRegistration) == 0
    audit = adoption.get("/curate/audit")
    assert audit.status_code == 200
    assert "delete region-registration" in audit.text and "rita@example.org" not in audit.text


def test_a_curator_records_an_event_outcome_and_a_viewer_cannot(adoption, log_in):
    token = log_in(adoption, "vera")
    refused = adoption.post(f"/adoption/events/{EVENT}/outcomes",
                            data={"outcomes": "x", "csrf_token": token})  # fmt: skip
    assert refused.status_code == 403
    token = log_in(adoption, "carol")
    adoption.post(f"/adoption/events/{EVENT}/outcomes",
                  data={"outcomes": "A joint position paper.", "csrf_token": token})  # fmt: skip
    page = adoption.get(f"/adoption/events/{EVENT}")
    assert '<p id="outcomes">A joint position paper.</p>' in page.text


def test_an_event_page_shows_what_its_source_leaves_in_doubt(adoption):
    page = adoption.get("/adoption/events/regions4permed-brussels-conference")
    assert 'id="event-uncertain"' in page.text and "consortium partners" in page.text
    assert "without a year; no date is recorded" in page.text


def test_a_registrant_deletes_their_registration_by_their_link(adoption, web_engine, log_in):
    token = log_in(adoption, "carol")
    adoption.post(f"/adoption/events/{EVENT}/open", data={"open": "yes", "csrf_token": token})
    adoption.post("/logout", data={"csrf_token": token})
    page = adoption.get(f"/adoption/events/{EVENT}")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    person = {"name": "Sam", "email": "sam@example.org", "consent": "yes", "csrf_token": token}
    done = adoption.post(f"/adoption/events/{EVENT}/register", data=person)
    link = re.search(r'id="deletion-link">([^<]+)<', done.text).group(1)
    assert _count(web_engine, EventRegistration) == 1
    path = link.removeprefix("https://testserver")
    confirm = adoption.get(path)
    assert "Delete my registration" in confirm.text
    deleted = adoption.post(path, data={"csrf_token": token})
    assert deleted.status_code == 200 and "nothing of it is kept" in deleted.text
    assert _count(web_engine, EventRegistration) == 0
    again = adoption.post(path, data={"csrf_token": token})
    assert again.status_code == 404 and "not valid" in again.text
