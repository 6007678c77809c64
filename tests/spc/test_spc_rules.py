"""The four special-cause rules on small hand-worked series.

The ``ptd_*`` cases port NHSRplotthedots' own unit tests,
tests/testthat/test-ptd_calculate_point_type.R at commit 8aac3239e90ce9ebeb9c3e61f56c207dfc37b225
(https://github.com/nhs-r-community/NHSRplotthedots/blob/8aac3239e90ce9ebeb9c3e61f56c207dfc37b225/tests/testthat/test-ptd_calculate_point_type.R).
Their helpers return a 1 only at the 7th point of a run and a second helper spreads it over the run;
ours flag the whole run at once, so the expectations below are the spread result.
"""

from __future__ import annotations

import pytest

from uec.spc import Side, SpcError, outside_limits_signals, shift_signals, trend_signals, two_in_three_signals

H, L = Side.HIGH, Side.LOW


def flags(signals: tuple[Side | None, ...]) -> list[int]:
    return [0 if s is None else (1 if s is Side.HIGH else -1) for s in signals]


# --- rule 1: outside the limits ---------------------------------------------------------------


def test_outside_limits_is_strict() -> None:
    # A point exactly on a limit is inside it (ptd_spc_standard: y > upl | y < lpl).
    assert outside_limits_signals([10.0, 10.000001, 0.0, -0.000001], lower=0.0, upper=10.0) == (None, H, None, L)


def test_zero_width_limits_flag_nothing_on_the_line() -> None:
    assert outside_limits_signals([5.0, 5.0, 5.0], lower=5.0, upper=5.0) == (None, None, None)


# --- rule 2: shift ----------------------------------------------------------------------------


def test_ptd_seven_point_one_side_mean_cases() -> None:
    # Signs relative to the mean stand in for values: 1 above, -1 below, with mean 0.
    assert shift_signals([], 0.0, 7) == ()
    assert flags(shift_signals([1] * 6, 0.0, 7)) == [0] * 6
    assert flags(shift_signals([1] * 6 + [-1], 0.0, 7)) == [0] * 7
    assert flags(shift_signals([1] * 8 + [-1], 0.0, 7)) == [1] * 8 + [0]
    assert flags(shift_signals([-1] * 8 + [1], 0.0, 7)) == [-1] * 8 + [0]


def test_shift_flags_every_point_of_a_long_run() -> None:
    values = [9, 11, 12, 11, 13, 12, 11, 14, 12, 8]
    assert flags(shift_signals(values, 10.0, 7)) == [0, 1, 1, 1, 1, 1, 1, 1, 1, 0]


def test_point_on_the_mean_breaks_a_shift() -> None:
    # Seven points above with one exactly on the mean in the middle: two runs of 3 and 4, no shift.
    values = [11, 12, 11, 10, 12, 11, 12, 11]
    assert flags(shift_signals(values, 10.0, 7)) == [0] * 8
    assert flags(shift_signals(values, 10.0, 4)) == [0, 0, 0, 0, 1, 1, 1, 1]


def test_shift_run_length_is_configurable() -> None:
    above = [11.0] * 6
    assert flags(shift_signals(above, 10.0, 6)) == [1] * 6
    assert flags(shift_signals(above, 10.0, 7)) == [0] * 6


def test_run_length_below_two_is_refused() -> None:
    with pytest.raises(SpcError, match="at least 2"):
        shift_signals([1.0], 0.0, 1)
    with pytest.raises(SpcError, match="at least 2"):
        trend_signals([1.0], 0)


# --- rule 3: trend ----------------------------------------------------------------------------


def test_ptd_seven_point_trend_cases() -> None:
    assert trend_signals([], 7) == ()
    assert flags(trend_signals(list(range(1, 7)), 7)) == [0] * 6
    # A repeated value breaks the trend: c(1:3, 3:6).
    assert flags(trend_signals([1, 2, 3, 3, 4, 5, 6], 7)) == [0] * 7
    assert flags(trend_signals(list(range(1, 8)), 7)) == [1] * 7
    assert flags(trend_signals([2, *range(1, 8), 3], 7)) == [0] + [1] * 7 + [0]
    assert flags(trend_signals(list(range(7, 0, -1)), 7)) == [-1] * 7
    assert flags(trend_signals([2, *range(7, 0, -1), 3], 7)) == [0] + [-1] * 7 + [0]


def test_trend_side_is_its_direction_not_its_side_of_the_mean() -> None:
    # A falling run entirely above the mean still reads LOW (NHSRplotthedots issue #171).
    assert trend_signals([20, 19, 18, 17, 16, 15, 14], 7) == (L,) * 7


