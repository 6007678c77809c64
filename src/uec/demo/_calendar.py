"""Time for the demo: an hourly UTC grid labelled with Europe/London local time, and the way back.

Demand follows people's local clock (an ED is busy at 11:00 London time, summer or winter), but the
store keeps UTC instants. So the demo draws events per *UTC* hour with an intensity looked up from
that hour's *local* hour, weekday and season. At a clock change this gives the right thing for
free: the spring-forward day has 23 UTC hours and no local 01:xx, the autumn day 25 and two of them.

Times are plain ``int64`` seconds since the Unix epoch (UTC) throughout the generator: NumPy is fast
on them and they turn into Arrow timestamps at the end.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import holidays
import numpy as np
import numpy.typing as npt

LONDON = ZoneInfo("Europe/London")
HOUR = 3600
DAY = 86400

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
BOOL = npt.NDArray[np.bool_]


def _transitions(first_year: int, last_year: int) -> tuple[I64, I64]:
    """UTC instants at which London's offset changes, and the offset (seconds) from each on.

    Found by scanning noon UTC of every day for a change of offset and then the hours of that day,
    so the rule comes from the tz database, not from a hand-written "last Sunday of March".
    """
    starts: list[int] = []
    offsets: list[int] = []
    t = dt.datetime(first_year, 1, 1, 12, tzinfo=dt.UTC)
    prev = t.astimezone(LONDON).utcoffset()
    assert prev is not None
    starts.append(int(dt.datetime(first_year - 1, 1, 1, tzinfo=dt.UTC).timestamp()))
    offsets.append(int(prev.total_seconds()))
    end = dt.datetime(last_year + 1, 1, 1, 12, tzinfo=dt.UTC)
    while t < end:
        nxt = t + dt.timedelta(days=1)
        off = nxt.astimezone(LONDON).utcoffset()
        if off != prev:
            h = t
            while h.astimezone(LONDON).utcoffset() == prev:
                h += dt.timedelta(hours=1)
            starts.append(int(h.timestamp()))
            offsets.append(int(off.total_seconds()) if off is not None else 0)
            prev = off
        t = nxt
    return np.array(starts, np.int64), np.array(offsets, np.int64)


@dataclass(frozen=True)
class Calendar:
    """The generated period: local days ``0 .. n_days-1`` and the UTC hours that cover them.

    Day ``first_written`` is the first day written to the store; the days before it are a warm-up
    so that beds are already full of patients on the first written day.
    """

    first_day: dt.date
    n_days: int
    first_written: int
    day_start: I64  # UTC instant of each local midnight, n_days + 1 values
    day_weekday: npt.NDArray[np.int8]  # Monday = 0
    day_month: npt.NDArray[np.int8]  # 1..12
    day_month_pos: F64  # fractional month position 0..12, for smooth seasonal curves
    day_bank_holiday: BOOL
    day_new_year: BOOL
    day_after_bank_holiday: BOOL
    hour_start: I64  # UTC start of each hour of the grid
    hour_day: npt.NDArray[np.int32]  # local day the hour belongs to
    hour_local: npt.NDArray[np.int8]  # local hour of day 0..23
    trans_at: I64
    trans_offset: I64

    @property
    def n_hours(self) -> int:
        return int(self.hour_start.size)

    @property
    def t0(self) -> int:
        return int(self.day_start[0])

    @property
    def window_start(self) -> int:
        """UTC instant of the first written local midnight."""
        return int(self.day_start[self.first_written])

    @property
    def window_end(self) -> int:
        """UTC instant of the local midnight after the last day (the extract time)."""
        return int(self.day_start[-1])

    def offset(self, utc: I64) -> I64:
        """London's UTC offset in seconds at each instant."""
        i = np.searchsorted(self.trans_at, utc, side="right") - 1
        return self.trans_offset[np.clip(i, 0, None)]

    def local_seconds(self, utc: I64) -> I64:
        """Seconds since the epoch of the local wall-clock reading (as if it were UTC)."""
        return utc + self.offset(utc)

    def local_day(self, utc: I64) -> npt.NDArray[np.int32]:
        """Index of the local day each instant falls on (may be < 0 or >= n_days)."""
        first = (dt.datetime.combine(self.first_day, dt.time(0), tzinfo=dt.UTC)).timestamp()
        return ((self.local_seconds(utc) - int(first)) // DAY).astype(np.int32)

    def local_hour(self, utc: I64) -> F64:
        """Local time of day in hours (0 <= h < 24)."""
        return (self.local_seconds(utc) % DAY) / HOUR

    def to_utc(self, day: npt.NDArray[np.integer], seconds: npt.ArrayLike) -> I64:
        """UTC instants of local wall-clock ``seconds`` after midnight on local ``day``.

        A wall time the clocks skip (spring, 01:xx) is moved forward by the gap; one they repeat
        (autumn, 01:xx) is taken at its first occurrence (BST), like ``fold=0``. London's offsets
        are 0 and 3600 s, so trying each is enough.
        """
        first = int(dt.datetime.combine(self.first_day, dt.time(0), tzinfo=dt.UTC).timestamp())
        wall = first + np.asarray(day, np.int64) * DAY + np.round(np.asarray(seconds, np.float64)).astype(np.int64)
        summer = wall - HOUR
        winter = wall
        summer_ok = self.offset(summer) == HOUR
        winter_ok = self.offset(winter) == 0
        # Skipped wall times fit neither reading: the winter reading lands one hour later in BST.
        return np.where(summer_ok, summer, np.where(winter_ok, winter, winter))


def make_calendar(end: dt.date, days: int, warmup_days: int) -> Calendar:
    """The calendar of ``warmup_days + days`` local days ending with ``end``.

    >>> cal = make_calendar(dt.date(2024, 3, 31), days=1, warmup_days=0)
    >>> cal.n_hours  # the spring-forward day is 23 hours long
    23
    >>> int(cal.to_utc(np.array([0]), [1.5 * 3600])[0] - cal.day_start[0]) / 3600  # 01:30 is skipped
    1.5
    """
    n_days = warmup_days + days
    first_day = end - dt.timedelta(days=n_days - 1)
    trans_at, trans_offset = _transitions(first_day.year - 1, end.year + 3)
    dates = [first_day + dt.timedelta(days=i) for i in range(n_days + 1)]
    day_start = np.array(
        [int(dt.datetime.combine(d, dt.time(0), tzinfo=LONDON).timestamp()) for d in dates], np.int64
    )
    hour_start = np.arange(day_start[0], day_start[-1], HOUR, dtype=np.int64)
    hour_day = (np.searchsorted(day_start, hour_start, side="right") - 1).astype(np.int32)
    local = hour_start + trans_offset[np.searchsorted(trans_at, hour_start, side="right") - 1]
    hour_local = ((local % DAY) // HOUR).astype(np.int8)

    d64 = np.array(dates[:-1], dtype="datetime64[D]")
    weekday = ((d64.astype(np.int64) + 3) % 7).astype(np.int8)  # 1970-01-01 was a Thursday
    months = d64.astype("datetime64[M]")
    month = (months.astype(np.int64) % 12 + 1).astype(np.int8)
    month_len = ((months + 1).astype("datetime64[D]") - months.astype("datetime64[D]")).astype(np.float64)
    dom = (d64 - months.astype("datetime64[D]")).astype(np.float64)
    month_pos = (month - 1) + (dom + 0.5) / month_len

    bh = holidays.country_holidays("GB", subdiv="ENG", years=range(first_day.year, end.year + 1))
    bank = np.array([d in bh for d in dates[:-1]], np.bool_)
    new_year = np.array([d.month == 1 and d.day == 1 for d in dates[:-1]], np.bool_)
    # The first working day after a bank holiday is a Monday-like surge in the ED.
    after = np.zeros(n_days, np.bool_)
    for i in np.flatnonzero(bank):
        j = i + 1
        while j < n_days and (bank[j] or weekday[j] >= 5):
            j += 1
        if j < n_days:
            after[j] = True

    return Calendar(
        first_day=first_day,
        n_days=n_days,
        first_written=warmup_days,
        day_start=day_start,
        day_weekday=weekday,
        day_month=month,
        day_month_pos=month_pos,
        day_bank_holiday=bank,
        day_new_year=new_year,
        day_after_bank_holiday=after,
        hour_start=hour_start,
        hour_day=hour_day,
        hour_local=hour_local,
        trans_at=trans_at,
        trans_offset=trans_offset,
    )


def monthly_curve(month_index: list[float], month_pos: F64) -> F64:
    """A smooth daily factor from 12 monthly ratios, by periodic interpolation between mid-months.

    Step changes at month ends would put artificial jumps into every daily series.

    >>> f = monthly_curve([1.0] * 11 + [2.0], np.array([11.5, 0.0]))
    >>> [round(float(x), 2) for x in f]
    [2.0, 1.5]
    """
    values = np.asarray(month_index, np.float64)
    anchors = np.arange(12) + 0.5
    xp = np.concatenate([anchors - 12, anchors, anchors + 12])
    fp = np.concatenate([values, values, values])
    out: F64 = np.interp(month_pos, xp, fp)
    return out
