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

import dataclasses
import functools
import itertools
import time
from dataclasses import dataclass
from typing import Any, Self

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import special, stats

from uec.forecast.base import LEVELS, Array, Model
from uec.forecast.calibrate import CalibrationOptions, apply_spread, spread_factors
from uec.forecast.clock import bank_holidays, local_time, seasonal_position
from uec.forecast.frame import Freq, season_length, step_of
from uec.forecast.quantiles import QUANTILE_LEVELS

__all__ = [
    "AUTO_CANDIDATES",
    "AUTO_DEFAULT_CANDIDATES",
    "MODEL_NAMES",
    "AutoModel",
    "Calibrated",
    "CountRegression",
    "EmpiricalQuantile",
    "Ensemble",
    "Model",
    "PoissonRegression",
    "SeasonalNaive",
    "internal_test",
    "make_model",
    "measure_fit_cost",
]

_LEVELS = LEVELS


class SeasonalNaive(Model):
    """Seasonal naive: each step repeats the value one season (a week) earlier.

    Step k of the horizon lies j = ceil(k / m) seasons past the last observed season, so its
    interval comes from the empirical quantiles of the in-sample j-season differences
    ``y[t] − y[t − j m]``; where history is too short for those, from the one-season differences
    scaled by sqrt(j).

    **Daily series: the differences of the same time of year.** Once there are
    ``seasonal_years`` (2) years of history, the interval of a target day comes from the
    differences that ended within ``seasonal_window`` (28) days of the same day of the year
    (at least ``min_residuals`` of them, else all). A week-old level is a poor guess in a
    different way at each time of year: it misses the autumn rise, the Christmas dip and the
    bank holidays, and is nearly right in a flat spring week. Differences pooled over the whole
    year gave intervals too narrow for the autumn and winter and too wide for the spring (on
    the SWAST stage-1 period, July to December 2017, the calibrated 80% interval covered 0.71
    over days 1–84; with differences of the same time of year 0.77, and 0.80 against 0.76 on the
    2019 test year, which was not looked at when this was chosen).

    >>> hist = pd.DataFrame({"ds": pd.date_range("2024-01-01", periods=8), "y": [1.0, 2, 3, 4, 5, 6, 7, 3]})
    >>> SeasonalNaive("daily").fit(hist).predict(1)[["mean", "q0.025", "q0.975"]].round(2)
       mean  q0.025  q0.975
    0   2.0     4.0     4.0
    """

    name = "snaive"

    def __init__(
        self,
        freq: Freq = "daily",
        *,
        season: int | None = None,
        min_residuals: int = 30,
        seasonal_window: int | None = 28,
        seasonal_years: float = 2.0,
    ) -> None:
        super().__init__(freq)
        self._m = season or season_length(self.freq)
        self.min_residuals = min_residuals
        # Only a daily series' week repeats within a year; an hourly week is judged on every
        # week, and a monthly series' season is the year itself.
        self.seasonal_window = seasonal_window if self.freq == "daily" else None
        self.seasonal_years = seasonal_years

    @property
    def season(self) -> int:
        return self._m

    def _fit_one(self, ds: pd.DatetimeIndex, y: Array) -> tuple[pd.DatetimeIndex, Array]:
        if y.size <= self._m:
            raise ValueError(f"seasonal naive needs more than {self._m} observations, got {y.size}")
        return ds, y

    def _predict_one(self, state: Any, future: pd.DatetimeIndex) -> tuple[Array, Array]:
        ds, y = state
        m = self._m
        k = np.arange(len(future))
        mean = y[-m:][k % m]
        seasons_back = k // m + 1
        base = y[m:] - y[:-m]
        offsets = np.empty((len(future), _LEVELS.size))
        by_season = (
            self.seasonal_window is not None
            and (ds[-1] - ds[0]).days >= 365.25 * self.seasonal_years
        )
        day = np.asarray(ds.day_of_year)
        target_day = np.asarray(future.day_of_year)
        for j in np.unique(seasons_back):
            enough = y.size - j * m >= self.min_residuals or j == 1
            resid = y[j * m :] - y[: -j * m] if enough else base * np.sqrt(j)
            rows = np.flatnonzero(seasons_back == j)
            if not (by_season and enough):
                offsets[rows] = np.quantile(resid, _LEVELS)
                continue
            ended = day[j * m :]  # the day of the year each difference ended on
            for r in rows:
                gap = np.abs(ended - target_day[r])
                near = np.minimum(gap, 365 - gap) <= self.seasonal_window
                pick = resid[near] if int(near.sum()) >= self.min_residuals else resid
                offsets[r] = np.quantile(pick, _LEVELS)
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


def _calendar_design(
    ds: pd.DatetimeIndex, freq: Freq, origin: pd.Timestamp, fourier: int, weekly: str = "split"
) -> Array:
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
    return _build_design(ds, freq, origin, fourier, weekly)


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


