"""Try an action in a real headless Chromium: a site manager signs in, clicks "Try it" on one of
their trust's action cards, waits for the run, reads the effect, and projects the level; axe finds no
serious or critical issue on the new pages.

The store is a 10-day demo ICS; its "now" is the last event (20 January 2025, just before midnight).
One replication each way keeps the run to seconds; the numbers are tested in tests/escalation.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path

import pytest
from playwright.sync_api import Browser

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "escalation"))
from loop_helpers import PASSWORD
from test_functional_escalation import browser, local_page, serious, serve, sign_in, use_test_settings

from uec.access.accounts import add_user
from uec.config import get_settings
from uec.demo import build_demo
from uec.jobs import cancel, list_jobs
from uec.store import open_store
from uec.web.routes import escalation_projection

pytestmark = pytest.mark.functional
__all__ = ["browser"]  # the fixture, shared with the escalation loop's browser test


def test_a_site_manager_tries_an_action_and_projects_the_level(
    browser: Browser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store(str(tmp_path / "uec.duckdb"))
    build_demo(store, seed=7, days=10, end=dt.date(2025, 1, 20))
    add_user(store, "sam", display_name="Sam DEMO-A", org_code="DEMO-A", roles=["site_manager"], password=PASSWORD)
    use_test_settings(monkeypatch, tmp_path)
    monkeypatch.setattr(escalation_projection, "WEB_REPS", 1)
    with serve(store.url) as base:
        page, errors = local_page(browser, base)

        sign_in(page, base, "sam", "/escalation/DEMO-A")
        assert page.locator("h1").inner_text().endswith("(DEMO-A)")
        card = page.locator("#try-acute-3-capacity")
        assert "extra escalation beds 20" in card.inner_text()
        assert serious(page) == []

        # One click: the run is queued, then shown.
        card.get_by_role("button", name="Try it").click()
        page.wait_for_url(f"{base}/escalation/DEMO-A/try/*")
        deadline = time.monotonic() + 300
        while page.locator("#try-table").count() == 0:
            assert time.monotonic() < deadline, page.locator("main").inner_text()
            time.sleep(1)
            page.reload()
        assert "Open beds that are escalation beds" in page.locator("#try-parameters").inner_text()
        assert "Chance of rising above the current level" in page.locator("#try-rise").inner_text()
        assert serious(page) == []

        # Project the level from the organisation page; the projection page shows it when done.
        page.goto(f"{base}/escalation/DEMO-A")
        page.get_by_role("button", name="Project the next 72 hours").click()
        page.wait_for_load_state()
        assert page.url == f"{base}/escalation/DEMO-A/projection"
        assert serious(page) == []
        assert errors == []
        page.context.close()
        # Nothing more to see: stop the 72-hour projection rather than wait for it at exit.
        for job in list_jobs(store, kind="escalation_projection"):
            if job.state in ("queued", "running"):
                cancel(store, job.id, by="test")
    get_settings.cache_clear()
