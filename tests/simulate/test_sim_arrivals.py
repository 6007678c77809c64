"""Time-varying arrivals: counts per hour of day match the rate table within sampling error."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from uec.simulate import (
    Exponential,
    Model,
    Node,
    PoissonArrivals,
    Profile,
    RateTable,
    SampledArrivals,
    ScheduledArrivals,
    simulate,
)

# A plausible emergency department day: quiet at night, peaks late morning and early evening.
HOURLY = [3, 2, 2, 1.5, 1.5, 2, 3, 6, 10, 13, 14, 14, 13, 12, 12, 12, 12, 13, 12, 10, 8, 6, 5, 4]
DAYS = 200


@pytest.mark.parametrize("method", ["inversion", "thinning"])
def test_counts_per_hour_of_day_match_the_rate_table(method: str) -> None:
    stream = PoissonArrivals(RateTable.hour_of_day(HOURLY), to="ed", method=method)  # type: ignore[arg-type]
    times, _ = stream.generate(np.random.default_rng(12), DAYS * 1440.0, ("default",))
    counts = np.bincount((times // 60).astype(int) % 24, minlength=24)
    expected = np.asarray(HOURLY) * DAYS
    # Each hour's total is Poisson: within 4 standard deviations, and jointly a good chi-square fit.
    assert np.all(np.abs(counts - expected) < 4 * np.sqrt(expected))
    chi2 = float(np.sum((counts - expected) ** 2 / expected))
    assert stats.chi2.sf(chi2, df=24) > 0.001
    # A Poisson process: counts in one-hour windows have variance equal to their mean.
    per_window = np.bincount((times // 60).astype(int), minlength=DAYS * 24).reshape(DAYS, 24)
    dispersion = per_window.var(axis=0, ddof=1) / per_window.mean(axis=0)
    assert 0.8 < float(np.median(dispersion)) < 1.2


def test_day_of_week_and_season_multipliers() -> None:
    table = RateTable.hour_of_day([10.0] * 24).scaled(
        Profile.day_of_week([1.3, 1.0, 1.0, 1.0, 1.0, 0.8, 0.8]),
        Profile.month_of_year([1.2] * 3 + [1.0] * 6 + [1.1] * 3),
    )
    assert table.per_hour_at(0.0) == pytest.approx(10 * 1.3 * 1.2)
    assert table.per_hour_at(201 * 1440.0 + 60) == pytest.approx(10 * 0.8 * 1.0)  # day 201: a July "Saturday"
    times, _ = PoissonArrivals(table, to="ed").generate(np.random.default_rng(1), 364 * 1440.0, ("default",))
    weekday = (times // 1440).astype(int) % 7
    monday, saturday = np.sum(weekday == 0), np.sum(weekday == 5)
    assert monday / saturday == pytest.approx(1.3 / 0.8, rel=0.05)
    edges, rates = table.expand(364 * 1440.0)
    assert times.size == pytest.approx(float(np.sum(rates * np.diff(edges))), rel=0.01)


def test_zero_rate_periods_have_no_arrivals() -> None:
    # Open 08:00-20:00 only.
    table = RateTable.hour_of_day([0.0] * 8 + [20.0] * 12 + [0.0] * 4)
    for method in ("inversion", "thinning"):
        times, _ = PoissonArrivals(table, to="ed", method=method).generate(
            np.random.default_rng(2), 10 * 1440.0, ("default",)
        )
        hour = (times // 60) % 24
        assert times.size > 2000 and np.all((hour >= 8) & (hour < 20))


def test_class_mix() -> None:
    stream = PoissonArrivals(30.0, to="ed", classes={"a": 0.25, "b": 0.75})
    _, cls = stream.generate(np.random.default_rng(3), 100 * 1440.0, ("b", "a"))
    assert np.mean(cls == 1) == pytest.approx(0.25, abs=0.01)
    with pytest.raises(ValueError):
        PoissonArrivals(30.0, to="ed", classes={"a": 0.5}).generate(np.random.default_rng(3), 60.0, ("a",))


def _every_ten_minutes(rng: np.random.Generator, horizon: float) -> np.ndarray:
    return np.arange(0.0, horizon + 100, 10.0)[::-1]


def test_scheduled_and_sampled_arrivals_merge_in_time_order() -> None:
    model = Model(
        nodes=[Node("ed", Exponential(1.0))],
        arrivals=[
            ScheduledArrivals([5.0, 15.0, 1000.0], to="ed"),
            SampledArrivals(_every_ten_minutes, to="ed"),
        ],
        horizon=60.0,
    )
    r = simulate(model, seed=0)
    np.testing.assert_allclose(r.arrival, [0, 5, 10, 15, 20, 30, 40, 50])


def test_multiple_streams_are_independent_of_each_others_draws() -> None:
    # Adding a second stream does not change the first stream's arrivals (separate seeds).
    one = Model(nodes=[Node("ed", Exponential(1.0))], arrivals=[PoissonArrivals(5.0, to="ed")], horizon=1440.0)
    two = Model(
        nodes=[Node("ed", Exponential(1.0)), Node("utc", Exponential(1.0))],
        arrivals=[PoissonArrivals(5.0, to="ed"), PoissonArrivals(5.0, to="utc")],
        horizon=1440.0,
    )
    a, b = simulate(one, seed=3), simulate(two, seed=3)
    np.testing.assert_array_equal(a.arrival, b.arrival[b.node[np.argsort(b.patient)] == 0])
