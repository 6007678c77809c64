"""Forecasting for urgent and emergency care demand: long-format series, benchmark models,
accuracy metrics and rolling-origin backtesting.

Every name is imported on first use: pandas, SciPy, statsmodels and LightGBM take seconds to import,
and ``uec forecast --help`` (or any module that only needs :mod:`uec.forecast.series`) must not pay
for them.

>>> import pandas as pd
>>> from uec.forecast import backtest
>>> ds = pd.date_range("2024-01-01", periods=56)
>>> df = pd.DataFrame({"ds": ds, "y": [100.0, 120, 110, 105, 130, 90, 80] * 8 + ds.day.to_numpy() % 3})
>>> res = backtest(df, "daily", horizon=7, every=7, test_from="2024-02-12", test_to="2024-02-19")
>>> res.forecasts.shape[0], list(res.forecasts.columns[:4])
(14, ['unique_id', 'origin', 'ds', 'mean'])
"""

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from uec.forecast.backtest import METRICS, BacktestResult, backtest, fold_summary, score
    from uec.forecast.boosted import BoostedQuantile
    from uec.forecast.calibrate import CalibrationOptions, apply_spread, spread_factors
    from uec.forecast.clock import bank_holidays, origins
    from uec.forecast.frame import Freq, find_gaps, read_series_csv, validate_long
    from uec.forecast.metrics import (
        crps_from_quantiles,
        interval_coverage,
        mae,
        mase,
        pinball_loss,
        quantile_bias,
        rmse,
        rmsse,
        seasonal_naive_scale,
        signed_quantile_bias,
        smape,
    )
    from uec.forecast.models import (
        AUTO_CANDIDATES,
        AUTO_DEFAULT_CANDIDATES,
        MODEL_NAMES,
        AutoModel,
        CountRegression,
        EmpiricalQuantile,
        Model,
        SeasonalNaive,
        make_model,
    )
    from uec.forecast.quantiles import QUANTILE_COLUMNS, QUANTILE_LEVELS, SCORED_LEVELS
    from uec.forecast.statistical import ArimaModel, EtsModel, MstlModel

#: Where each public name lives; imported when first asked for.
_LAZY: dict[str, str] = {
    **dict.fromkeys(("METRICS", "BacktestResult", "backtest", "fold_summary", "score"), "uec.forecast.backtest"),
    "BoostedQuantile": "uec.forecast.boosted",
    **dict.fromkeys(("CalibrationOptions", "apply_spread", "spread_factors"), "uec.forecast.calibrate"),
    **dict.fromkeys(("bank_holidays", "origins"), "uec.forecast.clock"),
    **dict.fromkeys(("Freq", "find_gaps", "read_series_csv", "validate_long"), "uec.forecast.frame"),
    **dict.fromkeys(
        ("crps_from_quantiles", "interval_coverage", "mae", "mase", "pinball_loss", "quantile_bias", "rmse", "rmsse",
         "seasonal_naive_scale", "signed_quantile_bias", "smape"),
        "uec.forecast.metrics",
    ),
    **dict.fromkeys(
        ("AUTO_CANDIDATES", "AUTO_DEFAULT_CANDIDATES", "MODEL_NAMES", "AutoModel", "CountRegression",
         "EmpiricalQuantile", "Model", "SeasonalNaive", "make_model"),
        "uec.forecast.models",
    ),
    **dict.fromkeys(("QUANTILE_COLUMNS", "QUANTILE_LEVELS", "SCORED_LEVELS"), "uec.forecast.quantiles"),
    **dict.fromkeys(("ArimaModel", "EtsModel", "MstlModel"), "uec.forecast.statistical"),
}


def __getattr__(name: str) -> Any:
    """A public name of the package, imported from its module on first use.

    >>> import uec.forecast
    >>> uec.forecast.EtsModel.name
    'ets'
    """
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _Package(types.ModuleType):
    """The package's module type: ``uec.forecast.backtest`` names the function, as it always has,
    although importing the submodule of the same name records the module under that attribute."""

    @property
    def backtest(self) -> Any:
        return importlib.import_module("uec.forecast.backtest").backtest

    @backtest.setter
    def backtest(self, value: Any) -> None:
        # The import system sets the submodule here; the function stays what the name means.
        pass


sys.modules[__name__].__class__ = _Package

__all__ = [
    "AUTO_CANDIDATES",
    "AUTO_DEFAULT_CANDIDATES",
    "METRICS",
    "MODEL_NAMES",
    "QUANTILE_COLUMNS",
    "QUANTILE_LEVELS",
    "SCORED_LEVELS",
    "ArimaModel",
    "AutoModel",
    "BacktestResult",
    "BoostedQuantile",
    "CalibrationOptions",
    "CountRegression",
    "EmpiricalQuantile",
    "EtsModel",
    "Freq",
    "Model",
    "MstlModel",
    "SeasonalNaive",
    "apply_spread",
    "backtest",
    "bank_holidays",
    "crps_from_quantiles",
    "find_gaps",
    "fold_summary",
    "interval_coverage",
    "mae",
    "make_model",
    "mase",
    "origins",
    "pinball_loss",
    "quantile_bias",
    "read_series_csv",
    "rmse",
    "rmsse",
    "score",
    "seasonal_naive_scale",
    "signed_quantile_bias",
    "smape",
    "spread_factors",
    "validate_long",
]
