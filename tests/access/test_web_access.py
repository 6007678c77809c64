"""Access in the web app: security headers, CSRF, sign-in and out, lock-out, refusals, tokens, /audit."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from access_helpers import sent_to_sign_in
from fastapi import APIRouter, Depends
from fastapi.testclient import TestClient

from uec.access import User
from uec.access.accounts import add_user, set_disabled
from uec.access.tokens import create_token
from uec.access.web import current_user, require, route_permissions
from uec.config import get_settings
from uec.store import Store
from uec.web import create_app

PASSWORD = "correct horse battery"

# A state-changing endpoint acting for one organisation, as the escalation pages will be.
probe = APIRouter()


_may_declare = Depends(require("declare_escalation", org_param="org_code"))


@probe.post("/test/orgs/{org_code}/escalation")
def declare(org_code: str, user: User = _may_declare) -> dict[str, str]:
    return {"org_code": org_code, "by": user.username}


@pytest.fixture
def users(duck_store: Store) -> Store:
    for name, org, role in [("viv", "QXX", "viewer"), ("cat", "QXX", "coordinator"), ("adam", "QXX", "admin"),
                            ("sam", "RAA", "site_manager")]:
        add_user(duck_store, name, display_name=name.title(), org_code=org, roles=[role], password=PASSWORD)
    return duck_store


@pytest.fixture
def client(users: Store, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("UEC_LOCKOUT_FAILURES", "3")
    get_settings.cache_clear()
    app = create_app(users.url)
    app.include_router(probe)
    with TestClient(app, base_url="http://127.0.0.1") as c:
        yield c


def csrf_token(client: TestClient, path: str = "/sign-in") -> str:
    m = re.search(r'name="csrftoken" value="([^"]+)"', client.get(path).text)
    assert m, "no CSRF field on the form"
    return m.group(1)


def sign_in(client: TestClient, username: str, password: str = PASSWORD, next_path: str = "/") -> str:
    r = client.post("/sign-in", data={"username": username, "password": password, "next": next_path,
                                      "csrftoken": csrf_token(client)}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return str(r.headers["location"])


def test_security_headers_and_the_nonce_on_every_inline_script(client: TestClient) -> None:
    sign_in(client, "viv")  # the overview needs a signed-in reader
    r = client.get("/", headers={"X-Request-ID": "trace-0123456789"})
    assert r.status_code == 200
    csp = r.headers["content-security-policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)  # type: ignore[union-attr]
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp and "'unsafe-inline'" not in csp.split(
        "style-src-attr")[0]
    scripts = re.findall(r"<script([^>]*)>", r.text)
    assert len(scripts) >= 2 and all(f'nonce="{nonce}"' in s for s in scripts)
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-request-id"] == "trace-0123456789"
    # A new nonce for every request.
    again = client.get("/").headers["content-security-policy"]
    assert again != csp
    # Headers are on error answers too.
    assert client.get("/no/such/page").headers["x-frame-options"] == "DENY"


def test_sign_in_sets_a_signed_http_only_lax_cookie_and_goes_back(client: TestClient) -> None:
    token = csrf_token(client)
    r = client.post("/sign-in", data={"username": "viv", "password": PASSWORD, "next": "/standards",
                                      "csrftoken": token}, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/standards")
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("uec_session="))
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    assert "Sign out" in client.get("/sign-out").text
    # A tampered cookie is nobody.
    value = client.cookies["uec_session"]
    client.cookies.set("uec_session", value[:-3] + "AAA")
    assert "You are not signed in" in client.get("/sign-out").text


def test_forms_without_the_csrf_token_are_refused(client: TestClient) -> None:
    client.get("/sign-in")
    r = client.post("/sign-in", data={"username": "viv", "password": PASSWORD})
    assert r.status_code == 403
    assert "did not come from this service" in r.text and "You do not have access" in r.text
    assert r.headers["x-frame-options"] == "DENY"
    # Even with no cookie at all: the sign-in form is always protected.
    client.cookies.clear()
    assert client.post("/sign-in", data={"username": "viv", "password": PASSWORD}).status_code == 403
    # Sign-out is a form too.
    sign_in(client, "viv")
    assert client.post("/sign-out", data={}).status_code == 403


def test_wrong_password_lock_out_and_open_redirects(client: TestClient) -> None:
    for _ in range(2):
        r = client.post("/sign-in", data={"username": "viv", "password": "wrong", "csrftoken": csrf_token(client)})
        assert r.status_code == 401 and "The username or password is not right." in r.text
    r = client.post("/sign-in", data={"username": "viv", "password": "wrong", "csrftoken": csrf_token(client)})
    assert "locked for 15 minutes after 3 failed sign-ins" in r.text
    r = client.post("/sign-in", data={"username": "viv", "password": PASSWORD, "csrftoken": csrf_token(client)})
    assert r.status_code == 401 and "locked" in r.text
    # Another user signs in, and is sent only to a path on this site.
    assert sign_in(client, "cat", next_path="//evil.example/") == "/"
    assert sign_in(client, "cat", next_path="https://evil.example/") == "/"


def test_audit_pages_refuse_clearly_and_serve_those_allowed(client: TestClient) -> None:
    assert sent_to_sign_in(client.get("/audit", follow_redirects=False), "/audit")
    # A download followed in a browser is not redirected (it is data) but says why, with a way to sign in.
    r = client.get("/audit.csv", headers={"Accept": "text/html"})
    assert r.status_code == 401
    assert "You need to sign in" in r.text and "Read the audit trail" in r.text and "/sign-in?next=/audit.csv" in r.text
    assert client.get("/audit.json").status_code == 401
    sign_in(client, "viv")
    r = client.get("/audit")
    assert r.status_code == 403
    assert "You do not have access to this" in r.text
    assert "it needs the role coordinator or admin; you (viv) hold: viewer." in r.text
    assert client.get("/audit.csv").status_code == 403
    sign_in(client, "cat")
    r = client.get("/audit")
    assert r.status_code == 200 and "user.add" in r.text and "sign_in" in r.text
    data = client.get("/audit.json").json()
    assert data["verified"] is True and [e["action"] for e in data["entries"]][:4] == ["user.add"] * 4
    csv_text = client.get("/audit.csv?actor=cat").text
    assert csv_text.splitlines()[0].startswith("id,at,actor") and all(
        ",cat," in line for line in csv_text.splitlines()[1:])


def test_site_manager_acts_for_their_own_organisation_only(client: TestClient, users: Store) -> None:
    sign_in(client, "sam")
    token = csrf_token(client, "/sign-out")
    r = client.post("/test/orgs/RAA/escalation", data={"csrftoken": token})
    assert r.status_code == 200 and r.json() == {"org_code": "RAA", "by": "sam"}
    r = client.post("/test/orgs/RBB/escalation", data={"csrftoken": token}, headers={"Accept": "text/html"})
    assert r.status_code == 403
    assert "your role lets you act for your own organisation (RAA) only, and this is for RBB." in r.text
    sign_in(client, "cat")
    token = csrf_token(client, "/sign-out")
    assert client.post("/test/orgs/RBB/escalation", data={"csrftoken": token}).status_code == 200


def test_api_tokens_by_role(client: TestClient, users: Store) -> None:
    _, admin = create_token(users, "admin-script", role="admin", org_code="QXX")
    _, viewer = create_token(users, "bed-feed", role="viewer", org_code="RAA")
    _, manager = create_token(users, "raa-feed", role="site_manager", org_code="RAA")
    client.cookies.clear()
    r = client.get("/audit.json", headers={"Authorization": f"Bearer {admin}"})
    assert r.status_code == 200 and r.json()["verified"]
    r = client.get("/audit.json", headers={"Authorization": f"Bearer {viewer}"})
    assert r.status_code == 403 and "you (token:bed-feed) hold: viewer" in r.json()["detail"]
    r = client.get("/audit.json", headers={"Authorization": "Bearer uec_000000000000_nope-nope-nope-nope-nope"})
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    assert "unknown, expired or revoked" in r.json()["detail"]
    # Machines need no CSRF token: CSRF rides on a browser's cookies, which a bearer request has none of.
    r = client.post("/test/orgs/RAA/escalation", headers={"Authorization": f"Bearer {manager}"})
    assert r.status_code == 200 and r.json()["by"] == "token:raa-feed"
    assert client.post("/test/orgs/RBB/escalation", headers={"Authorization": f"Bearer {manager}"}).status_code == 403


def test_disabling_a_user_ends_their_session_and_sign_out_works(client: TestClient, users: Store) -> None:
    sign_in(client, "cat")
    assert client.get("/audit").status_code == 200
    set_disabled(users, "cat")
    assert sent_to_sign_in(client.get("/audit", follow_redirects=False), "/audit")
    sign_in(client, "adam")
    r = client.post("/sign-out", data={"csrftoken": csrf_token(client, "/sign-out")}, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/sign-in?signed_out=true")
    assert sent_to_sign_in(client.get("/audit", follow_redirects=False), "/audit")
    assert "You have signed out." in client.get("/sign-in?signed_out=true").text


def test_every_route_declares_what_it_requires(users: Store) -> None:
    app = create_app(users.url)
    perms = route_permissions(app)
    assert {k: v for k, v in perms.items() if "audit" in k} == {
        "GET /audit": ("view_audit",), "GET /audit.json": ("view_audit",), "GET /audit.csv": ("view_audit",),
    }
    assert perms["POST /sign-in"] == () and perms["GET /auth/oidc/callback"] == ()


def test_a_test_can_act_as_anyone_by_overriding_current_user(users: Store) -> None:
    app = create_app(users.url)
    app.dependency_overrides[current_user] = lambda: User("cat", "Cat", "QXX", frozenset({"coordinator"}))
    with TestClient(app) as c:
        assert c.get("/audit.json").status_code == 200
    app.dependency_overrides[current_user] = lambda: User("viv", "Viv", "QXX", frozenset({"viewer"}))
    with TestClient(app) as c:
        assert c.get("/audit.json").status_code == 403


def test_a_change_made_by_another_process_takes_effect_within_the_cache_time(
    users: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    monkeypatch.setenv("UEC_ACCESS_CACHE_SECONDS", "1")
    get_settings.cache_clear()
    with TestClient(create_app(users.url), base_url="http://127.0.0.1") as c:
        sign_in(c, "cat")
        assert c.get("/audit").status_code == 200
        # As `uec users disable` in another process would: straight to the store, no cache cleared here.
        with users.write() as w:
            w.execute("UPDATE users SET disabled = true WHERE username = 'cat'")
        assert c.get("/audit").status_code == 200  # remembered for up to a second
        time.sleep(1.1)
        assert sent_to_sign_in(c.get("/audit", follow_redirects=False), "/audit")


def test_the_header_says_who_is_signed_in(client: TestClient) -> None:
    def account(path: str) -> str:
        html = re.sub(r"<svg.*?</svg>", "", client.get(path).text, flags=re.S)
        nav = re.search(r'<nav class="nhsuk-header__account".*?</nav>', html, flags=re.S)
        assert nav, path
        return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", nav.group(0))).strip()

    assert account("/") == "Sign in"
    sign_in(client, "sam")
    assert account("/") == "sam Sign out"
    assert account("/standards") == "sam Sign out"
