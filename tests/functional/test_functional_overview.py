"""The web app in a real headless Chromium: styled, navigable, accessible.

Uvicorn serves the app over the hand-made store of ``tests/web/web_fixture.py`` on a free loopback
port in a background thread; Playwright drives Debian's Chromium (Playwright's own browser download
is not available here). No Chromium means these tests fail, never skip: the test command installs it
(``apt-get install -y chromium``), and a skipped browser test would hide a broken page.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, Response, sync_playwright

import live_server
from uec.web import create_app

pytestmark = pytest.mark.functional

# scripts/test exports UEC_CHROMIUM; Debian's package puts it here.
CHROMIUM = os.environ.get("UEC_CHROMIUM") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
NHS_BLUE = "rgb(0, 94, 184)"  # #005eb8


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # tests/web has no __init__.py: put it on the path to reuse its fixture builder.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))
    web_fixture = importlib.import_module("web_fixture")
    store = web_fixture.build_web_store(tmp_path_factory.mktemp("functional") / "uec.duckdb")
    with serve(store) as url:
        yield url


@contextmanager
def serve(store: str) -> Iterator[str]:
    """The app over ``store``, served on a free loopback port."""
    # Every request acts as the web tests' analyst (tests/web/web_fixture.py, already on the path).
    app = importlib.import_module("web_fixture").signed_in(create_app(store))
    with live_server.serve(app) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: install it with `apt-get install -y chromium`"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def new_context(browser: Browser, base_url: str, width: int = 1280, height: int = 900) -> BrowserContext:
    """A browser context that may reach only the app under test."""
    context = browser.new_context(viewport={"width": width, "height": height}, locale="en-GB")
    # The NHS.UK stylesheet asks for the Frutiger web font from assets.nhs.uk. This machine has no
    # network beyond loopback, so requests elsewhere are refused here (the font falls back to Arial)
    # rather than left to fail in DNS; everything the app serves itself must load.
    context.route(
        "**/*",
        lambda route: route.continue_() if route.request.url.startswith(base_url) else route.abort(),
    )
    return context


@dataclass
class Watched:
    """A page and what happened while it loaded."""

    page: Page
    problems: list[str] = field(default_factory=list)
    loaded: list[str] = field(default_factory=list)


@pytest.fixture
def watched(browser: Browser, base_url: str) -> Iterator[Watched]:
    context = new_context(browser, base_url)
    w = Watched(context.new_page())

    def on_response(r: Response) -> None:
        # Every asset must load: a 404 stylesheet would leave an unstyled page.
        (w.problems if r.status >= 400 else w.loaded).append(f"{r.status} {r.url}")

    w.page.on("response", on_response)
    w.page.on("pageerror", lambda e: w.problems.append(f"script error: {e}"))
    w.page.on(
        "requestfailed",
        lambda r: w.problems.append(f"failed {r.url}") if r.url.startswith(base_url) else None,
    )
    yield w
    context.close()


def serious_violations(page: Page) -> list[dict[str, Any]]:
    results = Axe().run(page)
    violations: list[dict[str, Any]] = results.response["violations"]
    return [v for v in violations if v.get("impact") in ("serious", "critical")]


def test_overview_in_a_real_browser(base_url: str, watched: Watched, tmp_path: Path) -> None:
    page = watched.page
    page.goto(base_url + "/")
    assert page.title() == "System overview – UEC Resilience"
    assert page.locator("h1").inner_text().startswith("Urgent and emergency care")
    assert page.locator("html").get_attribute("lang") == "en-GB"

    # The NHS.UK stylesheet loaded: the header is NHS blue and the body font is Frutiger.
    header_bg = page.eval_on_selector(".nhsuk-header", "e => getComputedStyle(e).backgroundColor")
    assert header_bg == NHS_BLUE
    assert "Frutiger" in page.eval_on_selector("body", "e => getComputedStyle(e).fontFamily")
    icon = page.request.get(base_url + "/assets/images/nhsuk-icon-cross.svg")  # the stylesheet's own icons
    assert icon.status == 200
    # nhsuk-frontend's JavaScript module loaded (the page imports it to initialise its components).
    assert f"200 {base_url}/nhsuk-frontend/nhsuk/nhsuk-frontend.min.js" in watched.loaded

    assert "Yesterday: Monday 7 July 2025" in page.locator("main").inner_text()
    shot = tmp_path / "overview.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000

    assert serious_violations(page) == []

    # The skip link is the first thing a keyboard user reaches.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").strip() == "Skip to main content"

    page.get_by_role("link", name="Riverside General Hospital").first.click()
    page.wait_for_url(base_url + "/sites/RAA01")
    assert page.locator("h1").inner_text().endswith("Riverside General Hospital")
    assert "Beds at the census at 8am BST on Monday 7 July 2025" in page.locator("main").inner_text()
    page.screenshot(path=str(tmp_path / "site.png"), full_page=True)
    assert serious_violations(page) == []

    # The CSV download link works from the page.
    href = page.get_by_role("link", name="Download this data as CSV", exact=True).get_attribute("href")
    assert href == "/sites/RAA01.csv"
    csv_text = page.request.get(base_url + href).text()
    assert csv_text.startswith("section,site_code,subject,measure,period,value,unit")

    page.locator(".nhsuk-breadcrumb__link", has_text="System overview").click()
    page.wait_for_url(base_url + "/")
    assert watched.problems == []


def test_pages_fit_a_phone_screen(base_url: str, browser: Browser) -> None:
    context = new_context(browser, base_url, width=390, height=844)
    try:
        pg = context.new_page()
        for path in ("/", "/sites/RAA01"):
            pg.goto(base_url + path)
            # Wide tables scroll inside their own region rather than widening the page.
            assert pg.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
            assert serious_violations(pg) == [], path
    finally:
        context.close()


def test_not_found_page_in_a_real_browser(base_url: str, watched: Watched) -> None:
    page = watched.page
    response = page.goto(base_url + "/sites/NOPE")
    assert response is not None and response.status == 404
    assert page.locator("h1").inner_text() == "Page not found"
    assert page.eval_on_selector(".nhsuk-header", "e => getComputedStyle(e).backgroundColor") == NHS_BLUE
    assert serious_violations(page) == []
