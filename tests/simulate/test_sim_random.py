"""The engine's random numbers: NumPy's SFC64 bit for bit, and correct variates."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from uec.simulate import (
    Deterministic,
    Empirical,
    Erlang,
    Exponential,
    Gamma,
    Lognormal,
    Normal,
    Triangular,
    Uniform,
)
from uec.simulate._random import stream_state
from uec.simulate.distributions import _draw_many


def test_uniform_stream_is_numpys_sfc64_bit_for_bit() -> None:
    seq = np.random.SeedSequence(12345).spawn(3)[2]
    ours = _draw_many(stream_state(seq).reshape(1, 4), Uniform.kind, 0.0, 1.0, 0.0, np.zeros(1), 1000)
    numpys = np.random.Generator(np.random.SFC64(seq)).random(1000)
    np.testing.assert_array_equal(ours, numpys)


@pytest.mark.parametrize(
    ("dist", "sd"),
    [
        (Exponential(25.0), 25.0),
        (Lognormal(13.3, math.sqrt(2.0)), math.sqrt(2.0)),
        (Normal(16.0, math.sqrt(3.0), minimum=0.5), math.sqrt(3.0)),
        (Gamma(30.0, 12.0), 12.0),
        (Gamma(2.0, 4.0), 4.0),  # shape 0.25 < 1: the boosted branch
        (Erlang(3, 45.0), 45.0 / math.sqrt(3)),
        (Uniform(5.0, 15.0), 10 / math.sqrt(12)),
        (Triangular(5.0, 10.0, 30.0), math.sqrt((25 + 100 + 900 - 50 - 150 - 300) / 18)),
        (Deterministic(7.0), 0.0),
        (Empirical([10.0, 20.0, 60.0]), float(np.std([10.0, 20.0, 60.0]))),
    ],
)
def test_moments(dist, sd) -> None:  # type: ignore[no-untyped-def]
    x = dist.sample(200_000, seed=1)
    assert x.mean() == pytest.approx(dist.mean, rel=0.01, abs=1e-9)
    assert x.std() == pytest.approx(sd, rel=0.02, abs=1e-9)
    assert np.all(x >= 0)


def test_shapes_by_kolmogorov_smirnov() -> None:
    x = Lognormal(5.0, 2.0).sample(20_000, seed=2)
    sigma = math.sqrt(math.log1p(4 / 25))
    assert stats.kstest(x, "lognorm", args=(sigma, 0, 5.0 * math.exp(-(sigma**2) / 2))).pvalue > 0.001
    g = Gamma(30.0, 12.0).sample(20_000, seed=3)
    assert stats.kstest(g, "gamma", args=(6.25, 0, 4.8)).pvalue > 0.001
    t = Triangular(5.0, 10.0, 30.0).sample(20_000, seed=4)
    assert stats.kstest(t, "triang", args=(0.2, 5.0, 25.0)).pvalue > 0.001


def test_empirical_picks_only_observed_values_evenly() -> None:
    x = Empirical([3.0, 5.0, 8.0, 13.0]).sample(40_000, seed=5)
    values, counts = np.unique(x, return_counts=True)
    np.testing.assert_array_equal(values, [3.0, 5.0, 8.0, 13.0])
    assert np.all(np.abs(counts / 40_000 - 0.25) < 0.01)


def test_invalid_parameters() -> None:
    for bad in (lambda: Exponential(0.0), lambda: Lognormal(5.0, -1.0), lambda: Uniform(3.0, 1.0),
                lambda: Triangular(1.0, 0.5, 2.0), lambda: Empirical([]), lambda: Normal(1.0, 1.0, -1.0),
                lambda: Deterministic(-1.0), lambda: Erlang(0, 1.0)):  # fmt: skip
        with pytest.raises(ValueError):
            bad()
