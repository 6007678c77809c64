"""Bed occupancy projection for the next days, and the next-day capacity view.

At an *as-of* instant, each site's occupied beds at each of the next ``days`` local midnights are

* the **current inpatients** (admitted by the as-of instant and not discharged then), each still in
  hospital at a midnight with probability S(e + h) / S(e), where S is a Kaplan–Meier survival
  curve of length of stay, e the time already spent and h the time to that midnight; plus
* the **admissions still to come** (forecast daily admissions per site and admission method, from
  the forecasting models), each still in hospital at a midnight with the survival of its
  admission method from an admission time drawn from the hours at which that method admits.

Survival curves are fitted on the spells admitted in the year before the as-of instant: stays
ended by then are events, stays still going are censored at the as-of instant, so nothing after
it is used. The strata, finest first, fall back to the next coarser one when fewer than
:data:`MIN_STRATUM` stays in the stratum have ended:

* patients who still meet the criteria to reside (or whose criteria are not recorded): length of
  stay by (admission method, age band) → admission method → all;
* patients who no longer meet the criteria to reside: time from the end of the criteria to
  discharge by discharge pathway (when a pathway is recorded for a patient not yet discharged) →
  age band → all, then the length-of-stay strata;
* admissions to come (age not known): length of stay by admission method → all.

Intervals come from a Monte Carlo simulation: each current patient is in or out at each midnight
by one uniform draw compared with their survival probabilities (so a discharged patient stays
discharged); each day's admissions are drawn from the forecast's quantile function at quantile
levels that share one level shock per simulated path (a busy week is busy every day) and thinned
midnight by midnight with the survival of the admissions. The mean and the 80% and 95% bands are
taken over the simulations, and compared with the beds open at the latest bed census.

The simulation alone is too sure of itself (survival curves are estimates, and discharges come in
batches), so the spread around the mean is then scaled per horizon day by a split-conformal
factor: the same projection is replayed at :data:`CALIBRATION_ORIGINS` weekly origins before the
as-of instant, each scored on the census midnights that are still before it, and the factor is
what those past errors needed (bounded by :data:`SPREAD_BOUNDS`).

>>> km = kaplan_meier(np.array([1.0, 2.0, 3.0, 4.0]), np.array([True, True, False, True]))
>>> km(np.array([0.5, 1.0, 2.5, 3.5, 4.0])).round(3).tolist()
[1.0, 0.75, 0.5, 0.5, 0.0]
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pydantic import BaseModel
from scipy import stats

from uec.contract import LOCAL_TIME_ZONE
from uec.errors import UecError
from uec.forecast import queries
from uec.forecast.models import make_model
from uec.forecast.quantiles import QUANTILE_COLUMNS, QUANTILE_LEVELS
from uec.forecast.series import series_frame, spells_frame
from uec.store import Store

__all__ = [
    "CALIBRATION_ORIGINS",
    "DEFAULT_MODEL",
    "DEFAULT_SIMULATIONS",
    "LEVEL_CORRELATION",
    "LOOKBACK_DAYS",
    "MIN_STRATUM",
    "REPLAY_MODEL",
    "REPLAY_SIMULATIONS",
    "SPREAD_BOUNDS",
    "Band",
    "MidnightProjection",
    "NextDay",
    "OccupancyProjection",
    "SiteProjection",
    "SpreadCalibration",
    "StratumUse",
    "Survival",
    "admissions_forecast",
    "conformal_factors",
    "default_as_of",
    "kaplan_meier",
    "project_occupancy",
]

LONDON = ZoneInfo(LOCAL_TIME_ZONE)
#: The forecasting model used for admissions (and by ``uec forecast run``) unless one is named.
DEFAULT_MODEL = "auto"
#: Simulations behind each interval.
DEFAULT_SIMULATIONS = 2000
#: A stratum needs at least this many ended stays; otherwise the next coarser one is used.
MIN_STRATUM = 30
#: Survival is fitted on the spells admitted in this many days before the as-of instant.
LOOKBACK_DAYS = 365
#: Weekly origins before the as-of instant at which the projection is replayed to calibrate its
#: spread (each scored on the midnights still before the as-of instant).
CALIBRATION_ORIGINS = 8
#: Simulations in each replay: only the spread of the replay is used, so fewer suffice.
REPLAY_SIMULATIONS = 400
#: The model forecasting admissions in the replays: fast, and what ``auto`` picks on the demo.
REPLAY_MODEL = "glm"
#: Bounds on the spread factors, so that a few odd weeks cannot collapse or explode the bands.
SPREAD_BOUNDS = (0.5, 3.0)
#: Correlation, on the normal scale, of the quantile levels at which a simulated path draws the
#: admissions of its different days and admission methods: admissions above forecast one day
#: tend to be above forecast the next (a shared level shock). The calibration corrects the rest.
LEVEL_CORRELATION = 0.5

Array = NDArray[np.float64]


# --- survival -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Survival:
    """A Kaplan–Meier curve: S(t) = P(T > t), a step function falling at each event time."""

    times: Array
    surv: Array
    n: int
    events: int

    def __call__(self, t: Array) -> Array:
        """S at each ``t`` (1 before the first event; the last value after the last time)."""
        idx = np.searchsorted(self.times, np.asarray(t, dtype=float), side="right")
        return np.concatenate([[1.0], self.surv])[idx]


def kaplan_meier(durations: Array, observed: NDArray[np.bool_]) -> Survival:
    """The Kaplan–Meier estimate from ``durations`` and whether each ended (``False``: censored).

    >>> kaplan_meier(np.array([2.0, 2.0, 5.0]), np.array([True, False, True])).surv.tolist()
    [0.6666666666666667, 0.0]
    """
    d = np.asarray(durations, dtype=float)
    obs = np.asarray(observed, dtype=bool)
    times, ended = np.unique(d[obs], return_counts=True)
    order = np.sort(d)
    at_risk = d.size - np.searchsorted(order, times, side="left")
    surv = np.asarray(np.cumprod(1.0 - ended / np.maximum(at_risk, 1)), dtype=np.float64)
    return Survival(times, surv, int(d.size), int(obs.sum()))


# --- results ------------------------------------------------------------------------------------


class Band(BaseModel):
    """A simulated quantity: mean and the central 80% and 95% intervals."""

    mean: float
    lo80: float
    hi80: float
    lo95: float
    hi95: float


class MidnightProjection(BaseModel):
    """Beds occupied at one local midnight: the start of local day ``date``.

    ``occupied`` is calibrated (its spread around the mean scaled by ``spread_factor``);
    ``occupied_uncalibrated`` is the simulation's own band.
    """

    date: str
    midnight: str
    occupied: Band
    occupied_uncalibrated: Band
    spread_factor: float
    from_current: float
    from_admissions: float
    beds_open: int | None
    free_beds: Band | None
    p_full: float | None


class NextDay(BaseModel):
    """The next whole local day: admissions, discharges and the beds free at its end."""

    date: str
    admissions: Band
    discharges: Band
    occupied_start: Band
    occupied_end: Band
    beds_open: int | None
    free_beds: Band | None


class StratumUse(BaseModel):
    """A survival stratum and how many patients it was used for."""

    stratum: str
    ended_stays: int
    stays: int
    patients: int


class SiteProjection(BaseModel):
    site_code: str
    current_inpatients: int
    current_nctr: int
    beds_open: int | None
    beds_open_source: str
    midnights: list[MidnightProjection]
    next_day: NextDay | None
    strata: list[StratumUse]


class SpreadCalibration(BaseModel):
    """How the intervals' spread was calibrated on replays at earlier origins.

    ``factors[k]`` scales the spread around the mean at the midnight ``k + 1`` days ahead;
    ``comparisons`` counts (origin, site, midnight) scores; ``coverage80`` / ``coverage95`` are
    the replays' coverage before scaling (``None`` when nothing could be scored).
    """

    origins: list[str]
    model: str
    comparisons: int
    factors: list[float]
    bounds: tuple[float, float]
    coverage80: float | None
    coverage95: float | None


class OccupancyProjection(BaseModel):
    """The projection for every site with inpatients."""

    as_of: str
    days: int
    model: str
    simulations: int
    sites: list[SiteProjection]
    notes: list[str]
    calibration: SpreadCalibration | None = None


# --- pieces -------------------------------------------------------------------------------------


def _local_midnight(day: dt.date) -> pd.Timestamp:
    return pd.Timestamp(dt.datetime(day.year, day.month, day.day, tzinfo=LONDON)).tz_convert("UTC")


def _local_date(t: pd.Timestamp) -> dt.date:
    d: dt.date = t.tz_convert(LONDON).date()
    return d


def default_as_of(store: Store) -> pd.Timestamp | None:
    """The local midnight after the last day with a spell event (admission or discharge).

    >>> import tempfile, os
    >>> from uec.store import open_store
    >>> with tempfile.TemporaryDirectory() as d:
    ...     print(default_as_of(open_store(os.path.join(d, "s.duckdb"))))
    None
    """
    times = [pd.Timestamp(v) for v in queries.last_spell_events(store) if v is not None]
    if not times:
        return None
    last = max(t.tz_localize("UTC") if t.tzinfo is None else t for t in times)
    return _local_midnight(_local_date(last) + dt.timedelta(days=1))


def _hours(delta: pd.Series | pd.Timedelta) -> Array:
    return np.asarray(pd.to_timedelta(delta) / pd.Timedelta(hours=1), dtype=float)


def _quantile_draws(q: Array, u: Array) -> Array:
    """Counts drawn from a forecast's quantiles ``q`` at the levels ``u`` (clamped at the 2.5% and
    97.5% levels)."""
    return np.maximum(np.rint(np.interp(u, np.asarray(QUANTILE_LEVELS), np.maximum.accumulate(q))), 0.0)


def _band(x: Array) -> Band:
    lo95, lo80, hi80, hi95 = np.quantile(x, [0.025, 0.10, 0.90, 0.975])
    return Band(mean=float(np.mean(x)), lo80=float(lo80), hi80=float(hi80), lo95=float(lo95), hi95=float(hi95))


def _beds_open(store: Store, as_of: pd.Timestamp) -> dict[str, tuple[int, str]]:
    """Beds open per site: the latest G&A census (core + escalation) at or before ``as_of``,
    else the G&A bed capacity of the site's services."""
    rows = queries.beds_open_at(store, as_of.to_pydatetime())
    out = {str(r["site_code"]): (int(r["beds"]), "bed census") for r in rows}
    for r in queries.service_bed_capacity(store):
        out.setdefault(str(r["site_code"]), (int(r["beds"]), "service capacity"))
    return out


