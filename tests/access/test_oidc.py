"""Single sign-on end to end against a real OpenID provider (the npm package oidc-provider, run by node).

The app is served by uvicorn on loopback; an HTTP client follows every redirect between the app and
the provider like a browser: authorisation request with PKCE, the provider's own sign-in page,
the code returned to the app, the app's back-channel token exchange and ID token check, the
session cookie. Nothing of the protocol is mocked.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from access_helpers import oidc_provider, sent_to_sign_in

from live_server import free_port, serve
from uec.access import audit
from uec.access.accounts import get_user, set_roles
from uec.config import get_settings
from uec.store import Store
from uec.web import create_app

ALICE = {"password": "alice-password", "claims": {"name": "Alice Example", "email": "alice@example.org",
                                                   "org_code": "RAA"}}
NOORG = {"password": "bob-password", "claims": {"name": "Bob NoOrg"}}


@pytest.fixture
def sso(duck_store: Store, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    users = {"alice": ALICE, "bob": NOORG}
    with oidc_provider(f"{base}/auth/oidc/callback", users, f"{base}/sign-in?signed_out=true") as idp:
        monkeypatch.setenv("UEC_OIDC_ISSUER", idp["issuer"])
        monkeypatch.setenv("UEC_OIDC_CLIENT_ID", idp["client_id"])
        monkeypatch.setenv("UEC_OIDC_CLIENT_SECRET", idp["client_secret"])
        monkeypatch.setenv("UEC_OIDC_SCOPES", "openid profile email org")
        get_settings.cache_clear()
        with serve(create_app(duck_store.url), port) as base:
            yield {"base": base, "store": duck_store, **idp}


def provider_sign_in(client: httpx.Client, start: str, login: str, password: str) -> httpx.Response:
    """Follow the app to the provider's sign-in page, fill it in, and follow everything back."""
    page = client.get(start)
    assert page.status_code == 200 and "Test identity provider" in page.text, page.text[:500]
    action = re.search(r'action="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    return client.post(str(page.url.join(action)), data={"login": login, "password": password})


def test_sign_in_through_the_real_provider(sso: dict[str, Any]) -> None:
    base = sso["base"]
    hops: list[str] = []
    hooks = {"request": [lambda request: hops.append(str(request.url))]}
    with httpx.Client(follow_redirects=True, timeout=30, event_hooks=hooks) as client:
        # The sign-in page offers single sign-on.
        assert 'href="/auth/oidc/login?next=/"' in client.get(f"{base}/sign-in").text
        r = provider_sign_in(client, f"{base}/auth/oidc/login?next=/sign-out", "alice", "alice-password")
        assert r.status_code == 200 and str(r.url) == f"{base}/sign-out", (r.status_code, r.url, r.text[:300])
        assert "You are signed in as <strong>Alice Example</strong> (alice,\n        RAA)" in r.text
        # The redirect chain went through the provider and back with a code (no tokens in URLs).
        assert any(h.startswith(sso["issuer"] + "/auth?") and "code_challenge=" in h for h in hops)
        assert any(h.startswith(f"{base}/auth/oidc/callback?code=") for h in hops)
        # Added on first sign-in as a viewer of the organisation the provider named.
        rec = get_user(sso["store"], "alice")
        assert rec is not None and (rec.org_code, rec.roles, rec.has_password) == ("RAA", frozenset({"viewer"}), False)
        assert rec.oidc_subject == f"{sso['issuer']}#alice"
        assert client.get(f"{base}/audit").status_code == 403
        # Roles are granted here, and take effect on the next request.
        set_roles(sso["store"], "alice", ["coordinator"])
        assert client.get(f"{base}/audit").status_code == 200
    actions = [e.action for e in audit.entries(sso["store"], newest_first=False)]
    assert actions[-3:] == ["user.add", "sign_in", "user.roles"]


def test_no_secret_reaches_the_logs(sso: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with httpx.Client(follow_redirects=True, timeout=30) as client:
        r = provider_sign_in(client, f"{sso['base']}/auth/oidc/login", "alice", "alice-password")
        assert r.status_code == 200
        session = client.cookies.get("uec_session") or ""
    assert any(r.name.startswith(("authlib", "httpx")) for r in caplog.records), "nothing to check"
    # httpcore's DEBUG trace prints raw response headers of every HTTP client, this test's own
    # included (its Set-Cookie); it is a wire trace for debugging httpcore, never on in a deployment.
    records = [r for r in caplog.records if not r.name.startswith("httpcore")]
    for secret in (sso["client_secret"], "alice-password", session):
        assert secret, "nothing to look for"
        assert [r.name for r in records if secret in r.getMessage()] == []


def test_a_wrong_password_at_the_provider_does_not_sign_in(sso: dict[str, Any]) -> None:
    with httpx.Client(follow_redirects=True, timeout=30) as client:
        r = provider_sign_in(client, f"{sso['base']}/auth/oidc/login", "alice", "not her password")
        assert "Wrong username or password." in r.text and str(r.url).startswith(sso["issuer"])
        assert sent_to_sign_in(client.get(f"{sso['base']}/audit", follow_redirects=False), "/audit")


def test_a_person_without_an_organisation_claim_is_refused_clearly(sso: dict[str, Any]) -> None:
    with httpx.Client(follow_redirects=True, timeout=30) as client:
        r = provider_sign_in(client, f"{sso['base']}/auth/oidc/login", "bob", "bob-password")
        assert r.status_code == 403
        assert "did not say which organisation you belong to (claim &#39;org_code&#39;)" in r.text
    assert get_user(sso["store"], "bob") is None


def test_a_forged_callback_is_refused(sso: dict[str, Any]) -> None:
    with httpx.Client(follow_redirects=True, timeout=30) as client:
        r = client.get(f"{sso['base']}/auth/oidc/callback?code=forged&state=forged")
        assert r.status_code == 401 and "could not be completed" in r.text


def test_signing_out_ends_the_session_at_the_provider_too(sso: dict[str, Any]) -> None:
    base = sso["base"]
    with httpx.Client(follow_redirects=True, timeout=30) as client:
        provider_sign_in(client, f"{base}/auth/oidc/login", "alice", "alice-password")
        # While the provider's session lasts, signing in again asks nothing.
        again = client.get(f"{base}/auth/oidc/login?next=/sign-out")
        assert str(again.url) == f"{base}/sign-out" and "Alice Example" in again.text
        token = re.search(r'name="csrftoken" value="([^"]+)"', again.text).group(1)  # type: ignore[union-attr]
        # Sign out here: the app sends the browser to the provider's end-session page.
        confirm = client.post(f"{base}/sign-out", data={"csrftoken": token})
        assert str(confirm.url).startswith(sso["issuer"]) and "sign-out" in confirm.text
        form = re.search(r'<form[^>]*id="op.logoutForm"[^>]*>(.*?)</form>', confirm.text, flags=re.S)
        assert form, confirm.text[:500]
        action = re.search(r'action="([^"]+)"', form.group(0)).group(1)  # type: ignore[union-attr]
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(1)))
        done = client.post(str(confirm.url.join(action)), data={**fields, "logout": "yes"})
        assert str(done.url) == f"{base}/sign-in?signed_out=true" and "You have signed out." in done.text
        assert sent_to_sign_in(client.get(f"{base}/audit", follow_redirects=False), "/audit")
        # The provider asks for the password again.
        assert "Test identity provider" in client.get(f"{base}/auth/oidc/login").text
