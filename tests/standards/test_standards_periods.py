"""Local periods: Europe/London days, weeks, months and financial years, across clock changes."""

from __future__ import annotations

import datetime as dt

import pytest
from standards_fixtures import put_rows, t

from uec.errors import UecError
from uec.standards import compute, parse_period_arg
from uec.standards.periods import LONDON, count_days, iter_periods, period_end, period_start
from uec.store import Store


def _att(aid: str, arrival: str) -> dict[str, object]:
    return {"attendance_id": aid, "site_code": "S1", "service_type": "ed_type1", "arrival_time": t(arrival),
            "departure_time": t(arrival) + dt.timedelta(minutes=30)}


def _counts(store: Store, period: str, start: dt.date, end: dt.date) -> dict[object, float | None]:
    rows = compute(store, "ed-4hr", period=period, start=start, end=end).rows
    return {r.period_start: r.denominator for r in rows}


def test_month_and_financial_year_follow_local_midnight(store: Store) -> None:
    put_rows(store, "attendances", [
        _att("a", "2024-03-31T22:59Z"),  # 23:59 BST on 31 March
        _att("b", "2024-03-31T23:00Z"),  # 00:00 BST on 1 April: April, and financial year 2024/25
        _att("c", "2024-03-31T23:30Z"),
    ])
    assert _counts(store, "month", dt.date(2024, 3, 1), dt.date(2024, 5, 1)) == {
        dt.date(2024, 3, 1): 1, dt.date(2024, 4, 1): 2}
    assert _counts(store, "fy", dt.date(2023, 4, 1), dt.date(2025, 4, 1)) == {
        dt.date(2023, 4, 1): 1, dt.date(2024, 4, 1): 2}
    # --from 2024-04 starts at local midnight, 23:00 UTC the day before
    assert _counts(store, "month", dt.date(2024, 4, 1), dt.date(2024, 5, 1)) == {dt.date(2024, 4, 1): 2}


def test_autumn_clock_change_day_and_repeated_hour(store: Store) -> None:
    put_rows(store, "attendances", [
        _att("a", "2024-10-26T23:30Z"),  # 00:30 BST on Sunday 27 October (UTC says the 26th)
        _att("b", "2024-10-27T00:30Z"),  # 01:30 BST
        _att("c", "2024-10-27T01:30Z"),  # 01:30 GMT: the same wall-clock time an hour later
        _att("d", "2024-10-27T23:30Z"),  # 23:30 GMT on the 27th
    ])
    days = _counts(store, "day", dt.date(2024, 10, 26), dt.date(2024, 10, 29))
    assert days == {dt.date(2024, 10, 27): 4}
    hours = compute(store, "ed-4hr", period="hour", start=dt.date(2024, 10, 27), end=dt.date(2024, 10, 28)).rows
    starts = [r.period_start for r in hours]
    assert [s.isoformat() for s in starts] == [
        "2024-10-27T00:00:00+01:00", "2024-10-27T01:00:00+01:00", "2024-10-27T01:00:00+00:00",
        "2024-10-27T23:00:00+00:00",
    ]
    weeks = _counts(store, "week", dt.date(2024, 10, 21), dt.date(2024, 11, 4))
    assert weeks == {dt.date(2024, 10, 21): 4}  # Sunday the 27th is the last day of the week from Monday 21st


def test_spring_clock_change(store: Store) -> None:
    put_rows(store, "attendances", [
        _att("a", "2024-03-31T00:30Z"),  # 00:30 GMT
        _att("b", "2024-03-31T01:30Z"),  # 02:30 BST (01:00-02:00 local never happened)
        _att("c", "2024-03-31T22:30Z"),  # 23:30 BST, still the 31st
    ])
    assert _counts(store, "day", dt.date(2024, 3, 30), dt.date(2024, 4, 2)) == {dt.date(2024, 3, 31): 3}
    hours = compute(store, "ed-4hr", period="hour", start=dt.date(2024, 3, 31), end=dt.date(2024, 4, 1)).rows
    assert [r.period_start.isoformat() for r in hours] == [
        "2024-03-31T00:00:00+00:00", "2024-03-31T02:00:00+01:00", "2024-03-31T23:00:00+01:00"]


def test_census_days_span_a_clock_change(store: Store) -> None:
    put_rows(store, "spells", [{"spell_id": "s", "site_code": "S1", "admission_time": t("2024-10-20T12:00Z"),
                                "discharge_time": t("2024-10-30T12:00Z"), "age_band": "65-74"}])
    (row,) = compute(store, "beds-los7-count", period="month", start=dt.date(2024, 10, 1),
                     end=dt.date(2024, 11, 1)).rows
    # censuses at local midnight 21-30 October (10); 7+ days from 28 October (27th 23:00 BST is 7d 11h)
    assert (row.numerator, row.denominator) == (3, 31)


def test_period_helpers() -> None:
    assert period_start(dt.date(2025, 3, 31), "fy") == dt.date(2024, 4, 1)
    assert period_end(dt.date(2024, 4, 1), "fy") == dt.date(2025, 4, 1)
    assert period_end(dt.date(2024, 12, 1), "month") == dt.date(2025, 1, 1)
    assert list(iter_periods(dt.date(2024, 4, 1), dt.date(2024, 4, 1), "day")) == []
    assert count_days(dt.date(2024, 4, 1), dt.date(2024, 5, 1), "weekday") == 22
    assert dt.datetime(2024, 10, 27, 1, 30, tzinfo=LONDON).utcoffset() == dt.timedelta(hours=1)


@pytest.mark.parametrize(("text", "start", "end"), [
    ("2024-04-15", dt.date(2024, 4, 15), dt.date(2024, 4, 16)),
    ("2024-04", dt.date(2024, 4, 1), dt.date(2024, 5, 1)),
    ("2024", dt.date(2024, 1, 1), dt.date(2025, 1, 1)),
    ("2023/24", dt.date(2023, 4, 1), dt.date(2024, 4, 1)),
    ("1999/00", dt.date(1999, 4, 1), dt.date(2000, 4, 1)),
])
def test_period_arguments(text: str, start: dt.date, end: dt.date) -> None:
    assert parse_period_arg(text, option="--from", inclusive_end=False) == start
    assert parse_period_arg(text, option="--to", inclusive_end=True) == end


@pytest.mark.parametrize("text", ["2024-13", "April", "2024/26", "24-04", ""])
def test_bad_period_arguments(text: str) -> None:
    with pytest.raises(UecError, match="is not a period"):
        parse_period_arg(text, option="--from", inclusive_end=False)