def _poisson_fallback(history: pd.DataFrame, uid: str, days: pd.DatetimeIndex) -> pd.DataFrame:
    """A flat Poisson forecast at the last 28 days' mean, for a series too short for a model."""
    tail = history.loc[history["unique_id"] == uid, "y"].to_numpy(dtype=float)[-28:]
    lam = float(np.mean(tail)) if tail.size else 0.0
    q = stats.poisson.ppf(np.asarray(QUANTILE_LEVELS), lam) if lam > 0 else np.zeros(len(QUANTILE_LEVELS))
    out = pd.DataFrame(np.tile(q, (len(days), 1)), columns=list(QUANTILE_COLUMNS))
    out.insert(0, "mean", lam)
    out.insert(0, "ds", days)
    out.insert(0, "unique_id", uid)
    return out


def admissions_forecast(
    store: Store, as_of: pd.Timestamp, days: int, model: str = DEFAULT_MODEL, sites: Sequence[str] | None = None
) -> pd.DataFrame:
    """Forecast daily admissions per site and method (``admissions/SITE/METHOD``) for the local
    days from the as-of day, fitted on the whole days before it.

    Series too short for the model get a flat Poisson forecast at their last 28 days' mean.

    >>> import tempfile, os
    >>> from uec.store import open_store
    >>> with tempfile.TemporaryDirectory() as d:
    ...     admissions_forecast(open_store(os.path.join(d, "s.duckdb")), pd.Timestamp("2025-01-01", tz="UTC"), 3).shape
    (0, 24)
    """
    from uec.forecast.series import available_series

    ids = [
        s.series_id
        for s in available_series(store)
        if s.kind == "admissions" and (sites is None or s.site_code in sites)
    ]
    first = _local_date(as_of)
    columns = ["unique_id", "ds", "mean", *QUANTILE_COLUMNS]
    if not ids:
        return pd.DataFrame(columns=columns)
    history = series_frame(store, ids, end=first - dt.timedelta(days=1))
    if history.empty:
        return pd.DataFrame(columns=columns)
    return _fit_admissions(history, ids, first, days, model)


