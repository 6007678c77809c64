"""Rolling-origin backtesting and scorecards.

An *origin* is the first time step not observed: the forecast from origin ``o`` is fitted on data
strictly before ``o`` and covers ``o, o+1, …, o+H−1``. Origins fall every ``every`` steps from
``test_from`` to ``test_to`` inclusive (hourly origins step on the Europe/London wall clock, see
:func:`uec.forecast.clock.origins`). The model is refitted from scratch at every origin.

MASE and RMSSE are scaled, per series, by the in-sample seasonal naive errors of the *initial*
training data (everything before the first origin), as Monks et al. (2023) do, so one series has
one scale across all folds.

>>> ds = pd.date_range("2024-01-01", periods=42)
>>> df = pd.DataFrame({"ds": ds, "y": [10.0, 12, 11, 13, 20, 25, 9] * 6 + np.arange(42) % 2})
>>> res = backtest(df, "daily", horizon=7, every=7, test_from="2024-01-29", test_to="2024-02-05", model="snaive")
>>> res.forecasts[["origin", "ds", "mean", "y"]].head(2)
      origin         ds  mean     y
0 2024-01-29 2024-01-29  11.0  10.0
1 2024-01-29 2024-01-30  12.0  13.0
>>> float(res.scorecard.set_index("step").loc["all", "mase"])
1.0
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, as_completed
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from uec.forecast import metrics
from uec.forecast.clock import origins as make_origins
from uec.forecast.frame import LOCAL_TZ, Freq, check_freq, season_length, step_of, validate_long
from uec.forecast.models import Model, make_model
from uec.forecast.quantiles import INTERVALS, QUANTILE_COLUMNS, SCORED_COLUMNS, SCORED_LEVELS

__all__ = ["METRICS", "BacktestResult", "Progress", "backtest", "fold_summary", "run_block", "score"]

#: Scorecard metric columns, in order.
METRICS: tuple[str, ...] = (
    "mase",
    "rmsse",
    "smape",
    "rmse",
    "mae",
    "pinball",
    "crps",
    "coverage_80",
    "coverage_95",
    "quantile_bias",
    "signed_quantile_bias",
)

DateLike = str | dt.date | pd.Timestamp


@dataclass(frozen=True)
class BacktestResult:
    """What :func:`backtest` returns.

    ``forecasts`` has one row per (``unique_id``, ``origin``, ``ds``) with ``mean``, the quantile
    columns and the actual ``y`` (NaN past the end of the data). ``scorecard`` is :func:`score`
    of those. ``scales`` holds each series' MASE (``mae_scale``) and RMSSE (``mse_scale``)
    denominators.
    """

    forecasts: pd.DataFrame
    scorecard: pd.DataFrame
    scales: pd.DataFrame
    freq: Freq
    horizon: int
    every: int
    model: str
    origins: pd.DatetimeIndex

    def fold_summary(self, horizons: Sequence[int]) -> pd.DataFrame:
        """Paper-style table, see :func:`fold_summary`."""
        return fold_summary(self.forecasts, self.scales, self.freq, horizons)


def _steps(forecasts: pd.DataFrame, freq: Freq) -> pd.Series:
    ds, origin = pd.to_datetime(forecasts["ds"]), pd.to_datetime(forecasts["origin"])
    if freq == "monthly":  # calendar months differ in length: count them, not their days
        return ((ds.dt.year - origin.dt.year) * 12 + ds.dt.month - origin.dt.month).astype("int64") + 1
    return ((ds - origin) // step_of(freq)).astype("int64") + 1


#: Called after each finished task with (tasks done, tasks in all, estimated seconds left or None).
Progress = Callable[[int, int, float | None], None]


def _blocks(cuts: pd.DatetimeIndex, refit_every: int | None, step: pd.Timedelta) -> list[pd.DatetimeIndex]:
    """Origins grouped into refit periods: a block starts at an origin ``refit_every`` steps or
    more after the previous block's start."""
    if refit_every is None:
        return [cuts[i : i + 1] for i in range(len(cuts))]
    blocks: list[list[int]] = []
    start: pd.Timestamp | None = None
    for i, o in enumerate(cuts):
        if start is None or o >= start + step * refit_every:
            blocks.append([])
            start = o
        blocks[-1].append(i)
    return [cuts[b] for b in blocks]


