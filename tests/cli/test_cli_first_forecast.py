"""`uec serve --demo-if-empty` (scripts/start) leaves a first forecast in the store and queues the full one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa

from uec.cli import first_forecast
from uec.contract import table
from uec.forecast.runs import latest_series_runs, list_runs
from uec.jobs import list_jobs
from uec.store import Store, open_store

START = datetime(2025, 1, 6, 12, tzinfo=UTC)


def _store(tmp_path: Path) -> Store:
    """Eight weeks of category 1 and 2 ambulance incidents: two daily series."""
    rows = [{"incident_id": f"{cat}-{d}-{k}", "org_code": "AMB", "call_time": START + timedelta(days=d, minutes=k),
             "category": cat, "outcome": "hear_and_treat"}
            for d in range(56) for cat, n in (("C1", 3), ("C2", 5)) for k in range(n)]
    store = open_store(str(tmp_path / "uec.duckdb"))
    with store.write() as w:
        w.append("ambulance_incidents",
                 pa.Table.from_pylist(rows, schema=table("ambulance_incidents").arrow_schema()))
    return store


def test_first_forecast_saves_every_series_and_queues_the_full_refresh(tmp_path: Path) -> None:
    store = _store(tmp_path)
    assert latest_series_runs(store) == {}
    seen: list[tuple[str, float]] = []
    n, job_id = first_forecast(store, lambda stage, frac: seen.append((stage, frac)))
    forecast = latest_series_runs(store)
    assert n == len(forecast) >= 2 and {"ambulance/C1", "ambulance/C2"} <= set(forecast)
    assert [r["model"] for r in list_runs(store)] == ["snaive"]
    assert seen and seen[-1][1] == 1.0  # progress reached the end
    [job] = list_jobs(store, kind="forecast_refresh")
    assert (job.id, job.state) == (job_id, "queued")
