"""The demo's ED area snapshots, specialty referrals, 111 call handling and capacity snapshots agree
with its patient events, for both generators, and give every OPEL parameter that needs them a value."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from uec.demo import DemoData, build_demo, generate_demo
from uec.escalation import status
from uec.store import open_store

END = dt.date(2026, 1, 20)


@pytest.fixture(scope="module", params=["fast", "model"])
def data(request: pytest.FixtureRequest) -> DemoData:
    return generate_demo(days=10, end=END, generator=request.param)


def _us(col: pa.ChunkedArray) -> np.ndarray:
    return np.asarray(pc.cast(col, pa.int64()).to_numpy(zero_copy_only=False), dtype=np.float64)


def test_ed_area_patients_are_the_attendances_in_the_department(data: DemoData) -> None:
    areas, att = data.tables["ed_area_states"], data.tables["attendances"]
    ed = att.filter(pc.equal(att["service_type"], "ed_type1"))
    arrival = _us(ed["arrival_time"])
    ia = np.asarray(pc.cast(ed["initial_assessment_time"], pa.int64()).fill_null(-1).to_numpy(), dtype=np.float64)
    begin = np.where(ia >= arrival, ia, arrival)
    leave = np.asarray(pc.cast(ed["departure_time"], pa.int64()).fill_null(2**62).to_numpy(), dtype=np.float64)
    leave = np.minimum(leave, arrival + 48 * 3600e6)
    site = np.asarray(ed["site_code"].to_numpy(zero_copy_only=False), dtype=object)
    snap = _us(areas["snapshot_time"])
    for k in (30, 100, 200):  # a few snapshots, summed over a site's areas
        at = np.unique(snap)[k]
        for code in ("DEMO-A01", "DEMO-C01"):
            rows = areas.filter(pc.and_(pc.equal(areas["site_code"], code),
                                        pc.equal(pc.cast(areas["snapshot_time"], pa.int64()), int(at))))
            present = int(((site == code) & (begin <= at) & (leave > at)).sum())
            assert pc.sum(rows["patients"]).as_py() == present
            assert set(rows["area"].to_pylist()) == {"resus", "majors", "minors", "paediatrics"}


def test_referrals_sit_between_treatment_and_decision(data: DemoData) -> None:
    ref, att = data.tables["specialty_referrals"], data.tables["attendances"]
    joined = ref.join(att.select(["attendance_id", "seen_time", "decision_to_admit_time", "arrival_time"]),
                      "attendance_id")
    assert joined.num_rows == ref.num_rows > 0
    assert pc.all(pc.greater_equal(joined["request_time"], joined["arrival_time"])).as_py()
    admitted = joined.filter(pc.is_valid(joined["decision_to_admit_time"]))
    assert pc.all(pc.less_equal(admitted["request_time"], admitted["decision_to_admit_time"])).as_py()
    # Every type 1 admission has its referral.
    dta = pc.sum(pc.and_(pc.equal(att["service_type"], "ed_type1"), pc.is_valid(att["decision_to_admit_time"])))
    assert admitted.num_rows == dta.as_py()


def test_111_answered_calls_are_the_calls_answered_in_each_period(data: DemoData) -> None:
    h, calls = data.tables["calls_111_handling"], data.tables["calls_111"]
    t = _us(calls["call_time"])
    starts, ends = _us(h["period_start"]), _us(h["period_end"])
    counted = np.searchsorted(np.sort(t), ends, side="left") - np.searchsorted(np.sort(t), starts, side="left")
    assert np.array_equal(counted, np.asarray(h["calls_answered"].to_numpy()))
    offered = np.asarray(h["calls_offered"].to_numpy())
    assert (offered == np.asarray(h["calls_answered"].to_numpy()) + np.asarray(h["calls_abandoned"].to_numpy())).all()
    assert (np.asarray(h["answered_within_60s"].to_numpy()) <= np.asarray(h["calls_answered"].to_numpy())).all()
    assert h.num_rows == 10 * 96 and offered.sum() > 0


def test_capacity_snapshots_are_a_daily_census_within_their_beds(data: DemoData) -> None:
    c = data.tables["capacity_states"].to_pylist()
    services = {(r["org_code"], r["service"]) for r in c}
    assert services == {("DEMO-CHS", "community_beds"), ("DEMO-CHS", "virtual_ward"),
                        ("DEMO-MH", "mh_adult_acute_beds"),
                        ("DEMO-MH", "mh_older_adult_beds")}
    assert len(c) == 4 * 10
    for r in c:
        assert 0 < r["occupied"] <= r["capacity"], r
        assert (r["out_of_area"] is None) == (r["org_code"] == "DEMO-CHS")


def test_every_parameter_that_needs_them_has_a_value_on_the_demo(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "uec.duckdb"))
    build_demo(store, days=5, end=END)
    at = dt.datetime(2026, 1, 20, 12, tzinfo=dt.UTC)
    got = {(sc.code, a.parameter_id): a for sc in status(store, at).all() for a in sc.parameters}
    for code, pid in (("DEMO-A01", "acute-majors-resus-occupancy"), ("DEMO-A", "acute-referred-in-department"),
                      ("DEMO-A", "acute-time-to-treatment"), ("DEMO-IUC", "nhs111-abandoned"),
                      ("DEMO-IUC", "nhs111-answered-60s"), ("DEMO-CHS", "chs-community-bed-occupancy"),
                      ("DEMO-CHS", "chs-virtual-ward-occupancy"), ("DEMO-MH", "mh-adult-bed-occupancy"),
                      ("DEMO-MH", "mh-out-of-area-placements")):
        a = got[(code, pid)]
        assert a.value is not None and a.source == "events", (code, pid, a.note)


def test_call_handling_over_a_span_shorter_than_an_hour() -> None:
    # A projection of a quarter of an hour has one period; the hour's smoothing must not lengthen it.
    from uec.system.snapshots import calls_111_handling

    start = dt.datetime(2026, 12, 1, 10, tzinfo=dt.UTC)
    calls = pa.table({"org_code": ["DEMO-IUC"] * 3,
                      "call_time": pa.array([start + dt.timedelta(minutes=m) for m in (1, 5, 9)],
                                            pa.timestamp("us", tz="UTC"))})
    for minutes in (1, 15, 45):
        h = calls_111_handling(calls, start, start + dt.timedelta(minutes=minutes), np.random.default_rng(1))
        assert h.num_rows >= 1 and sum(h["calls_answered"].to_pylist()) == 3