def _fit_admissions(history: pd.DataFrame, ids: Sequence[str], first: dt.date, days: int, model: str) -> pd.DataFrame:
    """Forecasts of the series ``ids`` for the local days ``first`` to ``first + days``, each
    fitted on its ``history`` (a long frame ending before ``first``)."""
    columns = ["unique_id", "ds", "mean", *QUANTILE_COLUMNS]
    wanted = pd.date_range(pd.Timestamp(first), periods=days + 1, freq="D")
    history = history[history["unique_id"].isin(list(ids))]
    if history.empty:
        return pd.DataFrame(columns=columns)
    horizon = int((wanted[-1] - history["ds"].max()) / pd.Timedelta(days=1))
    parts: list[pd.DataFrame] = []
    try:
        # One fit of every series is several times faster than one fit per series.
        parts.append(make_model(model, "daily").fit(history).predict(horizon)[columns])
        ids = []
    except ValueError:
        pass
    for uid in ids:
        one = history[history["unique_id"] == uid]
        if one.empty:
            continue
        try:
            fc = make_model(model, "daily").fit(one).predict(horizon)
        except ValueError:
            fc = _poisson_fallback(
                history, uid, pd.date_range(one["ds"].max() + pd.Timedelta(days=1), periods=horizon, freq="D")
            )
        parts.append(fc[columns])
    if not parts:
        return pd.DataFrame(columns=columns)
    out = pd.concat(parts, ignore_index=True)
    return out[out["ds"].isin(wanted)].reset_index(drop=True)


@dataclass
class _Strata:
    """Kaplan–Meier curves by stratum key, with the fallback order."""

    curves: dict[tuple[str, ...], Survival]
    uses: dict[tuple[str, ...], int]

    def pick(self, chain: Sequence[tuple[str, ...]]) -> tuple[tuple[str, ...], Survival] | None:
        for key in chain:
            km = self.curves.get(key)
            if km is not None and km.events >= MIN_STRATUM:
                return key, km
        return None


def _codes(values: pd.Series) -> tuple[NDArray[np.intp], list[str]]:
    """Integer codes and their labels (missing as ``unknown``): comparing codes is much faster
    than comparing strings, and the strata are fitted many times over in the calibration."""
    codes, labels = pd.factorize(values.astype("string").fillna("unknown"), sort=True)
    return np.asarray(codes, dtype=np.intp), [str(v) for v in labels]


def _fit_strata(spells: pd.DataFrame, as_of: pd.Timestamp) -> _Strata:
    recent = spells[
        (spells["admission_time"] <= as_of) & (spells["admission_time"] > as_of - pd.Timedelta(days=LOOKBACK_DAYS))
    ]
    ended = recent["discharge_time"].notna() & (recent["discharge_time"] <= as_of)
    end = recent["discharge_time"].where(ended, as_of)
    los = _hours(end - recent["admission_time"])
    method, methods = _codes(recent["admission_method"])
    age, ages = _codes(recent["age_band"])
    ev = ended.to_numpy()
    curves: dict[tuple[str, ...], Survival] = {("los",): kaplan_meier(los, ev)}
    for i, m in enumerate(methods):
        sel = method == i
        curves[("los", m)] = kaplan_meier(los[sel], ev[sel])
        for j in np.unique(age[sel]).tolist():
            both = sel & (age == j)
            curves[("los", m, ages[j])] = kaplan_meier(los[both], ev[both])
    ctr = recent["criteria_to_reside_end_time"]
    has = (ctr.notna() & (ctr <= as_of)).to_numpy()
    if has.any():
        sub = recent[has]
        d_end = sub["discharge_time"].where(ended[has], as_of)
        delay = np.maximum(_hours(d_end - sub["criteria_to_reside_end_time"]), 0.0)
        dev = ended[has].to_numpy()
        path, paths = _codes(sub["discharge_pathway"])
        sage = age[has]
        curves[("delay",)] = kaplan_meier(delay, dev)
        for i, pv in enumerate(paths):
            curves[("delay", "pathway", pv)] = kaplan_meier(delay[path == i], dev[path == i])
        for j in np.unique(sage).tolist():
            curves[("delay", "age", ages[j])] = kaplan_meier(delay[sage == j], dev[sage == j])
    return _Strata(curves, {})


def _label(key: tuple[str, ...]) -> str:
    if key[0] == "los":
        names = ["length of stay", "admission method", "age band"]
        return (
            ", ".join([names[0]] + [f"{names[i]} {v}" for i, v in enumerate(key[1:], start=1)])
            if len(key) > 1
            else "length of stay, all spells"
        )
    if len(key) == 1:
        return "criteria to reside ended to discharge, all"
    return (
        f"criteria to reside ended to discharge, {'discharge pathway' if key[1] == 'pathway' else 'age band'} {key[2]}"
    )


