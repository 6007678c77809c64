"""Priorities: the more urgent class is served first (non-preemptively), FIFO within a class."""

from __future__ import annotations

import numpy as np

from uec.simulate import (
    Deterministic,
    Exponential,
    Model,
    Node,
    PatientClass,
    PoissonArrivals,
    Resource,
    ScheduledArrivals,
    run_replications,
    simulate,
)


def test_hand_checked_priority_order() -> None:
    # One clinician, 1 minute each. p0 (minor) at 0 is seen at once; p1 (minor) at 0.1 and p2
    # (urgent) at 0.2 wait; at 1 the urgent patient goes first although they came later.
    model = Model(
        classes=[PatientClass("urgent", priority=1), PatientClass("minor", priority=3)],
        nodes=[Node("ed", Deterministic(1.0), Resource("clinician", 1))],
        arrivals=[ScheduledArrivals([0.0, 0.1, 0.2], to="ed", classes=["minor", "minor", "urgent"])],
        horizon=10.0,
        until=float("inf"),
    )
    r = simulate(model, seed=0)
    order = np.argsort(r.patient)
    np.testing.assert_allclose(r.start[order], [0.0, 2.0, 1.0])


def test_no_preemption_and_fifo_within_priority() -> None:
    # An urgent arrival does not interrupt a minor patient already being seen; urgent patients
    # among themselves keep arrival order.
    model = Model(
        classes=[PatientClass("urgent", priority=1), PatientClass("minor", priority=2)],
        nodes=[Node("ed", Deterministic(10.0), Resource("clinician", 1))],
        arrivals=[ScheduledArrivals([0.0, 1.0, 2.0, 3.0], to="ed", classes=["minor", "urgent", "minor", "urgent"])],
        horizon=10.0,
        until=float("inf"),
    )
    r = simulate(model, seed=0)
    np.testing.assert_allclose(r.start[np.argsort(r.patient)], [0.0, 10.0, 30.0, 20.0])


def test_shared_pool_serves_urgent_patients_first_with_shorter_waits() -> None:
    model = Model(
        classes=[PatientClass("urgent", 1), PatientClass("standard", 2), PatientClass("minor", 3)],
        nodes=[Node("ed", Exponential(25.0), Resource("clinician", 5))],
        arrivals=[PoissonArrivals(10.0, to="ed", classes={"urgent": 0.2, "standard": 0.5, "minor": 0.3})],
        horizon=120 * 1440.0,
    )
    reps = run_replications(model, reps=3, seed=4)
    waits = {c: np.mean([r.mean_wait("ed", c) for r in reps]) for c in ("urgent", "standard", "minor")}
    assert waits["urgent"] < waits["standard"] < waits["minor"]
    # Conservation: the priority order reshuffles waiting; the overall mean stays near Erlang C.
    overall = np.mean([r.mean_wait("ed") for r in reps])
    assert 15.0 < overall < 22.5
