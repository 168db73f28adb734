"""The expert register and working-group pages on the seeded portal database: a logged-in user
lists themself only with consent, deletes their own listing (not another's; a curator deletes
any), every POST needs its CSRF token; the register shows only public fields (with a CSV twin);
working groups are chosen from a register of 30 or explained as infeasible; bad input is
named."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from browser_support import ARTIFACTS, LiveServer, Tab
from permedhub.graph.models import AuditEntry, UserAccount
from permedhub.match.experts import CONSENT_STATEMENT, register
from permedhub.match.models import Expert

LogIn = Callable[[TestClient, str], str]
TOPICS = ["erp-ra1-translation", "erp-ra2-data-ict", "erp-ra3-implementation", "v2030-health-data"]
# 30 experts over 6 countries of 5 balance regions, 3 sectors and the 4 topics above.
COUNTRIES = ["ES", "DE", "BR", "GH", "CN", "CA"]
SECTORS = ["academia", "healthcare", "industry"]


def listing(number: int) -> dict:
    return {
        "id": f"x{number:02d}",
        "name": f"Expert {number:02d}",
        "email": f"x{number:02d}@example.org",
        "country": COUNTRIES[number % len(COUNTRIES)],
        "sector": SECTORS[number % len(SECTORS)],
        "topics": [TOPICS[number % len(TOPICS)], TOPICS[(number * 3 + 1) % len(TOPICS)]],
        "expertise": f"secret-free expertise {number}",
        "consent": True,
        "consent_statement": CONSENT_STATEMENT,
    }


@pytest.fixture
def thirty(web_engine: Engine) -> Engine:
    register(web_engine, [listing(n) for n in range(30)], actor="test")
    return web_engine


def user_id(engine: Engine, name: str) -> int:
    with Session(engine) as session:
        found = session.scalar(select(UserAccount.id).where(UserAccount.name == name))
    assert found is not None
    return found


def self_listing(token: str, **changes: object) -> dict:
    form = {"csrf_token": token, "name": "Vera Viewer", "email": "vera@example.org",
            "country": "PT", "sector": "academia", "topics": ["v2030-health-data"],
            "expertise": "pharmacogenomics", "consent": "yes"}  # fmt: skip
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


# ---------------------------------------------------------------- registering and deleting


def test_registering_needs_a_login(client: TestClient) -> None:
    assert client.get("/match/experts/register").status_code == 401


def test_a_user_lists_themself_with_consent(
    client: TestClient, web_engine: Engine, log_in: LogIn
) -> None:
    token = log_in(client, "vera")
    form_page = client.get("/match/experts/register")
    assert form_page.status_code == 200 and str(escape(CONSENT_STATEMENT)) in form_page.text
    assert form_page.headers["cache-control"] == "no-store"
    done = client.post("/match/experts/register", data=self_listing(token),
                       follow_redirects=False)  # fmt: skip
    assert done.status_code == 303, done.text
    own = f"portal-user-{user_id(web_engine, 'vera')}"
    with Session(web_engine) as session:
        stored = session.get(Expert, own)
        assert stored is not None
        assert (stored.name, stored.country_code, stored.email) == (
            "Vera Viewer", "PT", "vera@example.org")  # fmt: skip
        assert stored.consent_statement == CONSENT_STATEMENT and stored.consented_at
        audit = session.scalars(select(AuditEntry).where(AuditEntry.entity_id == own)).all()
        assert [(a.action, a.actor) for a in audit] == [("create", "vera")]
    listed = client.get("/match/experts")
    assert f'data-expert="{own}"' in listed.text and "Delete my listing" in listed.text


def test_without_consent_nothing_is_stored(
    client: TestClient, web_engine: Engine, log_in: LogIn
) -> None:
    token = log_in(client, "vera")
    refused = client.post("/match/experts/register", data=self_listing(token, consent=None))
    assert refused.status_code == 422
    assert "consent = &#39;not ticked&#39; is invalid" in refused.text
    assert "without your consent nothing is stored" in refused.text
    assert 'value="pharmacogenomics"' not in refused.text  # a textarea: typed text kept inside
    assert "pharmacogenomics</textarea>" in refused.text
    with Session(web_engine) as session:
        assert session.scalars(select(Expert)).all() == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"topics": ["astrology"]}, "topics = [&#39;astrology&#39;] is invalid"),
        ({"country": "XX"}, "country = &#39;XX&#39; is invalid"),
        ({"sector": "magic"}, "sector = &#39;magic&#39; is invalid"),
        ({"email": "not-an-address"}, "email = &#39;not-an-address&#39; is invalid"),
        ({"organisation": "nowhere"}, "organisation = &#39;nowhere&#39; is invalid"),
    ],
)
def test_bad_listing_fields_are_named(
    client: TestClient, web_engine: Engine, log_in: LogIn, changes: dict, message: str
) -> None:
    token = log_in(client, "vera")
    refused = client.post("/match/experts/register", data=self_listing(token, **changes))
    assert refused.status_code == 422 and message in refused.text
    assert "experts[0]" not in refused.text
    with Session(web_engine) as session:
        assert session.scalars(select(Expert)).all() == []


def test_registering_needs_the_csrf_token(
    client: TestClient, web_engine: Engine, log_in: LogIn
) -> None:
    log_in(client, "vera")
    refused = client.post("/match/experts/register", data=self_listing("forged"))
    assert refused.status_code == 403
    with Session(web_engine) as session:
        assert session.scalars(select(Expert)).all() == []


def test_own_listing_is_deleted_on_request(
    client: TestClient, web_engine: Engine, log_in: LogIn
) -> None:
    token = log_in(client, "vera")
    client.post("/match/experts/register", data=self_listing(token))
    own = f"portal-user-{user_id(web_engine, 'vera')}"
    assert client.post(f"/match/experts/{own}/delete", data={"csrf_token": "forged"}
                       ).status_code == 403  # fmt: skip
    done = client.post(f"/match/experts/{own}/delete", data={"csrf_token": token},
                       follow_redirects=False)  # fmt: skip
    assert done.status_code == 303
    with Session(web_engine) as session:
        assert session.get(Expert, own) is None
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.entity_id == own).order_by(AuditEntry.id)
        ).all()
    assert actions == ["create", "delete"]


def test_another_users_listing_is_not_theirs_to_delete(
    client: TestClient, thirty: Engine, log_in: LogIn
) -> None:
    token = log_in(client, "vera")
    refused = client.post("/match/experts/x01/delete", data={"csrf_token": token})
    assert refused.status_code == 403 and "only their own listing" in refused.text
    with Session(thirty) as session:
        assert session.get(Expert, "x01") is not None


def test_a_curator_deletes_any_listing(client: TestClient, thirty: Engine, log_in: LogIn) -> None:
    token = log_in(client, "carol")
    page = client.get("/match/experts")
    assert page.text.count(">Delete</button>") == 30
    done = client.post("/match/experts/x01/delete", data={"csrf_token": token},
                       follow_redirects=False)  # fmt: skip
    assert done.status_code == 303
    with Session(thirty) as session:
        assert session.get(Expert, "x01") is None
    assert client.post("/match/experts/x01/delete", data={"csrf_token": token}
                       ).status_code == 404  # fmt: skip


# ---------------------------------------------------------------- the public register


def test_the_register_shows_public_fields_only(client: TestClient, thirty: Engine) -> None:
    page = client.get("/match/experts")
    assert page.status_code == 200
    assert len(re.findall(r'<tr data-expert="', page.text)) == 30
    assert "Expert 07" in page.text and "secret-free expertise 7" in page.text
    assert "@example.org" not in page.text and str(escape(CONSENT_STATEMENT)) not in page.text
    assert "Delete" not in page.text.split('id="expert-table"')[1]
    rows = list(csv.DictReader(io.StringIO(client.get("/match/experts.csv").text.lstrip("\ufeff"))))
    assert len(rows) == 30
    assert list(rows[0]) == ["id", "name", "country", "sector", "organisation", "topics",
                             "expertise"]  # fmt: skip


def test_curators_see_the_addresses_others_do_not(
    client: TestClient, thirty: Engine, log_in: LogIn
) -> None:
    log_in(client, "vera")
    assert "@example.org" not in client.get("/match/experts").text
    log_in(client, "carol")
    assert "x07@example.org" in client.get("/match/experts").text
    assert "@example.org" not in client.get("/match/experts.csv").text


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        # x03, x09, x15, x21, x27 are in Ghana (3 mod 6)
        ({"country": "GH"}, {"x03", "x09", "x15", "x21", "x27"}),
        # Europe: ES (0 mod 6) and DE (1 mod 6)
        ({"region": "europe"}, {f"x{n:02d}" for n in range(30) if n % 6 in (0, 1)}),
        ({"topic": "erp-ra1-translation"},
         {f"x{n:02d}" for n in range(30) if 0 in (n % 4, (n * 3 + 1) % 4)}),
        ({"topic": "erp-ra1-translation", "country": "ES"},
         {f"x{n:02d}" for n in range(30) if n % 6 == 0 and 0 in (n % 4, (n * 3 + 1) % 4)}),
    ],
)  # fmt: skip
def test_the_register_filters(
    client: TestClient, thirty: Engine, params: dict, expected: set[str]
) -> None:
    page = client.get("/match/experts", params=params)
    assert set(re.findall(r'<tr data-expert="([^"]+)"', page.text)) == expected
    table = client.get("/match/experts.csv", params=params).text.lstrip("\ufeff")
    assert {row["id"] for row in csv.DictReader(io.StringIO(table))} == expected


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"topic": "astrology"}, "topic = [&#39;astrology&#39;] is invalid"),
        ({"region": "atlantis"}, "region = &#39;atlantis&#39; is invalid"),
    ],
)
def test_bad_register_filters_are_named(client: TestClient, params: dict, message: str) -> None:
    page = client.get("/match/experts", params=params)
    assert page.status_code == 422 and message in page.text


# ---------------------------------------------------------------- working groups


def members(html: str) -> list[str]:
    return re.findall(r'<tr data-expert="([^"]+)"', html)


def test_the_group_page_needs_a_login(client: TestClient) -> None:
    assert client.get("/match/group").status_code == 401
    assert client.get("/match/group.csv", params={"size": 3}).status_code == 401


def test_a_feasible_group_with_why(client: TestClient, thirty: Engine, log_in: LogIn) -> None:
    log_in(client, "vera")
    params = {"size": "6", "topic": TOPICS, "cover": "2", "region_min_africa": "1",
              "sector_min_industry": "2", "max_per_region": "2"}  # fmt: skip
    page = client.get("/match/group", params=params)
    assert page.status_code == 200, page.text
    chosen = members(page.text)
    assert len(chosen) == 6 and len(set(chosen)) == 6
    by_id = {listing(n)["id"]: listing(n) for n in range(30)}
    for topic in TOPICS:
        assert sum(topic in by_id[x]["topics"] for x in chosen) >= 2
    assert sum(by_id[x]["country"] == "GH" for x in chosen) >= 1
    assert sum(by_id[x]["sector"] == "industry" for x in chosen) >= 2
    # 6 members over 5 regions, at most 2 each; 3 sectors: the most even spread is 2 per sector
    assert "the largest sector group 2" in page.text
    assert 'id="coverage-table"' in page.text and 'id="balance-table"' in page.text
    table = client.get("/match/group.csv", params=params)
    assert table.status_code == 200
    rows = list(csv.DictReader(io.StringIO(table.text.lstrip("\ufeff"))))
    assert sorted(r["expert_id"] for r in rows) == sorted(chosen)
    assert "@example.org" not in table.text


def test_an_impossible_group_is_explained(
    client: TestClient, thirty: Engine, log_in: LogIn
) -> None:
    log_in(client, "vera")
    page = client.get("/match/group", params={"size": "4", "topic": TOPICS,
                                               "region_min_oceania": "1"})  # fmt: skip
    assert page.status_code == 200 and 'id="infeasible"' in page.text
    assert "region_min: oceania needs 1, 0 available" in page.text
    assert members(page.text) == []
    # Each expert holds 2 of the 4 topics: 3 experts hold 6, fewer than the 8 that covering
    # each topic twice needs, though every topic has holders enough in the register.
    solved = client.get("/match/group", params={"size": "3", "topic": TOPICS, "cover": "2"})
    assert 'id="infeasible"' in solved.text
    assert "topics: without it a group exists" in solved.text
    assert client.get("/match/group.csv", params={"size": "3", "topic": TOPICS, "cover": "2"}
                      ).status_code == 422  # fmt: skip


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"size": "0"}, "size = 0 is invalid: expected a whole number of experts, at least 1"),
        ({"size": "three"}, "size = &#39;three&#39; is invalid: expected a whole number"),
        ({"size": ""}, "size = &#39;&#39; is invalid"),
        ({"size": "3", "topic": "astrology"}, "topic = [&#39;astrology&#39;] is invalid"),
        ({"size": "3", "cover": "0"}, "cover = 0 is invalid"),
        ({"size": "3", "region_min_celac": "-1"}, "region_min.celac = -1 is invalid"),
        ({"size": "3", "include": "nobody"}, "include = [&#39;nobody&#39;] is invalid"),
    ],
)
def test_bad_group_requests_are_named(
    client: TestClient, thirty: Engine, log_in: LogIn, params: dict, message: str
) -> None:
    log_in(client, "vera")
    page = client.get("/match/group", params=params)
    assert page.status_code == 422 and message in page.text
    assert members(page.text) == []


# ---------------------------------------------------------------- in Chromium


@pytest.mark.browser
def test_the_pages_and_the_region_report_in_a_browser(tab: Tab, live_server: LiveServer) -> None:
    from permedhub.atlas.report import region_report
    from permedhub.atlas.seed import seed

    register(live_server.engine, [listing(n) for n in range(30)], actor="test")
    page = tab.page
    tab.go("/login?next=/match/experts/register")
    page.fill("#name", "vera")
    page.fill("#password", "viewer-password-1")
    page.click("button[type=submit]:has-text('Log in')")
    page.wait_for_url("**/match/experts/register")
    page.fill("#x-name", "Vera Viewer")
    page.select_option("#x-country", "PT")
    page.select_option("#x-sector", "academia")
    page.select_option("#x-topics", ["v2030-health-data", "erp-ra2-data-ict"])
    tab.shot("expert-register-form")
    page.check("#x-consent")
    page.click("#expert-form button[type=submit]")
    page.wait_for_selector("#done")
    assert page.locator("#expert-table tbody tr").count() == 31
    tab.shot("expert-register")

    tab.go("/match/group")
    page.fill("#g-size", "6")
    page.select_option("#g-topic", TOPICS)
    page.fill("#g-cover", "2")
    page.fill("#g-r-africa", "1")
    page.fill("#g-s-industry", "2")
    page.click("#group-form button[type=submit]")
    page.wait_for_selector("#member-table")
    assert page.locator("#member-table tbody tr").count() == 6
    assert "Every wanted topic is covered" in page.inner_text("#group-why")
    tab.shot("working-group")

    seed(live_server.engine)
    # The report is a file of its own: opened on a blank page, without the portal's CSP; any
    # request it made would be refused by the tab's guard and fail the test.
    page.goto("about:blank")
    page.set_content(region_report(live_server.engine, "eu27").html)
    page.wait_for_selector(".js-plotly-plot")
    assert page.locator("figure.map path[data-code]").count() >= 5
    tab.shot("region-report")
    page.locator("figure.map").screenshot(path=str(ARTIFACTS / "region-report-map.png"))
    page.emulate_media(media="print")
    tab.shot("region-report-print")
