"""Forecasting models with one interface: ``fit(history)`` then ``predict(horizon)``.

``history`` is a long-format frame (``unique_id, ds, y``, see :mod:`uec.forecast.frame`);
``predict`` returns one row per (``unique_id``, ``ds``) for the ``horizon`` steps after each
series' last observation, with a ``mean`` and the quantile columns ``q0.025``, ``q0.05``, …,
``q0.95``, ``q0.975``. Quantiles never cross, and for series that were never negative neither
the mean nor any quantile is.

>>> hist = pd.DataFrame({"ds": pd.date_range("2024-01-01", periods=28), "y": [10.0, 12, 11, 13, 20, 25, 9] * 4})
>>> SeasonalNaive("daily").fit(hist).predict(3)[["ds", "mean"]]
          ds  mean
0 2024-01-29  10.0
1 2024-01-30  12.0
2 2024-01-31  11.0
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from typing import Any, Self

import numpy as np
import pandas as pd
from scipy import stats

from uec.forecast.base import LEVELS, Array, Model
from uec.forecast.calibrate import apply_spread, spread_factors
from uec.forecast.clock import bank_holidays, local_time, seasonal_position
from uec.forecast.frame import Freq, season_length, step_of
from uec.forecast.quantiles import QUANTILE_LEVELS

__all__ = [
    "AUTO_CANDIDATES",
    "MODEL_NAMES",
    "AutoModel",
    "CountRegression",
    "EmpiricalQuantile",
    "Model",
    "SeasonalNaive",
    "make_model",
]

_LEVELS = LEVELS


class SeasonalNaive(Model):
    """Seasonal naive: each step repeats the value one season (a week) earlier.

    Step k of the horizon lies j = ceil(k / m) seasons past the last observed season, so its
    interval comes from the empirical quantiles of the in-sample j-season differences
    ``y[t] − y[t − j m]``; where history is too short for those, from the one-season differences
    scaled by sqrt(j).

    >>> hist = pd.DataFrame({"ds": pd.date_range("2024-01-01", periods=8), "y": [1.0, 2, 3, 4, 5, 6, 7, 3]})
    >>> SeasonalNaive("daily").fit(hist).predict(1)[["mean", "q0.025", "q0.975"]].round(2)
       mean  q0.025  q0.975
    0   2.0     4.0     4.0
    """

    name = "snaive"

    def __init__(self, freq: Freq = "daily", *, season: int | None = None, min_residuals: int = 30) -> None:
        super().__init__(freq)
        self._m = season or season_length(self.freq)
        self.min_residuals = min_residuals

    @property
    def season(self) -> int:
        return self._m

    def _fit_one(self, ds: pd.DatetimeIndex, y: Array) -> Array:
        if y.size <= self._m:
            raise ValueError(f"seasonal naive needs more than {self._m} observations, got {y.size}")
        return y

    def _predict_one(self, state: Any, future: pd.DatetimeIndex) -> tuple[Array, Array]:
        y: Array = state
        m = self._m
        k = np.arange(len(future))
        mean = y[-m:][k % m]
        seasons_back = k // m + 1
        base = y[m:] - y[:-m]
        offsets = np.empty((len(future), _LEVELS.size))
        for j in np.unique(seasons_back):
            enough = y.size - j * m >= self.min_residuals or j == 1
            resid = y[j * m :] - y[: -j * m] if enough else base * np.sqrt(j)
            offsets[seasons_back == j] = np.quantile(resid, _LEVELS)
        return mean, mean[:, None] + offsets


class EmpiricalQuantile(Model):
    """Climatology: for each day of week (hour of week for hourly, local time), the mean and the
    empirical quantiles of the same position over the last ``window`` weeks.

    >>> hist = pd.DataFrame({"ds": pd.date_range("2024-01-01", periods=14), "y": [1.0] * 7 + [3.0] * 7})
    >>> EmpiricalQuantile("daily", window=2).fit(hist).predict(1)[["mean", "q0.50"]]
       mean  q0.50
    0   2.0    2.0
    """

    name = "empirical"

    def __init__(self, freq: Freq = "daily", *, window: int = 12) -> None:
        super().__init__(freq)
        self.window = window

    def _fit_one(self, ds: pd.DatetimeIndex, y: Array) -> dict[int, tuple[float, Array]]:
        n = self.window * self.season
        pos = seasonal_position(ds[-n:], self.freq)
        tail = y[-n:]
        table: dict[int, tuple[float, Array]] = {-1: (float(np.mean(tail)), np.quantile(tail, _LEVELS))}
        for p in np.unique(pos):
            vals = tail[pos == p]
            table[int(p)] = (float(np.mean(vals)), np.quantile(vals, _LEVELS))
        return table

    def _predict_one(self, state: Any, future: pd.DatetimeIndex) -> tuple[Array, Array]:
        table: dict[int, tuple[float, Array]] = state
        rows = [table.get(int(p), table[-1]) for p in seasonal_position(future, self.freq)]
        return np.array([r[0] for r in rows]), np.vstack([r[1] for r in rows])


# Days around Christmas and New Year differ from ordinary bank holidays (and two are not ones).
_SPECIAL_DAYS: tuple[tuple[int, int], ...] = ((12, 24), (12, 25), (12, 26), (12, 31), (1, 1))


def _calendar_design(ds: pd.DatetimeIndex, freq: Freq, origin: pd.Timestamp, fourier: int) -> Array:
    """Regressors: intercept, trend (years from ``origin``), weekly pattern, annual Fourier terms,
    bank holidays and the Christmas and New Year days.

    The daily weekly pattern is day-of-week dummies. The hourly one is day-of-week plus
    hour-of-day plus hour-of-day on Saturdays and on Sundays (local time): 75 columns rather than
    167 hour-of-week dummies, which keeps a two-year hourly fit fast, while still letting weekend
    nights differ.
    """
    days = _days_since(ds, origin)
    if freq == "daily" and len(ds) > 1 and days[-1] - days[0] == len(ds) - 1:
        # Consecutive days: rows of a cached table of whole decades. Internal backtests refit the
        # same series at many origins, and building the calendar in pandas was half of a fit.
        first = int(ds[0].year) // 10 * 10
        last = int(ds[-1].year) // 10 * 10 + 9
        table = _daily_calendar(first, last, fourier)
        start = (ds[0] - pd.Timestamp(first, 1, 1)).days
        out = table[start : start + len(ds)].copy()
        out[:, 1] = days / 365.25
        return out
    return _build_design(ds, freq, origin, fourier)


def _days_since(ds: pd.DatetimeIndex, ref: pd.Timestamp) -> Array:
    # NumPy rather than pandas arithmetic: this runs for every fit of an internal backtest.
    naive = ds.tz_convert(None) if ds.tz is not None else ds
    ref_naive = ref.tz_convert(None) if ref.tzinfo is not None else ref
    out: Array = (naive.to_numpy() - ref_naive.to_datetime64()) / np.timedelta64(1, "D")
    return out


@functools.lru_cache(maxsize=8)
def _daily_calendar(first_year: int, last_year: int, fourier: int) -> Array:
    days = pd.date_range(pd.Timestamp(first_year, 1, 1), pd.Timestamp(last_year, 12, 31), freq="D")
    table = _build_design(days, "daily", days[0], fourier)
    table.flags.writeable = False
    return table


def _build_design(ds: pd.DatetimeIndex, freq: Freq, origin: pd.Timestamp, fourier: int) -> Array:
    local = local_time(ds)
    n = len(ds)
    years = np.asarray((ds - origin) / pd.Timedelta(days=365.25), dtype=float)
    cols: list[Array] = [np.ones(n), years]
    dow = np.asarray(local.day_of_week, dtype=np.int64)
    cols.extend((dow == d).astype(float) for d in range(1, 7))
    hour = np.asarray(local.hour, dtype=np.int64)
    if freq == "hourly":
        for weekend in (None, 5, 6):
            on = np.ones(n, dtype=bool) if weekend is None else dow == weekend
            cols.extend(((hour == h) & on).astype(float) for h in range(1, 24))
    doy = np.asarray(local.day_of_year, dtype=float) + hour / 24.0
    for k in range(1, fourier + 1):
        angle = 2 * np.pi * k * doy / 365.25
        cols.extend([np.sin(angle), np.cos(angle)])
    day = np.asarray(local.tz_localize(None).normalize().values.astype("datetime64[D]"))
    years_span = range(int(local.year.min()), int(local.year.max()) + 1)
    hol = np.array(sorted(bank_holidays(years_span)), dtype="datetime64[D]")
    month = np.asarray(local.month)
    mday = np.asarray(local.day)
    special = [(month == m) & (mday == d) for m, d in _SPECIAL_DAYS]
    any_special = np.logical_or.reduce(special)
    cols.append((np.isin(day, hol) & ~any_special).astype(float))
    cols.extend(flag.astype(float) for flag in special)
    return np.column_stack(cols)


def _poisson_irls(x: Array, y: Array, weights: Array | None = None, ridge: float = 1e-4, max_iter: int = 50) -> Array:
    """Poisson GLM with log link by iteratively reweighted least squares (small ridge for
    regressors that are all zero in a short window, e.g. a holiday not yet seen)."""
    w = np.ones_like(y) if weights is None else weights
    penalty = ridge * float(np.sum(w)) * np.eye(x.shape[1])
    penalty[0, 0] = 0.0
    # Start from least squares on log(y + 0.5): two or three fewer iterations than starting from
    # the log mean, which matters when an internal backtest refits at dozens of origins.
    root = np.sqrt(w)
    xs = x * root[:, None]
    beta: Array = np.asarray(np.linalg.solve(xs.T @ xs + penalty, xs.T @ (np.log(y + 0.5) * root)), dtype=float)
    for _ in range(max_iter):
        eta = np.clip(x @ beta, -30, 30)
        mu = np.exp(eta)
        z = eta + (y - mu) / mu
        root = np.sqrt(w * mu)
        xs = x * root[:, None]
        # xs.T @ xs takes BLAS's symmetric rank-k path, far cheaper than x.T @ (x * weights).
        new: Array = np.asarray(np.linalg.solve(xs.T @ xs + penalty, xs.T @ (z * root)), dtype=float)
        if np.max(np.abs(new - beta)) < 1e-7:
            return new
        beta = new
    return beta


@dataclass
class _GlmState:
    beta: Array
    origin: pd.Timestamp
    ar: Array  # AR coefficients on the log residuals, lag 1 first
    resid_tail: Array  # the last len(ar) log residuals, oldest first
    sigma2: float  # innovation variance of the AR on the log scale
    poisson_part: float  # 1/mean(mu): the share of log-scale variance that is Poisson noise
    fourier: int


class CountRegression(Model):
    """Count regression: a Poisson GLM (log link) on day-of-week (local weekly-hour pattern for
    hourly), annual Fourier terms, a linear trend and England & Wales bank holidays (plus
    Christmas Eve, Christmas, Boxing Day, New Year's Eve and Day), then an AR(p) model of the log
    residuals for the short-term level. Quantiles are negative binomial, with the dispersion at
    each step set from the AR forecast-error variance on the log scale less its Poisson part.

    ``fits`` lists (window in days, half-life in days or None) pairs; one GLM is fitted per pair
    and their means and quantiles are averaged. The default pairs a fit that weights
    observations by age with a 90-day half-life (it follows recent level and trend) with an
    unweighted fit on three years (steadier annual pattern; for hourly data two years and one).
    Both the 90-day half-life and the pairing were chosen on the Monks et al. stage-1 validation
    period (origins 2017-07 to 2017-12), not on their 2019 test year.

    >>> ds = pd.date_range("2022-01-01", periods=400)
    >>> y = 100.0 + 20.0 * (ds.day_of_week == 0)
    >>> fc = CountRegression("daily").fit(pd.DataFrame({"ds": ds, "y": y})).predict(7)
    >>> bool(abs(fc.loc[fc.ds.dt.day_of_week == 0, "mean"].iloc[0] - 120) < 2)
    True
    """

    name = "glm"

    def __init__(
        self,
        freq: Freq = "daily",
        *,
        fits: tuple[tuple[int, float | None], ...] | None = None,
        fourier: int = 4,
        ar_order: int | None = None,
    ) -> None:
        super().__init__(freq)
        if fits is None:
            # Hourly designs are 24 times taller, so they keep less history by default.
            fits = ((6 * 365, 90.0), (3 * 365, None)) if freq == "daily" else ((2 * 365, 90.0), (365, None))
        if not fits:
            raise ValueError("fits needs at least one (window_days, half_life_days) pair")
        self.fits = fits
        self.fourier = fourier
        self.ar_order = ar_order if ar_order is not None else (7 if freq == "daily" else 24)

    def _fit_one(self, ds: pd.DatetimeIndex, y: Array) -> list[_GlmState]:
        if np.any(y < 0):
            raise ValueError("count regression needs non-negative y")
        return [self._fit_component(ds, y, window, half_life) for window, half_life in self.fits]

    def _fit_component(self, ds: pd.DatetimeIndex, y: Array, window_days: int, half_life: float | None) -> _GlmState:
        n = min(len(y), window_days * (1 if self.freq == "daily" else 24))
        ds, y = ds[-n:], y[-n:]
        if n < 2 * self.season:
            raise ValueError(f"count regression needs at least {2 * self.season} observations, got {n}")
        # Annual terms cannot be told from trend with less than a year of data.
        fourier = self.fourier if n >= (365 if self.freq == "daily" else 365 * 24) else 0
        origin = ds[-1]
        x = _calendar_design(ds, self.freq, origin, fourier)
        weights = None
        if half_life:
            age = -_days_since(ds, ds[-1])
            weights = 0.5 ** (age / half_life)
        beta = _poisson_irls(x, y, weights)
        mu = np.exp(np.clip(x @ beta, -30, 30))
        resid = np.log((y + 0.5) / (mu + 0.5))
        p = min(self.ar_order, max(n // 10, 1))
        lagged = np.column_stack([resid[p - i - 1 : n - i - 1] for i in range(p)])
        target = resid[p:]
        ar, *_ = np.linalg.lstsq(lagged, target, rcond=None)
        innov = target - lagged @ ar
        return _GlmState(
            beta=beta,
            origin=origin,
            ar=ar,
            resid_tail=resid[-p:],
            sigma2=float(np.var(innov)),
            poisson_part=float(np.mean(1.0 / np.maximum(mu, 1e-3))),
            fourier=fourier,
        )

    def _predict_one(self, state: Any, future: pd.DatetimeIndex) -> tuple[Array, Array]:
        parts = [self._predict_component(s, future) for s in state]
        mean = np.mean([m for m, _ in parts], axis=0)
        q = np.mean([q for _, q in parts], axis=0)
        return mean, q

    def _predict_component(self, s: _GlmState, future: pd.DatetimeIndex) -> tuple[Array, Array]:
        x = _calendar_design(future, self.freq, s.origin, s.fourier)
        if x.shape[1] != s.beta.size:
            raise RuntimeError("design width changed between fit and predict")
        mu = np.exp(np.clip(x @ s.beta, -30, 30))
        h = len(future)
        p = s.ar.size
        hist = list(s.resid_tail)
        rhat = np.empty(h)
        # psi: impulse response of the AR, for the h-step forecast-error variance.
        psi = np.zeros(h)
        psi[0] = 1.0
        for k in range(h):
            rhat[k] = float(np.dot(s.ar, hist[::-1][:p]))
            hist.append(rhat[k])
            if k >= 1:
                psi[k] = sum(s.ar[i] * psi[k - 1 - i] for i in range(min(p, k)))
        var_log = s.sigma2 * np.cumsum(psi**2)
        mean = mu * np.exp(rhat)
        alpha = np.maximum(var_log - s.poisson_part, 1e-6)
        n_nb = 1.0 / alpha
        prob = n_nb / (n_nb + mean)
        q = stats.nbinom.ppf(_LEVELS[None, :], n_nb[:, None], prob[:, None])
        return mean, np.asarray(q, dtype=float)


_BASE_NAMES: tuple[str, ...] = ("snaive", "empirical", "glm", "ets", "mstl", "lgbm")


def _model_class(name: str) -> type[Model]:
    """The class of a base model. The statsmodels and LightGBM models are imported on first use:
    those libraries take a second to import, which every ``uec`` command would otherwise pay."""
    if name == "ets" or name == "mstl":
        from uec.forecast.statistical import EtsModel, MstlModel

        return EtsModel if name == "ets" else MstlModel
    if name == "lgbm":
        from uec.forecast.boosted import BoostedQuantile

        return BoostedQuantile
    own: dict[str, type[Model]] = {m.name: m for m in (SeasonalNaive, EmpiricalQuantile, CountRegression)}
    return own[name]


#: What ``auto`` chooses among by default. ``ets`` and ``lgbm`` can be added (``candidates=``) but
#: cost 10 to 100 times a ``glm`` fit at each of the 27 internal fits, and on the Monks et al.
#: stage-1 period adding ``ets`` moved MASE at 7 days only from 0.753 to 0.751.
AUTO_CANDIDATES: tuple[str, ...] = ("snaive", "glm")


class AutoModel(Model):
    """Chooses, per series, the candidate or equal-weight combination of candidates with the
    lowest MAE over an internal rolling-origin backtest on the history alone, then calibrates
    its intervals on the same internal backtest.

    The internal test has ``n_origins`` origins (daily 26, hourly 6) one season (a week) apart,
    the latest one season before the end of the history; each forecasts ``horizon`` steps and is
    scored on the steps already observed, so short steps, which every origin reaches, weigh
    most. The choice uses the latest ``select_origins`` of them (daily 12: recent form matters,
    and on the Monks et al. stage-1 period, with ``ets`` among the candidates, 12 scored MASE
    0.751 at 7 days against 0.754 for all 26); the calibration uses all of them, since a 95%
    interval's factor needs more points. A combination averages the members' means and, level
    by level, their quantiles. With ``calibrate`` the pick's quantile spread is rescaled per
    horizon week so that each central interval would have covered its nominal share of the
    internal test (:mod:`uec.forecast.calibrate`). ``chosen`` records the pick per series and
    ``factors`` its 80% and 95% spread factors at step 1.

    >>> ds = pd.date_range("2022-01-01", periods=120)
    >>> y = 100.0 + 20.0 * (ds.day_of_week == 0)
    >>> auto = AutoModel("daily", candidates=("snaive", "empirical"), n_origins=2)
    >>> _ = auto.fit(pd.DataFrame({"ds": ds, "y": y})).predict(7)
    >>> auto.chosen["series"] in {"snaive", "empirical", "snaive+empirical"}
    True
    """

    name = "auto"

    def __init__(
        self,
        freq: Freq = "daily",
        *,
        candidates: tuple[str, ...] = AUTO_CANDIDATES,
        n_origins: int | None = None,
        select_origins: int | None = None,
        calibrate: bool = True,
        min_points: int = 30,
    ) -> None:
        super().__init__(freq)
        unknown = [c for c in candidates if c not in _BASE_NAMES]
        if unknown or not candidates:
            raise ValueError(f"unknown candidate model(s) {unknown}: choose from {', '.join(_BASE_NAMES)}")
        self.candidates = candidates
        # Hourly: a week of steps gives 168 scores per origin, and each hourly refit costs about
        # as much as 20 daily ones, so fewer origins.
        self.n_origins = n_origins if n_origins is not None else (26 if self.freq == "daily" else 6)
        self.select_origins = select_origins if select_origins is not None else (12 if self.freq == "daily" else 6)
        self.calibrate = calibrate
        self.min_points = min_points
        self.chosen: dict[str, str] = {}
        self.factors: dict[str, tuple[float, float]] = {}

    def fit_validated(self, history: pd.DataFrame) -> Self:
        self.chosen = {}
        self.factors = {}
        return super().fit_validated(history)

    def _fit_one(self, ds: pd.DatetimeIndex, y: Array) -> tuple[pd.DatetimeIndex, Array]:
        return ds, y

    def _members(
        self, ds: pd.DatetimeIndex, y: Array, horizon: int, names: tuple[str, ...]
    ) -> dict[str, tuple[Array, Array]]:
        """Each named candidate's mean and quantiles; a candidate that cannot fit is left out.

        Calls the candidates' per-series methods directly (and sorts and clips as
        :meth:`Model.predict` does): an internal backtest makes hundreds of these forecasts, and
        building a frame for each was a large part of their cost."""
        step = step_of(self.freq)
        future = pd.date_range(ds[-1] + step, periods=horizon, freq=step)
        nonnegative = bool(np.all(y >= 0))
        out: dict[str, tuple[Array, Array]] = {}
        for name in names:
            model = _model_class(name)(self.freq)
            try:
                mean, q = model._predict_one(model._fit_one(ds, y), future)
            except ValueError:
                continue
            q = np.sort(q, axis=1)
            if nonnegative:
                mean, q = np.maximum(mean, 0.0), np.maximum(q, 0.0)
            out[name] = (np.asarray(mean, dtype=float), q)
        return out

    @staticmethod
    def _combos(names: tuple[str, ...]) -> list[tuple[str, ...]]:
        return [c for r in range(1, len(names) + 1) for c in itertools.combinations(names, r)]

    @staticmethod
    def _combine(members: dict[str, tuple[Array, Array]], combo: tuple[str, ...]) -> tuple[Array, Array]:
        mean = np.mean([members[c][0] for c in combo], axis=0)
        q = np.mean([members[c][1] for c in combo], axis=0)
        return mean, q

    def _predict_one(self, state: Any, future: pd.DatetimeIndex) -> tuple[Array, Array]:
        ds, y = state
        h = len(future)
        final = self._members(ds, y, h, self.candidates)
        names = tuple(c for c in self.candidates if c in final)
        if not names:
            raise ValueError(f"no candidate model can fit a series of {len(y)} observations")
        # The internal backtest: (origin members, actuals) for origins one season apart.
        tests: list[tuple[dict[str, tuple[Array, Array]], Array]] = []
        for i in range(self.n_origins):
            cut = len(y) - self.season * (i + 1)
            if cut < 3 * self.season:
                break
            members = self._members(ds[:cut], y[:cut], h, names)
            if set(members) != set(names):
                break
            tests.append((members, y[cut : cut + h]))
        uid = self._current_uid(state)
        best: tuple[str, ...] = (names[0],)
        if tests:
            scored = {}
            for combo in self._combos(names):
                err = [
                    np.abs(actual - self._combine(m, combo)[0][: actual.size])
                    for m, actual in tests[: self.select_origins]
                ]
                scored[combo] = float(np.mean(np.concatenate(err)))
            best = min(scored, key=lambda c: (scored[c], len(c)))
        self.chosen[uid] = "+".join(best)
        mean, q = self._combine(final, best)
        if self.calibrate and tests:
            parts = [(self._combine(m, best)[1][: actual.size], actual) for m, actual in tests]
            steps = np.concatenate([np.arange(1, a.size + 1) for _, a in parts])
            factors = spread_factors(
                steps,
                np.concatenate([a for _, a in parts]),
                np.vstack([qq for qq, _ in parts]),
                QUANTILE_LEVELS,
                horizon=h,
                season=self.season,
                min_points=self.min_points,
            )
            q = apply_spread(q, factors)
            self.factors[uid] = (float(factors[0, 2]), float(factors[0, 0]))
        return mean, q

    def _current_uid(self, state: Any) -> str:
        for uid, f in self._fitted.items():
            if f.state is state:
                return uid
        return ""


#: The model names :func:`make_model` accepts.
MODEL_NAMES: tuple[str, ...] = (*_BASE_NAMES, AutoModel.name)


def make_model(name: str, freq: Freq) -> Model:
    """A fresh model by name (see :data:`MODEL_NAMES`).

    >>> make_model("snaive", "hourly").season
    168
    >>> make_model("prophet", "daily")
    Traceback (most recent call last):
    ...
    ValueError: unknown model 'prophet': choose from snaive, empirical, glm, ets, mstl, lgbm, auto
    """
    if name == AutoModel.name:
        return AutoModel(freq)
    if name not in _BASE_NAMES:
        raise ValueError(f"unknown model {name!r}: choose from {', '.join(MODEL_NAMES)}")
    return _model_class(name)(freq)
