"""The "start from now" state read from the store: who is where at an instant, on both stores and a demo."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa
import pytest

from uec.contract import table
from uec.demo import build_demo
from uec.errors import UecError
from uec.store import Store, open_store
from uec.system.state import current_state, latest_event_time


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


AS_OF = utc("2025-07-07T21:00")


def att(attendance_id: str, site: str, service: str, arrival: str, dta: str | None = None, dep: str | None = None,
        **more: Any) -> dict[str, Any]:
    return {"attendance_id": attendance_id, "site_code": site, "service_type": service, "arrival_time": utc(arrival),
            "decision_to_admit_time": dta and utc(dta), "departure_time": dep and utc(dep), **more}

ROWS: dict[str, list[dict[str, Any]]] = {
    "organisations": [
        {"org_code": "QXX", "name": "Test ICB", "org_type": "ics"},
        {"org_code": "RAA", "name": "Riverside Trust", "org_type": "acute_trust", "ics_code": "QXX"},
        {"org_code": "RAM", "name": "Test Ambulance Service", "org_type": "ambulance_trust", "ics_code": "QXX"},
    ],
    "sites": [
        {"site_code": "RAA01", "org_code": "RAA", "name": "Riverside General", "site_type": "acute_hospital"},
        {"site_code": "RAA02", "org_code": "RAA", "name": "Hilltop UTC", "site_type": "utc_site"},
        {"site_code": "RAM01", "org_code": "RAM", "name": "Ambulance base", "site_type": "ambulance_base"},
        {"site_code": "RAA03", "org_code": "RAA", "name": "Lakeside General", "site_type": "acute_hospital"},
    ],
    "services": [
        {"service_id": "S1", "site_code": "RAA01", "service_type": "ed_type1", "name": "Riverside ED"},
        {"service_id": "S2", "site_code": "RAA02", "service_type": "utc", "name": "Hilltop UTC"},
        {"service_id": "S3", "site_code": "RAA03", "service_type": "ed_type1", "name": "Lakeside ED"},
        {"service_id": "S4", "site_code": "RAM01", "service_type": "ambulance", "name": "Crews"},
    ],
    "attendances": [
        # In the department, no decision yet.
        att("e1", "RAA01", "ed_type1", "2025-07-07T20:00", acuity=3, arrival_mode="walk_in", age_band="18-64"),
        # Decided to admit at 10:00, still waiting for a bed 13 hours after arrival.
        att("e2", "RAA01", "ed_type1", "2025-07-07T08:00", dta="2025-07-07T10:00", dep="2025-07-07T23:00"),
        # Gone before the instant.
        att("e3", "RAA01", "ed_type1", "2025-07-07T18:00", dep="2025-07-07T20:30"),
        # Present; its decision to admit comes later, so it is not known yet.
        att("e4", "RAA01", "ed_type1", "2025-07-07T19:00", dta="2025-07-07T22:00", dep="2025-07-07T23:30"),
        att("e5", "RAA02", "utc", "2025-07-07T20:59"),
        # A stale record with no departure: not in the department for ever.
        att("e6", "RAA01", "ed_type1", "2025-06-20T10:00"),
        # Not arrived yet.
        att("e7", "RAA01", "ed_type1", "2025-07-07T21:30"),
        # Left exactly at the instant.
        att("e8", "RAA01", "sdec", "2025-07-07T15:00", dep="2025-07-07T21:00"),
    ],
    "spells": [
        {"spell_id": "s1", "site_code": "RAA01", "admission_time": utc("2025-07-01T12:00"), "age_band": "85+",
         "criteria_to_reside_end_time": utc("2025-07-06T10:00"), "discharge_pathway": 1},
        # Stops meeting the criteria later: neither that time nor the pathway is known yet.
        {"spell_id": "s2", "site_code": "RAA01", "admission_time": utc("2025-07-05T12:00"),
         "criteria_to_reside_end_time": utc("2025-07-07T22:00"), "discharge_time": utc("2025-07-08T12:00"),
         "discharge_pathway": 2},
        {"spell_id": "s3", "site_code": "RAA01", "admission_time": utc("2025-07-02T12:00"),
         "discharge_time": utc("2025-07-07T20:00")},
        {"spell_id": "s4", "site_code": "RAA01", "admission_time": utc("2025-07-07T21:30")},
    ],
    "ambulance_incidents": [
        {"incident_id": "i1", "org_code": "RAM", "call_time": utc("2025-07-07T19:50"), "category": "C2",
         "outcome": "conveyed_ed", "destination_site": "RAA01", "hospital_arrival_time": utc("2025-07-07T20:30")},
        {"incident_id": "i2", "org_code": "RAM", "call_time": utc("2025-07-07T19:00"), "category": "C3",
         "outcome": "conveyed_ed", "destination_site": "RAA01", "hospital_arrival_time": utc("2025-07-07T20:00"),
         "handover_time": utc("2025-07-07T20:20")},
        {"incident_id": "i3", "org_code": "RAM", "call_time": utc("2025-07-07T20:10"), "category": "C1",
         "outcome": "conveyed_ed", "destination_site": "RAA01", "hospital_arrival_time": utc("2025-07-07T20:45"),
         "handover_time": utc("2025-07-07T21:15")},
        {"incident_id": "i4", "org_code": "RAM", "call_time": utc("2025-07-07T20:00"), "category": "C2",
         "outcome": "see_and_treat"},
        {"incident_id": "i5", "org_code": "RAM", "call_time": utc("2025-07-05T09:00"), "category": "C3",
         "outcome": "conveyed_ed", "destination_site": "RAA01", "hospital_arrival_time": utc("2025-07-05T10:00")},
    ],
    "bed_states": [
        {"site_code": "RAA01", "snapshot_time": utc("2025-07-06T07:00"), "bed_type": "g_and_a",
         "beds_open": 500, "beds_occupied": 480},
        {"site_code": "RAA01", "snapshot_time": utc("2025-07-07T07:00"), "bed_type": "g_and_a",
         "beds_open": 500, "beds_occupied": 470},
        {"site_code": "RAA01", "snapshot_time": utc("2025-07-07T07:00"), "bed_type": "g_and_a_escalation",
         "beds_open": 20, "beds_occupied": 20},
        {"site_code": "RAA01", "snapshot_time": utc("2025-07-07T07:00"), "bed_type": "critical_care",
         "beds_open": 20, "beds_occupied": 18},
        # A census after the instant, which must not be used.
        {"site_code": "RAA01", "snapshot_time": utc("2025-07-07T22:00"), "bed_type": "g_and_a",
         "beds_open": 510, "beds_occupied": 505},
    ],
}


@pytest.fixture
def loaded(store: Store) -> Store:
    with store.write() as w:
        for name, rows in ROWS.items():
            w.append(name, pa.Table.from_pylist(rows, schema=table(name).arrow_schema()))
    return store


def test_who_is_where_at_the_instant(loaded: Store) -> None:
    s = current_state(loaded, AS_OF)
    assert s.as_of == AS_OF
    # Sites with an ED, UTC or beds, empty or not; the ambulance base is not one.
    assert [x.site_code for x in s.sites] == ["RAA01", "RAA02", "RAA03"]
    r1 = s.site("RAA01")
    assert r1.name == "Riverside General"
    assert [p.attendance_id for p in r1.ed_patients] == ["e2", "e4", "e1"]
    e2, e4, e1 = r1.ed_patients
    assert e2.decided_to_admit and e2.decision_to_admit_time == utc("2025-07-07T10:00")
    assert not e4.decided_to_admit  # decided at 22:00, after the instant
    assert (e1.acuity, e1.arrival_mode, e1.age_band, e1.service_type) == (3, "walk_in", "18-64", "ed_type1")
    assert [p.attendance_id for p in s.site("RAA02").ed_patients] == ["e5"]

    assert [p.spell_id for p in r1.inpatients] == ["s1", "s2"]
    s1, s2 = r1.inpatients
    assert s1.no_criteria_to_reside and s1.criteria_to_reside_end_time == utc("2025-07-06T10:00")
    assert s1.discharge_pathway == 1 and s1.age_band == "85+"
    assert not s2.no_criteria_to_reside and s2.criteria_to_reside_end_time is None and s2.discharge_pathway is None

    assert [(a.incident_id, a.category) for a in r1.ambulances] == [("i1", "C2"), ("i3", "C1")]
    assert r1.ambulances[0].hospital_arrival_time == utc("2025-07-07T20:30")

    assert {(b.bed_type, b.beds_open, b.beds_occupied) for b in r1.beds} == {
        ("g_and_a", 500, 470), ("g_and_a_escalation", 20, 20), ("critical_care", 20, 18)}
    assert r1.ga_beds_open == 520 and r1.ga_beds_occupied == 490
    assert s.site("RAA03").ed_patients == () and s.site("RAA03").ga_beds_open is None
    assert len(s.ed_patients) == 4 and len(s.inpatients) == 2 and len(s.ambulances) == 2
    with pytest.raises(UecError, match="no site 'NOPE'"):
        s.site("NOPE")


def test_summary_rows_per_site(loaded: Store) -> None:
    rows = {r.site_code: r for r in current_state(loaded, AS_OF).summary()}
    r = rows["RAA01"]
    assert (r.ed_patients, r.ed_decided_to_admit, r.ed_over_12_hours, r.ed_longest_wait_hours) == (3, 1, 1, 13.0)
    assert (r.inpatients, r.no_criteria_to_reside) == (2, 1)
    assert (r.ambulances_waiting, r.longest_handover_wait_minutes) == (2, 30.0)
    assert (r.ga_beds_open, r.ga_beds_occupied, r.census_time) == (520, 490, utc("2025-07-07T07:00"))
    assert rows["RAA02"].ed_patients == 1 and rows["RAA02"].ed_longest_wait_hours == pytest.approx(1 / 60)
    text = current_state(loaded, AS_OF).summary_text()
    assert text.splitlines()[0] == "State at 22:00 on Monday 7 July 2025 (Europe/London)"
    assert "Riverside General" in text and "Lakeside General" in text and "30 min" in text and "13.0 h" in text


def test_default_instant_is_the_latest_start_in_the_store(loaded: Store) -> None:
    # The latest start is the 22:00 census; departures and handovers (up to 23:30) are ends, not starts.
    assert latest_event_time(loaded) == utc("2025-07-07T22:00")
    s = current_state(loaded)
    assert s.as_of == utc("2025-07-07T22:00")
    assert s.site("RAA01").ga_beds_open == 510
    # s4 was admitted at 21:30; e2 and e4 are still in the department at 22:00, e4 now decided to admit.
    assert [p.spell_id for p in s.site("RAA01").inpatients] == ["s1", "s2", "s4"]
    assert [(p.attendance_id, p.decided_to_admit) for p in s.site("RAA01").ed_patients] == [
        ("e2", True), ("e4", True), ("e1", False), ("e7", False)]


def test_a_local_instant_is_london_time(loaded: Store) -> None:
    assert current_state(loaded, dt.datetime(2025, 7, 7, 22, 0)).as_of == AS_OF  # 22:00 BST


def test_an_empty_store_has_no_now(store: Store) -> None:
    with pytest.raises(UecError, match="no events"):
        current_state(store)
    assert current_state(store, AS_OF).ed_patients == ()


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    store = open_store(str(tmp_path_factory.mktemp("state_demo") / "uec.duckdb"))
    build_demo(store, seed=7, days=14, end=dt.date(2025, 1, 20))
    return store


def test_demo_state_matches_its_bed_census(demo_store: Store) -> None:
    # At a census instant, the inpatients found from spells are the beds the census counts occupied.
    census = demo_store.query("SELECT max(snapshot_time) AS t FROM bed_states")[0]["t"]
    s = current_state(demo_store, census)
    acute = [x for x in s.sites if x.beds]
    assert len(acute) >= 3
    for site in acute:
        assert len(site.inpatients) == site.ga_beds_occupied, site.site_code
        assert all(p.admission_time <= s.as_of for p in site.inpatients)
    assert sum(p.no_criteria_to_reside for p in s.inpatients) > 0


def test_demo_state_at_its_now(demo_store: Store) -> None:
    s = current_state(demo_store)
    assert s.as_of.date() == dt.date(2025, 1, 20)  # the demo's last day (GMT)
    assert len(s.ed_patients) > 10 and len(s.inpatients) > 100
    for p in s.ed_patients:
        assert p.arrival_time <= s.as_of
        assert p.decision_to_admit_time is None or p.decision_to_admit_time <= s.as_of
    for i in s.inpatients:
        assert i.criteria_to_reside_end_time is None or i.criteria_to_reside_end_time <= s.as_of
        assert i.discharge_pathway is None or i.no_criteria_to_reside
    rows = s.summary()
    assert sum(r.ed_patients for r in rows) == len(s.ed_patients)
    assert sum(r.ambulances_waiting for r in rows) == len(s.ambulances)


def test_state_as_json_data(loaded: Store) -> None:
    import json

    d = json.loads(json.dumps(current_state(loaded, AS_OF).as_dict()))
    assert d["as_of"] == "2025-07-07T21:00:00+00:00"
    site = d["sites"][0]
    assert site["site_code"] == "RAA01" and site["summary"]["no_criteria_to_reside"] == 1
    assert site["ed_patients"][0] == {
        "attendance_id": "e2", "site_code": "RAA01", "service_type": "ed_type1",
        "arrival_time": "2025-07-07T08:00:00+00:00", "decision_to_admit_time": "2025-07-07T10:00:00+00:00",
        "acuity": None, "arrival_mode": None, "age_band": None}
    assert site["ambulances"][0]["hospital_arrival_time"] == "2025-07-07T20:30:00+00:00"
