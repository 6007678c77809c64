"""Published SWAST benchmarks (Monks et al. 2023) reproduced from the copies in tests/data, and
the issue-16 checks on them: calibrated coverage, and the area hierarchy reconciled.

Table 2 (the seasonal naive) is reproduced number for number in ``test_forecast_golden.py``.
Here: Table S1's seasonal naive column and the position of our models against its best method,
every cheap model's calibrated coverage, and (marked slow) Table 3's areas and the hierarchy.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from uec.forecast import backtest, fold_summary
from uec.forecast.reconcile import reconcile_backtest

DATA = Path(__file__).resolve().parents[1] / "data" / "forecast"
STAGE1 = ("2017-07-01", "2017-12-30")
HORIZONS = (7, 14, 21, 28, 35, 42, 49, 56, 63, 70, 77, 84)


def _mean(cell: object) -> float:
    """The mean of a published cell such as ``"0.76 (0.71 - 0.80)"``."""
    return float(str(cell).split(" (")[0])


def _num(frame: pd.DataFrame, row: int, column: str) -> float:
    """One cell as a float (pandas types ``.loc`` cells loosely)."""
    return float(np.asarray(frame.loc[row, column], dtype=np.float64))


@pytest.fixture(scope="module")
def trust() -> pd.DataFrame:
    return pd.read_csv(DATA / "swast_trust_daily.csv")


@pytest.fixture(scope="module")
def table_s1() -> pd.DataFrame:
    return pd.read_csv(DATA / "table_s1_stage1_mase_all_methods.csv").set_index("h")


def test_table_s1_seasonal_naive_column_reproduced(trust: pd.DataFrame, table_s1: pd.DataFrame) -> None:
    res = backtest(trust, "daily", 84, 7, *STAGE1, "snaive:raw")
    ours = res.fold_summary(HORIZONS).set_index("h")["mase_mean"]
    for h in HORIZONS:
        assert f"{float(ours[h]):.2f}" == f"{_mean(table_s1.loc[h, 'snaive']):.2f}", h


@pytest.fixture(scope="module")
def stage1_runs(trust: pd.DataFrame) -> dict[str, pd.DataFrame]:
    # Refit every 4 weeks, updated weekly in between: the protocol as the benchmark runs it.
    return {
        name: backtest(trust, "daily", 84, 7, *STAGE1, name, refit_every=28).fold_summary([7, 28, 84]).set_index("h")
        for name in ("snaive", "empirical", "glm", "ets", "mstl", "arima", "ensemble", "auto")
    }


@pytest.mark.parametrize(
    ("name", "h"),
    [
        (name, h)
        for name in ("snaive", "empirical", "glm", "ets", "arima", "mstl", "ensemble", "auto")
        for h in (7, 84)
    ],
)
def test_stage1_calibrated_coverage_within_five_points(
    stage1_runs: dict[str, pd.DataFrame], name: str, h: int
) -> None:
    """Coverage over days 1..h of every fold, mean over the 27 folds, as the bench prints it."""
    s = stage1_runs[name]
    assert abs(_num(s, h, "coverage_80_mean") - 0.80) <= 0.05
    assert abs(_num(s, h, "coverage_95_mean") - 0.95) <= 0.05


def test_stage1_glm_near_the_best_published_method(
    stage1_runs: dict[str, pd.DataFrame], table_s1: pd.DataFrame
) -> None:
    s = stage1_runs["glm"]
    published = table_s1.map(_mean)
    best7 = float(np.asarray(published.loc[7].drop("snaive"), dtype=np.float64).min())  # reg-arima, 0.76
    assert _num(s, 7, "mase_mean") < best7 + 0.01
    for h in (7, 28, 84):
        assert _num(s, h, "mase_mean") < _num(published, h, "snaive") - 0.1


@pytest.mark.slow
def test_table3_areas_2019_glm_matches_published_ensemble() -> None:
    """Table 3: the paper's final ensemble on the seven areas in 2019, MASE 0.66-0.70 for 7-84
    days (mean and 95% CI over areas and folds)."""
    areas = pd.read_csv(DATA / "swast_areas_daily.csv")
    table3 = pd.read_csv(DATA / "table3_benchmark_ensemble_by_horizon.csv").set_index("h")
    res = backtest(areas, "daily", 84, 7, "2019-01-01", "2019-10-08", "glm", refit_every=28)
    s = res.fold_summary([7, 28, 84]).set_index("h")
    for h in (7, 28, 84):
        upper = float(str(table3.loc[h, "MASE"]).split("- ")[1].rstrip(")"))
        assert _num(s, h, "mase_mean") <= upper + 0.02, h
    assert abs(_num(s, 7, "coverage_80_mean") - 0.80) <= 0.05
    assert abs(_num(s, 7, "coverage_95_mean") - 0.95) <= 0.05


def _hierarchy_scores(warm_from: str, first: str, last: str, method: str) -> tuple[pd.Series, pd.Series, pd.DataFrame]:
    """MASE on the trust total (= sum of the seven areas) by horizon, unreconciled and reconciled by
    ``method``, over the origins ``first`` … ``last`` of a ``glm`` backtest from ``warm_from`` (the
    earlier origins give MinT its past errors); and the reconciled forecasts."""
    areas = pd.read_csv(DATA / "swast_areas_daily.csv")
    total = areas.groupby("ds", as_index=False)["y"].sum().assign(unique_id="Total")
    frame = pd.concat([total, areas], ignore_index=True)
    tree = {"Total": sorted(areas["unique_id"].unique())}
    res = backtest(frame, "daily", 84, 7, warm_from, last, "glm", refit_every=28)
    base = res.forecasts
    reconciled = reconcile_backtest(base, tree, "daily", method)
    scored = {}
    for label, fc in (("base", base), ("reconciled", reconciled)):
        fc = fc[(fc["origin"] >= pd.Timestamp(first)) & (fc["unique_id"] == "Total")]
        scored[label] = fold_summary(fc, res.scales, "daily", [7, 84]).set_index("h")["mase_mean"]
    return scored["base"], scored["reconciled"], reconciled


@pytest.mark.slow
def test_hierarchy_mint_beats_unreconciled_total_on_stage1() -> None:
    """MinT with the sample covariance of past errors beats the total's own forecast at 7 and 84
    days (bench: 0.768 / 1.135 against 0.796 / 1.139). The Schäfer–Strimmer shrunk version does
    not on this hierarchy (0.801): see docs/forecasting.md."""
    base, mint, reconciled = _hierarchy_scores("2016-12-31", *STAGE1, "mint_sample")
    assert mint[7] < base[7]
    assert mint[84] < base[84]
    # Coherent: the reconciled total is the sum of the reconciled areas at every origin and day.
    wide = reconciled.pivot_table(index=["origin", "ds"], columns="unique_id", values="mean")
    assert np.allclose(wide["Total"], wide.drop(columns="Total").sum(axis=1))


@pytest.mark.slow
def test_hierarchy_default_beats_unreconciled_total_on_the_test_year() -> None:
    """The paper's test year (41 weekly origins of 2019): the default reconciliation, MinT with
    the shrunk covariance, beats the total's own forecast at 7 and 84 days (bench: 0.636 / 0.738
    against 0.641 / 0.740), from a backtest that starts 26 weeks earlier as the bench's does."""
    base, mint, _ = _hierarchy_scores("2018-07-03", "2019-01-01", "2019-10-08", "mint_shrink")
    assert mint[7] < base[7]
    assert mint[84] < base[84]
