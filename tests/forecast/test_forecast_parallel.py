"""Cheap rolling backtests: refit periods, executors (local processes and a real Dask
LocalCluster) giving results identical to a serial run, progress, and the CLI's --dask."""

from __future__ import annotations

import json
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from uec.forecast import backtest
from uec.forecast.cli import app
from uec.forecast.frame import Freq
from uec.forecast.models import CountRegression, make_model
from uec.forecast.quantiles import QUANTILE_COLUMNS
from uec.forecast.runs import forecast_frame, run_values
from uec.store import open_store


def _two_series() -> pd.DataFrame:
    ds = pd.date_range("2021-01-01", periods=600)
    rng = np.random.default_rng(3)
    week = np.array([1.2, 1.0, 1.0, 0.95, 1.0, 0.9, 0.85])
    parts = []
    for uid, level in (("a", 80.0), ("b", 300.0)):
        y = rng.poisson(level * week[ds.day_of_week] * (1 + 0.1 * np.sin(2 * np.pi * ds.day_of_year / 365.25)))
        parts.append(pd.DataFrame({"unique_id": uid, "ds": ds, "y": y.astype(float)}))
    return pd.concat(parts, ignore_index=True)


class CountingGlm(CountRegression):
    """A real count regression that counts its estimations (fits), not its updates."""

    estimations = 0

    def _fit_one(self, ds: pd.DatetimeIndex, y: Any) -> Any:
        type(self).estimations += 1
        return super()._fit_one(ds, y)


def test_refit_every_fits_once_per_period_and_updates_in_between() -> None:
    df = _two_series()
    CountingGlm.estimations = 0
    res = backtest(df, "daily", 14, 7, "2022-05-01", "2022-07-24", CountingGlm("daily"), refit_every=28)
    # 13 weekly origins in 4-week periods -> 4 periods, 2 series: 8 fits instead of 26.
    assert len(res.origins) == 13 and CountingGlm.estimations == 8
    # An update keeps the coefficients but moves the AR state: forecasts differ from a stale
    # forecast and stay close to a full refit.
    full = backtest(df, "daily", 14, 7, "2022-05-01", "2022-07-24", CountingGlm("daily"))
    assert CountingGlm.estimations == 8 + 26
    a = res.forecasts["mean"].to_numpy()
    b = full.forecasts["mean"].to_numpy()
    assert np.max(np.abs(a - b) / b) < 0.1
    # The first origin of each period is a real refit, so those forecasts are identical.
    first = res.forecasts["origin"] == pd.Timestamp("2022-05-01")
    assert np.allclose(a[first.to_numpy()], b[first.to_numpy()])


def test_update_with_same_data_changes_nothing() -> None:
    df = _two_series()
    m = CountRegression("daily").fit(df)
    before = m.predict(7)
    after = m.update(df).predict(7)
    pd.testing.assert_frame_equal(before, after)


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_exact=True)


def test_processes_and_dask_local_cluster_match_serial_exactly() -> None:
    distributed = pytest.importorskip("distributed")
    df = _two_series()
    args: tuple[pd.DataFrame, Freq, int, int, str, str] = (df, "daily", 14, 7, "2022-05-01", "2022-06-26")
    model = make_model("glm", "daily")  # calibrated: exercises the internal test in workers too
    calls: list[tuple[int, int, float | None]] = []
    serial = backtest(*args, model, refit_every=14, progress=lambda d, t, left: calls.append((d, t, left)))
    assert calls[-1][:2] == (len(calls), len(calls)) and calls[-1][2] == 0.0 and calls[0][2] is not None
    with ProcessPoolExecutor(2) as pool:
        local = backtest(*args, model, refit_every=14, executor=pool)
    _same(serial.forecasts, local.forecasts)
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None)
    with cluster, distributed.Client(cluster) as client:
        on_dask = backtest(*args, model, refit_every=14, executor=client.get_executor())
    _same(serial.forecasts, on_dask.forecasts)
    _same(serial.scorecard, on_dask.scorecard)


def test_cli_backtest_on_dask_matches_serial(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    path = tmp_path / "two.csv"
    _two_series().to_csv(path, index=False)
    common = ["backtest", str(path), "--freq", "daily", "--horizon", "7", "--every", "7", "--test-from",
              "2022-06-01", "--test-to", "2022-06-22", "--model", "glm", "--refit-every", "14", "--json"]
    serial = CliRunner().invoke(app, common)
    assert serial.exit_code == 0, serial.output
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None)
    with cluster:
        on_dask = CliRunner().invoke(app, [*common, "--dask", cluster.scheduler_address])
    assert on_dask.exit_code == 0, on_dask.output
    a = json.loads(serial.output.strip().splitlines()[-1])
    b = json.loads(on_dask.output.strip().splitlines()[-1])
    assert a["scorecard"] == b["scorecard"]


