"""Stored scenario runs on both stores: saved whole or not at all, listed newest first, read back equal."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from uec.errors import UecError
from uec.store import Store
from uec.system.runs import get_run, list_runs, new_run_id, save_run
from uec.system.types import Comparison, Interval, Scenario, StandardComparison

T0 = dt.datetime(2026, 11, 23, 18, 0, tzinfo=dt.UTC)


def comparison(name: str = "more-beds", **changes: int | float | str) -> Comparison:
    return Comparison(
        scenario=Scenario(name=name, description="20 more G&A beds at every site", baseline="demo",
                          changes=changes or {"extra_beds": 20, "growth": 0.02, "sdec_closes": "23:00"}),
        reps=5, seed=42, days=28.0, started_at=T0, finished_at=T0 + dt.timedelta(seconds=93.5),
        standards=(
            StandardComparison("ed-4hr", "4-hour performance", "proportion", True,
                               Interval(0.71, 0.70, 0.72), Interval(0.75, 0.74, 0.76), Interval(0.04, 0.03, 0.05)),
            StandardComparison("amb-c2-mean", "Category 2 mean response", "minutes", False,
                               Interval(38.2, 35.0, 41.4), Interval(33.1, 31.0, 35.2), Interval(-5.1, -7.0, -3.2)),
            StandardComparison("beds-ga-occupancy", "G&A occupancy", "proportion", None,
                               Interval(0.95, 0.94, 0.96), Interval(0.93, 0.92, 0.94), Interval(-0.02, -0.03, -0.01)),
        ),
    )


def test_a_run_reads_back_as_saved(store: Store) -> None:
    c = comparison()
    run_id = save_run(store, c)
    back = get_run(store, run_id)
    assert back == c
    # Changes keep their types through JSON: an int stays an int, a clock time a string.
    assert type(back.scenario.changes["extra_beds"]) is int
    assert type(back.scenario.changes["growth"]) is float
    assert back.started_at.tzinfo is not None and back.finished_at - back.started_at == dt.timedelta(seconds=93.5)


def test_runs_are_listed_newest_first(store: Store) -> None:
    assert list_runs(store) == []
    first = save_run(store, comparison("first"))
    second = save_run(store, comparison("second", extra_beds=5))
    runs = list_runs(store)
    assert [r.run_id for r in runs] == [second, first]
    assert [r.name for r in runs] == ["second", "first"]
    assert runs[0].changes == {"extra_beds": 5}
    assert runs[0].standards == 3 and runs[0].reps == 5 and runs[0].days == 28.0


def test_a_single_replication_run_keeps_its_missing_intervals(store: Store) -> None:
    # With one replication there is no interval: NaN bounds must survive the store on both engines.
    nan = math.nan
    c = Comparison(Scenario("one"), reps=1, seed=1, days=1.0, started_at=T0, finished_at=T0, standards=(
        StandardComparison("ed-4hr", "4-hour performance", "proportion", True,
                           Interval(0.7, nan, nan), Interval(0.8, nan, nan), Interval(0.1, nan, nan)),))
    back = get_run(store, save_run(store, c)).standards[0]
    assert back.baseline.mean == 0.7 and math.isnan(back.baseline.low) and math.isnan(back.difference.high)


def test_a_failed_save_leaves_nothing(store: Store) -> None:
    c = comparison()
    broken = StandardComparison("x", None, "count", None, Interval(1, 0, 2), Interval(1, 0, 2),  # type: ignore[arg-type]
                                Interval(0, -1, 1))
    bad = Comparison(c.scenario, c.reps, c.seed, c.days, c.started_at, c.finished_at, (*c.standards, broken))
    with pytest.raises(Exception):  # noqa: B017 - the driver's own NOT NULL error, which differs by engine
        save_run(store, bad, run_id="half")
    assert list_runs(store) == []
    with pytest.raises(UecError, match="no stored run"):
        get_run(store, "half")


def test_ids_are_checked(store: Store) -> None:
    save_run(store, comparison(), run_id="mine")
    with pytest.raises(UecError, match="already stored"):
        save_run(store, comparison(), run_id="mine")
    with pytest.raises(UecError, match="not a run id"):
        get_run(store, "x'; DROP TABLE scenario_runs; --")
    with pytest.raises(UecError, match="no stored run with id 'other'"):
        get_run(store, "other")
    assert new_run_id() != new_run_id()
