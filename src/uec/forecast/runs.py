"""Forecast runs kept in the store: fit models to the store's series (or a file) and save the
forecasts, each series' model and its backtest scores, in one transaction.

Three tables, created on first use with the same DDL on both engines:

* ``forecast_runs``: one row per run (``run_id, created_at, model, freq, horizon, origin,
  n_series, n_failed, source``); ``origin`` is the first step forecast by the run's first series.
* ``forecast_series``: one row per series in a run: the model actually used (``auto`` records its
  pick), the history it was fitted on, an error message if it could not be forecast, and the
  scores of a short rolling-origin backtest on its own history (MASE, 80% and 95% coverage, CRPS).
* ``forecast_values``: one row per series and step: ``ds``, ``mean`` and the quantiles ``q0_025``
  … ``q0_975`` (the column names of :data:`~uec.forecast.quantiles.QUANTILE_COLUMNS` with ``_``
  for the dot). Daily ``ds`` are stored as the date's 00:00 UTC; hourly ``ds`` as the UTC instant.

A run writes all its rows or none: everything is fitted first, then written in one transaction
(``uec forecast refresh`` writes its daily and hourly runs together, in one).

>>> value_column("q0.975")
'q0_975'
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pyarrow as pa

from uec.access import audit
from uec.errors import UecError
from uec.forecast import queries
from uec.forecast.backtest import backtest
from uec.forecast.frame import Freq, check_freq, season_length, step_of
from uec.forecast.models import make_model
from uec.forecast.occupancy import DEFAULT_MODEL, OccupancyProjection, default_as_of, project_occupancy
from uec.forecast.quantiles import QUANTILE_COLUMNS
from uec.forecast.schema import RUN_DDL, VALUE_COLUMNS, value_column
from uec.forecast.series import available_series, latest_stretch, series_frame, series_freq
from uec.store import Store

__all__ = [
    "DEFAULT_BACKTEST_ORIGINS",
    "DEFAULT_HORIZON",
    "DEFAULT_MODEL",
    "HOURLY_HISTORY_DAYS",
    "RUN_DDL",
    "RunSummary",
    "SeriesRun",
    "ensure_tables",
    "forecast_frame",
    "forecast_store_series",
    "has_tables",
    "latest_series_runs",
    "latest_values",
    "list_runs",
    "occupancy_projection",
    "run_values",
    "save_run",
    "save_runs",
    "value_column",
]

#: Steps forecast when no horizon is given: four weeks of days, one week of hours.
DEFAULT_HORIZON: dict[str, int] = {"daily": 28, "hourly": 168, "monthly": 12}
#: Backtest origins per series saved with a run, one season apart (a week; a year for monthly series,
#: whose few dozen points leave room for two); hourly fits are far slower.
DEFAULT_BACKTEST_ORIGINS: dict[str, int] = {"daily": 4, "hourly": 1, "monthly": 2}
#: Hourly series are fitted on at most this many days of history, to bound the fit time.
HOURLY_HISTORY_DAYS = 365


_VALUE_COLUMNS = VALUE_COLUMNS
_SCORES = ("mase", "coverage_80", "coverage_95", "crps")


def ensure_tables(store: Store) -> None:
    """Create the forecast tables if they are missing.

    >>> import tempfile, os
    >>> from uec.store import open_store
    >>> with tempfile.TemporaryDirectory() as d:
    ...     s = open_store(os.path.join(d, "s.duckdb"))
    ...     ensure_tables(s)
    ...     has_tables(s)
    True
    """
    with store.write() as w:
        for ddl in RUN_DDL:
            w.execute(ddl)


def has_tables(store: Store) -> bool:
    """Whether the store has the forecast tables (reads must not create them).

    >>> import tempfile, os
    >>> from uec.store import open_store
    >>> with tempfile.TemporaryDirectory() as d:
    ...     has_tables(open_store(os.path.join(d, "s.duckdb")))
    False
    """
    return queries.run_tables_exist(store)


# --- fitting ------------------------------------------------------------------------------------


@dataclass
class SeriesRun:
    """One series of a run: what was fitted, its backtest scores and any error."""

    unique_id: str
    n_obs: int
    first_ds: pd.Timestamp | None
    last_ds: pd.Timestamp | None
    model_used: str | None = None
    error: str | None = None
    backtest_origins: int = 0
    scores: dict[str, float | None] = field(default_factory=dict)
    run_id: str | None = None
    created_at: pd.Timestamp | None = None
    model: str | None = None
    freq: str | None = None
    horizon: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain values for JSON."""
        return {
            "unique_id": self.unique_id,
            "run_id": self.run_id,
            "created_at": None if self.created_at is None else self.created_at.isoformat(),
            "model": self.model,
            "model_used": self.model_used,
            "freq": self.freq,
            "horizon": self.horizon,
            "n_obs": self.n_obs,
            "first_ds": _iso(self.first_ds),
            "last_ds": _iso(self.last_ds),
            "error": self.error,
            "backtest_origins": self.backtest_origins,
            **self.scores,
        }


