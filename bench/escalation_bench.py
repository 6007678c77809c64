"""Escalation benchmark: every OPEL parameter, score and level of the whole demo ICS at one instant.

Builds (or reuses) the demo ICS on the embedded store (``uec demo --generator fast``), then times
:func:`uec.escalation.status` at one instant: every parameter of every site and organisation from
events and returns, their scores and levels, the pillars and the ICS. The peer is one bare standards
query: ``uec.standards.compute`` of ``ed-4hr`` for that one day at site level, on the same store with
the same warm process. We print both medians and the ratio (ours / one standard). The target is
under 1 second.

Also timed: a day of 15-minute levels (96 instants) and a year of daily levels (365 instants).

Run: ``.venv/bin/python bench/escalation_bench.py [--store /tmp/esc.duckdb] [--at 2026-01-15T12:00]``.
``--store postgresql://…`` times a PostgreSQL store that already holds a demo ICS.
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from uec.escalation import history, status
from uec.standards import compute
from uec.store import open_store

LONDON = ZoneInfo("Europe/London")


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times = []
    result = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", default="/tmp/esc.duckdb")
    ap.add_argument("--at", default="2026-01-15T12:00", help="Local instant (Europe/London).")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--no-history", action="store_true")
    args = ap.parse_args()
    if "://" not in args.store and not Path(args.store).exists():
        subprocess.run([sys.executable, "-m", "uec", "demo", "--store", args.store, "--generator", "fast",
                        "--days", "400", "--end", "2026-11-30"], check=True)
    store = open_store(args.store)
    at = dt.datetime.fromisoformat(args.at).replace(tzinfo=LONDON)
    day = at.date()
    status(store, at)  # warm: imports, the catalogue, the framework, the OS file cache
    compute(store, "ed-4hr", period="day", start=day, end=day + dt.timedelta(days=1), level="site")
    ours, s = timed(lambda: status(store, at), args.repeat)
    bare, _ = timed(lambda: compute(store, "ed-4hr", period="day", start=day, end=day + dt.timedelta(days=1),
                                    level="site"), args.repeat)
    n_params = sum(len(sc.parameters) for sc in (*s.organisations, *s.sites))
    with_value = sum(1 for sc in (*s.organisations, *s.sites) for a in sc.parameters if a.value is not None)
    out: dict[str, Any] = {
        "store": args.store, "at": at.isoformat(), "units": len(s.organisations) + len(s.sites),
        "parameters": n_params, "parameters_with_value": with_value,
        "status_s": round(ours, 4), "one_standard_s": round(bare, 4), "ratio": round(ours / bare, 2),
        "ics_level": s.ics.level, "ics_score": s.ics.score,
    }
    print(f"status of the whole demo ICS at {at:%Y-%m-%d %H:%M %Z}: {ours * 1000:.0f} ms "
          f"({out['units']} units, {n_params} parameters, {with_value} with a value); "
          f"one bare standards query (ed-4hr, one day, by site): {bare * 1000:.0f} ms; ratio {ours / bare:.1f}")
    if not args.no_history:
        d15, _ = timed(lambda: history(store, day, day + dt.timedelta(days=1), "15min"), 1)
        year, _ = timed(lambda: history(store, day - dt.timedelta(days=364), day + dt.timedelta(days=1), "1d"), 1)
        out.update(day_15min_s=round(d15, 2), year_daily_s=round(year, 2))
        print(f"a day every 15 minutes (96 instants): {d15:.2f} s; a year of daily levels (365 instants): {year:.2f} s")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
