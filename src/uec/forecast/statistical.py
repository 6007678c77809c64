"""Statistical models from statsmodels: exponential smoothing (ETS) and MSTL decomposition.

statsforecast would be the usual home of these, but it pins ``pandas<3`` and the platform runs
pandas 3, so both models are built on statsmodels 0.15:

* ``ets`` — daily: ``ETSModel`` with additive errors, an additive damped trend and an additive
  weekly season (ETS(A,Ad,A)), fitted to the last three years. Hourly: MSTL (periods 24 and 168)
  then ETS(A,Ad,N) on the seasonally adjusted series, as ``mstl`` does; a 168-period ETS state
  space is slow and fragile to fit.
* ``mstl`` — MSTL decomposition (daily: period 7 on the last three years; hourly: 24 and 168
  on the last twelve weeks), ETS(A,Ad,N) on the seasonally adjusted series, and each seasonal
  component carried forward from its last cycle. Meant for hourly data; for daily data it is
  STL with one period.

Quantiles are normal, from the exact ETS forecast variance (for the seasonal part of MSTL the
decomposition is taken as known); :class:`~uec.forecast.models.Model` sorts them, so they never
cross, and clips them at zero for series that were never negative.

>>> ds = pd.date_range("2022-01-01", periods=120)
>>> y = 100.0 + 20.0 * (ds.day_of_week == 0) + np.arange(120) % 3
>>> fc = EtsModel("daily").fit(pd.DataFrame({"ds": ds, "y": y})).predict(7)
>>> bool(abs(fc.loc[fc.ds.dt.day_of_week == 0, "mean"].iloc[0] - 121) < 3)
True
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.tsa.exponential_smoothing.ets import ETSModel
from statsmodels.tsa.seasonal import MSTL

from uec.forecast.base import Array, Model
from uec.forecast.frame import Freq
from uec.forecast.quantiles import QUANTILE_LEVELS

__all__ = ["EtsModel", "MstlModel"]

_Z = stats.norm.ppf(np.asarray(QUANTILE_LEVELS))


def _ets_model(y: Array, season: int | None) -> ETSModel:
    # A plain integer index: statsmodels' own date handling would re-infer the frequency.
    endog = pd.Series(y, index=pd.RangeIndex(len(y)))
    return ETSModel(
        endog,
        error="add",
        trend="add",
        damped_trend=True,
        seasonal="add" if season else None,
        seasonal_periods=season,
    )


def _ets_fit(y: Array, season: int | None) -> Any:
    """ETS(A,Ad,A) (or ETS(A,Ad,N) without a season) fitted to ``y`` by maximum likelihood."""
    with warnings.catch_warnings():
        # Convergence chatter from the optimiser is common on short windows and harmless: the
        # estimate is still the best found, and the backtest judges it.
        warnings.simplefilter("ignore")
        return _ets_model(y, season).fit(disp=False, maxiter=200)


def _ets_smooth(y: Array, season: int | None, params: Array) -> Any:
    """The same ETS with fixed ``params`` run over ``y``: a filter pass, no optimisation."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _ets_model(y, season).smooth(params)


def _ets_predict(res: Any, n: int, horizon: int) -> tuple[Array, Array]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pred = res.get_prediction(start=n, end=n + horizon - 1)
    mean = np.asarray(pred.predicted_mean, dtype=float)
    var = np.asarray(pred.var_pred_mean, dtype=float)
    return mean, np.maximum(var, 0.0)


def _ets_forecast(y: Array, horizon: int, season: int | None) -> tuple[Array, Array]:
    """Mean and forecast variance of ETS(A,Ad,A) (or ETS(A,Ad,N) without a season) for ``horizon``
    steps after ``y``."""
    return _ets_predict(_ets_fit(y, season), len(y), horizon)


def _normal_quantiles(mean: Array, var: Array) -> Array:
    out: Array = mean[:, None] + np.sqrt(var)[:, None] * _Z[None, :]
    return out


@dataclass
class _Series:
    y: Array
    start: pd.Timestamp  # first time of the fitted window; an update keeps it
    result: Any  # the fitted (or re-smoothed) ETS results


