"""The escalation loop in a real headless Chromium: a site manager signs in with a local account, sees
their trust at OPEL 3, declares it, the actions appear, one is marked done; another trust's page
refuses them with a clear 403; the coordinator sees it all on the system page; an email arrives at a
real local SMTP server (aiosmtpd); axe finds no serious or critical issue on the new pages.

The store is the escalation spec's hand-made ICS (``tests/escalation``), viewed at its instant
(2024-07-10 14:00), when trust A1 is calculated at OPEL 3.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, sync_playwright

import live_server
from uec.config import get_settings
from uec.web import create_app

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "escalation"))
from loop_helpers import PASSWORD, build, smtp_server

from uec.escalation import notify
from uec.store import open_store

pytestmark = pytest.mark.functional

CHROMIUM = os.environ.get("UEC_CHROMIUM") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
AT = "2024-07-10T14%3A00"
FRONTEND = Path(__file__).resolve().parents[2] / "node_modules" / "nhsuk-frontend"


@contextmanager
def serve(store_url: str) -> Iterator[str]:
    with live_server.serve(create_app(store_url)) as url:
        yield url


def use_test_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **env: str) -> None:
    """The settings the served app reads: a signing key, its own state folder, the NHS.UK frontend
    beside the checkout (unless one is set), and ``env`` (``UEC_`` names); settings read again."""
    monkeypatch.setenv("UEC_SECRET_KEY", "test-secret-key-for-signing-cookies-0123456789")
    monkeypatch.setenv("UEC_STATE_DIR", str(tmp_path / "state"))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    if FRONTEND.exists() and not os.environ.get("UEC_FRONTEND_DIR"):
        monkeypatch.setenv("UEC_FRONTEND_DIR", str(FRONTEND))
    get_settings.cache_clear()


def local_page(browser: Browser, base: str) -> tuple[Page, list[str]]:
    """A page that may reach only the app at ``base``, and the list its script errors go to."""
    context = browser.new_context(locale="en-GB")
    context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(base) else r.abort())
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page, errors


@pytest.fixture
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: install it with `apt-get install -y chromium`"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def serious(page: Page) -> list[dict[str, Any]]:
    violations: list[dict[str, Any]] = Axe().run(page).response["violations"]
    return [{"id": v["id"], "nodes": [n["target"] for n in v["nodes"]]} for v in violations
            if v.get("impact") in ("serious", "critical")]


def sign_in(page: Page, base: str, username: str, next_path: str) -> None:
    page.goto(f"{base}/sign-in?next={next_path.replace('?', '%3F').replace('=', '%3D')}")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def test_site_manager_declares_acts_and_the_coordinator_sees_it(
    browser: Browser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = build(open_store(str(tmp_path / "uec.duckdb")))
    with smtp_server() as inbox:
        use_test_settings(monkeypatch, tmp_path, UEC_SMTP_PORT=str(inbox.port))
        notify.subscribe(store, "cory", None, "email", "duty.manager@test.nhs.uk")
        with serve(store.url) as base:
            page, errors = local_page(browser, base)

            # The site manager of A1 signs in and lands on their trust's escalation page.
            sign_in(page, base, "sam", f"/escalation/A1?at={AT}")
            assert page.locator("h1").inner_text().endswith("(A1)")
            assert "Calculated OPEL 3" in page.locator("#calculated-level").inner_text()
            assert "Declared No level" in page.locator("#declared-level").inner_text()
            assert serious(page) == []

            # Declares OPEL 3 with a reason: the level and its actions appear.
            page.select_option("#level", "3")
            page.fill("#reason", "Handover delays and majors full")
            page.get_by_role("button", name="Declare level").click()
            page.wait_for_url(f"{base}/escalation/A1?at=2024-07-10T14%3A00")
            assert "Declared OPEL 3" in page.locator("#declared-level").inner_text()
            cards = page.locator("[id^=action-]")
            assert cards.count() >= 5
            assert "Enact the ambulance handover protocol" in page.locator("main").inner_text()

            # Marks one of their own actions done.
            card = page.locator(".nhsuk-card", has_text="Hold a site huddle")
            card.locator("input[name=note]").fill("Huddle held, flow plan agreed")
            card.get_by_role("button", name="Mark done").click()
            page.wait_for_load_state()
            card = page.locator(".nhsuk-card", has_text="Hold a site huddle")
            assert "Done" in card.inner_text() and "Huddle held, flow plan agreed" in card.inner_text()
            assert serious(page) == []

            # Another trust's page: the form says it is not theirs, and submitting it is refused clearly.
            page.goto(f"{base}/escalation/A2?at={AT}")
            assert "declare the level of your own organisation (A1) only" in page.locator("main").inner_text()
            with page.expect_response(lambda r: r.url.endswith("/escalation/A2/declare")) as refused:
                page.get_by_role("button", name="Declare level").click()
            assert refused.value.status == 403
            assert page.locator("h1").inner_text() == "You do not have access to this"
            assert "your role lets you act for your own organisation (A1) only, and this is for A2." in (
                page.locator("main").inner_text())

            # The coordinator signs in and sees it on the system page.
            page.goto(f"{base}/sign-out")
            page.get_by_role("button", name="Sign out").click()
            page.wait_for_url(f"{base}/sign-in?signed_out=true")
            sign_in(page, base, "cory", f"/escalation?at={AT}")
            assert page.locator("h1").inner_text() == "Escalation: the system now"
            row = page.locator("#org-A1").inner_text()
            assert "OPEL 3" in row and "by sam" in row
            actions = page.locator("#actions-table").inner_text()
            assert "Convene a system call and agree mutual aid" in actions
            assert "Hold a site huddle" not in actions  # done, so no longer open
            assert serious(page) == []
            assert errors == []
            page.context.close()

        # The duty manager's email arrived at the SMTP server.
        subjects = [m["Subject"] for m in inbox.messages]
        assert subjects == ["A1 declared OPEL 3 (was no level)"]
        assert inbox.messages[0]["To"] == "duty.manager@test.nhs.uk"
        assert "Reason: Handover delays and majors full" in str(inbox.messages[0].get_payload())
    get_settings.cache_clear()
