"""Gradient-boosted quantile regression (LightGBM), direct multi-step and anchored on the origin.

Why direct and anchored rather than recursive or "lags ≥ horizon":

* The interface only learns the horizon at ``predict``; a model on lags ≥ H would use 84-day-old
  values for next week's forecast when H = 84, throwing away what matters most at short range.
  A recursive model feeds its own point forecasts back as lags, so its quantiles would need
  simulation and its errors compound.
* Instead each training row is a (pseudo-origin ``o``, step ``k``) pair from the history: the
  features describe the target day ``t = o + k − 1`` (day of week or local hour of week, day of
  year, bank holidays and the Christmas and New Year days) and what was known at ``o`` (the step
  ``k``; the last week's level and the value one season before ``t`` as far as observed at
  ``o``, both relative to the anchor). The target is ``y[t]`` divided by the anchor, the mean of
  the four weeks before ``o``. Trees cannot extrapolate a trend; dividing by a level known at
  the origin lets them forecast a series that has grown past anything in training.

One booster per level of a reduced set (0.025, 0.1, 0.25, 0.5, 0.75, 0.9, 0.975, objective
``quantile``) and one for the mean (``l2``); the other levels are interpolated on the normal
score scale, and :class:`~uec.forecast.base.Model` sorts them so they never cross. Fitting
happens at ``predict`` time, when the horizon is known. Modest trees (200 rounds, 15 leaves,
one thread) keep a three-year daily fit to about a second.

>>> ds = pd.date_range("2022-01-01", periods=200)
>>> y = 100.0 + 30.0 * (ds.day_of_week == 0) + np.arange(200) % 3
>>> fc = BoostedQuantile("daily", rounds=50).fit(pd.DataFrame({"ds": ds, "y": y})).predict(7)
>>> bool(fc.loc[fc.ds.dt.day_of_week == 0, "mean"].iloc[0] > 120)
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

from uec.forecast.base import LEVELS, Array, Model
from uec.forecast.clock import bank_holidays, local_time, seasonal_position
from uec.forecast.frame import Freq

__all__ = ["BoostedQuantile"]

IntArray = NDArray[np.int64]

#: The levels with their own booster; the rest are interpolated.
FIT_LEVELS: tuple[float, ...] = (0.025, 0.1, 0.25, 0.5, 0.75, 0.9, 0.975)
_SPECIAL_DAYS: tuple[tuple[int, int], ...] = ((12, 24), (12, 25), (12, 26), (12, 31), (1, 1))


def _target_features(ds: pd.DatetimeIndex, freq: Freq) -> Array:
    """Calendar features of the target times: weekly position, hour of day (hourly), annual
    Fourier pairs, bank holiday flag and a code for the Christmas and New Year days."""
    local = local_time(ds)
    doy = np.asarray(local.day_of_year, dtype=float)
    cols: list[Array] = [seasonal_position(ds, freq).astype(float)]
    if freq == "hourly":
        cols.append(np.asarray(local.hour, dtype=float))
    for k in (1, 2):
        cols.extend([np.sin(2 * np.pi * k * doy / 365.25), np.cos(2 * np.pi * k * doy / 365.25)])
    day = np.asarray(local.tz_localize(None).normalize().values.astype("datetime64[D]"))
    years = range(int(local.year.min()), int(local.year.max()) + 1)
    hol = np.array(sorted(bank_holidays(years)), dtype="datetime64[D]")
    cols.append(np.isin(day, hol).astype(float))
    month, mday = np.asarray(local.month), np.asarray(local.day)
    code = np.zeros(len(ds))
    for i, (m, d) in enumerate(_SPECIAL_DAYS, start=1):
        code[(month == m) & (mday == d)] = i
    cols.append(code)
    return np.column_stack(cols)


@dataclass
class _History:
    ds: pd.DatetimeIndex
    y: Array
    # What the boosters learn from: the history at fit time. An update moves ``ds``/``y`` on but
    # keeps these and the boosters, so the same horizon is trained once per fit.
    train_ds: pd.DatetimeIndex
    train_y: Array
    boosters: dict[int, tuple[Any, list[Any]]] = field(default_factory=dict)


class BoostedQuantile(Model):
    """LightGBM quantile regression, direct multi-step, anchored on each origin's recent level
    (see the module docstring for the design).

    ``train_days`` of history supply pseudo-origins every ``stride`` steps (daily: every 2 days;
    hourly: every 24 hours); rows beyond ``max_rows`` are subsampled with a fixed seed, so fits
    are reproducible.

    >>> ds = pd.date_range("2022-01-01", periods=200)
    >>> m = BoostedQuantile("daily", rounds=20).fit(pd.DataFrame({"ds": ds, "y": 50.0 + np.arange(200) % 7}))
    >>> list(m.predict(3).columns[:3])
    ['unique_id', 'ds', 'mean']
    """

    name = "lgbm"

    def __init__(
        self,
        freq: Freq = "daily",
        *,
        train_days: int = 3 * 365,
        stride: int | None = None,
        rounds: int = 200,
        leaves: int = 15,
        learning_rate: float = 0.05,
        max_rows: int = 40_000,
        threads: int = 1,
    ) -> None:
        super().__init__(freq)
        self.train_days = train_days
        self.stride = stride or (2 if freq == "daily" else 24)
        self.rounds = rounds
        self.leaves = leaves
        self.learning_rate = learning_rate
        self.max_rows = max_rows
        self.threads = threads

    @property
    def _anchor_len(self) -> int:
        return 4 * self.season

    def _fit_one(self, ds: pd.DatetimeIndex, y: Array) -> _History:
        if np.any(y < 0):
            raise ValueError("the boosted model needs non-negative y")
        n = min(len(y), self.train_days * (1 if self.freq == "daily" else 24))
        if n < self._anchor_len + 2 * self.season:
            raise ValueError(f"the boosted model needs at least {self._anchor_len + 2 * self.season} observations")
        return _History(ds[-n:], y[-n:], ds[-n:], y[-n:])

    def _update_one(self, state: Any, ds: pd.DatetimeIndex, y: Array) -> _History:
        n = min(len(y), self.train_days * (1 if self.freq == "daily" else 24))
        if n < self._anchor_len + 2 * self.season:
            return self._fit_one(ds, y)
        return _History(ds[-n:], y[-n:], state.train_ds, state.train_y, state.boosters)

    def _origin_features(self, y: Array, o: IntArray, k: IntArray, t_feats: Array) -> tuple[Array, Array]:
        """Rows for (origin index ``o``, step ``k``) pairs; returns features and anchors."""
        m = self.season
        csum = np.concatenate([[0.0], np.cumsum(y)])
        anchor = (csum[o] - csum[o - self._anchor_len]) / self._anchor_len
        anchor = np.maximum(anchor, 1e-3)
        last_week = (csum[o] - csum[o - m]) / m / anchor
        t = o + k - 1
        # The value at the same weekly position, as recent as was observed at the origin.
        back = t - m * np.ceil(k / m).astype(np.int64)
        same_pos = y[back] / anchor
        x = np.column_stack([t_feats, k.astype(float), last_week, same_pos])
        return x, anchor

    def _train(self, h: _History, horizon: int) -> tuple[Any, list[Any]]:
        """Boosters for the mean and each of :data:`FIT_LEVELS`, trained on the fit-time history
        for steps 1..``horizon``."""
        y, n = h.train_y, len(h.train_y)
        t_feats = _target_features(h.train_ds, self.freq)
        first = self._anchor_len
        origins = np.arange(first, n, self.stride, dtype=np.int64)
        o = np.repeat(origins, horizon)
        k = np.tile(np.arange(1, horizon + 1, dtype=np.int64), origins.size)
        keep = o + k - 1 < n
        o, k = o[keep], k[keep]
        if o.size > self.max_rows:
            pick = np.sort(np.random.default_rng(0).choice(o.size, self.max_rows, replace=False))
            o, k = o[pick], k[pick]
        x, anchor = self._origin_features(y, o, k, t_feats[o + k - 1])
        target = y[o + k - 1] / anchor
        params: dict[str, Any] = {
            "num_leaves": self.leaves,
            "learning_rate": self.learning_rate,
            "min_data_in_leaf": 20,
            "num_threads": self.threads,
            "verbosity": -1,
            "seed": 0,
            "deterministic": True,
            "force_row_wise": True,
        }
        data = lgb.Dataset(x, target, params={"max_bin": 63, "verbosity": -1}, free_raw_data=False)
        mean_booster = lgb.train({**params, "objective": "l2"}, data, num_boost_round=self.rounds)
        level_boosters = [
            lgb.train({**params, "objective": "quantile", "alpha": level}, data, num_boost_round=self.rounds)
            for level in FIT_LEVELS
        ]
        return mean_booster, level_boosters

    def _predict_one(self, state: Any, future: pd.DatetimeIndex) -> tuple[Array, Array]:
        h: _History = state
        y, n, horizon = h.y, len(h.y), len(future)
        trained = next((v for k, v in sorted(h.boosters.items()) if k >= horizon), None)
        if trained is None:
            trained = h.boosters[horizon] = self._train(h, horizon)
        mean_booster, level_boosters = trained
        t_feats = _target_features(future, self.freq)
        k_new = np.arange(1, horizon + 1, dtype=np.int64)
        o_new = np.full(horizon, n, dtype=np.int64)
        x_new, anchor_new = self._origin_features(np.concatenate([y, np.zeros(horizon)]), o_new, k_new, t_feats)
        mean = np.asarray(mean_booster.predict(x_new), dtype=float) * anchor_new
        fitted = np.empty((horizon, len(FIT_LEVELS)))
        for j, booster in enumerate(level_boosters):
            fitted[:, j] = np.asarray(booster.predict(x_new), dtype=float) * anchor_new
        fitted = np.sort(fitted, axis=1)
        z_fit = stats.norm.ppf(np.asarray(FIT_LEVELS))
        z_all = stats.norm.ppf(LEVELS)
        q = np.vstack([np.interp(z_all, z_fit, row) for row in fitted])
        return mean, q