def _build_design(
    ds: pd.DatetimeIndex, freq: Freq, origin: pd.Timestamp, fourier: int, weekly: str = "split"
) -> Array:
    local = local_time(ds)
    n = len(ds)
    years = np.asarray((ds - origin) / pd.Timedelta(days=365.25), dtype=float)
    cols: list[Array] = [np.ones(n), years]
    dow = np.asarray(local.day_of_week, dtype=np.int64)
    cols.extend((dow == d).astype(float) for d in range(1, 7))
    hour = np.asarray(local.hour, dtype=np.int64)
    if freq == "hourly" and weekly == "hour_of_week":
        how = dow * 24 + hour
        # With the day-of-week dummies above, these make all 168 hours of the week free.
        cols.extend((how == k).astype(float) for k in range(1, 168) if k % 24 != 0)
    elif freq == "hourly":
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
    is_hol = np.isin(day, hol) & ~any_special
    cols.append(is_hol.astype(float))
    if freq == "hourly" and weekly == "hour_of_week":
        # A bank holiday's day follows its own hourly profile (late start, like a Sunday).
        cols.extend((is_hol & (hour == h)).astype(float) for h in range(1, 24))
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


def nbinom_quantiles(n: Array, p: Array, levels: Array = _LEVELS, max_grid: int = 400) -> Array:
    """Negative binomial quantiles (rows: the (``n``, ``p``) pairs; columns: ``levels``), exactly
    as ``scipy.stats.nbinom.ppf`` gives them but vectorised: the CDF (a regularised incomplete
    beta) on a grid of counts around each mean, then a count of grid points below each level.
    ``nbinom.ppf`` searches each value on its own and was most of the time of an hourly ``glm``
    forecast. The grid is only used while it is small (hourly counts); large counts (daily
    totals in the thousands) go to ``nbinom.ppf``, which is then the faster.

    >>> n, p = np.array([5.0, 50.0]), np.array([0.2, 0.05])
    >>> bool(np.array_equal(nbinom_quantiles(n, p), stats.nbinom.ppf(_LEVELS[None, :], n[:, None], p[:, None])))
    True
    """
    mean = n * (1 - p) / p
    sd = np.sqrt(mean / p)
    lo = np.maximum(np.floor(mean - 6 * sd - 1), 0.0)
    width = int(np.max(np.ceil(mean + 8 * sd + 2) - lo)) + 1
    if width > max_grid:
        return np.asarray(stats.nbinom.ppf(levels[None, :], n[:, None], p[:, None]), dtype=float)
    k = lo[:, None] + np.arange(width)[None, :]
    cdf = special.betainc(n[:, None], k + 1.0, p[:, None])
    out: Array = lo[:, None] + (cdf[:, :, None] < levels[None, None, :]).sum(axis=1)
    short = (cdf[:, -1] < levels[-1]) | (cdf[:, 0] >= levels[0]) & (lo > 0)
    if short.any():  # a grid that missed a tail (extreme skew): the exact search for those rows
        out[short] = stats.nbinom.ppf(levels[None, :], n[short, None], p[short, None])
    return out


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
        weekly: str = "split",
    ) -> None:
        super().__init__(freq)
        if weekly not in ("split", "hour_of_week"):
            raise ValueError("weekly must be 'split' or 'hour_of_week'")
        self.weekly = weekly
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
        x = _calendar_design(ds, self.freq, origin, fourier, self.weekly)
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

    def _update_one(self, state: Any, ds: pd.DatetimeIndex, y: Array) -> list[_GlmState]:
        """Same coefficients, AR state from the newest observations: the log residuals of the
        last ``p`` steps against the fitted calendar model (a few rows, not a refit)."""
        out = []
        for s in state:
            p = s.ar.size
            x = _calendar_design(ds[-p:], self.freq, s.origin, s.fourier, self.weekly)
            mu = np.exp(np.clip(x @ s.beta, -30, 30))
            resid = np.log((y[-p:] + 0.5) / (mu + 0.5))
            out.append(dataclasses.replace(s, resid_tail=resid))
        return out

    def _predict_one(self, state: Any, future: pd.DatetimeIndex) -> tuple[Array, Array]:
        parts = [self._predict_component(s, future) for s in state]
        mean = np.mean([m for m, _ in parts], axis=0)
        q = np.mean([q for _, q in parts], axis=0)
        return mean, q

    def _predict_component(self, s: _GlmState, future: pd.DatetimeIndex) -> tuple[Array, Array]:
        x = _calendar_design(future, self.freq, s.origin, s.fourier, self.weekly)
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
        return mean, nbinom_quantiles(n_nb, prob)


class PoissonRegression(CountRegression):
    """The published hourly ED winner's structure: a Poisson regression on the full
    hour-of-week (168 levels, local time), bank holidays by hour of day, annual Fourier terms
    and a trend, with negative binomial quantiles; like ``glm`` it adds an AR model of the log
    residuals for the short-term level. For daily data the day-of-week dummies already are the
    full weekly interaction, so it equals ``glm``.

    >>> PoissonRegression("hourly").weekly
    'hour_of_week'
    """

    name = "poisson"

    def __init__(self, freq: Freq = "daily", **kwargs: Any) -> None:
        kwargs.setdefault("weekly", "hour_of_week")
        super().__init__(freq, **kwargs)


