"""Routing: fixed, probabilistic, by class, and by the state of the system."""

from __future__ import annotations

import numpy as np
import pytest

from uec.simulate import (
    EXIT,
    Branch,
    Deterministic,
    Exponential,
    Model,
    Next,
    Node,
    Overflow,
    PatientClass,
    PoissonArrivals,
    Resource,
    ScheduledArrivals,
    ShortestQueue,
    simulate,
)


def test_branch_probabilities() -> None:
    model = Model(
        nodes=[
            Node("triage", Exponential(1.0), routing=Branch({"majors": 0.2, "minors": 0.5, EXIT: 0.3})),
            Node("majors", Exponential(1.0)),
            Node("minors", Exponential(1.0)),
        ],
        arrivals=[PoissonArrivals(60.0, to="triage")],
        horizon=30 * 1440.0,
        until=float("inf"),
    )
    r = simulate(model, seed=1)
    n = r.n_patients
    assert np.sum(r.at("majors")) / n == pytest.approx(0.2, abs=0.01)
    assert np.sum(r.at("minors")) / n == pytest.approx(0.5, abs=0.01)


def test_routes_by_class() -> None:
    model = Model(
        classes=[PatientClass("ambulance"), PatientClass("walk_in")],
        nodes=[
            Node("front door", Deterministic(1.0), routing={"ambulance": Next("majors"), "walk_in": Next("utc")}),
            Node("majors", Deterministic(1.0)),
            Node("utc", Deterministic(1.0)),
        ],
        arrivals=[ScheduledArrivals([0.0, 1.0, 2.0], to="front door", classes=["walk_in", "ambulance", "walk_in"])],
        horizon=10.0,
        until=float("inf"),
    )
    r = simulate(model, seed=0)
    second = r.stage_array("node")[:, 1]
    np.testing.assert_array_equal(second, [2, 1, 2])


def test_overflow_diverts_when_the_queue_is_long() -> None:
    # Majors: one cubicle, 10 minutes each; from 2 waiting on, patients are streamed to the UTC.
    model = Model(
        nodes=[
            Node("streaming", Deterministic(0.0), routing=Overflow("majors", "utc", threshold=2)),
            Node("majors", Deterministic(10.0), Resource("cubicle", 1)),
            Node("utc", Deterministic(10.0), Resource("gp", 1)),
        ],
        arrivals=[ScheduledArrivals([0.0, 1.0, 2.0, 3.0, 4.0], to="streaming")],
        horizon=10.0,
        until=float("inf"),
    )
    r = simulate(model, seed=0)
    # p0 is seen at once, p1 and p2 wait: p3 and p4 find 2 waiting and go to the UTC.
    np.testing.assert_array_equal(r.stage_array("node")[:, 1], [1, 1, 1, 2, 2])


def test_shortest_queue_balances_two_units() -> None:
    model = Model(
        nodes=[
            Node("front door", Deterministic(0.0), routing=ShortestQueue(["a", "b"])),
            Node("a", Deterministic(10.0), Resource("ra", 1)),
            Node("b", Deterministic(10.0), Resource("rb", 2)),
        ],
        arrivals=[ScheduledArrivals([0.0, 0.1, 0.2, 0.3, 0.4, 0.5], to="front door")],
        horizon=10.0,
        until=float("inf"),
    )
    r = simulate(model, seed=0)
    # Loads (waiting - free units): a 0-1=-1, b 0-2=-2 -> b; then a -1 vs b -1 -> a (first listed);
    # then a 0, b -1 -> b; then a 0 vs b 0 -> a; then a 1, b 0 -> b; then a 1 vs b 1 -> a.
    np.testing.assert_array_equal(r.stage_array("node")[:, 1], [2, 1, 2, 1, 2, 1])


def test_feedback_loops_record_every_visit() -> None:
    model = Model(
        nodes=[Node("review", Deterministic(1.0), routing=Branch({"review": 0.5, EXIT: 0.5}))],
        arrivals=[PoissonArrivals(6.0, to="review")],
        horizon=30 * 1440.0,
        until=float("inf"),
    )
    r = simulate(model, seed=3)
    visits = np.bincount(r.patient)
    assert visits.mean() == pytest.approx(2.0, rel=0.03)  # geometric: mean 1 / 0.5
    np.testing.assert_array_equal(np.sort(r.stage[r.patient == r.patient[0]]), np.arange(visits[r.patient[0]]))
