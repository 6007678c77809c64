"""Reneging ("left without being seen"): M/M/c+M against Erlang A, plus deterministic cases."""

from __future__ import annotations

import numpy as np
import pytest

from uec.simulate import (
    Deterministic,
    Exponential,
    Model,
    Node,
    PatientClass,
    PoissonArrivals,
    Resource,
    ScheduledArrivals,
    SimulationResult,
    mmc_abandonment,
    run_replications,
    simulate,
)

YEAR = 365 * 1440.0


def mmcm(mean_patience: float, horizon: float = YEAR) -> Model:
    return Model(
        nodes=[Node("majors", Exponential(25.0), Resource("cubicle", 5), patience=Exponential(mean_patience))],
        arrivals=[PoissonArrivals(10.0, to="majors")],
        horizon=horizon,
    )


def queue_time(r: SimulationResult) -> float:
    """Mean time in queue over all arrivals: until service, or until leaving for those who left."""
    left = np.where(np.isnan(r.start), r.depart, r.start)
    return float(np.nanmean(left - r.arrive))


def test_erlang_a_abandonment_and_wait() -> None:
    theory = mmc_abandonment(10 / 60, 25.0, 5, 30.0)
    reps = run_replications(mmcm(30.0), reps=12, seed=3)
    p_abandon = np.mean([r.reneged.mean() for r in reps])
    wait = np.mean([queue_time(r) for r in reps])
    assert p_abandon == pytest.approx(theory.p_abandon, rel=0.03)
    assert wait == pytest.approx(theory.mean_wait, rel=0.03)
    # Without patience the same queue waits far longer (Erlang C: 18.6 minutes).
    assert theory.mean_wait < 18.6


def test_less_patience_means_more_leave_and_shorter_waits() -> None:
    results = {}
    for patience in (10.0, 60.0, 240.0):
        r = run_replications(mmcm(patience, horizon=90 * 1440.0), reps=3, seed=5)
        results[patience] = (np.mean([x.reneged.mean() for x in r]), np.mean([queue_time(x) for x in r]))
    p = [results[k][0] for k in (10.0, 60.0, 240.0)]
    w = [results[k][1] for k in (10.0, 60.0, 240.0)]
    assert p[0] > p[1] > p[2] > 0
    assert w[0] < w[1] < w[2]


def test_patient_leaves_exactly_when_patience_runs_out() -> None:
    # One cubicle busy 0-10; the second patient (patience 4) leaves at 5; the third (patience
    # 20) is seen at 10.
    model = Model(
        classes=[PatientClass("long"), PatientClass("short")],
        nodes=[
            Node(
                "ed",
                Deterministic(10.0),
                Resource("cubicle", 1),
                patience={"short": Deterministic(4.0), "long": Deterministic(20.0)},
            )
        ],
        arrivals=[ScheduledArrivals([0.0, 1.0, 2.0], to="ed", classes=["long", "short", "long"])],
        horizon=100.0,
        until=float("inf"),
    )
    r = simulate(model, seed=0)
    order = np.argsort(r.patient)
    np.testing.assert_array_equal(r.reneged[order], [False, True, False])
    np.testing.assert_allclose(r.depart[order], [10.0, 5.0, 20.0])
    np.testing.assert_allclose(r.start[order], [0.0, np.nan, 10.0])
    assert r.to_pandas().loc[lambda t: t.reneged, "outcome"].tolist() == ["reneged"]


def test_patience_is_not_drawn_for_patients_seen_at_once() -> None:
    # Ample capacity: nobody waits, so nobody can renege even with tiny patience.
    model = Model(
        nodes=[Node("ed", Exponential(5.0), Resource("cubicle", 50), patience=Deterministic(0.0))],
        arrivals=[PoissonArrivals(6.0, to="ed")],
        horizon=7 * 1440.0,
    )
    r = simulate(model, seed=1)
    assert not r.reneged.any()