_BASE_NAMES: tuple[str, ...] = ("snaive", "empirical", "glm", "poisson", "ets", "arima", "mstl", "lgbm")
#: Combinations (quantile averages) offered under their own name.
ENSEMBLE_NAME = "ensemble"
#: Members of ``ensemble``: the regression and exponential smoothing, the pairing the published
#: ambulance ensembles are built on (ETS + GLM), both cheap to refit.
ENSEMBLE_MEMBERS: tuple[str, ...] = ("glm", "ets")
#: Suffix that asks :func:`make_model` for a model without interval calibration.
RAW_SUFFIX = ":raw"


def _model_class(name: str) -> type[Model]:
    """The class of a base model. The statsmodels and LightGBM models are imported on first use:
    those libraries take a second to import, which every ``uec`` command would otherwise pay."""
    if name in ("ets", "arima", "mstl"):
        from uec.forecast.statistical import ArimaModel, EtsModel, MstlModel

        statistical: dict[str, type[Model]] = {"ets": EtsModel, "arima": ArimaModel, "mstl": MstlModel}
        return statistical[name]
    if name == "lgbm":
        from uec.forecast.boosted import BoostedQuantile

        return BoostedQuantile
    own: dict[str, type[Model]] = {
        m.name: m for m in (SeasonalNaive, EmpiricalQuantile, CountRegression, PoissonRegression)
    }
    return own[name]


def _future(ds: pd.DatetimeIndex, freq: Freq, horizon: int) -> pd.DatetimeIndex:
    step = step_of(freq)
    return pd.date_range(ds[-1] + step, periods=horizon, freq=step)


def _clean(mean: Array, q: Array, nonnegative: bool) -> tuple[Array, Array]:
    # What Model.predict does to every forecast, for the forecasts made inside other models.
    q = np.sort(q, axis=1)
    if nonnegative:
        return np.maximum(mean, 0.0), np.maximum(q, 0.0)
    return np.asarray(mean, dtype=float), q


def internal_test(
    model: Model, ds: pd.DatetimeIndex, y: Array, horizon: int, n_origins: int, refit_every: int | None = None
) -> list[tuple[int, Array, Array]]:
    """A rolling-origin test on the history alone: ``(cut, mean, quantiles)`` for up to
    ``n_origins`` origins one season apart, the latest one season before the end, oldest first.

    The model is **fitted once**, at the earliest origin, and only updated (``_update_one``) at
    the later ones, so the test costs one fit and ``n_origins`` cheap forecasts rather than
    ``n_origins`` fits; with ``refit_every`` it is refitted every that many origins (so a long
    test does not judge parameters a year stale). An origin needs three seasons of history
    before it. An empty list when there is no room or the model cannot fit.

    >>> ds = pd.date_range("2024-01-01", periods=70)
    >>> out = internal_test(SeasonalNaive("daily"), ds, np.arange(70.0) % 7, 7, 3)
    >>> [c for c, _, _ in out], out[0][1].tolist() == [0.0, 1, 2, 3, 4, 5, 6]
    ([49, 56, 63], True)
    """
    season = model.season
    cuts = sorted(c for c in (len(y) - season * (i + 1) for i in range(n_origins)) if c >= 3 * season)
    if not cuts:
        return []
    nonnegative = bool(np.all(y >= 0))
    out: list[tuple[int, Array, Array]] = []
    try:
        state = None
        for i, c in enumerate(cuts):
            if state is None or (refit_every and i % refit_every == 0):
                state = model._fit_one(ds[:c], y[:c])
            else:
                state = model._update_one(state, ds[:c], y[:c])
            mean, q = model._predict_one(state, _future(ds[:c], model.freq, horizon))
            out.append((c, *_clean(mean, q, nonnegative)))
    except ValueError:
        return []
    return out


def _test_arrays(
    tests: list[tuple[int, Array, Array]], y: Array
) -> tuple[NDArray[np.int64], Array, Array, Array]:
    """Steps, actuals, means and quantiles of every scored point of an internal test."""
    steps, ys, means, qs = [], [], [], []
    for cut, mean, q in tests:
        actual = y[cut : cut + mean.size]
        steps.append(np.arange(1, actual.size + 1))
        ys.append(actual)
        means.append(mean[: actual.size])
        qs.append(q[: actual.size])
    return np.concatenate(steps), np.concatenate(ys), np.concatenate(means), np.vstack(qs)


#: Internal-test origins of :class:`Calibrated` for daily series. The models without estimated
#: parameters (an update is a refit, so no origin judges stale parameters) use a year of weekly
#: origins, which covers every season; the others half a year, fitted once at its start. On
#: the Monks et al. stage-1 period, 26 origins gave ``glm`` 80% coverage 0.804 at 7 days against
#: 0.709 with 52 (0.772 refitting every 13), and 52 gave ``snaive`` 0.836 against 0.862 with 26.
CAL_ORIGINS: dict[str, int] = {"snaive": 52, "empirical": 52, "": 26}


