"""A seeded, realistic synthetic ICS of about 1.2 million people, for demonstrations and tests.

``build_demo`` writes patient-level urgent and emergency care for the demo ICS into a store, in one
transaction: NHS 111 calls, ambulance incidents, ED / UTC / SDEC attendances, inpatient spells with
criteria to reside and discharge pathways, 08:00 bed states and urgent community response, plus
the organisations, sites and services they belong to. Volumes, waits and occupancy are calibrated
to published England statistics scaled to the ICS (see ``calibration.yaml`` and
docs/demo-ics.md); the same seed and end date always give the same data.

>>> calibration()["targets"]["four_hour_type1"]["value"]
0.815
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa

from uec.access import audit
from uec.access.audit import Actor
from uec.demo._measure import measure
from uec.demo._model import generate
from uec.demo._tables import event_tables, reference_tables
from uec.errors import UecError
from uec.ics import params as _params
from uec.ics.reference import population_total
from uec.ingest.mixed_in import is_demo_store, mixed_in_warning  # re-exported: the demo's own names for them
from uec.store import Store
from uec.store.queries import next_free_load_id
from uec.system import demo_tables
from uec.system.snapshots import DERIVED_TABLES, derived_tables

__all__ = [
    "DEFAULT_SEED",
    "GENERATORS",
    "CalibrationCheck",
    "DemoData",
    "DemoSummary",
    "build_demo",
    "calibration",
    "check_calibration",
    "default_end",
    "generate_demo",
    "is_demo_store",
    "mixed_in_warning",
]

DEFAULT_SEED = 42
#: How the events are made: ``fast`` (the demo's own generator, placed by formula) or ``model``
#: (the whole-system queueing model, :mod:`uec.system`: waits emerge from crowding).
GENERATORS = ("fast", "model")
_LONDON = ZoneInfo("Europe/London")
# The order tables are written in: reference data first, as a reader would expect.
TABLE_ORDER = ("organisations", "org_hierarchy", "sites", "services", "calls_111", "ambulance_incidents", "attendances",
               "spells", "bed_states", "ucr_referrals", *DERIVED_TABLES)

calibration = _params.calibration


@dataclass(frozen=True)
class CalibrationCheck:
    """One published figure, what the demo data gives, and whether it is within tolerance."""

    name: str
    target: float
    tolerance: float
    achieved: float
    met: bool
    derivation: str

    def as_dict(self) -> dict[str, Any]:
        # NaN (nothing to measure in a very short run) is not JSON: it becomes null.
        achieved = None if math.isnan(self.achieved) else round(self.achieved, 4)
        return {"name": self.name, "target": self.target, "tolerance": self.tolerance,
                "achieved": achieved, "met": self.met, "derivation": self.derivation}


@dataclass(frozen=True)
class DemoData:
    """The generated tables (contract schemas, in memory) and the run that made them."""

    seed: int
    start: dt.date
    end: dt.date
    days: int
    population: int
    tables: dict[str, pa.Table] = field(repr=False)


@dataclass(frozen=True)
class DemoSummary:
    """What ``build_demo`` wrote: rows per table and the calibration targets met."""

    seed: int
    start: dt.date
    end: dt.date
    days: int
    population: int
    rows: dict[str, int]
    calibration: tuple[CalibrationCheck, ...]
    seconds: float

    @property
    def targets_met(self) -> int:
        return sum(c.met for c in self.calibration)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (for ``uec demo --json``).

        >>> s = DemoSummary(1, dt.date(2025, 1, 1), dt.date(2025, 1, 2), 2, 10, {"spells": 3}, (), 0.5)
        >>> s.as_dict()["rows"], s.as_dict()["end"]
        ({'spells': 3}, '2025-01-02')
        """
        return {
            "seed": self.seed, "start": self.start.isoformat(), "end": self.end.isoformat(), "days": self.days,
            "population": self.population, "rows": dict(self.rows), "seconds": round(self.seconds, 2),
            "targets_met": self.targets_met, "targets": len(self.calibration),
            "calibration": [c.as_dict() for c in self.calibration],
        }


def default_end(now: dt.datetime | None = None) -> dt.date:
    """Yesterday in Europe/London: the last complete day.

    >>> default_end(dt.datetime(2025, 3, 30, 23, 30, tzinfo=dt.UTC))  # already 31 March in BST
    datetime.date(2025, 3, 30)
    """
    now = now or dt.datetime.now(dt.UTC)
    return now.astimezone(_LONDON).date() - dt.timedelta(days=1)


