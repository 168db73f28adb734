"""The call workflow in headless Chromium: the applicant's live consortium check as they
type (the packaged script under the portal's CSP), a submission with its PDF, the
secretariat's dashboard and the reviewer's page. Screenshots land in test-artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from browser_support import chromium_or_skip, guarded_tab, launched_chromium, served_copy
from calls_portal import PASSWORD, people_template, set_up_call
from calls_world import PDF, example_proposals
from permedhub.calls.workflow_base import Actor
from smtp_support import smtp_inbox, wait_for

pytestmark = pytest.mark.browser
CALL = "syn-jtc-example"


@pytest.fixture(scope="module")
def site(portal_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The portal on 127.0.0.1 with the example call published, a real SMTP server, and a
    Chromium: (url, app, engine, inbox, browser)."""
    chromium_or_skip()
    folder = tmp_path_factory.mktemp("calls-browser")
    template = people_template(portal_template, tmp_path_factory.mktemp("calls-people"))
    with (
        smtp_inbox() as (inbox, settings),
        served_copy(template, folder, "calls-secret") as (
            url,
            engine,
            app,
        ),
        launched_chromium() as chromium,
    ):
        set_up_call(app, engine, settings)
        yield url, app, engine, inbox, chromium


def _log_in(tab: Any, name: str, next_path: str) -> None:
    tab.go(f"/login?next={next_path}")
    tab.page.fill("#name", name)
    tab.page.fill("#password", PASSWORD)
    tab.page.click("button[type=submit]:has-text('Log in')")
    tab.page.wait_for_url(f"**{next_path}")


def _fill_partner(page: Any, i: int, partner: dict[str, Any]) -> None:
    page.fill(f"[name=p{i}_organisation]", partner["organisation"])
    page.fill(f"[name=p{i}_country]", partner["country"])
    page.select_option(f"[name=p{i}_kind]", partner["kind"])
    page.select_option(f"[name=p{i}_funder]", partner.get("funder") or "")
    page.fill(f"[name=p{i}_requested_eur]", str(partner.get("requested_eur", "")))
    if partner.get("coordinator"):
        page.check(f"[name=p{i}_coordinator]")


def test_the_applicant_sees_each_broken_rule_while_typing_and_submits(site) -> None:
    url, _, _, inbox, chromium = site
    with guarded_tab(chromium, url, timeout_ms=20_000) as tab:
        _log_in(tab, "app0", f"/calls/{CALL}/apply")
        page = tab.page
        page.fill("#new-acronym", "SYN-ONE")
        page.click("button:has-text('Register consortium')")
        page.wait_for_selector("text=Consortium registered.")
        proposal = example_proposals()[0]
        form = page.locator("form.proposal-form")
        page.fill("[name=acronym]", proposal["acronym"])
        page.fill("[name=title]", "A synthetic proposal typed in the browser")
        _fill_partner(page, 0, proposal["partners"][0])
        check = page.locator(".consortium-check")
        check.locator("text=consortium.min_eligible_partners").wait_for()
        items = check.locator(".check-list li").all_inner_texts()
        assert any("consortium.min_countries" in t and "add" in t for t in items), items
        assert any("consortium.modules_one_of" in t for t in items), items
        tab.shot("calls-apply-live-check-broken")
        for i, partner in enumerate(proposal["partners"][1:], start=1):
            _fill_partner(page, i, partner)
        page.check("input[name=modules][value=syn-module-a]")
        check.locator("text=meets every rule").wait_for()
        tab.shot("calls-apply-live-check-ok")
        form.locator("[name=pdf]").set_input_files(
            files=[{"name": "proposal.pdf", "mimeType": "application/pdf", "buffer": PDF}]
        )
        page.click("button[value=submit]")
        page.wait_for_selector("text=Proposal submitted")
        assert "submitted" in page.locator("table.data").first.inner_text()
        tab.shot("calls-apply-submitted")
    assert wait_for(inbox, "app0@example.test", 2)[-1]["Subject"].endswith("SYN-ONE received")


def test_the_secretariat_dashboard_and_the_reviewer_page(site) -> None:
    url, app, engine, _, chromium = site
    workflow = app.state.calls_workflow
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from permedhub.graph.models import UserAccount

    with Session(engine) as session:
        ids = dict(session.execute(select(UserAccount.name, UserAccount.id)).all())
    app1 = Actor(ids["app1"], "app1")
    consortium, _ = workflow.register_consortium(CALL, app1, "SYN-TWO")
    workflow.save(consortium, app1, example_proposals()[1], PDF, submit=True)
    with guarded_tab(chromium, url, timeout_ms=20_000) as tab:
        _log_in(tab, "sec", f"/calls/{CALL}/secretariat")
        page = tab.page
        page.click("button:has-text('Check eligibility')")
        page.wait_for_selector("text=Step done: eligibility.")
        page.click("button:has-text('Assign reviewers')")
        page.wait_for_selector("text=Step done: assign.")
        tab.shot("calls-secretariat-assigned")
        rows = page.locator("#proposals tbody tr").all_inner_texts()
        assert len(rows) >= 1 and all("eligible" in r for r in rows), rows
    with guarded_tab(chromium, url, timeout_ms=20_000) as tab:
        _log_in(tab, "rev-nl", f"/calls/{CALL}/review")
        page = tab.page
        sections = page.locator("section.panel")
        assert sections.count() >= 1
        for i in range(sections.count()):
            section = page.locator("section.panel").nth(i)
            for criterion in ("excellence", "impact", "implementation"):
                section.locator(f"[name=score_{criterion}]").fill("4.5")
            section.locator("button:has-text('Save review')").click()
            page.wait_for_selector("text=saved.")
        tab.shot("calls-reviewer")
    with guarded_tab(chromium, url, timeout_ms=20_000) as tab:
        _log_in(tab, "sec", f"/calls/{CALL}/secretariat")
        page = tab.page
        page.click("button:has-text('Decide funding')")
        page.wait_for_selector("text=Step done: decide.")
        assert page.locator("#ranking tbody tr").count() >= 1
        assert "funded" in page.locator("#proposals").inner_text()
        page.locator("#commitments").wait_for()
        # The funder report's chart, drawn by the packaged Plotly under the page's CSP.
        page.locator("#figure-commitments .main-svg").first.wait_for()
        bars = page.locator("#figure-commitments g.point").count()
        assert bars >= 2 * len(example_proposals()[1]["partners"]), bars
        assert page.locator("#decision-downloads a").count() >= 2
        page.locator("#funder-report").scroll_into_view_if_needed()
        tab.shot("calls-secretariat-decided")


def test_the_public_statistics_pages_draw_their_charts(site) -> None:
    url, _, _, _, chromium = site
    with guarded_tab(chromium, url, timeout_ms=20_000) as tab:
        tab.go("/calls/statistics")
        page = tab.page
        page.locator("#figure-partners .main-svg").first.wait_for()
        assert page.locator("#table-calls tbody tr").count() >= 5
        tab.shot("calls-statistics-across")
        tab.go("/calls/erapermed-jtc2021/statistics")
        page.locator("#figure-partners .main-svg").first.wait_for()
        assert "10.1%" in page.locator("#table-published").inner_text()
        tab.shot("calls-statistics-jtc2021")