def _current_probabilities(
    current: pd.DataFrame, strata: _Strata, as_of: pd.Timestamp, midnights: pd.DatetimeIndex
) -> Array:
    """P(in hospital at each midnight) for each current patient (rows) and midnight (columns).

    Each patient takes the finest stratum of their chain with enough ended stays in which their
    time so far is not longer than every ended stay; failing all, they are assumed to stay.
    """
    n = len(current)
    ahead = _hours(pd.Series(midnights - as_of))
    out = np.ones((n, len(midnights)))
    ctr = current["criteria_to_reside_end_time"]
    nctr = (ctr.notna() & (ctr <= as_of)).to_numpy()
    method = current["admission_method"].fillna("unknown").astype(str).to_numpy()
    age = current["age_band"].fillna("unknown").astype(str).to_numpy()
    # A pathway recorded with a discharge after the as-of instant came with that discharge (a
    # backtest): only a pathway planned while the patient is still in may be used.
    planned = current["discharge_pathway"].where(current["discharge_time"].isna())
    path = planned.astype("string").fillna("").to_numpy()
    since = {"delay": _hours(as_of - ctr.where(nctr, as_of)), "los": _hours(as_of - current["admission_time"])}
    # Patients sharing (criteria ended, pathway, method, age) share a chain of strata: group
    # them once instead of building a chain per patient (this runs for every calibration day).
    combined = np.zeros(n, dtype=np.int64)
    for col in (nctr, path, method, age):
        codes, labels = pd.factorize(col)
        combined = combined * (len(labels) + 1) + codes
    _, first, profile = np.unique(combined, return_index=True, return_inverse=True)
    chains: list[list[tuple[str, ...]]] = []
    for is_nctr, p, m, a in zip(nctr[first], path[first], method[first], age[first], strict=True):
        if is_nctr:
            # Without enough ended delays, the length of stay is the next best guide.
            chains.append(
                ([("delay", "pathway", str(p))] if p else [])
                + [("delay", "age", str(a)), ("delay",), ("los", str(m), str(a)), ("los", str(m)), ("los",)]
            )
        else:
            chains.append([("los", str(m), str(a)), ("los", str(m)), ("los",)])
    todo = np.ones(n, dtype=bool)
    for level in range(max((len(c) for c in chains), default=0)):
        groups: dict[tuple[str, ...], list[int]] = {}
        for c, chain in enumerate(chains):
            if level < len(chain):
                groups.setdefault(chain[level], []).append(c)
        for key, members in groups.items():
            idx = np.flatnonzero(todo & np.isin(profile, members))
            if idx.size == 0:
                continue
            picked = strata.pick([key])
            if picked is None:
                continue
            km = picked[1]
            elapsed = since[key[0]]
            s_now = km(elapsed[idx])
            # Longer than every ended stay in this stratum: left for a wider one.
            ok = s_now > 0
            if not ok.any():
                continue
            rows = idx[ok]
            out[rows] = km(elapsed[rows, None] + ahead[None, :]) / s_now[ok, None]
            todo[rows] = False
            strata.uses[key] = strata.uses.get(key, 0) + int(ok.sum())
    if todo.any():
        # Outlasted every comparable stay: assume the patient stays.
        strata.uses[("none",)] = strata.uses.get(("none",), 0) + int(todo.sum())
    return out


#: Past midnights used to calibrate the day-of-week discharge factors.
CALIBRATION_DAYS = 84


def _weekday_ratios(spells: pd.DataFrame, strata: _Strata, as_of: pd.Timestamp) -> dict[dt.date, float]:
    """Each of the :data:`CALIBRATION_DAYS` local days before ``as_of``: actual over expected
    discharges of the patients in hospital at its start.

    Hospitals discharge far fewer patients at weekends and more on Mondays; survival in elapsed
    time alone cannot know what day it is. For each past midnight, the patients then in hospital
    are projected one day ahead exactly as the projection does, and the discharges that followed
    are compared with the projection's (grouped by weekday in :func:`_by_weekday`; their spread
    is the day-to-day variation the simulation draws from). Only events before ``as_of`` are used.
    """
    last = _local_date(as_of) - dt.timedelta(days=1)
    ratios: dict[dt.date, float] = {}
    for j in range(CALIBRATION_DAYS):
        day = last - dt.timedelta(days=j)
        m0, m1 = _local_midnight(day), _local_midnight(day + dt.timedelta(days=1))
        if m1 > as_of:
            continue
        at = spells[
            (spells["admission_time"] <= m0) & (spells["discharge_time"].isna() | (spells["discharge_time"] > m0))
        ]
        if len(at) < MIN_STRATUM:
            continue
        saved = dict(strata.uses)
        # Discharge after m0 is not yet known at m0: hide it so the strata see the state then.
        p = _current_probabilities(at, strata, m0, pd.DatetimeIndex([m1]))[:, 0]
        strata.uses = saved
        expected = float((1.0 - p).sum())
        actual = float((at["discharge_time"].notna() & (at["discharge_time"] <= m1)).sum())
        if expected > 0:
            ratios[day] = actual / expected
    return ratios


def _by_weekday(ratios: dict[dt.date, float], before: pd.Timestamp | None = None) -> dict[int, Array]:
    """The ratios of the days that ended by ``before`` (all by default), by weekday (Monday 0)."""
    out: dict[int, list[float]] = {}
    for day, r in sorted(ratios.items()):
        if before is None or _local_midnight(day + dt.timedelta(days=1)) <= before:
            out.setdefault(day.weekday(), []).append(r)
    return {w: np.asarray(v, dtype=float) for w, v in out.items()}


def _hazards(p: Array) -> Array:
    """Discharge hazard between consecutive midnights from P(still in) at each (last axis)."""
    prev = np.concatenate([np.ones((*p.shape[:-1], 1)), p[..., :-1]], axis=-1)
    return np.asarray(1.0 - np.divide(p, prev, out=np.zeros_like(p), where=prev > 0), dtype=float)


