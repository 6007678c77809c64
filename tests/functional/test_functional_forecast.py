"""The forecast and occupancy pages in a real headless Chromium: navigable, accessible, fit a phone.

Reuses the browser fixtures of ``test_functional_overview`` over the store of
``tests/web/test_web_forecast.py``: ten weeks of ambulance incidents with a saved forecast run, and
sixty days of inpatient spells.
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

from uec.forecast.runs import forecast_store_series
from uec.store import open_store

pytestmark = pytest.mark.functional


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))
    web_fixture = importlib.import_module("web_fixture")
    fc = importlib.import_module("test_web_forecast")
    rows = {k: v for k, v in web_fixture.FIXTURE.items() if k in ("organisations", "sites", "services")}
    rows["ambulance_incidents"] = fc._incidents()
    rows["spells"] = fc._spells()
    store = web_fixture.write_fixture(tmp_path_factory.mktemp("forecast") / "uec.duckdb", rows)
    forecast_store_series(
        open_store(store), ["ambulance/C1", "ambulance/C2"], model="snaive", horizon=7, backtest_origins=2
    )
    with serve(store) as url:
        yield url


def test_forecasts_in_a_real_browser(base_url: str, watched: Watched) -> None:  # noqa: F811
    page = watched.page
    page.goto(base_url + "/")
    page.get_by_role("link", name="Forecasts").first.click()
    page.wait_for_url("**/forecasts")
    assert page.title() == "Forecasts – UEC Resilience"
    assert serious_violations(page) == []

    page.get_by_role("link", name="Ambulance incidents per day, category C1").click()
    page.wait_for_url("**/forecasts/ambulance/C1")
    svg = page.locator("main svg.uec-fan-chart")
    assert svg.get_attribute("role") == "img"
    assert svg.locator("title").count() == 1 and "forecast" in (svg.locator("desc").text_content() or "")
    assert page.locator("#forecast-table tbody tr").count() == 7
    assert serious_violations(page) == []

    page.goto(base_url + "/occupancy?days=3")
    assert page.locator("#next-day-table tbody tr").count() == 1
    assert page.locator("#midnights-RAA01 tbody tr").count() == 3
    assert serious_violations(page) == []
    assert watched.problems == []


def test_forecast_pages_fit_a_phone_screen(base_url: str, browser: Browser) -> None:  # noqa: F811
    context = new_context(browser, base_url, width=390, height=844)
    try:
        pg = context.new_page()
        for path in ("/forecasts", "/forecasts/ambulance/C1", "/occupancy"):
            pg.goto(base_url + path)
            assert pg.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
            assert serious_violations(pg) == [], path
    finally:
        context.close()
