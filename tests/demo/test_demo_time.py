"""Time in the demo: local-time patterns (hour, weekday, season, bank holidays) and clock changes.

Demand follows the London clock, instants are stored in UTC. The clock-change tests look at things
the generator places by local time and check they stay put locally while moving in UTC.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest
from demo_stores import Built, autumn, year

from uec.demo import build_demo
from uec.demo._calendar import make_calendar
from uec.store import Store, open_store

LOCAL = "timezone('Europe/London', {})"

@pytest.fixture(scope="module")
def demo_autumn(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return autumn(tmp_path_factory)


@pytest.fixture(scope="module")
def demo_year(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return year(tmp_path_factory)



def _by(store: Store, sql: str) -> dict[Any, float]:
    return {r["k"]: float(r["v"]) for r in store.query(sql)}


# --- clock changes ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def spring(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """A week around Sunday 31 March 2024, when the clocks went forward at 01:00 GMT."""
    store = open_store(str(tmp_path_factory.mktemp("spring") / "uec.duckdb"))
    build_demo(store, seed=5, days=7, end=dt.date(2024, 4, 3))
    return store


def test_calendar_days_are_23_and_25_hours() -> None:
    spring_cal = make_calendar(dt.date(2024, 3, 31), days=1, warmup_days=0)
    autumn_cal = make_calendar(dt.date(2024, 10, 27), days=1, warmup_days=0)
    assert spring_cal.n_hours == 23
    assert autumn_cal.n_hours == 25
    # The autumn day's local hours: 00, 01 (BST), 01 (GMT), 02 ... 23.
    assert list(autumn_cal.hour_local[:4]) == [0, 1, 1, 2]
    assert list(spring_cal.hour_local[:3]) == [0, 2, 3]


def test_scheduled_local_times_survive_the_spring_change(spring: Store) -> None:
    # Elective admissions are booked for 07:00-10:00 local: 06-09 UTC in BST, 07-10 UTC in GMT.
    rows = spring.query(
        f"""SELECT admission_time AS t, hour({LOCAL.format('admission_time')}) AS local_h,
                   hour(admission_time AT TIME ZONE 'UTC') AS utc_h
            FROM spells WHERE admission_method = 'elective'
              AND admission_time >= TIMESTAMPTZ '2024-03-28 00:00:00+00'"""
    )
    assert rows
    assert all(7 <= r["local_h"] < 10 for r in rows)
    change = dt.datetime(2024, 3, 31, 1, tzinfo=dt.UTC)
    before = {r["utc_h"] for r in rows if r["t"] < change}
    after = {r["utc_h"] for r in rows if r["t"] >= change}
    assert before and after
    assert max(before) == 9 and max(after) == 8


def test_census_is_at_eight_local_all_year(spring: Store, demo_autumn: Built) -> None:
    for store in (spring, demo_autumn.store):
        rows = store.query(
            f"SELECT DISTINCT strftime({LOCAL.format('snapshot_time')}, '%H:%M') AS local_t FROM bed_states")
        assert [r["local_t"] for r in rows] == ["08:00"]
    utc = _by(demo_autumn.store, """SELECT hour(snapshot_time AT TIME ZONE 'UTC') AS k, count(*) AS v
                                     FROM bed_states GROUP BY 1""")
    assert set(utc) == {7, 8}  # 07:00 UTC in BST, 08:00 UTC in GMT


def test_no_arrivals_in_the_skipped_spring_hour(spring: Store) -> None:
    # 31 March 2024: 01:00-02:00 local never happened; the UTC hour 01:00-02:00 is 02:00-03:00 BST.
    rows = spring.query(
        f"""SELECT hour({LOCAL.format('arrival_time')}) AS h, count(*) AS n FROM attendances
            WHERE CAST({LOCAL.format('arrival_time')} AS DATE) = DATE '2024-03-31' GROUP BY 1 ORDER BY 1""")
    hours = [r["h"] for r in rows]
    assert 1 not in hours
    assert 0 in hours and 2 in hours


def test_the_repeated_autumn_hour_gets_twice_the_arrivals(demo_autumn: Built) -> None:
    # 27 October 2024 has two 01:00-02:00 local hours (BST then GMT): an ED sees both.
    by_date = _by(demo_autumn.store, f"""
        SELECT CAST({LOCAL.format('arrival_time')} AS DATE) AS k, count(*) AS v FROM attendances
        WHERE service_type = 'ed_type1' AND hour({LOCAL.format('arrival_time')}) = 1
          AND dayofweek({LOCAL.format('arrival_time')}) = 0 GROUP BY 1""")
    change = by_date.pop(dt.date(2024, 10, 27))
    assert change > 1.5 * np.mean(list(by_date.values()))


def test_daily_profile_is_local_not_utc(demo_autumn: Built) -> None:
    # The ED's hourly shape is the same by local hour before and after the change, so in UTC it
    # moves by one hour: the best alignment of the two UTC profiles is a one-hour shift.
    def profile(sql_clock: str, first: str, last: str) -> Any:
        rows = _by(demo_autumn.store, f"""SELECT hour({sql_clock}) AS k, count(*) AS v FROM attendances
            WHERE service_type = 'ed_type1' AND arrival_time >= TIMESTAMPTZ '{first}'
              AND arrival_time < TIMESTAMPTZ '{last}' GROUP BY 1""")
        v = np.array([rows.get(h, 0.0) for h in range(24)])
        return v / v.sum()

    utc = "arrival_time AT TIME ZONE 'UTC'"
    local = LOCAL.format("arrival_time")
    b_utc, a_utc = profile(utc, "2024-09-29", "2024-10-27"), profile(utc, "2024-10-28", "2024-11-25")
    b_loc, a_loc = profile(local, "2024-09-29", "2024-10-27"), profile(local, "2024-10-28", "2024-11-25")
    assert np.abs(b_loc - a_loc).max() < 0.006
    errors = {lag: np.abs(np.roll(b_utc, lag) - a_utc).sum() for lag in (-1, 0, 1)}
    assert min(errors, key=lambda k: errors[k]) == 1


# --- daily, weekly and yearly patterns -------------------------------------------------------------


def test_ed_arrivals_peak_in_the_day_and_trough_before_dawn(demo_autumn: Built) -> None:
    by_hour = _by(demo_autumn.store, f"""SELECT hour({LOCAL.format('arrival_time')}) AS k, count(*) AS v
        FROM attendances WHERE service_type = 'ed_type1' GROUP BY 1""")
    peak = max(by_hour, key=lambda h: by_hour[h])
    trough = min(by_hour, key=lambda h: by_hour[h])
    assert 9 <= peak <= 20
    assert 2 <= trough <= 7
    assert by_hour[peak] > 3 * by_hour[trough]


def test_monday_is_the_busiest_ed_day(demo_autumn: Built) -> None:
    per_day = _by(demo_autumn.store, f"""
        SELECT dayofweek(d) AS k, avg(n) AS v FROM (
          SELECT CAST({LOCAL.format('arrival_time')} AS DATE) AS d, count(*) AS n
          FROM attendances WHERE service_type = 'ed_type1' GROUP BY 1) GROUP BY 1""")
    assert per_day[1] > per_day[0] * 1.08  # Monday against Sunday
    assert per_day[1] == max(per_day.values())


def test_winter_pressure_and_summer_minors(demo_year: Built) -> None:
    s = demo_year.store

    def per_day(sql: str) -> dict[str, float]:
        return _by(s, f"""SELECT CASE WHEN month(d) IN (12, 1, 2) THEN 'winter'
                                      WHEN month(d) IN (6, 7, 8) THEN 'summer' END AS k, avg(n) AS v
                          FROM ({sql}) WHERE month(d) IN (12, 1, 2, 6, 7, 8) GROUP BY 1""")

    day = "CAST(" + LOCAL.format("{}") + " AS DATE)"
    amb = per_day(f"SELECT {day.format('call_time')} AS d, count(*) AS n FROM ambulance_incidents GROUP BY 1")
    adm = per_day(f"""SELECT {day.format('admission_time')} AS d, count(*) AS n FROM spells
                      WHERE admission_method = 'emergency' GROUP BY 1""")
    assert amb["winter"] > amb["summer"] * 1.02
    assert adm["winter"] > adm["summer"] * 1.02
    season = "CASE WHEN month({}) IN (12, 1, 2) THEN 'winter' ELSE 'summer' END"
    perf = _by(s, f"""SELECT {season.format(LOCAL.format('arrival_time'))} AS k,
                             avg(CASE WHEN departure_time - arrival_time <= INTERVAL 4 HOUR THEN 1 ELSE 0 END) AS v
                      FROM attendances WHERE service_type = 'ed_type1'
                        AND month({LOCAL.format('arrival_time')}) IN (12, 1, 2, 6, 7, 8) GROUP BY 1""")
    assert perf["winter"] < perf["summer"] - 0.01
    occ = _by(s, f"""SELECT {season.format(LOCAL.format('snapshot_time'))} AS k,
                            sum(beds_occupied) / sum(beds_open) AS v FROM bed_states
                     WHERE month({LOCAL.format('snapshot_time')}) IN (12, 1, 2, 6, 7, 8) GROUP BY 1""")
    assert occ["winter"] > occ["summer"]
    # Minor injuries and illness peak in late spring and summer (May-July against December-February).
    may_jul = _by(s, f"""SELECT month(d) IN (5, 6, 7) AS k, avg(n) AS v FROM (
        SELECT {day.format('arrival_time')} AS d, count(*) AS n FROM attendances WHERE service_type = 'utc' GROUP BY 1)
        WHERE month(d) IN (12, 1, 2, 5, 6, 7) GROUP BY 1""")
    assert may_jul[True] > may_jul[False]


def test_bank_holidays(demo_year: Built) -> None:
    s = demo_year.store
    day = "CAST(" + LOCAL.format("arrival_time") + " AS DATE)"
    ed = _by(s, f"SELECT {day} AS k, count(*) AS v FROM attendances WHERE service_type = 'ed_type1' GROUP BY 1")
    december = [v for d, v in ed.items() if d.month == 12 and d.day != 25]
    assert ed[dt.date(2024, 12, 25)] < 0.9 * np.mean(december)  # Christmas Day is quiet
    # No elective lists on bank holidays (Easter Monday 2025) or weekends.
    el = _by(s, f"""SELECT CAST({LOCAL.format('admission_time')} AS DATE) AS k, count(*) AS v FROM spells
                    WHERE admission_method = 'elective' GROUP BY 1""")
    assert dt.date(2025, 4, 21) not in el
    assert all(d.weekday() < 5 for d in el if d >= dt.date(2024, 7, 1))
    # 111 is busiest on bank holidays and weekends.
    calls = _by(s, f"SELECT CAST({LOCAL.format('call_time')} AS DATE) AS k, count(*) AS v FROM calls_111 GROUP BY 1")
    weekdays = [v for d, v in calls.items() if d.weekday() < 5 and d != dt.date(2025, 4, 21)]
    assert calls[dt.date(2025, 4, 21)] > 1.4 * np.mean(weekdays)


def test_waits_rise_with_crowding(demo_year: Built) -> None:
    # Days with the fullest wards have longer handovers and fewer patients within 4 hours.
    rows = demo_year.store.query(f"""
        WITH occ AS (
          SELECT CAST({LOCAL.format('snapshot_time')} AS DATE) AS d, site_code,
                 sum(beds_occupied) / sum(beds_open) AS occ FROM bed_states GROUP BY ALL),
        ed AS (
          SELECT CAST({LOCAL.format('arrival_time')} AS DATE) AS d, site_code,
                 avg(CASE WHEN departure_time - arrival_time <= INTERVAL 4 HOUR THEN 1 ELSE 0 END) AS perf
          FROM attendances WHERE service_type = 'ed_type1' GROUP BY ALL),
        ho AS (
          SELECT CAST({LOCAL.format('call_time')} AS DATE) AS d, destination_site AS site_code,
                 avg(epoch(handover_time - hospital_arrival_time)) AS handover
          FROM ambulance_incidents WHERE outcome = 'conveyed_ed' GROUP BY ALL)
        SELECT occ, perf, handover FROM occ JOIN ed USING (d, site_code) JOIN ho USING (d, site_code)""")
    occ = np.array([r["occ"] for r in rows])
    perf = np.array([r["perf"] for r in rows])
    handover = np.array([r["handover"] for r in rows])
    assert np.corrcoef(occ, perf)[0, 1] < -0.3
    assert np.corrcoef(occ, handover)[0, 1] > 0.2


def test_ambulance_response_times_have_a_winter_shape(demo_year: Built) -> None:
    mean = _by(demo_year.store, f"""SELECT month({LOCAL.format('call_time')}) AS k,
                                           avg(epoch(on_scene_time - call_time)) AS v
                                    FROM ambulance_incidents WHERE category = 'C2' GROUP BY 1""")
    assert np.mean([mean[m] for m in (12, 1, 2)]) > np.mean([mean[m] for m in (4, 5, 8)]) * 1.05
