"""Shift patterns: capacity by time of day; no service starts while nobody is on shift."""

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
    Shifts,
    SimulationResult,
    simulate,
)

PATTERN = Shifts.daily({"08:00": 3, "20:00": 1, "23:00": 0})


def held_at(r: SimulationResult, node: str, t: float) -> int:
    """Units held at node ``node`` just after time ``t`` (service or blocked)."""
    m = r.at(node) & ~np.isnan(r.start)
    depart = np.where(np.isnan(r.depart[m]), np.inf, r.depart[m])
    return int(np.sum((r.start[m] <= t) & (depart > t)))


@pytest.fixture(scope="module")
def shifted() -> SimulationResult:
    model = Model(
        resources=[Resource("nurse", PATTERN)],
        nodes=[Node("treatment", Exponential(30.0), "nurse")],
        arrivals=[PoissonArrivals(2.5, to="treatment")],
        horizon=30 * 1440.0,
    )
    return simulate(model, seed=8)


def test_no_service_starts_while_capacity_is_zero(shifted: SimulationResult) -> None:
    starts = shifted.start[~np.isnan(shifted.start)]
    minute_of_day = starts % 1440.0
    assert starts.size > 1000
    assert not np.any((minute_of_day >= 23 * 60) | (minute_of_day < 8 * 60))
    # Queues build overnight and are served from 08:00 on the dot.
    assert np.sum(np.isclose(minute_of_day, 8 * 60)) >= 25


def test_starts_never_exceed_units_on_shift(shifted: SimulationResult) -> None:
    starts = shifted.start[~np.isnan(shifted.start)]
    for t in starts[::7]:
        assert held_at(shifted, "treatment", float(t)) <= PATTERN.capacity_at(float(t))


def test_capacity_integral_follows_the_pattern(shifted: SimulationResult) -> None:
    # Per day: 12 h x 3 + 3 h x 1 + 9 h x 0 = 39 unit-hours.
    assert shifted.capacity[0] == pytest.approx(30 * 39 * 60.0)
    # Services running on past the end of a shift count as occupied time, so utilisation can
    # slightly exceed 1 on an overstretched pattern; this one is not.
    assert 0.5 < shifted.utilisation()["nurse"] < 1.0


def test_capacity_drop_does_not_interrupt_service() -> None:
    # Service 0-120 runs on past the 60-minute end of the only shift; the next patient waits
    # for the next day's shift.
    model = Model(
        resources=[Resource("gp", Shifts((0.0, 60.0), (1, 0), period=1440.0))],
        nodes=[Node("clinic", Deterministic(120.0), "gp")],
        arrivals=[ScheduledArrivals([0.0, 10.0], to="clinic")],
        horizon=100.0,
        until=float("inf"),
    )
    r = simulate(model, seed=0)
    np.testing.assert_allclose(r.start, [0.0, 1440.0])
    np.testing.assert_allclose(r.end, [120.0, 1560.0])


def test_capacity_increase_unblocks_upstream() -> None:
    # Beds open at 08:00: the patient finished in A at 1 stays (blocked) until then.
    model = Model(
        resources=[Resource("bed", Shifts.daily({"00:00": 0, "08:00": 1}))],
        nodes=[
            Node("A", Deterministic(1.0), Resource("cubicle", 1), routing=Next("ward")),
            Node("ward", Deterministic(60.0), "bed", buffer=0),
        ],
        arrivals=[ScheduledArrivals([0.0], to="A")],
        horizon=10.0,
        until=float("inf"),
    )
    r = simulate(model, seed=0)
    np.testing.assert_allclose(r.stage_array("depart"), [[480.0, 540.0]])


def test_draining_stops_when_nothing_can_ever_be_served() -> None:
    model = Model(
        resources=[Resource("nobody", Shifts((0.0,), (0,), period=1440.0))],
        nodes=[Node("limbo", Deterministic(1.0), "nobody")],
        arrivals=[ScheduledArrivals([0.0], to="limbo")],
        horizon=10.0,
        until=float("inf"),
    )
    r = simulate(model, seed=0)
    assert np.isnan(r.start[0])


def test_shift_validation() -> None:
    with pytest.raises(ModelError):
        Shifts((0.0, 0.0), (1, 2))
    with pytest.raises(ModelError):
        Shifts((0.0, 1500.0), (1, 2))
    with pytest.raises(ModelError):
        Shifts((0.0,), (-1,))
    # A pattern that does not start at midnight wraps round from the previous day.
    assert Shifts.daily({"08:00": 2, "20:00": 1}).capacity_at(60.0) == 1
