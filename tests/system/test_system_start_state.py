"""Starting the whole-system model from a state: the patients already there are in the model at time 0."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
from typer.testing import CliRunner

from uec.cli import app
from uec.errors import UecError
from uec.simulate import simulate
from uec.store import Store, open_store
from uec.system.events import EVENT_TABLES, contract_tables
from uec.system.model import build_model
from uec.system.params import demo_params
from uec.system.scenario import replicate
from uec.system.state import (
    AmbulanceAtHospital,
    BedCensus,
    EdPatient,
    Inpatient,
    SiteState,
    StartState,
    current_state,
)

AS_OF = dt.datetime(2025, 1, 15, 21, 30, tzinfo=dt.UTC)


def hand_made_state(dta: int = 10, inpatients: int = 700, crews: int = 3) -> StartState:
    h = dt.timedelta(hours=1)
    sites = []
    for code in ("DEMO-A01", "DEMO-B01", "DEMO-C01"):
        ed = tuple(EdPatient(f"A{code}{i}", code, "ed_type1", AS_OF - 5 * h, AS_OF - 2 * h, 2, "walk_in", "75-84")
                   for i in range(dta))
        ip = tuple(Inpatient(f"W{code}{i}", code, AS_OF - (2 + i % 9) * 24 * h, "85+", "medicine",
                             AS_OF - h if i % 5 == 0 else None, 1 if i % 10 == 0 else None)
                   for i in range(inpatients))
        amb = tuple(AmbulanceAtHospital(f"I{code}{i}", code, "C2", AS_OF - 2 * h, AS_OF - h) for i in range(crews))
        beds = (BedCensus(code, "g_and_a", AS_OF - 13 * h, 720, 700), BedCensus(code, "g_and_a_escalation",
                                                                                 AS_OF - 13 * h, 10, 5))
        sites.append(SiteState(code, code, ed, ip, amb, beds))
    return StartState(AS_OF, tuple(sites))


def test_a_start_state_seeds_patients_at_time_zero() -> None:
    state = hand_made_state()
    built = build_model(demo_params(), days=1, start_state=state)
    assert built.origin == AS_OF and built.window_start == 1.0
    assert built.params.warmup_days == 0 and built.params.sites[0].core_beds == 720
    res = simulate(built.model, seed=4)
    n_in = 3 * 700
    assert len(built.initial_admissions) == n_in
    # Inpatients are patients 0 .. n - 1, in a bed from time 0.
    ward = np.isin(res.node, [res.node_id(f"ward/{c}") for c in ("DEMO-A01", "DEMO-B01", "DEMO-C01")])
    first = ward & (res.patient < n_in)
    assert first.sum() == n_in and np.all(res.start[first] == 0.0)
    # Crews waiting at the door hold a crew until an ED space is free, then hand over.
    door = np.isin(res.node, [res.node_id(f"atdoor/{c}") for c in ("DEMO-A01", "DEMO-B01", "DEMO-C01")])
    assert door.sum() == 9
    # Events: the seeded spells keep their real admission times, before the window.
    tables = contract_tables(built, res, 4)
    spells = tables["spells"]
    admitted = spells.column("admission_time").to_pylist()
    still_in = int((res.depart[first] >= 1.0).sum() + np.isnan(res.depart[first]).sum())
    assert still_in > 0.95 * n_in  # pathway places start full, so few leave in the first minute
    assert sum(a < AS_OF for a in admitted) == still_in
    assert all(tables[name].schema == tables[name].schema for name in EVENT_TABLES)
    # Nothing the state placed is reported as an arrival in the window.
    att = tables["attendances"].column("arrival_time").to_pylist()
    assert min(att) > AS_OF


def test_a_crowded_start_holds_crews_and_slows_handovers() -> None:
    p = demo_params()
    calm = replicate(p, 0.5, 7, 0, hand_made_state(dta=0, inpatients=400, crews=0))
    crowded = replicate(p, 0.5, 7, 0, hand_made_state(dta=30, inpatients=730, crews=8))
    assert crowded["amb-handover-30"] < calm["amb-handover-30"]
    assert crowded["amb-hours-lost-15"] > calm["amb-hours-lost-15"]
    assert crowded["ed-4hr-type1"] < calm["ed-4hr-type1"]
    # Same seed, same arrivals: the state changes what happens to them, not who comes (ambulance
    # patients reach the ED when a crew gets them there, so attendances differ by a handful).
    assert abs(crowded["ed-attendances-per-1000"] - calm["ed-attendances-per-1000"]) < 0.01


def test_from_now_with_the_state_read_from_a_store(store: Store) -> None:
    p = dataclasses.replace(demo_params(), warmup_days=14)
    built = build_model(p, days=2)
    tables = contract_tables(built, simulate(built.model, seed=2), 2)
    store.ensure_schema()
    with store.write() as w:
        for name in (*EVENT_TABLES, "organisations", "sites", "services"):
            t: pa.Table = tables[name]
            if t.num_rows:
                w.append(name, t)
    state = current_state(store)
    inpatients = sum(len(s.inpatients) for s in state.sites)
    assert inpatients > 1000
    projected = build_model(p, days=1, start_state=state)
    res = simulate(projected.model, seed=3)
    assert len(projected.initial_admissions) == inpatients
    out = contract_tables(projected, res, 3)
    # The census an hour or so after the instant counts the seeded inpatients.
    occupied = sum(out["bed_states"].column("beds_occupied").to_pylist())
    assert occupied > 0.8 * inpatients


def test_cli_from_now(tmp_path: Path) -> None:
    path = str(tmp_path / "uec.duckdb")
    st = open_store(path)
    p = dataclasses.replace(demo_params(), warmup_days=14)
    built = build_model(p, days=1)
    tables = contract_tables(built, simulate(built.model, seed=8), 8)
    with st.write() as w:
        for name in (*EVENT_TABLES, "organisations", "sites", "services"):
            if tables[name].num_rows:
                w.append(name, tables[name])
    result = CliRunner().invoke(app, ["simulate", "two-more-crews", "--from-now", "--hours", "12", "--reps", "2",
                                      "--processes", "1", "--store", path, "--json", "--seed", "3"])
    assert result.exit_code == 0, result.output
    obj = json.loads(result.output.strip().splitlines()[-1])
    assert obj["days"] == 0.5 and obj["run_id"]
    assert any(r["standard"] == "amb-c2-mean" for r in obj["standards"])
    # With no scenario, --from-now projects the system as it is (the issue's `uec simulate --from-now --hours 72`).
    result = CliRunner().invoke(app, ["simulate", "--from-now", "--hours", "6", "--reps", "1", "--processes", "1",
                                      "--store", path, "--json", "--seed", "3", "--no-save"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.strip().splitlines()[-1])["scenario"]["name"] == "baseline"
    # Printed for people, that run is a projection: one column, no comparison of the baseline with itself.
    result = CliRunner().invoke(app, ["simulate", "--from-now", "--hours", "6", "--reps", "2", "--processes", "1",
                                      "--store", path, "--seed", "3", "--no-save"])
    assert result.exit_code == 0, result.output
    assert "projection" in result.output and "projected" in result.output
    assert "difference (95% CI)" not in result.output and "scenario -" not in result.output, result.output
    result = CliRunner().invoke(app, ["simulate", "two-more-crews", "--hours", "12"])
    assert isinstance(result.exception, UecError) and "--from-now" in str(result.exception)


def test_a_bed_change_from_now_changes_the_beds_open(tmp_path: Path) -> None:
    # From now the model opens the beds the census had open; a scenario's bed change must still count
    # (it was silently dropped once: the census replaced the changed bed counts).
    from uec.system import Scenario, current_state, run_scenario

    path = str(tmp_path / "uec.duckdb")
    st = open_store(path)
    built = build_model(dataclasses.replace(demo_params(), warmup_days=14), days=1)
    tables = contract_tables(built, simulate(built.model, seed=8), 8)
    with st.write() as w:
        for name in (*EVENT_TABLES, "organisations", "sites", "services"):
            if tables[name].num_rows:
                w.append(name, tables[name])
    state = current_state(st)
    c = run_scenario(Scenario("more-escalation-beds", changes={"extra_escalation_beds": 40}), reps=2, seed=5,
                     executor=None, days=0.5, start_state=state)
    open_beds = {r.standard_id: r for r in c.standards}["beds-escalation-open"]
    assert open_beds.scenario.mean > open_beds.baseline.mean
