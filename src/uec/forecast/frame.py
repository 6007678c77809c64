"""The long-format series contract: one row per (``unique_id``, ``ds``) with a numeric ``y``.

Daily series carry ``ds`` as tz-naive midnight timestamps (calendar dates); monthly series (the
published monthly returns) as the tz-naive first day of each month. Hourly series carry
``ds`` as tz-aware UTC instants, because the store keeps UTC and because an hour of local clock
time is ambiguous on the autumn changeover day; local time only matters for calendars and origins.

Gaps are reported, not silently filled: a missing day or hour in an extract usually means lost
data, not zero demand, and a model fitted over a silent zero would learn a false dip. Callers
whose source omits rows for zero counts opt in with ``gaps="zero"``.

>>> df = validate_long(pd.DataFrame({"ds": ["2024-01-01", "2024-01-02"], "y": [3, 4]}), "daily")
>>> df
  unique_id         ds    y
0    series 2024-01-01  3.0
1    series 2024-01-02  4.0
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args

import numpy as np
import pandas as pd

__all__ = [
    "DEFAULT_ID",
    "LOCAL_TZ",
    "Freq",
    "Gaps",
    "check_freq",
    "find_gaps",
    "read_series_csv",
    "season_length",
    "step_of",
    "validate_long",
]

Freq = Literal["daily", "hourly", "monthly"]
Gaps = Literal["error", "zero"]

#: Origins and calendars (day of week, bank holidays) follow people's clocks in England and Wales.
LOCAL_TZ = "Europe/London"
#: The ``unique_id`` given to a file that has a single unnamed series.
DEFAULT_ID = "series"

# Monthly series repeat by month of year (period 12); their step is a calendar month, not a fixed
# time span, so it is a month-start offset (which adds, multiplies and drives date_range alike).
_SEASON: dict[str, int] = {"daily": 7, "hourly": 168, "monthly": 12}
_STEP: dict[str, pd.Timedelta] = {
    "daily": pd.Timedelta(days=1),
    "hourly": pd.Timedelta(hours=1),
    "monthly": pd.offsets.MonthBegin(1),  # type: ignore[dict-item]  # a calendar step, used like a Timedelta
}


def check_freq(freq: str) -> Freq:
    """``freq`` as a :data:`Freq`; ``ValueError`` naming the choices otherwise.

    >>> check_freq("hourly")
    'hourly'
    """
    if freq not in get_args(Freq):
        raise ValueError(f"unknown freq {freq!r}: use daily, hourly or monthly")
    return freq  # type: ignore[return-value]


def season_length(freq: Freq) -> int:
    """The season in steps: a week for daily (7) and hourly (168) series, a year for monthly (12).

    >>> season_length("daily"), season_length("hourly"), season_length("monthly")
    (7, 168, 12)
    """
    return _SEASON[check_freq(freq)]


def step_of(freq: Freq) -> pd.Timedelta:
    """One time step.

    >>> step_of("hourly")
    Timedelta('0 days 01:00:00')
    >>> pd.Timestamp("2024-01-01") + step_of("monthly") * 2
    Timestamp('2024-03-01 00:00:00')
    """
    return _STEP[check_freq(freq)]


def _parse_ds(raw: pd.Series, freq: Freq, naive_tz: str) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(raw):
        ds = pd.Series(raw)
    else:
        text = raw.astype("string").str.strip()
        try:
            ds = pd.Series(pd.to_datetime(text, format="ISO8601", utc=freq == "hourly" and _has_offset(text)))
        except (ValueError, TypeError):
            ds = pd.Series(pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True))
            bad = ds.isna() & text.notna()
            first = int(np.flatnonzero(bad.to_numpy())[0]) if bad.any() else 0
            raise ValueError(
                f"ds row {first + 1}: cannot parse {text.iloc[first]!r} as an ISO 8601 date or time"
            ) from None
    if ds.isna().any():
        first = int(np.flatnonzero(ds.isna().to_numpy())[0])
        raise ValueError(f"ds row {first + 1}: missing date")
    if freq in ("daily", "monthly"):
        if isinstance(ds.dtype, pd.DatetimeTZDtype):
            raise ValueError(f"{freq} ds must be calendar dates without a time zone offset")
        not_midnight = ds != ds.dt.normalize()
        if not_midnight.any():
            first = int(np.flatnonzero(not_midnight.to_numpy())[0])
            raise ValueError(f"ds row {first + 1}: {freq} ds has a time of day ({ds.iloc[first]})")
        if freq == "monthly":
            off_month = ds.dt.day != 1
            if off_month.any():
                first = int(np.flatnonzero(off_month.to_numpy())[0])
                raise ValueError(f"ds row {first + 1}: monthly ds is not the first day of a month ({ds.iloc[first]})")
        return ds.astype("datetime64[ns]")
    if not isinstance(ds.dtype, pd.DatetimeTZDtype):
        try:
            ds = ds.dt.tz_localize(naive_tz, ambiguous="infer", nonexistent="raise")
        except Exception as exc:  # pytz/zoneinfo raise several types; all mean the clock times do not fit
            raise ValueError(f"hourly ds cannot be read as {naive_tz} clock times: {exc}") from None
    ds = pd.Series(ds.dt.tz_convert("UTC").astype("datetime64[ns, UTC]"))
    off_hour = ds != ds.dt.floor("h")
    if off_hour.any():
        first = int(np.flatnonzero(off_hour.to_numpy())[0])
        raise ValueError(f"ds row {first + 1}: hourly ds is not on the hour ({ds.iloc[first]})")
    return ds


def _has_offset(text: pd.Series) -> bool:
    # An offset or Z after the time means the instants are already absolute.
    return bool(text.str.contains(r"(?:[+-]\d\d:?\d\d|Z)$", regex=True).any())


def validate_long(df: pd.DataFrame, freq: Freq, *, gaps: Gaps = "error", naive_tz: str = "UTC") -> pd.DataFrame:
    """Check and normalise a long-format frame to columns ``unique_id, ds, y``, sorted.

    ``unique_id`` is optional (one series called ``"series"``). Hourly ``ds`` without an offset
    are read as clock times in ``naive_tz`` (UTC by default). Raises ``ValueError`` with a
    one-line message for a missing column, an unparseable date, a non-numeric ``y``, a duplicate
    (``unique_id``, ``ds``) or, unless ``gaps="zero"``, a gap.

    >>> validate_long(pd.DataFrame({"ds": ["2024-01-01"], "y": ["x"]}), "daily")
    Traceback (most recent call last):
    ...
    ValueError: y row 1: 'x' is not a number
    >>> raw = pd.DataFrame({"ds": ["2024-01-01", "2024-01-03"], "y": [1, 2]})
    >>> validate_long(raw, "daily")
    Traceback (most recent call last):
    ...
    ValueError: series 'series' has 1 missing daily step(s), the first at 2024-01-02; fill them or pass gaps='zero'
    >>> validate_long(raw, "daily", gaps="zero")["y"].tolist()
    [1.0, 0.0, 2.0]
    """
    freq = check_freq(freq)
    missing = [c for c in ("ds", "y") if c not in df.columns]
    if missing:
        raise ValueError(f"missing column(s) {', '.join(missing)}: need ds, y and optionally unique_id")
    if len(df) == 0:
        raise ValueError("the series has no rows")
    if "unique_id" in df.columns:
        uid = df["unique_id"]
        if uid.isna().any():
            first = int(np.flatnonzero(uid.isna().to_numpy())[0])
            raise ValueError(f"unique_id row {first + 1}: missing")
        uid = uid.astype(str)
    else:
        uid = pd.Series(DEFAULT_ID, index=df.index)
    ds = _parse_ds(df["ds"], freq, naive_tz)
    y = pd.to_numeric(df["y"], errors="coerce")
    bad = y.isna() | ~np.isfinite(y.to_numpy(dtype=float, na_value=np.nan))
    if bad.any():
        first = int(np.flatnonzero(bad.to_numpy())[0])
        raw = df["y"].iloc[first]
        what = "is missing" if pd.isna(raw) else f"{raw!r} is not a number"
        raise ValueError(f"y row {first + 1}: {what}")
    out = pd.DataFrame({"unique_id": uid.to_numpy(), "ds": ds.to_numpy(), "y": y.to_numpy(dtype=float)})
    if freq == "hourly":
        out["ds"] = pd.DatetimeIndex(ds)
    dup = out.duplicated(["unique_id", "ds"])
    if dup.any():
        first = int(np.flatnonzero(dup.to_numpy())[0])
        raise ValueError(
            f"duplicate (unique_id, ds) = ({out['unique_id'].iloc[first]}, {out['ds'].iloc[first]}) at row {first + 1}"
        )
    out = out.sort_values(["unique_id", "ds"], kind="stable").reset_index(drop=True)
    holes = find_gaps(out, freq)
    if len(holes):
        if gaps == "zero":
            filled = pd.DataFrame({"unique_id": holes["unique_id"], "ds": holes["ds"], "y": 0.0})
            out = pd.concat([out, filled], ignore_index=True)
            out = out.sort_values(["unique_id", "ds"], kind="stable").reset_index(drop=True)
        else:
            first_id = holes["unique_id"].iloc[0]
            n = int((holes["unique_id"] == first_id).sum())
            raise ValueError(
                f"series {first_id!r} has {n} missing {freq} step(s), the first at {_fmt(holes['ds'].iloc[0])};"
                " fill them or pass gaps='zero'"
            )
    return out


def _fmt(ts: pd.Timestamp) -> str:
    return ts.strftime("%Y-%m-%d") if ts.tzinfo is None and ts == ts.normalize() else ts.isoformat()


def find_gaps(df: pd.DataFrame, freq: Freq) -> pd.DataFrame:
    """The missing (``unique_id``, ``ds``) between each series' first and last step.

    ``df`` must already have parsed ``ds`` (as :func:`validate_long` leaves it).

    >>> df = pd.DataFrame({"unique_id": "a", "ds": pd.to_datetime(["2024-01-01", "2024-01-04"]), "y": 1.0})
    >>> find_gaps(df, "daily")["ds"].dt.day.tolist()
    [2, 3]
    """
    step = step_of(freq)
    parts: list[pd.DataFrame] = []
    for uid, g in df.groupby("unique_id", sort=True):
        ds = pd.DatetimeIndex(g["ds"])
        full = pd.date_range(ds.min(), ds.max(), freq=step)
        hole = full.difference(ds)
        if len(hole):
            parts.append(pd.DataFrame({"unique_id": str(uid), "ds": hole}))
    if not parts:
        return pd.DataFrame({"unique_id": pd.Series(dtype=str), "ds": pd.Series(dtype=df["ds"].dtype)})
    return pd.concat(parts, ignore_index=True)


def read_series_csv(path: str | Path, freq: Freq, *, gaps: Gaps = "error", naive_tz: str = "UTC") -> pd.DataFrame:
    """Read a CSV with columns ``ds, y`` and optional ``unique_id`` into the long format.

    Extra columns are ignored. Errors are ``ValueError`` (bad content) or ``FileNotFoundError``,
    each with a one-line message; see :func:`validate_long`.

    >>> import tempfile, os
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = os.path.join(d, "s.csv")
    ...     _ = open(p, "w").write("ds,y\\n2024-03-31T00:00:00Z,5\\n2024-03-31T01:00:00Z,6\\n")
    ...     read_series_csv(p, "hourly")["ds"].tolist()
    [Timestamp('2024-03-31 00:00:00+0000', tz='UTC'), Timestamp('2024-03-31 01:00:00+0000', tz='UTC')]
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no such file: {p}")
    try:
        raw = pd.read_csv(p, dtype={"unique_id": str, "ds": str}, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise ValueError(f"{p} is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ValueError(f"{p} is not a readable CSV: {str(exc).splitlines()[0]}") from None
    raw.columns = [str(c).strip() for c in raw.columns]
    return validate_long(raw, freq, gaps=gaps, naive_tz=naive_tz)
