"""Replications: reproducible, independent, and identical however they are spread over processes."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

from uec.simulate import (
    Branch,
    Exponential,
    Lognormal,
    Model,
    Next,
    Node,
    PatientClass,
    PoissonArrivals,
    RateTable,
    Resource,
    Shifts,
    SimulationResult,
    run_replications,
    simulate,
)

COLUMNS = ("arrival", "patient_class", "patient", "stage", "node", "arrive", "start", "end", "depart", "service")


def busy_model() -> Model:
    """Exercises every random stream: arrivals, classes, service, patience, routing, shifts."""
    return Model(
        classes=[PatientClass("urgent", 1), PatientClass("minor", 2)],
        resources=[Resource("clinician", Shifts.daily({"08:00": 4, "22:00": 2})), Resource("bed", 6)],
        nodes=[
            Node(
                "assessment",
                Exponential(20.0),
                "clinician",
                routing=Branch({"ward": 0.3, "discharge": 0.7}),
                patience={"minor": Lognormal(180.0, 90.0)},
            ),
            Node("ward", Exponential(600.0), "bed", routing=Next("discharge"), buffer=0),
            Node("discharge", Exponential(5.0)),
        ],
        arrivals=[
            PoissonArrivals(
                RateTable.hour_of_day([4.0] * 8 + [10.0] * 16), to="assessment", classes={"urgent": 0.3, "minor": 0.7}
            )
        ],
        horizon=14 * 1440.0,
    )


def same(a: SimulationResult, b: SimulationResult) -> bool:
    return all(np.array_equal(getattr(a, c), getattr(b, c), equal_nan=True) for c in COLUMNS) and np.array_equal(
        a.occupied, b.occupied
    )


def test_parallel_runs_give_identical_results_to_serial() -> None:
    model = busy_model()
    serial = run_replications(model, reps=6, seed=2024)
    with ProcessPoolExecutor(max_workers=2) as pool:
        parallel = run_replications(model, reps=6, seed=2024, executor=pool, chunksize=2)
    assert [r.replication for r in parallel] == list(range(6))
    assert all(same(a, b) for a, b in zip(serial, parallel, strict=True))


def test_the_process_shortcut_matches_too() -> None:
    model = busy_model()
    serial = run_replications(model, reps=2, seed=5)
    parallel = run_replications(model, reps=2, seed=5, executor="process")
    assert all(same(a, b) for a, b in zip(serial, parallel, strict=True))


def test_a_replication_does_not_depend_on_how_many_are_run() -> None:
    model = busy_model()
    few, many = run_replications(model, reps=2, seed=99), run_replications(model, reps=5, seed=99)
    assert same(few[1], many[1])
    assert same(simulate(model, seed=99), many[0])


def test_replications_differ_and_seeds_matter() -> None:
    model = busy_model()
    reps = run_replications(model, reps=3, seed=1)
    assert not same(reps[0], reps[1])
    assert not same(reps[0], run_replications(model, reps=1, seed=2)[0])
    again = run_replications(model, reps=3, seed=1)
    assert all(same(a, b) for a, b in zip(reps, again, strict=True))
    assert reps.entropy == 1


def test_the_busy_model_uses_every_feature() -> None:
    r = simulate(busy_model(), seed=3)
    outcomes = set(r.to_pandas()["outcome"].astype(str))
    assert {"done", "reneged"} <= outcomes
    blocked = r.at("assessment") & (r.depart > r.end)
    assert blocked.any()  # some waited in assessment for a ward bed


def test_summarise_and_concatenate() -> None:
    reps = run_replications(busy_model(), reps=3, seed=4)
    table = reps.summarise(lambda r: {"arrivals": r.n_patients, "wait": r.mean_wait("assessment")})
    assert list(table.columns) == ["arrivals", "wait"] and len(table) == 3
    visits = reps.to_pandas()
    assert sorted(visits["replication"].unique()) == [0, 1, 2]
    with pytest.raises(ValueError):
        run_replications(busy_model(), reps=0, seed=1)