def _adjust_weekdays(p: Array, factors: Array) -> Array:
    """Rescale the discharge hazard between consecutive midnights by each day's weekday factor.

    ``p`` holds P(still in) at consecutive midnights (last axis), starting from certainty; the
    hazard of interval k is 1 − p_k / p_(k−1), scaled by ``factors[k]`` and clipped to [0, 1].
    """
    hazard = np.clip(_hazards(p) * factors, 0.0, 1.0)
    return np.asarray(np.cumprod(1.0 - hazard, axis=-1), dtype=float)


def _admission_hours(spells: pd.DataFrame, as_of: pd.Timestamp) -> dict[str, Array]:
    """Share of each method's admissions in each local hour of the day, over the lookback year."""
    recent = spells[
        (spells["admission_time"] <= as_of) & (spells["admission_time"] > as_of - pd.Timedelta(days=LOOKBACK_DAYS))
    ]
    hours = (
        recent["local_hour"].to_numpy()
        if "local_hour" in recent
        else recent["admission_time"].dt.tz_convert(LONDON).dt.hour.to_numpy()
    )
    method, methods = _codes(recent["admission_method"])
    out: dict[str, Array] = {}
    for i, m in enumerate(methods):
        counts = np.bincount(hours[method == i], minlength=24).astype(float)
        out[m] = counts / counts.sum()
    return out


@functools.lru_cache(maxsize=512)
def _arrival_instants(day: dt.date) -> pd.DatetimeIndex:
    """The middle of each local clock hour of ``day``, as UTC instants."""
    walls = pd.date_range(pd.Timestamp(day), periods=24, freq="h") + pd.Timedelta(minutes=30)
    return walls.tz_localize(LONDON, ambiguous=np.ones(24, dtype=bool), nonexistent="shift_forward").tz_convert("UTC")


def _admission_survival(
    day: dt.date, weights: Array, km: Survival, as_of: pd.Timestamp, midnights: pd.DatetimeIndex
) -> tuple[float, Array]:
    """(share of the day's admissions after ``as_of``, P(in hospital at each midnight | admitted
    that day after ``as_of``))."""
    instants = _arrival_instants(day)
    after = np.asarray(instants > as_of)
    w = weights * after
    frac = float(w.sum())
    if frac <= 0:
        return 0.0, np.zeros(len(midnights))
    gap = (midnights.as_unit("ns").asi8[None, :] - instants.as_unit("ns").asi8[:, None]) / 3.6e12
    p = np.where(gap > 0, km(np.maximum(gap, 0.0)), 0.0)
    return frac, (w[:, None] * p).sum(axis=0) / frac


# --- the simulation -----------------------------------------------------------------------------


@dataclass
class _SiteRun:
    """One site's simulated paths: beds occupied (midnights × simulations), admissions by day."""

    occ: Array
    admitted: dict[dt.date, Array]
    from_current: Array
    from_adm: Array


@dataclass
class _Simulation:
    """What every site's simulation from one origin shares: the survival strata and admission
    hours fitted there, the admissions forecast, the random stream and where notes go."""

    strata: _Strata
    as_of: pd.Timestamp
    days: int
    admissions: pd.DataFrame
    hours: dict[str, Array]
    rng: np.random.Generator
    simulations: int
    notes: list[str]


def _simulate_site(site: str, current: pd.DataFrame, ratios: dict[int, Array], sim: _Simulation) -> _SiteRun:
    """Simulate one site's occupancy at the ``days`` midnights after ``as_of`` (uncalibrated)."""
    strata, as_of, days, admissions = sim.strata, sim.as_of, sim.days, sim.admissions
    hours, rng, simulations, notes = sim.hours, sim.rng, sim.simulations, sim.notes
    first_day = _local_date(as_of)
    midnight_days = [first_day + dt.timedelta(days=k) for k in range(1, days + 1)]
    midnights = pd.DatetimeIndex([_local_midnight(d) for d in midnight_days])
    # The weekday of the day that ends at each midnight.
    weekdays = [(d - dt.timedelta(days=1)).weekday() for d in midnight_days]
    mean_f = np.array([float(np.mean(ratios[w])) if w in ratios else 1.0 for w in range(7)])
    # Each simulation draws each day's factor from the days it was measured on.
    sim_f = np.column_stack(
        [rng.choice(ratios[w], simulations) if w in ratios else np.ones(simulations) for w in weekdays]
    )
    base = _current_probabilities(current, strata, as_of, midnights)
    hazard = _hazards(base)
    alive = np.ones((len(current), simulations), dtype=bool)
    occ = np.zeros((days, simulations))
    for k in range(days):
        alive &= rng.random(alive.shape) >= np.clip(hazard[:, k, None] * sim_f[None, :, k], 0.0, 1.0)
        occ[k] = alive.sum(axis=0)
    from_current = _adjust_weekdays(base, mean_f[weekdays]).sum(axis=0)
    from_adm = np.zeros(days)
    adm_days = [first_day + dt.timedelta(days=j) for j in range(days + 1)]
    # Admissions on each day, by simulation: the next-day view needs them.
    admitted = {d: np.zeros(simulations) for d in adm_days}
    site_fc = admissions[admissions["unique_id"].astype(str).str.startswith(f"admissions/{site}/")]
    # Survival from admission is unbiased on average: only the weekly shape applies to it.
    shape = mean_f.mean()
    # One level shock per path, shared by every day and admission method of the site.
    level = rng.standard_normal(simulations)
    rho = min(max(LEVEL_CORRELATION, 0.0), 1.0)
    for uid, fc in site_fc.groupby("unique_id", sort=True):
        method = str(uid).split("/")[2]
        picked = strata.pick([("los", method), ("los",)])
        if picked is None:
            notes.append(f"{uid}: too few ended stays to estimate survival; its admissions are left out.")
            continue
        strata.uses[picked[0]] = strata.uses.get(picked[0], 0)
        weights = hours.get(method, np.full(24, 1 / 24))
        quantiles = fc[list(QUANTILE_COLUMNS)].to_numpy(dtype=float)
        means = fc["mean"].to_numpy(dtype=float)
        by_day = {pd.Timestamp(ds).date(): i for i, ds in enumerate(fc["ds"])}
        for d in adm_days:
            i = by_day.get(d)
            if i is None:
                continue
            frac, p = _admission_survival(d, weights, picked[1], as_of, midnights)
            if frac <= 0:
                continue
            # The midnights after the admission day (survival may already be 0 at some).
            after = np.flatnonzero([m > d for m in midnight_days])
            h = _hazards(p[after])
            z = np.sqrt(rho) * level + np.sqrt(1.0 - rho) * rng.standard_normal(simulations)
            total = _quantile_draws(quantiles[i], stats.norm.cdf(z))
            n = rng.binomial(total.astype(np.int64), frac).astype(float)
            admitted[d] += n
            from_adm[after] += frac * float(means[i]) * _adjust_weekdays(p[after], mean_f[weekdays][after] / shape)
            for j, mid in enumerate(after.tolist()):
                keep = 1.0 - np.clip(h[j] * sim_f[:, mid] / shape, 0.0, 1.0)
                n = rng.binomial(n.astype(np.int64), keep).astype(float)
                occ[mid] += n
    return _SiteRun(occ, admitted, from_current, from_adm)


