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

import copy
import itertools
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

from uec.forecast.clock import bank_holidays, local_time, seasonal_position
from uec.forecast.frame import Freq, check_freq, season_length, step_of, validate_long
from uec.forecast.quantiles import QUANTILE_COLUMNS, QUANTILE_LEVELS

__all__ = [
    "MODEL_NAMES",
    "AutoModel",
    "CountRegression",
    "EmpiricalQuantile",
    "Model",
    "SeasonalNaive",
    "make_model",
]

_LEVELS = np.asarray(QUANTILE_LEVELS)
Array = NDArray[np.float64]


@dataclass
class _Fitted:
    last: pd.Timestamp
    nonnegative: bool
    state: Any


class Model(ABC):
    """Base class: fits each series of a long frame separately and forecasts them together."""

    #: The name users pass on the command line.
    name: ClassVar[str]

    def __init__(self, freq: Freq = "daily") -> None:
        self.freq: Freq = check_freq(freq)
        self._fitted: dict[str, _Fitted] = {}

    @property
    def season(self) -> int:
        """Steps in one week."""
        return season_length(self.freq)

    def fit(self, history: pd.DataFrame) -> Self:
        """Fit to every series of ``history`` (validated as :func:`validate_long` does)."""
        return self.fit_validated(validate_long(history, self.freq))

    def fit_validated(self, history: pd.DataFrame) -> Self:
        """Fit to a frame already normalised by :func:`validate_long` (skips the checks)."""
        fitted: dict[str, _Fitted] = {}
        for uid, g in history.groupby("unique_id", sort=True):
            ds = pd.DatetimeIndex(g["ds"])
            y = g["y"].to_numpy(dtype=float)
            fitted[str(uid)] = _Fitted(ds[-1], bool(np.all(y >= 0)), self._fit_one(ds, y))
        self._fitted = fitted
        return self

    def predict(self, horizon: int) -> pd.DataFrame:
        """Forecast ``horizon`` steps after each series' last observation."""
        if not self._fitted:
            raise RuntimeError(f"{type(self).__name__} must be fitted before predict")
        if horizon < 1:
            raise ValueError("horizon must be at least 1 step")
        step = step_of(self.freq)
        parts = []
        for uid, f in self._fitted.items():
            future = pd.DatetimeIndex([f.last + step * (k + 1) for k in range(horizon)])
            mean, q = self._predict_one(f.state, future)
            q = np.sort(q, axis=1)
            if f.nonnegative:
                mean, q = np.maximum(mean, 0.0), np.maximum(q, 0.0)
            part = pd.DataFrame(q, columns=list(QUANTILE_COLUMNS))
            part.insert(0, "mean", mean)
            part.insert(0, "ds", future)
            part.insert(0, "unique_id", uid)
            parts.append(part)
        return pd.concat(parts, ignore_index=True)

    def clone(self) -> Self:
        """An unfitted copy with the same settings."""
        twin = copy.copy(self)
        twin._fitted = {}
        return twin

    @abstractmethod
    def _fit_one(self, ds: pd.DatetimeIndex, y: Array) -> Any:
        """Whatever ``_predict_one`` needs for one series."""

    @abstractmethod
    def _predict_one(self, state: Any, future: pd.DatetimeIndex) -> tuple[Array, Array]:
        """Mean (H,) and quantiles (H, len(QUANTILE_LEVELS)) for the ``future`` steps."""


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
    beta = np.zeros(x.shape[1])
    beta[0] = np.log(max(float(np.mean(y)), 1e-3))
    w = np.ones_like(y) if weights is None else weights
    penalty = ridge * float(np.sum(w)) * np.eye(x.shape[1])
    penalty[0, 0] = 0.0
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
            age = np.asarray((ds[-1] - ds) / pd.Timedelta(days=1), dtype=float)
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


_BASE_MODELS: dict[str, type[Model]] = {
    SeasonalNaive.name: SeasonalNaive,
    EmpiricalQuantile.name: EmpiricalQuantile,
    CountRegression.name: CountRegression,
}