@dataclass
class RunSummary:
    """A saved run: its id and settings, its series and how many steps were forecast."""

    run_id: str
    created_at: pd.Timestamp
    model: str
    freq: Freq
    horizon: int
    origin: pd.Timestamp | None
    source: str
    series: list[SeriesRun]
    values: pd.DataFrame

    @property
    def n_failed(self) -> int:
        """Series that could not be forecast."""
        return sum(1 for s in self.series if s.error)

    def as_dict(self) -> dict[str, Any]:
        """Plain values for JSON."""
        return {
            "run_id": self.run_id,
            "created_at": self.created_at.isoformat(),
            "model": self.model,
            "freq": self.freq,
            "horizon": self.horizon,
            "origin": _iso(self.origin),
            "source": self.source,
            "n_series": len(self.series),
            "n_failed": self.n_failed,
            "rows": len(self.values),
            "series": [s.as_dict() for s in self.series],
        }


def _iso(ts: pd.Timestamp | None) -> str | None:
    if ts is None or pd.isna(ts):
        return None
    return ts.strftime("%Y-%m-%d") if ts.tzinfo is None else ts.isoformat()


def _clean(v: Any) -> float | None:
    x = float(v)
    return None if math.isnan(x) else x


def _quick_backtest(
    one: pd.DataFrame, freq: Freq, model: str, horizon: int, n_origins: int
) -> tuple[int, dict[str, float | None]]:
    """Scores of ``n_origins`` weekly origins ending where the last forecast just fits the data."""
    if n_origins < 1:
        return 0, {}
    step = step_of(freq)
    season = season_length(freq)
    last = pd.Timestamp(one["ds"].max())
    latest = last + step - step * horizon
    if freq == "hourly":
        latest = latest.tz_convert("Europe/London").tz_localize(None).normalize()
    earliest = latest - step * season * (n_origins - 1)
    first = pd.Timestamp(one["ds"].min())
    needed = step * (2 * season + 1)
    if freq == "hourly":
        first = first.tz_convert("Europe/London").tz_localize(None)
    if earliest < first + needed:
        return 0, {}
    res = backtest(one, freq, horizon, season, earliest.date().isoformat(), latest.date().isoformat(), model)
    overall = res.scorecard[res.scorecard["step"] == "all"].iloc[0]
    return len(res.origins), {k: _clean(overall[k]) for k in _SCORES}


