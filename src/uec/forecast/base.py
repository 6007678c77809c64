"""The forecasting model interface: ``fit(history)`` then ``predict(horizon)``.

Every model module (:mod:`uec.forecast.models`, :mod:`uec.forecast.statistical`,
:mod:`uec.forecast.boosted`, :mod:`uec.forecast.calibrate`) builds on :class:`Model`.

>>> issubclass(Model, ABC)
True
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from uec.forecast.frame import Freq, check_freq, season_length, step_of, validate_long
from uec.forecast.quantiles import QUANTILE_COLUMNS, QUANTILE_LEVELS

__all__ = ["LEVELS", "Array", "Model"]

#: The quantile levels as an array.
LEVELS = np.asarray(QUANTILE_LEVELS)
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

    def update(self, history: pd.DataFrame) -> Self:
        """Condition the fitted model on ``history`` (the same series, usually with newer data)
        *without* re-estimating its parameters, where the model allows it; a series not fitted
        before is fitted. This is what makes a rolling backtest cheap: fit once per refit period,
        then only update at each origin in it (:func:`uec.forecast.backtest.backtest`,
        ``refit_every``). Models that keep no parameters worth saving simply refit.

        >>> import pandas as pd
        >>> from uec.forecast.models import SeasonalNaive
        >>> h = pd.DataFrame({"ds": pd.date_range("2024-01-01", periods=21), "y": [1.0, 2, 3, 4, 5, 6, 7] * 3})
        >>> m = SeasonalNaive("daily").fit(h.iloc[:14]).update(h)
        >>> str(m.predict(1)["ds"].iloc[0].date())
        '2024-01-22'
        """
        return self.update_validated(validate_long(history, self.freq))

    def update_validated(self, history: pd.DataFrame) -> Self:
        """:meth:`update` for a frame already normalised by :func:`validate_long`."""
        fitted = dict(self._fitted)
        for uid, g in history.groupby("unique_id", sort=True):
            ds = pd.DatetimeIndex(g["ds"])
            y = g["y"].to_numpy(dtype=float)
            old = fitted.get(str(uid))
            state = self._update_one(old.state, ds, y) if old is not None else self._fit_one(ds, y)
            fitted[str(uid)] = _Fitted(ds[-1], bool(np.all(y >= 0)), state)
        self._fitted = fitted
        return self

    def _update_one(self, state: Any, ds: pd.DatetimeIndex, y: Array) -> Any:
        """The state for the same parameters conditioned on (``ds``, ``y``); by default a refit."""
        return self._fit_one(ds, y)

    def predict(self, horizon: int) -> pd.DataFrame:
        """Forecast ``horizon`` steps after each series' last observation."""
        if not self._fitted:
            raise RuntimeError(f"{type(self).__name__} must be fitted before predict")
        if horizon < 1:
            raise ValueError("horizon must be at least 1 step")
        step = step_of(self.freq)
        parts = []
        for uid, f in self._fitted.items():
            future = pd.date_range(f.last + step, periods=horizon, freq=step)
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
