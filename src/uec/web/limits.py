"""Limits on what one request may ask for, so no request runs for minutes or fills the memory.

A value beyond its limit is a 400 whose message names the field and the limit: pages show it in an
NHS.UK error summary, JSON answers as ``{"detail": ...}``. The limits are named here (and listed in
``docs/web.md``); long work such as a scenario run goes to the job queue, whose own limits answer 429.

>>> check_from(None, today=dt.date(2026, 1, 1)) is None
True
>>> check_from(dt.date(1, 1, 1), today=dt.date(2026, 1, 1))
Traceback (most recent call last):
...
uec.web.limits.BoundError: 400: from: dates before 1990-01-01 are not accepted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from fastapi import HTTPException

from uec.contract import EARLIEST_YEAR

__all__ = [
    "DAYS_RANGE",
    "EARLIEST_DATE",
    "MAX_BASELINE_POINTS",
    "MAX_CODE_LENGTH",
    "MAX_DESCRIPTION_LENGTH",
    "MAX_NAME_LENGTH",
    "MAX_RANGE_YEARS",
    "MAX_REBASE_DATES",
    "OCCUPANCY_DAYS",
    "PAGE_SIZE",
    "PROJECTION_HOURS",
    "PROJECTION_REPS",
    "REPS_RANGE",
    "BoundError",
    "check_code",
    "check_date",
    "check_from",
    "check_range",
    "latest_date",
]

#: No date before this is accepted (the contract's plausible range, as ingest checks it).
EARLIEST_DATE = dt.date(EARLIEST_YEAR, 1, 1)
#: A date range may cover at most this many years: ``from`` is no earlier than this long before today.
MAX_RANGE_YEARS = 5
#: Replications a scenario run may ask for, inclusive.
REPS_RANGE = (1, 50)
#: Days a scenario run may simulate, inclusive.
DAYS_RANGE = (1, 365)
#: Midnights the bed occupancy projection may cover, inclusive.
OCCUPANCY_DAYS = (1, 14)
#: Hours a projected level or a try-it run from a page may look ahead, inclusive.
PROJECTION_HOURS = (1, 72)
#: Replications a projected level or a try-it run from a page makes (each way): level probabilities
#: in tenths, and a run of a minute or two on a small server; within ``REPS_RANGE``.
PROJECTION_REPS = 10
#: Dates at which an SPC chart may be rebased.
MAX_REBASE_DATES = 12
#: Points an SPC chart's baseline may fix its limits on, inclusive (at least 2: limits need two).
MAX_BASELINE_POINTS = (2, 500)
#: Characters in a site code, series id or run id given in a URL.
MAX_CODE_LENGTH = 64
#: Characters in a scenario's name and description.
MAX_NAME_LENGTH = 100
MAX_DESCRIPTION_LENGTH = 1000
#: Items in one page of a list (``limit``): default and most.
PAGE_SIZE = (50, 200)
#: Patient-level downloads: most London days in one request, and rows (``limit``): default and most.
PATIENT_ROWS_DAYS = 31
PATIENT_ROWS = (1000, 10_000)


class BoundError(HTTPException):
    """A 400 for one field beyond its limit; ``field`` is the form field the error summary links to."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(400, f"{field}: {message}")
        self.field = field


def latest_date(today: dt.date | None = None) -> dt.date:
    """The last date accepted: the end of next year (data may be scheduled ahead, not decades ahead).

    >>> latest_date(dt.date(2026, 3, 1))
    datetime.date(2027, 12, 31)
    """
    return dt.date((today or dt.date.today()).year + 1, 12, 31)


def check_date(field: str, value: dt.date | None, today: dt.date | None = None) -> dt.date | None:
    """``value`` if it lies between :data:`EARLIEST_DATE` and :func:`latest_date`, else a :class:`BoundError`."""
    if value is None:
        return None
    if value < EARLIEST_DATE:
        raise BoundError(field, f"dates before {EARLIEST_DATE.isoformat()} are not accepted.")
    last = latest_date(today)
    if value > last:
        raise BoundError(field, f"dates after {last.isoformat()} are not accepted.")
    return value


def check_from(value: dt.date | None, today: dt.date | None = None, field: str = "from") -> dt.date | None:
    """The start of a range that runs to the latest data: at most :data:`MAX_RANGE_YEARS` years before today.

    >>> check_from(dt.date(2019, 1, 1), today=dt.date(2026, 1, 1))
    Traceback (most recent call last):
    ...
    uec.web.limits.BoundError: 400: from: a range may cover at most 5 years: give a date on or after 2021-01-01.
    """
    today = today or dt.date.today()
    check_date(field, value, today)
    if value is None:
        return None
    try:
        earliest = today.replace(year=today.year - MAX_RANGE_YEARS)
    except ValueError:  # 29 February
        earliest = today.replace(year=today.year - MAX_RANGE_YEARS, day=28)
    if value < earliest:
        raise BoundError(field, f"a range may cover at most {MAX_RANGE_YEARS} years: give a date on or after "
                         f"{earliest.isoformat()}.")
    return value


def check_range(field: str, value: int | None, bounds: Sequence[int]) -> int | None:
    """``value`` if it lies within ``bounds`` (inclusive), else a :class:`BoundError` that states them.

    >>> check_range("days", 30, (1, 14))
    Traceback (most recent call last):
    ...
    uec.web.limits.BoundError: 400: days: must be between 1 and 14.
    """
    lo, hi = bounds
    if value is not None and not lo <= value <= hi:
        raise BoundError(field, f"must be between {lo} and {hi}.")
    return value


def check_code(field: str, value: str | None) -> str | None:
    """A code from a URL: at most :data:`MAX_CODE_LENGTH` characters and no control characters.

    >>> check_code("site", "RAA01")
    'RAA01'
    """
    if value is None:
        return None
    if len(value) > MAX_CODE_LENGTH:
        raise BoundError(field, f"must be at most {MAX_CODE_LENGTH} characters.")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise BoundError(field, "must not contain control characters.")
    return value