def _fit_one(
    one: pd.DataFrame, uid: str, freq: Freq, model: str, horizon: int, backtest_origins: int
) -> tuple[SeriesRun, pd.DataFrame | None]:
    ds = pd.DatetimeIndex(one["ds"])
    sr = SeriesRun(uid, len(one), ds.min() if len(ds) else None, ds.max() if len(ds) else None)
    if one.empty:
        sr.error = "no data"
        return sr, None
    try:
        m = make_model(model, freq)
        fc = m.fit(one).predict(horizon)
        chosen = getattr(m, "chosen", {})
        sr.model_used = str(chosen.get(uid, model)) if isinstance(chosen, dict) else model
    except ValueError as exc:
        sr.error = str(exc).splitlines()[0]
        return sr, None
    try:
        sr.backtest_origins, sr.scores = _quick_backtest(one, freq, model, horizon, backtest_origins)
    except ValueError:
        # A short history leaves no room for a backtest: the forecast stands without scores.
        sr.backtest_origins, sr.scores = 0, {}
    return sr, fc


def forecast_frame(
    frame: pd.DataFrame,
    freq: Freq,
    *,
    model: str = DEFAULT_MODEL,
    horizon: int | None = None,
    backtest_origins: int | None = None,
    source: str = "store",
    progress: Callable[[str], None] | None = None,
    executor: Executor | None = None,
) -> RunSummary:
    """Fit ``model`` to every series of a long frame and forecast ``horizon`` steps (not saved).

    Each series is fitted on its own so that one that cannot be fitted (too short, say) is
    recorded with its error and the others go on. With an ``executor`` (local processes or a
    Dask cluster, :mod:`uec.forecast.parallel`) the series are fitted in parallel; each is a
    deterministic task, so the forecasts are the same as a serial run's.

    >>> week = [10.0, 12, 11, 13, 20, 25, 9]
    >>> df = pd.DataFrame({"ds": pd.date_range("2024-01-01", periods=60), "y": week * 8 + [10.0] * 4})
    >>> run = forecast_frame(df, "daily", model="snaive", horizon=7, backtest_origins=2)
    >>> len(run.values), run.series[0].backtest_origins
    (7, 2)
    """
    freq = check_freq(freq)
    h = horizon if horizon is not None else DEFAULT_HORIZON[freq]
    if h < 1:
        raise UecError("--horizon must be at least 1")
    n_bt = DEFAULT_BACKTEST_ORIGINS[freq] if backtest_origins is None else backtest_origins
    make_model(model, freq)  # an unknown model name fails before any fitting
    series: list[SeriesRun] = []
    values: list[pd.DataFrame] = []
    if "unique_id" not in frame.columns:
        frame = frame.assign(unique_id="series")
    groups = [(str(uid), one.reset_index(drop=True)) for uid, one in frame.groupby("unique_id", sort=True)]
    if executor is None:
        results = []
        for uid, one in groups:
            if progress is not None:
                progress(uid)
            results.append(_fit_one(one, uid, freq, model, h, n_bt))
    else:
        futures = [executor.submit(_fit_one, one, uid, freq, model, h, n_bt) for uid, one in groups]
        results = []
        for (uid, _), fut in zip(groups, futures, strict=True):
            results.append(fut.result())
            if progress is not None:
                progress(uid)
    for sr, fc in results:
        series.append(sr)
        if fc is not None:
            values.append(fc)
    cols = ["unique_id", "ds", "mean", *QUANTILE_COLUMNS]
    out = pd.concat(values, ignore_index=True)[cols] if values else pd.DataFrame(columns=cols)
    # Full precision: two runs in the same second must still be ordered (the latest one wins).
    created = pd.Timestamp.now(tz="UTC").floor("us")
    origin = pd.Timestamp(out["ds"].min()) if len(out) else None
    if origin is not None and origin.tzinfo is None:
        origin = origin.tz_localize("UTC")
    run_id = f"{created.strftime('%Y%m%dT%H%M%SZ')}-{freq[0]}-{uuid.uuid4().hex[:6]}"
    for sr in series:
        sr.run_id, sr.created_at, sr.model, sr.freq, sr.horizon = run_id, created, model, freq, h
    return RunSummary(run_id, created, model, freq, h, origin, source, series, out)


def _utc(ds: pd.Series) -> pd.Series:
    s = pd.to_datetime(ds)
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        return s.dt.tz_convert("UTC")
    return s.dt.tz_localize("UTC")