def _scale_spread(x: Array, factor: float) -> Array:
    """Simulated values with their spread around the mean scaled by ``factor`` (never below 0)."""
    m = float(np.mean(x))
    return np.asarray(np.maximum(m + factor * (x - m), 0.0), dtype=float)


# --- the calibration ----------------------------------------------------------------------------


def conformal_factors(scores80: Array, scores95: Array) -> Array:
    """Spread factors per horizon day from replay scores (rows: replays, columns: horizon days;
    ``NaN`` where a midnight could not be scored).

    A score is the error over the half-width of the uncalibrated interval on the side of the
    error: the band covered the census when the score is at most 1, and scaling the spread by the
    score would have just covered it. Per level the factor is the split-conformal quantile of the
    scores (the ⌈(n + 1)·level⌉-th smallest of n), pooled with the neighbouring horizon days
    because a few weeks of replays give few scores per day; the factor applied is the geometric
    mean of the 80% and 95% factors, bounded by :data:`SPREAD_BOUNDS`. A horizon day with no
    scores takes the previous day's factor (1 when there is none).

    >>> too_narrow = np.full((20, 2), 2.0)
    >>> conformal_factors(too_narrow, too_narrow).tolist()
    [2.0, 2.0]
    >>> conformal_factors(np.full((20, 1), 0.1), np.full((20, 1), 0.1)).tolist()  # bounded
    [0.5]
    """
    s80 = np.asarray(scores80, dtype=float)
    s95 = np.asarray(scores95, dtype=float)
    days = s80.shape[1]
    out = np.ones(days)
    for k in range(days):
        cols = slice(max(k - 1, 0), min(k + 2, days))
        per_level = []
        for scores, level in ((s80[:, cols], 0.80), (s95[:, cols], 0.95)):
            x = np.sort(scores[np.isfinite(scores)])
            if x.size == 0:
                break
            rank = min(int(np.ceil((x.size + 1) * level)), x.size)
            per_level.append(max(float(x[rank - 1]), 1e-9))
        if len(per_level) < 2:
            out[k] = out[k - 1] if k else 1.0
            continue
        out[k] = float(np.sqrt(per_level[0] * per_level[1]))
    return np.asarray(np.clip(out, *SPREAD_BOUNDS), dtype=float)


def _score(actual: float, x: Array) -> tuple[float, float, bool, bool]:
    """Scores of ``actual`` against simulated values ``x`` at 80% and 95%, and whether each band
    covered it."""
    b = _band(x)
    out: list[float] = []
    covered: list[bool] = []
    for lo, hi in ((b.lo80, b.hi80), (b.lo95, b.hi95)):
        # Half a bed at least: a band of zero width cannot be scaled.
        width = max((hi - b.mean) if actual >= b.mean else (b.mean - lo), 0.5)
        out.append(abs(actual - b.mean) / width)
        covered.append(lo <= actual <= hi)
    return out[0], out[1], covered[0], covered[1]


