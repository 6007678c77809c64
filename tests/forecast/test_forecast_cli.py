"""The ``uec forecast`` Typer sub-application, driven through CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from forecast_helpers import hourly_series
from typer.testing import CliRunner

from uec.forecast.cli import app

runner = CliRunner()


@pytest.fixture
def daily_csv(tmp_path: Path) -> Path:
    rng = np.random.default_rng(3)
    ds = pd.date_range("2023-01-01", periods=200)
    frames = [
        pd.DataFrame(
            {"unique_id": uid, "ds": ds.strftime("%Y-%m-%d"), "y": rng.poisson(100 + 10 * (ds.day_of_week == 0))}
        )
        for uid in ("north", "south")
    ]
    p = tmp_path / "daily.csv"
    pd.concat(frames).to_csv(p, index=False)
    return p


def _args(path: Path, *extra: str) -> list[str]:
    return [
        "backtest",
        str(path),
        "--freq",
        "daily",
        "--horizon",
        "7",
        "--every",
        "7",
        "--test-from",
        "2023-06-01",
        "--test-to",
        "2023-07-06",
        *extra,
    ]


def test_backtest_prints_table_and_json_last_line(daily_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "fc.csv"
    result = runner.invoke(app, _args(daily_csv, "--model", "glm", "--output", str(out), "--json"))
    assert result.exit_code == 0, result.output
    assert "glm backtest: 6 origins every 7" in result.output
    assert "MASE" in result.output and "cov 95%" in result.output
    payload = json.loads(result.output.strip().splitlines()[-1])
    assert payload["model"] == "glm" and payload["origins"] == 6 and payload["series"] == 2
    overall = next(r for r in payload["scorecard"] if r["unique_id"] == "all" and r["step"] == "all")
    assert overall["n"] == 2 * 6 * 7
    assert 0 < overall["mase"] < 2
    fc = pd.read_csv(out)
    assert list(fc.columns[:5]) == ["unique_id", "origin", "ds", "mean", "q0.025"]
    assert "q0.95" in fc.columns and fc.columns[-1] == "y"
    assert len(fc) == 2 * 6 * 7


def test_default_model_is_snaive_and_auto_is_accepted(daily_csv: Path) -> None:
    plain = runner.invoke(app, _args(daily_csv))
    assert plain.exit_code == 0 and "snaive backtest" in plain.output
    args = _args(daily_csv, "--model", "auto", "--json")
    args[args.index("--test-to") + 1] = "2023-06-08"
    auto = runner.invoke(app, args)
    assert auto.exit_code == 0
    assert json.loads(auto.output.strip().splitlines()[-1])["model"] == "auto"


def test_hourly_backtest(tmp_path: Path) -> None:
    p = tmp_path / "hourly.csv"
    df = hourly_series("2024-03-01", "2024-04-03 23:00")
    df["ds"] = df["ds"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    df.to_csv(p, index=False)
    result = runner.invoke(
        app,
        [
            "backtest",
            str(p),
            "--freq",
            "hourly",
            "--horizon",
            "24",
            "--every",
            "12",
            "--test-from",
            "2024-03-30",
            "--test-to",
            "2024-04-01",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output.strip().splitlines()[-1])
    assert payload["origins"] == 5
    assert payload["first_origin"] == "2024-03-30T00:00:00+00:00"
    assert payload["last_origin"] == "2024-03-31T23:00:00+00:00"


def _error(result: object) -> str:
    assert result.exit_code == 2  # type: ignore[attr-defined]
    err = result.stderr.strip()  # type: ignore[attr-defined]
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in result.output  # type: ignore[attr-defined]
    return str(err)


def test_missing_file(tmp_path: Path) -> None:
    assert "no such file" in _error(runner.invoke(app, _args(tmp_path / "nope.csv")))


def test_bad_columns(tmp_path: Path) -> None:
    p = tmp_path / "bad.csv"
    p.write_text("date,count\n2023-01-01,4\n")
    assert "missing column(s) ds, y" in _error(runner.invoke(app, _args(p)))


def test_bad_dates_in_file(tmp_path: Path) -> None:
    p = tmp_path / "bad.csv"
    p.write_text("ds,y\n2023-01-01,4\n32/01/2023,5\n")
    assert "ds row 2: cannot parse" in _error(runner.invoke(app, _args(p)))


def test_bad_test_from(daily_csv: Path) -> None:
    args = _args(daily_csv)
    args[args.index("--test-from") + 1] = "June"
    assert "cannot read 'June'" in _error(runner.invoke(app, args))


def test_unknown_model_and_freq(daily_csv: Path) -> None:
    assert "unknown model 'prophet'" in _error(runner.invoke(app, _args(daily_csv, "--model", "prophet")))
    args = _args(daily_csv)
    args[args.index("--freq") + 1] = "weekly"
    assert "unknown freq 'weekly'" in _error(runner.invoke(app, args))


def test_gaps_reported_or_filled(tmp_path: Path) -> None:
    p = tmp_path / "gappy.csv"
    ds = pd.date_range("2023-01-01", periods=200).delete(100)
    pd.DataFrame({"ds": ds.strftime("%Y-%m-%d"), "y": 5}).to_csv(p, index=False)
    assert "missing daily step(s), the first at 2023-04-11" in _error(runner.invoke(app, _args(p)))
    assert runner.invoke(app, _args(p, "--fill-gaps")).exit_code == 0


def test_help_lists_backtest() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0 and "backtest" in result.output