def save_run(store: Store, run: RunSummary, *, actor: audit.Actor = None, action: str = "forecast.run") -> None:
    """Write a run's rows in one transaction (creating the tables if need be), audited."""
    save_runs(store, [run], actor=actor, action=action)


def _tables(run: RunSummary) -> tuple[pa.Table, pa.Table, pa.Table]:
    runs = pa.table(
        {
            "run_id": [run.run_id],
            "created_at": pa.array([run.created_at.to_pydatetime()], pa.timestamp("us", tz="UTC")),
            "model": [run.model],
            "freq": [run.freq],
            "horizon": pa.array([run.horizon], pa.int64()),
            "origin": pa.array(
                [None if run.origin is None else run.origin.to_pydatetime()], pa.timestamp("us", tz="UTC")
            ),
            "n_series": pa.array([len(run.series)], pa.int64()),
            "n_failed": pa.array([run.n_failed], pa.int64()),
            "source": [run.source],
        }
    )

    def ts(v: pd.Timestamp | None) -> dt.datetime | None:
        if v is None or pd.isna(v):
            return None
        t = pd.Timestamp(v)
        return (t.tz_convert("UTC") if t.tzinfo else t.tz_localize("UTC")).to_pydatetime()

    series = pa.table(
        {
            "run_id": [run.run_id] * len(run.series),
            "unique_id": [s.unique_id for s in run.series],
            "model_used": pa.array([s.model_used for s in run.series], pa.string()),
            "n_obs": pa.array([s.n_obs for s in run.series], pa.int64()),
            "first_ds": pa.array([ts(s.first_ds) for s in run.series], pa.timestamp("us", tz="UTC")),
            "last_ds": pa.array([ts(s.last_ds) for s in run.series], pa.timestamp("us", tz="UTC")),
            "error": pa.array([s.error for s in run.series], pa.string()),
            "backtest_origins": pa.array([s.backtest_origins for s in run.series], pa.int64()),
            **{k: pa.array([s.scores.get(k) for s in run.series], pa.float64()) for k in _SCORES},
        }
    )
    v = run.values
    values = pa.table(
        {
            "run_id": [run.run_id] * len(v),
            "unique_id": v["unique_id"].astype(str).tolist(),
            "ds": pa.array(_utc(v["ds"]).dt.as_unit("us"), pa.timestamp("us", tz="UTC")),
            "mean": pa.array(v["mean"].to_numpy(dtype=float), pa.float64()),
            **{value_column(c): pa.array(v[c].to_numpy(dtype=float), pa.float64()) for c in QUANTILE_COLUMNS},
        }
    )
    return runs, series, values


def save_runs(store: Store, runs: Sequence[RunSummary], *, actor: audit.Actor = None,
              action: str = "forecast.run") -> None:
    """Write several runs in one transaction: all of them or, if anything fails, none.

    Each run is audited (``action``, ``forecast.run`` or ``forecast.refresh``, by ``actor``) in the
    same transaction.
    """
    built = [_tables(r) for r in runs]
    with store.write() as w:
        for ddl in RUN_DDL:
            w.execute(ddl)
        for run_rows, series_rows, value_rows in built:
            w.append("forecast_runs", run_rows)
            w.append("forecast_series", series_rows)
            w.append("forecast_values", value_rows)
        for r in runs:
            audit.record(w, actor=actor, action=action, object_type="forecast_run", object_id=r.run_id,
                         before=None, after={"model": r.model, "freq": r.freq, "horizon": r.horizon,
                                             "series": len(r.series), "failed": r.n_failed},
                         request_id=None)