#: Half-life, in days, of the weight a calibration score carries as it ages (:class:`Calibrated`):
#: weights 0.99 a day, as in Barber, Candès, Ramdas & Tibshirani (2023, Ann. Statist. 51:816,
#: §5's electricity example), so an interval follows demand that drifts with the season.
CAL_HALF_LIFE_DAYS = float(np.log(0.5) / np.log(0.99))


@dataclass
class _CalState:
    final: Any  # the base model's state, updated as the history grows
    train_ds: pd.DatetimeIndex  # the history at fit time, which the calibration is measured on
    train_y: Array
    factors: dict[int, Array]  # spread factors by horizon, until the scores change
    # Scored points of the internal test and of forecasts since the fit: target time, step,
    # actual, base quantiles. None until first needed.
    pool: tuple[NDArray[np.datetime64], NDArray[np.int64], Array, Array] | None = None
    # Forecasts made since the fit, by first target time: (target times, base quantiles, steps
    # already scored). An update scores the steps it has observed.
    pending: dict[pd.Timestamp, tuple[pd.DatetimeIndex, Array, int]] = dataclasses.field(default_factory=dict)
    last: pd.Timestamp | None = None  # the newest time observed
    pool_horizon: int = 0  # the horizon of the internal test in ``pool``


def _utc64(ds: pd.DatetimeIndex) -> NDArray[np.datetime64]:
    """Times as naive UTC ``datetime64[ns]`` (hourly series are tz-aware, daily ones naive).

    >>> _utc64(pd.DatetimeIndex(["2024-06-01 01:00"]).tz_localize("Europe/London"))[0]
    np.datetime64('2024-06-01T00:00:00.000000000')
    """
    naive = ds.tz_convert(None) if ds.tz is not None else ds
    return np.asarray(naive.to_numpy(), dtype="datetime64[ns]")


class Calibrated(Model):
    """Any model with its intervals calibrated by horizon: split-conformal scaling of the
    quantile spread (:mod:`uec.forecast.calibrate`) measured on an internal rolling-origin test
    of the same model on the history alone (:func:`internal_test`: ``n_origins`` weekly origins,
    daily 26, hourly 6). The mean and median are the base model's.

    The scores are weighted by age (half-life ``half_life`` days, default
    :data:`CAL_HALF_LIFE_DAYS`; ``None`` weighs all alike), and kept *online*: an
    :meth:`update` (same parameters, newer data) scores the forecasts made since the fit on the
    actuals it brings and recalibrates with them, so a backtest that refits every few weeks
    still follows demand that moves away from its model between refits (on the SWAST stage-1
    period, ``arima`` and ``lgbm`` fell behind the autumn rise and their fixed factors covered
    0.735 and 0.725 at 80%).

    >>> ds = pd.date_range("2022-01-01", periods=300)
    >>> y = 100.0 + 20.0 * (ds.day_of_week == 0) + np.random.default_rng(1).normal(0, 5, 300)
    >>> m = Calibrated(SeasonalNaive("daily")).fit(pd.DataFrame({"ds": ds, "y": y}))
    >>> m.name, list(m.predict(7).columns[:3])
    ('snaive', ['unique_id', 'ds', 'mean'])
    """

    def __init__(
        self,
        base: Model,
        *,
        n_origins: int | None = None,
        refit_every: int | None = None,
        min_points: int = 30,
        half_life: float | None = CAL_HALF_LIFE_DAYS,
        online: bool = True,
    ) -> None:
        super().__init__(base.freq)
        self.base = base
        self.name = base.name  # type: ignore[misc]  # runs and scorecards record the base model
        default = CAL_ORIGINS.get(base.name, CAL_ORIGINS[""]) if self.freq == "daily" else 6
        self.n_origins = n_origins if n_origins is not None else default
        self.refit_every = refit_every
        self.min_points = min_points
        self.half_life = half_life
        self.online = online
        self.options = CalibrationOptions(min_points)

    @property
    def season(self) -> int:
        return self.base.season

    def _fit_one(self, ds: pd.DatetimeIndex, y: Array) -> _CalState:
        return _CalState(self.base._fit_one(ds, y), ds, y, {}, last=ds[-1])

    def _update_one(self, state: Any, ds: pd.DatetimeIndex, y: Array) -> _CalState:
        final = self.base._update_one(state.final, ds, y)
        if not self.online or state.pool is None or not state.pending:
            kept: _CalState = dataclasses.replace(state, final=final, pending={}, last=ds[-1])
            return kept
        times, steps, ys, qs = state.pool
        new_t, new_s, new_y, new_q = [times], [steps], [ys], [qs]
        pending: dict[pd.Timestamp, tuple[pd.DatetimeIndex, Array, int]] = {}
        for first, (future, q, done) in state.pending.items():
            seen = int(future.searchsorted(ds[-1], side="right"))
            idx = ds.get_indexer(future[done:seen])
            ok = idx >= 0
            new_t.append(_utc64(future[done:seen][ok]))
            new_s.append(np.arange(done + 1, seen + 1)[ok])
            new_y.append(y[idx[ok]])
            new_q.append(q[done:seen][ok])
            if seen < len(future):
                pending[first] = (future, q, seen)
        pool = (np.concatenate(new_t), np.concatenate(new_s), np.concatenate(new_y), np.vstack(new_q))
        changed = pool[0].size != times.size
        factors = {} if changed else state.factors
        out: _CalState = dataclasses.replace(
            state, final=final, factors=factors, pool=pool, pending=pending, last=ds[-1]
        )
        return out

    def _pool(self, state: _CalState, horizon: int) -> bool:
        """Fill the state's scored points from the internal test, once per fit (for the longest
        horizon asked so far); False when the test could not run."""
        if state.pool is not None and state.pool_horizon >= horizon:
            return True
        tests = internal_test(self.base, state.train_ds, state.train_y, horizon, self.n_origins, self.refit_every)
        if not tests:
            return False
        steps, ys, _, qs = _test_arrays(tests, state.train_y)
        idx = np.concatenate([np.arange(c, c + min(m.size, len(state.train_y) - c)) for c, m, _ in tests])
        times = _utc64(state.train_ds[idx])
        if state.pool is not None:  # points scored online since the fit are kept
            extra = state.pool[0] > times.max()
            times = np.concatenate([times, state.pool[0][extra]])
            steps = np.concatenate([steps, state.pool[1][extra]])
            ys = np.concatenate([ys, state.pool[2][extra]])
            qs = np.vstack([qs, state.pool[3][extra]])
        state.pool = (times, steps, ys, qs)
        state.pool_horizon = horizon
        return True

    def factors_for(self, state: _CalState, horizon: int) -> Array | None:
        """The spread factors (horizon × levels) of one fitted series, measured on first use and
        again after an update has scored new points."""
        if horizon not in state.factors:
            if not self._pool(state, horizon):
                return None
            assert state.pool is not None
            times, steps, ys, qs = state.pool
            weights = None
            if self.half_life is not None:
                now = _utc64(pd.DatetimeIndex([state.last or state.train_ds[-1]]))[0]
                age = (now - times) / np.timedelta64(1, "D")
                weights = 0.5 ** (np.maximum(age, 0.0) / self.half_life)
            state.factors[horizon] = spread_factors(
                steps, ys, qs, QUANTILE_LEVELS, horizon=horizon, season=self.season, options=self.options,
                weights=weights,
            )
        return state.factors[horizon]

    def _predict_one(self, state: Any, future: pd.DatetimeIndex) -> tuple[Array, Array]:
        mean, q = self.base._predict_one(state.final, future)
        q = np.sort(q, axis=1)
        factors = self.factors_for(state, len(future))
        if self.online and factors is not None:
            known = state.pending.get(future[0])
            if known is None or len(known[0]) < len(future):
                # Stored as the internal test scores its forecasts (non-negative series clipped).
                stored = np.maximum(q, 0.0) if bool(np.all(state.train_y >= 0)) else q
                state.pending[future[0]] = (future, stored, 0)
        return mean, q if factors is None else apply_spread(q, factors)


