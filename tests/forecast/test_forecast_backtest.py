"""Rolling-origin semantics, DST-aware hourly origins and the scorecard."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from forecast_helpers import hourly_series

from uec.forecast import METRICS, QUANTILE_COLUMNS, Model, backtest, origins
from uec.forecast.quantiles import QUANTILE_LEVELS


class Spy(Model):
    """Forecasts the history's last value and remembers what each fit saw."""

    name = "spy"
    seen: list[pd.Timestamp]

    def __init__(self, freq: Any = "daily") -> None:
        super().__init__(freq)
        self.seen = []

    def _fit_one(self, ds: pd.DatetimeIndex, y: np.ndarray) -> Any:
        self.seen.append(ds[-1])
        return float(y[-1])

    def _predict_one(self, state: Any, future: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
        mean = np.full(len(future), state)
        return mean, mean[:, None] + np.linspace(-1, 1, len(QUANTILE_LEVELS))[None, :]


def _daily(n: int = 60) -> pd.DataFrame:
    return pd.DataFrame({"ds": pd.date_range("2024-01-01", periods=n), "y": np.arange(n, dtype=float)})


def test_origin_is_first_unobserved_step_and_history_stops_before_it() -> None:
    spy = Spy()
    res = backtest(_daily(), "daily", horizon=3, every=5, test_from="2024-02-01", test_to="2024-02-11", model=spy)
    assert res.origins.strftime("%m-%d").tolist() == ["02-01", "02-06", "02-11"]  # test_to inclusive
    fc = res.forecasts
    assert list(fc.columns) == ["unique_id", "origin", "ds", "mean", *QUANTILE_COLUMNS, "y"]
    for origin, block in fc.groupby("origin"):
        assert block["ds"].tolist() == list(pd.date_range(pd.Timestamp(str(origin)), periods=3))
        # The forecast is the last value seen, the day before the origin: y(origin - 1) = y(origin) - 1.
        assert (block["mean"] == block["y"].iloc[0] - 1).all()


def test_model_is_refitted_per_origin_without_leakage() -> None:
    proto = Spy()
    seen: list[pd.Timestamp] = []

    class Recording(Spy):
        def _fit_one(self, ds: pd.DatetimeIndex, y: np.ndarray) -> Any:
            seen.append(ds[-1])
            return super()._fit_one(ds, y)

    res = backtest(_daily(), "daily", 2, 7, "2024-02-01", "2024-02-15", Recording())
    assert seen == [o - pd.Timedelta(days=1) for o in res.origins]
    assert proto.seen == []


def test_forecasts_past_the_data_are_kept_but_not_scored() -> None:
    res = backtest(_daily(60), "daily", 5, 1, "2024-02-27", "2024-03-01", "snaive")
    assert res.origins[-1] == pd.Timestamp("2024-03-01")  # one step past the last day, 02-29
    last = res.forecasts[res.forecasts["origin"] == res.origins[-1]]
    assert last["y"].isna().all()
    assert int(res.scorecard.set_index("step")["n"]["all"]) == 3 + 2 + 1


def test_scorecard_has_every_metric_by_step_and_overall() -> None:
    df = pd.concat([_daily().assign(unique_id="a"), _daily().assign(unique_id="b", y=lambda d: d["y"] * 2 + 1)])
    res = backtest(df, "daily", 4, 7, "2024-02-01", "2024-02-22", "snaive")
    sc = res.scorecard
    assert list(sc.columns) == ["unique_id", "step", "n", *METRICS]
    assert sc["step"].tolist() == ["1", "2", "3", "4", "all", "all", "all"]
    assert sc["unique_id"].tolist()[-3:] == ["all", "a", "b"]
    assert sc[list(METRICS)].notna().all().all()
    # A linear trend: the weekly naive is 7 (a) or 14 (b) too low, 1 scale unit for each series.
    assert sc["mase"].tolist() == pytest.approx([1.0] * 7)
    # Every in-sample weekly difference is the same, so the empirical interval is exact.
    assert sc.loc[sc.step == "all", "coverage_95"].iloc[0] == 1.0


def _local(ts: pd.DatetimeIndex) -> list[str]:
    return ts.tz_convert("Europe/London").strftime("%m-%d %H:%M").tolist()


def test_hourly_origins_stay_on_local_midnight_and_noon_across_spring_forward() -> None:
    df = hourly_series("2024-03-01", "2024-04-07 23:00")
    res = backtest(df, "hourly", horizon=3, every=12, test_from="2024-03-30", test_to="2024-04-01", model="snaive")
    assert _local(res.origins) == ["03-30 00:00", "03-30 12:00", "03-31 00:00", "03-31 12:00", "04-01 00:00"]
    # 31 March has 23 hours: 00:00 GMT to 12:00 BST is 11 real hours.
    assert res.origins[3] - res.origins[2] == pd.Timedelta(hours=11)
    fc = res.forecasts[res.forecasts["origin"] == res.origins[3]]
    assert fc["ds"].tolist() == [res.origins[3] + pd.Timedelta(hours=h) for h in range(3)]
    assert fc["y"].notna().all()


def test_hourly_origins_stay_on_local_midnight_and_noon_across_fall_back() -> None:
    df = hourly_series("2024-10-01", "2024-11-03 23:00", uid="x")
    res = backtest(df, "hourly", horizon=24, every=12, test_from="2024-10-26", test_to="2024-10-28", model="snaive")
    assert _local(res.origins) == ["10-26 00:00", "10-26 12:00", "10-27 00:00", "10-27 12:00", "10-28 00:00"]
    # 27 October has 25 hours: 12:00 GMT to the next local midnight is 12 real hours, 00:00 BST to 12:00 GMT is 13.
    assert res.origins[3] - res.origins[2] == pd.Timedelta(hours=13)
    assert res.origins[4] - res.origins[3] == pd.Timedelta(hours=12)
    steps = res.scorecard["step"].tolist()
    assert steps[:3] == ["1", "2", "3"] and steps[-1] == "all" and len(steps) == 25


def test_origins_every_24_hours_is_local_midnight() -> None:
    o = origins("hourly", "2024-03-30", "2024-04-01", 24)
    assert _local(o) == ["03-30 00:00", "03-31 00:00", "04-01 00:00"]
    assert o[2] - o[1] == pd.Timedelta(hours=23)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"test_from": "2024-02-01", "test_to": "2024-03-07"}, "more than one step after the end"),
        ({"test_from": "2024-01-05", "test_to": "2024-02-01"}, "too close to the first origin"),
        ({"test_from": "2024-02-10", "test_to": "2024-02-01"}, "is before test_from"),
        ({"test_from": "1 Feb", "test_to": "2024-02-10"}, "cannot read '1 Feb'"),
        ({"test_from": "2024-02-01", "test_to": "2024-02-10", "model": "prophet"}, "unknown model 'prophet'"),
        ({"test_from": "2024-02-01", "test_to": "2024-02-10", "horizon": 0}, "horizon must be"),
        ({"test_from": "2024-02-01", "test_to": "2024-02-10", "every": 0}, "every must be"),
    ],
)
def test_backtest_errors(kwargs: dict[str, Any], message: str) -> None:
    args: dict[str, Any] = {"horizon": 7, "every": 7, "model": "snaive", **kwargs}
    with pytest.raises(ValueError, match=message):
        backtest(_daily(), "daily", **args)