def _census(spells: pd.DataFrame) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Sorted admission and discharge instants (ns): the census at a midnight m is the number of
    admissions by m less the discharges by m."""
    adm = np.sort(pd.DatetimeIndex(spells["admission_time"].dropna()).as_unit("ns").asi8)
    dis = np.sort(pd.DatetimeIndex(spells["discharge_time"].dropna()).as_unit("ns").asi8)
    return adm, dis


def _known_at(spells: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """The spells as they stood at ``as_of``: later admissions dropped, and later discharges,
    criteria-to-reside ends and the pathways recorded with those discharges not yet known."""
    out = spells[spells["admission_time"] <= as_of].copy()
    later = out["discharge_time"].notna() & (out["discharge_time"] > as_of)
    out["discharge_time"] = out["discharge_time"].where(~later)
    out["discharge_pathway"] = out["discharge_pathway"].where(~later)
    ctr = out["criteria_to_reside_end_time"]
    out["criteria_to_reside_end_time"] = ctr.where(~(ctr.notna() & (ctr > as_of)))
    # Converted once here: the calibration needs the admission hours at every origin.
    out["local_hour"] = out["admission_time"].dt.tz_convert(LONDON).dt.hour.to_numpy()
    return out


def _origin(as_of: pd.Timestamp, weeks: int) -> pd.Timestamp:
    """The same local clock time ``weeks`` weeks before ``as_of``, in UTC."""
    wall = as_of.tz_convert(LONDON).tz_localize(None) - pd.Timedelta(weeks=weeks)
    return wall.tz_localize(LONDON, ambiguous=True, nonexistent="shift_forward").tz_convert("UTC")


def _calibrate(
    store: Store,
    known: pd.DataFrame,
    as_of: pd.Timestamp,
    days: int,
    sites: list[str],
    day_ratios: dict[str, dict[dt.date, float]],
    seed: int,
) -> SpreadCalibration:
    """Replay the projection at weekly origins before ``as_of`` and score it on the census
    midnights still before ``as_of``.

    Everything a replay uses is as it stood at its origin: survival strata and admission hours
    are refitted there, admissions are forecast by :data:`REPLAY_MODEL` on the days before it,
    and the weekday factors are those of the days that had ended by then. (The weekday ratios
    themselves are measured with the as-of instant's survival curves, which saves refitting
    them per origin; a year of stays changes little in a few weeks.)
    """
    from uec.forecast.series import available_series

    ids = [s.series_id for s in available_series(store) if s.kind == "admissions" and s.site_code in sites]
    last_day = _local_date(as_of) - dt.timedelta(days=1)
    history = series_frame(store, ids, end=last_day) if ids else pd.DataFrame(columns=["unique_id", "ds", "y"])
    rng = np.random.default_rng(seed + 1)
    is_site = {site: (known["site_code"] == site).to_numpy() for site in sites}
    census = {site: _census(known[is_site[site]]) for site in sites}
    r80: list[Array] = []
    r95: list[Array] = []
    hits80: list[bool] = []
    hits95: list[bool] = []
    origins: list[str] = []
    for weeks in range(1, CALIBRATION_ORIGINS + 1):
        origin = _origin(as_of, weeks)
        first = _local_date(origin)
        earliest = known["admission_time"].min()
        if pd.isna(earliest) or earliest > origin - pd.Timedelta(days=28):
            break
        past = history[history["ds"] < pd.Timestamp(first)]
        adm = _fit_admissions(past, ids, first, days, REPLAY_MODEL) if len(past) else history.iloc[0:0]
        strata = _fit_strata(known, origin)
        hours = _admission_hours(known, origin)
        in_bed = (known["admission_time"] <= origin) & (
            known["discharge_time"].isna() | (known["discharge_time"] > origin)
        )
        midnights = [_local_midnight(first + dt.timedelta(days=k)) for k in range(1, days + 1)]
        used = False
        sim = _Simulation(strata, origin, days, adm, hours, rng, REPLAY_SIMULATIONS, [])
        for site in sites:
            current = known[in_bed & is_site[site]]
            if current.empty:
                continue
            run = _simulate_site(site, current, _by_weekday(day_ratios.get(site, {}), before=origin), sim)
            row80 = np.full(days, np.nan)
            row95 = np.full(days, np.nan)
            for k, m in enumerate(midnights):
                if m > as_of:
                    break
                m_ns = m.as_unit("ns").value
                adm_ns, dis_ns = census[site]
                actual = float(
                    np.searchsorted(adm_ns, m_ns, side="right") - np.searchsorted(dis_ns, m_ns, side="right")
                )
                a80, a95, c80, c95 = _score(actual, run.occ[k])
                row80[k], row95[k] = a80, a95
                hits80.append(c80)
                hits95.append(c95)
            r80.append(row80)
            r95.append(row95)
            used = True
        if used:
            origins.append(origin.isoformat())
    factors = conformal_factors(np.vstack(r80), np.vstack(r95)) if r80 else np.ones(days)
    return SpreadCalibration(
        origins=origins,
        model=REPLAY_MODEL,
        comparisons=len(hits80),
        factors=[round(float(f), 4) for f in factors],
        bounds=SPREAD_BOUNDS,
        coverage80=float(np.mean(hits80)) if hits80 else None,
        coverage95=float(np.mean(hits95)) if hits95 else None,
    )


# --- the projection -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Horizon:
    """The local days a projection covers: the as-of instant's day and the ``days`` midnights after it."""

    first_day: dt.date
    midnight_days: list[dt.date]
    midnights: pd.DatetimeIndex
    start_is_midnight: bool

    @classmethod
    def after(cls, as_of: pd.Timestamp, days: int) -> _Horizon:
        first_day = _local_date(as_of)
        midnight_days = [first_day + dt.timedelta(days=k) for k in range(1, days + 1)]
        return cls(first_day, midnight_days, pd.DatetimeIndex([_local_midnight(d) for d in midnight_days]),
                   _local_midnight(first_day) == as_of)


def _as_of_instant(store: Store, as_of: pd.Timestamp | dt.datetime | str | None) -> pd.Timestamp:
    """The as-of instant in UTC: ``as_of`` (a naive one is local time), else :func:`default_as_of`."""
    if as_of is None:
        t = default_as_of(store)
        if t is None:
            raise UecError("the store has no inpatient spells to project occupancy from")
    else:
        try:
            t = pd.Timestamp(as_of)
        except ValueError:
            raise UecError(f"cannot read as-of {as_of!r} as a date or time") from None
        t = t.tz_localize(LONDON) if t.tzinfo is None else t
    return t.tz_convert("UTC")


def _midnight_projections(run: _SiteRun, occ: Array, factors: Array, open_beds: tuple[int, str] | None,
                          horizon: _Horizon) -> list[MidnightProjection]:
    """Each midnight's projection of one site (``occ``: the calibrated paths, ``run.occ`` the raw ones)."""
    beds = None if open_beds is None else open_beds[0]
    return [
        MidnightProjection(
            date=horizon.midnight_days[k].isoformat(),
            midnight=horizon.midnights[k].isoformat(),
            occupied=_band(occ[k]),
            occupied_uncalibrated=_band(run.occ[k]),
            spread_factor=float(factors[k]),
            from_current=float(run.from_current[k]),
            from_admissions=float(run.from_adm[k]),
            beds_open=beds,
            free_beds=None if beds is None else _band(beds - occ[k]),
            p_full=None if beds is None else float(np.mean(occ[k] >= beds)),
        )
        for k in range(len(horizon.midnight_days))
    ]


