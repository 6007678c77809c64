"""The statsmodels and LightGBM models, interval calibration and the calibrated ``auto``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from forecast_helpers import hourly_series

from uec.forecast import (
    QUANTILE_COLUMNS,
    QUANTILE_LEVELS,
    ArimaModel,
    AutoModel,
    BoostedQuantile,
    CalibrationOptions,
    EmpiricalQuantile,
    EtsModel,
    MstlModel,
    apply_spread,
    make_model,
    spread_factors,
)
from uec.forecast.models import Calibrated, SeasonalNaive
from uec.forecast.statistical import ARIMA_ORDERS


def _seasonal(n: int = 760, seed: int = 3, uid: str = "a") -> pd.DataFrame:
    """Strong weekly and annual pattern with Poisson noise, plus a bank-holiday-free trend."""
    ds = pd.date_range("2021-01-04", periods=n)
    rng = np.random.default_rng(seed)
    weekly = np.array([1.35, 1.1, 1.0, 1.0, 1.05, 0.7, 0.6])[ds.day_of_week]
    annual = 1 + 0.15 * np.cos(2 * np.pi * ds.day_of_year / 365.25)
    rate = 150 * weekly * annual * (1 + 0.05 * np.arange(n) / 365)
    return pd.DataFrame({"unique_id": uid, "ds": ds, "y": rng.poisson(rate).astype(float)})


def _fast(name: str) -> EtsModel | ArimaModel | MstlModel | BoostedQuantile:
    if name == "lgbm":
        return BoostedQuantile("daily", rounds=60, train_days=400)
    if name == "arima":
        return ArimaModel("daily")
    return EtsModel("daily") if name == "ets" else MstlModel("daily")


@pytest.mark.parametrize("name", ["ets", "arima", "mstl", "lgbm"])
def test_new_models_shape_order_sign_and_reproducible(name: str) -> None:
    hist = pd.concat([_seasonal(420), _seasonal(420, seed=4, uid="b")])
    fc = _fast(name).fit(hist).predict(10)
    assert list(fc.columns) == ["unique_id", "ds", "mean", *QUANTILE_COLUMNS]
    assert len(fc) == 20
    assert fc.groupby("unique_id")["ds"].min().tolist() == [hist["ds"].max() + pd.Timedelta(days=1)] * 2
    q = fc[list(QUANTILE_COLUMNS)].to_numpy()
    assert np.all(np.diff(q, axis=1) >= 0)
    assert np.all(q >= 0) and np.all(fc["mean"] >= 0)
    assert np.all(q[:, -1] > q[:, 0])  # a real interval, not a point
    again = _fast(name).fit(hist).predict(10)
    pd.testing.assert_frame_equal(fc, again)


def test_new_models_clip_at_zero_for_counts() -> None:
    ds = pd.date_range("2023-01-02", periods=200)
    y = np.random.default_rng(0).poisson(0.3, 200).astype(float)
    for model in (EtsModel("daily"), BoostedQuantile("daily", rounds=30)):
        fc = model.fit(pd.DataFrame({"ds": ds, "y": y})).predict(14)
        assert fc[list(QUANTILE_COLUMNS)].to_numpy().min() >= 0


@pytest.mark.parametrize("name", ["ets", "arima", "mstl", "lgbm"])
def test_new_models_hourly(name: str) -> None:
    hist = hourly_series("2024-01-01", "2024-03-10 23:00")
    model = BoostedQuantile("hourly", rounds=30, train_days=60) if name == "lgbm" else make_model(name, "hourly")
    fc = model.fit(hist).predict(48)
    assert len(fc) == 48 and str(fc["ds"].dt.tz) == "UTC"
    local_hour = fc["ds"].dt.tz_convert("Europe/London").dt.hour
    by_hour = fc.groupby(local_hour.to_numpy())["mean"].mean()
    # The synthetic rate peaks at local 12:00 and bottoms at local 00:00.
    assert by_hour.idxmax() in {10, 11, 12, 13, 14}
    assert by_hour.idxmin() in {22, 23, 0, 1, 2}


@pytest.mark.parametrize("name", ["ets", "arima", "lgbm"])
def test_new_models_beat_seasonal_naive_on_a_seasonal_series(name: str) -> None:
    hist = _seasonal(760)
    train, test = hist.iloc[:-28], hist["y"].to_numpy()[-28:]
    naive = make_model("snaive", "daily").fit(train).predict(28)["mean"].to_numpy()
    model = BoostedQuantile("daily", rounds=100) if name == "lgbm" else _fast(name)
    ours = model.fit(train).predict(28)["mean"].to_numpy()
    assert np.mean(np.abs(ours - test)) < 0.85 * np.mean(np.abs(naive - test))


def test_models_need_enough_history() -> None:
    short = _seasonal(12)
    with pytest.raises(ValueError, match="ETS needs"):
        EtsModel("daily").fit(short)
    with pytest.raises(ValueError, match="boosted model needs"):
        BoostedQuantile("daily").fit(short)
    with pytest.raises(ValueError, match="ARIMA needs"):
        ArimaModel("daily").fit(short)


def test_arima_chooses_its_order_by_aic_and_updates_without_refitting() -> None:
    hist = _seasonal(500)
    model = ArimaModel("daily").fit(hist.iloc[:-7])
    fitted = model._fitted["a"].state
    # The order is the lowest-AIC one of the fixed set, each fitted here for comparison.
    from uec.forecast.statistical import _arima_fit

    y = hist["y"].to_numpy()[:-7]
    aics = {orders: _arima_fit(y, (orders,)).aic for orders in ARIMA_ORDERS}
    assert (fitted.model.order, fitted.model.seasonal_order) == min(aics, key=lambda o: aics[o])
    # An update keeps the parameters and moves the origin; its forecast equals a filter pass.
    updated = model.update(hist)
    state = updated._fitted["a"].state
    assert np.array_equal(state.params, fitted.params)
    fc = updated.predict(3)
    assert fc["ds"].min() == hist["ds"].max() + pd.Timedelta(days=1)
    assert not np.allclose(fc["mean"].to_numpy(), model.clone().fit(hist.iloc[:-7]).predict(10)["mean"].to_numpy()[7:])


def _normal_quantiles(center: np.ndarray, sd: float) -> np.ndarray:
    from scipy import stats

    return np.asarray(center[:, None] + sd * stats.norm.ppf(np.asarray(QUANTILE_LEVELS))[None, :])


@pytest.mark.parametrize(("model_sd", "direction"), [(0.5, "widen"), (2.5, "narrow")])
def test_calibration_moves_coverage_to_nominal(model_sd: float, direction: str) -> None:
    rng = np.random.default_rng(5)
    n = 700
    y = rng.normal(0.0, 1.0, n)
    q = _normal_quantiles(np.zeros(n), model_sd)
    steps = np.tile(np.arange(1, 8), n // 7)
    factors = spread_factors(steps, y, q, QUANTILE_LEVELS, horizon=7, season=7)
    assert factors.shape == (7, len(QUANTILE_LEVELS))
    if direction == "widen":
        assert np.all(factors[:, 0] > 1.5)
    else:
        assert np.all(factors[:, 0] < 0.7)
    fresh = rng.normal(0.0, 1.0, 7000)
    q_new = _normal_quantiles(np.zeros(7000), model_sd)
    calibrated = apply_spread(q_new, np.tile(factors[0], (7000, 1)))
    lo, hi = QUANTILE_LEVELS.index(0.1), QUANTILE_LEVELS.index(0.9)
    before = np.mean((fresh >= q_new[:, lo]) & (fresh <= q_new[:, hi]))
    after = np.mean((fresh >= calibrated[:, lo]) & (fresh <= calibrated[:, hi]))
    assert abs(after - 0.8) < 0.04
    assert abs(after - 0.8) < abs(before - 0.8) - 0.1
    # The median is left alone.
    mid = QUANTILE_LEVELS.index(0.5)
    assert np.allclose(calibrated[:, mid], q_new[:, mid])


def test_calibration_borrows_for_weeks_without_enough_points() -> None:
    steps = np.repeat(np.arange(1, 8), 10)  # only the first week measured
    y = np.linspace(-2, 2, steps.size)
    q = _normal_quantiles(np.zeros(steps.size), 1.0)
    opts = CalibrationOptions(min_points=30)
    factors = spread_factors(steps, y, q, QUANTILE_LEVELS, horizon=21, season=7, options=opts)
    assert factors.shape == (21, len(QUANTILE_LEVELS))
    assert np.allclose(factors[14:], factors[:7])
    with pytest.raises(ValueError, match="symmetric"):
        spread_factors(steps, y, q[:, :3], (0.1, 0.2, 0.9), horizon=7, season=7)


def test_calibration_keeps_the_bias_correction_to_the_first_week() -> None:
    # Forecasts biased low by one model sd at every step: measured on its own the lower side
    # should shrink (few actuals fall below) and the upper side widen. In the first week the
    # bias persists, so each side is measured on its own; from the second week on neither side
    # is narrowed below the interval's joint factor, as a bias measured months back often has
    # the other sign by the time a far forecast is scored.
    rng = np.random.default_rng(3)
    steps = np.tile(np.arange(1, 15), 100)
    y = rng.normal(1.0, 1.0, steps.size)
    q = _normal_quantiles(np.zeros(steps.size), 1.0)
    lo, hi = QUANTILE_LEVELS.index(0.1), QUANTILE_LEVELS.index(0.9)
    floored = spread_factors(steps, y, q, QUANTILE_LEVELS, horizon=14, season=7)
    separate = spread_factors(steps, y, q, QUANTILE_LEVELS, horizon=14, season=7,
                              options=CalibrationOptions(joint_floor_from=None))
    joint = spread_factors(steps, y, q, QUANTILE_LEVELS, horizon=14, season=7,
                           options=CalibrationOptions(sides="joint"))
    assert separate[0, lo] < 0.7 < 1.3 < separate[0, hi]
    assert np.allclose(floored[:7], separate[:7])  # the first week: each side on its own
    assert np.allclose(floored[7:, lo], joint[7:, lo])  # the lower side held at the joint factor
    assert np.allclose(floored[7:, hi], separate[7:, hi])  # the wider side stays as measured
    assert np.all(floored[7:] >= joint[7:] - 1e-12)


def test_seasonal_naive_daily_intervals_follow_the_time_of_year() -> None:
    # Three years in which the week-to-week changes are large from October to December and
    # small otherwise: a target in November gets a wider interval than one in May.
    ds = pd.date_range("2020-01-01", "2022-12-31")
    rng = np.random.default_rng(2)
    volatile = np.asarray(ds.month >= 10)
    y = 500.0 + np.cumsum(np.where(volatile, rng.normal(0, 12, ds.size), rng.normal(0, 2, ds.size)))
    hist = pd.DataFrame({"ds": ds, "y": y})

    def width(until: str, model: SeasonalNaive) -> float:
        fc = model.fit(hist[hist["ds"] < until]).predict(7)
        return float((fc["q0.90"] - fc["q0.10"]).mean())

    assert width("2022-11-10", SeasonalNaive("daily")) > 3 * width("2022-05-10", SeasonalNaive("daily"))
    # Pooled over the whole year (the earlier method) the two are much closer.
    pooled = SeasonalNaive("daily", seasonal_window=None)
    assert width("2022-11-10", pooled) < 2 * width("2022-05-10", pooled)
    # Less than two years of history: every difference is used.
    short = hist[hist["ds"] >= "2021-06-01"]
    a = SeasonalNaive("daily").fit(short[short["ds"] < "2022-05-10"]).predict(7)
    b = SeasonalNaive("daily", seasonal_window=None).fit(short[short["ds"] < "2022-05-10"]).predict(7)
    assert np.allclose(a["q0.90"], b["q0.90"])


def test_weighted_calibration_follows_the_recent_scores() -> None:
    # Old scores say the model is too wide, recent ones too narrow: weights by age side with the
    # recent, equal weights with the majority.
    rng = np.random.default_rng(11)
    steps = np.tile(np.arange(1, 8), 100)
    y = np.concatenate([rng.normal(0, 0.3, 560), rng.normal(0, 3.0, 140)])
    q = _normal_quantiles(np.zeros(700), 1.0)
    age = np.arange(699, -1, -1, dtype=float)
    plain = spread_factors(steps, y, q, QUANTILE_LEVELS, horizon=7, season=7)
    recent = spread_factors(steps, y, q, QUANTILE_LEVELS, horizon=7, season=7, weights=0.5**(age / 60))
    lo50 = QUANTILE_LEVELS.index(0.25)
    assert plain[0, lo50] < 1.0 < recent[0, lo50]
    even = spread_factors(steps, y, q, QUANTILE_LEVELS, horizon=7, season=7, weights=np.ones(700))
    assert np.allclose(even, plain, rtol=0.05)


@pytest.mark.parametrize("online", [True, False])
def test_calibration_online_scores_the_forecasts_an_update_has_seen(online: bool) -> None:
    # Demand steps up after the fit and the model lags it: an update that has seen the actuals
    # above its last forecast widens the upper side (online), or keeps the factors (not).
    ds = pd.date_range("2022-01-03", periods=421)
    rng = np.random.default_rng(12)
    y = rng.poisson(100.0, ds.size).astype(float)
    y[400:] += 60.0
    hist = pd.DataFrame({"ds": ds, "y": y})
    model = Calibrated(EmpiricalQuantile("daily"), online=online).fit(hist.iloc[:400])
    first = model.predict(7)
    state = model._fitted["series"].state
    factors = model.factors_for(state, 7)
    assert factors is not None and state.pool is not None
    before, scored = factors.copy(), state.pool[0].size
    for end in (407, 414, 421):
        model = model.update(hist.iloc[:end])
        model.predict(7)
    state = model._fitted["series"].state
    after = model.factors_for(state, 7)
    assert after is not None and state.pool is not None
    hi = QUANTILE_LEVELS.index(0.9)
    if online:
        assert after[0, hi] > before[0, hi] * 1.5
        assert state.pool[0].size == scored + 21  # three weeks scored since the fit
        assert len(state.pending) == 1  # the latest forecast, not yet observed
    else:
        assert np.array_equal(after, before)
    assert first["q0.50"].notna().all()


def test_auto_calibrates_its_pick_on_history() -> None:
    hist = _seasonal(600)
    raw = AutoModel("daily", candidates=("glm",), n_origins=10, calibrate=False).fit(hist).predict(14)
    auto = AutoModel("daily", candidates=("glm",), n_origins=10, min_points=20)
    cal = auto.fit(hist).predict(14)
    assert auto.chosen["a"] == "glm"
    f80, f95 = auto.factors["a"]
    assert f80 > 0 and f95 > 0
    pd.testing.assert_series_equal(raw["mean"], cal["mean"])
    # Each side is calibrated on its own; ``factors`` reports the lower side's (0.10 and 0.025).
    width_raw = (raw["q0.50"] - raw["q0.10"]).to_numpy()
    width_cal = (cal["q0.50"] - cal["q0.10"]).to_numpy()
    assert np.allclose(width_cal[:7], width_raw[:7] * f80, rtol=0.02, atol=1.0)


@pytest.mark.slow
def test_auto_accepts_new_candidates_and_rejects_unknown() -> None:
    auto = AutoModel("daily", candidates=("snaive", "ets"), n_origins=2, min_points=5)
    fc = auto.fit(_seasonal(150)).predict(7)
    assert auto.chosen["a"] in {"snaive", "ets", "snaive+ets"}
    assert len(fc) == 7
    with pytest.raises(ValueError, match="unknown candidate"):
        AutoModel("daily", candidates=("auto",))


def test_auto_hourly_uses_fewer_origins_and_returns_local_pattern() -> None:
    auto = AutoModel("hourly")
    assert (auto.n_origins, AutoModel("daily").n_origins) == (6, 26)
    fc = auto.fit(hourly_series("2024-01-01", "2024-03-03 23:00")).predict(48)
    assert len(fc) == 48
    # Hourly, the budget tries snaive, empirical, glm and poisson; any of them or a combination.
    assert set(auto.chosen["series"].split("+")) <= set(auto.tried) == {"snaive", "empirical", "glm", "poisson"}
    q = fc[list(QUANTILE_COLUMNS)].to_numpy()
    assert np.all(np.diff(q, axis=1) >= 0) and np.all(q >= 0)


@pytest.mark.parametrize(("start", "days"), [("2013-12-30", 2000), ("2019-12-25", 30), ("2016-02-28", 400)])
def test_cached_daily_calendar_matches_a_fresh_build(start: str, days: int) -> None:
    from uec.forecast.models import _build_design, _calendar_design

    ds = pd.date_range(start, periods=days)
    for fourier in (0, 4):
        cached = _calendar_design(ds, "daily", ds[-1], fourier)
        assert np.array_equal(cached, _build_design(ds, "daily", ds[-1], fourier))


def test_heavy_libraries_load_only_when_their_models_are_used() -> None:
    import subprocess
    import sys

    code = (
        "import sys, uec.forecast as f; "
        "print('statsmodels' in sys.modules, 'lightgbm' in sys.modules); "
        "f.make_model('lgbm', 'daily'); print('lightgbm' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False", "True"]
