"""The curator area: roles on every write route, CSRF, rate-limited login, edits, uploads, undo."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from permedhub.db import make_engine
from permedhub.graph import queries
from permedhub.graph.models import AuditEntry, Organisation
from permedhub.web.app import create_app
from permedhub.web.pages.curator import MAX_UPLOAD_BYTES

CsrfOf = Callable[..., str]
LogIn = Callable[[TestClient, str], str]
ORG = "isciii"
# (method, path, form, the role it needs)
WRITE_ROUTES = [
    ("post", f"/curate/organisations/{ORG}", {"name": "Changed"}, "curator"),
    ("post", "/curate/organisations/new", {"id": "changed", "name": "Changed"}, "curator"),
    ("post", "/curate/initiatives/erapermed", {"name": "Changed", "kind": "csa"}, "curator"),
    (
        "post",
        "/curate/initiatives/new",
        {"id": "changed", "name": "Changed", "kind": "csa"},
        "curator",
    ),
    ("post", "/curate/participations/erapermed:anr:funder", {"role": "partner"}, "curator"),
    (
        "post",
        "/curate/participations/new",
        {"organisation": "anr", "initiative": "permit", "role": "partner"},
        "curator",
    ),
    ("post", "/curate/upload", {}, "curator"),
    ("post", "/curate/upload/commit", {}, "curator"),
    ("post", "/curate/audit/1/undo", {}, "curator"),
    ("post", "/curate/users", {"name": "x", "password": "y" * 12, "role": "admin"}, "admin"),
]
READ_ROUTES = [
    ("/curate", "viewer"),
    ("/curate/audit.csv", "viewer"),
    ("/curate/audit", "viewer"),
    (f"/curate/organisations/{ORG}", "curator"),
    ("/curate/initiatives/erapermed", "curator"),
    ("/curate/participations/new", "curator"),
    ("/curate/upload", "curator"),
    ("/curate/users", "admin"),
]
RANK = {"viewer": 0, "curator": 1, "admin": 2}


def _audit_count(engine: Engine) -> int:
    with Session(engine) as session:
        return session.execute(select(func.count(AuditEntry.id))).scalar_one()


def _org_name(engine: Engine, org_id: str = ORG) -> str:
    with Session(engine) as session:
        return queries.get_organisation(session, org_id).name


@pytest.mark.parametrize(("method", "path", "form", "role"), WRITE_ROUTES)
def test_anonymous_writes_are_refused_and_change_nothing(
    client: TestClient,
    web_engine: Engine,
    csrf_of: CsrfOf,
    method: str,
    path: str,
    form: dict[str, str],
    role: str,
) -> None:
    before = _audit_count(web_engine)
    token = csrf_of(client)  # a valid token: the refusal must come from the missing login
    response = client.request(method, path, data={**form, "csrf_token": token})
    assert response.status_code == 401
    assert _audit_count(web_engine) == before and _org_name(web_engine) != "Changed"


@pytest.fixture(scope="module")
def below_role_clients(
    portal_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Engine, dict[str, tuple[TestClient, str]]]]:
    """A viewer and a curator, logged in once for the module (their writes are all refused)."""
    folder = tmp_path_factory.mktemp("roles")
    shutil.copyfile(portal_template, folder / "portal.sqlite")
    engine = make_engine(f"sqlite:///{folder / 'portal.sqlite'}")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PERMEDHUB_SECRET_KEY", "test-secret-key")
        patch.setenv("PERMEDHUB_DATA_DIR", str(folder / "data"))
        app = create_app(engine, prepare_database=False)
    clients: dict[str, tuple[TestClient, str]] = {}
    for role, name in (("viewer", "vera"), ("curator", "carol")):
        client = TestClient(app, base_url="https://testserver")
        login_page = client.get("/login").text
        token = login_page.split('name="csrf_token" value="')[1].split('"')[0]
        password = {"vera": "viewer-password-1", "carol": "curator-password-1"}[name]
        client.post("/login", data={"name": name, "password": password, "csrf_token": token})
        curate = client.get("/curate").text
        clients[role] = (client, curate.split('name="csrf_token" value="')[1].split('"')[0])
    yield engine, clients
    engine.dispose()


@pytest.mark.parametrize(("method", "path", "form", "role"), WRITE_ROUTES)
def test_write_routes_refuse_a_role_below_the_one_they_need(
    below_role_clients: tuple[Engine, dict[str, tuple[TestClient, str]]],
    method: str,
    path: str,
    form: dict[str, str],
    role: str,
) -> None:
    engine, clients = below_role_clients
    client, token = clients["viewer" if role == "curator" else "curator"]
    before = _audit_count(engine)
    response = client.request(method, path, data={**form, "csrf_token": token})
    assert response.status_code == 403
    assert _audit_count(engine) == before


def test_read_routes_need_their_role(client: TestClient, log_in: LogIn) -> None:
    for path, _role in READ_ROUTES:
        assert client.get(path).status_code == 401, path
    log_in(client, "vera")
    for path, role in READ_ROUTES:
        expected = 200 if RANK[role] <= RANK["viewer"] else 403
        assert client.get(path).status_code == expected, path


def test_a_post_without_the_session_csrf_token_is_refused(
    client: TestClient, web_engine: Engine, log_in: LogIn
) -> None:
    log_in(client, "carol")
    for token in (None, "forged-token"):
        data = {"name": "Changed"} | ({"csrf_token": token} if token else {})
        response = client.post(f"/curate/organisations/{ORG}", data=data)
        assert response.status_code == 403 and "security token" in response.text
    assert _org_name(web_engine) == "Instituto de Salud Carlos III"


def test_login_without_csrf_token_is_refused(client: TestClient) -> None:
    response = client.post("/login", data={"name": "carol", "password": "curator-password-1"})
    assert response.status_code == 403


def test_a_page_without_a_form_sets_no_session_cookie(client: TestClient) -> None:
    for path in ("/", "/initiatives", "/organisations", "/tools/trials"):
        answer = client.get(path)
        assert answer.status_code == 200 and "set-cookie" not in answer.headers, path
    # a page with a form needs the CSRF token, and so the session
    assert "set-cookie" in client.get("/login").headers


def test_session_cookie_is_secure_httponly_and_samesite(client: TestClient) -> None:
    cookie = client.get("/login").headers["set-cookie"].lower()
    assert "httponly" in cookie and "secure" in cookie and "samesite=strict" in cookie


def test_login_is_rate_limited_after_five_failures(client: TestClient, csrf_of: CsrfOf) -> None:
    token = csrf_of(client)
    for _ in range(5):
        wrong = client.post(
            "/login", data={"name": "carol", "password": "nope", "csrf_token": token}
        )
        assert wrong.status_code == 401
    # The sixth attempt is refused even with the right password, without checking it.
    blocked = client.post(
        "/login", data={"name": "carol", "password": "curator-password-1", "csrf_token": token}
    )
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0


def test_failed_logins_survive_a_restart(
    client: TestClient,
    web_engine: Engine,
    csrf_of: CsrfOf,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    from permedhub.web.app import create_app

    token = csrf_of(client)
    for _ in range(5):
        client.post("/login", data={"name": "carol", "password": "nope", "csrf_token": token})
    # a new app (as after a restart, or another worker) on the same database
    monkeypatch.setenv("PERMEDHUB_SECRET_KEY", "test-secret-key")
    monkeypatch.setenv("PERMEDHUB_DATA_DIR", str(tmp_path / "restarted"))
    restarted_app = create_app(web_engine, prepare_database=False)
    with TestClient(restarted_app, base_url="https://testserver") as restarted:
        fresh = csrf_of(restarted)
        again = restarted.post(
            "/login", data={"name": "carol", "password": "curator-password-1", "csrf_token": fresh}
        )
    assert again.status_code == 429


def test_login_limits_count_per_address_per_account_and_per_pair(web_engine: Engine) -> None:
    from permedhub.web.auth import LoginRateLimiter

    now = [1_000_000.0]
    limiter = LoginRateLimiter(web_engine, window_s=300, clock=lambda: now[0])
    for i in range(19):  # many names from one address: the address rule (20) is not yet met
        limiter.failed(f"name-{i}", "198.51.100.7")
    assert limiter.retry_after("someone-else", "198.51.100.7") == 0
    limiter.failed("name-19", "198.51.100.7")
    assert limiter.retry_after("someone-else", "198.51.100.7") > 0
    assert limiter.retry_after("someone-else", "198.51.100.8") == 0  # other addresses are free
    for _ in range(5):  # one account from one address: the pair rule (5)
        limiter.failed("Carol ", "203.0.113.1")
    assert limiter.retry_after("carol", "203.0.113.1") > 0
    assert limiter.retry_after("carol", "203.0.113.2") == 0  # a stranger cannot lock carol out
    for i in range(45):  # ... until one account is tried from 50 addresses
        limiter.failed("carol", f"192.0.2.{i}")
    assert limiter.retry_after("carol", "203.0.113.99") > 0
    now[0] += 301  # the window slides past every failure
    assert limiter.retry_after("carol", "203.0.113.99") == 0
    assert limiter.retry_after("someone-else", "198.51.100.7") == 0


def test_curator_edits_an_organisation_and_undoes_it(
    client: TestClient, web_engine: Engine, log_in: LogIn
) -> None:
    token = log_in(client, "carol")
    form = client.get(f"/curate/organisations/{ORG}").text
    assert 'value="Instituto de Salud Carlos III"' in form
    response = client.post(
        f"/curate/organisations/{ORG}",
        data={
            "csrf_token": token,
            "name": "ISCIII renamed",
            "country": "ES",
            "kind": "funder",
            "city": "Madrid",
            "expertise": "genomics; cohorts",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    page = client.get(f"/organisations/{ORG}").text
    assert "ISCIII renamed" in page and "genomics; cohorts" in page
    audit = client.get("/curate/audit").text
    assert "ISCIII renamed" in audit and "carol" in audit
    audit_csv = client.get("/curate/audit.csv")
    assert audit_csv.headers["content-type"].startswith("text/csv")
    assert "ISCIII renamed" in audit_csv.text
    with Session(web_engine) as session:
        entry_id = session.execute(select(func.max(AuditEntry.id))).scalar_one()
    undone = client.post(f"/curate/audit/{entry_id}/undo", data={"csrf_token": token})
    assert undone.status_code == 200 and f"Change {entry_id} was undone" in undone.text
    assert _org_name(web_engine) == "Instituto de Salud Carlos III"
    # The search index followed the edit and its undo.
    assert "ISCIII renamed" not in client.get("/search", params={"q": "renamed"}).text
    again = client.post(f"/curate/audit/{entry_id}/undo", data={"csrf_token": token})
    assert again.status_code == 409


def test_invalid_edit_shows_errors_per_field_and_saves_nothing(
    client: TestClient, web_engine: Engine, log_in: LogIn
) -> None:
    token = log_in(client, "carol")
    before = _audit_count(web_engine)
    response = client.post(
        f"/curate/organisations/{ORG}",
        data={"csrf_token": token, "name": "", "country": "XX", "latitude": "123"},
    )
    assert response.status_code == 422
    text = response.text
    assert 'id="e-name"' in text and 'id="e-country"' in text and 'id="e-latitude"' in text
    assert "unknown country code" in text and "less than or equal to 90" in text
    assert 'value="XX"' in text  # the curator's input is kept for correction
    assert _audit_count(web_engine) == before


UPLOAD_YAML = b"""
organisations:
  - id: new-funder
    name: New Funder <b>bold</b>
    kind: funder
    country: PT
  - id: isciii
    name: Instituto de Salud Carlos III (updated)
    kind: research-institute
    country: ES
    city: Madrid