def run_block(prototype: Model, data: pd.DataFrame, block: pd.DatetimeIndex, horizon: int) -> pd.DataFrame:
    """Forecasts from each origin of one refit period for the series in ``data`` (validated):
    fitted once on the data before the first origin, then *updated* (same parameters, newer
    data, :meth:`Model.update`) at each later one. One task of a backtest; a pure function of its
    arguments, so it gives the same result in any process.

    >>> ds = pd.date_range("2024-01-01", periods=42)
    >>> data = validate_long(pd.DataFrame({"ds": ds, "y": np.arange(42.0) % 7}), "daily")
    >>> fc = run_block(make_model("snaive:raw", "daily"), data, pd.DatetimeIndex(["2024-01-29", "2024-02-05"]), 2)
    >>> fc["mean"].tolist(), fc["origin"].dt.day.tolist()
    ([0.0, 1.0, 0.0, 1.0], [29, 29, 5, 5])
    """
    model = prototype.clone()
    parts: list[pd.DataFrame] = []
    for i, origin in enumerate(block):
        seen = data[data["ds"] < origin]
        model = model.fit_validated(seen) if i == 0 else model.update_validated(seen)
        fc = model.predict(horizon)
        fc.insert(1, "origin", origin)
        parts.append(fc)
    return pd.concat(parts, ignore_index=True)


def _run_tasks(
    tasks: list[tuple[Model, pd.DataFrame, pd.DatetimeIndex, int]],
    executor: Executor | None,
    progress: Progress | None,
) -> list[pd.DataFrame]:
    """Each task's forecasts, in task order whatever order they finish in."""
    t0 = time.perf_counter()
    total = len(tasks)

    def tell(done: int) -> None:
        if progress is not None:
            elapsed = time.perf_counter() - t0
            progress(done, total, elapsed / done * (total - done) if done else None)

    if executor is None:
        out = []
        for i, task in enumerate(tasks):
            out.append(run_block(*task))
            tell(i + 1)
        return out
    futures: list[Future[pd.DataFrame]] = [executor.submit(run_block, *task) for task in tasks]
    for done, _ in enumerate(as_completed(futures), start=1):
        tell(done)
    return [f.result() for f in futures]