class EtsModel(Model):
    """Exponential smoothing (statsmodels ``ETSModel``): ETS(A,Ad,A) with a weekly season for
    daily series, fitted to the last ``window_days`` days; hourly series go through
    :class:`MstlModel` (periods 24 and 168).

    >>> ds = pd.date_range("2022-01-01", periods=60)
    >>> fc = EtsModel("daily").fit(pd.DataFrame({"ds": ds, "y": 50.0 + np.arange(60) % 7})).predict(2)
    >>> fc["mean"].round(0).tolist()
    [54.0, 55.0]
    """

    name = "ets"

    def __init__(self, freq: Freq = "daily", *, window_days: int = 3 * 365) -> None:
        super().__init__(freq)
        self.window_days = window_days

    def _fit_one(self, ds: pd.DatetimeIndex, y: Array) -> Any:
        if self.freq == "hourly":
            return MstlModel("hourly")._fit_one(ds, y)
        y = y[-self.window_days :]
        if y.size < 2 * self.season + 2:
            raise ValueError(f"ETS needs at least {2 * self.season + 2} observations, got {y.size}")
        return _Series(y, ds[-y.size], _ets_fit(y, self.season))

    def _update_one(self, state: Any, ds: pd.DatetimeIndex, y: Array) -> Any:
        """Same parameters (smoothing weights and initial states) filtered over the window from
        the fitted start to the newest observation: initial states belong to that start."""
        if self.freq == "hourly" or not isinstance(state, _Series):
            return self._fit_one(ds, y)
        keep = np.asarray(ds >= state.start)
        if not keep.any() or ds[keep][0] != state.start:
            return self._fit_one(ds, y)
        new = y[keep]
        return _Series(new, state.start, _ets_smooth(new, self.season, state.result.params))

    def _predict_one(self, state: Any, future: pd.DatetimeIndex) -> tuple[Array, Array]:
        if self.freq == "hourly":
            return MstlModel("hourly")._predict_one(state, future)
        mean, var = _ets_predict(state.result, state.y.size, len(future))
        return mean, _normal_quantiles(mean, var)


@dataclass
class _MstlState:
    adjusted: Array
    seasonals: list[tuple[int, Array]]  # (period, the component's last full cycle)


class MstlModel(Model):
    """MSTL decomposition with an ETS(A,Ad,N) forecast of the seasonally adjusted series.

    Daily: period 7 on the last three years (an annual period would need more than three
    cycles to be more than last year's noise). Hourly: periods 24 and 168 on the last ``weeks``
    weeks.
    Each seasonal component is carried forward by repeating its last cycle.

    >>> ds = pd.date_range("2022-01-01", periods=60)
    >>> fc = MstlModel("daily").fit(pd.DataFrame({"ds": ds, "y": 50.0 + np.arange(60) % 7})).predict(2)
    >>> fc["mean"].round(0).tolist()
    [54.0, 55.0]
    """

    name = "mstl"

    def __init__(self, freq: Freq = "daily", *, window_days: int = 3 * 365, weeks: int = 12) -> None:
        super().__init__(freq)
        self.window_days = window_days
        self.weeks = weeks

    def _fit_one(self, ds: pd.DatetimeIndex, y: Array) -> _MstlState:
        if self.freq == "daily":
            y = y[-self.window_days :]
            # No annual period: with three cycles, each day of the year's subseries has three
            # points, so the "annual season" is last year's noise (MASE 1.24 at 7 days on the
            # Monks et al. stage-1 period, against 0.94 for the seasonal naive).
            periods = [7]
        else:
            y = y[-self.weeks * 168 :]
            periods = [24, 168]
        if y.size < 2 * max(periods) + 2:
            raise ValueError(f"MSTL needs at least {2 * max(periods) + 2} observations, got {y.size}")
        res = MSTL(y, periods=periods).fit()
        seas = np.asarray(res.seasonal, dtype=float).reshape(y.size, -1)
        seasonals = [(p, seas[-p:, i]) for i, p in enumerate(periods)]
        return _MstlState(adjusted=y - seas.sum(axis=1), seasonals=seasonals)

    def _predict_one(self, state: Any, future: pd.DatetimeIndex) -> tuple[Array, Array]:
        s: _MstlState = state
        h = len(future)
        mean, var = _ets_forecast(s.adjusted, h, None)
        k = np.arange(h)
        for period, cycle in s.seasonals:
            mean = mean + cycle[k % period]
        return mean, _normal_quantiles(mean, var)
