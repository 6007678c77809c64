"""Standards from simulated events, with 95% confidence intervals across replications.

A replication's contract tables go into a temporary DuckDB store and the standards engine computes
every standard it can from events, for the whole ICS over the reported window: no second metrics
code. Across replications each standard gets its mean and a Student-t 95% interval (kept inside
the range its unit allows: see :func:`interval`); a scenario
against its baseline gets the paired difference (the runs share seeds, so replication ``i`` of each
sees the same random numbers where the systems agree: common random numbers).

>>> interval([80.0, 82.0, 81.0, 83.0])
Interval(mean=81.5, low=79.44..., high=83.55...)
>>> interval([1.0])
Interval(mean=1.0, low=nan, high=nan)
"""

from __future__ import annotations

import datetime as dt
import math
import os
import tempfile
from collections.abc import Mapping, Sequence

import numpy as np
import pyarrow as pa
from scipy import stats

from uec.standards import Standard, catalogue, compute_many
from uec.store import open_store

from .types import Interval

__all__ = ["SIM_TABLES", "interval", "paired_interval", "simulated_standards", "standards_from_tables"]

#: Tables a run writes that standards read.
SIM_TABLES = frozenset({"calls_111", "ambulance_incidents", "attendances", "spells", "bed_states", "ucr_referrals",
                        "services", "sites"})


def simulated_standards() -> tuple[Standard, ...]:
    """The catalogue's standards that can be computed from the tables a run writes.

    >>> ids = [s.id for s in simulated_standards()]
    >>> "amb-c2-mean" in ids and "ed-4hr" in ids and "beds-ga-occupancy" in ids
    True
    """
    out = []
    for s in catalogue().standards:
        tables = {r.table for r in s.events}
        if s.events and tables <= SIM_TABLES:
            out.append(s)
    return tuple(out)


def standards_from_tables(tables: Mapping[str, pa.Table], start: dt.date, end: dt.date) -> dict[str, float]:
    """Each simulated standard's value for the whole ICS over ``[start, end)`` (NaN where none).

    The tables go into a fresh temporary DuckDB store that is deleted afterwards.
    """
    chosen = simulated_standards()
    with tempfile.TemporaryDirectory(prefix="uec-sim-") as d:
        store = open_store(os.path.join(d, "run.duckdb"))
        with store.write() as w:
            for name, t in tables.items():
                if t.num_rows:
                    w.append(name, t)
        results = compute_many(store, list(chosen), period="range", start=start, end=end, level="ics",
                               source="events")
    values: dict[str, float] = {}
    for r in results:
        row = r.rows[0] if r.rows else None
        values[r.standard.id] = float(row.value) if row is not None and row.value is not None else math.nan
    return values


#: The range each unit of measure can take: a simulated count, time or share is never below zero
#: and a proportion never above one, so neither are the ends of its interval.
UNIT_BOUNDS: dict[str, tuple[float, float | None]] = {"proportion": (0.0, 1.0)}
NON_NEGATIVE: tuple[float, float | None] = (0.0, None)


def bounds_of(unit: str) -> tuple[float, float | None]:
    """The values a standard measured in ``unit`` can take (every unit of the catalogue is at least 0).

    >>> bounds_of("proportion"), bounds_of("minutes")
    ((0.0, 1.0), (0.0, None))
    """
    return UNIT_BOUNDS.get(unit, NON_NEGATIVE)


def interval(values: Sequence[float], bounds: tuple[float | None, float | None] = (None, None)) -> Interval:
    """Mean and 95% interval of ``values`` (NaNs dropped; bounds NaN with fewer than two).

    The interval is Student t. Where that would cross a bound the quantity cannot cross (``bounds``:
    0 for counts and times, 0 and 1 for proportions), it is the t interval on the log (or logit)
    scale carried back by the delta method, which stays inside and is asymmetric as such a quantity's
    uncertainty is; a mean on the bound itself (every replication 0) has no spread to show.

    >>> interval([0.0, 0.0, 0.0, 20.0]).low < 0 <= interval([0.0, 0.0, 0.0, 20.0], (0.0, None)).low
    True
    >>> i = interval([0.97, 0.99, 1.0, 1.0], (0.0, 1.0)); 0.0 <= i.low < i.mean < i.high <= 1.0
    True
    """
    x = np.asarray([v for v in values if not math.isnan(v)], dtype=np.float64)
    if x.size == 0:
        return Interval(math.nan, math.nan, math.nan)
    mean = float(x.mean())
    if x.size < 2:
        return Interval(mean, math.nan, math.nan)
    t = float(stats.t.ppf(0.975, x.size - 1))
    se = float(x.std(ddof=1) / math.sqrt(x.size))
    low, high = mean - t * se, mean + t * se
    floor, ceiling = bounds
    below = floor is not None and low < floor
    above = ceiling is not None and high > ceiling
    if not (below or above) or se == 0.0:
        return Interval(mean, low, high)
    if floor is not None and ceiling is not None:
        share = (mean - floor) / (ceiling - floor)
        if not 0.0 < share < 1.0:
            return Interval(mean, mean, mean)
        centre, half = math.log(share / (1 - share)), t * se / ((ceiling - floor) * share * (1 - share))
        return Interval(mean, floor + (ceiling - floor) / (1 + math.exp(half - centre)),
                        floor + (ceiling - floor) / (1 + math.exp(-half - centre)))
    if floor is not None:
        if mean <= floor:
            return Interval(mean, mean, mean)
        spread = math.exp(t * se / (mean - floor))
        return Interval(mean, floor + (mean - floor) / spread, floor + (mean - floor) * spread)
    assert ceiling is not None
    if mean >= ceiling:
        return Interval(mean, mean, mean)
    spread = math.exp(t * se / (ceiling - mean))
    return Interval(mean, ceiling - (ceiling - mean) * spread, ceiling - (ceiling - mean) / spread)


def paired_interval(baseline: Sequence[float], scenario: Sequence[float]) -> Interval:
    """The interval of ``scenario - baseline``, replication by replication.

    >>> paired_interval([1.0, 2.0, 3.0], [2.0, 3.0, 4.5]).mean
    1.1666666666666667
    """
    diffs = [s - b for b, s in zip(baseline, scenario, strict=True)]
    return interval(diffs)
