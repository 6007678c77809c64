"""Blocking: a patient keeps their unit until the next node has a place (and loss when full)."""

from __future__ import annotations

import numpy as np
import pytest

from uec.simulate import (
    Deterministic,
    Exponential,
    Model,
    Next,
    Node,
    PoissonArrivals,
    Resource,
    ScheduledArrivals,
    erlang_b,
    run_replications,
    simulate,
)


def tandem(buffer: int | None, arrivals: list[float]) -> Model:
    # A: one cubicle, 1 minute each; B: one bed, 3 minutes each, `buffer` places to wait in.
    return Model(
        nodes=[
            Node("A", Deterministic(1.0), Resource("cubicle", 1), routing=Next("B")),
            Node("B", Deterministic(3.0), Resource("bed", 1), buffer=buffer),
        ],
        arrivals=[ScheduledArrivals(arrivals, to="A")],
        horizon=100.0,
        until=float("inf"),
    )


def test_hand_checked_tandem_with_no_room_downstream() -> None:
    # Three patients at t=0. p0: A 0-1, B 1-4. p1: A 1-2, blocked in A until B frees at 4,
    # B 4-7. p2: waits for A's cubicle, which p1 holds until 4: A 4-5, blocked until 7, B 7-10.
    r = simulate(tandem(buffer=0, arrivals=[0.0, 0.0, 0.0]), seed=0)
    np.testing.assert_allclose(r.stage_array("arrive"), [[0, 1], [0, 4], [0, 7]])
    np.testing.assert_allclose(r.stage_array("start"), [[0, 1], [1, 4], [4, 7]])
    np.testing.assert_allclose(r.stage_array("end"), [[1, 4], [2, 7], [5, 10]])
    np.testing.assert_allclose(r.stage_array("depart"), [[1, 4], [4, 7], [7, 10]])
    # The cubicle was held 0-7 (busy 3 minutes, blocked 4) over a 10-minute run.
    assert r.utilisation()["cubicle"] == pytest.approx(7 / 10)


def test_hand_checked_tandem_with_one_place_to_wait() -> None:
    # With one waiting place at B nobody blocks until the place is taken: p1 moves to B's queue
    # at 2, p2 finishes A at 3 and blocks until p1 starts in B at 4.
    r = simulate(tandem(buffer=1, arrivals=[0.0, 0.0, 0.0]), seed=0)
    np.testing.assert_allclose(r.stage_array("depart")[:, 0], [1, 2, 4])
    np.testing.assert_allclose(r.stage_array("start")[:, 1], [1, 4, 7])


def test_unlimited_buffer_never_blocks() -> None:
    r = simulate(tandem(buffer=None, arrivals=[0.0, 0.0, 0.0]), seed=0)
    np.testing.assert_allclose(r.stage_array("depart")[:, 0], r.stage_array("end")[:, 0])


def test_blocking_cascades_upstream() -> None:
    # A -> B -> C, every buffer zero, C slow: a patient blocked in B keeps A's next patient blocked.
    model = Model(
        nodes=[
            Node("A", Deterministic(1.0), Resource("a", 1), routing=Next("B")),
            Node("B", Deterministic(1.0), Resource("b", 1), routing=Next("C"), buffer=0),
            Node("C", Deterministic(5.0), Resource("c", 1), buffer=0),
        ],
        arrivals=[ScheduledArrivals([0.0, 0.0, 0.0], to="A")],
        horizon=100.0,
        until=float("inf"),
    )
    r = simulate(model, seed=0)
    # p0: A 0-1, B 1-2, C 2-7. p1: A 1-2, B 2-3 then blocked until 7, C 7-12.
    # p2: A 2-3, blocked in A (B busy holding p1) until 7, B 7-8, blocked until 12, C 12-17.
    np.testing.assert_allclose(r.stage_array("start"), [[0, 1, 2], [1, 2, 7], [2, 7, 12]])
    np.testing.assert_allclose(r.stage_array("depart"), [[1, 2, 7], [2, 7, 12], [7, 12, 17]])


def test_external_arrivals_to_a_full_node_are_lost_erlang_b() -> None:
    # M/M/c/c: no waiting room, so arrivals that find every bed full are turned away.
    model = Model(
        nodes=[Node("ward", Exponential(60.0), Resource("bed", 4), buffer=0)],
        arrivals=[PoissonArrivals(3.0, to="ward")],
        horizon=365 * 1440.0,
    )
    reps = run_replications(model, reps=4, seed=9)
    lost = np.mean([r.balked.mean() for r in reps])
    assert lost == pytest.approx(erlang_b(4, 3.0), rel=0.03)
    assert np.all(np.isnan(reps[0].start[reps[0].balked]))
