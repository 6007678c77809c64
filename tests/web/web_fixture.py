"""A small hand-made store for the web tests, with its numbers worked out by hand.

``build_web_store(path)`` writes the fixture into a DuckDB store and returns its path. The pytest
fixtures over it (``web_store``, ``web_client``, ``empty_store``) are in ``conftest.py`` beside this
file; other test folders import this module (``tests/functional`` puts ``tests/web`` on ``sys.path``)
rather than build their own. It has its own name because ``import conftest`` is ambiguous when
several test folders have one.

The fixture is set in summer, so UK time is BST (UTC+1) and London days differ from UTC days: an
event at 23:30 UTC belongs to the next London day. The last 7 days are 1 to 7 July 2025 and
"yesterday" is Monday 7 July 2025 (the last day in the data, which is in the past).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from uec.contract import table
from uec.store import open_store

REPORTING_DAY = date(2025, 7, 7)
WINDOW_DAYS = [date(2025, 7, d) for d in range(1, 8)]


def utc(text: str) -> datetime:
    """A UTC instant from ``YYYY-MM-DDTHH:MM``."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


FIXTURE: dict[str, list[dict[str, Any]]] = {
    "organisations": [
        {"org_code": "QXX", "name": "Test Integrated Care Board", "org_type": "ics"},
        {
            "org_code": "RAA",
            "name": "Riverside Hospitals NHS Trust",
            "org_type": "acute_trust",
            "ics_code": "QXX",
        },
        {
            "org_code": "RAM",
            "name": "Test Ambulance Service",
            "org_type": "ambulance_trust",
            "ics_code": "QXX",
        },
        {"org_code": "N11", "name": "Test NHS 111", "org_type": "nhs111_provider", "ics_code": "QXX"},
    ],
    "sites": [
        {
            "site_code": "RAA01",
            "org_code": "RAA",
            "name": "Riverside General Hospital",
            "site_type": "acute_hospital",
            "population_served": 250000,
        },
        {
            "site_code": "RAA02",
            "org_code": "RAA",
            "name": "Hilltop Urgent Treatment Centre",
            "site_type": "utc_site",
            "population_served": 80000,
        },
    ],
    "services": [
        {
            "service_id": "S1",
            "site_code": "RAA01",
            "service_type": "ed_type1",
            "name": "Riverside Emergency Department",
            "capacity": 40,
            "capacity_unit": "cubicles",
        },
        {
            "service_id": "S2",
            "site_code": "RAA01",
            "service_type": "sdec",
            "name": "Riverside SDEC",
            "opens": "08:00",
            "closes": "20:00",
            "capacity": 12,
            "capacity_unit": "chairs",
        },
        {
            "service_id": "S3",
            "site_code": "RAA01",
            "service_type": "g_and_a_beds",
            "name": "Riverside wards",
            "capacity": 500,
            "capacity_unit": "beds",
        },
        {
            "service_id": "S4",
            "site_code": "RAA02",
            "service_type": "utc",
            "name": "Hilltop UTC",
            "opens": "08:00",
            "closes": "22:00",
            "capacity": 8,
            "capacity_unit": "cubicles",
        },
    ],
    "calls_111": [
        {"call_id": "c1", "org_code": "N11", "call_time": utc("2025-07-07T08:00"), "disposition": "ed"},
        {"call_id": "c2", "org_code": "N11", "call_time": utc("2025-07-07T12:00"), "disposition": "gp"},
        # 00:30 BST on 7 July.
        {"call_id": "c3", "org_code": "N11", "call_time": utc("2025-07-06T23:30"), "disposition": "utc"},
        # 23:30 BST on 6 July.
        {
            "call_id": "c4",
            "org_code": "N11",
            "call_time": utc("2025-07-06T22:30"),
            "disposition": "self_care",
        },
        # 23:59 BST on 30 June: before the window.
        {"call_id": "c5", "org_code": "N11", "call_time": utc("2025-06-30T22:59"), "disposition": "pharmacy"},
        # Midnight BST on 1 July: the first instant of the window.
        {"call_id": "c6", "org_code": "N11", "call_time": utc("2025-06-30T23:00"), "disposition": "ed"},
    ],
    "ambulance_incidents": [
        {
            "incident_id": "i1",
            "org_code": "RAM",
            "call_time": utc("2025-07-07T09:00"),
            "category": "C2",
            "outcome": "conveyed_ed",
            "destination_site": "RAA01",
            "hospital_arrival_time": utc("2025-07-07T09:40"),
            "handover_time": utc("2025-07-07T09:55"),
        },
        {
            "incident_id": "i2",
            "org_code": "RAM",
            "call_time": utc("2025-07-07T10:00"),
            "category": "C3",
            "outcome": "conveyed_ed",
            "destination_site": "RAA01",
            "hospital_arrival_time": utc("2025-07-07T10:50"),
            "handover_time": utc("2025-07-07T11:35"),
        },
        {
            "incident_id": "i3",
            "org_code": "RAM",
            "call_time": utc("2025-07-07T11:00"),
            "category": "C2",
            "outcome": "see_and_treat",
        },
        {
            "incident_id": "i4",
            "org_code": "RAM",
            "call_time": utc("2025-07-05T14:00"),
            "category": "C1",
            "outcome": "conveyed_ed",
            "destination_site": "RAA01",
            "hospital_arrival_time": utc("2025-07-05T14:30"),
            "handover_time": utc("2025-07-05T15:40"),
        },
        {
            "incident_id": "i5",
            "org_code": "RAM",
            "call_time": utc("2025-07-05T15:00"),
            "category": "C3",
            "outcome": "conveyed_other",
        },
        # Still waiting to hand over: an arrival without a handover time. The newest event in the store.
        {
            "incident_id": "i6",
            "org_code": "RAM",
            "call_time": utc("2025-07-07T20:00"),
            "category": "C2",
            "outcome": "conveyed_ed",
            "destination_site": "RAA01",
            "hospital_arrival_time": utc("2025-07-07T20:30"),
        },
    ],
    "attendances": [
        {
            "attendance_id": "a1",
            "site_code": "RAA01",
            "service_type": "ed_type1",
            "arrival_time": utc("2025-07-07T09:45"),
        },
        {
            "attendance_id": "a2",
            "site_code": "RAA01",
            "service_type": "ed_type1",
            "arrival_time": utc("2025-07-07T10:55"),
        },
        {
            "attendance_id": "a3",
            "site_code": "RAA01",
            "service_type": "sdec",
            "arrival_time": utc("2025-07-07T13:00"),
        },
        # 00:30 BST on 7 July.
        {
            "attendance_id": "a4",
            "site_code": "RAA02",
            "service_type": "utc",
            "arrival_time": utc("2025-07-06T23:30"),
        },
        {
            "attendance_id": "a5",
            "site_code": "RAA01",
            "service_type": "ed_type1",
            "arrival_time": utc("2025-07-03T12:00"),
        },
        {
            "attendance_id": "a6",
            "site_code": "RAA02",
            "service_type": "utc",
            "arrival_time": utc("2025-07-03T12:00"),
        },
        # Before the window.
        {
            "attendance_id": "a7",
            "site_code": "RAA01",
            "service_type": "ed_type1",
            "arrival_time": utc("2025-06-29T12:00"),
        },
    ],
    "spells": [
        {"spell_id": "p1", "site_code": "RAA01", "admission_time": utc("2025-07-07T12:00")},
        {
            "spell_id": "p2",
            "site_code": "RAA01",
            "admission_time": utc("2025-07-04T10:00"),
            "discharge_time": utc("2025-07-07T15:00"),
        },
        {
            "spell_id": "p3",
            "site_code": "RAA01",
            "admission_time": utc("2025-06-20T10:00"),
            "discharge_time": utc("2025-07-02T11:00"),
        },
    ],
    "bed_states": [
        # An older census, which the pages must not show.
        {
            "site_code": "RAA01",
            "snapshot_time": utc("2025-07-06T07:00"),
            "bed_type": "g_and_a",
            "beds_open": 500,
            "beds_occupied": 480,
        },
        {
            "site_code": "RAA01",
            "snapshot_time": utc("2025-07-07T07:00"),
            "bed_type": "g_and_a",
            "beds_open": 500,
            "beds_occupied": 470,
        },
        {
            "site_code": "RAA01",
            "snapshot_time": utc("2025-07-07T07:00"),
            "bed_type": "g_and_a_escalation",
            "beds_open": 20,
            "beds_occupied": 20,
        },
        {
            "site_code": "RAA01",
            "snapshot_time": utc("2025-07-07T07:00"),
            "bed_type": "critical_care",
            "beds_open": 20,
            "beds_occupied": 18,
        },
    ],
}

