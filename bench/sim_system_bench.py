"""Whole-system model benchmark: one replication of a full demo-ICS year on one core.

Times, in CPU seconds of this process (``time.process_time``; one core - nothing here runs in
parallel), each stage of one replication of the demo ICS for 365 reported days after the warm-up:

- ``simulate``: arrival generation and the compiled event loop;
- ``events``: turning the visits into the contract tables;
- ``standards``: writing them to a temporary DuckDB store and computing every standard.

The numba compile (or cache load) is excluded: a short run warms up first. Target (issue): one
replication of a year in at most 10 s on one core, simulation and events (the standards engine's
DuckDB queries are reported separately).

Run: ``.venv/bin/python bench/sim_system_bench.py [--days N] [--seed N]``. The last line is one JSON
object.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import time

from uec.simulate import simulate
from uec.system.events import contract_tables
from uec.system.model import build_model
from uec.system.params import demo_params
from uec.system.standards import standards_from_tables


def time_demo_year(days: int = 365, seed: int = 1) -> dict[str, object]:
    """One replication of the demo ICS for ``days`` reported days: sizes and CPU seconds per stage."""
    params = demo_params()
    warm = build_model(dataclasses.replace(params, warmup_days=2), days=1)
    simulate(warm.model, seed=0)  # compile or load the engine

    built = build_model(params, days=days)
    t0 = time.process_time()
    result = simulate(built.model, seed=seed)
    t1 = time.process_time()
    tables = contract_tables(built, result, seed)
    t2 = time.process_time()
    values = standards_from_tables(tables, params.start, params.start + dt.timedelta(days=days))
    t3 = time.process_time()
    rows = {k: v.num_rows for k, v in tables.items()}
    return {
        "days": days, "warmup_days": params.warmup_days, "patients": result.n_patients,
        "visits": int(result.node.size), "event_rows": sum(rows[k] for k in ("calls_111", "ambulance_incidents",
                                                                             "attendances", "spells", "bed_states",
                                                                             "ucr_referrals")),
        "simulate_s": round(t1 - t0, 2), "events_s": round(t2 - t1, 2), "standards_s": round(t3 - t2, 2),
        "replication_s": round(t2 - t0, 2), "with_standards_s": round(t3 - t0, 2), "target_s": 10.0,
        "standards": len(values),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    report = time_demo_year(args.days, args.seed)
    for k, v in report.items():
        print(f"{k:18s} {v}")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
