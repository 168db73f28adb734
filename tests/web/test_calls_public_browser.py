"""The public call pages in headless Chromium: from the navigation to the list of calls, a
click through to a real call, its funders table and its doubts; then a curator's preview of a
call document. Screenshots land in test-artifacts/."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser
JTC2020 = "erapermed-jtc2020"


def test_from_the_list_of_calls_to_a_call_and_its_preview(tab) -> None:
    page = tab.page
    tab.go("/")
    page.click("nav >> text=Calls")
    page.wait_for_url("**/calls")
    rows = page.locator("#calls tbody tr")
    assert rows.count() >= 7
    assert "closed" in rows.filter(has_text=JTC2020).inner_text().lower()
    tab.shot("calls-public-index")
    page.click(f"a[href='/calls/{JTC2020}']")
    page.wait_for_url(f"**/calls/{JTC2020}")
    assert "Multidisciplinary Research Projects" in page.locator("h1").inner_text()
    funders = page.locator("#funders")
    funders.scroll_into_view_if_needed()
    assert funders.locator("tbody tr").count() == 8
    smwk = funders.locator("tbody tr", has_text="SMWK")
    assert (
        "EUR 2,000,000" in smwk.inner_text() and smwk.locator(".mark-uncertain").first.is_visible()
    )
    # The table fits its scrolling box; the page itself does not scroll sideways.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    tab.shot("calls-public-jtc2020")

    tab.go(f"/login?next=/curate/calls?edit={JTC2020}")
    page.fill("#name", "carol")
    page.fill("#password", "curator-password-1")
    page.click("button[type=submit]:has-text('Log in')")
    page.wait_for_url("**/curate/calls?edit=*")
    page.click("button:has-text('Preview')")
    page.locator("#publish-title").wait_for()
    assert page.locator("#funders tbody tr").count() == 8
    tab.shot("calls-curator-preview")
