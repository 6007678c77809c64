"""Models for monthly series (the published monthly returns): which of the forecasting models fit a
month-by-month series with a yearly season (period 12), and ``auto`` choosing among them.

Only the models whose structure does not assume days fit monthly data: the seasonal naive (the same
month a year before), the empirical climatology by month of year, and exponential smoothing
(ETS(A,Ad,A) with period 12). The count regressions (day-of-week and bank-holiday terms), the weekly
seasonal ARIMA, MSTL and the boosted model are built for daily and hourly data and are refused for
monthly series with the list of those that fit. Intervals are calibrated as for any model
(:class:`~uec.forecast.models.Calibrated`), on origins one year apart.

>>> import pandas as pd, numpy as np
>>> ds = pd.date_range("2020-01-01", periods=48, freq="MS")
>>> y = 1000.0 + 100 * (ds.month == 12) + np.arange(48)
>>> fc = monthly_model("snaive").fit(pd.DataFrame({"ds": ds, "y": y})).predict(2)
>>> fc["ds"].dt.strftime("%Y-%m").tolist(), fc["mean"].tolist()
(['2024-01', '2024-02'], [1036.0, 1037.0])
>>> monthly_model("glm")
Traceback (most recent call last):
...
ValueError: model 'glm' does not fit monthly series: choose from snaive, empirical, ets, auto
"""

from __future__ import annotations

from uec.forecast.base import Model
from uec.forecast.models import RAW_SUFFIX, AutoModel, Calibrated, _model_class

__all__ = ["MONTHLY_BASE_MODELS", "MONTHLY_MODELS", "MonthlyAuto", "monthly_model"]

#: Base models whose structure suits a monthly series with a yearly season.
MONTHLY_BASE_MODELS: tuple[str, ...] = ("snaive", "empirical", "ets")
#: The model names accepted for monthly series.
MONTHLY_MODELS: tuple[str, ...] = (*MONTHLY_BASE_MODELS, AutoModel.name)


class MonthlyAuto(AutoModel):
    """``auto`` for monthly series: every monthly base model is a candidate (a monthly series is short,
    a few dozen points, so each fit costs little and no budget is needed).

    >>> MonthlyAuto().tried
    ('snaive', 'empirical', 'ets')
    """

    def __init__(self) -> None:
        super().__init__("monthly", candidates=MONTHLY_BASE_MODELS, budget=float("inf"))

    @property
    def tried(self) -> tuple[str, ...]:
        """All the candidates: the daily cost table does not apply to a few dozen monthly points."""
        return self.candidates


def monthly_model(name: str) -> Model:
    """A fresh model for monthly series by name (see :data:`MONTHLY_MODELS`; ``name:raw`` as for
    :func:`~uec.forecast.models.make_model`); ``ValueError`` naming the choices otherwise.

    >>> type(monthly_model("ets")).__name__, monthly_model("ets").season
    ('Calibrated', 12)
    """
    if name == AutoModel.name:
        return MonthlyAuto()
    raw = name.endswith(RAW_SUFFIX)
    base_name = name[: -len(RAW_SUFFIX)] if raw else name
    if base_name not in MONTHLY_BASE_MODELS:
        raise ValueError(f"model {name!r} does not fit monthly series: choose from {', '.join(MONTHLY_MODELS)}")
    base = _model_class(base_name)("monthly")
    return base if raw else Calibrated(base)
