"""The web shell over the hand-made fixture in conftest.py: pages, their JSON and CSV siblings, errors."""

from __future__ import annotations

import csv
import io
import logging
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from web_fixture import EXPECTED_ACTIVITY, FIXTURE, REPORTING_DAY, WINDOW_DAYS, signed_in, utc, write_fixture

from uec.store import open_store
from uec.web import create_app
from uec.web.app import find_frontend_dir
from uec.web.data import overview

PERIOD = "2025-07-01/2025-07-07"

# --- helpers --------------------------------------------------------------------------------------

_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
# SVG children the header logo uses; they are written self-closing.
_SELF_CLOSING_OK = {"path"}


class _Checker(HTMLParser):
    """Records the tags of a page and every nesting error, so a test can assert the page is well formed."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text_by_tag: dict[str, list[str]] = {}
        self._capture: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in _VOID:
            self.stack.append(tag)
            self._capture.append("")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in _VOID and tag not in _SELF_CLOSING_OK:
            self.errors.append(f"<{tag}/> is not a void element")

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
            return
        self.stack.pop()
        text = self._capture.pop()
        self.text_by_tag.setdefault(tag, []).append(" ".join(text.split()))
        if self._capture:
            self._capture[-1] += " " + text

    def handle_data(self, data: str) -> None:
        if self._capture:
            self._capture[-1] += data


def check_page(html: str) -> _Checker:
    """Parse a page and assert what every page must have: well formed, one h1, skip link, en-GB."""
    c = _Checker()
    c.feed(html)
    c.close()
    assert c.errors == []
    assert c.stack == []
    assert html.lstrip().startswith("<!DOCTYPE html>")
    assert [t for t, _ in c.tags].count("h1") == 1
    html_attrs = next(a for t, a in c.tags if t == "html")
    assert html_attrs["lang"] == "en-GB"
    skip = [a for t, a in c.tags if t == "a" and "nhsuk-skip-link" in (a.get("class") or "")]
    assert skip and skip[0]["href"] == "#maincontent"
    assert any(t == "main" and a.get("id") == "maincontent" for t, a in c.tags)
    assert any(t == "header" and "nhsuk-header" in (a.get("class") or "") for t, a in c.tags)
    assert any(t == "footer" for t, _ in c.tags)
    assert "UEC Resilience" in c.text_by_tag["header"][0]
    # Every table has a caption and every header cell a scope.
    tables = [t for t, _ in c.tags].count("table")
    assert [t for t, _ in c.tags].count("caption") == tables
    assert all(a.get("scope") in ("col", "row") for t, a in c.tags if t == "th")
    return c


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def csv_value(rows: list[dict[str, str]], **match: str) -> float:
    found = [r for r in rows if all(r[k] == v for k, v in match.items())]
    assert len(found) == 1, (match, found)
    return float(found[0]["value"])


def by_day(expected: dict[int, int]) -> dict[str, int]:
    return {d.isoformat(): expected.get(d.day, 0) for d in WINDOW_DAYS}


# --- overview -------------------------------------------------------------------------------------


def test_overview_json_matches_hand_computed_numbers(web_client: TestClient) -> None:
    ov = web_client.get("/overview.json").json()
    assert ov["has_data"] is True
    assert ov["time_zone"] == "Europe/London"
    assert ov["window"]["reporting_day"] == REPORTING_DAY.isoformat()
    assert ov["window"]["days"] == [d.isoformat() for d in WINDOW_DAYS]
    # Midnight BST on 1 July is 23:00 UTC on 30 June.
    assert ov["window"]["start_utc"] == "2025-06-30T23:00:00Z"
    assert ov["latest_event_time"] == "2025-07-07T20:00:00Z"
    activity = {m["measure"]: m for m in ov["activity"]}
    assert list(activity) == list(EXPECTED_ACTIVITY)
    for key, expected in EXPECTED_ACTIVITY.items():
        assert activity[key]["by_day"] == by_day(expected), key
        assert activity[key]["yesterday"] == expected.get(7, 0), key
        assert activity[key]["last_7_days"] == sum(expected.values()), key
    beds = {(b["site_code"], b["bed_type"]): b for b in ov["beds"]}
    assert set(beds) == {("RAA01", "g_and_a"), ("RAA01", "g_and_a_escalation"), ("RAA01", "critical_care")}
    assert beds[("RAA01", "g_and_a")]["beds_occupied"] == 470  # the latest census, not the 480 before it
    assert beds[("RAA01", "g_and_a")]["snapshot_time"] == "2025-07-07T07:00:00Z"
    assert beds[("RAA01", "critical_care")]["occupancy_pct"] == 90.0
    assert ov["beds_g_and_a_total"] == {"beds_open": 520, "beds_occupied": 490, "occupancy_pct": 94.2}
    sites = {s["site_code"]: s for s in ov["sites"]}
    assert set(sites) == {"RAA01", "RAA02"}
    assert sites["RAA01"]["org_name"] == "Riverside Hospitals NHS Trust"
    assert [sv["service_id"] for sv in sites["RAA01"]["services"]] == ["S1", "S2", "S3"]
    assert sites["RAA02"]["services"][0]["hours"] == "8am to 10pm"
    assert sites["RAA01"]["services"][0]["hours"] == "24 hours"


def test_overview_csv_agrees_with_json(web_client: TestClient) -> None:
    r = web_client.get("/overview.csv")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = read_csv(r.text)
    ov = web_client.get("/overview.json").json()
    for m in ov["activity"]:
        for day, n in m["by_day"].items():
            assert csv_value(rows, section="activity", measure=m["measure"], period=day) == n
        assert csv_value(rows, section="activity", measure=m["measure"], period=PERIOD) == m["last_7_days"]
    for b in ov["beds"]:
        match = {"section": "beds", "site_code": b["site_code"], "subject": b["bed_type"]}
        assert csv_value(rows, **match, measure="beds_open") == b["beds_open"]
        assert csv_value(rows, **match, measure="beds_occupied") == b["beds_occupied"]
        assert csv_value(rows, **match, measure="occupancy") == b["occupancy_pct"]
    assert csv_value(rows, section="beds", subject="g_and_a_all", measure="occupancy") == 94.2
    for s in ov["sites"]:
        assert csv_value(rows, section="sites", site_code=s["site_code"]) == s["population_served"]
        for sv in s["services"]:
            assert csv_value(rows, section="services", subject=sv["service_id"]) == sv["capacity"]
    # Hand-computed spot checks straight from the CSV.
    assert csv_value(rows, measure="calls_111", period="2025-07-07") == 3
    assert csv_value(rows, measure="ambulance_conveyances", period=PERIOD) == 5


def test_api_overview_is_the_json_sibling(web_client: TestClient) -> None:
    assert web_client.get("/api/overview").json() == web_client.get("/overview.json").json()


def test_overview_page_shows_the_numbers(web_client: TestClient) -> None:
    r = web_client.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    c = check_page(r.text)
    h1 = c.text_by_tag["h1"][0]
    assert "overview" in h1.lower()
    text = " ".join(c.text_by_tag["main"])
    assert "Yesterday: Monday 7 July 2025" in text
    assert "Europe/London" in text
    assert "9pm BST on Monday 7 July 2025" in text  # the latest record, in UK time with the zone
    assert "8am BST on Monday 7 July 2025" in text  # the bed census
    assert "94.2%" in text and "490 of 520" in text
    assert "Riverside General Hospital" in text and "Hilltop UTC" in text
    assert "8am to 10pm" in text and "40 cubicles" in text
    # The 7-day table's NHS 111 row: 1 July .. 7 July and the total.
    rows = [r for r in c.text_by_tag["tr"] if r.startswith("NHS 111 calls")]
    assert rows == ["NHS 111 calls 1 0 0 0 0 1 3 5"]
    hrefs = [a.get("href") for t, a in c.tags if t == "a"]
    assert "/overview.csv" in hrefs and "/overview.json" in hrefs
    assert "/sites/RAA01" in hrefs and "/sites/RAA02" in hrefs
    assert "Download this data as CSV" in text and "Download this data as JSON" in text


def test_yesterday_is_the_day_before_today_when_data_runs_into_today(web_store: str) -> None:
    # Seen at 10pm BST on 7 July, the 7th is not over: "yesterday" is the 6th.
    ov = overview(open_store(web_store), now=datetime(2025, 7, 7, 21, 0, tzinfo=UTC))
    assert ov.window is not None
    assert ov.window.reporting_day == date(2025, 7, 6)
    calls = next(m for m in ov.activity if m.measure == "calls_111")
    assert calls.yesterday == 1
    # 30 June to 6 July: c5 (23:59 BST on 30 June), c6 (midnight on 1 July) and c4 (6 July).
    assert calls.last_7_days == 3


# --- site pages -----------------------------------------------------------------------------------


def test_site_json_matches_hand_computed_numbers(web_client: TestClient) -> None:
    sd = web_client.get("/sites/RAA01.json").json()
    assert sd["site"]["name"] == "Riverside General Hospital"
    att = {m["measure"]: m for m in sd["attendances"]}
    assert list(att) == ["ed_type1", "sdec", "all"]
    assert att["ed_type1"]["by_day"] == by_day({7: 2, 3: 1})
    assert att["sdec"]["last_7_days"] == 1
    assert att["all"]["by_day"] == by_day({7: 3, 3: 1})
    assert att["all"]["last_7_days"] == 4  # a7 on 29 June is outside the window
    amb = {a["period"]: a for a in sd["ambulance"]}
    assert amb["2025-07-07"] == {
        "period": "2025-07-07",
        "arrivals": 3,
        "handovers": 2,
        "handover_median_minutes": 30.0,  # 15 and 45 minutes
        "handovers_over_30_minutes": 1,
        "handovers_over_60_minutes": 0,
    }
    assert amb["2025-07-05"]["handover_median_minutes"] == 70.0
    assert amb["2025-07-01"]["handover_median_minutes"] is None
    assert sd["ambulance_7_days"] == {
        "period": PERIOD,
        "arrivals": 4,
        "handovers": 3,
        "handover_median_minutes": 45.0,
        "handovers_over_30_minutes": 2,
        "handovers_over_60_minutes": 1,
    }
    assert [(b["bed_type"], b["beds_occupied"]) for b in sd["beds"]] == [
        ("g_and_a", 470),
        ("g_and_a_escalation", 20),
        ("critical_care", 18),
    ]


def test_utc_site_counts_a_late_utc_arrival_on_the_next_london_day(web_client: TestClient) -> None:
    sd = web_client.get("/api/sites/RAA02").json()
    utc_att = next(m for m in sd["attendances"] if m["measure"] == "utc")
    # a4 arrived at 23:30 UTC on 6 July, which is 00:30 BST on 7 July.
    assert utc_att["by_day"]["2025-07-07"] == 1
    assert utc_att["by_day"]["2025-07-06"] == 0
    assert sd["beds"] == []
    assert all(a["arrivals"] == 0 for a in sd["ambulance"])


@pytest.mark.parametrize("code", ["RAA01", "RAA02"])
def test_site_csv_agrees_with_json(web_client: TestClient, code: str) -> None:
    sd = web_client.get(f"/sites/{code}.json").json()
    rows = read_csv(web_client.get(f"/sites/{code}.csv").text)
    assert {r["site_code"] for r in rows} == {code}
    for m in sd["attendances"]:
        for day, n in m["by_day"].items():
            assert csv_value(rows, section="attendances", subject=m["measure"], period=day) == n
        assert csv_value(rows, section="attendances", subject=m["measure"], period=PERIOD) == m["last_7_days"]
    for a in [*sd["ambulance"], sd["ambulance_7_days"]]:
        for measure, value in a.items():
            if measure == "period":
                continue
            match = {"section": "ambulance", "measure": measure, "period": a["period"]}
            if value is None:
                assert not [r for r in rows if all(r[k] == v for k, v in match.items())]
            else:
                assert csv_value(rows, **match) == value
    for b in sd["beds"]:
        assert csv_value(rows, section="beds", subject=b["bed_type"], measure="beds_open") == b["beds_open"]
    assert csv_value(rows, section="sites", measure="population_served") == sd["site"]["population_served"]
    for sv in sd["site"]["services"]:
        assert csv_value(rows, section="services", subject=sv["service_id"]) == sv["capacity"]


def test_site_page_shows_the_numbers(web_client: TestClient) -> None:
    r = web_client.get("/sites/RAA01")
    assert r.status_code == 200
    c = check_page(r.text)
    assert c.text_by_tag["h1"][0].endswith("Riverside General Hospital")
    text = " ".join(c.text_by_tag["main"])
    assert "Monday 7 July 2025" in text and "Europe/London" in text
    assert "Beds at the census at 8am BST on Monday 7 July 2025" in text
    rows = c.text_by_tag["tr"]
    assert "Monday 7 July 2025 2 1 3" in rows  # ED type 1, SDEC, all
    assert "Monday 7 July 2025 3 2 30 1 0" in rows  # ambulance arrivals and handovers
    assert "7 days 4 3 45 2 1" in rows
    assert "General and acute (core) 500 470 94.0%" in rows
    breadcrumb = [a for t, a in c.tags if t == "a" and "nhsuk-breadcrumb__link" in (a.get("class") or "")]
    assert breadcrumb and breadcrumb[0]["href"] == "/"
    hrefs = [a.get("href") for t, a in c.tags if t == "a"]
    assert "/sites/RAA01.csv" in hrefs and "/sites/RAA01.json" in hrefs


def test_api_sites_lists_every_site(web_client: TestClient) -> None:
    sites = web_client.get("/api/sites").json()
    assert [s["site_code"] for s in sites] == ["RAA02", "RAA01"]  # by name: Hilltop before Riverside


# --- errors ---------------------------------------------------------------------------------------


def test_unknown_site_page_is_an_nhs_styled_404(web_client: TestClient) -> None:
    r = web_client.get("/sites/NOPE")
    assert r.status_code == 404
    c = check_page(r.text)
    assert c.text_by_tag["h1"] == ["Page not found"]
    assert "There is no site with code NOPE in the store." in " ".join(c.text_by_tag["main"])


@pytest.mark.parametrize("url", ["/sites/NOPE.json", "/api/sites/NOPE"])
def test_unknown_site_json_is_a_404_with_detail(web_client: TestClient, url: str) -> None:
    r = web_client.get(url)
    assert r.status_code == 404
    assert r.json() == {"detail": "There is no site with code NOPE in the store."}


def test_unknown_site_csv_is_a_404(web_client: TestClient) -> None:
    r = web_client.get("/sites/NOPE.csv")
    assert r.status_code == 404
    assert "NOPE" in r.json()["detail"]


def test_unknown_page_is_an_nhs_styled_404(web_client: TestClient) -> None:
    r = web_client.get("/no/such/page")
    assert r.status_code == 404
    c = check_page(r.text)
    assert "/no/such/page" in " ".join(c.text_by_tag["main"])


def test_store_that_cannot_be_opened_is_a_503_with_the_reason(tmp_path: Path) -> None:
    client = TestClient(signed_in(create_app(str(tmp_path))))  # a folder, not a store file
    r = client.get("/")
    assert r.status_code == 503
    c = check_page(r.text)
    assert "is a folder" in " ".join(c.text_by_tag["main"])
    r = client.get("/overview.json")
    assert r.status_code == 503
    assert "is a folder" in r.json()["detail"]


# --- empty store and live updates -----------------------------------------------------------------


def test_empty_store_says_how_to_load_data(empty_store: str) -> None:
    client = TestClient(signed_in(create_app(empty_store)))
    r = client.get("/")
    assert r.status_code == 200
    c = check_page(r.text)
    text = " ".join(c.text_by_tag["main"])
    assert "No data yet: run uec demo" in text and "uec ingest" in text
    ov = client.get("/overview.json").json()
    assert ov["has_data"] is False and ov["window"] is None and ov["activity"] == []
    assert client.get("/overview.csv").text.strip() == "section,site_code,subject,measure,period,value,unit"
    assert client.get("/api/sites").json() == []


def test_sites_without_activity_still_show(tmp_path: Path) -> None:

    store = write_fixture(tmp_path / "ref.duckdb", {k: FIXTURE[k] for k in ("organisations", "sites", "services")})
    client = TestClient(signed_in(create_app(store)))
    c = check_page(client.get("/").text)
    text = " ".join(c.text_by_tag["main"])
    assert "Riverside General Hospital" in text and "No activity has been recorded yet" in text
    c = check_page(client.get("/sites/RAA01").text)
    assert "No activity has been recorded yet" in " ".join(c.text_by_tag["main"])
    assert client.get("/sites/RAA01.json").json()["window"] is None


def test_store_is_not_held_open_between_requests(tmp_path: Path) -> None:

    path = write_fixture(tmp_path / "live.duckdb", FIXTURE)
    client = TestClient(signed_in(create_app(path)))
    assert client.get("/overview.json").json()["activity"][0]["yesterday"] == 3
    # Another writer appends while the app is running; the next request sees it.
    call: dict[str, Any] = {
        "call_id": "c9",
        "org_code": "N11",
        "call_time": utc("2025-07-07T16:00"),
        "disposition": "ed",
    }
    write_fixture(path, {"calls_111": [call]})
    assert client.get("/overview.json").json()["activity"][0]["yesterday"] == 4


# --- frontend assets and docs ---------------------------------------------------------------------


def test_frontend_assets_are_served_from_the_dist_folder(
    tmp_path: Path, web_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    dist = tmp_path / "nhsuk-frontend" / "dist"
    (dist / "nhsuk").mkdir(parents=True)
    (dist / "nhsuk" / "nhsuk-frontend.min.css").write_text(".nhsuk-header{background:#005eb8}")
    (dist / "nhsuk" / "assets" / "images").mkdir(parents=True)
    (dist / "nhsuk" / "assets" / "images" / "favicon.svg").write_text("<svg/>")
    monkeypatch.setenv("UEC_FRONTEND_DIR", str(dist.parent))  # the package folder works as well as dist
    assert find_frontend_dir() == dist
    client = TestClient(signed_in(create_app(web_store)))
    css = client.get("/nhsuk-frontend/nhsuk/nhsuk-frontend.min.css")
    assert css.status_code == 200 and "#005eb8" in css.text
    # The stylesheet refers to its images at /assets/..., so they are served there too.
    assert client.get("/assets/images/favicon.svg").text == "<svg/>"
    page = client.get("/").text
    assert 'href="/nhsuk-frontend/nhsuk/nhsuk-frontend.min.css"' in page
    assert 'href="/assets/images/favicon.svg"' in page


def test_missing_frontend_logs_one_warning_and_pages_still_work(
    tmp_path: Path, web_store: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("UEC_FRONTEND_DIR", str(tmp_path / "missing"))
    with caplog.at_level(logging.WARNING, logger="uec.web"):
        client = TestClient(signed_in(create_app(web_store)))
        r = client.get("/")
    warnings = [rec.getMessage() for rec in caplog.records if rec.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "npm ci" in warnings[0] and "UEC_FRONTEND_DIR" in warnings[0]
    assert r.status_code == 200
    assert "nhsuk-frontend.min.css" not in r.text
    check_page(r.text)


def test_health_answers_for_uec_ping(web_client: TestClient, tmp_path: Path) -> None:
    health = web_client.get("/api/health").json()
    assert health["status"] == "ok" and health["engine"] == "duckdb"
    assert health["rows"]["attendances"] == 7
    broken = TestClient(signed_in(create_app(str(tmp_path)))).get("/api/health")
    assert broken.status_code == 503 and "is a folder" in broken.json()["detail"]


def test_openapi_docs_list_the_api(web_client: TestClient) -> None:
    assert web_client.get("/docs").status_code == 200
    paths = web_client.get("/openapi.json").json()["paths"]
    assert {"/api/overview", "/api/sites", "/api/sites/{site_code}", "/api/health", "/overview.csv"} <= set(paths)
    assert "/" not in paths  # pages are for people, not the API reference


# --- both engines ---------------------------------------------------------------------------------


def test_both_engines_give_the_same_numbers(store_url: str, web_client: TestClient) -> None:
    """The pages' SQL is portable: PostgreSQL gives what DuckDB gives (``store_url`` runs both)."""
    write_fixture(store_url, FIXTURE)
    client = TestClient(signed_in(create_app(store_url)))
    for url in ("/overview.json", "/sites/RAA01.json", "/sites/RAA02.json", "/overview.csv", "/sites/RAA01.csv"):
        assert client.get(url).text == web_client.get(url).text, url
