"""Forecast accuracy metrics, each a pure function of arrays.

Definitions follow Monks et al. (2023), whose tables the golden test reproduces:

* MASE: mean absolute error divided by the in-sample MAE of the seasonal naive forecast with the
  given season length (7 for daily data) over the *training* data.
* sMAPE: ``mean(200 |y - f| / (|y| + |f|))``, in per cent, between 0 and 200 (a term with
  ``y = f = 0`` counts as 0).
* RMSSE: as MASE but with squared errors, then a square root (the M5 definition).

Probabilistic metrics take a matrix of quantile forecasts, one column per level:

* pinball loss, averaged over observations and levels;
* CRPS, **approximated** from quantiles as twice the mean pinball loss over an evenly spaced grid of levels (the
  quantile decomposition CRPS = 2∫ pinball_τ dτ with the integral replaced by the mean over the
  grid, so levels 0.05, 0.10, …, 0.95 stand for (0, 1));
* coverage of a central interval, bounds inclusive;
* quantile bias, as published: the mean over levels of |τ − share of ``y`` strictly below the
  τ-quantile|, unsigned (0 is perfectly calibrated). "Strictly below" matters for counts: an
  actual equal to an integer quantile is not counted as below it, so ties do not flatter a
  forecast. :func:`signed_quantile_bias` is the signed mean of (share strictly below − τ):
  positive means the quantiles sit too high (over-forecast), negative too low.

>>> round(smape([100.0], [110.0]), 4)
9.5238
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "crps_from_quantiles",
    "interval_coverage",
    "mae",
    "mase",
    "pinball_loss",
    "quantile_bias",
    "rmse",
    "rmsse",
    "seasonal_naive_scale",
    "signed_quantile_bias",
    "smape",
]


def _pair(y: ArrayLike, f: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    ya = np.asarray(y, dtype=float).ravel()
    fa = np.asarray(f, dtype=float).ravel()
    if ya.shape != fa.shape:
        raise ValueError(f"actuals have {ya.size} values but forecasts have {fa.size}")
    if ya.size == 0:
        raise ValueError("no values to score")
    return ya, fa


def mae(y: ArrayLike, f: ArrayLike) -> float:
    """Mean absolute error.

    >>> mae([1, 2, 3], [2, 2, 5])
    1.0
    """
    ya, fa = _pair(y, f)
    return float(np.mean(np.abs(ya - fa)))


def rmse(y: ArrayLike, f: ArrayLike) -> float:
    """Root mean squared error.

    >>> rmse([0, 0], [3, 4])
    3.5355339059327378
    """
    ya, fa = _pair(y, f)
    return float(np.sqrt(np.mean((ya - fa) ** 2)))


def smape(y: ArrayLike, f: ArrayLike) -> float:
    """Symmetric MAPE as in Monks et al.: ``mean(200 |y − f| / (|y| + |f|))``, per cent, 0–200.

    >>> smape([100, 0], [100, 0])
    0.0
    >>> smape([1], [0])
    200.0
    """
    ya, fa = _pair(y, f)
    den = np.abs(ya) + np.abs(fa)
    num = np.abs(ya - fa)
    # Divide before scaling so a term with y or f at zero is exactly 200, never 200.00000000000003.
    ratio = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
    return float(200.0 * np.mean(ratio))


def seasonal_naive_scale(insample: ArrayLike, season_length: int, *, power: int = 1) -> float:
    """In-sample mean |y_t − y_{t−m}|**power of the seasonal naive forecast (m = ``season_length``).

    ``power=1`` is the MASE denominator; ``power=2`` is the RMSSE denominator before its root.

    >>> seasonal_naive_scale([1, 2, 4, 7], 1)
    2.0
    >>> seasonal_naive_scale([1, 2, 4, 7], 1, power=2)
    4.666666666666667
    """
    x = np.asarray(insample, dtype=float).ravel()
    if season_length < 1:
        raise ValueError("season_length must be at least 1")
    if x.size <= season_length:
        raise ValueError(f"need more than {season_length} in-sample values to scale by the seasonal naive")
    d = np.abs(x[season_length:] - x[:-season_length]) ** power
    return float(np.mean(d))


def mase(y: ArrayLike, f: ArrayLike, insample: ArrayLike, season_length: int) -> float:
    """Mean absolute scaled error: MAE over the in-sample seasonal naive MAE.

    >>> mase([10, 12], [11, 11], insample=[8, 9, 10, 12, 11], season_length=1)  # MAE 1 / scale 1.25
    0.8
    """
    scale = seasonal_naive_scale(insample, season_length)
    if scale == 0:
        raise ValueError("the in-sample seasonal naive MAE is 0, so MASE is undefined")
    return mae(y, f) / scale


def rmsse(y: ArrayLike, f: ArrayLike, insample: ArrayLike, season_length: int) -> float:
    """Root mean squared scaled error (M5): sqrt(MSE / in-sample seasonal naive MSE).

    >>> round(rmsse([10, 12], [11, 11], insample=[8, 9, 10, 12, 11], season_length=1), 4)  # 1 / sqrt(7/4)
    0.7559
    """
    scale = seasonal_naive_scale(insample, season_length, power=2)
    if scale == 0:
        raise ValueError("the in-sample seasonal naive MSE is 0, so RMSSE is undefined")
    return rmse(y, f) / float(np.sqrt(scale))


def _quantile_inputs(
    y: ArrayLike, quantiles: ArrayLike, levels: Sequence[float]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    ya = np.asarray(y, dtype=float).ravel()
    q = np.asarray(quantiles, dtype=float)
    if q.ndim == 1:
        q = q.reshape(1, -1) if ya.size == 1 else q.reshape(-1, 1)
    lv = np.asarray(levels, dtype=float).ravel()
    if q.shape != (ya.size, lv.size):
        raise ValueError(f"quantiles must be {ya.size} x {lv.size} (observations x levels), got {q.shape}")
    if ya.size == 0:
        raise ValueError("no values to score")
    if np.any((lv <= 0) | (lv >= 1)):
        raise ValueError("quantile levels must lie strictly between 0 and 1")
    return ya, q, lv


def pinball_loss(y: ArrayLike, quantiles: ArrayLike, levels: Sequence[float]) -> float:
    """Pinball (quantile) loss averaged over observations and levels.

    For level τ and quantile q the loss is τ(y − q) when y ≥ q and (1 − τ)(q − y) otherwise.

    >>> round(pinball_loss([10.0], [[8.0, 12.0]], [0.1, 0.9]), 6)
    0.2
    >>> pinball_loss([10.0, 10.0], [[10.0], [14.0]], [0.5])
    1.0
    """
    ya, q, lv = _quantile_inputs(y, quantiles, levels)
    diff = ya[:, None] - q
    loss = np.maximum(lv * diff, (lv - 1.0) * diff)
    return float(np.mean(loss))


def crps_from_quantiles(y: ArrayLike, quantiles: ArrayLike, levels: Sequence[float]) -> float:
    """CRPS approximated from quantiles as twice the mean pinball loss over the levels.

    Exact in the limit of a fine, evenly spaced grid; with levels 0.05, 0.10, …, 0.95 each level
    stands for a 1/19 slice of (0, 1). For a point forecast at the median it is the absolute error.

    >>> crps_from_quantiles([3.0], [[1.0]], [0.5])
    2.0
    """
    return 2.0 * pinball_loss(y, quantiles, levels)


def interval_coverage(y: ArrayLike, lower: ArrayLike, upper: ArrayLike) -> float:
    """Share of actuals inside ``[lower, upper]`` (bounds inclusive).

    >>> interval_coverage([1, 5, 9, 3], [0, 0, 0, 3], [4, 4, 10, 3])
    0.75
    """
    ya, lo = _pair(y, lower)
    _, hi = _pair(y, upper)
    return float(np.mean((ya >= lo) & (ya <= hi)))


def quantile_bias(y: ArrayLike, quantiles: ArrayLike, levels: Sequence[float]) -> float:
    """Mean over levels of |τ − share of actuals strictly below the τ-quantile| (unsigned).

    The published definition: 0 for calibrated quantiles, larger the further each level's
    quantile is from its nominal share, whichever side. An actual *equal* to a quantile is not
    below it, so integer ties are not counted in (with counts, many actuals tie).

    >>> quantile_bias([1, 2, 3, 4], [[5, 6]] * 4, [0.25, 0.75])
    0.5
    >>> quantile_bias([1, 2, 3, 4], [[1.5, 3.5]] * 4, [0.25, 0.75])
    0.0
    >>> quantile_bias([2, 2, 2, 2], [[2, 2]] * 4, [0.25, 0.75])   # ties are not below
    0.5
    """
    ya, q, lv = _quantile_inputs(y, quantiles, levels)
    below = (ya[:, None] < q).mean(axis=0)
    return float(np.mean(np.abs(lv - below)))


def signed_quantile_bias(y: ArrayLike, quantiles: ArrayLike, levels: Sequence[float]) -> float:
    """Mean over levels of (share of actuals strictly below the τ-quantile) − τ.

    Positive when the quantiles sit too high (over-forecast), negative when too low; errors on
    opposite sides cancel, which is why :func:`quantile_bias` is the unsigned one.

    >>> signed_quantile_bias([1, 2, 3, 4], [[5, 6]] * 4, [0.25, 0.75])
    0.5
    >>> signed_quantile_bias([1, 2, 3, 4], [[0, 0]] * 4, [0.25, 0.75])
    -0.5
    """
    ya, q, lv = _quantile_inputs(y, quantiles, levels)
    below = (ya[:, None] < q).mean(axis=0)
    return float(np.mean(below - lv))