def forecast_store_series(
    store: Store,
    series_ids: Sequence[str] | None = None,
    *,
    model: str = DEFAULT_MODEL,
    horizon: int | None = None,
    backtest_origins: int | None = None,
    progress: Callable[[str], None] | None = None,
    save: bool = True,
    executor: Executor | None = None,
) -> list[RunSummary]:
    """Fit and forecast store series (``None``: every series the store has), one run per
    frequency, and save the runs (all of them in one transaction each, fitted before writing).

    ``UecError`` for an unknown series id or model, or a store with nothing to forecast.
    """
    ids = list(series_ids) if series_ids is not None else [s.series_id for s in available_series(store)]
    if not ids:
        raise UecError("the store has no series to forecast: load data first (uec demo or uec ingest)")
    by_freq: dict[Freq, list[str]] = {}
    for sid in ids:
        by_freq.setdefault(series_freq(sid), []).append(sid)
    for f in by_freq:
        try:
            make_model(model, f)
        except ValueError as exc:
            raise UecError(str(exc)) from None
    runs: list[RunSummary] = []
    for freq in ("daily", "hourly", "monthly"):
        chosen = by_freq.get(freq)
        if not chosen:
            continue
        # Gaps (a return not submitted, a census not taken) stay gaps: fit the latest unbroken stretch.
        frame = latest_stretch(series_frame(store, chosen), freq)
        if freq == "hourly" and len(frame):
            cut = frame["ds"].max() - pd.Timedelta(days=HOURLY_HISTORY_DAYS)
            frame = frame[frame["ds"] > cut]
        missing = sorted(set(chosen) - set(frame["unique_id"]))
        run = forecast_frame(
            frame, freq, model=model, horizon=horizon, backtest_origins=backtest_origins, progress=progress,
            executor=executor,
        )
        run.series += [
            SeriesRun(
                sid,
                0,
                None,
                None,
                error="no data",
                run_id=run.run_id,
                created_at=run.created_at,
                model=model,
                freq=freq,
                horizon=run.horizon,
            )
            for sid in missing
        ]
        runs.append(run)
    if save:
        save_runs(store, runs)
    return runs


# --- reading ------------------------------------------------------------------------------------


def list_runs(store: Store, limit: int = 20) -> list[dict[str, Any]]:
    """The latest runs, newest first (empty when no run has been saved).

    >>> import tempfile, os
    >>> from uec.store import open_store
    >>> with tempfile.TemporaryDirectory() as d:
    ...     list_runs(open_store(os.path.join(d, "s.duckdb")))
    []
    """
    if not has_tables(store):
        return []
    rows = queries.run_rows(store, limit)
    return [
        {
            **r,
            "created_at": pd.Timestamp(r["created_at"]).isoformat(),
            "origin": None if r["origin"] is None else pd.Timestamp(r["origin"]).isoformat(),
        }
        for r in rows
    ]


def latest_series_runs(store: Store) -> dict[str, SeriesRun]:
    """For each series id, its entry in the newest run that forecast it without error.

    >>> import tempfile, os
    >>> from uec.store import open_store
    >>> with tempfile.TemporaryDirectory() as d:
    ...     latest_series_runs(open_store(os.path.join(d, "s.duckdb")))
    {}
    """
    if not has_tables(store):
        return {}
    rows = queries.successful_series_run_rows(store)
    out: dict[str, SeriesRun] = {}
    for r in rows:
        freq = str(r["freq"])
        out[str(r["unique_id"])] = SeriesRun(
            unique_id=str(r["unique_id"]),
            n_obs=int(r["n_obs"]),
            first_ds=_read_ds(r["first_ds"], freq),
            last_ds=_read_ds(r["last_ds"], freq),
            model_used=r["model_used"],
            error=None,
            backtest_origins=int(r["backtest_origins"]),
            scores={k: (None if r[k] is None else float(r[k])) for k in _SCORES},
            run_id=str(r["run_id"]),
            created_at=pd.Timestamp(r["created_at"]).tz_convert("UTC"),
            model=str(r["model"]),
            freq=freq,
            horizon=int(r["horizon"]),
        )
    return out


