"""The helpdesk in a real headless Chromium, end to end: a researcher asks (in Spanish), compares
countries and downloads the comparison, asks an expert when the base has no answer; the expert
logs in, answers and publishes; the researcher is e-mailed (a real SMTP server on 127.0.0.1)
and the answer is then among the helpdesk's answers (`helpdesk.asking.ask` behind the page).

Requests may reach only the test server, and a script typed into the ticket would open a
dialog, which fails the test (browser_support.guarded_tab). Screenshots go to test-artifacts/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from browser_support import (
    LiveServer,
    chromium_or_skip,
    guarded_tab,
    launched_chromium,
    served_copy,
)
from smtp_support import Mailbox, smtp_server

pytestmark = pytest.mark.browser

SCRIPT = "<script>alert(1)</script>"
QUESTION = "Which committee reviews biobank sample exports from Uruguay to Spain?"


@pytest.fixture(scope="module")
def helpdesk_server(
    helpdesk_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    chromium_or_skip()
    folder = tmp_path_factory.mktemp("helpdesk-browser")
    with served_copy(helpdesk_template, folder, "helpdesk-browser-secret") as (url, engine, app):
        yield LiveServer(url, engine, app)


@pytest.fixture(scope="module")
def chromium(helpdesk_server: LiveServer) -> Iterator[object]:
    with launched_chromium() as browser:
        yield browser


@pytest.fixture
def mailbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    """A real SMTP server, and the portal (same process) configured to send through it."""
    with smtp_server() as box:
        monkeypatch.setenv("PERMEDHUB_SMTP_HOST", box.host)
        monkeypatch.setenv("PERMEDHUB_SMTP_PORT", str(box.port))
        monkeypatch.setenv("PERMEDHUB_SMTP_FROM", "helpdesk@permedhub.test")
        yield box


def test_ask_compare_ticket_answer_publish_and_find(
    chromium: object, helpdesk_server: LiveServer, mailbox: Mailbox
) -> None:
    base = helpdesk_server.url
    with guarded_tab(chromium, base, timeout_ms=20_000) as researcher:
        page = researcher.page
        # Asking, in Spanish: sourced answers.
        researcher.go("/helpdesk?lang=es")
        assert page.get_attribute("html", "lang") == "es"
        page.fill("#q", "¿Qué agencia aprueba ensayos clínicos en Argentina?")
        page.click("form[role=search] button[type=submit]")
        page.wait_for_selector(".answer")
        first = page.locator(".answer").first.inner_text()
        assert "Fuente" in first and "verificado el" in first
        assert "ANMAT" in page.locator(".answer-list").inner_text()
        researcher.shot("helpdesk-ask-es")

        # Comparing three countries, then the CSV download.
        researcher.go("/helpdesk/compare?lang=en")
        for index, code in enumerate(("AR", "BR", "CL"), start=1):
            page.select_option(f"#country-{index}", code)
        page.click("form.filters button[type=submit]")
        page.wait_for_selector("table.compare")
        assert page.locator("th", has_text="Chile (CL)").count() == 3
        assert page.locator("td.gap").count() > 10
        researcher.shot("helpdesk-compare")
        with page.expect_download() as download:
            page.click("text=Download CSV")
        csv_text = Path(download.value.path()).read_text(encoding="utf-8-sig")
        assert csv_text.startswith("section,topic,country") and "ANVISA" in csv_text

        # No answer in the base: ask an expert, from the answers' own link.
        researcher.go("/helpdesk?lang=en")
        page.fill("#q", QUESTION)
        page.select_option("#country", "UY")
        page.click("form[role=search] button[type=submit]")
        page.click("text=Not answered? Ask an expert")
        page.wait_for_selector("#t-question")
        assert page.input_value("#t-question") == QUESTION
        page.fill("#t-name", f"Ana {SCRIPT}")
        page.fill("#t-email", "ana.perez@example.org")
        page.select_option("#t-countries", ["UY", "ES"])
        researcher.shot("helpdesk-ticket-form")
        page.click("text=Send the question")
        page.wait_for_url("**/helpdesk/ask-an-expert/sent")
        researcher.shot("helpdesk-ticket-sent")

    with guarded_tab(chromium, base, timeout_ms=20_000) as expert:
        page = expert.page
        expert.go("/login?next=/curate/helpdesk")
        page.fill("#name", "carol")
        page.fill("#password", "curator-password-1")
        page.click("main button[type=submit]")
        page.wait_for_url("**/curate/helpdesk")
        row = page.locator("#ticket-queue tbody tr").first
        assert SCRIPT in row.inner_text()  # shown as text (a dialog would fail the test)
        expert.shot("helpdesk-queue")
        row.locator("a").first.click()
        page.wait_for_selector("#a-answer")
        page.fill(
            "#a-answer",
            "Export of biological samples from Uruguay needs the approval of the research "
            "ethics committee under Decree 158/019.",
        )
        page.fill("#a-question", "Who approves exporting trial samples from Uruguay?")
        page.check("input[name=topics][value=sample-transfer]")
        page.click("text=Send the answer")
        page.wait_for_url("**/curate/helpdesk/1?done=mailed")
        assert "e-mailed to the submitter" in page.inner_text("main")
        expert.shot("helpdesk-ticket-answered")

    [(recipients, message)] = mailbox.received
    assert recipients == ["ana.perez@example.org"]
    assert "Decree 158/019" in message.get_content()

    with guarded_tab(chromium, base, timeout_ms=20_000) as researcher:
        page = researcher.page
        researcher.go("/helpdesk?lang=pt")
        page.fill("#q", "Quem aprova a exportação de amostras do Uruguai?")
        page.click("form[role=search] button[type=submit]")
        page.wait_for_selector("#answer-ticket-1")
        published = page.locator("#answer-ticket-1").inner_text()
        assert "Decree 158/019" in published and "Ana" not in page.inner_text("main")
        researcher.shot("helpdesk-faq-found-pt")
        page.click('#answer-ticket-1 a[href="/helpdesk/faq/ticket-1"]')
        page.wait_for_url("**/helpdesk/faq/ticket-1")
        assert "Who approves exporting trial samples from Uruguay?" in page.inner_text("h1")
        researcher.shot("helpdesk-faq-entry")
