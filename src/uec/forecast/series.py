"""Every demand and flow series the store can produce, in the long series contract.

A series id names what is counted and where, parts joined by ``/``:

================================  ======  =============================================================
id                                freq    what
================================  ======  =============================================================
``arrivals/{site}/{service}``     hourly  attendances arriving in each UTC hour at an ED, UTC or SDEC
``ambulance/{category}``          daily   ambulance incidents (999 calls) by response category C1–C5
``admissions/{site}/{method}``    daily   spells admitted, by admission method (emergency, elective…)
``occupancy/{site}``              daily   inpatients in a bed at local midnight (from spells)
``beds/{site}``                   daily   G&A beds occupied (core + escalation) at the day's bed census
``nctr/{site}``                   daily   inpatients at local midnight who no longer meet the criteria
                                          to reside
``discharges/{site}/p{pathway}``  daily   spells discharged, by discharge-to-assess pathway 0–3
``returns/{period}/{source}/``    daily,  one metric of a published return for one organisation:
``{org}/{metric}``                monthly ``period`` is ``day`` (daily series) or ``month`` (monthly
                                          series, ``ds`` the first of the month); ``source`` the
                                          collection (``ae_monthly``, ``uec_sitrep`` …)
================================  ======  =============================================================

Days are Europe/London days. A daily ``ds`` of day *d* counts events in that local day; for the
midnight censuses (``occupancy``, ``nctr``) it is the census at 00:00 local at the *start* of *d*,
so the census at the end of the last day in the store carries the next day's date.

Event counts are zero-filled: a day or hour with no events in an event table that covers it is a
genuine zero. The bed census (``beds``) is not: a missing census is missing data, left as a gap.

Returns are never zero-filled, counts included: a return's row is a submission, so a period with
no row means nothing was submitted (or the value was left empty), not that nothing happened. A
snapshot (beds occupied, patients not meeting the criteria to reside) and a count (attendances,
handover delays) alike keep the gap. Models need an unbroken series, so a series with gaps is
fitted on its latest unbroken stretch (:func:`latest_stretch`); the run records that stretch as
the series' history (its first day and number of points).

>>> parse_series_id("arrivals/DEMO-A01/ed_type1")
SeriesKey(kind='arrivals', site='DEMO-A01', detail='ed_type1')
>>> series_freq("ambulance/C2"), series_freq("arrivals/DEMO-A01/utc")
('daily', 'hourly')
>>> series_freq("returns/month/ae_monthly/RRK/ae_attendances_all")
'monthly'

"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from uec.contract import LOCAL_TIME_ZONE, collection
from uec.errors import UecError
from uec.forecast import queries
from uec.forecast.frame import Freq, find_gaps
from uec.store import Store

__all__ = [
    "KINDS",
    "RETURNS_PERIODS",
    "SeriesInfo",
    "SeriesKey",
    "available_series",
    "census",
    "latest_stretch",
    "parse_series_id",
    "series_frame",
    "series_freq",
    "spells_frame",
]

LONDON = ZoneInfo(LOCAL_TIME_ZONE)

#: Each kind of series: its frequency and a phrase for titles.
KINDS: dict[str, tuple[Freq, str]] = {
    "arrivals": ("hourly", "Arrivals per hour"),
    "ambulance": ("daily", "Ambulance incidents per day"),
    "admissions": ("daily", "Admissions per day"),
    "occupancy": ("daily", "Inpatients in a bed at midnight"),
    "beds": ("daily", "G&A beds occupied at the bed census"),
    "nctr": ("daily", "Inpatients with no criteria to reside at midnight"),
    "discharges": ("daily", "Discharges per day"),
    # A return's frequency is its period's (RETURNS_PERIODS); monthly is the common case.
    "returns": ("monthly", "Published return"),
}
_PARTS = {"arrivals": 3, "ambulance": 2, "admissions": 3, "occupancy": 2, "beds": 2, "nctr": 2, "discharges": 3,
          "returns": 5}
#: The period lengths of returns that make forecastable series, and the frequency of each (weekly,
#: quarterly and yearly returns are too few points a year to forecast).
RETURNS_PERIODS: dict[str, Freq] = {"day": "daily", "month": "monthly"}
_ARRIVAL_SERVICES = queries.ARRIVAL_SERVICES


@dataclass(frozen=True)
class SeriesKey:
    """A parsed series id: its kind, site (``None`` for ICS-wide series) and detail."""

    kind: str
    site: str | None
    detail: str | None


@dataclass(frozen=True)
class SeriesInfo:
    """A series the store can produce."""

    series_id: str
    kind: str
    freq: Freq
    site_code: str | None
    title: str


def parse_series_id(series_id: str) -> SeriesKey:
    """Split a series id into its parts; ``UecError`` naming the valid forms otherwise.

    >>> parse_series_id("discharges/DEMO-A01/p2")
    SeriesKey(kind='discharges', site='DEMO-A01', detail='2')
    >>> parse_series_id("ambulance/C9")
    Traceback (most recent call last):
    ...
    uec.errors.UecError: unknown series 'ambulance/C9': ambulance series are ambulance/C1 to ambulance/C5
    """
    parts = series_id.split("/")
    kind = parts[0]
    if kind not in _PARTS or len(parts) != _PARTS[kind] or not all(parts):
        raise UecError(
            f"unknown series {series_id!r}: ids look like arrivals/SITE/SERVICE, ambulance/CATEGORY, "
            "admissions/SITE/METHOD, occupancy/SITE, beds/SITE, nctr/SITE, discharges/SITE/pN or "
            "returns/PERIOD/SOURCE/ORG/METRIC"
        )
    if kind == "returns":
        if parts[1] not in RETURNS_PERIODS:
            raise UecError(f"unknown series {series_id!r}: a returns series' period is "
                           f"{' or '.join(RETURNS_PERIODS)} (weekly, quarterly and yearly returns are not forecast)")
        return SeriesKey(kind, parts[3], f"{parts[1]}/{parts[2]}/{parts[4]}")
    if kind == "ambulance":
        if parts[1] not in ("C1", "C2", "C3", "C4", "C5"):
            raise UecError(f"unknown series {series_id!r}: ambulance series are ambulance/C1 to ambulance/C5")
        return SeriesKey(kind, None, parts[1])
    if kind == "arrivals" and parts[2] not in _ARRIVAL_SERVICES:
        raise UecError(f"unknown series {series_id!r}: the service is one of {', '.join(_ARRIVAL_SERVICES)}")
    if kind == "discharges":
        if parts[2] not in ("p0", "p1", "p2", "p3"):
            raise UecError(f"unknown series {series_id!r}: the pathway is p0, p1, p2 or p3")
        return SeriesKey(kind, parts[1], parts[2][1:])
    return SeriesKey(kind, parts[1], parts[2] if len(parts) == 3 else None)


def series_freq(series_id: str) -> Freq:
    """The frequency of a series id.

    >>> series_freq("occupancy/DEMO-A01")
    'daily'
    """
    key = parse_series_id(series_id)
    if key.kind == "returns":
        return RETURNS_PERIODS[str(key.detail).split("/")[0]]
    return KINDS[key.kind][0]


def _returns_title(key: SeriesKey) -> str:
    """The metric's meaning from the contract's collections (its code when the contract has none)."""
    period, source, metric = str(key.detail).split("/")
    try:
        c = collection(source)
        meaning = next((m.meaning for m in c.metrics if m.code == metric), metric)
        where = c.title
    except KeyError:
        meaning, where = metric, source
    return f"{meaning} at {key.site}, {RETURNS_PERIODS[period]} ({where})"


def _title(key: SeriesKey) -> str:
    if key.kind == "returns":
        return _returns_title(key)
    base = KINDS[key.kind][1]
    where = f" at {key.site}" if key.site else ""
    if key.kind == "arrivals":
        return f"{base}{where}, {str(key.detail).replace('_', ' ')}"
    if key.kind == "ambulance":
        return f"{base}, category {key.detail}"
    if key.kind == "admissions":
        return f"{str(key.detail).capitalize()} admissions per day{where}"
    if key.kind == "discharges":
        return f"{base}{where}, pathway {key.detail}"
    return f"{base}{where}"


def _info(series_id: str) -> SeriesInfo:
    key = parse_series_id(series_id)
    return SeriesInfo(series_id, key.kind, series_freq(series_id), key.site, _title(key))


def available_series(store: Store) -> list[SeriesInfo]:
    """Every series the store holds data for, sorted by id.

    >>> import tempfile, os
    >>> from uec.store import open_store
    >>> with tempfile.TemporaryDirectory() as d:
    ...     available_series(open_store(os.path.join(d, "s.duckdb")))
    []
    """
    ids: list[str] = []
    for r in queries.arrival_sites(store):
        ids.append(f"arrivals/{r['site_code']}/{r['service_type']}")
    for r in queries.ambulance_categories(store):
        ids.append(f"ambulance/{r['category']}")
    sites_with_spells: set[str] = set()
    for r in queries.spell_sites(store):
        sites_with_spells.add(str(r["site_code"]))
        if r["admission_method"] is not None:
            ids.append(f"admissions/{r['site_code']}/{r['admission_method']}")
    ids += [f"occupancy/{s}" for s in sites_with_spells]
    for r in queries.nctr_sites(store):
        ids.append(f"nctr/{r['site_code']}")
    for r in queries.discharge_sites(store):
        ids.append(f"discharges/{r['site_code']}/p{int(r['discharge_pathway'])}")
    for r in queries.bed_census_sites(store):
        ids.append(f"beds/{r['site_code']}")
    for r in queries.returns_series_keys(store, list(RETURNS_PERIODS)):
        ids.append(f"returns/{r['period_length']}/{r['source']}/{r['org_code']}/{r['metric_code']}")
    return [_info(i) for i in sorted(set(ids))]


# --- building frames ----------------------------------------------------------------------------


def _local_midnight(day: dt.date) -> pd.Timestamp:
    return pd.Timestamp(dt.datetime(day.year, day.month, day.day, tzinfo=LONDON)).tz_convert("UTC")


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _span(store: Store, table: str, column: str) -> tuple[dt.date, dt.date] | None:
    """First and last local day with an event in ``table``."""
    row = queries.event_day_span(store, table, column)
    if row is None:
        return None
    return _as_date(row["lo"]), _as_date(row["hi"])


def _daily_counts(store: Store, kind: str, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Events of ``kind`` per (key, local day) between ``start`` and ``end`` inclusive (absent where zero)."""
    rows = queries.daily_event_counts(
        store,
        kind,
        _local_midnight(start).to_pydatetime(),
        _local_midnight(end + dt.timedelta(days=1)).to_pydatetime(),
    )
    return pd.DataFrame(
        {"k": [str(r["k"]) for r in rows], "d": [_as_date(r["d"]) for r in rows], "n": [float(r["n"]) for r in rows]}
    )


