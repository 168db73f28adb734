"""The public call pages on the seeded database (the list of calls and each call's page) and
the curator's call-document form: validation with lines, preview, publication, access."""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Callable
from decimal import Decimal

import pytest
import yaml
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from calls_world import BEFORE_PRE_DEADLINE, CALL_FILE, Clock
from permedhub.calls.catalogue import seeded
from permedhub.calls.documents import load_call, read_call_text
from permedhub.calls.store import CallRecord, CallRole, WorkflowAudit
from permedhub.graph.models import Initiative

JTC2020 = "erapermed-jtc2020"
SYNTHETIC = "syn-jtc-example"


def _row(page: str, table_id: str, containing: str) -> list[str]:
    """The cells (as text) of the row of table `table_id` that contains `containing`."""
    table = page[page.index(f'id="{table_id}"') :]
    table = table[: table.index("</table>")]
    for row in re.findall(r"<tr>(.*?)</tr>", table, re.S):
        if containing in row:
            cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
            texts = (re.sub(r"<[^>]+>", " ", c) for c in cells)
            return [" ".join(html.unescape(t).split()) for t in texts]
    raise AssertionError(f"no row of {table_id} contains {containing!r}")


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


# ---------------------------------------------------------------- the public pages


def test_the_list_names_every_call_with_its_state_and_a_csv(read_client: TestClient) -> None:
    page = read_client.get("/calls")
    assert page.status_code == 200
    for year in range(2018, 2023):
        row = _row(page.text, "calls", f'href="/calls/erapermed-jtc{year}"')
        assert row[1] == str(year) and row[5] == "closed", row
    jtc2020 = _row(page.text, "calls", f'href="/calls/{JTC2020}"')
    assert jtc2020[2] == (
        "pre-proposal: 2020-03-05 17:00 (UTC+01:00) full proposal: 2020-06-15 17:00 (UTC+02:00)"
    )
    assert jtc2020[3] == "31 uncertain" and jtc2020[4] == "EUR 27,000,000 uncertain"
    # Another initiative's call, from the graph's summary; its unknowns say so.
    assert _row(page.text, "calls", 'href="/calls/ep-permed-jtc2025"')[2:6] == [
        "pre-proposal: 2025-02-18 full proposal: 2025-06-17", "35", "EUR 36,500,000 approx.",
        "closed",
    ]  # fmt: skip
    assert _row(page.text, "calls", 'href="/calls/era4health-healthequity"')[3:5] == [
        "unknown", "unknown",
    ]  # fmt: skip
    rows = {r["id"]: r for r in _csv(read_client.get("/calls.csv").text)}
    assert set(rows) >= {*seeded(), "ep-permed-jtc2025", "era4health-healthequity"}
    assert (rows[JTC2020]["funders"], rows[JTC2020]["state"]) == ("31", "closed")
    assert rows["era4health-healthequity"]["budget_eur"] == ""
    assert rows["ep-permed-jtc2025"]["approximate"] == "budget_eur: over EUR 36.5 M"


def test_the_navigation_leads_to_the_calls(read_client: TestClient) -> None:
    assert '<li><a href="/calls">Calls</a></li>' in read_client.get("/").text
    assert '<a href="/calls" aria-current="page">Calls</a>' in read_client.get("/calls").text


def test_a_seeded_call_shows_its_sourced_document(read_client: TestClient) -> None:
    call, _ = seeded()[JTC2020]
    page = read_client.get(f"/calls/{JTC2020}").text
    assert f"<h1>{escape(call.title)}" in page
    # The stages with their zones and UTC, as the call text writes them.
    assert _row(page, "stages", "pre-proposal") == [
        "pre-proposal",
        "2019-12-16 00:00 (UTC+01:00) = 2019-12-15 23:00 UTC uncertain "
        f"({call.uncertain['stages[0].opens']})",
        "2020-03-05 17:00 (UTC+01:00) = 2020-03-05 16:00 UTC",
        "5 March 2020 at 17:00 (CET)",
    ]
    # Every funder, linked to its organisation page; a national budget with its doubt.
    for funder in call.funders:
        assert f'<a href="/organisations/{funder.organisation}">' in page
    smwk = _row(page, "funders", 'href="/organisations/smwk"')
    assert smwk[2] == "EUR 2,000,000 uncertain"
    doubts = page[page.index('id="funder-doubts"') :]
    doubts = " ".join(
        html.unescape(re.sub(r"<[^>]+>", " ", doubts[: doubts.index("</ul>")])).split()
    )
    assert f"SMWK , national budget: uncertain {call.funders[3].uncertain['budget_eur']}" in doubts
    assert smwk[6] == "www.biosaxony.com"
    assert 'href="https://www.biosaxony.com/news/3-call-von-era-permed-geoeffnet"' in page
    # The document's own source and each field's.
    for url in [call.source, *call.sources.values()]:
        assert f'href="{url}"' in page
    # Rules in plain words, with their doubts; the notes.
    assert "At least 3 eligible partners" in page
    assert escape(call.uncertain["consortium.min_eu_associated_countries"]) in page
    assert all(escape(note) in page for note in call.notes)
    # The secretariat, linked to the graph.
    assert '<a href="/organisations/dlr-pt">' in page


