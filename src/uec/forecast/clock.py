"""Local calendars: origins on people's clocks, and calendar regressors for count models.

Demand follows local time, so hourly origins and hour-of-week effects are computed in
Europe/London even though hourly ``ds`` are UTC instants.

>>> [t.isoformat() for t in origins("hourly", "2024-03-31", "2024-04-01", 12)]
['2024-03-31T00:00:00+00:00', '2024-03-31T11:00:00+00:00', '2024-03-31T23:00:00+00:00']
"""

from __future__ import annotations

import datetime as dt
from functools import cache

import holidays
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from uec.forecast.frame import LOCAL_TZ, Freq, check_freq

__all__ = ["bank_holidays", "local_time", "origins", "parse_moment", "seasonal_position"]


def parse_moment(value: str | dt.date | pd.Timestamp, freq: Freq, *, tz: str = LOCAL_TZ) -> pd.Timestamp:
    """A user's date or date-time as a naive local wall-clock timestamp (daily: a date).

    ``ValueError`` with a one-line message when it cannot be read.

    >>> parse_moment("2019-01-01", "daily")
    Timestamp('2019-01-01 00:00:00')
    >>> parse_moment("2024-07-01T12:00+00:00", "hourly")
    Timestamp('2024-07-01 13:00:00')
    """
    try:
        # fromisoformat, not pd.Timestamp: the latter reads "1 Feb" as the year 1.
        parsed = dt.datetime.fromisoformat(value.strip()) if isinstance(value, str) else value
        ts = pd.Timestamp(parsed)
    except (ValueError, TypeError, OverflowError):
        raise ValueError(f"cannot read {value!r} as a date (use YYYY-MM-DD)") from None
    if pd.isna(ts):
        raise ValueError(f"cannot read {value!r} as a date (use YYYY-MM-DD)")
    if ts.tzinfo is not None:
        ts = ts.tz_convert(tz).tz_localize(None)
    if freq in ("daily", "monthly"):
        if ts != ts.normalize():
            raise ValueError(f"{freq} origins are dates, not times: {value!r}")
        if freq == "monthly" and ts.day != 1:
            raise ValueError(f"monthly origins are the first day of a month: {value!r}")
        return ts
    if ts != ts.floor("h"):
        raise ValueError(f"hourly origins fall on the hour: {value!r}")
    return ts


def origins(
    freq: Freq,
    test_from: str | dt.date | pd.Timestamp,
    test_to: str | dt.date | pd.Timestamp,
    every: int,
    *,
    tz: str = LOCAL_TZ,
) -> pd.DatetimeIndex:
    """Forecast origins every ``every`` steps from ``test_from`` to ``test_to`` inclusive.

    Daily origins are dates. Hourly origins are stepped on the local wall clock of ``tz`` from
    ``test_from`` (a date means its local midnight), then turned into UTC instants, so
    ``every=12`` gives 00:00 and 12:00 local on every day, including the 23- and 25-hour
    changeover days. A wall time that does not exist (spring forward) moves to the next real
    hour; one that occurs twice (fall back) takes the first.

    >>> origins("daily", "2017-07-01", "2017-07-15", 7).strftime("%Y-%m-%d").tolist()
    ['2017-07-01', '2017-07-08', '2017-07-15']
    >>> origins("monthly", "2024-01-01", "2024-07-01", 3).strftime("%Y-%m").tolist()
    ['2024-01', '2024-04', '2024-07']
    >>> [t.isoformat() for t in origins("hourly", "2024-10-27", "2024-10-28", 12)]
    ['2024-10-26T23:00:00+00:00', '2024-10-27T12:00:00+00:00', '2024-10-28T00:00:00+00:00']
    """
    freq = check_freq(freq)
    if every < 1:
        raise ValueError("every must be at least 1 step")
    start = parse_moment(test_from, freq, tz=tz)
    end = parse_moment(test_to, freq, tz=tz)
    if end < start:
        raise ValueError(f"test_to {end.date()} is before test_from {start.date()}")
    if freq == "daily":
        return pd.date_range(start, end, freq=pd.Timedelta(days=every))
    if freq == "monthly":
        return pd.date_range(start, end, freq=pd.offsets.MonthBegin(every))
    walls = pd.date_range(start, end, freq=pd.Timedelta(hours=every))
    local = walls.tz_localize(tz, ambiguous=np.ones(len(walls), dtype=bool), nonexistent="shift_forward")
    return local.tz_convert("UTC").unique()


def local_time(ds: pd.DatetimeIndex, *, tz: str = LOCAL_TZ) -> pd.DatetimeIndex:
    """Wall-clock times: UTC instants converted to ``tz``; naive (daily) dates as they are.

    >>> local_time(pd.DatetimeIndex(["2024-07-01 11:00"], tz="UTC")).hour.tolist()
    [12]
    """
    if ds.tz is None:
        return ds
    return ds.tz_convert(tz)


def seasonal_position(ds: pd.DatetimeIndex, freq: Freq) -> NDArray[np.int64]:
    """Day of week (0 = Monday) for daily data; local hour of week (0 = Monday 00:00) for hourly;
    month of year (0 = January) for monthly.

    >>> seasonal_position(pd.DatetimeIndex(["2024-07-01 11:00"], tz="UTC"), "hourly").tolist()
    [12]
    """
    local = local_time(ds)
    if freq == "monthly":
        return np.asarray(local.month, dtype=np.int64) - 1
    dow = np.asarray(local.day_of_week, dtype=np.int64)
    if freq == "daily":
        return dow
    return dow * 24 + np.asarray(local.hour, dtype=np.int64)


@cache
def _bank_holidays(year: int) -> dict[dt.date, str]:
    # England and Wales share one set of bank holidays; "ENG" includes the observed substitutes.
    return dict(holidays.country_holidays("GB", subdiv="ENG", years=[year]).items())


def bank_holidays(years: range | list[int]) -> dict[dt.date, str]:
    """England & Wales bank holidays (with substitute days) for the given years.

    >>> sorted(d.isoformat() for d in bank_holidays([2021]) if d.month == 12)
    ['2021-12-25', '2021-12-26', '2021-12-27', '2021-12-28']
    """
    out: dict[dt.date, str] = {}
    for y in years:
        out.update(_bank_holidays(int(y)))
    return out