def backtest(  # noqa: PLR0913 - the protocol's six values, then keyword-only options each named at the call
    df: pd.DataFrame,
    freq: Freq,
    horizon: int,
    every: int,
    test_from: DateLike,
    test_to: DateLike,
    model: str | Model = "snaive",
    *,
    tz: str = LOCAL_TZ,
    refit_every: int | None = None,
    executor: Executor | None = None,
    progress: Progress | None = None,
) -> BacktestResult:
    """Rolling-origin backtest of ``model`` (a name from ``MODEL_NAMES`` or an unfitted model).

    ``refit_every`` (steps): re-estimate the model only at the first origin of each period of
    that many steps and *update* it (same parameters, newer data) at the origins in between; by
    default it is refitted at every origin. The work is split into one task per series and
    refit period, run on ``executor`` (any ``concurrent.futures.Executor``: processes, or a Dask
    cluster's ``client.get_executor()``; serial when ``None``); every task is deterministic, so
    the forecasts are identical however they are run. ``progress(done, total, seconds_left)`` is
    called as tasks finish.

    ``ValueError`` (one line) when the frame is invalid, a date is unreadable, the model is
    unknown, or an origin has no data before it or lies more than one step past a series' end.
    """
    freq = check_freq(freq)
    if horizon < 1:
        raise ValueError("horizon must be at least 1 step")
    if refit_every is not None and refit_every < 1:
        raise ValueError("refit_every must be at least 1 step")
    data = validate_long(df, freq)
    prototype = make_model(model, freq) if isinstance(model, str) else model
    if prototype.freq != freq:
        raise ValueError(f"model is for {prototype.freq} data but the backtest is {freq}")
    cuts = make_origins(freq, test_from, test_to, every, tz=tz)
    if len(cuts) == 0:
        raise ValueError("no origins between test_from and test_to")
    step = step_of(freq)
    bounds = data.groupby("unique_id")["ds"].agg(["min", "max"])
    for uid, (first, last) in bounds.iterrows():
        if cuts[0] < first + step * (season_length(freq) + 1):
            raise ValueError(
                f"series {uid!r} starts {first}, too close to the first origin {cuts[0]} for a training set"
            )
        if cuts[-1] > last + step:
            raise ValueError(
                f"origin {cuts[-1]} is more than one step after the end of series {uid!r} ({last});"
                " move test_to earlier"
            )
    scales = _scales(data[data["ds"] < cuts[0]], freq)
    tasks = []
    for _, one in data.groupby("unique_id", sort=True):
        for block in _blocks(cuts, refit_every, step):
            tasks.append((prototype, one[one["ds"] < block[-1]].reset_index(drop=True), block, horizon))
    parts = _run_tasks(tasks, executor, progress)
    forecasts = pd.concat(parts, ignore_index=True).sort_values(["origin", "unique_id", "ds"], kind="stable")
    forecasts = forecasts.merge(data, on=["unique_id", "ds"], how="left")
    forecasts = forecasts[["unique_id", "origin", "ds", "mean", *QUANTILE_COLUMNS, "y"]].reset_index(drop=True)
    name = model if isinstance(model, str) else prototype.name
    return BacktestResult(
        forecasts=forecasts,
        scorecard=score(forecasts, scales, freq),
        scales=scales,
        freq=freq,
        horizon=horizon,
        every=every,
        model=name,
        origins=cuts,
    )


def _scales(initial: pd.DataFrame, freq: Freq) -> pd.DataFrame:
    m = season_length(freq)
    rows = []
    for uid, g in initial.groupby("unique_id", sort=True):
        y = g["y"].to_numpy()
        rows.append(
            {
                "unique_id": str(uid),
                "mae_scale": metrics.seasonal_naive_scale(y, m),
                "mse_scale": metrics.seasonal_naive_scale(y, m, power=2),
            }
        )
    return pd.DataFrame(rows, columns=["unique_id", "mae_scale", "mse_scale"])


def _scaled_mean(err: np.ndarray[Any, np.dtype[np.float64]], scale: np.ndarray[Any, np.dtype[np.float64]]) -> float:
    # A constant initial season has scale 0: the scaled metrics are then undefined (NaN), not inf.
    if np.any(~(scale > 0)):
        return float("nan")
    return float(np.mean(err / scale))


def _block_metrics(block: pd.DataFrame) -> dict[str, Any]:
    y = block["y"].to_numpy()
    f = block["mean"].to_numpy()
    q = block[list(SCORED_COLUMNS)].to_numpy()
    err = np.abs(y - f)
    out: dict[str, Any] = {
        "n": len(block),
        "mase": _scaled_mean(err, block["mae_scale"].to_numpy()),
        "rmsse": float(np.sqrt(_scaled_mean(err**2, block["mse_scale"].to_numpy()))),
        "smape": metrics.smape(y, f),
        "rmse": metrics.rmse(y, f),
        "mae": metrics.mae(y, f),
        "pinball": metrics.pinball_loss(y, q, SCORED_LEVELS),
        "crps": metrics.crps_from_quantiles(y, q, SCORED_LEVELS),
    }
    for level, (lo, hi) in INTERVALS.items():
        out[f"coverage_{level}"] = metrics.interval_coverage(y, block[lo], block[hi])
    out["quantile_bias"] = metrics.quantile_bias(y, q, SCORED_LEVELS)
    out["signed_quantile_bias"] = metrics.signed_quantile_bias(y, q, SCORED_LEVELS)
    return out


