"""In a real headless Chromium: a ``viewer`` who follows the patient-level download is refused with a page
that says why and a 403, and an ``analyst`` gets the file.

(The other half of the issue's browser test, a site manager refused another trust's escalation
action, lives with the escalation pages.)
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, sync_playwright
from test_browser_sign_in import ARGS, CHROMIUM, watch

from live_server import serve
from uec.access.accounts import add_user
from uec.config import get_settings
from uec.store import open_store
from uec.web import create_app

pytestmark = pytest.mark.functional

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))
web_fixture: Any = importlib.import_module("web_fixture")

DOWNLOAD = "/sites/RAA01/attendances.csv?from=2025-07-01&to=2025-07-07"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: install it with `apt-get install -y chromium`"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def base(tmp_path: Path) -> Iterator[str]:
    path = web_fixture.build_web_store(tmp_path / "uec.duckdb")
    store = open_store(path)
    add_user(store, "viv", display_name="Viv Viewer", org_code="QXX", roles=["viewer"], password="viv-password")
    add_user(store, "ann", display_name="Ann Analyst", org_code="QXX", roles=["analyst"], password="ann-password")
    get_settings.cache_clear()
    with serve(create_app(path)) as url:
        yield url


def signed_in(browser: Browser, base: str, username: str, password: str) -> BrowserContext:
    context = browser.new_context(locale="en-GB", accept_downloads=True)
    context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(base) else r.abort())
    page = context.new_page()
    page.goto(base + "/sign-in")
    page.fill("#username", username)
    page.fill("#password", password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(base + "/")
    page.close()
    return context


def test_a_viewer_is_refused_the_patient_level_download_with_a_clear_page(browser: Browser, base: str) -> None:
    context = signed_in(browser, base, "viv", "viv-password")
    page = context.new_page()
    problems = watch(page)
    response = page.goto(base + DOWNLOAD)
    assert response is not None and response.status == 403
    assert page.locator("h1").inner_text() == "You do not have access to this"
    main = page.locator("main").inner_text()
    assert "Read pseudonymised patient-level rows" in main
    assert "it needs the role analyst; you (viv) hold: viewer." in main
    # The aggregate pages stay open to the viewer.
    response = page.goto(base + "/sites/RAA01")
    assert response is not None and response.status == 200
    assert problems == []
    context.close()


def test_an_analyst_gets_the_download(browser: Browser, base: str, tmp_path: Path) -> None:
    context = signed_in(browser, base, "ann", "ann-password")
    page = context.new_page()
    with page.expect_download() as got:
        # A download aborts the navigation; the file is what matters.
        try:
            page.goto(base + DOWNLOAD)
        except Exception as exc:  # Chromium reports "Download is starting" as a failed navigation
            assert "Download is starting" in str(exc)
    target = tmp_path / "attendances.csv"
    got.value.save_as(target)
    lines = target.read_text().splitlines()
    assert lines[0].startswith("attendance_id,site_code,") and len(lines) > 1
    assert got.value.suggested_filename == "attendances-RAA01-2025-07-01-2025-07-07.csv"
    context.close()