def _filled_daily(ids: dict[str, str], counts: pd.DataFrame, start: dt.date, end: dt.date) -> list[pd.DataFrame]:
    """One zero-filled daily frame per series; ``ids`` maps the SQL key to the series id."""
    days = pd.date_range(pd.Timestamp(start), pd.Timestamp(end), freq="D")
    out = []
    for k, sid in ids.items():
        got = counts[counts["k"] == k]
        y = pd.Series(got["n"].to_numpy(), index=pd.DatetimeIndex(pd.to_datetime(got["d"]))).reindex(
            days, fill_value=0.0
        )
        out.append(pd.DataFrame({"unique_id": sid, "ds": days, "y": y.to_numpy(dtype=float)}))
    return out


def spells_frame(store: Store, sites: Iterable[str] | None = None) -> pd.DataFrame:
    """Spells as a frame with UTC ``Timestamp`` columns (``NaT`` where not yet known).

    Columns: ``spell_id, site_code, admission_time, admission_method, criteria_to_reside_end_time,
    discharge_time, discharge_pathway, age_band``.

    >>> import tempfile, os
    >>> from uec.store import open_store
    >>> with tempfile.TemporaryDirectory() as d:
    ...     list(spells_frame(open_store(os.path.join(d, "s.duckdb"))).columns)[:3]
    ['spell_id', 'site_code', 'admission_time']
    """
    cols = [
        "spell_id",
        "site_code",
        "admission_time",
        "admission_method",
        "criteria_to_reside_end_time",
        "discharge_time",
        "discharge_pathway",
        "age_band",
    ]
    chosen = sorted(set(sites)) if sites is not None else None
    table = queries.spells_arrow(store, cols, chosen)
    df = pd.DataFrame({c: pd.Series(dtype=object) for c in cols}) if table.num_rows == 0 else table.to_pandas()
    for c in ("admission_time", "criteria_to_reside_end_time", "discharge_time"):
        df[c] = pd.to_datetime(df[c], utc=True).astype("datetime64[ns, UTC]")
    for c in ("spell_id", "site_code", "admission_method", "age_band"):
        df[c] = df[c].astype(object)
    df["discharge_pathway"] = pd.to_numeric(df["discharge_pathway"]).astype("Int64")
    return df[cols]


