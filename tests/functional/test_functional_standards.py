"""The standards matrix and a standard's page in a real headless Chromium.

Reuses the browser fixtures of ``test_functional_overview``, over the store of
``tests/web/test_web_standards.py``: fifteen months of attendances, enough for SPC charts.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser
from test_functional_overview import (  # noqa: F401 - fixtures are found by name
    Watched,
    browser,
    new_context,
    serious_violations,
    serve,
    watched,
)

pytestmark = pytest.mark.functional


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))
    web_fixture = importlib.import_module("web_fixture")
    standards = importlib.import_module("test_web_standards")
    rows = {k: v for k, v in web_fixture.FIXTURE.items() if k in ("organisations", "sites", "services")}
    rows["attendances"] = standards._attendances()
    store = web_fixture.write_fixture(tmp_path_factory.mktemp("standards") / "uec.duckdb", rows)
    with serve(store) as url:
        yield url


def test_standards_matrix_and_a_standard_in_a_real_browser(base_url: str, watched: Watched) -> None:  # noqa: F811
    page = watched.page
    page.goto(base_url + "/standards")
    assert page.title() == "Standards – UEC Resilience"
    # One table per area of the catalogue, standards as rows, the ICS and each site as columns.
    tables = page.locator("table.uec-matrix")
    assert tables.count() == 3
    ed = page.locator("#standards-matrix-ed")
    assert ed.locator("thead th").first.inner_text() == "Standard"
    assert "Whole ICS" in ed.locator("thead").inner_text()
    assert ed.locator("tbody tr").count() >= 10
    assert serious_violations(page) == []

    # Narrow the matrix to ambulance standards with the form.
    page.select_option("#area", "ambulance")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**/standards?*area=ambulance*")
    assert page.locator("table.uec-matrix").count() == 1
    assert page.locator("#standards-matrix-ambulance").count() == 1

    # A standard's page: its chart is an accessible SVG with a data table beside it.
    page.goto(base_url + "/standards")
    page.locator("#standards-matrix-ed tbody th a").first.click()
    page.wait_for_url("**/standards/ed-4hr?by=month")
    svg = page.locator("main svg[role=img][width=\"100%\"]")
    assert svg.locator("title").count() == 1 and svg.locator("desc").count() == 1
    assert serious_violations(page) == []
    assert watched.problems == []


def test_standards_matrix_fits_a_phone_screen(base_url: str, browser: Browser) -> None:  # noqa: F811
    context = new_context(browser, base_url, width=390, height=844)
    try:
        pg = context.new_page()
        for path in ("/standards", "/standards/ed-4hr"):
            pg.goto(base_url + path)
            assert pg.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
            assert serious_violations(pg) == [], path
    finally:
        context.close()


def test_api_reference_renders_offline_in_a_real_browser(base_url: str, watched: Watched) -> None:  # noqa: F811
    # The browser context refuses every request but the app's own: Swagger UI must come from this server.
    page = watched.page
    csp_errors: list[str] = []
    page.on("console", lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(base_url + "/docs")
    page.locator(".opblock").first.wait_for(timeout=20_000)
    assert page.locator(".opblock").count() > 10  # one per operation of /openapi.json
    assert "/api/overview" in page.locator("#swagger-ui").inner_text()
    page.locator(".opblock-summary").first.click()  # an operation opens (its script and styles work)
    page.locator(".opblock-body").first.wait_for(timeout=10_000)
    assert csp_errors == [] and watched.problems == []
    assert all(u.split(" ", 1)[1].startswith(base_url) for u in watched.loaded)
