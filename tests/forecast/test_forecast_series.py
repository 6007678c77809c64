"""Series from the store, on both engines, against counts worked out by hand.

The events are in July 2025 (BST, UTC+1), so London days and hours differ from UTC ones: an event
at 23:30 UTC belongs to the next London day.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

from uec.contract import table
from uec.errors import UecError
from uec.forecast.frame import validate_long
from uec.forecast.series import available_series, parse_series_id, series_frame, series_freq
from uec.store import Store


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


ROWS: dict[str, list[dict[str, Any]]] = {
    "attendances": [
        # 00:30 BST on 1 July: the hour starting 2025-06-30T23:00Z.
        {"attendance_id": "a1", "site_code": "S1", "service_type": "ed_type1", "arrival_time": utc("2025-06-30T23:30")},
        {"attendance_id": "a2", "site_code": "S1", "service_type": "ed_type1", "arrival_time": utc("2025-06-30T23:59")},
        {"attendance_id": "a3", "site_code": "S1", "service_type": "ed_type1", "arrival_time": utc("2025-07-02T10:15")},
        {"attendance_id": "a4", "site_code": "S2", "service_type": "utc", "arrival_time": utc("2025-07-01T12:00")},
    ],
    "ambulance_incidents": [
        # 23:30 BST on 1 July, then 00:30 BST on 2 July.
        {
            "incident_id": "i1",
            "org_code": "AMB",
            "call_time": utc("2025-07-01T22:30"),
            "category": "C1",
            "outcome": "hear_and_treat",
        },
        {
            "incident_id": "i2",
            "org_code": "AMB",
            "call_time": utc("2025-07-01T23:30"),
            "category": "C2",
            "outcome": "hear_and_treat",
        },
        {
            "incident_id": "i3",
            "org_code": "AMB",
            "call_time": utc("2025-07-03T09:00"),
            "category": "C2",
            "outcome": "hear_and_treat",
        },
    ],
    "spells": [
        {
            "spell_id": "s1",
            "site_code": "S1",
            "admission_time": utc("2025-07-01T10:00"),
            "admission_method": "emergency",
            "criteria_to_reside_end_time": utc("2025-07-02T10:00"),
            "discharge_time": utc("2025-07-03T10:00"),
            "discharge_pathway": 1,
        },
        # In at midnight BST on 2 July (23:00Z), gone at 00:30 BST.
        {
            "spell_id": "s2",
            "site_code": "S1",
            "admission_time": utc("2025-07-01T22:30"),
            "admission_method": "emergency",
            "discharge_time": utc("2025-07-01T23:30"),
            "discharge_pathway": 0,
        },
        {
            "spell_id": "s3",
            "site_code": "S1",
            "admission_time": utc("2025-07-02T12:00"),
            "admission_method": "elective",
        },
    ],
    "bed_states": [
        {
            "site_code": "S1",
            "snapshot_time": utc("2025-07-01T07:00"),
            "bed_type": "g_and_a",
            "beds_open": 10,
            "beds_occupied": 4,
        },
        {
            "site_code": "S1",
            "snapshot_time": utc("2025-07-01T07:00"),
            "bed_type": "g_and_a_escalation",
            "beds_open": 2,
            "beds_occupied": 1,
        },
        {
            "site_code": "S1",
            "snapshot_time": utc("2025-07-03T07:00"),
            "bed_type": "g_and_a",
            "beds_open": 10,
            "beds_occupied": 6,
        },
        {
            "site_code": "S1",
            "snapshot_time": utc("2025-07-03T07:00"),
            "bed_type": "critical_care",
            "beds_open": 5,
            "beds_occupied": 5,
        },
    ],
}


@pytest.fixture
def loaded(store: Store) -> Store:
    with store.write() as w:
        for name, rows in ROWS.items():
            w.append(name, pa.Table.from_pylist(rows, schema=table(name).arrow_schema()))
    return store


def _ys(df: pd.DataFrame, uid: str) -> dict[str, float]:
    part = df[df["unique_id"] == uid]
    return {pd.Timestamp(d).strftime("%Y-%m-%d"): float(y) for d, y in zip(part["ds"], part["y"], strict=True)}


def test_available_series(loaded: Store) -> None:
    ids = [s.series_id for s in available_series(loaded)]
    assert ids == [
        "admissions/S1/elective",
        "admissions/S1/emergency",
        "ambulance/C1",
        "ambulance/C2",
        "arrivals/S1/ed_type1",
        "arrivals/S2/utc",
        "beds/S1",
        "discharges/S1/p0",
        "discharges/S1/p1",
        "nctr/S1",
        "occupancy/S1",
    ]
    info = {s.series_id: s for s in available_series(loaded)}
    assert info["arrivals/S1/ed_type1"].freq == "hourly" and info["occupancy/S1"].site_code == "S1"


def test_hourly_arrivals_are_zero_filled_utc_hours(loaded: Store) -> None:
    df = series_frame(loaded, ["arrivals/S1/ed_type1", "arrivals/S2/utc"])
    one = df[df["unique_id"] == "arrivals/S1/ed_type1"]
    # London days 1 to 2 July: from 23:00Z on 30 June, 48 hours.
    assert one["ds"].iloc[0] == pd.Timestamp("2025-06-30T23:00Z") and len(one) == 48
    got = {t.isoformat(): y for t, y in zip(one["ds"], one["y"], strict=True) if y}
    assert got == {"2025-06-30T23:00:00+00:00": 2.0, "2025-07-02T10:00:00+00:00": 1.0}
    assert one["y"].sum() == 3 and (one["y"] == 0).sum() == 46
    assert str(df["ds"].dtype) == "datetime64[ns, UTC]"
    validate_long(df, "hourly")  # the contract, with no gaps


def test_daily_counts_use_london_days(loaded: Store) -> None:
    df = series_frame(loaded, ["ambulance/C1", "ambulance/C2"])
    assert _ys(df, "ambulance/C1") == {"2025-07-01": 1.0, "2025-07-02": 0.0, "2025-07-03": 0.0}
    assert _ys(df, "ambulance/C2") == {"2025-07-01": 0.0, "2025-07-02": 1.0, "2025-07-03": 1.0}
    assert str(df["ds"].dtype) == "datetime64[ns]"
    validate_long(df, "daily")


def test_spell_series(loaded: Store) -> None:
    span = {"start": "2025-07-01", "end": "2025-07-04"}
    adm = series_frame(loaded, ["admissions/S1/emergency", "admissions/S1/elective"], **span)
    assert _ys(adm, "admissions/S1/emergency") == {"2025-07-01": 2, "2025-07-02": 0, "2025-07-03": 0, "2025-07-04": 0}
    assert _ys(adm, "admissions/S1/elective") == {"2025-07-01": 0, "2025-07-02": 1, "2025-07-03": 0, "2025-07-04": 0}
    census = series_frame(loaded, ["occupancy/S1", "nctr/S1"], **span)
    # The census at 00:00 BST at the start of each day.
    assert _ys(census, "occupancy/S1") == {"2025-07-01": 0, "2025-07-02": 2, "2025-07-03": 2, "2025-07-04": 1}
    assert _ys(census, "nctr/S1") == {"2025-07-01": 0, "2025-07-02": 0, "2025-07-03": 1, "2025-07-04": 0}
    dis = series_frame(loaded, ["discharges/S1/p0", "discharges/S1/p1"], **span)
    assert _ys(dis, "discharges/S1/p0") == {"2025-07-01": 0, "2025-07-02": 1, "2025-07-03": 0, "2025-07-04": 0}
    assert _ys(dis, "discharges/S1/p1") == {"2025-07-01": 0, "2025-07-02": 0, "2025-07-03": 1, "2025-07-04": 0}


def test_bed_census_keeps_gaps(loaded: Store) -> None:
    beds = series_frame(loaded, ["beds/S1"])
    # Core + escalation G&A; critical care is not G&A; 2 July has no census and stays missing.
    assert _ys(beds, "beds/S1") == {"2025-07-01": 5.0, "2025-07-03": 6.0}


def test_series_errors(loaded: Store) -> None:
    with pytest.raises(UecError, match="mix daily and hourly"):
        series_frame(loaded, ["ambulance/C1", "arrivals/S1/ed_type1"])
    with pytest.raises(UecError, match="unknown series"):
        series_frame(loaded, ["waiting/S1"])
    with pytest.raises(UecError, match="before start"):
        series_frame(loaded, ["ambulance/C1"], start="2025-07-03", end="2025-07-01")


def test_parse_ids() -> None:
    assert parse_series_id("admissions/S1/emergency").detail == "emergency"
    assert series_freq("nctr/S1") == "daily"
    for bad in ("arrivals/S1", "arrivals/S1/gp", "discharges/S1/4", "occupancy/", "ambulance/C6"):
        with pytest.raises(UecError):
            parse_series_id(bad)
