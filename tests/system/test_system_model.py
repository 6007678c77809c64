"""The whole-system model: it builds and runs, writes the event contract, and responds to capacity.

Short horizons (a couple of weeks after a short warm-up) keep these quick; the feedback-loop and
beds tests pair replications under common random numbers so a few are enough to be clear.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from functools import cache

import numpy as np
import pyarrow as pa
import pytest

from uec.contract import table as contract_table
from uec.simulate import simulate
from uec.system.events import EVENT_TABLES, contract_tables
from uec.system.model import DAY, build_model
from uec.system.params import SystemParams, demo_params
from uec.system.scenario import apply_changes, run_replications_system
from uec.system.standards import interval, paired_interval, simulated_standards, standards_from_tables


def short(warmup: int = 10, **changes: object) -> SystemParams:
    return dataclasses.replace(demo_params(), warmup_days=warmup, **changes)  # type: ignore[arg-type]


@cache
def one_run(days: int = 7) -> tuple[dict[str, pa.Table], SystemParams]:
    p = short(warmup=14)
    built = build_model(p, days)
    res = simulate(built.model, seed=11)
    return contract_tables(built, res, 11), p


def test_model_builds_and_runs_with_blocking_upstream() -> None:
    p = short(warmup=7)
    built = build_model(p, days=7)
    assert built.model.horizon == 14 * DAY
    res = simulate(built.model, seed=3)
    names = set(res.node_names)
    for n in ("call111", "dispatch/DEMO-A01", "handover/DEMO-A01", "triage/DEMO-B01", "majors/DEMO-C01", "dta/DEMO-A01",
              "ward/DEMO-A01", "disch/DEMO-A01", "p1", "p2", "p3", "sdec/DEMO-A01", "utc/DEMO-CHS01", "ucr"):
        assert n in names
    # Every kind of patient arrives: 111 callers, 999 incidents, walk-ins, electives.
    classes = {res.class_names[c].split("-")[0] for c in np.unique(res.patient_class)}
    assert {"call", "C1", "C2", "C3", "C4", "C5", "walkin", "sdec", "direct", "elective", "utc", "ucr"} <= classes
    # After their criteria to reside end, patients get ready to leave in their bed (hold nodes),
    # and pathway 1-3 patients then wait there for a place: some depart long after that ends.
    prep = np.isin(res.node, [res.node_id(f"prep{k}/{s.code}") for k in (1, 2, 3) for s in p.sites])
    assert np.nanmax(res.depart[prep] - res.end[prep]) > 60.0
    assert np.nanmedian(res.end[prep] - res.start[prep]) > 60.0


def test_events_conform_to_the_contract() -> None:
    tables, p = one_run()
    for name in EVENT_TABLES:
        t = tables[name]
        spec = contract_table(name)
        assert t.schema == spec.arrow_schema(), name
        assert t.num_rows > 0, name
        for f in spec.fields:
            col = t.column(f.name)
            if f.required:
                assert col.null_count == 0, (name, f.name)
            if f.values:
                seen = {v for v in col.to_pylist() if v is not None}
                assert seen <= {str(v) for v in f.values} | set(f.values), (name, f.name, seen)
            if f.not_before:
                a = col.to_numpy(zero_copy_only=False)
                b = t.column(f.not_before).to_numpy(zero_copy_only=False)
                both = ~(np.isnat(a) | np.isnat(b))
                assert (a[both] >= b[both]).all(), (name, f.name, f.not_before)
        if spec.key and len(spec.key) == 1:
            keys = t.column(spec.key[0]).to_pylist()
            assert len(keys) == len(set(keys)), name
    # Links point at rows that exist.
    att = tables["attendances"]
    incidents = set(tables["ambulance_incidents"].column("incident_id").to_pylist())
    linked = {x for x in att.column("incident_id").to_pylist() if x is not None}
    assert linked and linked <= incidents
    spell_links = {x for x in tables["spells"].column("attendance_id").to_pylist() if x is not None}
    assert spell_links and spell_links <= set(att.column("attendance_id").to_pylist())
    # Event times fall in the window (spells may have started before it: beds full when it opens).
    start = dt.datetime.combine(p.start, dt.time(0), tzinfo=dt.UTC)
    end = start + dt.timedelta(days=7)
    for name, field in (("attendances", "arrival_time"), ("ambulance_incidents", "call_time"),
                        ("calls_111", "call_time"), ("ucr_referrals", "referral_time")):
        times = tables[name].column(field).to_pylist()
        assert min(times) >= start and max(times) < end, name
    spells = tables["spells"]
    assert min(spells.column("admission_time").to_pylist()) < start  # census beds are spells too


def test_attendance_and_incident_volumes_match_the_demo_calibration() -> None:
    tables, _ = one_run()
    att = tables["attendances"]
    kind = np.asarray(att.column("service_type").to_pylist())
    per_day = {k: float((kind == k).sum()) / 7 for k in ("ed_type1", "utc", "sdec")}
    # The demo ICS: type 1 about 920 a day, UTC about 500, SDEC about 90 (Poisson noise over a week).
    assert 800 < per_day["ed_type1"] < 1050
    assert 400 < per_day["utc"] < 600
    assert 60 < per_day["sdec"] < 120
    assert 440 < tables["ambulance_incidents"].num_rows / 7 < 580
    assert 900 < tables["calls_111"].num_rows / 7 < 1200


def test_standards_engine_computes_the_standards_from_simulated_events() -> None:
    tables, p = one_run()
    values = standards_from_tables(tables, p.start, p.start + dt.timedelta(days=7))
    assert set(values) == {s.id for s in simulated_standards()}
    for sid in ("ed-4hr", "ed-4hr-type1", "amb-c1-mean", "amb-c2-mean", "amb-c2-p90", "beds-ga-occupancy",
                "beds-no-criteria-to-reside", "flow-discharge-p0", "flow-ucr-2hr", "amb-conveyance-ed"):
        assert math.isfinite(values[sid]), sid
    assert 0.5 < values["ed-4hr"] <= 1.0
    assert values["amb-c1-mean"] < values["amb-c2-mean"]  # category 1 is served first
    assert 0.5 < values["amb-conveyance-ed"] < 0.7  # AmbSYS 2019: 0.582
    assert 0.4 < values["flow-discharge-p0"] < 0.8


def test_interval_is_the_student_t_interval() -> None:
    x = [10.0, 12.0, 11.0, 15.0, 9.0]
    i = interval(x)
    from scipy import stats

    lo, hi = stats.t.interval(0.95, len(x) - 1, loc=np.mean(x), scale=stats.sem(x))
    assert i.mean == pytest.approx(11.4)
    assert (i.low, i.high) == pytest.approx((lo, hi))
    assert interval([1.0, math.nan, 3.0]).mean == 2.0  # a replication without a value is left out
    d = paired_interval([1.0, 2.0, 3.0], [1.5, 2.4, 3.6])
    assert d.mean == pytest.approx(0.5) and d.low > 0  # pairing removes the between-replication spread
    assert math.isnan(interval([]).mean)


def _paired(
    base: SystemParams, changed: SystemParams, reps: int, days: int, *keys: str
) -> list[tuple[float, float, float]]:
    """For each standard: the mean, low and high of the paired difference, changed minus base."""
    b = run_replications_system(base, reps, seed=2024, days=days)
    s = run_replications_system(changed, reps, seed=2024, days=days)
    out = []
    for key in keys:
        d = paired_interval([v[key] for v in b], [v[key] for v in s])
        out.append((d.mean, d.low, d.high))
    return out


def test_cutting_ed_handover_capacity_worsens_category_2_response_times() -> None:
    """The feedback loop: crews wait at full EDs, so fewer are free and C2 responses take longer."""
    base = short(warmup=10)
    # Seven spaces a site and one corridor place (four and none gridlock the calibrated system: no
    # C2 response at all reaches the window, so there is no mean to compare).
    cut = dataclasses.replace(base, corridor=1,
                              sites=tuple(dataclasses.replace(s, ed_spaces=7) for s in base.sites))
    c2, lost = _paired(base, cut, 3, 7, "amb-c2-mean", "amb-hours-lost-15")
    assert c2[1] > 0, c2
    assert lost[1] > 0, lost


def test_more_beds_means_fewer_12_hour_waits_and_better_4_hour_performance() -> None:
    # A system short of beds (85% of the demo's: at 60% the calibrated system is so blocked that
    # few patients leave the ED at all, so few 12-hour waits are even counted), then beds given back.
    base = short(warmup=21)
    tight = dataclasses.replace(base, sites=tuple(
        dataclasses.replace(s, core_beds=round(s.core_beds * 0.85), escalation_beds=0) for s in base.sites))
    more = apply_changes(tight, {"extra_beds": 150})
    dta12, four = _paired(tight, more, 3, 7, "ed-12hr-dta", "ed-4hr-type1")
    assert dta12[2] < 0, dta12
    assert four[1] > 0, four


def test_faster_readiness_to_leave_frees_beds() -> None:
    # Patients ready to leave in half the time after their criteria to reside end: fewer of them in
    # beds at the census, and fewer beds occupied (the delay holds a bed; no capacity decides it).
    base = short(warmup=21)
    faster = apply_changes(base, {"faster_discharge_readiness": 0.5})
    nctr, occupancy = _paired(base, faster, 3, 7, "beds-no-criteria-to-reside", "beds-ga-occupancy")
    assert nctr[2] < 0, nctr
    assert occupancy[2] < 0, occupancy


def test_category_1_is_reached_by_a_car_then_conveyed_by_a_crew() -> None:
    tables, p = one_run()
    inc = tables["ambulance_incidents"]
    cat = np.asarray(inc.column("category").to_pylist())
    call = inc.column("call_time").to_numpy(zero_copy_only=False)
    scene = inc.column("on_scene_time").to_numpy(zero_copy_only=False)
    wait_s = (scene - call).astype("timedelta64[s]").astype(float)
    c1 = wait_s[(cat == "C1") & ~np.isnan(wait_s)]
    # The car stops the clock: about the car's travel (7.4 min), well under a crew's wait and travel.
    assert 240 < c1.mean() < 600
    # The car is released when the crew is allocated: category 1 visits the car's node, then dispatch.
    built = build_model(short(warmup=2), days=2)
    res = simulate(built.model, seed=5)
    car_nodes = [res.node_id(f"rrv/{s.code}") for s in p.sites]
    dispatch_nodes = [res.node_id(f"dispatch/{s.code}") for s in p.sites]
    patients = np.unique(res.patient[np.isin(res.node, car_nodes)])
    assert patients.size > 0
    assert set(np.unique(res.patient_class[patients])) <= {
        i for i, c in enumerate(res.class_names) if c.startswith("C1-")}
    conveyed = np.unique(res.patient[np.isin(res.node, dispatch_nodes)])
    assert np.isin(patients, conveyed).mean() > 0.9
    # Without cars, no car nodes and category 1 goes straight to a crew.
    names = {n.name for n in build_model(short(warmup=2, rrv={"00:00": 0}), days=2).model.nodes}
    assert not any(n.startswith("rrv") for n in names) and "dispatch/DEMO-A01" in names
