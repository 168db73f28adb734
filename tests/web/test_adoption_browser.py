"""The regional adoption pages in a real headless Chromium: the survey form filled in and sent,
the readiness comparison drawn by the package's Plotly (nothing from another host, no CSP
violation), an event's registration with consent and its deletion by a curator. Screenshots
go to test-artifacts/ (adoption-*.png)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from browser_support import LiveServer, Tab
from permedhub.regions.models import EventRegistration, SurveyResponse
from permedhub.regions.seed import seed
from permedhub.regions.survey import import_survey
from regions_support import HAND, write_csv

pytestmark = pytest.mark.browser
EVENT = "saphire-final-conference-2022"


@pytest.fixture(scope="module", autouse=True)
def _adoption_data(live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> None:
    seed(live_server.engine)
    import_survey(live_server.engine, write_csv(tmp_path_factory.mktemp("s") / "s.csv", HAND))


def _count(engine, model) -> int:
    with Session(engine) as session:
        return session.execute(select(func.count(model.id))).scalar_one()


def test_regions_page_lists_places_with_their_groups(tab: Tab) -> None:
    tab.go("/adoption")
    row = tab.page.locator("#regions-table tr", has_text="IT-52")
    assert "moderate innovator" in row.text_content()
    tab.shot("adoption-regions")


def test_the_survey_form_is_filled_in_and_stored(tab: Tab, live_server: LiveServer) -> None:
    before = _count(live_server.engine, SurveyResponse)
    tab.go("/adoption/survey")
    tab.page.fill("#f-respondent_id", "browser-1")
    tab.page.select_option("#f-region", "PL-02")
    tab.page.select_option("#f-stakeholder", "funder")
    tab.page.fill("#f-survey_date", "2024-06-01")
    for radio in tab.page.locator("fieldset.likert .field").all()[:-1]:
        radio.locator("input[value='4']").check()
    tab.shot("adoption-survey-filled")
    tab.page.click("#survey-form button[type=submit]")
    # the last readiness item was left out: nothing stored, the field named
    alert = tab.page.locator("#form-errors")
    assert "readiness_collaboration" in alert.text_content()
    assert _count(live_server.engine, SurveyResponse) == before
    tab.shot("adoption-survey-error")
    assert tab.errors and all("422" in e for e in tab.errors)  # the refused form, expected
    tab.errors.clear()
    tab.page.locator("#f-readiness_collaboration input[value='2']").check()
    tab.page.click("#survey-form button[type=submit]")
    tab.page.wait_for_selector("#form-saved")
    assert _count(live_server.engine, SurveyResponse) == before + 1


def test_readiness_comparison_draws_its_figure_with_the_package_plotly(tab: Tab) -> None:
    tab.go("/adoption/readiness?weights=strategy%3D3")
    tab.page.wait_for_selector("#figure-index .main-svg", timeout=20_000)
    bars = tab.page.locator("#figure-index .point").count()
    rows = tab.page.locator("#readiness-table tbody tr").count()
    assert bars == rows >= 3
    assert "Toscana (IT-52)" in tab.page.locator("#readiness-table tbody tr").first.text_content()
    tab.shot("adoption-readiness")
    tab.page.locator("input[name=region][value='IT-52']").check()
    tab.page.click("#readiness-form button[type=submit]")
    tab.page.wait_for_selector("#figure-items .main-svg", timeout=20_000)
    tab.shot("adoption-readiness-one-region")


def test_register_with_consent_then_a_curator_deletes_it(tab: Tab, live_server: LiveServer) -> None:
    from permedhub.regions.events import set_registration_open

    set_registration_open(live_server.engine, EVENT, True, role="curator")
    tab.go("/adoption/events")
    tab.shot("adoption-events")
    tab.page.click(f"a[href='/adoption/events/{EVENT}']")
    tab.page.fill("#r-name", "Browser Person")
    tab.page.fill("#r-email", "browser.person@example.org")
    tab.page.click("#registration-form button[type=submit]")
    assert "consent is false" in tab.page.locator("#form-errors").text_content()
    assert tab.errors and all("422" in e for e in tab.errors)  # the refused form, expected
    tab.errors.clear()
    tab.page.check("#r-consent")
    tab.page.click("#registration-form button[type=submit]")
    tab.page.wait_for_selector("#event-message")
    assert "browser.person@example.org" not in tab.page.content()  # not a curator
    tab.shot("adoption-event-registered")
    tab.go("/login")
    tab.page.fill("#name", "carol")
    tab.page.fill("#password", "curator-password-1")
    tab.page.click("form button[type=submit]")
    tab.go(f"/adoption/events/{EVENT}")
    table = tab.page.locator("#registrations-table")
    assert "browser.person@example.org" in table.text_content()
    tab.shot("adoption-event-curator")
    tab.page.click("#registrations-table button:has-text('Delete Browser Person')")
    tab.page.wait_for_selector("#event-message")
    assert _count(live_server.engine, EventRegistration) == 0