def _read_ds(value: Any, freq: str) -> pd.Timestamp | None:
    if value is None:
        return None
    t = pd.Timestamp(value)
    t = t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
    return t.tz_localize(None) if freq != "hourly" else t


def run_values(store: Store, run_id: str, unique_ids: Sequence[str] | None = None) -> pd.DataFrame:
    """A run's forecasts in the model output format (``unique_id, ds, mean, q0.025, …``), with
    daily ``ds`` as dates and hourly ``ds`` as UTC instants."""
    cols = ["unique_id", "ds", "mean", *QUANTILE_COLUMNS]
    if not has_tables(store):
        return pd.DataFrame(columns=cols)
    freq = queries.run_freq(store, run_id)
    if freq is None:
        return pd.DataFrame(columns=cols)
    rows = queries.run_value_rows(store, run_id, _VALUE_COLUMNS, unique_ids)
    df = pd.DataFrame(rows, columns=["unique_id", "ds", "mean", *_VALUE_COLUMNS])
    df.columns = cols
    ds = pd.to_datetime(df["ds"], utc=True)
    hourly = freq == "hourly"
    df["ds"] = ds.astype("datetime64[ns, UTC]") if hourly else ds.dt.tz_localize(None).astype("datetime64[ns]")
    for c in ["mean", *QUANTILE_COLUMNS]:
        df[c] = df[c].astype(float)
    return df


def latest_values(store: Store, unique_ids: Sequence[str]) -> pd.DataFrame:
    """The newest saved forecast of each series (from each one's latest successful run).

    >>> import tempfile, os
    >>> from uec.store import open_store
    >>> with tempfile.TemporaryDirectory() as d:
    ...     latest_values(open_store(os.path.join(d, "s.duckdb")), ["ambulance/C1"]).empty
    True
    """
    latest = latest_series_runs(store)
    by_run: dict[str, list[str]] = {}
    for uid in unique_ids:
        sr = latest.get(uid)
        if sr is not None and sr.run_id is not None:
            by_run.setdefault(sr.run_id, []).append(uid)
    parts = [run_values(store, rid, uids) for rid, uids in by_run.items()]
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=["unique_id", "ds", "mean", *QUANTILE_COLUMNS])
    return pd.concat(parts, ignore_index=True)


def occupancy_projection(
    store: Store,
    *,
    sites: list[str] | None = None,
    days: int = 7,
    as_of: str | None = None,
    model: str = DEFAULT_MODEL,
    fresh: bool = False,
) -> OccupancyProjection:
    """The projection, using the latest saved admissions forecasts when they cover the days
    (as ``uec forecast refresh`` leaves them) and fitting ``model`` otherwise.

    >>> import tempfile, os
    >>> from uec.store import open_store
    >>> with tempfile.TemporaryDirectory() as d:
    ...     occupancy_projection(open_store(os.path.join(d, "s.duckdb")))
    Traceback (most recent call last):
    ...
    uec.errors.UecError: the store has no inpatient spells to project occupancy from
    """
    t = default_as_of(store) if as_of is None else pd.Timestamp(as_of)
    if t is None:
        raise UecError("the store has no inpatient spells to project occupancy from")
    admissions = None
    used = model
    if not fresh:
        ids = [
            x.series_id
            for x in available_series(store)
            if x.kind == "admissions" and (sites is None or x.site_code in sites)
        ]
        saved = latest_values(store, ids)
        if len(saved) and set(saved["unique_id"]) == set(ids):
            first = (t.tz_localize("Europe/London") if t.tzinfo is None else t).tz_convert("Europe/London")
            need = pd.date_range(pd.Timestamp(first.date()), periods=days + 1, freq="D")
            covered = saved.groupby("unique_id")["ds"].apply(lambda d: bool(set(need).issubset(set(d))))
            if bool(covered.all()):
                admissions, used = saved, "saved run"
    p = project_occupancy(store, as_of=t, days=days, sites=sites, admissions=admissions, model=model)
    return p.model_copy(update={"model": used}) if used != model else p
