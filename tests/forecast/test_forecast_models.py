"""Models share one interface and give sane, non-crossing quantiles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from forecast_helpers import hourly_series

from uec.forecast import (
    MODEL_NAMES,
    QUANTILE_COLUMNS,
    AutoModel,
    CountRegression,
    SeasonalNaive,
    make_model,
)


def _daily(n: int = 800, seed: int = 1) -> pd.DataFrame:
    ds = pd.date_range("2020-01-01", periods=n)
    rng = np.random.default_rng(seed)
    weekly = 1 + 0.15 * (ds.day_of_week == 0) - 0.1 * (ds.day_of_week >= 5)
    rate = 200 * weekly * (1 + 0.1 * np.cos(2 * np.pi * ds.day_of_year / 365.25))
    return pd.DataFrame({"unique_id": "a", "ds": ds, "y": rng.poisson(rate).astype(float)})


@pytest.mark.parametrize("name", ["snaive", "empirical", "glm"])
def test_common_interface(name: str) -> None:
    hist = pd.concat([_daily(), _daily(seed=2).assign(unique_id="b")])
    fc = make_model(name, "daily").fit(hist).predict(10)
    assert list(fc.columns) == ["unique_id", "ds", "mean", *QUANTILE_COLUMNS]
    assert len(fc) == 20
    assert fc.groupby("unique_id")["ds"].min().tolist() == [pd.Timestamp("2022-03-11")] * 2
    q = fc[list(QUANTILE_COLUMNS)].to_numpy()
    assert np.all(np.diff(q, axis=1) >= 0)
    assert np.all(q >= 0)
    median_in_band = (fc["q0.10"] <= fc["mean"]) & (fc["mean"] <= fc["q0.90"])
    assert median_in_band.all()


def test_seasonal_naive_repeats_last_week_and_widens_with_seasons() -> None:
    hist = _daily()
    fc = SeasonalNaive("daily").fit(hist).predict(21)
    assert fc["mean"].to_numpy()[:7].tolist() == hist["y"].to_numpy()[-7:].tolist()
    assert fc["mean"].to_numpy()[7:14].tolist() == hist["y"].to_numpy()[-7:].tolist()
    width = (fc["q0.90"] - fc["q0.10"]).to_numpy()
    assert width[14:].mean() > width[:7].mean()


def test_seasonal_naive_hourly_season_is_a_week() -> None:
    hist = hourly_series("2024-01-01", "2024-01-21 23:00")
    fc = SeasonalNaive("hourly").fit(hist).predict(5)
    assert fc["mean"].tolist() == hist["y"].to_numpy()[-168:-163].tolist()
    assert str(fc["ds"].dt.tz) == "UTC"


def test_seasonal_naive_needs_a_season() -> None:
    with pytest.raises(ValueError, match="more than 7 observations"):
        SeasonalNaive("daily").fit(_daily(5))


def test_count_regression_learns_weekly_pattern_and_is_calibrated() -> None:
    hist = _daily(900)
    train, test = hist.iloc[:-56], hist.iloc[-56:]
    fc = CountRegression("daily").fit(train).predict(56)
    err = np.abs(fc["mean"].to_numpy() - test["y"].to_numpy())
    assert err.mean() < 20  # Poisson noise alone is ~11
    inside = (test["y"].to_numpy() >= fc["q0.10"].to_numpy()) & (test["y"].to_numpy() <= fc["q0.90"].to_numpy())
    assert 0.6 <= inside.mean() <= 0.97


def test_count_regression_hourly_uses_local_clock() -> None:
    hist = hourly_series("2024-01-01", "2024-04-14 23:00")
    fc = CountRegression("hourly").fit(hist).predict(48)
    local_hour = fc["ds"].dt.tz_convert("Europe/London").dt.hour
    by_hour = fc.groupby(local_hour.to_numpy())["mean"].mean()
    # The synthetic rate peaks at local 12:00 and bottoms at local 00:00.
    assert by_hour.idxmax() in {11, 12, 13}
    assert by_hour.idxmin() in {23, 0, 1}


def test_count_regression_rejects_negative() -> None:
    hist = _daily(100)
    hist.loc[3, "y"] = -1
    with pytest.raises(ValueError, match="non-negative"):
        CountRegression("daily").fit(hist)


def test_auto_records_choice_and_combines() -> None:
    auto = AutoModel("daily", n_origins=3, candidates=("snaive", "glm"))
    fc = auto.fit(_daily(500)).predict(7)
    assert auto.chosen["a"] in {"snaive", "glm", "snaive+glm"}
    assert len(fc) == 7


def test_auto_tries_every_model_within_budget_and_drops_costly_ones() -> None:
    # A large enough budget tries every base model; the default budget the cheap ones, which
    # keeps bench/forecast_scale_bench.py within its target (docs/forecasting.md).
    everything = {"snaive", "empirical", "glm", "ets", "arima", "mstl", "lgbm"}  # daily poisson is glm
    assert set(AutoModel("daily", budget=60).tried) == everything
    assert AutoModel("daily").tried == ("snaive", "empirical", "glm")
    assert set(AutoModel("daily", budget=2).tried) == {"snaive", "empirical", "glm", "mstl"}
    assert set(AutoModel("daily", budget=10).tried) == everything - {"arima", "lgbm"}
    # A tight budget keeps the cheapest first, deterministically (no wall clock involved).
    assert AutoModel("daily", budget=0.1).tried == ("snaive", "empirical")
    assert "lgbm" not in AutoModel("hourly").tried
    auto = AutoModel("daily", n_origins=3)
    auto.fit(_daily(500)).predict(7)
    assert set(auto.chosen["a"].split("+")) <= set(auto.tried) and auto.chosen["a"].count("+") <= 2


def test_predict_before_fit_and_bad_horizon() -> None:
    with pytest.raises(RuntimeError, match="fitted"):
        SeasonalNaive().predict(3)
    with pytest.raises(ValueError, match="horizon"):
        SeasonalNaive().fit(_daily(30)).predict(0)


def test_make_model_names() -> None:
    assert set(MODEL_NAMES) == {
        "snaive",
        "empirical",
        "glm",
        "poisson",
        "ets",
        "arima",
        "mstl",
        "lgbm",
        "ensemble",
        "auto",
    }
    assert type(make_model("glm:raw", "daily")).__name__ == "CountRegression"
    assert make_model("ensemble", "daily").name == "ensemble"
    with pytest.raises(ValueError, match="unknown model 'x'"):
        make_model("x", "daily")
