"""Projected-level benchmark: the whole-system model from now, scored at future instants.

Builds (or reuses) a small demo ICS on the embedded store, then times
:func:`uec.escalation.projection.project` (``--hours`` ahead every ``--step`` hours, ``--reps``
replications) and one try-it run (:func:`uec.escalation.tryit.try_action`, the same replications
without and with 20 more escalation beds). Prints the wall time, the time per replication and the
peer: one bare start-from-now replication of the model alone (simulation and contract tables, no
scoring), so the cost of scoring through the escalation code is visible as a ratio.

Run: ``OPENBLAS_NUM_THREADS=1 PYTHONPATH=src .venv/bin/python bench/escalation_projection_bench.py
[--store /tmp/proj.duckdb] [--hours 72] [--reps 5]``. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from pathlib import Path

import numpy as np

from uec.demo import build_demo
from uec.escalation.projection import project
from uec.escalation.tryit import try_action
from uec.simulate import simulate
from uec.store import open_store
from uec.system import build_model, contract_tables, current_state, demo_params


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", default="/tmp/uec-projection-bench.duckdb")
    ap.add_argument("--hours", type=int, default=72)
    ap.add_argument("--step", type=int, default=4)
    ap.add_argument("--reps", type=int, default=5)
    a = ap.parse_args()
    fresh = not Path(a.store).exists()
    store = open_store(a.store)
    if fresh:
        build_demo(store, seed=7, days=10, end=dt.date(2025, 1, 20))
    state = current_state(store)

    def one_bare() -> float:
        t0 = time.perf_counter()
        built = build_model(demo_params(), a.hours / 24.0, state)
        seq = np.random.SeedSequence(42, spawn_key=(0,))
        contract_tables(built, simulate(built.model, seed=seq), seq)
        return time.perf_counter() - t0

    one_bare()  # the first run compiles the engine: time the warm one
    bare = one_bare()

    t0 = time.perf_counter()
    p = project(store, hours=a.hours, step_hours=a.step, reps=a.reps, seed=42)
    projection = time.perf_counter() - t0

    t0 = time.perf_counter()
    try_action(store, "DEMO-A", {"extra_escalation_beds": 20}, hours=min(a.hours, 24), step_hours=a.step,
               reps=a.reps, seed=42)
    tried = time.perf_counter() - t0

    per_rep = projection / a.reps
    print(f"store {a.store} ({'built' if fresh else 'reused'}), now {state.as_of:%Y-%m-%d %H:%M} UTC")
    print(f"one bare replication ({a.hours} h, simulation and contract tables): {bare:.1f} s")
    print(f"projection ({a.hours} h every {a.step} h, {a.reps} replications, {len(p.instants)} instants, "
          f"{len(p.units)} units): {projection:.1f} s, {per_rep:.1f} s a replication "
          f"(ratio to the bare replication {per_rep / bare:.2f})")
    print(f"try-it ({min(a.hours, 24)} h, {a.reps} replications each way): {tried:.1f} s")
    print(json.dumps({"hours": a.hours, "reps": a.reps, "bare_replication_s": round(bare, 2),
                      "projection_s": round(projection, 2), "per_replication_s": round(per_rep, 2),
                      "ratio": round(per_rep / bare, 2), "try_s": round(tried, 2)}))


if __name__ == "__main__":
    main()
