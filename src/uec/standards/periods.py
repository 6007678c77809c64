"""Reporting periods in Europe/London local time.

People read performance by local day, week (Monday start), month, quarter and financial year (from 1
April); the store keeps UTC instants. This module turns local dates into UTC bounds, writes the SQL
that assigns a UTC instant (or a return's first day) to its local period, and counts local days for
per-day measures. An hour is a real hour: the two 01:00-02:00 hours of an autumn clock change are two
periods.

>>> period_start(dt.date(2024, 2, 10), "fy")
datetime.date(2023, 4, 1)
>>> utc_bounds(dt.date(2024, 4, 1), dt.date(2024, 5, 1))[0].isoformat()
'2024-03-31T23:00:00+00:00'
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterator
from typing import Literal, get_args
from zoneinfo import ZoneInfo

from uec.errors import UecError

__all__ = [
    "LONDON",
    "Grain",
    "count_days",
    "iter_periods",
    "local_midnight",
    "nesting_lengths",
    "parse_period_arg",
    "period_end",
    "period_key_sql",
    "period_start",
    "return_period",
    "utc_bounds",
]

Grain = Literal["hour", "day", "week", "month", "quarter", "fy", "range"]
GRAINS: tuple[str, ...] = get_args(Grain)
LONDON = ZoneInfo("Europe/London")

# Both engines accept `x AT TIME ZONE 'Europe/London'` on a TIMESTAMP WITH TIME ZONE and give the
# local wall-clock time (checked by the spec tests on both); the store sets each session to UTC.
_LOCAL = "({x} AT TIME ZONE 'Europe/London')"

# Return period lengths that nest inside each reporting grain (a monthly return cannot be split
# into weeks or days, and a week does not nest in a month). A "year" return is a financial year.
_NESTS: dict[str, tuple[str, ...]] = {
    "day": ("day",),
    "week": ("day", "week"),
    "month": ("day", "month"),
    "quarter": ("day", "month", "quarter"),
    "fy": ("day", "month", "quarter", "year"),
    "range": ("day", "week", "month", "quarter", "year"),
}


def local_midnight(day: dt.date) -> dt.datetime:
    """The UTC instant at which a local day starts.

    >>> local_midnight(dt.date(2024, 10, 27)).isoformat()
    '2024-10-26T23:00:00+00:00'
    """
    return dt.datetime(day.year, day.month, day.day, tzinfo=LONDON).astimezone(dt.UTC)


def utc_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """UTC instants of the local half-open date range ``[start, end)``."""
    return local_midnight(start), local_midnight(end)


def period_start(day: dt.date, grain: Grain) -> dt.date:
    """The first local day of the period ``day`` falls in (not for ``hour`` or ``range``).

    >>> period_start(dt.date(2024, 10, 27), "week")
    datetime.date(2024, 10, 21)
    """
    if grain == "day":
        return day
    if grain == "week":
        return day - dt.timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    if grain == "quarter":
        return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    if grain == "fy":
        return dt.date(day.year if day.month >= 4 else day.year - 1, 4, 1)
    raise ValueError(f"no calendar start for grain {grain!r}")


def _add_months(day: dt.date, months: int) -> dt.date:
    total = day.year * 12 + day.month - 1 + months
    return dt.date(total // 12, total % 12 + 1, 1)


def period_end(start: dt.date, grain: Grain) -> dt.date:
    """The first local day after the period that starts on ``start``.

    >>> period_end(dt.date(2024, 1, 1), "quarter")
    datetime.date(2024, 4, 1)
    """
    if grain == "day":
        return start + dt.timedelta(days=1)
    if grain == "week":
        return start + dt.timedelta(days=7)
    if grain == "month":
        return _add_months(start, 1)
    if grain == "quarter":
        return _add_months(start, 3)
    if grain == "fy":
        return dt.date(start.year + 1, 4, 1)
    raise ValueError(f"no calendar end for grain {grain!r}")


def iter_periods(start: dt.date, end: dt.date, grain: Grain) -> Iterator[dt.date]:
    """Starts of the periods that overlap ``[start, end)`` (day grains and coarser, or the range).

    >>> [p.isoformat() for p in iter_periods(dt.date(2024, 3, 15), dt.date(2024, 5, 2), "month")]
    ['2024-03-01', '2024-04-01', '2024-05-01']
    """
    if start >= end:
        return
    if grain == "range":
        yield start
        return
    p = period_start(start, grain)
    while p < end:
        yield p
        p = period_end(p, grain)


def count_days(start: dt.date, end: dt.date, kind: str) -> int:
    """Local days in ``[start, end)`` of a kind: ``all``, ``weekday`` (Mon-Fri) or ``weekend``.

    >>> count_days(dt.date(2024, 4, 1), dt.date(2024, 5, 1), "weekend")
    8
    """
    n = 0
    d = start
    while d < end:
        weekend = d.weekday() >= 5
        n += kind == "all" or (kind == "weekend") == weekend
        d += dt.timedelta(days=1)
    return n


# Up to this many periods in the range, the period of an instant is found by comparing it with the
# UTC instants at which the periods start, rather than by converting every row to local time.
_MAX_CASE_PERIODS = 64


def period_key_sql(x: str, grain: Grain, range_start: dt.date, range_end: dt.date | None = None) -> str:
    """SQL that gives the local period of the UTC instant expression ``x``.

    Day grains give a DATE; ``hour`` gives the UTC hour (a TIMESTAMP WITH TIME ZONE). When the
    caller guarantees that ``x`` lies in the local range ``[range_start, range_end)`` and the range
    holds few periods, the SQL compares ``x`` with the periods' starting instants instead of
    converting each row to local time, which costs a time-zone lookup per row (the same answer,
    several times cheaper on DuckDB).

    >>> period_key_sql("arrival_time", "month", dt.date(2024, 1, 1))
    "CAST(date_trunc('month', (arrival_time AT TIME ZONE 'Europe/London')) AS DATE)"
    >>> period_key_sql("arrival_time", "month", dt.date(2024, 6, 1), dt.date(2024, 7, 1))
    "DATE '2024-06-01'"
    >>> sql = period_key_sql("t", "month", dt.date(2024, 3, 1), dt.date(2024, 5, 1))
    >>> sql.startswith("CASE WHEN t < CAST('2024-03-31T23:00:00+00:00' AS TIMESTAMP WITH TIME ZONE)")
    True
    >>> sql.endswith("THEN DATE '2024-03-01' ELSE DATE '2024-04-01' END")
    True
    """
    if range_end is not None and grain not in ("hour", "range"):
        starts = list(iter_periods(range_start, range_end, grain))
        if len(starts) == 1:
            return f"DATE '{starts[0].isoformat()}'"
        if 1 < len(starts) <= _MAX_CASE_PERIODS:
            whens = " ".join(
                f"WHEN {x} < CAST('{local_midnight(nxt).isoformat()}' AS TIMESTAMP WITH TIME ZONE) "
                f"THEN DATE '{cur.isoformat()}'"
                for cur, nxt in itertools.pairwise(starts)
            )
            return f"CASE {whens} ELSE DATE '{starts[-1].isoformat()}' END"
    local = _LOCAL.format(x=x)
    if grain == "hour":
        # Every UK offset is a whole number of hours, so UTC hours are local hours, and the UTC hour
        # keeps the repeated autumn hour apart.
        return f"date_trunc('hour', {x})"
    if grain == "day":
        return f"CAST({local} AS DATE)"
    if grain in ("week", "month", "quarter"):
        return f"CAST(date_trunc('{grain}', {local}) AS DATE)"
    if grain == "fy":
        return f"CAST(date_trunc('year', {local} - INTERVAL '3 months') + INTERVAL '3 months' AS DATE)"
    return f"DATE '{range_start.isoformat()}'"


def return_period(day: dt.date, length: str, grain: Grain, range_start: dt.date) -> dt.date | None:
    """The reporting period a return for ``length`` starting on ``day`` falls in, or ``None`` if it
    does not nest in one (a monthly return cannot be split into weeks; nothing is hourly).

    >>> return_period(dt.date(2024, 2, 1), "month", "fy", dt.date(2020, 1, 1))
    datetime.date(2023, 4, 1)
    >>> return_period(dt.date(2024, 2, 1), "month", "week", dt.date(2020, 1, 1)) is None
    True
    """
    if grain == "hour" or length not in _NESTS[grain]:
        return None
    return range_start if grain == "range" else period_start(day, grain)


def nesting_lengths(grain: Grain) -> tuple[str, ...]:
    """Return period lengths that nest in ``grain``.

    >>> nesting_lengths("quarter")
    ('day', 'month', 'quarter')
    """
    return () if grain == "hour" else _NESTS[grain]


_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_FY = re.compile(r"^(\d{4})/(\d{2})$")
_YEAR = re.compile(r"^(\d{4})$")


def parse_period_arg(text: str, *, option: str, inclusive_end: bool) -> dt.date:
    """A local date from a command-line period: ``YYYY-MM-DD``, ``YYYY-MM``, ``YYYY`` or ``YYYY/YY`` (FY).

    With ``inclusive_end`` the answer is the day after the named period, so ``--to 2025-03``
    includes March 2025.

    >>> parse_period_arg("2024-04", option="--from", inclusive_end=False)
    datetime.date(2024, 4, 1)
    >>> parse_period_arg("2024/25", option="--to", inclusive_end=True)
    datetime.date(2025, 4, 1)
    >>> parse_period_arg("2024-13", option="--from", inclusive_end=False)
    Traceback (most recent call last):
    ...
    uec.errors.UecError: --from '2024-13' is not a period: use YYYY-MM-DD, YYYY-MM, YYYY or a financial year YYYY/YY
    """
    t = text.strip()
    try:
        if m := _MONTH.match(t):
            start = dt.date(int(m[1]), int(m[2]), 1)
            return _add_months(start, 1) if inclusive_end else start
        if m := _FY.match(t):
            year = int(m[1])
            if (year + 1) % 100 != int(m[2]):
                raise ValueError(t)
            return dt.date(year + 1 if inclusive_end else year, 4, 1)
        if m := _YEAR.match(t):
            return dt.date(int(m[1]) + (1 if inclusive_end else 0), 1, 1)
        day = dt.date.fromisoformat(t)
        return day + dt.timedelta(days=1) if inclusive_end else day
    except (ValueError, OverflowError):  # OverflowError: the day after 9999-12-31
        raise UecError(
            f"{option} {text!r} is not a period: use YYYY-MM-DD, YYYY-MM, YYYY or a financial year YYYY/YY"
        ) from None