class Ensemble(Model):
    """Equal-weight combination: the members' means averaged, and their quantiles averaged level
    by level (quantile averaging, which keeps the members' shapes and is what the published
    ambulance ensembles do). A member that cannot fit a series is left out of it.

    >>> ds = pd.date_range("2022-01-01", periods=120)
    >>> hist = pd.DataFrame({"ds": ds, "y": 100.0 + 20.0 * (ds.day_of_week == 0)})
    >>> Ensemble("daily", members=("snaive", "empirical")).fit(hist).predict(1)["mean"].round(1).tolist()
    [100.0]
    """

    name = ENSEMBLE_NAME

    def __init__(self, freq: Freq = "daily", *, members: tuple[str, ...] = ENSEMBLE_MEMBERS) -> None:
        super().__init__(freq)
        unknown = [m for m in members if m not in _BASE_NAMES]
        if unknown or not members:
            raise ValueError(f"unknown ensemble member(s) {unknown}: choose from {', '.join(_BASE_NAMES)}")
        self.members = members
        self._models = {m: _model_class(m)(freq) for m in members}

    def _fit_one(self, ds: pd.DatetimeIndex, y: Array) -> dict[str, Any]:
        states = {}
        for name, model in self._models.items():
            try:
                states[name] = model._fit_one(ds, y)
            except ValueError:
                continue
        if not states:
            raise ValueError(f"no ensemble member can fit a series of {len(y)} observations")
        return states

    def _update_one(self, state: Any, ds: pd.DatetimeIndex, y: Array) -> dict[str, Any]:
        return {name: self._models[name]._update_one(st, ds, y) for name, st in state.items()}

    def _predict_one(self, state: Any, future: pd.DatetimeIndex) -> tuple[Array, Array]:
        parts = [self._models[name]._predict_one(st, future) for name, st in state.items()]
        mean = np.mean([m for m, _ in parts], axis=0)
        q = np.mean([np.sort(qq, axis=1) for _, qq in parts], axis=0)
        return mean, q


