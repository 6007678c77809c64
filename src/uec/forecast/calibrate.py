"""Interval calibration: rescale a model's quantile spread so its central intervals cover what
they claim, using only the history before the origin.

Method (split-conformal scaling of the spread, per horizon week):

1. An internal rolling-origin backtest on the history: origins one season (a week) apart, the
   latest one season before the end of the history; each forecast is scored on the steps whose
   actuals are already known.
2. For every central interval (level pairs τ and 1 − τ, from 0.025/0.975 to 0.45/0.55) and every
   forecast in the internal test, the *conformity score* is how far the actual lies from the
   median in units of the interval's half-width on that side:
   ``r = (median − y) / (median − q_τ)`` below the median, ``(y − median) / (q_{1−τ} − median)``
   above it. The interval scaled by ``c`` covers y exactly when ``r ≤ c``.
3. The factor ``c`` for that interval is the empirical ``1 − 2τ`` quantile of the scores over the
   steps of the same horizon week (steps 1–7, 8–14, … for daily data): the smallest scaling that
   would have covered the nominal share. Weeks with too few scores borrow the factor of the
   nearest week that has enough; factors are kept within [``low``, ``high``].
4. The forecast's quantiles become ``median + c (q − median)``, level by level; the median and
   the mean are unchanged.

Nothing from the period being forecast is used: the scores come from forecasts made and scored
before the origin.

>>> steps = np.array([1, 1, 1, 1])
>>> q = np.tile(np.array([[8.0, 10.0, 12.0]]), (4, 1))           # levels 0.1, 0.5, 0.9
>>> y = np.array([6.0, 13.0, 10.0, 11.0])
>>> opts = CalibrationOptions(min_points=1, sides="joint")
>>> f = spread_factors(steps, y, q, (0.1, 0.5, 0.9), horizon=1, season=7, options=opts)
>>> f.round(2).tolist()  # widen: two of four fell outside
[[1.7, 1.0, 1.7]]
>>> apply_spread(q[:1], f).tolist()
[[6.6, 10.0, 13.4]]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from uec.forecast.base import Array

__all__ = ["CalibrationOptions", "apply_spread", "spread_factors"]


@dataclass(frozen=True)
class CalibrationOptions:
    """How :func:`spread_factors` measures: ``min_points`` scores a horizon week needs to be
    measured (others borrow the nearest measured week's factors); factors kept within
    [``low``, ``high``]; ``sides="separate"`` measures the lower and upper quantile of each
    interval on its own, ``"joint"`` one factor per interval; with ``"separate"``, from horizon
    week ``joint_floor_from`` (0-based; ``None``: never) on, neither side is narrowed below the
    interval's joint factor.

    Why the floor: a side measured on its own corrects the forecast's recent bias, which
    persists over the next days (errors are autocorrelated) but not for months: demand rises in
    autumn and falls in spring, so the bias of forecasts 2–12 weeks ahead measured on the past
    half-year often has the other sign by the time the forecast is scored. On the SWAST stage-1
    period (origins July–December 2017) the count regression's upper side at 2017-07-01 was
    narrowed to 0.77 of its width, measured on a spring when it had over-forecast, and its 80%
    interval covered 0.75 over days 1–84 (0.69 on the 2019 test year); with the floor 0.79
    (0.78 in 2019), and the first week, where the bias does persist, is unchanged.

    >>> CalibrationOptions().sides, CalibrationOptions().joint_floor_from
    ('separate', 1)
    """

    min_points: int = 30
    low: float = 0.3
    high: float = 4.0
    sides: str = "separate"
    joint_floor_from: int | None = 1

    def __post_init__(self) -> None:
        if self.sides not in ("separate", "joint"):
            raise ValueError("sides must be 'separate' or 'joint'")


def spread_factors(
    steps: NDArray[np.int64],
    y: Array,
    q: Array,
    levels: Sequence[float],
    *,
    horizon: int,
    season: int,
    options: CalibrationOptions | None = None,
    weights: Array | None = None,
) -> Array:
    """Spread factors, shape (``horizon``, len(``levels``)), from an internal backtest.

    ``weights`` (one per scored point) makes each factor a weighted quantile of the scores:
    with weights that fall with a point's age this is the non-exchangeable conformal method of
    Barber, Candès, Ramdas & Tibshirani (2023), which follows a distribution that drifts.

    ``steps`` (1-based horizon step), ``y`` (actual) and ``q`` (forecast quantiles, one row per
    scored point, columns = ``levels``, which must be symmetric around a 0.5 level) describe
    the internal test. Steps are pooled by horizon week (``season`` steps); see the module
    docstring for the method and :class:`CalibrationOptions` for the ``options``.

    >>> spread_factors(np.array([1, 2]), np.array([10.0, 10.0]), np.array([[9.0, 10, 11]] * 2),
    ...     (0.1, 0.5, 0.9), horizon=3, season=7, options=CalibrationOptions(min_points=5)).tolist()
    [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    """
    opts = options or CalibrationOptions()
    min_points, low, high, sides = opts.min_points, opts.low, opts.high, opts.sides
    lv = np.asarray(levels, dtype=float)
    mid = int(np.argmin(np.abs(lv - 0.5)))
    if not np.isclose(lv[mid], 0.5) or not np.allclose(lv + lv[::-1], 1.0):
        raise ValueError("calibration needs levels symmetric around 0.5")
    n_weeks = -(-horizon // season)
    week = (np.asarray(steps) - 1) // season
    med = q[:, mid]
    factors = np.ones((n_weeks, lv.size))
    joint = np.ones((n_weeks, lv.size))  # the joint factors, as a floor for the far weeks' sides
    floor_from = opts.joint_floor_from if sides == "separate" else None
    measured = np.zeros(n_weeks, dtype=bool)
    for w in range(n_weeks):
        sel = week == w
        if int(sel.sum()) < min_points:
            continue
        measured[w] = True
        yw, mw = y[sel], med[sel]
        floored = floor_from is not None and w >= floor_from
        for j in range(mid):
            if sides == "joint" or floored:
                lo, hi = q[sel, j], q[sel, lv.size - 1 - j]
                below = yw < mw
                width = np.where(below, mw - lo, hi - mw)
                dist = np.abs(yw - mw)
                with np.errstate(divide="ignore", invalid="ignore"):
                    # A zero-width side that missed needs any factor: above the cap (not inf,
                    # which np.quantile cannot interpolate).
                    r = np.where(width > 0, dist / width, np.where(dist > 0, 2.0 * high, 0.0))
                c = _quantile(r, 1.0 - 2.0 * lv[j], None if weights is None else weights[sel])
                joint[w, j] = joint[w, lv.size - 1 - j] = min(max(c, low), high)
                if sides == "joint":
                    factors[w, j] = factors[w, lv.size - 1 - j] = joint[w, j]
                    continue
            # Each side on its own: the lower quantile should have share τ of actuals below it,
            # so its factor is the (1 − τ) quantile of the signed scores (median − y) / (median −
            # q_τ); likewise above. A forecast biased low then gets a narrow lower side and a wide
            # upper one, which one symmetric factor cannot give.
            for k, sign in ((j, 1.0), (lv.size - 1 - j, -1.0)):
                width = sign * (mw - q[sel, k])
                dist = sign * (mw - yw)
                with np.errstate(divide="ignore", invalid="ignore"):
                    r = np.where(width > 0, dist / width, np.sign(dist) * 2.0 * high)
                c = _quantile(r, 1.0 - min(lv[k], 1.0 - lv[k]), None if weights is None else weights[sel])
                floor = joint[w, k] if floored else low
                factors[w, k] = max(min(max(c, low), high), floor)
    if measured.any():
        # Weeks the internal test could not reach borrow the nearest measured week's factors.
        idx = np.flatnonzero(measured)
        for gap in np.flatnonzero(~measured):
            factors[gap] = factors[idx[np.argmin(np.abs(idx - gap))]]
    out: Array = np.repeat(factors, season, axis=0)[:horizon]
    return out


def _quantile(values: Array, level: float, weights: Array | None) -> float:
    """``np.quantile`` (linear), or with ``weights`` the weighted quantile interpolated between
    the mid-points of each value's weight (equal weights give the Hazen quantile).

    >>> _quantile(np.array([1.0, 2.0, 3.0, 4.0]), 0.5, np.ones(4))
    2.5
    >>> _quantile(np.array([1.0, 2.0, 3.0, 4.0]), 0.5, np.array([1.0, 1.0, 1.0, 5.0]))
    3.5
    """
    if weights is None:
        return float(np.quantile(values, level))
    order = np.argsort(values, kind="stable")
    v, w = values[order], weights[order]
    cdf = (np.cumsum(w) - 0.5 * w) / np.sum(w)
    return float(np.interp(level, cdf, v))


def apply_spread(q: Array, factors: Array) -> Array:
    """Quantiles (H, L) with their spread around the median column rescaled by ``factors``
    (H, L); the median column's factor is ignored.

    >>> apply_spread(np.array([[8.0, 10.0, 12.0]]), np.array([[0.5, 1.0, 0.5]])).tolist()
    [[9.0, 10.0, 11.0]]
    """
    mid = q.shape[1] // 2
    med = q[:, mid : mid + 1]
    out: Array = med + factors * (q - med)
    return out
