"""The subscriptions page in a real headless Chromium: a site manager subscribes by email to their
trust's escalation events and unsubscribes, with the CSRF-protected forms; axe finds no serious or
critical issue on the page, empty or with a subscription."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from playwright.sync_api import Browser
from test_functional_escalation import browser, local_page, serious, serve, sign_in, use_test_settings

from uec.config import get_settings
from uec.escalation import notify
from uec.store import open_store

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "escalation"))
from loop_helpers import build

pytestmark = pytest.mark.functional
__all__ = ["browser"]  # the fixture, imported for pytest


def test_subscribe_and_unsubscribe_in_a_browser(browser: Browser, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    store = build(open_store(str(tmp_path / "uec.duckdb")))
    use_test_settings(monkeypatch, tmp_path)
    with serve(store.url) as base:
        page, errors = local_page(browser, base)
        sign_in(page, base, "sam", "/subscriptions")
        assert page.locator("h1").inner_text() == "Notifications"
        assert "No subscriptions yet." in page.locator("main").inner_text()
        assert serious(page) == []
        page.select_option("#org_code", "A1")
        page.fill("#address", "sam@test.nhs.uk")
        page.get_by_role("button", name="Subscribe").click()
        page.wait_for_url(f"{base}/subscriptions")
        table = page.locator("#subscriptions-table").inner_text()
        assert "A1" in table and "sam@test.nhs.uk" in table
        assert [(s.username, s.object_code, s.channel) for s in notify.subscriptions(store)] == [("sam", "A1", "email")]
        assert serious(page) == []
        page.get_by_role("button", name="Unsubscribe from A1 by email").click()
        page.wait_for_url(f"{base}/subscriptions")
        assert "No subscriptions yet." in page.locator("main").inner_text()
        assert notify.subscriptions(store) == []
        assert errors == []
        page.context.close()
    get_settings.cache_clear()