#: The overview's activity worked out by hand from FIXTURE: measure -> {day of July: count}.
EXPECTED_ACTIVITY: dict[str, dict[int, int]] = {
    "calls_111": {7: 3, 6: 1, 1: 1},
    "ambulance_incidents": {7: 4, 5: 2},
    "ambulance_conveyances": {7: 3, 5: 2},
    "attendances_ed_type1": {7: 2, 3: 1},
    "attendances_ed_other": {},
    "attendances_utc": {7: 1, 3: 1},
    "attendances_sdec": {7: 1},
    "admissions": {7: 1, 4: 1},
    "discharges": {7: 1, 2: 1},
}


def write_fixture(store_path: str | Path, rows: dict[str, list[dict[str, Any]]]) -> str:
    """Append ``rows`` (table name -> list of row dicts) to the store at ``store_path``; return its path."""
    store = open_store(str(store_path))
    with store.write() as w:
        for name, table_rows in rows.items():
            w.append(name, pa.Table.from_pylist(table_rows, schema=table(name).arrow_schema()))
    return str(store_path)


def build_web_store(path: str | Path) -> str:
    """A DuckDB store at ``path`` holding :data:`FIXTURE`; returns the path to pass to ``create_app``."""
    return write_fixture(path, FIXTURE)


# --- who the tests act as ------------------------------------------------------------------------

from fastapi import FastAPI  # noqa: E402

from uec.access.user import User  # noqa: E402
from uec.web.deps import get_current_user  # noqa: E402

#: The user the web tests act as: an analyst of the ICB, who may read every aggregate page, read
#: patient-level rows and start scenario runs (``uec.access`` permissions.yaml).
ANALYST = User("test-analyst", "Test Analyst", "QXX", frozenset({"analyst"}))


def signed_in(app: FastAPI, user: User | None = ANALYST) -> FastAPI:
    """``app`` with every request acting as ``user`` (the ``get_current_user`` dependency overridden)."""
    app.dependency_overrides[get_current_user] = lambda: user
    return app