#: What ``auto`` chooses among by default: every base model. Which are tried for a series is set
#: by :data:`AUTO_BUDGET` and :data:`FIT_COST`.
AUTO_CANDIDATES: tuple[str, ...] = _BASE_NAMES

#: Estimated CPU seconds each base model costs ``auto`` on one series: its internal test (a fit
#: every 4 origins, an update and a forecast at the others; ``mstl`` and hourly ``ets`` and
#: ``arima`` cannot update, so they refit at every origin) and its final fit. Daily: one
#: five-year series of ``bench/forecast_scale_bench.py``, horizon 14, 26 origins; hourly: two
#: years, 6 origins. Measured with ``bench/forecast_costs.py`` (:func:`measure_fit_cost`) on the
#: shared 2-core machine under load and rounded up (2026-12-02, daily: snaive 0.02, empirical
#: 0.04, glm 0.16, mstl 1.3, ets 3.7, lgbm 9.7, arima 13.0). The daily ``ets`` figure was 1 s
#: until then, taken before ``auto``'s internal test refitted every 4 origins (7 likelihood
#: searches, not 1), and ``lgbm``'s was 30. They are estimates on purpose:
#: a budget on the wall clock would make the choice depend on the machine's load, and a serial
#: run and a Dask run would then disagree; rerun the bench when a model changes.
FIT_COST: dict[str, dict[str, float]] = {
    "daily": {
        "snaive": 0.02,
        "empirical": 0.05,
        "glm": 0.2,
        "poisson": 0.2,
        "mstl": 1.5,
        "ets": 4.0,
        "lgbm": 12.0,
        "arima": 15.0,
    },
    "hourly": {
        "snaive": 0.1,
        "empirical": 0.5,
        "glm": 3.0,
        "poisson": 5.0,
        "ets": 15.0,
        "mstl": 15.0,
        "lgbm": 16.0,
        # Not measured: the hourly arima is the hourly mstl's decomposition with an ARIMA in
        # place of the ETS, refitted at every origin like it; estimated above it.
        "arima": 20.0,
    },
}
#: Estimated CPU seconds ``auto`` may spend per series by default. Candidates are taken cheapest
#: first until the next would exceed the budget: daily ``snaive, empirical, glm`` (``mstl``
#: would be next, at 1.5), hourly ``snaive, empirical, glm, poisson``. The daily figure is set
#: by ``bench/forecast_scale_bench.py``'s target (100 five-year series in 60 s on 2 cores: about
#: 1.2 CPU-seconds a series, overheads included). ``AutoModel(budget=...)`` raises it (daily 60
#: takes every model, ``arima`` and ``lgbm`` included).
AUTO_BUDGET: dict[str, float] = {"daily": 1.0, "hourly": 10.0}

#: The candidates ``auto`` chooses among when neither ``candidates`` nor ``budget`` is given:
#: every base model, as far as :data:`AUTO_BUDGET` allows (daily and hourly alike). Until
#: 2026-12-02 the daily default was ``snaive`` and ``glm`` only, because the cost table then
#: underestimated ``ets`` and the budget let it in (836 s for the scale bench).
AUTO_DEFAULT_CANDIDATES: dict[str, tuple[str, ...]] = {"daily": AUTO_CANDIDATES, "hourly": AUTO_CANDIDATES}


@dataclass
class _Pick:
    combo: tuple[str, ...]
    factors: Array | None
    members: dict[str, Any]  # fit-time states of the combination's members


@dataclass
class _AutoState:
    train_ds: pd.DatetimeIndex
    train_y: Array
    ds: pd.DatetimeIndex
    y: Array
    picks: dict[int, _Pick]  # by horizon, shared by every update of one fit


