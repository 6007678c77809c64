"""Golden test: an M/M/c queue against Erlang C.

10 arrivals an hour, 5 cubicles, mean service 25 minutes (offered load 4.17 erlangs, utilisation
83%), a year per replication. Erlang C gives a mean wait in queue of 18.60 minutes.

The year-long mean wait of one replication has a standard deviation of about 1.05 minutes (5.6%:
waits are strongly autocorrelated at 83% utilisation), so 100 replications put the grand mean's
standard error near 0.1 minute, and the 2% tolerance (0.37 minute) is 3.5 standard errors.
"""

from __future__ import annotations

import numpy as np
import pytest

from uec.simulate import Exponential, Model, Node, PoissonArrivals, Replications, Resource, mmc, run_replications

YEAR = 365 * 1440.0
REPS = 100


def mmc_model() -> Model:
    return Model(
        nodes=[Node("cubicles", Exponential(25.0), Resource("cubicle", 5))],
        arrivals=[PoissonArrivals(10.0, to="cubicles")],
        horizon=YEAR,
    )


@pytest.fixture(scope="module")
def reps() -> Replications:
    return run_replications(mmc_model(), reps=REPS, seed=1)


def test_erlang_c_value() -> None:
    assert mmc(10 / 60, 25.0, 5).mean_wait == pytest.approx(18.60, abs=0.005)


def test_mean_wait_within_2_percent_of_erlang_c(reps: Replications) -> None:
    waits = np.array([r.mean_wait("cubicles") for r in reps])
    theory = mmc(10 / 60, 25.0, 5).mean_wait
    assert waits.mean() == pytest.approx(theory, rel=0.02)
    # The spread between replications is what the tolerance above was sized on.
    assert 0.5 < waits.std(ddof=1) < 2.0


def test_utilisation_and_probability_of_waiting(reps: Replications) -> None:
    theory = mmc(10 / 60, 25.0, 5)
    util = np.mean([r.utilisation()["cubicle"] for r in reps])
    p_wait = np.mean([np.mean(r.waits("cubicles") > 0) for r in reps])
    assert util == pytest.approx(theory.utilisation, rel=0.01)
    assert p_wait == pytest.approx(theory.p_wait, rel=0.02)


def test_arrival_rate_and_service_times(reps: Replications) -> None:
    first = reps[0]
    assert first.n_patients == pytest.approx(10 * 24 * 365, rel=0.02)
    done = ~np.isnan(first.end)
    assert np.mean(first.service[done]) == pytest.approx(25.0, rel=0.02)
    np.testing.assert_allclose(first.end[done] - first.start[done], first.service[done], atol=1e-6)


def test_littles_law_holds_within_a_run(reps: Replications) -> None:
    # Time-average number waiting (integrated from the visit intervals) = arrival rate x mean wait.
    r = reps[0]
    started = ~np.isnan(r.start)
    area = float(np.sum(r.start[started] - r.arrive[started]))
    assert area / YEAR == pytest.approx(r.n_patients / YEAR * r.mean_wait("cubicles"), rel=0.01)
