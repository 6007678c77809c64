"""Stored scenario runs: every :class:`~uec.system.types.Comparison` saved, listed and read back.

A run is two tables the store gets on first use (``CREATE TABLE IF NOT EXISTS``, the same SQL on
DuckDB and PostgreSQL): ``scenario_runs``, one row per run (the scenario, its changes as JSON, the
replications, seed, days and times), and ``scenario_run_standards``, one row per standard of a run
(baseline, scenario and difference, each a mean and its 95% interval). A run is saved in one write
transaction, so a reader sees all of it or none of it.

>>> import datetime as dt, tempfile, os
>>> from uec.store import open_store
>>> from uec.system.types import Comparison, Interval, Scenario, StandardComparison
>>> t = dt.datetime(2026, 11, 23, 18, 0, tzinfo=dt.UTC)
>>> c = Comparison(
...     scenario=Scenario("more-beds", changes={"extra_beds": 20}), reps=2, seed=1, days=7.0,
...     started_at=t, finished_at=t, standards=(StandardComparison(
...         "ed-4hr", "4-hour performance", "proportion", True,
...         Interval(0.70, 0.68, 0.72), Interval(0.74, 0.72, 0.76), Interval(0.04, 0.03, 0.05)),))
>>> with tempfile.TemporaryDirectory() as d:
...     store = open_store(os.path.join(d, "uec.duckdb"))
...     run_id = save_run(store, c)
...     [r.name for r in list_runs(store)], get_run(store, run_id) == c
(['more-beds'], True)
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from uec.access import audit
from uec.errors import UecError
from uec.store import Store
from uec.system import queries as Q
from uec.system.queries import RUNS_DDL
from uec.system.types import ChangeValue, Comparison, Interval, Scenario, StandardComparison

__all__ = ["RUNS_DDL", "RunSummary", "get_run", "list_runs", "new_run_id", "save_run"]

_RUN_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class RunSummary:
    """One stored run as the list of runs shows it (the standards are read with :func:`get_run`)."""

    run_id: str
    name: str
    description: str
    baseline: str | None
    changes: Mapping[str, ChangeValue]
    reps: int
    seed: int
    days: float
    started_at: dt.datetime
    finished_at: dt.datetime
    standards: int


def new_run_id(now: dt.datetime | None = None) -> str:
    """A new run id: the UTC time it was made (so ids sort by age) and 6 random hex digits.

    The random part, not a counter, keeps two servers saving at once from choosing the same id.

    >>> rid = new_run_id(dt.datetime(2026, 11, 23, 18, 5, 9, tzinfo=dt.UTC))
    >>> rid[:16], len(rid)
    ('20261123-180509-', 22)
    """
    now = now or dt.datetime.now(dt.UTC)
    return f"{now.astimezone(dt.UTC):%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}"


def _check_run_id(run_id: str) -> None:
    if not _RUN_ID.match(run_id):
        raise UecError(f"{run_id!r} is not a run id: use letters, digits, '-' or '_' (at most 64)")


def _utc(value: Any) -> dt.datetime:
    # DuckDB and PostgreSQL both hand back aware datetimes in the session time zone (UTC here);
    # normalise so a run read back compares equal to the one saved.
    if not isinstance(value, dt.datetime):
        raise TypeError(f"expected a datetime, got {value!r}")
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _float(value: Any) -> float:
    return math.nan if value is None else float(value)


def save_run(store: Store, comparison: Comparison, run_id: str | None = None, *, actor: audit.Actor = None) -> str:
    """Store ``comparison`` as a run and return its id (a new one unless ``run_id`` is given).

    Everything is written in one transaction with its audit entry (``scenario.save``, by ``actor``):
    a failure leaves the store without the run. Saving under an id that is already stored is refused.

    >>> import tempfile, os
    >>> from uec.store import open_store
    >>> t = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    >>> c = Comparison(Scenario("s"), reps=1, seed=0, days=1.0, started_at=t, finished_at=t, standards=())
    >>> with tempfile.TemporaryDirectory() as d:
    ...     store = open_store(os.path.join(d, "uec.duckdb"))
    ...     save_run(store, c, run_id="first")
    ...     save_run(store, c, run_id="first")
    Traceback (most recent call last):
    ...
    uec.errors.UecError: a run with id 'first' is already stored
    """
    run_id = run_id or new_run_id()
    _check_run_id(run_id)
    s = comparison.scenario
    with store.write() as w:
        # The tables are made in the same transaction as the run, so two first saves cannot race.
        Q.create_run_tables(w)
        if Q.run_exists(w, run_id):
            raise UecError(f"a run with id {run_id!r} is already stored")
        Q.insert_run(w, {
            "run_id": run_id, "name": s.name, "description": s.description, "baseline": s.baseline,
            "changes": json.dumps(dict(s.changes), sort_keys=True), "reps": comparison.reps,
            "seed": comparison.seed, "days": float(comparison.days), "started_at": comparison.started_at,
            "finished_at": comparison.finished_at, "saved_at": dt.datetime.now(dt.UTC),
        })
        for i, sc in enumerate(comparison.standards):
            Q.insert_run_standard(w, {
                "run_id": run_id, "position": i, "standard_id": sc.standard_id, "title": sc.title,
                "unit": sc.unit, "hib": sc.higher_is_better,
                "bm": sc.baseline.mean, "bl": sc.baseline.low, "bh": sc.baseline.high,
                "sm": sc.scenario.mean, "sl": sc.scenario.low, "sh": sc.scenario.high,
                "dm": sc.difference.mean, "dl": sc.difference.low, "dh": sc.difference.high,
            })
        audit.record(w, actor=actor, action="scenario.save", object_type="scenario_run", object_id=run_id,
                     before=None, after={"scenario": s.name, "reps": comparison.reps, "seed": comparison.seed,
                                         "days": float(comparison.days), "standards": len(comparison.standards)},
                     request_id=None)
    return run_id


def _changes(text: str) -> dict[str, ChangeValue]:
    loaded = json.loads(text)
    return {str(k): v for k, v in loaded.items()}


def list_runs(store: Store) -> list[RunSummary]:
    """Every stored run, newest first (an empty list for a store that has never saved one).

    >>> import tempfile, os
    >>> from uec.store import open_store
    >>> with tempfile.TemporaryDirectory() as d:
    ...     list_runs(open_store(os.path.join(d, "uec.duckdb")))
    []
    """
    if not Q.run_tables_exist(store):
        return []
    rows = Q.run_summaries(store)
    return [
        RunSummary(
            run_id=r["run_id"], name=r["scenario_name"], description=r["description"], baseline=r["baseline"],
            changes=_changes(r["changes"]), reps=int(r["reps"]), seed=int(r["seed"]), days=float(r["days"]),
            started_at=_utc(r["started_at"]), finished_at=_utc(r["finished_at"]), standards=int(r["standards"]),
        )
        for r in rows
    ]


def get_run(store: Store, run_id: str) -> Comparison:
    """The stored run ``run_id`` as the :class:`Comparison` that was saved.

    >>> import tempfile, os
    >>> from uec.store import open_store
    >>> with tempfile.TemporaryDirectory() as d:
    ...     get_run(open_store(os.path.join(d, "uec.duckdb")), "nope")
    Traceback (most recent call last):
    ...
    uec.errors.UecError: there is no stored run with id 'nope'
    """
    _check_run_id(run_id)
    missing = UecError(f"there is no stored run with id {run_id!r}")
    if not Q.run_tables_exist(store):
        raise missing
    r = Q.run_row(store, run_id)
    if r is None:
        raise missing
    rows = Q.run_standard_rows(store, run_id)
    standards = tuple(
        StandardComparison(
            standard_id=x["standard_id"], title=x["title"], unit=x["unit"],
            higher_is_better=None if x["higher_is_better"] is None else bool(x["higher_is_better"]),
            baseline=Interval(_float(x["baseline_mean"]), _float(x["baseline_low"]), _float(x["baseline_high"])),
            scenario=Interval(_float(x["scenario_mean"]), _float(x["scenario_low"]), _float(x["scenario_high"])),
            difference=Interval(_float(x["difference_mean"]), _float(x["difference_low"]),
                                _float(x["difference_high"])),
        )
        for x in rows
    )
    return Comparison(
        scenario=Scenario(name=r["scenario_name"], description=r["description"], baseline=r["baseline"],
                          changes=_changes(r["changes"])),
        reps=int(r["reps"]), seed=int(r["seed"]), days=float(r["days"]),
        started_at=_utc(r["started_at"]), finished_at=_utc(r["finished_at"]), standards=standards,
    )