def test_what_the_document_does_not_state_is_shown_as_unknown(read_client: TestClient) -> None:
    page = read_client.get(f"/calls/{JTC2020}").text
    italy = _row(page, "funders", 'href="/organisations/it-moh"')
    assert italy[2:5] == [
        "unknown", "unknown", "per partner: unknown per project: unknown",
    ]  # fmt: skip
    assert "Largest number of partners: unknown (not stated)." in page
    assert (
        'Evaluation criteria, weights and thresholds: <span class="unknown">unknown</span>' in page
    )
    full = _row(page, "stages", "full proposal")
    assert full[1] == "unknown"
    rows = {
        r["organisation_id"]: r for r in _csv(read_client.get(f"/calls/{JTC2020}/funders.csv").text)
    }
    assert list(rows) == [f.organisation for f in seeded()[JTC2020][0].funders]
    assert rows["it-moh"]["budget_eur"] == "" and rows["smwk"]["budget_eur"] == "2000000.0"
    assert rows["vr"]["max_request_per_project_eur"] == "450000.0"
    assert rows["smwk"]["uncertain"].startswith("budget_eur: 'insgesamt bis zu 2 Mio. Euro'")


def test_a_call_page_lists_the_projects_the_graph_funds_under_it(read_client: TestClient) -> None:
    with Session(read_client.app.state.engine) as session:  # type: ignore[attr-defined]
        expected = set(
            session.execute(
                select(Initiative.id).where(
                    Initiative.kind == "project", Initiative.call_topic == JTC2020
                )
            ).scalars()
        )
    assert expected, "the graph seed lists projects of JTC2020"
    page = read_client.get(f"/calls/{JTC2020}").text
    section = page[page.index('id="projects-title"') :]
    assert set(re.findall(r'<a href="/initiatives/([^"]+)">', section)) == expected
    assert f"Funded projects ({len(expected)} listed)" in page


def test_a_call_without_a_document_has_the_graph_summary(read_client: TestClient) -> None:
    page = read_client.get("/calls/ep-permed-jtc2025")
    assert page.status_code == 200
    assert "No call document is recorded for this call" in page.text
    assert "EUR 36,500,000" in page.text
    assert (
        'href="https://www.eppermed.eu/funding-projects/calls/joint-transnational-calls"'
        in page.text
    )
    assert read_client.get("/calls/no-such-call").status_code == 404


def test_a_published_call_is_open_with_a_link_to_apply_then_closes(client: TestClient) -> None:
    workflow = client.app.state.calls_workflow  # type: ignore[attr-defined]
    clock = Clock(BEFORE_PRE_DEADLINE)
    workflow.clock = clock
    workflow.publish(load_call(CALL_FILE), "operator")
    row = _row(client.get("/calls").text, "calls", f'href="/calls/{SYNTHETIC}"')
    assert row[5:] == ["open", "Apply"]
    page = client.get(f"/calls/{SYNTHETIC}").text
    assert f'<a class="button" href="/calls/{SYNTHETIC}/apply">' in page
    assert "A synthetic call" in page
    assert _row(page, "criteria", "excellence") == ["excellence", "1", "0 to 5", "3"]
    assert _row(page, "criteria", "implementation")[3] == "none stated"
    assert "<dt>Total threshold</dt><dd>10</dd>" in page
    listed = page[page.index('<ul class="rules">') :]
    listed = listed[: listed.index("</ul>")]
    rules = [" ".join(r.split()) for r in re.findall(r"<li[^>]*>(.*?)</li>", listed)]
    assert rules == [
        "At least 3 eligible partners: funded by a participating funder that funds their kind "
        "of organisation.",
        "Eligible partners from at least 3 different countries.",
        "At most 6 partners in a consortium, own-funded partners included.",
        "At most 2 partners from one country.",
        "At most 1 own-funded partners (partners who bring their own funding).",
        "Partners from EU member states or associated countries: unknown (not stated).",
        "The coordinator must be an eligible partner.",
        "Every proposal addresses at least one of: Module A: translating basic to clinical "
        "research; Module B: data and ICT; Module C: implementation in health care.",
    ]
    clock.now = clock.now.replace(month=4)  # after the pre-proposal deadline
    row = _row(client.get("/calls").text, "calls", f'href="/calls/{SYNTHETIC}"')
    assert row[5:] == ["closed", "in the workflow"]
    assert f'href="/calls/{SYNTHETIC}/apply"' not in client.get(f"/calls/{SYNTHETIC}").text


