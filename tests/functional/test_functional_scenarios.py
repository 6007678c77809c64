"""The scenario page in a real headless Chromium: fill the form, run, wait for the results, and stay accessible.

The model is a fake that waits for the test's signal, so the page under way is seen for certain and
its script's reload is what brings the results. Uvicorn serves the app on a free loopback port in a
background thread, as in ``test_functional_overview.py``; no Chromium means failure, never a skip.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser
from test_functional_overview import (  # noqa: F401 - fixtures are found by name
    browser,
    new_context,
    serious_violations,
    serve,
)

from uec.system.types import ChangeField, Comparison, Interval, Scenario, StandardComparison
from uec.web import scenario_pages

pytestmark = pytest.mark.functional

FIELDS = (
    ChangeField("extra_beds", "Extra G&A beds per site", "int", "beds", 0, minimum=0, maximum=200,
                hint="Beds opened on top of each site's core beds."),
    ChangeField("sdec_closes", "SDEC closing time", "time", "", "20:00"),
)
GO = threading.Event()


def fake_model(scenario: Scenario, reps: int, seed: int, days: float) -> Comparison:
    assert GO.wait(60)
    beds = float(scenario.changes.get("extra_beds", 0))
    now = dt.datetime.now(dt.UTC)
    return Comparison(scenario, reps, seed, days, now, now, (
        StandardComparison("ed-4hr", "4-hour performance", "proportion", True, Interval(0.70, 0.69, 0.71),
                           Interval(0.70 + beds / 1000, 0.69 + beds / 1000, 0.71 + beds / 1000),
                           Interval(beds / 1000, beds / 1000 - 0.004, beds / 1000 + 0.004)),
        StandardComparison("amb-c2-mean", "Category 2 mean response time", "minutes", False,
                           Interval(40.0, 38.0, 42.0), Interval(41.0, 39.0, 43.0), Interval(1.0, 0.2, 1.8)),
    ))


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    mp = pytest.MonkeyPatch()
    mp.setattr(scenario_pages, "default_runner", fake_model)
    mp.setattr(scenario_pages, "default_fields", lambda: FIELDS)
    store = str(tmp_path_factory.mktemp("functional_scenarios") / "uec.duckdb")
    try:
        with serve(store) as url:
            yield url
            GO.set()  # let a run still waiting finish before the server stops
    finally:
        mp.undo()


def test_fill_the_form_run_and_read_the_results(base_url: str, browser: Browser, tmp_path: Path) -> None:  # noqa: F811
    context = new_context(browser, base_url)
    problems: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda e: problems.append(f"script error: {e}"))
        page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 and
                "/scenarios" not in r.url else None)
        page.goto(base_url + "/scenarios")
        assert page.title() == "Scenarios – UEC Resilience"
        assert serious_violations(page) == []

        # A mistake: the error summary lists it, links to the field, and the field says what is wrong.
        page.get_by_label("Extra G&A beds per site").fill("lots")
        page.get_by_label("Replications").fill("99")
        page.get_by_role("button", name="Run scenario").click()
        page.wait_for_load_state()
        assert page.title() == "Error: Scenarios – UEC Resilience"
        summary = page.locator(".nhsuk-error-summary")
        assert "Extra G&A beds per site must be a number, like 20" in summary.inner_text()
        assert "Replications must be between 1 and 50" in summary.inner_text()
        assert page.locator("#change-extra_beds-error").inner_text().endswith("must be a number, like 20")
        assert serious_violations(page) == []
        summary.get_by_role("link", name="Replications must be between 1 and 50").click()
        assert page.evaluate("document.activeElement.id") == "reps"

        # Put it right and run.
        page.get_by_label("Scenario name").fill("Twenty more beds")
        page.get_by_label("Extra G&A beds per site").fill("20")
        page.get_by_label("Replications").fill("3")
        page.get_by_role("button", name="Run scenario").click()
        page.wait_for_url(f"{base_url}/scenarios/runs/*")
        assert "Running… 3 replications of 28 days" in page.locator("#run-status").inner_text()
        assert page.title() == "Twenty more beds (running) – UEC Resilience"
        assert serious_violations(page) == []

        # The page's script notices the run is done and reloads itself.
        GO.set()
        page.locator("#comparison-table").wait_for(timeout=30_000)
        assert page.title() == "Twenty more beds – UEC Resilience"
        table = page.locator("#comparison-table").inner_text()
        assert "4-hour performance" in table and "+2.0 percentage points" in table and "Better" in table
        assert "Worse" in table  # category 2 got longer, and lower is better
        chart = page.locator("svg.uec-scenario-chart")
        assert chart.get_attribute("role") == "img"
        assert chart.locator("rect.uec-scenario").count() == 2 and chart.locator("circle.uec-baseline").count() == 2
        page.screenshot(path=str(tmp_path / "scenario.png"), full_page=True)
        assert (tmp_path / "scenario.png").stat().st_size > 10_000
        assert serious_violations(page) == []

        # The run is in the list, linked.
        page.get_by_role("link", name="Run another scenario").click()
        page.wait_for_url(base_url + "/scenarios")
        link = page.locator("#runs-table").get_by_role("link", name="Twenty more beds")
        assert link.count() == 1
        assert "Done" in page.locator("#runs-table").inner_text()
        assert problems == []
    finally:
        context.close()


def test_results_fit_a_phone_screen(base_url: str, browser: Browser) -> None:  # noqa: F811
    GO.set()
    context = new_context(browser, base_url, width=390, height=844)
    try:
        page = context.new_page()
        page.goto(base_url + "/scenarios")
        page.get_by_label("Extra G&A beds per site").fill("5")
        page.get_by_role("button", name="Run scenario").click()
        page.locator("#comparison-table").wait_for(timeout=30_000)
        for path in ("/scenarios", page.url.removeprefix(base_url)):
            page.goto(base_url + path)
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
            assert serious_violations(page) == [], path
    finally:
        context.close()