def census(starts: pd.Series, ends: pd.Series, instants: pd.DatetimeIndex) -> np.ndarray:
    """How many intervals ``[start, end)`` contain each instant (``end`` NaT: still open).

    An interval whose end is not after its start is empty.

    >>> s = pd.Series(pd.to_datetime(["2024-01-01 10:00", "2024-01-01 20:00"], utc=True))
    >>> e = pd.Series(pd.to_datetime(["2024-01-02 00:00", None], utc=True))
    >>> census(s, e, pd.DatetimeIndex(pd.to_datetime(["2024-01-01 12:00", "2024-01-02 00:00"], utc=True))).tolist()
    [1, 1]
    """
    keep = starts.notna().to_numpy()
    st = starts[keep].to_numpy(dtype="datetime64[ns]")
    en = ends[keep].to_numpy(dtype="datetime64[ns]")
    # An interval that ends before it starts is empty: moving its end to its start removes it
    # from both counts.
    en = np.where(~np.isnat(en) & (en < st), st, en)
    at = instants.tz_convert("UTC").tz_localize(None).to_numpy(dtype="datetime64[ns]")
    started = np.searchsorted(np.sort(st), at, side="right")
    ended = np.searchsorted(np.sort(en[~np.isnat(en)]), at, side="right")
    return np.asarray(started - ended, dtype=np.int64)


