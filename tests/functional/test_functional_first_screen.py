"""The first screen and the site pages in a real headless Chromium, over a freshly built demo ICS.

The browser reads the figures off the page as an operator would and they are compared with the API
(``/api/overview``) and with ``uec standards`` on the same store, so a page that rounds, mislabels
or shows another day's number fails here. axe must find nothing serious at desktop and phone width.

Screenshots of the first screen at 1366 and 390 pixels wide go to ``tmp_path``; with
``UEC_SCREENSHOTS_DIR`` set they go there instead (``docs/img`` is made so, see docs/first-screen.md).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page
from test_functional_overview import (  # noqa: F401 - fixtures are found by name
    browser,
    new_context,
    serious_violations,
    serve,
)
from typer.testing import CliRunner

from uec.demo import build_demo
from uec.standards.cli import app as standards_cli
from uec.store import open_store
from uec.web.display import count, percent

pytestmark = pytest.mark.functional

# A fixed end day, so the store (seeded) is the same on every run; the page's "yesterday" is then
# the demo's last day, because it is in the past.
END = dt.date(2026, 11, 30)


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("first_screen") / "uec.duckdb")
    build_demo(open_store(path), seed=42, days=50, end=END)
    return path


@pytest.fixture(scope="module")
def base_url(demo_store: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))  # serve() signs in as the web tests do
    # A cache folder of its own: pages rendered by an older checkout must not answer for this one.
    old = os.environ.get("UEC_CACHE_DIR")
    os.environ["UEC_CACHE_DIR"] = str(tmp_path_factory.mktemp("first_screen_cache"))
    try:
        with serve(demo_store) as url:
            yield url
    finally:
        if old is None:
            os.environ.pop("UEC_CACHE_DIR", None)
        else:
            os.environ["UEC_CACHE_DIR"] = old


def _shots(tmp_path: Path) -> Path:
    where = os.environ.get("UEC_SCREENSHOTS_DIR")
    return Path(where) if where else tmp_path


def _api(page: Page, url: str) -> Any:
    response = page.request.get(url)
    assert response.status == 200, url
    return response.json()


def _cli_value(store: str, standard: str, day: dt.date) -> float:
    result = CliRunner().invoke(standards_cli, [standard, "--by", "day", "--from", day.isoformat(),
                                                "--to", day.isoformat(), "--store", store, "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output.strip().splitlines()[-1])["rows"]
    (row,) = [r for r in rows if r["period_start"] == day.isoformat() and r["group"] is None]
    return float(row["value"])


def test_first_screen_figures_match_the_api_and_uec_standards(base_url: str, browser: Browser,  # noqa: F811
                                                              demo_store: str, tmp_path: Path) -> None:
    context = new_context(browser, base_url, width=1366, height=900)
    try:
        page = context.new_page()
        page.goto(base_url + "/")
        api = _api(page, base_url + "/api/overview")
        now = api["now"]
        ics = now["rows"][0]
        assert ics["level"] == "ics" and len(now["rows"]) >= 3  # the ICS and the three acute hospitals

        # The headline cards are the ICS row of the API.
        for key in ("in_ed", "over_12_hours", "dta_waiting", "ambulances_waiting"):
            shown = page.locator(f'[data-figure="{key}"] [data-value]').inner_text()
            assert shown == count(ics[key]), key
        assert page.locator('[data-figure="occupancy_pct"] [data-value]').inner_text() == percent(ics["occupancy_pct"])
        assert ics["in_ed"] > 0 and ics["beds_open"] > ics["beds_occupied"] > 0
        ctr = page.locator('[data-figure="no_criteria_to_reside"] [data-value]').inner_text()
        assert ctr == (count(ics["no_criteria_to_reside"]) if ics["no_criteria_to_reside"] is not None
                       else "Not available")

        # Every cell of the "now" table, for every site and the ICS, is the API's figure.
        for r in now["rows"]:
            row = page.locator(f'#now-table tr[data-unit="{r["code"] or "ics"}"]')
            assert row.locator("th").inner_text() == r["name"]
            for m in ("in_ed", "over_12_hours", "dta_waiting", "ambulances_waiting", "beds_open", "beds_occupied",
                      "beds_free"):
                assert row.locator(f'[data-measure="{m}"] [data-value]').inner_text() == count(r[m]), (r["name"], m)
            occupancy = row.locator('[data-measure="occupancy_pct"] [data-value]').inner_text()
            assert occupancy == percent(r["occupancy_pct"])
        # The ICS total is the sum of its sites.
        sites = now["rows"][1:]
        for m in ("in_ed", "dta_waiting", "ambulances_waiting", "beds_open", "beds_occupied"):
            assert ics[m] == sum(r[m] or 0 for r in sites), m
        # The time of the data is on the page.
        heading = page.locator("h2#now").inner_text()
        assert heading.startswith("Now: 11:") and heading.endswith("Monday 30 November 2026")

        # The key standards: yesterday's value is `uec standards`' for that day, with its status in words.
        day = dt.date.fromisoformat(api["window"]["reporting_day"])
        assert day == END
        keys = {k["id"]: k for k in api["key_standards"]}
        assert {"ed-4hr", "amb-handover-45", "amb-c2-mean", "beds-ga-occupancy", "ed-12hr-arrival"} <= set(keys)
        for sid in ("ed-4hr", "amb-c2-mean", "beds-ga-occupancy"):
            row = page.locator(f'#standards-table tr[data-standard="{sid}"]')
            assert keys[sid]["value"] == pytest.approx(_cli_value(demo_store, sid, day)), sid
            assert row.locator('[data-measure="value"] [data-value]').inner_text() == keys[sid]["display"]
            status = row.locator('[data-measure="status"] .nhsuk-tag').inner_text()
            assert status in ("Target met", "Target not met"), sid  # each has a target in force
            assert row.locator("svg.uec-sparkline").count() == 1
            assert row.locator('[data-icon="variation"]').count() == 1
        four_hour = page.locator('#standards-table tr[data-standard="ed-4hr"]').inner_text()
        assert "At least 82.0%" in four_hour  # the 2026/27 target, in force on the day
        # A standard with no national target says so in words.
        row = page.locator('#standards-table tr[data-standard="ed-12hr-arrival"]')
        assert row.locator(".nhsuk-tag").inner_text() == "No national target"

        # Yesterday and the last 7 days stay below.
        assert f"Yesterday: {day:%A} {day.day} {day:%B %Y}" in page.locator("main").inner_text()
        assert page.locator("#beds-table").inner_text().count("Whole ICS") == 1

        assert serious_violations(page) == []
        shot = _shots(tmp_path) / "first-screen-1366.png"
        # The top of the page: the ICS now and the key standards (the whole page is many screens long).
        page.screenshot(path=str(shot), full_page=True, clip={"x": 0, "y": 0, "width": 1366, "height": 1200})
        assert shot.stat().st_size > 20_000
    finally:
        context.close()


def test_first_screen_on_a_phone(base_url: str, browser: Browser, tmp_path: Path) -> None:  # noqa: F811
    context = new_context(browser, base_url, width=390, height=844)
    try:
        page = context.new_page()
        page.goto(base_url + "/")
        # Wide tables scroll inside their own region rather than widening the page.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert serious_violations(page) == []
        shot = _shots(tmp_path) / "first-screen-390.png"
        page.screenshot(path=str(shot), full_page=True, clip={"x": 0, "y": 0, "width": 390, "height": 1500})
        assert shot.stat().st_size > 10_000
        for path in ("/sites/DEMO-A01", "/sites/DEMO-IUC01"):
            page.goto(base_url + path)
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
            assert serious_violations(page) == [], path
    finally:
        context.close()


def test_site_pages_show_their_standards_and_the_111_measures(base_url: str, browser: Browser,  # noqa: F811
                                                              tmp_path: Path) -> None:
    context = new_context(browser, base_url, width=1366, height=900)
    try:
        page = context.new_page()
        page.goto(base_url + "/sites/DEMO-A01")
        api = _api(page, base_url + "/api/sites/DEMO-A01")
        assert page.locator("h2#standards").count() == 1
        cell = page.locator('#standards-table tr[data-standard="ed-4hr"] [data-measure="value"] [data-value]')
        assert cell.inner_text() == next(k["display"] for k in api["standards"] if k["id"] == "ed-4hr")
        # SPC charts, each an accessible SVG.
        charts = page.locator("figure svg[role=img]")
        assert charts.count() >= 3
        assert charts.first.locator("title").count() == 1 and charts.first.locator("desc").count() == 1
        assert api["now"]["in_ed"] is not None
        assert serious_violations(page) == []
        page.screenshot(path=str(tmp_path / "site.png"), full_page=True)

        # The NHS 111 provider's site shows 111 measures, not emergency department tables of zeros.
        page.goto(base_url + "/sites/DEMO-IUC01")
        api = _api(page, base_url + "/api/sites/DEMO-IUC01")
        main = page.locator("main").inner_text()
        assert "NHS 111 calls" in main
        assert "Attendances in the last 7 days" not in main and "Ambulance arrivals" not in main
        assert api["calls_111"]["last_7_days"] > 0
        table = page.locator("#calls-111-table").inner_text()
        assert count(api["calls_111"]["last_7_days"]) in table
        # The demo sends call handling (calls_111_handling), so the telephony counts are shown.
        handling = api["calls_111"]["handling_7_days"]
        assert handling is not None and count(handling["offered"]) in main
        assert "Answered within 60 seconds" in main and "Not available" not in main
        assert serious_violations(page) == []
    finally:
        context.close()
