"""Simulation benchmark: an M/M/c queue in ``uec.simulate`` and in plain SimPy, side by side.

The queue: 10 arrivals an hour, 5 servers, mean service 25 minutes, 365 days, 3 replications
(about 263,000 simulated patients each way). Erlang C gives a mean wait in queue of 18.60 minutes.

Peer: the straightforward SimPy model - a ``simpy.Resource`` with capacity 5 and one generator per
patient - with the standard library's ``random`` for its draws (faster than NumPy scalar calls,
so the comparison favours SimPy if anything).

Measure: simulated patients per CPU second (``time.process_time``), including, for ours, arrival
generation and building the result arrays. The numba compile (or cache load) is excluded: ours runs
once to warm up before timing. Ours is timed over several rounds of the 3 replications (it takes a
fraction of a second) and SimPy over one.

Target (issue): at least 20x SimPy's throughput. It then times one replication of a full
demo-ICS year of the whole-system model on one core (``sim_system_bench.time_demo_year``; target
10 s), unless ``--no-demo-year``.

Run: ``.venv/bin/python bench/sim_vs_simpy.py [--days N] [--rounds N]``. The last line is one JSON
object.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from typing import Any

import numpy as np
import simpy

from uec.simulate import Exponential, Model, Node, PoissonArrivals, Resource, mmc, run_replications

ARRIVALS_PER_HOUR = 10.0
SERVERS = 5
MEAN_SERVICE = 25.0  # minutes
REPS = 3


def ours(days: int, rounds: int, seed: int) -> tuple[float, float, float, int, float]:
    """(patients per CPU second, mean wait, its standard error, patients per round, compile-or-load
    seconds)."""
    model = Model(
        nodes=[Node("cubicles", Exponential(MEAN_SERVICE), Resource("cubicle", SERVERS))],
        arrivals=[PoissonArrivals(ARRIVALS_PER_HOUR, to="cubicles")],
        horizon=days * 1440.0,
    )
    t0 = time.perf_counter()
    run_replications(model, reps=1, seed=seed)  # warm-up: numba compiles, or loads its cache
    warm_up = time.perf_counter() - t0

    cpu, patients, waits = 0.0, 0, []
    for k in range(rounds):
        start = time.process_time()
        reps = run_replications(model, reps=REPS, seed=seed + k)
        cpu += time.process_time() - start
        patients += sum(r.n_patients for r in reps)
        waits.extend(r.mean_wait("cubicles") for r in reps)
    se = float(np.std(waits, ddof=1) / np.sqrt(len(waits)))
    return patients / cpu, float(np.mean(waits)), se, patients // rounds, warm_up


def simpy_replication(days: int, seed: int) -> tuple[int, float]:
    """One replication of the plain SimPy model: (patients arrived, mean wait of those served)."""
    rng = random.Random(seed)
    env = simpy.Environment()
    cubicles = simpy.Resource(env, capacity=SERVERS)
    waits: list[float] = []
    arrived = 0

    def patient(env: simpy.Environment) -> Any:
        arrival = env.now
        with cubicles.request() as request:
            yield request
            waits.append(env.now - arrival)
            yield env.timeout(rng.expovariate(1.0 / MEAN_SERVICE))

    def arrivals(env: simpy.Environment) -> Any:
        nonlocal arrived
        while True:
            yield env.timeout(rng.expovariate(ARRIVALS_PER_HOUR / 60.0))
            arrived += 1
            env.process(patient(env))

    env.process(arrivals(env))
    env.run(until=days * 1440.0)
    return arrived, float(np.mean(waits))


def simpy_bench(days: int, seed: int) -> tuple[float, float]:
    """(patients per CPU second, mean wait) over the replications."""
    start = time.process_time()
    results = [simpy_replication(days, seed + k) for k in range(REPS)]
    cpu = time.process_time() - start
    return sum(n for n, _ in results) / cpu, float(np.mean([w for _, w in results]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--rounds", type=int, default=10, help="timed rounds of our 3 replications")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--no-demo-year", action="store_true",
                        help="skip timing a demo-ICS year of the whole-system model")
    args = parser.parse_args()

    theory = mmc(ARRIVALS_PER_HOUR / 60.0, MEAN_SERVICE, SERVERS).mean_wait
    our_rate, our_wait, our_se, per_round, warm_up = ours(args.days, args.rounds, args.seed)
    print(f"ours:  {our_rate:,.0f} patients per CPU second ({args.rounds} rounds of {REPS} x {args.days} days,")
    n_reps = args.rounds * REPS
    print(f"       {per_round:,} patients a round); mean wait {our_wait:.2f} min (s.e. {our_se:.2f}, {n_reps} reps)")
    print(f"       numba compile time excluded: warm-up run first (compile or cache load: {warm_up:.1f} s wall)")
    simpy_rate, simpy_wait = simpy_bench(args.days, args.seed)
    print(f"simpy: {simpy_rate:,.0f} patients per CPU second ({REPS} x {args.days} days);", end=" ")
    print(f"mean wait {simpy_wait:.2f} min")
    print(f"ratio: {our_rate / simpy_rate:.1f}x   Erlang C mean wait: {theory:.2f} min")
    demo: dict[str, object] = {}
    if not args.no_demo_year:
        # The whole-system model: one replication of a full demo-ICS year on one core (target 10 s).
        from sim_system_bench import time_demo_year

        demo = time_demo_year()
        print(f"demo ICS year: {demo['patients']:,} patients, {demo['event_rows']:,} event rows; one replication "
              f"{demo['replication_s']} CPU s (simulate {demo['simulate_s']} + events {demo['events_s']}), "
              f"{demo['with_standards_s']} s with every standard computed (target 10 s)")
    print(
        json.dumps(
            {
                "ours_patients_per_cpu_second": round(our_rate),
                "simpy_patients_per_cpu_second": round(simpy_rate),
                "ratio": round(our_rate / simpy_rate, 1),
                "mean_wait_minutes": round(our_wait, 3),
                "mean_wait_standard_error_minutes": round(our_se, 3),
                "erlang_c_minutes": round(theory, 3),
                "simpy_mean_wait_minutes": round(simpy_wait, 3),
                "numba_compile_excluded": True,
                **({"demo_year_replication_cpu_seconds": demo["replication_s"],
                    "demo_year_with_standards_cpu_seconds": demo["with_standards_s"]} if demo else {}),
            }
        )
    )


if __name__ == "__main__":
    main()