def generate_demo(
    *,
    seed: int = DEFAULT_SEED,
    days: int = 730,
    end: dt.date | None = None,
    progress: Callable[[str, float], None] | None = None,
    generator: str = "fast",
) -> DemoData:
    """Generate the demo ICS in memory, without a store.

    ``generator="model"`` runs the whole-system model instead of the fast generator (see
    docs/demo-ics.md): slower, and its waits respond to crowding.

    >>> import datetime
    >>> data = generate_demo(days=2, end=datetime.date(2025, 1, 15))
    >>> data.start, data.tables["sites"].num_rows
    (datetime.date(2025, 1, 14), 10)
    >>> generate_demo(days=2, end=datetime.date(2025, 1, 15), generator="model").tables["bed_states"].num_rows
    12
    """
    if days < 1:
        raise UecError(f"days must be at least 1, not {days}")
    if generator not in GENERATORS:
        raise UecError(f"generator must be one of {', '.join(GENERATORS)}, not {generator!r}")
    end = end or default_end()
    report = progress or _quiet
    start = end - dt.timedelta(days=days - 1)
    if generator == "model":
        tables = demo_tables(seed, start, days, lambda stage, f: report(stage, f * 0.9))
    else:
        g = generate(seed, end, days, report)
        report("tables", 0.55)
        tables = {**reference_tables(g), **event_tables(g)}
    # ED area snapshots, specialty referrals, 111 call handling and capacity snapshots, from the
    # events just made (either generator), so they agree with them.
    report("snapshots", 0.92)
    tables.update(derived_tables(tables, seed, _local_midnight(start), _local_midnight(end + dt.timedelta(days=1))))
    return DemoData(seed=seed, start=start, end=end, days=days,
                    population=population_total(), tables={k: tables[k] for k in TABLE_ORDER})


def _local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=_LONDON)


def check_calibration(data: DemoData) -> tuple[CalibrationCheck, ...]:
    """Each target in ``calibration.yaml`` against what ``data`` gives.

    A short run cannot meet yearly targets (seasons, small numbers); a year or two does.

    >>> import datetime
    >>> checks = check_calibration(generate_demo(days=2, end=datetime.date(2025, 1, 15)))
    >>> [c.target for c in checks if c.name == "g_and_a_beds_per_1000"]
    [1.811]
    """
    targets = calibration()["targets"]
    got = measure(data.tables, data.days, data.population)
    out = []
    for name, t in targets.items():
        achieved = got.get(name, float("nan"))
        value, tol = float(t["value"]), float(t["tol"])
        out.append(CalibrationCheck(name=name, target=value, tolerance=tol, achieved=achieved,
                                    met=bool(abs(achieved - value) <= tol), derivation=str(t["derivation"])))
    return tuple(out)


def build_demo(
    store: Store,
    *,
    seed: int = DEFAULT_SEED,
    days: int = 730,
    end: dt.date | None = None,
    progress: Callable[[str, float], None] | None = None,
    generator: str = "fast",
    actor: Actor = None,
) -> DemoSummary:
    """Generate the demo ICS and write it into ``store`` in one transaction, audited (``demo.build``).

    ``days`` days of events end on ``end`` (default: yesterday, Europe/London). The store must have
    no contract data yet: the demo is a whole ICS, not something to mix with other data. Each
    table is recorded as a load (kind ``demo``) so its rows carry a ``load_id``.
    ``progress(stage, fraction)`` is called as the work goes on. ``generator`` is ``"fast"`` or
    ``"model"`` (the whole-system simulation; ``uec demo`` uses it by default).

    >>> import datetime, tempfile, os
    >>> from uec.store import open_store
    >>> with tempfile.TemporaryDirectory() as d:
    ...     store = open_store(os.path.join(d, "uec.duckdb"))
    ...     summary = build_demo(store, days=2, end=datetime.date(2025, 1, 15))
    ...     store.counts()["bed_states"], summary.rows["bed_states"], summary.start.isoformat()
    (12, 12, '2025-01-14')
    """
    started = time.perf_counter()
    report = progress or _quiet
    if any(store.counts().values()):
        raise UecError(f"store {store.url} already holds data; the demo needs an empty store")
    data = generate_demo(seed=seed, days=days, end=end, progress=lambda s, f: report(s, f * 0.8),
                         generator=generator)
    spec = f"uec.demo seed={seed} days={days} end={data.end.isoformat()}"
    if generator != "fast":
        spec += f" generator={generator}"
    with store.write() as w:
        first = next_free_load_id(w)
        for i, name in enumerate(TABLE_ORDER):
            report(f"writing {name}", 0.8 + 0.2 * i / len(TABLE_ORDER))
            t = data.tables[name]
            load_id = first + i
            w.append(name, t.append_column("load_id", pa.repeat(pa.scalar(load_id, pa.int64()), t.num_rows)))
            w.append("loads", pa.table({
                "load_id": pa.array([load_id], pa.int64()),
                "kind": ["demo"],
                "table_name": [name],
                "file_name": [spec],
                "sha256": [hashlib.sha256(f"{spec} {name}".encode()).hexdigest()],
                "loaded_at": pa.array([dt.datetime.now(dt.UTC)], pa.timestamp("us", tz="UTC")),
                "rows_in": pa.array([t.num_rows], pa.int64()),
                "rows_loaded": pa.array([t.num_rows], pa.int64()),
                "rows_quarantined": pa.array([0], pa.int64()),
            }))
        audit.record(w, actor=actor, action="demo.build", object_type="load",
                     object_id=f"{first}-{first + len(TABLE_ORDER) - 1}", before=None,
                     after={"seed": seed, "days": days, "end": data.end.isoformat(), "generator": generator,
                            "rows": {name: data.tables[name].num_rows for name in TABLE_ORDER}},
                     request_id=None)
    report("checking calibration", 0.99)
    checks = check_calibration(data)
    report("done", 1.0)
    return DemoSummary(seed=seed, start=data.start, end=data.end, days=days, population=data.population,
                       rows={k: v.num_rows for k, v in data.tables.items()}, calibration=checks,
                       seconds=time.perf_counter() - started)


def _quiet(stage: str, fraction: float) -> None:
    """The default progress callback: says nothing."""