def _census_start(spells: pd.DataFrame) -> dt.date | None:
    """The first day whose midnight census is complete.

    A store's spells usually start with a partial day (an extract cut mid-day) or with only the
    long stays already in hospital when the extract began. The census starts at the midnight
    after the first day whose admissions reach 90% of the median daily admissions.
    """
    if spells.empty:
        return None
    days = spells["admission_time"].dt.tz_convert(LONDON).dt.date
    per_day = days.value_counts().sort_index()
    full = pd.Series(0, index=pd.date_range(per_day.index.min(), per_day.index.max(), freq="D").date)
    full.update(per_day)
    ok = full[full >= 0.9 * float(np.median(full.to_numpy()))]
    first = ok.index[0] if len(ok) else full.index[0]
    return _as_date(first) + dt.timedelta(days=1)


def _census_series(
    store: Store, kind: str, sites: list[str], start: dt.date | None, end: dt.date | None
) -> list[pd.DataFrame]:
    spells = spells_frame(store, sites)
    if spells.empty:
        return []
    events = pd.concat([spells["admission_time"], spells["discharge_time"].dropna()])
    last_day = _as_date(events.max().tz_convert(LONDON).date())
    lo = start or _census_start(spells) or last_day
    hi = end or last_day + dt.timedelta(days=1)
    days = pd.date_range(pd.Timestamp(lo), pd.Timestamp(hi), freq="D")
    midnights = pd.DatetimeIndex([_local_midnight(d.date()) for d in days])
    out = []
    for site in sites:
        s = spells[spells["site_code"] == site]
        if kind == "occupancy":
            y = census(s["admission_time"], s["discharge_time"], midnights)
        else:
            y = census(s["criteria_to_reside_end_time"], s["discharge_time"], midnights)
        out.append(pd.DataFrame({"unique_id": f"{kind}/{site}", "ds": days, "y": y.astype(float)}))
    return out