class AutoModel(Model):
    """Chooses, per series, the candidate or equal-weight combination (quantile averaging) of up
    to three candidates that scores best on an internal rolling-origin test on the history
    alone, then calibrates its intervals on the same test.

    The internal test (:func:`internal_test`) has ``n_origins`` origins (daily 26, hourly 6) one
    season apart; each candidate is fitted once at the earliest and updated at the others, and
    each forecast is scored on the steps already observed. The score, over the latest
    ``select_origins`` (daily 12) origins, is MAE × (1 + |coverage80 − 0.80| + |coverage95 −
    0.95|): accuracy first, and a candidate whose raw intervals are far off pays for it (a
    combination's intervals are its averaged quantiles). The pick's spread is then calibrated
    on all origins (:mod:`uec.forecast.calibrate`). ``chosen`` records the pick per series and
    ``factors`` its 80% and 95% spread factors at step 1; ``tried`` the candidates the budget
    allowed.

    Candidates (by default every base model, :data:`AUTO_CANDIDATES`) are tried cheapest first
    while their estimated cost (:data:`FIT_COST`) stays within ``budget`` seconds per series
    (:data:`AUTO_BUDGET`; daily by default ``snaive``, ``empirical`` and ``glm``).

    >>> ds = pd.date_range("2022-01-01", periods=120)
    >>> y = 100.0 + 20.0 * (ds.day_of_week == 0)
    >>> auto = AutoModel("daily", candidates=("snaive", "empirical"), n_origins=2)
    >>> _ = auto.fit(pd.DataFrame({"ds": ds, "y": y})).predict(7)
    >>> auto.chosen["series"] in {"snaive", "empirical", "snaive+empirical"}
    True
    """

    name = "auto"

    def __init__(  # noqa: PLR0913 - keyword-only options of the selection, each named at the call
        self,
        freq: Freq = "daily",
        *,
        candidates: tuple[str, ...] | None = None,
        n_origins: int | None = None,
        select_origins: int | None = None,
        calibrate: bool = True,
        min_points: int = 30,
        budget: float | None = None,
        max_combo: int = 3,
        refit_every: int | None = 4,
    ) -> None:
        super().__init__(freq)
        if candidates is None:
            candidates = AUTO_DEFAULT_CANDIDATES[self.freq]
        unknown = [c for c in candidates if c not in _BASE_NAMES]
        if unknown or not candidates:
            raise ValueError(f"unknown candidate model(s) {unknown}: choose from {', '.join(_BASE_NAMES)}")
        self.candidates = candidates
        # Hourly: a week of steps gives 168 scores per origin, so fewer origins suffice.
        self.n_origins = n_origins if n_origins is not None else (26 if self.freq == "daily" else 6)
        self.select_origins = select_origins if select_origins is not None else (12 if self.freq == "daily" else 6)
        self.calibrate = calibrate
        self.min_points = min_points
        self.budget = budget if budget is not None else AUTO_BUDGET[self.freq]
        self.max_combo = max_combo
        # Refit the candidates every 4 internal origins (monthly): fitted only once, a regression
        # would be judged on parameters half a year stale while the seasonal naive and the
        # empirical model, which refit at every update anyway, are not; on stage 1 that bias
        # made `auto` prefer them (MASE 0.820 at 7 days against 0.758 for `glm` alone).
        self.refit_every = refit_every
        self.chosen: dict[str, str] = {}
        self.factors: dict[str, tuple[float, float]] = {}

    @property
    def tried(self) -> tuple[str, ...]:
        """The candidates within the budget, cheapest first (always at least the cheapest)."""
        cost = FIT_COST[self.freq]
        out: list[str] = []
        spent = 0.0
        for name in sorted(self.candidates, key=lambda c: (cost.get(c, 1.0), self.candidates.index(c))):
            if self.freq == "daily" and name == "poisson" and "glm" in self.candidates:
                continue  # daily, it is the same model as glm
            spent += cost.get(name, 1.0)
            if out and spent > self.budget:
                break
            out.append(name)
        return tuple(out)

    def fit_validated(self, history: pd.DataFrame) -> Self:
        self.chosen = {}
        self.factors = {}
        return super().fit_validated(history)

    def _fit_one(self, ds: pd.DatetimeIndex, y: Array) -> _AutoState:
        return _AutoState(ds, y, ds, y, {})

    def _update_one(self, state: Any, ds: pd.DatetimeIndex, y: Array) -> _AutoState:
        return _AutoState(state.train_ds, state.train_y, ds, y, state.picks)

    def _combos(self, names: tuple[str, ...]) -> list[tuple[str, ...]]:
        top = min(self.max_combo, len(names))
        return [c for r in range(1, top + 1) for c in itertools.combinations(names, r)]

    def _choose(self, state: _AutoState, horizon: int) -> _Pick:
        ds, y = state.train_ds, state.train_y
        models = {name: _model_class(name)(self.freq) for name in self.tried}
        tests = {
            name: internal_test(m, ds, y, horizon, self.n_origins, self.refit_every) for name, m in models.items()
        }
        longest = max((len(t) for t in tests.values()), default=0)
        # Only candidates that could be tested at every origin compete on the same points.
        names = tuple(n for n in models if longest and len(tests[n]) == longest)
        factors: Array | None = None
        if not names:
            for name, m in models.items():
                try:
                    return _Pick((name,), None, {name: m._fit_one(ds, y)})
                except ValueError:
                    continue
            raise ValueError(f"no candidate model can fit a series of {len(y)} observations")
        arrays = {n: _test_arrays(tests[n], y) for n in names}
        select = tests[names[0]][-self.select_origins :]
        first_cut = select[0][0]
        sel_mask = np.concatenate(
            [np.full(min(mean.size, len(y) - c), c >= first_cut) for c, mean, _ in tests[names[0]]]
        )
        steps, actual = arrays[names[0]][0], arrays[names[0]][1]
        lo80, hi80 = QUANTILE_LEVELS.index(0.1), QUANTILE_LEVELS.index(0.9)
        lo95, hi95 = QUANTILE_LEVELS.index(0.025), QUANTILE_LEVELS.index(0.975)
        scored: dict[tuple[str, ...], float] = {}
        for combo in self._combos(names):
            mean = np.mean([arrays[c][2] for c in combo], axis=0)
            q = np.mean([arrays[c][3] for c in combo], axis=0)
            a, m, qq = actual[sel_mask], mean[sel_mask], q[sel_mask]
            cov80 = float(np.mean((a >= qq[:, lo80]) & (a <= qq[:, hi80])))
            cov95 = float(np.mean((a >= qq[:, lo95]) & (a <= qq[:, hi95])))
            scored[combo] = float(np.mean(np.abs(a - m))) * (1.0 + abs(cov80 - 0.80) + abs(cov95 - 0.95))
        best = min(scored, key=lambda c: (scored[c], len(c)))
        if self.calibrate:
            q = np.mean([arrays[c][3] for c in best], axis=0)
            factors = spread_factors(
                steps, actual, q, QUANTILE_LEVELS, horizon=horizon, season=self.season,
                options=CalibrationOptions(self.min_points),
            )
        return _Pick(best, factors, {name: models[name]._fit_one(ds, y) for name in best})

    def _predict_one(self, state: Any, future: pd.DatetimeIndex) -> tuple[Array, Array]:
        h = len(future)
        pick = state.picks.get(h)
        if pick is None:
            pick = state.picks[h] = self._choose(state, h)
        moved = len(state.y) != len(state.train_y) or state.ds[-1] != state.train_ds[-1]
        parts = []
        for name, st in pick.members.items():
            model = _model_class(name)(self.freq)
            if moved:
                st = model._update_one(st, state.ds, state.y)
            mean, q = model._predict_one(st, future)
            parts.append(_clean(mean, q, bool(np.all(state.y >= 0))))
        mean = np.mean([m for m, _ in parts], axis=0)
        q = np.mean([qq for _, qq in parts], axis=0)
        if pick.factors is not None:
            q = apply_spread(q, pick.factors)
        uid = self._current_uid(state)
        self.chosen[uid] = "+".join(pick.combo)
        if pick.factors is not None:
            self.factors[uid] = (float(pick.factors[0, 2]), float(pick.factors[0, 0]))
        return mean, q

    def _current_uid(self, state: Any) -> str:
        for uid, f in self._fitted.items():
            if f.state is state:
                return uid
        return ""


