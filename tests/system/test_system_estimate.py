"""Estimating the model's parameters from a store: a simulated run's events give back its parameters."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from uec.cli import app
from uec.errors import UecError
from uec.simulate import simulate
from uec.store import Store, open_store
from uec.system.estimate import estimate_params
from uec.system.events import EVENT_TABLES, contract_tables
from uec.system.model import build_model
from uec.system.params import SystemParams, demo_params


def fill(store: Store, p: SystemParams, days: int, seed: int) -> None:
    built = build_model(p, days)
    tables = contract_tables(built, simulate(built.model, seed=seed), seed)
    store.ensure_schema()
    with store.write() as w:
        for name in (*EVENT_TABLES, "organisations", "sites", "services"):
            t: pa.Table = tables[name]
            if t.num_rows:
                w.append(name, t)


def test_estimates_recover_the_parameters_that_made_the_events(store: Store) -> None:
    base = dataclasses.replace(demo_params(), warmup_days=21)
    # A system unlike the demo: more incidents, fewer 111 calls, longer stays for the oldest.
    truth = dataclasses.replace(base, incidents_per_day=600.0, calls_111_per_day=800.0,
                                ctr_median_days=(1.28, 2.6, 3.97, 7.0))
    fill(store, truth, days=14, seed=5)  # whole weeks: weekday patterns average out
    est = estimate_params(store, base=base)
    assert est.incidents_per_day == pytest.approx(600.0, rel=0.06)
    assert est.calls_111_per_day == pytest.approx(800.0, rel=0.06)
    assert est.hear_and_treat == pytest.approx(truth.hear_and_treat, abs=0.015)
    assert est.category_mix[1] == pytest.approx(truth.category_mix[1], abs=0.03)
    assert est.conveyed_to_ed == pytest.approx(truth.conveyed_to_ed, abs=0.03)
    assert est.ed_attendances_per_day == pytest.approx(truth.ed_attendances_per_day, rel=0.1)
    assert est.ctr_median_days[3] == pytest.approx(7.0, rel=0.3)  # stays still running are left out
    assert est.ctr_median_days[3] > est.ctr_median_days[1]
    assert sum(s.share for s in est.sites) == pytest.approx(1.0)
    # Capacities are not in the events: they stay as in the base.
    assert est.crews == base.crews and est.p1_packages == base.p1_packages
    # The estimate runs.
    built = build_model(dataclasses.replace(est, warmup_days=2), days=1)
    assert simulate(built.model, seed=1).n_patients > 0


def test_estimation_needs_the_models_sites(store: Store) -> None:
    import datetime as dt

    store.ensure_schema()
    t = dt.datetime(2025, 1, 6, 10, tzinfo=dt.UTC)
    with store.write() as w:
        w.append("attendances", pa.table({
            "attendance_id": ["a1", "a2"], "site_code": ["ZZZ01", "ZZZ01"], "service_type": ["ed_type1"] * 2,
            "arrival_time": pa.array([t, t + dt.timedelta(days=2)], pa.timestamp("us", tz="UTC")),
        }))
    with pytest.raises(UecError, match="not the model's sites"):
        estimate_params(store)


def test_cli_estimate_uses_the_store_as_the_baseline(tmp_path: Path) -> None:
    path = str(tmp_path / "uec.duckdb")
    fill(open_store(path), dataclasses.replace(demo_params(), warmup_days=14, incidents_per_day=700.0), 7, 1)
    result = CliRunner().invoke(app, ["simulate", "two-more-crews", "--estimate", "--store", path, "--reps", "2",
                                      "--days", "1", "--processes", "1", "--no-save", "--json", "--seed", "1"])
    assert result.exit_code == 0, result.output
    obj = json.loads(result.output.strip().splitlines()[-1])
    assert obj["reps"] == 2 and obj["standards"]
