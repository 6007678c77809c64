"""Forecast runs saved in the store, and ``uec forecast run`` / ``refresh`` / ``occupancy``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from uec.contract import table
from uec.forecast.cli import app
from uec.forecast.quantiles import QUANTILE_COLUMNS
from uec.forecast.runs import (
    forecast_frame,
    forecast_store_series,
    has_tables,
    latest_series_runs,
    latest_values,
    list_runs,
    run_values,
    save_run,
)
from uec.forecast.series import series_frame
from uec.store import Store, open_store

runner = CliRunner()
START = datetime(2025, 1, 6, 12, tzinfo=UTC)  # a Monday, GMT
DAYS = 70


def _incidents() -> list[dict[str, object]]:
    """C1: 3 a day on weekdays and 1 at weekends; C2: 5 a day."""
    rows: list[dict[str, object]] = []
    for d in range(DAYS):
        day = START + timedelta(days=d)
        n1 = 3 if day.weekday() < 5 else 1
        for cat, n in (("C1", n1), ("C2", 5)):
            for k in range(n):
                rows.append(
                    {
                        "incident_id": f"{cat}-{d}-{k}",
                        "org_code": "AMB",
                        "call_time": day + timedelta(minutes=k),
                        "category": cat,
                        "outcome": "hear_and_treat",
                    }
                )
    return rows


@pytest.fixture
def loaded(store: Store) -> Store:
    with store.write() as w:
        w.append(
            "ambulance_incidents",
            pa.Table.from_pylist(_incidents(), schema=table("ambulance_incidents").arrow_schema()),
        )
    return store


def test_run_saves_and_reads_back(loaded: Store) -> None:
    assert not has_tables(loaded) and list_runs(loaded) == []
    [run] = forecast_store_series(
        loaded, ["ambulance/C1", "ambulance/C2"], model="snaive", horizon=7, backtest_origins=2
    )
    assert run.freq == "daily" and len(run.values) == 14 and run.n_failed == 0
    # The seasonal naive repeats the last week: weekdays 3, weekends 1.
    c1 = run.values[run.values["unique_id"] == "ambulance/C1"]
    assert c1["ds"].iloc[0] == pd.Timestamp("2025-03-17")
    assert c1["mean"].tolist() == [3.0, 3.0, 3.0, 3.0, 3.0, 1.0, 1.0]
    runs = list_runs(loaded)
    assert [r["run_id"] for r in runs] == [run.run_id]
    assert runs[0]["n_series"] == 2 and runs[0]["origin"].startswith("2025-03-17")
    back = run_values(loaded, run.run_id)
    pd.testing.assert_frame_equal(back.reset_index(drop=True), run.values.reset_index(drop=True), check_dtype=False)
    latest = latest_series_runs(loaded)
    assert set(latest) == {"ambulance/C1", "ambulance/C2"}
    c2 = latest["ambulance/C2"]
    assert c2.model_used == "snaive" and c2.backtest_origins == 2
    # A constant series is forecast exactly: every backtest error is zero and every interval covers.
    assert c2.scores["coverage_95"] == 1.0 and c2.scores["crps"] == 0.0
    assert c2.last_ds == pd.Timestamp("2025-03-16")


def test_latest_run_wins(loaded: Store) -> None:
    first = forecast_store_series(loaded, ["ambulance/C2"], model="snaive", horizon=3, backtest_origins=0)[0]
    second = forecast_store_series(loaded, ["ambulance/C2"], model="empirical", horizon=5, backtest_origins=0)[0]
    assert first.run_id != second.run_id
    assert latest_series_runs(loaded)["ambulance/C2"].run_id == second.run_id
    assert len(latest_values(loaded, ["ambulance/C2"])) == 5


def test_a_failed_write_leaves_nothing(loaded: Store) -> None:
    run = forecast_frame(series_frame(loaded, ["ambulance/C1"]), "daily", model="snaive", horizon=3, backtest_origins=0)
    # A missing series id breaks NOT NULL in forecast_values, the last table written.
    run.values.loc[0, "unique_id"] = None
    run.values["unique_id"] = run.values["unique_id"].astype(object)
    with pytest.raises(Exception):  # noqa: B017 - each engine raises its own constraint error
        save_run(loaded, run)
    assert not has_tables(loaded) or list_runs(loaded) == []


def test_short_series_is_recorded_not_fatal() -> None:
    frame = pd.DataFrame(
        {
            "unique_id": ["long"] * 30 + ["short"] * 3,
            "ds": list(pd.date_range("2025-01-01", periods=30)) + list(pd.date_range("2025-01-01", periods=3)),
            "y": np.r_[np.arange(30.0), [1.0, 2.0, 3.0]],
        }
    )
    run = forecast_frame(frame, "daily", model="snaive", horizon=2)
    errors = {s.unique_id: s.error for s in run.series}
    assert errors["long"] is None and "seasonal naive needs" in str(errors["short"])
    assert set(run.values["unique_id"]) == {"long"}


# --- the command line ---------------------------------------------------------------------------


def _json(output: str) -> dict[str, object]:
    last = output.strip().splitlines()[-1]
    parsed: dict[str, object] = json.loads(last)
    return parsed


def test_cli_run_series(loaded: Store) -> None:
    r = runner.invoke(
        app,
        [
            "run",
            "--series",
            "ambulance/C1",
            "--model",
            "snaive",
            "--horizon",
            "7",
            "--backtest-origins",
            "1",
            "--store",
            loaded.url,
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    out = _json(r.stdout)
    runs = out["runs"]
    assert isinstance(runs, list) and len(runs) == 1
    run = runs[0]
    assert run["n_series"] == 1 and run["rows"] == 7 and run["series"][0]["backtest_origins"] == 1
    assert list_runs(open_store(loaded.url))[0]["run_id"] == run["run_id"]


def test_cli_run_input_csv(tmp_path: Path) -> None:
    csv = tmp_path / "s.csv"
    pd.DataFrame({"ds": pd.date_range("2024-01-01", periods=40).strftime("%Y-%m-%d"), "y": 7}).to_csv(csv, index=False)
    url = str(tmp_path / "runs.duckdb")
    r = runner.invoke(
        app,
        [
            "run",
            "--input",
            str(csv),
            "--freq",
            "daily",
            "--model",
            "snaive",
            "--horizon",
            "3",
            "--store",
            url,
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    run = _json(r.stdout)["runs"][0]  # type: ignore[index]
    assert run["source"] == "s.csv" and run["rows"] == 3
    values = run_values(open_store(url), run["run_id"])
    assert values["mean"].tolist() == [7.0, 7.0, 7.0] and list(values.columns[3:]) == list(QUANTILE_COLUMNS)


def test_cli_refresh(loaded: Store) -> None:
    r = runner.invoke(
        app,
        ["refresh", "--model", "snaive", "--horizon", "7", "--backtest-origins", "0", "--store", loaded.url, "--json"],
    )
    assert r.exit_code == 0, r.output
    runs = _json(r.stdout)["runs"]
    assert isinstance(runs, list)
    assert [x["n_series"] for x in runs] == [2]
    assert set(latest_series_runs(open_store(loaded.url))) == {"ambulance/C1", "ambulance/C2"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run"], "choose --series"),
        (["run", "--series", "nope/S1"], "unknown series"),
        (["run", "--series", "ambulance/C1", "--model", "prophet"], "unknown model"),
        (["run", "--input", "missing.csv"], "--freq"),
        (["refresh"], "no series to forecast"),
        (["run", "--series", "arrivals/S9/utc"], "no series could be forecast: arrivals/S9/utc: no data"),
        (["occupancy"], "no inpatient spells"),
    ],
)
def test_cli_errors(tmp_path: Path, args: list[str], message: str) -> None:
    r = runner.invoke(app, [*args, "--store", str(tmp_path / "empty.duckdb")])
    assert r.exit_code == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0]
