"""The first screen's "now" figures on both engines, worked out by hand, and what the pages make of them.

A small store where every patient's place at the data's time is known: who is in the department,
who has waited over 12 hours, who has a decision to admit, which ambulance is still waiting, who no
longer meets the criteria to reside. The browser test (tests/functional/test_functional_first_screen.py)
checks the same figures on the page against the API over a demo ICS.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from web_fixture import FIXTURE, signed_in, write_fixture

from uec.contract import table
from uec.store import Store
from uec.web import create_app
from uec.web.data import list_sites, overview
from uec.web.first_screen import first_screen, now_board, site_page

T = datetime(2025, 7, 7, 21, 0, tzinfo=UTC)  # the newest event: a 111 call


def h(hours: float) -> datetime:
    return T - timedelta(hours=hours)


def _rows(with_ctr: bool = True) -> dict[str, list[dict[str, Any]]]:
    ed: dict[str, Any] = {"site_code": "RAA01", "service_type": "ed_type1"}
    return {
        **{k: v for k, v in FIXTURE.items() if k in ("organisations", "services")},
        "sites": [*FIXTURE["sites"], {"site_code": "N1101", "org_code": "N11", "name": "Test 111 Contact Centre",
                                      "site_type": "call_centre"}],
        "calls_111": [{"call_id": "c1", "org_code": "N11", "call_time": T, "disposition": "ed", "booked_slot": True},
                      {"call_id": "c2", "org_code": "N11", "call_time": h(30), "disposition": "self_care"}],
        "attendances": [
            # In the department 13 hours, admitted 2 hours ago: in ED, over 12 hours, a decision waiting.
            {"attendance_id": "a1", **ed, "arrival_time": h(13), "decision_to_admit_time": h(2)},
            # Arrived an hour ago, leaves in an hour (the data was made later): in ED.
            {"attendance_id": "a2", **ed, "arrival_time": h(1), "departure_time": T + timedelta(hours=1)},
            # Gone an hour ago.
            {"attendance_id": "a3", **ed, "arrival_time": h(5), "departure_time": h(1)},
            # No departure recorded 80 hours on: a gap in the data, not a patient (beyond the 72-hour look-back).
            {"attendance_id": "a4", **ed, "arrival_time": h(80)},
            # At the urgent treatment centre: not an emergency department.
            {"attendance_id": "a5", "site_code": "RAA02", "service_type": "utc", "arrival_time": h(1)},
        ],
        "ambulance_incidents": [
            {"incident_id": "i1", "org_code": "RAM", "call_time": h(1.5), "category": "C2", "outcome": "conveyed_ed",
             "destination_site": "RAA01", "hospital_arrival_time": h(0.5)},
            {"incident_id": "i2", "org_code": "RAM", "call_time": h(3), "category": "C2", "outcome": "conveyed_ed",
             "destination_site": "RAA01", "hospital_arrival_time": h(2), "handover_time": h(1)},
            {"incident_id": "i3", "org_code": "RAM", "call_time": h(26), "category": "C3", "outcome": "conveyed_ed",
             "destination_site": "RAA01", "hospital_arrival_time": h(25)},
        ],
        "spells": [
            {"spell_id": "s1", "site_code": "RAA01", "admission_time": h(120),
             "criteria_to_reside_end_time": h(24) if with_ctr else None},
            {"spell_id": "s2", "site_code": "RAA01", "admission_time": h(48)},
            {"spell_id": "s3", "site_code": "RAA01", "admission_time": h(240), "discharge_time": h(72),
             "criteria_to_reside_end_time": h(96) if with_ctr else None},
        ],
        "bed_states": [
            {"site_code": "RAA01", "snapshot_time": h(14), "bed_type": "g_and_a", "beds_open": 10, "beds_occupied": 8},
            {"site_code": "RAA01", "snapshot_time": h(14), "bed_type": "g_and_a_escalation", "beds_open": 2,
             "beds_occupied": 2},
        ],
    }


def _load(store: Store, rows: dict[str, list[dict[str, Any]]]) -> None:
    with store.write() as w:
        for name, table_rows in rows.items():
            w.append(name, pa.Table.from_pylist(table_rows, schema=table(name).arrow_schema()))


def _board(store: Store) -> Any:
    ov = overview(store, now=T + timedelta(days=1))
    return now_board(store, list_sites(store), ov.beds, now=T + timedelta(days=1))


def test_now_is_worked_out_from_the_events(store: Store) -> None:
    _load(store, _rows())
    board = _board(store)
    assert board.as_at == T
    ics, *sites = board.rows
    assert [r.code for r in sites] == ["RAA01"]  # the UTC has no emergency department and no beds
    got = {k: getattr(sites[0], k) for k in ("in_ed", "over_12_hours", "dta_waiting", "ambulances_waiting",
                                             "beds_open", "beds_occupied", "beds_free", "occupancy_pct",
                                             "no_criteria_to_reside")}
    assert got == {"in_ed": 2, "over_12_hours": 1, "dta_waiting": 1, "ambulances_waiting": 1, "beds_open": 12,
                   "beds_occupied": 10, "beds_free": 2, "occupancy_pct": 83.3, "no_criteria_to_reside": 1}
    assert sites[0].longest_wait_hours == 13.0 and sites[0].longest_handover_minutes == 30
    assert sites[0].census_time == h(14)
    assert (ics.level, ics.name, ics.in_ed, ics.beds_free, ics.no_criteria_to_reside) == ("ics", "Whole ICS", 2, 2, 1)
    assert board.ctr_missing == []


def test_criteria_to_reside_not_recorded_is_not_available_not_zero(store: Store) -> None:
    _load(store, _rows(with_ctr=False))
    board = _board(store)
    assert [r.no_criteria_to_reside for r in board.rows] == [None, None]
    assert board.ctr_missing == ["Riverside General Hospital"]


def test_now_is_never_later_than_the_clock(store: Store) -> None:
    _load(store, _rows())
    board = now_board(store, list_sites(store), [], now=h(0.75))
    assert board is not None
    # At 20:15 the ambulance that arrived at 20:30 is not there yet and the 111 call not made.
    assert board.as_at == h(0.75)
    assert board.rows[1].ambulances_waiting == 0 and board.rows[1].in_ed == 2


def test_the_111_site_page_counts_calls_by_disposition(store: Store) -> None:
    _load(store, _rows())
    page = site_page(store, "N1101", now=T + timedelta(days=1))
    assert page is not None and page.calls_111 is not None
    c = page.calls_111
    assert (c.yesterday, c.last_7_days, c.booked_7_days) == (1, 2, 1)
    assert {m.measure: m.last_7_days for m in c.dispositions} == {"ed": 1, "self_care": 1}
    assert "Calls answered within 60 seconds" in c.not_available
    assert page.has_emergency_care is False and page.now is None


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = write_fixture(tmp_path_factory.mktemp("first") / "uec.duckdb", _rows())
    with TestClient(signed_in(create_app(path))) as c:
        yield c


def test_overview_page_json_and_csv_carry_the_now_figures(client: TestClient) -> None:
    j = client.get("/overview.json").json()
    assert j == client.get("/api/overview").json()
    assert j["now"]["rows"][0]["in_ed"] == 2 and j["now"]["source"] == "events"
    assert [k["id"] for k in j["key_standards"]] == ["ed-4hr", "ed-12hr-arrival", "amb-handover-45", "amb-c2-mean",
                                                      "beds-ga-occupancy"]
    page = client.get("/").text
    assert 'id="now-table"' in page and 'data-figure="dta_waiting"' in page
    assert "Now: 10pm BST on Monday 7 July 2025" in page
    rows = list(csv.DictReader(io.StringIO(client.get("/overview.csv").text)))
    now = {(r["site_code"], r["measure"]): r["value"] for r in rows if r["section"] == "now"}
    assert now[("", "in_ed")] == "2" and now[("RAA01", "ambulances_waiting")] == "1"
    assert now[("", "occupancy_pct")] == "83.3"


def test_site_page_has_the_site_now_and_no_ed_tables_where_there_is_no_emergency_care(client: TestClient) -> None:
    j = client.get("/api/sites/RAA01").json()
    assert j["now"]["dta_waiting"] == 1 and j["has_emergency_care"] is True
    assert "Now: 10pm BST" in client.get("/sites/RAA01").text
    utc = client.get("/api/sites/RAA02").json()
    assert utc["now"] is None and utc["has_emergency_care"] is True  # it saw an attendance


def test_models_on_an_empty_store(store: Store) -> None:
    fs = first_screen(store)
    assert fs.now is None and fs.key_standards == []
    assert site_page(store, "NOPE") is None


def test_occupancy_projection_names_its_sites_and_totals_the_ics(tmp_path_factory: pytest.TempPathFactory) -> None:
    start = datetime(2025, 1, 6, 12, tzinfo=UTC)
    spells = [
        {"spell_id": f"{site}-{d}", "site_code": site, "admission_time": start + timedelta(days=d),
         "admission_method": "emergency", "age_band": "18-64",
         "discharge_time": start + timedelta(days=d, hours=50) if d < 58 else None}
        for site in ("RAA01", "RAA02") for d in range(60)
    ]
    rows = {k: v for k, v in FIXTURE.items() if k in ("organisations", "sites", "services")} | {"spells": spells}
    path = write_fixture(tmp_path_factory.mktemp("occ") / "uec.duckdb", rows)
    with TestClient(signed_in(create_app(path))) as c:
        page = c.get("/occupancy?days=2").text
    assert "Riverside General Hospital: beds occupied at midnight" in page
    assert "Hilltop Urgent Treatment Centre: beds occupied at midnight" in page
    assert 'id="next-day-ics"' in page and "Whole ICS now" in page
    assert ">RAA01</a>" not in page  # named, not coded


def test_the_111_site_page_shows_call_handling_where_the_data_has_it(store: Store) -> None:
    # Two quarter-hours yesterday and one four days earlier: yesterday's shares and the 7 days' sums.
    day = T + timedelta(days=1)
    handling = [
        {"org_code": "N11", "period_start": h(1), "period_end": h(0.75), "calls_offered": 40, "calls_answered": 38,
         "calls_abandoned": 2, "answered_within_60s": 30},
        {"org_code": "N11", "period_start": h(2), "period_end": h(1.75), "calls_offered": 10, "calls_answered": 10,
         "calls_abandoned": 0, "answered_within_60s": 10},
        {"org_code": "N11", "period_start": h(96), "period_end": h(95.75), "calls_offered": 50,
         "calls_answered": 45, "calls_abandoned": 5, "answered_within_60s": 20},
    ]
    _load(store, {**_rows(), "calls_111_handling": handling})
    page = site_page(store, "N1101", now=day)
    assert page is not None and page.calls_111 is not None
    c = page.calls_111
    assert c.handling_yesterday is not None and c.handling_7_days is not None
    assert (c.handling_yesterday.offered, c.handling_yesterday.abandoned) == (50, 2)
    assert c.handling_yesterday.within_60s_share == pytest.approx(40 / 48)
    assert (c.handling_7_days.offered, c.handling_7_days.answered, c.handling_7_days.abandoned) == (100, 93, 7)
    assert c.not_available == []


def test_the_111_site_page_renders_call_handling(tmp_path_factory: pytest.TempPathFactory) -> None:
    handling = [{"org_code": "N11", "period_start": h(1), "period_end": h(0.75), "calls_offered": 40,
                 "calls_answered": 38, "calls_abandoned": 2, "answered_within_60s": 19}]
    path = write_fixture(tmp_path_factory.mktemp("handling") / "uec.duckdb",
                         {**_rows(), "calls_111_handling": handling})
    with TestClient(signed_in(create_app(path))) as c:
        page = c.get("/sites/N1101")
    assert page.status_code == 200
    assert "Calls offered yesterday" in page.text and "Abandoned (7 days)" in page.text
    assert "50.0%" in page.text  # 19 of 38 answered within 60 seconds
    assert "Not available: these need NHS 111 call-handling records" not in page.text