def _next_day(run: _SiteRun, occ: Array, current_inpatients: int, open_beds: tuple[int, str] | None,
              horizon: _Horizon) -> NextDay | None:
    """The flow through the first whole local day the projection covers (``None`` if it covers none)."""
    if horizon.start_is_midnight:
        day = horizon.first_day
        start_occ, end_occ = np.full(occ.shape[1], float(current_inpatients)), occ[0]
    elif len(horizon.midnight_days) >= 2:
        day, start_occ, end_occ = horizon.midnight_days[0], occ[0], occ[1]
    else:
        return None
    adm = run.admitted[day]
    beds = None if open_beds is None else open_beds[0]
    return NextDay(
        date=day.isoformat(),
        admissions=_band(adm),
        discharges=_band(start_occ + adm - end_occ),
        occupied_start=_band(start_occ),
        occupied_end=_band(end_occ),
        beds_open=beds,
        free_beds=None if beds is None else _band(beds - end_occ),
    )


def _strata_used(uses: dict[tuple[str, ...], int], strata: _Strata) -> list[StratumUse]:
    """How many of a site's patients each survival stratum served."""
    used = []
    for key, n_used in sorted(uses.items()):
        km = strata.curves.get(key)
        used.append(
            StratumUse(
                stratum="none: assumed to stay" if key == ("none",) else _label(key),
                ended_stays=0 if km is None else km.events,
                stays=0 if km is None else km.n,
                patients=n_used,
            )
        )
    return used


def project_occupancy(  # noqa: PLR0913 - keyword-only options, each named at the call
    store: Store,
    *,
    as_of: pd.Timestamp | dt.datetime | str | None = None,
    days: int = 7,
    sites: Sequence[str] | None = None,
    admissions: pd.DataFrame | None = None,
    model: str = DEFAULT_MODEL,
    simulations: int = DEFAULT_SIMULATIONS,
    seed: int = 20261123,
    calibrate: bool = True,
) -> OccupancyProjection:
    """Project beds occupied at each of the next ``days`` local midnights after ``as_of`` (by
    default the midnight after the last day with spell events), per site.

    ``admissions`` is a forecast frame (``unique_id`` ``admissions/SITE/METHOD``, ``ds``, ``mean``,
    quantile columns); by default it is fitted with ``model`` on the store's history. A series it
    lacks counts as no admissions. With ``calibrate`` (the default) the intervals' spread is
    scaled by factors measured on replays at earlier origins (see :class:`SpreadCalibration`).
    ``UecError`` when the store has no spells or for bad arguments.

    >>> import tempfile, os
    >>> from uec.store import open_store
    >>> with tempfile.TemporaryDirectory() as d:
    ...     project_occupancy(open_store(os.path.join(d, "s.duckdb")))
    Traceback (most recent call last):
    ...
    uec.errors.UecError: the store has no inpatient spells to project occupancy from
    """
    if not 1 <= days <= 28:
        raise UecError("--days must be between 1 and 28")
    if simulations < 100:
        raise UecError("simulations must be at least 100")
    as_of_t = _as_of_instant(store, as_of)
    spells = spells_frame(store, sites)
    if spells.empty:
        raise UecError(
            "the store has no inpatient spells to project occupancy from"
            if sites is None
            else f"no inpatient spells at site(s) {', '.join(sites)}"
        )
    # Nothing recorded after the as-of instant may reach the projection (a backtest has it).
    spells = _known_at(spells, as_of_t)
    horizon = _Horizon.after(as_of_t, days)
    notes: list[str] = []
    if admissions is None:
        admissions = admissions_forecast(store, as_of_t, days, model, sites)
        if admissions.empty:
            notes.append("No admissions could be forecast: the projection counts current inpatients only.")
    strata = _fit_strata(spells, as_of_t)
    hours = _admission_hours(spells, as_of_t)
    beds = _beds_open(store, as_of_t)
    sim = _Simulation(strata, as_of_t, days, admissions, hours, np.random.default_rng(seed), simulations, notes)
    in_bed = (spells["admission_time"] <= as_of_t) & (
        spells["discharge_time"].isna() | (spells["discharge_time"] > as_of_t)
    )
    site_codes = sorted(spells["site_code"].astype(str).unique())
    runs: dict[str, _SiteRun] = {}
    day_ratios: dict[str, dict[dt.date, float]] = {}
    uses: dict[str, dict[tuple[str, ...], int]] = {}
    for site in site_codes:
        strata.uses = {}
        day_ratios[site] = _weekday_ratios(spells[spells["site_code"] == site], strata, as_of_t)
        strata.uses = {}
        current = spells[in_bed & (spells["site_code"] == site)]
        runs[site] = _simulate_site(site, current, _by_weekday(day_ratios[site]), sim)
        uses[site] = dict(strata.uses)
    calibration = _calibrate(store, spells, as_of_t, days, site_codes, day_ratios, seed) if calibrate else None
    factors = np.ones(days) if calibration is None else np.asarray(calibration.factors, dtype=float)
    if calibration is not None and calibration.comparisons == 0:
        notes.append(
            "Too little history before the as-of instant to calibrate the intervals: they are the simulation's own."
        )
    out: list[SiteProjection] = []
    for site in site_codes:
        run = runs[site]
        current = spells[in_bed & (spells["site_code"] == site)]
        ctr = current["criteria_to_reside_end_time"]
        n_nctr = int(ctr.notna().sum())
        occ = np.vstack([_scale_spread(run.occ[k], float(factors[k])) for k in range(days)])
        open_beds = beds.get(site)
        out.append(
            SiteProjection(
                site_code=site,
                current_inpatients=len(current),
                current_nctr=n_nctr,
                beds_open=None if open_beds is None else open_beds[0],
                beds_open_source="none" if open_beds is None else open_beds[1],
                midnights=_midnight_projections(run, occ, factors, open_beds, horizon),
                next_day=_next_day(run, occ, len(current), open_beds, horizon),
                strata=_strata_used(uses[site], strata),
            )
        )
    return OccupancyProjection(
        as_of=as_of_t.isoformat(),
        days=days,
        model=model,
        simulations=simulations,
        sites=out,
        notes=notes,
        calibration=calibration,
    )