def _beds_series(store: Store, sites: list[str], start: dt.date | None, end: dt.date | None) -> list[pd.DataFrame]:
    """Beds occupied (core + escalation G&A) at the last census of each local day that has one."""
    rows = queries.beds_occupied_at_census(store)
    df = pd.DataFrame(rows, columns=["site_code", "d", "t", "occ"])
    out = []
    for site in sites:
        s = df[df["site_code"] == site].sort_values("t").drop_duplicates("d", keep="last")
        ds = pd.to_datetime(s["d"].map(_as_date))
        keep = np.ones(len(s), dtype=bool)
        if start is not None:
            keep &= (ds >= pd.Timestamp(start)).to_numpy()
        if end is not None:
            keep &= (ds <= pd.Timestamp(end)).to_numpy()
        out.append(
            pd.DataFrame(
                {"unique_id": f"beds/{site}", "ds": ds[keep].to_numpy(), "y": s["occ"][keep].to_numpy(dtype=float)}
            )
        )
    return out


def _hourly_arrivals(
    store: Store, ids: dict[str, str], start: dt.date | None, end: dt.date | None
) -> list[pd.DataFrame]:
    span = _span(store, "attendances", "arrival_time")
    if span is None:
        return [pd.DataFrame({"unique_id": sid, "ds": pd.DatetimeIndex([], tz="UTC"), "y": []}) for sid in ids.values()]
    lo, hi = start or span[0], end or span[1]
    t0, t1 = _local_midnight(lo), _local_midnight(hi + dt.timedelta(days=1))
    rows = queries.hourly_arrival_counts(store, t0.to_pydatetime(), t1.to_pydatetime())
    hours = pd.date_range(t0, t1 - pd.Timedelta(hours=1), freq="h")
    df = pd.DataFrame(rows, columns=["k", "h", "n"])
    df["h"] = pd.to_datetime(df["h"], utc=True)
    out = []
    for k, sid in ids.items():
        got = df[df["k"] == k]
        y = pd.Series(got["n"].to_numpy(dtype=float), index=pd.DatetimeIndex(got["h"])).reindex(hours, fill_value=0.0)
        out.append(pd.DataFrame({"unique_id": sid, "ds": hours, "y": y.to_numpy(dtype=float)}))
    return out


def _event_series(
    store: Store, kind: str, ids: dict[str, str], start: dt.date | None, end: dt.date | None
) -> list[pd.DataFrame]:
    counted = queries.EVENT_COUNTS[kind]
    span = _span(store, counted.table, counted.column)
    if span is None:
        return [pd.DataFrame({"unique_id": sid, "ds": pd.DatetimeIndex([]), "y": []}) for sid in ids.values()]
    if kind == "admissions":
        # Spells admitted before the extract began (the long stays already in hospital) would
        # start the series with a false trough; start where the census does.
        first = _census_start(spells_frame(store))
        span = ((first - dt.timedelta(days=1)) if first else span[0], span[1])
    lo, hi = start or span[0], end or span[1]
    counts = _daily_counts(store, kind, lo, hi)
    return _filled_daily(ids, counts, lo, hi)


def _returns_series(
    store: Store, ids: dict[str, SeriesKey], start: dt.date | None, end: dt.date | None
) -> list[pd.DataFrame]:
    """Each returns series as its periods with a value, gaps left as gaps (never zero)."""
    groups: dict[tuple[str, str], dict[str, SeriesKey]] = {}
    for sid, k in ids.items():
        period, source, _ = str(k.detail).split("/")
        groups.setdefault((period, source), {})[sid] = k
    out = []
    for (period, source), chosen in groups.items():
        orgs = sorted({str(k.site) for k in chosen.values()})
        df = queries.returns_values(store, period, source, orgs).to_pandas()
        df["period_start"] = pd.to_datetime(df["period_start"]).astype("datetime64[ns]")
        if start is not None:
            df = df[df["period_start"] >= pd.Timestamp(start)]
        if end is not None:
            df = df[df["period_start"] <= pd.Timestamp(end)]
        for sid, k in chosen.items():
            metric = str(k.detail).split("/")[2]
            one = df[(df["org_code"] == k.site) & (df["metric_code"] == metric)]
            ds = one["period_start"]
            if period == "month":  # a monthly return's period is its month, whatever day it names
                ds = ds.dt.to_period("M").dt.to_timestamp()
            out.append(pd.DataFrame({"unique_id": sid, "ds": ds.to_numpy(), "y": one["value"].to_numpy(dtype=float)}))
    return out


