"""Worked examples published with NHSRplotthedots, reproduced.

Expected values are copied from
tests/testthat/_snaps/ptd_spc_standard.md at commit ea2177d4ccfed7dc14d8f57d20f1114d9b235295
(https://github.com/nhs-r-community/NHSRplotthedots/blob/ea2177d4ccfed7dc14d8f57d20f1114d9b235295/tests/testthat/_snaps/ptd_spc_standard.md),
the snapshots of tests/testthat/test-ptd_spc_standard.R at commit
8aac3239e90ce9ebeb9c3e61f56c207dfc37b225. That test draws ``y = rnorm(20)`` after ``set.seed(123)``
and calls ``ptd_spc_standard`` with ``screen_outliers = TRUE`` (r1); then sets ``y[15] <- 10`` (r2),
and repeats with ``screen_outliers = FALSE`` (r3). The snapshot prints the inputs to 8 decimals and
the outputs to 7 significant figures, so the tolerances below are half a unit in the last printed
place plus the effect of the inputs' rounding.
"""

from __future__ import annotations

import pytest

from uec.spc import Direction, SpecialCause, XmROptions, get_ruleset, xmr

# R 4.x: set.seed(123); rnorm(20), as printed to 8 decimals (the snapshot shows the first five).
RNORM_123 = [
    -0.56047565, -0.23017749, 1.55870831, 0.07050839, 0.12928774,
    1.71506499, 0.46091621, -1.26506123, -0.68685285, -0.44566197,
    1.22408180, 0.35981383, 0.40077145, 0.11068272, -0.55584113,
    1.78691314, 0.49785048, -1.96661716, 0.70135590, -0.47279141,
]  # fmt: skip

# The 2018 rule set is the one NHSRplotthedots 0.2.2 implements.
PTD = get_ruleset("mdc-2018")


def signs(values: list[float], mean: float) -> list[int]:
    return [(v > mean) - (v < mean) for v in values]


def test_r1_screened() -> None:
    chart = xmr(RNORM_123, XmROptions(screen_outliers=True), ruleset=PTD)
    lim = chart.periods[0].limits
    assert lim.mean == pytest.approx(0.1416238, abs=6e-8)
    assert lim.lower == pytest.approx(-3.01138, abs=6e-7)
    assert lim.upper == pytest.approx(3.294627, abs=6e-7)
    assert signs(RNORM_123, lim.mean)[:15] == [-1, -1, 1, -1, -1, 1, 1, -1, -1, -1, 1, 1, 1, -1, -1]
    assert not any(p.outside_limits for p in chart.points)
    # close_to_limits is FALSE for the printed points, so no two-in-three either.
    assert not any(p.two_in_three for p in chart.points)


def test_r2_outlier_screened() -> None:
    y = list(RNORM_123)
    y[14] = 10.0  # R's y[15] <- 10
    lim = xmr(y, XmROptions(screen_outliers=True), ruleset=PTD).periods[0].limits
    assert lim.mean == pytest.approx(0.6694159, abs=6e-8)
    assert lim.lower == pytest.approx(-2.383666, abs=6e-7)
    assert lim.upper == pytest.approx(3.722497, abs=6e-7)
    assert signs(y, lim.mean)[:14] == [-1, -1, 1, -1, -1, 1, -1, -1, -1, -1, 1, -1, -1, -1]


def test_r3_outlier_not_screened() -> None:
    y = list(RNORM_123)
    y[14] = 10.0
    chart = xmr(y, XmROptions(screen_outliers=False), ruleset=PTD)
    lim = chart.periods[0].limits
    assert lim.mean == pytest.approx(0.6694159, abs=6e-8)
    assert lim.lower == pytest.approx(-4.596625, abs=6e-7)
    assert lim.upper == pytest.approx(5.935457, abs=6e-7)
    # As the R test checks: unscreened limits are wider than screened ones.
    screened = xmr(y, XmROptions(screen_outliers=True), ruleset=PTD).periods[0].limits
    assert lim.width > screened.width


def test_two_close_points_on_opposite_sides_are_common_cause() -> None:
    # test-ptd_spc_standard.R, "it only reports special cause for 2of3 points close to limits when
    # they are on the same side of the mean": rep(c(1, -1), 8) with points 15, 16 set to 5.5, -5.5,
    # through ptd_spc() with its defaults (improvement "increase", screen_outliers TRUE).
    data = [1.0, -1.0] * 8
    data[14], data[15] = 5.5, -5.5
    chart = xmr(data, XmROptions(direction=Direction.HIGHER_IS_BETTER, screen_outliers=True), ruleset=PTD)
    lim = chart.periods[0].limits
    assert lim.near_upper < 5.5 < lim.upper  # both really are close to a limit
    assert [p.special_cause for p in chart.points[-2:]] == [SpecialCause.COMMON_CAUSE] * 2
