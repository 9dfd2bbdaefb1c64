"""Staff sign-in and the staff routes, tested from the outside as an attacker would: every
staff route refused to the anonymous and to the wrong role, CSRF, session fixation, open
redirects, the sign-in limits, disabled accounts, passwords kept out of logs, no-store."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from urllib.parse import quote, urljoin, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from lantai.accounts.roles import Role
from lantai.accounts.store import ACCOUNT_FREE
from lantai.catalog.model import OpenStatus
from lantai.config import Settings
from lantai.search.backends.embedded import EmbeddedBackend
from lantai.search_app import create_app
from tests.conftest import FakeClock, record

PASSWORD = "长城 correct horse 1937"
HIDDEN = "X001-WS·1985-Y-0099"
#: Every staff route: (method, path). Pages answer anonymous visitors with a redirect to
#: sign-in, the API with 401.
PAGES = [("GET", "/staff/"), ("GET", "/staff/users"), ("GET", "/staff/audit"),
         ("POST", "/staff/users/wang/disable"), ("POST", "/staff/users/wang/role"),
         ("POST", "/staff/users/wang/unlock")]
API = [("GET", "/api/v1/staff/me"), ("POST", "/api/v1/staff/users/wang/unlock")]
ADMIN_ONLY = [("GET", "/staff/users"), ("GET", "/staff/audit"),
              ("POST", "/staff/users/zhao/disable"), ("POST", "/api/v1/staff/users/zhao/unlock")]


pytestmark = pytest.mark.usefixtures("cheap_passwords")


@pytest.fixture
def app(make_settings: Callable[..., Settings], clock: FakeClock) -> Flask:
    settings = make_settings()
    backend = EmbeddedBackend(settings)
    backend.upsert([
        record("J001-WS·1939-Y-0001", "東北抗日聯軍楊靖宇部作戰報告", "楊靖宇 作戰", fonds="J001",
               year=1939),
        record(HIDDEN, "杨靖宇纪念馆扩建绝密方案", "机密内容：杨靖宇纪念馆扩建。", fonds="X099",
               year=1985, open_status=OpenStatus.CONTROLLED),
    ])
    app = create_app(settings, backend)
    accounts = app.extensions["lantai"].accounts
    accounts.clock = clock
    for name, role in (("li", Role.ADMIN), ("wang", Role.REVIEWER), ("zhao", Role.CURATOR)):
        accounts.add_user(name, role, PASSWORD)
    return app


def csrf(client: FlaskClient) -> str:
    page = client.get("/staff/login").get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


def sign_in(client: FlaskClient, name: str, password: str = PASSWORD, **form: str) -> object:
    return client.post("/staff/login", data={"username": name, "password": password,
                                             "csrf_token": csrf(client), **form})


def session_cookie(client: FlaskClient) -> str | None:
    cookie = client.get_cookie("lantai_staff")
    return cookie.value if cookie else None


def call(client: FlaskClient, method: str, path: str, token: str | None = None) -> object:
    if method == "GET":
        return client.get(path)
    if path.startswith("/api/"):
        headers = {"X-CSRFToken": token} if token else {}
        return client.post(path, json={"role": "curator"}, headers=headers)
    return client.post(path, data={"csrf_token": token, "role": "curator"} if token else {})


# -- refused ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("method", "path"), PAGES + API)
def test_anonymous_requests_to_staff_routes_are_refused(app: Flask, method: str,
                                                        path: str) -> None:
    client = app.test_client()
    token = csrf(client)  # a valid form token is not a sign-in
    response = call(client, method, path, token)
    if path.startswith("/api/"):
        assert response.status_code == 401  # type: ignore[attr-defined]
        assert response.get_json()["error"]  # type: ignore[attr-defined]
    else:
        assert response.status_code == 302  # type: ignore[attr-defined]
        location = response.headers["Location"]  # type: ignore[attr-defined]
        assert location.startswith("/staff/login?next=")
    assert app.extensions["lantai"].accounts.user("wang").role is Role.REVIEWER


@pytest.mark.parametrize(("method", "path"), ADMIN_ONLY)
@pytest.mark.parametrize("role_user", ["wang", "zhao"])
def test_the_wrong_role_is_refused(app: Flask, method: str, path: str, role_user: str) -> None:
    client = app.test_client()
    assert sign_in(client, role_user).status_code == 303  # type: ignore[attr-defined]
    response = call(client, method, path, csrf(client))
    assert response.status_code == 403  # type: ignore[attr-defined]
    assert not app.extensions["lantai"].accounts.user("zhao").disabled


def test_posts_without_a_csrf_token_are_refused(app: Flask) -> None:
    client = app.test_client()
    # even the sign-in form
    response = client.post("/staff/login", data={"username": "li", "password": PASSWORD})
    assert response.status_code == 400 and session_cookie(client) is None
    sign_in(client, "li")
    accounts = app.extensions["lantai"].accounts
    for method, path in (("POST", "/staff/users/wang/disable"),
                         ("POST", "/api/v1/staff/users/wang/disable")):
        refused = call(client, method, path, None)
        assert refused.status_code == 400  # type: ignore[attr-defined]
        forged = call(client, method, path, "forged-token")
        assert forged.status_code == 400  # type: ignore[attr-defined]
        assert not accounts.user("wang").disabled
    assert client.post("/staff/logout").status_code == 400  # sign-out is a POST with a token
    token = client.get("/api/v1/staff/me").get_json()["csrf_token"]
    assert call(client, "POST", "/api/v1/staff/users/wang/disable", token).status_code == 200
    assert accounts.user("wang").disabled
    assert call(client, "POST", "/staff/users/wang/enable", csrf(client)).status_code == 303
    assert not accounts.user("wang").disabled


# -- sign-in ---------------------------------------------------------------------------------
def test_the_session_id_changes_at_sign_in_and_sign_out(app: Flask) -> None:
    client = app.test_client()
    client.set_cookie("lantai_staff", "chosen-by-the-attacker")
    before_csrf = csrf(client)
    assert sign_in(client, "wang").status_code == 303  # type: ignore[attr-defined]
    first = session_cookie(client)
    assert first and first != "chosen-by-the-attacker"
    assert csrf(client) != before_csrf  # the form token rotates too
    # signing in again (as someone else) ends the session the browser brought
    sign_in(client, "li")
    second = session_cookie(client)
    assert second and second != first
    other = app.test_client()
    other.set_cookie("lantai_staff", first)
    assert other.get("/staff/").status_code == 302  # the old session no longer works
    assert client.get("/staff/").status_code == 200
    out = client.post("/staff/logout", data={"csrf_token": csrf(client)})
    assert out.status_code == 303 and session_cookie(client) is None
    replay = app.test_client()
    replay.set_cookie("lantai_staff", second)
    assert replay.get("/staff/").status_code == 302  # ended on the server, not only forgotten


@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example/x", "/\\evil.example", "\\\\evil.example",
    "javascript:alert(1)", "http:/evil.example", "evil.example/staff/"])
def test_next_never_leaves_the_site(app: Flask, target: str) -> None:
    client = app.test_client()
    response = sign_in(client, "wang", next=target)
    assert response.status_code == 303  # type: ignore[attr-defined]
    assert response.headers["Location"] == "/staff/"  # type: ignore[attr-defined]


def test_a_path_with_encoded_line_breaks_stays_a_path(app: Flask) -> None:
    response = sign_in(app.test_client(), "wang", next="/%0d%0aLocation: https://evil.example")
    location = response.headers["Location"]  # type: ignore[attr-defined]
    resolved = urlsplit(urljoin("https://archive.example/staff/login", location))
    assert (resolved.scheme, resolved.netloc) == ("https", "archive.example"), location
    assert "\r" not in location and "\n" not in location


def test_next_brings_staff_back_where_they_were(app: Flask) -> None:
    client = app.test_client()
    bounced = client.get("/staff/audit")
    assert bounced.status_code == 302
    login_url = bounced.headers["Location"]
    assert login_url == "/staff/login?next=" + quote("/staff/audit", safe="/")
    page = client.get(login_url).get_data(as_text=True)
    assert 'name="next" value="/staff/audit"' in page
    response = sign_in(client, "li", next="/staff/audit")
    assert response.headers["Location"] == "/staff/audit"  # type: ignore[attr-defined]


def test_the_rate_limit_trips_and_releases(app: Flask, clock: FakeClock) -> None:
    client = app.test_client()
    for _ in range(ACCOUNT_FREE):
        assert sign_in(client, "wang", "wrong password!").status_code == 401  # type: ignore
    tripped = sign_in(client, "wang")  # the right password, too early
    assert tripped.status_code == 429  # type: ignore[attr-defined]
    assert tripped.headers["Retry-After"] == "1"  # type: ignore[attr-defined]
    assert session_cookie(client) is None
    clock.now += 1
    assert sign_in(client, "wang").status_code == 303  # type: ignore[attr-defined]
    log = app.extensions["lantai"].accounts.audit_log(10)
    assert [e.action for e in log[:2]] == ["login.success", "login.throttled"]


def test_a_locked_account_needs_an_administrator(app: Flask, clock: FakeClock) -> None:
    accounts = app.extensions["lantai"].accounts
    attacker = app.test_client()
    failures = 0
    while not accounts.user("zhao").locked:
        clock.now += 600
        assert sign_in(attacker, "zhao", "guess number one").status_code in (401, 403)
        failures += 1
        assert failures <= 10
    refused = sign_in(app.test_client(), "zhao")
    assert refused.status_code == 403  # type: ignore[attr-defined]
    assert "锁定" in refused.get_data(as_text=True)  # type: ignore[attr-defined]
    admin = app.test_client()
    sign_in(admin, "li")
    users = admin.get("/staff/users").get_data(as_text=True)
    assert "已锁定" in users
    assert call(admin, "POST", "/staff/users/zhao/unlock", csrf(admin)).status_code == 303
    assert sign_in(app.test_client(), "zhao").status_code == 303  # type: ignore[attr-defined]


def test_disabled_users_cannot_sign_in(app: Flask) -> None:
    app.extensions["lantai"].accounts.set_disabled("wang", True)
    client = app.test_client()
    response = sign_in(client, "wang")
    assert response.status_code == 401 and session_cookie(client) is None  # type: ignore
    assert "已停用" in response.get_data(as_text=True)  # type: ignore[attr-defined]


def test_passwords_never_reach_logs_or_the_audit(app: Flask, caplog: pytest.LogCaptureFixture
                                                 ) -> None:
    caplog.set_level(logging.DEBUG)
    client = app.test_client()
    sign_in(client, "wang", "my-wrong-secret-99")
    sign_in(client, PASSWORD, PASSWORD)  # typed into the name field
    sign_in(client, "wang")
    admin = app.test_client()
    sign_in(admin, "li")
    audit = admin.get("/staff/audit").get_data(as_text=True)
    assert "login.failure" in audit and "login.success" in audit
    for text in (caplog.text, audit):
        assert PASSWORD not in text and "my-wrong-secret-99" not in text


def test_cookies_are_httponly_lax_and_secure_over_https(app: Flask) -> None:
    client = app.test_client()
    response = sign_in(client, "wang")
    cookie = response.headers["Set-Cookie"]  # type: ignore[attr-defined]
    assert "lantai_staff=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http on loopback
    secure = app.test_client()
    page = secure.get("/staff/login", base_url="https://archive.example").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore
    over_https = secure.post("/staff/login", base_url="https://archive.example",
                             headers={"Referer": "https://archive.example/staff/login"},
                             data={"username": "wang", "password": PASSWORD, "csrf_token": token})
    assert over_https.status_code == 303
    assert "Secure" in over_https.headers["Set-Cookie"]


def test_sessions_time_out_when_idle(app: Flask, clock: FakeClock) -> None:
    client = app.test_client()
    sign_in(client, "wang")
    assert client.get("/staff/").status_code == 200
    clock.now += 31 * 60
    assert client.get("/staff/").status_code == 302


# -- what staff see --------------------------------------------------------------------------
def test_staff_see_unopened_records_marked_and_the_public_never_does(app: Flask) -> None:
    public = app.test_client()
    assert public.get("/records/" + quote(HIDDEN)).status_code == 404
    assert "纪念馆" not in public.get("/search?q=杨靖宇").get_data(as_text=True)
    staff = app.test_client()
    sign_in(staff, "wang")
    page = staff.get("/records/" + quote(HIDDEN))
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "本档案未开放（控制）" in body
    assert page.headers["Cache-Control"] == "no-store"
    results = staff.get("/search?q=杨靖宇")
    text = results.get_data(as_text=True)
    assert "纪念馆" in text and '<span class="status-badge">控制</span>' in text
    assert results.headers["Cache-Control"] == "no-store"
    assert "开放标识" in text  # the status facet, for staff only
    # the public API stays public, whoever asks
    assert staff.get("/api/v1/search?q=纪念馆").get_json()["total"] == 0
    staff.post("/staff/logout", data={"csrf_token": csrf(staff)})
    assert staff.get("/records/" + quote(HIDDEN)).status_code == 404
    # and a URL cannot ask for the staff view
    assert public.get("/search?q=杨靖宇&status=控制").status_code == 400
    anonymous = public.get("/search?q=杨靖宇")
    assert "no-store" not in anonymous.headers.get("Cache-Control", "")


def test_admins_change_roles_and_cannot_lock_themselves_out(app: Flask) -> None:
    admin = app.test_client()
    sign_in(admin, "li")
    accounts = app.extensions["lantai"].accounts
    assert admin.post("/staff/users/wang/role", data={"csrf_token": csrf(admin),
                                                      "role": "curator"}).status_code == 303
    assert accounts.user("wang").role is Role.CURATOR
    assert admin.post("/staff/users/wang/role", data={"csrf_token": csrf(admin),
                                                      "role": "boss"}).status_code == 400
    assert admin.post("/staff/users/li/disable",
                      data={"csrf_token": csrf(admin)}).status_code == 403
    assert admin.post("/staff/users/nobody/disable",
                      data={"csrf_token": csrf(admin)}).status_code == 404
    entries = [(e.actor, e.action, e.target) for e in accounts.audit_log(5)]
    assert ("li", "user.role", "wang") in entries