def measure_fit_cost(
    name: str, freq: Freq, history: pd.DataFrame, horizon: int, *, n_origins: int | None = None
) -> float:
    """CPU seconds that ``auto`` spends on candidate ``name`` for one series (``history``,
    columns ``ds, y``): its internal test, refitted every 4 origins as :class:`AutoModel` does,
    and the final fit, as :data:`FIT_COST` estimates them. ``bench/forecast_costs.py`` prints it
    for every base model next to the table, which is how the table is kept honest.

    >>> ds = pd.date_range("2022-01-01", periods=200)
    >>> cost = measure_fit_cost("snaive", "daily", pd.DataFrame({"ds": ds, "y": np.arange(200.0) % 7}), 7)
    >>> 0 <= cost < 5
    True
    """
    model = _model_class(name)(freq)
    origins = n_origins if n_origins is not None else (26 if freq == "daily" else 6)
    ds = pd.DatetimeIndex(pd.to_datetime(history["ds"]))
    if freq == "hourly" and ds.tz is None:
        ds = ds.tz_localize("UTC")
    y = history["y"].to_numpy(dtype=float)
    start = time.process_time()
    internal_test(model, ds, y, horizon, origins, refit_every=4)
    model._predict_one(model._fit_one(ds, y), _future(ds, freq, horizon))
    return time.process_time() - start


#: The model names :func:`make_model` accepts (each base name also with ``:raw``).
MODEL_NAMES: tuple[str, ...] = (*_BASE_NAMES, ENSEMBLE_NAME, AutoModel.name)


def make_model(name: str, freq: Freq) -> Model:
    """A fresh model by name (see :data:`MODEL_NAMES`).

    Every model's intervals are calibrated (:class:`Calibrated`; ``auto`` calibrates its pick);
    ``name:raw`` gives a base model or the ensemble without calibration.

    >>> make_model("snaive", "hourly").season
    168
    >>> type(make_model("glm", "daily")).__name__, type(make_model("glm:raw", "daily")).__name__
    ('Calibrated', 'CountRegression')
    >>> make_model("prophet", "daily")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: unknown model 'prophet': choose from snaive, empirical, glm, poisson, ets, arima, ..., auto
    """
    if freq == "monthly":  # the models that suit a yearly season of months (uec.forecast.monthly)
        return __import__("uec.forecast.monthly", fromlist=["monthly_model"]).monthly_model(name)  # type: ignore[no-any-return]
    if name == AutoModel.name:
        return AutoModel(freq)
    raw = name.endswith(RAW_SUFFIX)
    base_name = name[: -len(RAW_SUFFIX)] if raw else name
    base: Model
    if base_name == ENSEMBLE_NAME:
        base = Ensemble(freq)
    elif base_name in _BASE_NAMES:
        base = _model_class(base_name)(freq)
    else:
        raise ValueError(f"unknown model {name!r}: choose from {', '.join(MODEL_NAMES)}")
    return base if raw else Calibrated(base)