def test_a_seeded_call_published_into_the_workflow_shows_the_document_it_runs_on(
    client: TestClient,
) -> None:
    call, _ = seeded()[JTC2020]
    workflow = client.app.state.calls_workflow  # type: ignore[attr-defined]
    workflow.publish(call.model_copy(update={"budget_eur": Decimal(26_000_000)}), "operator")
    page = client.get(f"/calls/{JTC2020}").text
    assert "Published in PerMed Hub's call workflow on" in page
    assert '<dt>Total budget</dt><dd><span class="nowrap">EUR 26,000,000</span>' in page
    # Still the graph's call: its funded projects and countries come with it.
    assert "In the knowledge graph" in page and 'href="/initiatives/erapermed-digipd"' in page
    row = _row(client.get("/calls").text, "calls", f'href="/calls/{JTC2020}"')
    assert row[4].startswith("EUR 26,000,000") and row[6] == "in the workflow"


# ---------------------------------------------------------------- the curator's form


def _records(client: TestClient) -> int:
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        return int(session.execute(select(func.count()).select_from(CallRecord)).scalar_one())


def test_only_curators_write_call_documents(
    client: TestClient, log_in: Callable[[TestClient, str], str]
) -> None:
    assert client.get("/curate/calls").status_code == 401
    token = log_in(client, "vera")
    assert client.get("/curate/calls").status_code == 403
    text = CALL_FILE.read_text(encoding="utf-8")
    response = client.post(
        "/curate/calls/publish",
        data={
            "document": text,
            "sec_name_0": "vera",
            "sec_email_0": "v@x.test",
            "csrf_token": token,
        },
    )
    assert response.status_code == 403 and _records(client) == 0


def test_a_form_without_its_token_is_refused(
    client: TestClient, log_in: Callable[[TestClient, str], str]
) -> None:
    log_in(client, "carol")
    text = CALL_FILE.read_text(encoding="utf-8")
    response = client.post(
        "/curate/calls/publish",
        data={"document": text, "sec_name_0": "vera", "sec_email_0": "v@x.test"},
    )
    assert response.status_code == 403 and "security token" in response.text
    assert _records(client) == 0


def test_a_malformed_document_shows_each_problem_with_its_line_and_stores_nothing(
    client: TestClient, log_in: Callable[[TestClient, str], str]
) -> None:
    token = log_in(client, "carol")
    text = CALL_FILE.read_text(encoding="utf-8")
    line = text.splitlines().index("    budget_eur: 500000") + 1
    broken = text.replace("    budget_eur: 500000", "    budget_eur: -5", 1)
    for path in ("/curate/calls/preview", "/curate/calls/publish"):
        response = client.post(
            path,
            data={"csrf_token": token, "sec_name_0": "vera", "sec_email_0": "v@x.test"},
            files={"file": ("call.yaml", broken.encode(), "application/yaml")},
        )
        assert response.status_code == 422, path
        assert _row(response.text, "document-problems", "budget_eur") == [
            str(line), "funders[1].budget_eur", "-5", "a number greater than or equal to 0",
        ]  # fmt: skip
        assert "nothing was stored" in response.text
    syntax = text.replace("title: Synthetic", "title: [Synthetic", 1)
    response = client.post("/curate/calls/preview", data={"document": syntax, "csrf_token": token})
    assert response.status_code == 422
    title = next(i for i, t in enumerate(syntax.splitlines(), 1) if t.startswith("title: ["))
    problem = _row(response.text, "document-problems", "valid YAML")
    assert problem[:3] == [str(title + 1), "document", "synthetic: true"]
    assert f"flow sequence that starts on line {title}" in problem[3]
    assert _records(client) == 0


