"""Golden test: the seasonal naive in Monks et al.'s stage-1 protocol reproduces their Table 2.

Protocol (paper and repository): the trust-level series; training data are everything before
2017-07-01 (from 2013-12-30); origins every 7 days from 2017-07-01, 27 of them (the last
2017-12-30, so its 365-day forecast ends 2018-12-30, inside the validation period that ends
2018-12-31); each metric is computed over days 1..h of each fold and reported as the mean and
sample SD over the 27 folds; MASE is scaled by the in-sample seasonal naive (m = 7) MAE of the
initial training data; sMAPE = mean(200|e|/(|y|+|f|)).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from uec.forecast import backtest

# Copies of the paper's data and Table 2 (see the README there); never read from outside the repo.
DATA = Path(__file__).resolve().parents[1] / "data" / "forecast"
HORIZONS = (7, 14, 21, 28, 35, 42, 49, 56, 63, 70, 77, 84, 365)


@pytest.fixture(scope="module")
def trust_daily() -> pd.DataFrame:
    """SWASFT trust-level daily responses (Monks et al.), columns ds, y."""
    return pd.read_csv(DATA / "swast_trust_daily.csv")


@pytest.fixture(scope="module")
def table2() -> pd.DataFrame:
    return pd.read_csv(DATA / "table2_stage1_snaive_trust.csv")


def _published(cell: str) -> tuple[str, str]:
    mean, sd = cell.replace(")", "").split(" (")
    return mean, sd


@pytest.fixture(scope="module")
def summary(trust_daily: pd.DataFrame) -> pd.DataFrame:
    res = backtest(
        trust_daily, "daily", horizon=365, every=7, test_from="2017-07-01", test_to="2017-12-30", model="snaive"
    )
    assert len(res.origins) == 27
    return res.fold_summary(HORIZONS).set_index("h")


@pytest.mark.parametrize("metric", ["MASE", "sMAPE", "RMSE"])
def test_table2_reproduced_to_two_decimals(summary: pd.DataFrame, table2: pd.DataFrame, metric: str) -> None:
    for row in table2.itertuples(index=False):
        h = int(row.h)  # type: ignore[arg-type]  # pandas-stubs types itertuples fields as any scalar
        mean, sd = _published(getattr(row, metric))
        ours = summary.loc[h]
        assert ours["folds"] == 27
        assert f"{ours[metric.lower() + '_mean']:.2f}" == mean, (metric, h)
        assert f"{ours[metric.lower() + '_sd']:.2f}" == sd, (metric, h)


def test_headline_numbers(summary: pd.DataFrame) -> None:
    assert [round(float(summary["mase_mean"][h]), 2) for h in (7, 42, 84, 365)] == [0.94, 1.23, 1.34, 1.49]
    assert [round(float(summary["rmse_mean"][h]), 2) for h in (7, 42, 84, 365)] == [96.91, 128.11, 143.04, 155.29]
