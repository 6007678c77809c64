"""Signing in in a real headless Chromium: through the real OpenID provider, and with a local account.

Checks what only a browser shows: the cookies round-trip between the app and the provider, the
Content-Security-Policy lets the NHS.UK scripts run (no violation reported), and a refused page
shows its reason with the right status.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from access_helpers import oidc_provider
from playwright.sync_api import Browser, Page, sync_playwright

from live_server import free_port, serve
from uec.access.accounts import add_user
from uec.config import get_settings
from uec.store import Store
from uec.web import create_app

pytestmark = pytest.mark.functional

CHROMIUM = os.environ.get("UEC_CHROMIUM") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: install it with `apt-get install -y chromium`"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def site(duck_store: Store, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    add_user(duck_store, "sam", display_name="Sam Site", org_code="RAA", roles=["site_manager"],
             password="sam-password")
    port = free_port()
    users = {"alice": {"password": "alice-password", "claims": {"name": "Alice Example", "org_code": "RAA"}}}
    with oidc_provider(f"http://127.0.0.1:{port}/auth/oidc/callback", users) as idp:
        monkeypatch.setenv("UEC_OIDC_ISSUER", idp["issuer"])
        monkeypatch.setenv("UEC_OIDC_CLIENT_ID", idp["client_id"])
        monkeypatch.setenv("UEC_OIDC_CLIENT_SECRET", idp["client_secret"])
        monkeypatch.setenv("UEC_OIDC_SCOPES", "openid profile email org")
        monkeypatch.setenv("UEC_OIDC_BUTTON_TEXT", "Test NHS account")
        get_settings.cache_clear()
        with serve(create_app(duck_store.url), port) as base:
            yield {"base": base, **idp}


def watch(page: Page) -> list[str]:
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: problems.append(f"script error: {e}"))
    return problems


def test_single_sign_on_in_a_browser_lands_on_the_overview(browser: Browser, site: dict[str, Any]) -> None:
    base = site["base"]
    context = browser.new_context(locale="en-GB")
    # Only the app and the provider, both on loopback; nothing else.
    context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(
        (base, site["issuer"])) else r.abort())
    page = context.new_page()
    problems = watch(page)
    page.goto(base + "/sign-in")
    page.get_by_role("link", name="Sign in with Test NHS account").click()
    page.wait_for_url(site["issuer"] + "/interaction/**")
    page.fill("#login", "alice")
    page.fill("#password", "alice-password")
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")
    assert page.title() == "System overview – UEC Resilience"
    # The NHS.UK script ran under the policy: it marks the body.
    assert "js-enabled" in (page.get_attribute("body", "class") or "")
    response = page.goto(base + "/audit")
    assert response is not None and response.status == 403
    assert page.locator("h1").inner_text() == "You do not have access to this"
    assert "it needs the role coordinator or admin; you (alice) hold: viewer." in page.locator("main").inner_text()
    assert problems == []
    context.close()


def test_local_sign_in_and_out_in_a_browser(browser: Browser, site: dict[str, Any]) -> None:
    base = site["base"]
    context = browser.new_context(locale="en-GB")
    context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(base) else r.abort())
    page = context.new_page()
    problems = watch(page)
    # Not signed in: the page sends the browser to sign in, and back to the page afterwards.
    page.goto(base + "/audit")
    page.wait_for_url(base + "/sign-in?next=/audit")
    page.fill("#username", "sam")
    page.fill("#password", "wrong password")
    page.get_by_role("button", name="Sign in").click()
    assert "The username or password is not right." in page.locator(".nhsuk-error-summary").inner_text()
    page.fill("#password", "sam-password")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(base + "/audit")
    assert page.locator("h1").inner_text() == "You do not have access to this"
    cookies = {c["name"]: c for c in context.cookies()}
    assert cookies["uec_session"]["httpOnly"] and cookies["uec_session"]["sameSite"] == "Lax"
    page.goto(base + "/sign-out")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(base + "/sign-in?signed_out=true")
    assert "You have signed out." in page.locator("main").inner_text()
    assert problems == []
    context.close()
