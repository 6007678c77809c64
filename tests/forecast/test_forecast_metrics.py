"""Metric definitions and their properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from uec.forecast import (
    SCORED_LEVELS,
    crps_from_quantiles,
    interval_coverage,
    mae,
    mase,
    pinball_loss,
    quantile_bias,
    rmse,
    rmsse,
    seasonal_naive_scale,
    signed_quantile_bias,
    smape,
)

values = arrays(np.float64, st.integers(1, 30), elements=st.floats(0, 1e4, allow_nan=False))


def test_mase_matches_hand_computation() -> None:
    insample = np.array([10, 20, 30, 40, 50, 60, 70, 12, 22, 31, 43, 50, 61, 69], dtype=float)
    # Seasonal differences (m = 7): 2, 2, 1, 3, 0, 1, 1 -> mean 10/7.
    assert seasonal_naive_scale(insample, 7) == pytest.approx(10 / 7)
    assert mase([11, 21], [12, 23], insample, 7) == pytest.approx(1.5 / (10 / 7))
    assert rmsse([11, 21], [12, 23], insample, 7) == pytest.approx(np.sqrt(2.5 / (20 / 7)))


def test_smape_is_the_papers_percent_definition() -> None:
    assert smape([2000.0], [2100.0]) == pytest.approx(200 * 100 / 4100)
    assert smape([0.0, 5.0], [0.0, 5.0]) == 0.0


@given(values, st.floats(-100, 100))
def test_point_metrics_bounds(y: np.ndarray, shift: float) -> None:
    f = y + shift
    assert 0 <= smape(y, f) <= 200
    assert mae(y, f) == pytest.approx(abs(shift))
    assert rmse(y, f) >= mae(y, f) - 1e-9


@given(values, values)
def test_median_only_pinball_is_half_mae_and_crps_is_mae(y: np.ndarray, f: np.ndarray) -> None:
    n = min(y.size, f.size)
    y, f = y[:n], f[:n]
    assert pinball_loss(y, f[:, None], [0.5]) == pytest.approx(0.5 * mae(y, f))
    assert crps_from_quantiles(y, f[:, None], [0.5]) == pytest.approx(mae(y, f))


def test_true_quantiles_beat_shifted_ones() -> None:
    rng = np.random.default_rng(0)
    sample = rng.normal(100, 10, 5000)
    true_q = np.quantile(sample, SCORED_LEVELS)
    q = np.tile(true_q, (sample.size, 1))
    assert pinball_loss(sample, q, SCORED_LEVELS) < pinball_loss(sample, q + 5, SCORED_LEVELS)
    assert quantile_bias(sample, q, SCORED_LEVELS) < 0.01
    # Unsigned: too high and too low are both penalised; the signed version tells them apart.
    assert quantile_bias(sample, q + 50, SCORED_LEVELS) > 0.4
    assert quantile_bias(sample, q - 50, SCORED_LEVELS) > 0.4
    assert signed_quantile_bias(sample, q + 50, SCORED_LEVELS) > 0.4
    assert signed_quantile_bias(sample, q - 50, SCORED_LEVELS) < -0.4


def test_quantile_bias_is_published_definition_with_strict_ties() -> None:
    # Poisson counts tie with integer quantiles all the time; an actual equal to the quantile is
    # not "below" it. Hand-computed: levels 0.25, 0.5, 0.75; actuals 1, 2, 2, 3; quantiles 2, 2, 3.
    y = [1, 2, 2, 3]
    q = [[2, 2, 3]] * 4
    # strictly below: 1/4, 1/4, 3/4 -> |0.25-0.25| + |0.5-0.25| + |0.75-0.75| = 0.25, mean 1/12
    assert quantile_bias(y, q, [0.25, 0.5, 0.75]) == pytest.approx(0.25 / 3)
    assert signed_quantile_bias(y, q, [0.25, 0.5, 0.75]) == pytest.approx(-0.25 / 3)
    # Opposite errors cancel in the signed version only.
    q2 = [[0, 10]] * 4
    assert signed_quantile_bias(y, q2, [0.25, 0.75]) == pytest.approx(0.0)
    assert quantile_bias(y, q2, [0.25, 0.75]) == pytest.approx(0.25)


def test_crps_from_quantiles_approximates_normal_crps() -> None:
    # Closed form for N(0, 1) at y = 0: sigma * (2 phi(0) - 1/sqrt(pi)) ≈ 0.2337.
    from scipy.stats import norm

    levels = [i / 100 for i in range(1, 100)]
    q = norm.ppf(levels)[None, :]
    assert crps_from_quantiles([0.0], q, levels) == pytest.approx(0.2337, abs=0.01)


def test_coverage_bounds_inclusive() -> None:
    assert interval_coverage([1, 2, 3], [1, 1, 4], [1, 3, 5]) == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: mae([1, 2], [1]), "actuals have 2 values"),
        (lambda: mae([], []), "no values"),
        (lambda: seasonal_naive_scale([1, 2, 3], 7), "need more than 7"),
        (lambda: mase([1], [1], [5, 5, 5], 1), "MASE is undefined"),
        (lambda: pinball_loss([1, 2], [[1, 2]], [0.1, 0.9]), "must be 2 x 2"),
        (lambda: pinball_loss([1], [[1]], [1.0]), "strictly between 0 and 1"),
    ],
)
def test_metric_errors(call: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()  # type: ignore[operator]
