"""Golden test: an open Jackson network against product-form theory.

Two nodes in tandem, then a variant with feedback. In a Jackson network each node behaves as an
independent M/M/c queue fed at its total (external plus internal) arrival rate, so the mean time
in system at each node is the M/M/c value.
"""

from __future__ import annotations

import numpy as np
import pytest

from uec.simulate import (
    EXIT,
    Branch,
    Exponential,
    Model,
    Next,
    Node,
    PoissonArrivals,
    Resource,
    SimulationResult,
    mmc,
    run_replications,
)

YEAR = 365 * 1440.0


def time_at(r: SimulationResult, node: str) -> float:
    """Mean time from joining ``node`` to leaving it, over visits that ended."""
    mask = r.at(node) & ~np.isnan(r.depart)
    return float(np.mean(r.depart[mask] - r.arrive[mask]))


def test_tandem_time_in_system_per_node() -> None:
    # Assessment: M/M/5, 10/h, mean 25 min (rho 0.83); treatment: M/M/2, mean 10 min (rho 0.83).
    model = Model(
        nodes=[
            Node("assessment", Exponential(25.0), Resource("clinician", 5), routing=Next("treatment")),
            Node("treatment", Exponential(10.0), Resource("nurse", 2)),
        ],
        arrivals=[PoissonArrivals(10.0, to="assessment")],
        horizon=YEAR,
    )
    reps = run_replications(model, reps=20, seed=7)
    for node, servers, mean in (("assessment", 5, 25.0), ("treatment", 2, 10.0)):
        theory = mmc(10 / 60, mean, servers).mean_time_in_system
        simulated = np.mean([time_at(r, node) for r in reps])
        assert simulated == pytest.approx(theory, rel=0.03), node


def test_feedback_network_traffic_equations() -> None:
    # A quarter of patients return to assessment after treatment: the assessment node sees
    # lambda / (1 - 0.25) = 4/3 x 6 = 8 arrivals an hour.
    model = Model(
        nodes=[
            Node("assessment", Exponential(30.0), Resource("clinician", 5), routing=Next("treatment")),
            Node(
                "treatment",
                Exponential(12.0),
                Resource("nurse", 2),
                routing=Branch({"assessment": 0.25, EXIT: 0.75}),
            ),
        ],
        arrivals=[PoissonArrivals(6.0, to="assessment")],
        horizon=YEAR,
    )
    reps = run_replications(model, reps=10, seed=11)
    rate = 8.0 / 60
    visits = np.mean([np.sum(r.at("assessment")) / r.n_patients for r in reps])
    assert visits == pytest.approx(4 / 3, rel=0.01)
    for node, servers, mean in (("assessment", 5, 30.0), ("treatment", 2, 12.0)):
        theory = mmc(rate, mean, servers).mean_time_in_system
        simulated = np.mean([time_at(r, node) for r in reps])
        assert simulated == pytest.approx(theory, rel=0.03), node
