"""Hold nodes: a delay in place, during which the patient keeps the unit they held upstream."""

from __future__ import annotations

import numpy as np
import pytest

from uec.simulate import (
    Deterministic,
    Exponential,
    Model,
    ModelError,
    Next,
    Node,
    PoissonArrivals,
    Resource,
    ScheduledArrivals,
    simulate,
)


def ward_then(*after: Node, arrivals: list[float], first: str) -> Model:
    # One bed, 5 minutes of care, then whatever follows.
    return Model(
        nodes=[Node("ward", Deterministic(5.0), Resource("bed", 1), routing=Next(first)), *after],
        arrivals=[ScheduledArrivals(arrivals, to="ward")],
        horizon=100.0,
        until=float("inf"),
    )


def test_the_bed_stays_taken_while_the_patient_waits_in_it() -> None:
    # p0: ward 0-5, waits for transport in the bed 5-7; p1 gets the bed at 7, not at 5.
    r = simulate(ward_then(Node("transport", Deterministic(2.0), hold=True), arrivals=[0.0, 0.0],
                           first="transport"), seed=0)
    np.testing.assert_allclose(r.stage_array("start"), [[0, 5], [7, 12]])
    np.testing.assert_allclose(r.stage_array("depart"), [[5, 7], [12, 14]])
    # The bed was held 0-14 of a 14-minute run.
    assert r.utilisation()["bed"] == pytest.approx(1.0)


def test_a_patient_blocked_at_a_hold_node_keeps_the_bed_until_they_move_on() -> None:
    # home: one package of care, 10 minutes, nowhere to wait. p0: ward 0-5, assessed 5-7, home
    # 7-17. p1: ward 7-12, assessed 12-14, blocked (still in the bed) until home frees at 17.
    # p2 gets the bed at 17.
    model = ward_then(
        Node("assess", Deterministic(2.0), hold=True, routing=Next("home")),
        Node("home", Deterministic(10.0), Resource("package", 1), buffer=0),
        arrivals=[0.0, 0.0, 0.0], first="assess")
    r = simulate(model, seed=0)
    np.testing.assert_allclose(r.stage_array("start"), [[0, 5, 7], [7, 12, 17], [17, 22, 27]])
    np.testing.assert_allclose(r.stage_array("depart")[:, 1], [7, 17, 27])


def test_a_chain_of_hold_nodes_keeps_the_same_unit() -> None:
    model = ward_then(
        Node("medicines", Deterministic(1.0), hold=True, routing=Next("transport")),
        Node("transport", Deterministic(1.0), hold=True),
        arrivals=[0.0, 0.0], first="medicines")
    r = simulate(model, seed=0)
    np.testing.assert_allclose(r.stage_array("start")[:, 0], [0, 7])


def test_held_time_counts_in_the_resources_occupancy() -> None:
    # Little's law on the beds: busy bed-minutes are the sum over patients of the time from the
    # start of care to leaving the hold node (or the run's end).
    model = Model(
        nodes=[
            Node("ward", Exponential(300.0), Resource("bed", 12), routing=Next("wait")),
            Node("wait", Exponential(120.0), hold=True),
        ],
        arrivals=[PoissonArrivals(1.5, to="ward")],  # per hour: 10.5 beds of 12 busy
        horizon=20 * 1440.0,
    )
    r = simulate(model, seed=3)
    ward, wait = (r.node == r.node_names.index(n) for n in ("ward", "wait"))
    start = r.start[ward]
    patient_out = np.full(r.arrival.size, r.stop)
    done = wait & np.isfinite(r.depart)
    patient_out[r.patient[done]] = r.depart[done]
    held = np.minimum(patient_out[r.patient[ward]], r.stop) - start
    held = held[np.isfinite(start)]
    assert r.utilisation()["bed"] == pytest.approx(held.sum() / (12 * r.stop), rel=1e-9)
    assert 0.5 < r.utilisation()["bed"] < 1.0


def test_hold_nodes_have_nothing_of_their_own_and_take_no_arrivals() -> None:
    with pytest.raises(ModelError, match="hold node 'transport' cannot have a resource"):
        ward_then(Node("transport", Deterministic(1.0), Resource("car", 1), hold=True),
                  arrivals=[0.0], first="transport").compile()
    with pytest.raises(ModelError, match="arrivals cannot enter hold node"):
        Model(nodes=[Node("wait", Deterministic(1.0), hold=True)],
              arrivals=[ScheduledArrivals([0.0], to="wait")], horizon=10.0).compile()