class AutoModel(Model):
    """Chooses, per series, the candidate or equal-weight combination of candidates with the
    lowest MAE over an internal rolling-origin backtest on the history alone.

    The internal test uses ``n_origins`` origins one week apart, ending ``horizon`` steps before
    the end of the history, at the horizon being forecast. A combination averages the members'
    means and, level by level, their quantiles. ``chosen`` records the pick per series.

    >>> ds = pd.date_range("2022-01-01", periods=120)
    >>> y = 100.0 + 20.0 * (ds.day_of_week == 0)
    >>> auto = AutoModel("daily", candidates=("snaive", "empirical"), n_origins=2)
    >>> _ = auto.fit(pd.DataFrame({"ds": ds, "y": y})).predict(7)
    >>> auto.chosen["series"] in {"snaive", "empirical", "snaive+empirical"}
    True
    """

    name = "auto"

    def __init__(
        self, freq: Freq = "daily", *, candidates: tuple[str, ...] = ("snaive", "glm"), n_origins: int = 8
    ) -> None:
        super().__init__(freq)
        unknown = [c for c in candidates if c not in _BASE_MODELS]
        if unknown or not candidates:
            raise ValueError(f"unknown candidate model(s) {unknown}: choose from {sorted(_BASE_MODELS)}")
        self.candidates = candidates
        self.n_origins = n_origins
        self.chosen: dict[str, str] = {}
        self._uid = ""

    def fit_validated(self, history: pd.DataFrame) -> Self:
        self.chosen = {}
        return super().fit_validated(history)

    def _fit_one(self, ds: pd.DatetimeIndex, y: Array) -> tuple[pd.DatetimeIndex, Array]:
        return ds, y

    def _members(self, ds: pd.DatetimeIndex, y: Array, horizon: int) -> dict[str, tuple[Array, Array]]:
        frame = pd.DataFrame({"unique_id": "s", "ds": ds, "y": y})
        out: dict[str, tuple[Array, Array]] = {}
        for name in self.candidates:
            model = _BASE_MODELS[name](self.freq)
            fc = model.fit_validated(frame).predict(horizon)
            out[name] = (fc["mean"].to_numpy(), fc[list(QUANTILE_COLUMNS)].to_numpy())
        return out

    def _combos(self) -> list[tuple[str, ...]]:
        return [c for r in range(1, len(self.candidates) + 1) for c in itertools.combinations(self.candidates, r)]

    @staticmethod
    def _combine(members: dict[str, tuple[Array, Array]], combo: tuple[str, ...]) -> tuple[Array, Array]:
        mean = np.mean([members[c][0] for c in combo], axis=0)
        q = np.mean([members[c][1] for c in combo], axis=0)
        return mean, q

    def _predict_one(self, state: Any, future: pd.DatetimeIndex) -> tuple[Array, Array]:
        ds, y = state
        h = len(future)
        errors: dict[tuple[str, ...], list[float]] = {c: [] for c in self._combos()}
        for i in range(self.n_origins):
            cut = len(y) - h - i * self.season
            if cut < 3 * self.season:
                break
            try:
                members = self._members(ds[:cut], y[:cut], h)
            except ValueError:
                break
            actual = y[cut : cut + h]
            for combo in errors:
                mean, _ = self._combine(members, combo)
                errors[combo].append(float(np.mean(np.abs(actual - mean))))
        scored = {c: float(np.mean(e)) for c, e in errors.items() if e}
        # Without room for an internal test, fall back to the simplest candidate.
        best = min(scored, key=lambda c: (scored[c], len(c))) if scored else (self.candidates[0],)
        self.chosen[self._current_uid(state)] = "+".join(best)
        return self._combine(self._members(ds, y, h), best)

    def _current_uid(self, state: Any) -> str:
        for uid, f in self._fitted.items():
            if f.state is state:
                return uid
        return ""


#: The model names :func:`make_model` accepts.
MODEL_NAMES: tuple[str, ...] = (*_BASE_MODELS, AutoModel.name)


def make_model(name: str, freq: Freq) -> Model:
    """A fresh model by name (see :data:`MODEL_NAMES`).

    >>> make_model("snaive", "hourly").season
    168
    >>> make_model("prophet", "daily")
    Traceback (most recent call last):
    ...
    ValueError: unknown model 'prophet': choose from snaive, empirical, glm, auto
    """
    if name == AutoModel.name:
        return AutoModel(freq)
    if name not in _BASE_MODELS:
        raise ValueError(f"unknown model {name!r}: choose from {', '.join(MODEL_NAMES)}")
    return _BASE_MODELS[name](freq)