def score(forecasts: pd.DataFrame, scales: pd.DataFrame, freq: Freq) -> pd.DataFrame:
    """Scorecard of every metric by horizon step and overall.

    Rows with no actual ``y`` are left out. ``unique_id`` is ``"all"`` for rows pooled over
    series; ``step`` is the horizon step as text (``"1"``, ``"2"``, …) or ``"all"``. With more
    than one series there is also an overall row per series. Pooled MASE and RMSSE scale each
    error by its own series' denominator. Columns: ``unique_id, step, n`` then :data:`METRICS`.

    >>> fc = pd.DataFrame({"unique_id": "a", "origin": pd.Timestamp("2024-01-01"),
    ...     "ds": pd.to_datetime(["2024-01-01", "2024-01-02"]), "mean": [10.0, 10.0], "y": [12.0, 9.0]})
    >>> for c in QUANTILE_COLUMNS: fc[c] = fc["mean"]
    >>> sc = score(fc, pd.DataFrame({"unique_id": ["a"], "mae_scale": [2.0], "mse_scale": [4.0]}), "daily")
    >>> sc[["step", "n", "mase", "rmse"]]
      step  n  mase      rmse
    0    1  1  1.00  2.000000
    1    2  1  0.50  1.000000
    2  all  2  0.75  1.581139
    """
    scored = forecasts[forecasts["y"].notna()].merge(scales, on="unique_id", how="left")
    columns = ["unique_id", "step", "n", *METRICS]
    if scored.empty:
        return pd.DataFrame(columns=columns)
    scored["step"] = _steps(scored, freq)
    rows = []
    for step, block in scored.groupby("step", sort=True):
        rows.append({"unique_id": "all", "step": str(step), **_block_metrics(block)})
    rows.append({"unique_id": "all", "step": "all", **_block_metrics(scored)})
    if scored["unique_id"].nunique() > 1:
        for uid, block in scored.groupby("unique_id", sort=True):
            rows.append({"unique_id": str(uid), "step": "all", **_block_metrics(block)})
    return pd.DataFrame(rows, columns=columns)


def fold_summary(forecasts: pd.DataFrame, scales: pd.DataFrame, freq: Freq, horizons: Sequence[int]) -> pd.DataFrame:
    """The paper's table: for each ``h``, every metric over steps 1..h of each fold (series and
    origin), then the mean and sample SD (ddof=1) over folds.

    Only folds with all ``h`` actuals count. Columns: ``h, folds`` then ``<metric>_mean`` and
    ``<metric>_sd`` for each of :data:`METRICS`.

    >>> fc = pd.DataFrame({"unique_id": "a", "origin": pd.to_datetime(["2024-01-01"] * 2 + ["2024-01-02"] * 2),
    ...     "ds": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-02", "2024-01-03"]),
    ...     "mean": 10.0, "y": [12.0, 10.0, 10.0, 13.0]})
    >>> for c in QUANTILE_COLUMNS: fc[c] = fc["mean"]
    >>> scales = pd.DataFrame({"unique_id": ["a"], "mae_scale": [1.0], "mse_scale": [1.0]})
    >>> s = fold_summary(fc, scales, "daily", [1, 2])
    >>> s[["h", "folds", "mase_mean", "mase_sd"]]
       h  folds  mase_mean   mase_sd
    0  1      2       1.00  1.414214
    1  2      2       1.25  0.353553
    """
    scored = forecasts[forecasts["y"].notna()].merge(scales, on="unique_id", how="left")
    scored["step"] = _steps(scored, freq)
    rows = []
    for h in horizons:
        part = scored[scored["step"] <= h]
        per_fold = [
            _block_metrics(block) for _, block in part.groupby(["unique_id", "origin"], sort=True) if len(block) == h
        ]
        row: dict[str, Any] = {"h": int(h), "folds": len(per_fold)}
        for m in METRICS:
            vals = np.array([f[m] for f in per_fold], dtype=float)
            row[f"{m}_mean"] = float(np.mean(vals)) if vals.size else np.nan
            row[f"{m}_sd"] = float(np.std(vals, ddof=1)) if vals.size > 1 else np.nan
        rows.append(row)
    return pd.DataFrame(rows)