def test_cli_unreachable_dask_is_one_error_line(tmp_path: Path) -> None:
    path = tmp_path / "two.csv"
    _two_series().to_csv(path, index=False)
    out = CliRunner().invoke(app, ["backtest", str(path), "--freq", "daily", "--horizon", "7", "--every", "7",
                                   "--test-from", "2022-06-01", "--test-to", "2022-06-08",
                                   "--dask", "tcp://127.0.0.1:9"])
    assert out.exit_code == 2
    assert out.stderr.startswith("error: cannot reach the Dask scheduler") and out.stderr.count("\n") == 1


def test_every_model_returns_sorted_nonnegative_quantiles_after_update() -> None:
    df = _two_series()
    for name in ("snaive", "empirical", "glm", "poisson", "ensemble"):
        m = make_model(name, "daily").fit(df[df["ds"] < "2022-06-01"])
        fc = m.update(df[df["ds"] < "2022-06-08"]).predict(7)
        q = fc[list(QUANTILE_COLUMNS)].to_numpy()
        assert str(fc["ds"].min().date()) == "2022-06-08"
        assert np.all(np.diff(q, axis=1) >= 0) and np.all(q >= 0), name


def test_forecast_frame_on_processes_matches_serial() -> None:
    df = _two_series()
    serial = forecast_frame(df, "daily", model="glm", horizon=7, backtest_origins=2)
    with ProcessPoolExecutor(2) as pool:
        parallel = forecast_frame(df, "daily", model="glm", horizon=7, backtest_origins=2, executor=pool)
    _same(serial.values, parallel.values)
    assert [s.scores for s in serial.series] == [s.scores for s in parallel.series]


def test_cli_run_and_refresh_on_dask(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    csv = tmp_path / "two.csv"
    _two_series().to_csv(csv, index=False)
    common = ["--model", "glm", "--horizon", "7", "--backtest-origins", "1", "--json"]
    serial = CliRunner().invoke(app, ["run", "--input", str(csv), "--freq", "daily", "--store",
                                      str(tmp_path / "a.duckdb"), *common])
    assert serial.exit_code == 0, serial.output
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None)
    with cluster:
        on_dask = CliRunner().invoke(app, ["run", "--input", str(csv), "--freq", "daily", "--store",
                                           str(tmp_path / "b.duckdb"), *common, "--dask", cluster.scheduler_address])
        assert on_dask.exit_code == 0, on_dask.output
        a = open_store(str(tmp_path / "a.duckdb"))
        b = open_store(str(tmp_path / "b.duckdb"))
        run_a = json.loads(serial.stdout.strip().splitlines()[-1])["runs"][0]
        run_b = json.loads(on_dask.stdout.strip().splitlines()[-1])["runs"][0]
        _same(run_values(a, run_a["run_id"]), run_values(b, run_b["run_id"]))
        assert [s["mase"] for s in run_a["series"]] == [s["mase"] for s in run_b["series"]]
        refreshed = CliRunner().invoke(app, ["refresh", "--store", str(tmp_path / "b.duckdb"), "--dask",
                                             cluster.scheduler_address, "--json"])
    # The CSV's series are not store series: refresh finds nothing to forecast, said in one line.
    assert refreshed.exit_code == 2 and refreshed.stderr.startswith("error: the store has no series")


@pytest.mark.parametrize("mean", [0.01, 0.5, 3.0, 14.0, 200.0, 2200.0])
@pytest.mark.parametrize("alpha", [1e-8, 1e-3, 0.05, 0.5, 3.0])
def test_vectorised_negative_binomial_quantiles_equal_scipy(mean: float, alpha: float) -> None:
    from scipy import stats

    from uec.forecast.base import LEVELS
    from uec.forecast.models import nbinom_quantiles

    mu = mean * np.random.default_rng(0).uniform(0.8, 1.2, 30)
    n = np.full(30, 1 / alpha)
    p = n / (n + mu)
    exact = stats.nbinom.ppf(LEVELS[None, :], n[:, None], p[:, None])
    assert np.array_equal(nbinom_quantiles(n, p), exact)
    assert np.array_equal(nbinom_quantiles(n, p, max_grid=100_000), exact)  # the grid path on its own