def test_shared_turning_point_takes_the_later_run() -> None:
    # 1..7 rises then 7..1 falls: point 7 belongs to both runs and reads as the falling one.
    values = [1, 2, 3, 4, 5, 6, 7, 6, 5, 4, 3, 2, 1]
    assert trend_signals(values, 7) == (H,) * 6 + (L,) * 7


def test_each_point_keeps_its_own_runs_direction() -> None:
    # Two falling runs back to back. NHSRplotthedots reads the 1 from the next difference (+9) and
    # calls it increasing; it is the end of a falling run, so we say LOW (docs/spc.md).
    values = [7, 6, 5, 4, 3, 2, 1, 10, 9, 8, 7, 6, 5, 4]
    assert trend_signals(values, 7) == (L,) * 14


def test_six_points_is_a_trend_under_a_six_point_rule_only() -> None:
    assert flags(trend_signals([1, 2, 3, 4, 5, 6], 6)) == [1] * 6
    assert flags(trend_signals([1, 2, 3, 4, 5, 6], 7)) == [0] * 6


# --- rule 4: two in three ---------------------------------------------------------------------

# Mean 0, 2-sigma lines at ±2, limits at ±3: 2.5 is "close" (beyond 2 sigma, inside the limits).
LINES = {"mean": 0.0, "lower": -3.0, "upper": 3.0, "near_lower": -2.0, "near_upper": 2.0}


def two3(values: list[float], beyond: bool = False) -> list[int]:
    return flags(two_in_three_signals(values, count_beyond_limits=beyond, **LINES))


def test_ptd_two_in_three_cases() -> None:
    # ptd_part_of_two_in_three cases: close flags c(1,0,1), c(0,1,1), c(1,1,0) all on one side.
    assert two3([]) == []
    assert two3([2.5, 1.0, 2.5]) == [1, 0, 1]
    assert two3([1.0, 2.5, 2.5]) == [0, 1, 1]
    assert two3([2.5, 2.5, 1.0]) == [1, 1, 0]
    assert two3([1.0, 1.0, 2.5, 1.0, 2.5, 1.0, 1.0]) == [0, 0, 1, 0, 1, 0, 0]
    assert two3([1.0, 1.0, 2.5, 2.5, 1.0, 1.0, 1.0]) == [0, 0, 1, 1, 0, 0, 0]
    # Close points three apart are not two in three: c(1,0,0,1) -> 0, and c(1,0,0,1,1) -> last two.
    assert two3([2.5, 1.0, 1.0, 2.5]) == [0, 0, 0, 0]
    assert two3([2.5, 1.0, 1.0, 2.5, 2.5]) == [0, 0, 0, 1, 1]


def test_ptd_two_in_three_needs_all_three_on_one_side() -> None:
    # The opposite-side cases of the ported test: the middle point below the mean spoils the window.
    assert two3([2.5, -1.0, 2.5]) == [0, 0, 0]
    assert two3([1.0, -2.5, 2.5]) == [0, 0, 0]
    assert two3([2.5, -2.5, 1.0]) == [0, 0, 0]
    assert two3([1.0, -1.0, 2.5, -1.0, 2.5, -1.0, 1.0]) == [0] * 7
    assert two3([-1.0, 1.0, -2.5, 2.5, -1.0, 1.0, -1.0]) == [0] * 7


def test_a_point_on_the_mean_spoils_the_window() -> None:
    assert two3([2.5, 0.0, 2.5]) == [0, 0, 0]


def test_low_side() -> None:
    assert two3([-1.0, -2.5, -2.2]) == [0, -1, -1]


def test_beyond_the_limit_counts_only_when_the_rule_set_says_so() -> None:
    # NHSRplotthedots issue #153: s>3, 2<s<3 does not trigger two-in-three in the 2018 logic...
    assert two3([3.5, 2.5, 1.0]) == [0, 0, 0]
    # ...but does after the Making Data Count change of November 2023 (issue #194).
    assert two3([3.5, 2.5, 1.0], beyond=True) == [1, 1, 0]
    # s>3, s>3, 2<s<3: in 2018 only the close point, alone, so nothing; in 2023 all three.
    assert two3([3.5, 3.5, 2.5]) == [0, 0, 0]
    assert two3([3.5, 3.5, 2.5], beyond=True) == [1, 1, 1]


def test_points_on_the_two_sigma_line_are_not_beyond_it() -> None:
    assert two3([2.0, 2.0, 2.0]) == [0, 0, 0]