def test_a_preview_renders_the_call_page_and_publishing_stores_it_audited(
    client: TestClient, log_in: Callable[[TestClient, str], str]
) -> None:
    token = log_in(client, "carol")
    text = CALL_FILE.read_text(encoding="utf-8")
    preview = client.post("/curate/calls/preview", data={"document": text, "csrf_token": token})
    assert preview.status_code == 200 and _records(client) == 0
    assert _row(preview.text, "funders", "syn-funder-de")[2] == "EUR 600,000"
    assert "Publish syn-jtc-example" in preview.text
    refused = client.post("/curate/calls/publish", data={"document": text, "csrf_token": token})
    assert refused.status_code == 422 and "at least one secretariat member" in refused.text
    assert _records(client) == 0
    refused = client.post(
        "/curate/calls/publish",
        data={"document": text, "sec_name_0": "nobody", "sec_email_0": "n@x.test",
              "csrf_token": token},
    )  # fmt: skip
    assert refused.status_code == 422 and "user = &#39;nobody&#39; is invalid" in refused.text
    assert _records(client) == 0  # the publication and its grants are one step
    response = client.post(
        "/curate/calls/publish",
        data={"document": text, "sec_name_0": "vera", "sec_email_0": "vera@example.test",
              "csrf_token": token},
        follow_redirects=False,
    )  # fmt: skip
    assert response.status_code == 303
    assert response.headers["location"] == f"/calls/{SYNTHETIC}?published=1"
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        audit = session.execute(select(WorkflowAudit.actor, WorkflowAudit.action)).all()
        roles = session.execute(select(CallRole.role, CallRole.email)).all()
    assert ("carol", "publish") in audit and ("carol", "grant") in audit
    assert roles == [("secretariat", "vera@example.test")]


def test_editing_a_published_call_replaces_its_document_or_says_why_not(
    client: TestClient, log_in: Callable[[TestClient, str], str]
) -> None:
    workflow = client.app.state.calls_workflow  # type: ignore[attr-defined]
    workflow.clock = Clock(BEFORE_PRE_DEADLINE)
    workflow.publish(load_call(CALL_FILE), "operator", secretariat=[("vera", "v@x.test")])
    workflow.grant(
        SYNTHETIC, "operator",
        {"user": "ada", "role": "funder", "email": "a@x.test", "funder": "syn-funder-es"},
    )  # fmt: skip
    token = log_in(client, "carol")
    editor = client.get(f"/curate/calls?edit={SYNTHETIC}").text
    text = html.unescape(
        re.search(r'<textarea id="document"[^>]*>(.*?)</textarea>', editor, re.S)[1]
    )
    # The stored document as YAML: it reads back as the document published.
    assert read_call_text(text) == load_call(CALL_FILE)
    assert "  budget_eur: 600000\n" in text and "deadline: 2026-03-05 14:00:00+01:00" in text
    renamed = text.replace("Synthetic joint transnational call", "Renamed synthetic call", 1)
    response = client.post(
        "/curate/calls/publish", data={"document": renamed, "csrf_token": token},
        follow_redirects=False,
    )  # fmt: skip
    assert response.status_code == 303
    assert "<h1>Renamed synthetic call" in client.get(f"/calls/{SYNTHETIC}").text
    # A version without the funder ada acts for is refused, the stored one kept.
    data = load_call(CALL_FILE).model_dump(mode="json")
    data["funders"] = [f for f in data["funders"] if f["organisation"] != "syn-funder-es"]
    response = client.post(
        "/curate/calls/publish", data={"document": yaml.safe_dump(data), "csrf_token": token}
    )
    assert response.status_code == 422
    assert "revoke those roles first" in response.text and "Nothing was published" in response.text
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        stored = session.get(CallRecord, SYNTHETIC)
        assert stored is not None and stored.title.startswith("Renamed synthetic call")
        assert len(stored.document["funders"]) == 4


def test_a_seeded_call_opens_in_the_editor_as_its_file(
    client: TestClient, log_in: Callable[[TestClient, str], str]
) -> None:
    log_in(client, "carol")
    _, path = seeded()[JTC2020]
    editor = client.get(f"/curate/calls?edit={JTC2020}").text
    text = html.unescape(
        re.search(r'<textarea id="document"[^>]*>(.*?)</textarea>', editor, re.S)[1]
    )
    assert text.strip() == path.read_text(encoding="utf-8").strip()
    assert client.get("/curate/calls?edit=nothing-here").status_code == 404


@pytest.mark.parametrize("path", ["/curate/calls/preview", "/curate/calls/publish"])
def test_an_empty_form_names_what_is_missing(
    client: TestClient, log_in: Callable[[TestClient, str], str], path: str
) -> None:
    token = log_in(client, "carol")
    response = client.post(path, data={"document": "  ", "csrf_token": token})
    assert response.status_code == 422 and "paste it or upload a file" in response.text
    assert _records(client) == 0