def latest_stretch(frame: pd.DataFrame, freq: Freq) -> pd.DataFrame:
    """Each series of a long frame from the step after its last gap: the unbroken stretch a model
    can be fitted on without inventing the missing values (see the module's note on returns).

    >>> df = pd.DataFrame({"unique_id": "a", "ds": pd.to_datetime(["2024-01-01", "2024-03-01", "2024-04-01"]),
    ...                    "y": [1.0, 2.0, 3.0]})
    >>> latest_stretch(df, "monthly")["ds"].dt.strftime("%Y-%m").tolist()
    ['2024-03', '2024-04']
    """
    if frame.empty:
        return frame
    holes = find_gaps(frame, freq)
    if holes.empty:
        return frame
    last_hole = holes.groupby("unique_id")["ds"].max()
    after = frame["unique_id"].map(last_hole)
    keep = after.isna() | (frame["ds"] > after)
    return frame[keep.to_numpy()].reset_index(drop=True)


def series_frame(
    store: Store,
    series_ids: Sequence[str],
    start: dt.date | str | None = None,
    end: dt.date | str | None = None,
) -> pd.DataFrame:
    """The chosen series as one long frame (``unique_id, ds, y``), sorted, over local days
    ``start`` to ``end`` inclusive (by default the days the source table covers).

    All ids must share a frequency. ``UecError`` for an unknown id or a mix of frequencies.

    >>> import tempfile, os
    >>> from uec.store import open_store
    >>> with tempfile.TemporaryDirectory() as d:
    ...     series_frame(open_store(os.path.join(d, "s.duckdb")), ["ambulance/C1"]).shape
    (0, 3)
    """
    if not series_ids:
        raise UecError("no series chosen")
    keys = {sid: parse_series_id(sid) for sid in dict.fromkeys(series_ids)}
    freqs = {series_freq(sid) for sid in keys}
    if len(freqs) > 1:
        raise UecError(f"the series mix {' and '.join(sorted(freqs))} frequencies: build them separately")
    lo = _as_date(start) if start is not None else None
    hi = _as_date(end) if end is not None else None
    if lo is not None and hi is not None and hi < lo:
        raise UecError(f"end {hi} is before start {lo}")
    by_kind: dict[str, dict[str, str]] = {}
    returns = {sid: k for sid, k in keys.items() if k.kind == "returns"}
    for sid, k in keys.items():
        if k.kind == "returns":
            continue
        sql_key = {
            "arrivals": f"{k.site}/{k.detail}",
            "ambulance": str(k.detail),
            "admissions": f"{k.site}/{k.detail}",
            "discharges": f"{k.site}/{k.detail}",
        }.get(k.kind, str(k.site))
        by_kind.setdefault(k.kind, {})[sql_key] = sid
    parts: list[pd.DataFrame] = _returns_series(store, returns, lo, hi) if returns else []
    for kind, ids in by_kind.items():
        if kind == "arrivals":
            parts += _hourly_arrivals(store, ids, lo, hi)
        elif kind in ("occupancy", "nctr"):
            parts += _census_series(store, kind, list(ids), lo, hi)
        elif kind == "beds":
            parts += _beds_series(store, list(ids), lo, hi)
        else:
            parts += _event_series(store, kind, ids, lo, hi)
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(
            {"unique_id": pd.Series(dtype=str), "ds": pd.Series(dtype="datetime64[ns]"), "y": pd.Series(dtype=float)}
        )
    out = pd.concat(parts, ignore_index=True)
    if next(iter(freqs)) != "hourly":
        out["ds"] = pd.DatetimeIndex(out["ds"]).astype("datetime64[ns]")
    else:
        out["ds"] = pd.DatetimeIndex(out["ds"]).tz_convert("UTC").astype("datetime64[ns, UTC]")
    out["y"] = out["y"].astype(float)
    return out.sort_values(["unique_id", "ds"], kind="stable").reset_index(drop=True)