"""


def test_upload_preview_then_commit(
    client: TestClient, web_engine: Engine, log_in: LogIn, csrf_of: CsrfOf
) -> None:
    token = log_in(client, "carol")
    before = _audit_count(web_engine)
    preview = client.post(
        "/curate/upload",
        data={"csrf_token": token},
        files={"file": ("organisations.yaml", UPLOAD_YAML, "application/yaml")},
    )
    assert preview.status_code == 200, preview.text[:1000]
    assert "Import these changes" in preview.text and "new-funder" in preview.text
    assert "New Funder &lt;b&gt;bold&lt;/b&gt;" in preview.text
    assert _audit_count(web_engine) == before, "a preview must change nothing"
    with Session(web_engine) as session:
        assert session.get(Organisation, "new-funder") is None
    done = client.post("/curate/upload/commit", data={"csrf_token": csrf_of(client, "/curate")})
    assert done.status_code == 200 and "imported" in done.text.lower()
    assert _org_name(web_engine, "new-funder") == "New Funder <b>bold</b>"
    assert _audit_count(web_engine) == before + 2
    assert client.post("/curate/upload/commit", data={"csrf_token": token}).status_code == 409


def test_a_failed_upload_lists_errors_per_row_and_changes_nothing(
    client: TestClient, web_engine: Engine, log_in: LogIn
) -> None:
    token = log_in(client, "carol")
    before = _audit_count(web_engine)
    bad = b"id,name,country\nok-org,Fine,DE\nbad-org,Broken,XX\n"
    response = client.post(
        "/curate/upload",
        data={"csrf_token": token},
        files={"file": ("organisations.csv", bad, "text/csv")},
    )
    assert response.status_code == 422
    assert 'id="upload-issues"' in response.text and "XX" in response.text
    assert "<td>3</td>" in response.text  # the CSV line of the bad row
    assert _audit_count(web_engine) == before
    with Session(web_engine) as session:
        assert session.get(Organisation, "ok-org") is None


def test_uploads_have_type_and_size_limits(client: TestClient, log_in: LogIn) -> None:
    token = log_in(client, "carol")
    wrong_type = client.post(
        "/curate/upload",
        data={"csrf_token": token},
        files={"file": ("graph.exe", b"MZ...", "application/octet-stream")},
    )
    assert wrong_type.status_code == 415 and "expected .yaml" in wrong_type.text
    too_big = client.post(
        "/curate/upload",
        data={"csrf_token": token},
        files={"file": ("organisations.csv", b"x" * (MAX_UPLOAD_BYTES + 200_000), "text/csv")},
    )
    assert too_big.status_code == 413 and "at most 5 MB" in too_big.text
    empty = client.post(
        "/curate/upload",
        data={"csrf_token": token},
        files={"file": ("organisations.csv", b"  \n", "text/csv")},
    )
    assert empty.status_code == 422 and "empty" in empty.text


def test_admin_creates_a_user_and_curators_cannot(client: TestClient, log_in: LogIn) -> None:
    token = log_in(client, "ada")
    short = client.post(
        "/curate/users",
        data={"csrf_token": token, "name": "bob", "password": "short", "role": "curator"},
    )
    assert short.status_code == 422 and "at least 10 characters" in short.text
    made = client.post(
        "/curate/users",
        data={"csrf_token": token, "name": "bob", "password": "bob-password-1", "role": "curator"},
        follow_redirects=False,
    )
    assert made.status_code == 303
    assert "bob" in client.get("/curate/users").text


def test_logout_ends_the_session(client: TestClient, log_in: LogIn) -> None:
    token = log_in(client, "vera")
    assert client.get("/curate").status_code == 200
    assert (
        client.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code
        == 303
    )
    assert client.get("/curate").status_code == 401


def test_a_cookie_saved_before_logout_no_longer_opens_the_curator_area(
    client: TestClient, log_in: LogIn
) -> None:
    token = log_in(client, "vera")
    saved = dict(client.cookies)
    page = client.get("/curate")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    client.cookies.clear()
    client.cookies.update(saved)  # replay the session cookie from before the log-out
    assert client.get("/curate").status_code == 401
    log_in(client, "vera")  # a new login opens a new session
    assert client.get("/curate").status_code == 200
    assert "cache-control" not in {k.lower() for k in client.get("/").headers}


def test_curator_edits_an_initiative_with_list_and_date_fields(
    client: TestClient, web_engine: Engine, log_in: LogIn
) -> None:
    token = log_in(client, "carol")
    form = client.get("/curate/initiatives/erapermed").text
    assert 'name="aims"' in form and 'value="2017-12-01"' in form
    values = {
        "csrf_token": token,
        "name": "ERA-Net Cofund in Personalised Medicine",
        "kind": "era-net-cofund",
        "acronym": "ERA PerMed",
        "start": "2017-12",
        "end": "2023-11",
        "aims": "Fund research\nAlign programmes",
        "countries": "ES; FR",
        "target_regions": "europe",
    }
    response = client.post("/curate/initiatives/erapermed", data=values, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith(
        "/initiatives/erapermed"
    )
    with Session(web_engine) as session:
        detail = queries.get_initiative(session, "erapermed")
    assert detail.aims == ["Fund research", "Align programmes"]
    assert (detail.start, detail.start_precision) == ("2017-12-01", "month")
    bad_kind = client.post("/curate/initiatives/erapermed", data={**values, "kind": "club"})
    assert bad_kind.status_code == 422 and 'id="e-kind"' in bad_kind.text
    bad_dates = client.post("/curate/initiatives/erapermed", data={**values, "end": "2010"})
    assert bad_dates.status_code == 422 and "is before start" in bad_dates.text


def test_curator_adds_a_partner_from_an_initiative_page(
    client: TestClient, web_engine: Engine, log_in: LogIn
) -> None:
    token = log_in(client, "carol")
    page = client.get("/initiatives/permit").text
    assert 'href="/curate/participations/new?initiative=permit"' in page
    form = client.get("/curate/participations/new?initiative=permit").text
    assert 'value="permit"' in form
    missing = client.post(
        "/curate/participations/new",
        data={
            "csrf_token": token,
            "organisation": "nobody",
            "initiative": "permit",
            "role": "partner",
        },
    )
    assert missing.status_code == 422 and "existing organisation" in missing.text
    made = client.post(
        "/curate/participations/new",
        data={
            "csrf_token": token,
            "organisation": "anr",
            "initiative": "permit",
            "role": "observer",
        },
        follow_redirects=False,
    )
    assert made.status_code == 303 and made.headers["location"] == "/initiatives/permit?saved=1"
    assert "/organisations/anr" in client.get("/initiatives/permit").text


def test_curator_creates_an_organisation_and_its_id_must_be_free(
    client: TestClient, log_in: LogIn
) -> None:
    token = log_in(client, "carol")
    taken = client.post(
        "/curate/organisations/new",
        data={"csrf_token": token, "id": "anr", "name": "Another ANR"},
    )
    assert taken.status_code == 422 and "no other organisation" in taken.text
    made = client.post(
        "/curate/organisations/new",
        data={"csrf_token": token, "id": "new-agency", "name": "New Agency", "country": "PT"},
        follow_redirects=False,
    )
    assert made.status_code == 303
    assert "New Agency" in client.get("/organisations/new-agency").text
