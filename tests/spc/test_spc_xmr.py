"""XmR limits, baselines, rebasing, screening and point classification on hand-computed series."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from uec.spc import (
    AssuranceIcon,
    Direction,
    Rule,
    Series,
    Side,
    SpcError,
    SpecialCause,
    VariationIcon,
    XmROptions,
    compute_limits,
    default_ruleset,
    get_ruleset,
    xmr,
)

MDC_2018 = get_ruleset("mdc-2018")
MDC_2023 = get_ruleset("mdc-2023")


def test_limits_by_hand() -> None:
    # mean = 58/5 = 11.6; moving ranges 2, 1, 2, 1 -> 1.5; 2.66 * 1.5 = 3.99; (2/3) * 3.99 = 2.66.
    lim = compute_limits([10, 12, 11, 13, 12])
    assert lim.mean == pytest.approx(11.6, abs=1e-12)
    assert lim.mean_moving_range == pytest.approx(1.5, abs=1e-12)
    assert (lim.lower, lim.upper) == pytest.approx((7.61, 15.59), abs=1e-12)
    assert (lim.near_lower, lim.near_upper) == pytest.approx((8.94, 14.26), abs=1e-12)


def test_limits_need_two_points() -> None:
    with pytest.raises(SpcError, match="at least 2 points"):
        compute_limits([1.0])


def test_outlier_screening_drops_large_moving_ranges_once() -> None:
    # NHSRplotthedots vignettes/deviations.Rmd example: mean mR 32/17; 8 and 9 are >= 3.267 x that.
    spike = [1, 2, 1, 2, 10, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1]
    plain = xmr(spike, XmROptions(screen_outliers=False), ruleset=MDC_2018).periods[0]
    screened = xmr(spike, XmROptions(screen_outliers=True), ruleset=MDC_2018).periods[0]
    assert plain.limits.mean_moving_range == pytest.approx(32 / 17)
    assert (plain.moving_ranges_used, plain.moving_ranges_excluded) == (17, 0)
    assert screened.limits.mean_moving_range == pytest.approx(1.0)
    assert (screened.moving_ranges_used, screened.moving_ranges_excluded) == (15, 2)
    assert screened.limits.mean == plain.limits.mean == pytest.approx(35 / 18)


def test_screening_can_leave_only_zero_ranges() -> None:
    # Ranges: nine 0s and one 3, mean 0.3; 3 >= 3.267 * 0.3 so it goes and the rest average 0.
    lim = compute_limits([0.0] * 10 + [3.0], screen_outliers=True)
    assert lim.mean_moving_range == 0.0


def test_screening_a_flat_baseline_keeps_it_flat() -> None:
    # NHSRplotthedots would drop every zero range (0 < 0 is false) and return NaN limits.
    lim = compute_limits([4.0, 4.0, 4.0, 4.0], screen_outliers=True)
    assert (lim.lower, lim.mean, lim.upper) == (4.0, 4.0, 4.0)


def test_baseline_fixes_limits_from_first_points() -> None:
    values = [1, 2, 1, 2, 1, 2, 10, 11]
    chart = xmr(values, XmROptions(baseline=6), ruleset=MDC_2018)
    period = chart.periods[0]
    assert (period.baseline_stop, period.baseline_points, len(period)) == (6, 6, 8)
    assert period.limits.mean == pytest.approx(1.5)
    assert period.limits.mean_moving_range == pytest.approx(1.0)
    assert [p.outside_limits for p in chart.points] == [False] * 6 + [True, True]
    # Moving ranges are still reported for every point after the first.
    assert [p.moving_range for p in chart.points] == [None, 1, 1, 1, 1, 1, 8, 1]


def test_baseline_longer_than_series_uses_all_points() -> None:
    chart = xmr([1, 2, 3], XmROptions(baseline=12), ruleset=MDC_2018)
    assert chart.periods[0].baseline_stop == 3
    assert chart.periods[0].limits.mean == pytest.approx(2.0)


def test_rebase_gives_each_period_its_own_limits() -> None:
    values = [10, 11, 10, 11, 20, 21, 20, 21]
    chart = xmr(values, XmROptions(rebase_at=[4]), ruleset=MDC_2018)
    first, second = chart.periods
    assert (first.start, first.stop, second.start, second.stop) == (0, 4, 4, 8)
    assert first.limits.mean == pytest.approx(10.5)
    assert second.limits.mean == pytest.approx(20.5)
    # The jump of 9 across the rebase is not a moving range of either period.
    assert first.limits.mean_moving_range == second.limits.mean_moving_range == pytest.approx(1.0)
    assert [p.period for p in chart.points] == [0, 0, 0, 0, 1, 1, 1, 1]
    assert [p.moving_range is None for p in chart.points] == [True, False, False, False] * 2
    assert [p.mean for p in chart.points] == pytest.approx([10.5] * 4 + [20.5] * 4)
    assert not any(p.is_special_cause for p in chart.points)


def test_rules_do_not_run_across_a_rebase() -> None:
    # Seven rising points split 3 | 4 by a rebase: no period holds a 7-point trend.
    values = [1, 2, 3, 4, 5, 6, 7]
    assert all(p.trend for p in xmr(values, ruleset=MDC_2018).points)
    assert not any(p.trend for p in xmr(values, XmROptions(rebase_at=[3]), ruleset=MDC_2018).points)


def test_baseline_applies_within_each_period() -> None:
    values = [1, 3, 1, 3, 50, 10, 12, 10, 12, 90]
    chart = xmr(values, XmROptions(baseline=4, rebase_at=[5]), ruleset=MDC_2018)
    assert [p.baseline_stop for p in chart.periods] == [4, 9]
    assert [p.limits.mean for p in chart.periods] == pytest.approx([2.0, 11.0])


def test_precedence_outside_then_trend_then_two_in_three_then_shift() -> None:
    # Baseline 5,6,... gives mean 5.5, mR 1, limits 2.84..8.16, 2-sigma lines 3.73..7.27.
    # Then 9, 8.5 (outside, high), 8, 7.5 (close: two in three, high), all of 9..6.6 falling (trend,
    # low) and 6..6.6 above the mean (an 8-point shift, high).
    values = [5, 6] * 5 + [9, 8.5, 8, 7.5, 7, 6.8, 6.6]
    chart = xmr(values, XmROptions(direction=Direction.HIGHER_IS_BETTER, baseline=10), ruleset=MDC_2018)
    pts = chart.points
    assert pts[9].rules == (Rule.SHIFT,)
    assert pts[10].rules == (Rule.OUTSIDE_LIMITS, Rule.TREND, Rule.SHIFT)
    assert pts[12].rules == (Rule.TREND, Rule.TWO_IN_THREE, Rule.SHIFT)
    assert pts[14].rules == (Rule.TREND, Rule.SHIFT)
    assert [p.side for p in pts[9:]] == [Side.HIGH] * 3 + [Side.LOW] * 5
    assert [p.special_cause for p in pts[9:]] == [SpecialCause.IMPROVEMENT] * 3 + [SpecialCause.CONCERN] * 5
    assert pts[10].deciding_rule is Rule.OUTSIDE_LIMITS
    assert pts[12].deciding_rule is Rule.TREND
    assert chart.variation_icon is VariationIcon.CONCERN_LOW


@pytest.mark.parametrize(
    ("direction", "high", "low"),
    [
        (Direction.HIGHER_IS_BETTER, SpecialCause.IMPROVEMENT, SpecialCause.CONCERN),
        (Direction.LOWER_IS_BETTER, SpecialCause.CONCERN, SpecialCause.IMPROVEMENT),
        (Direction.NEITHER, SpecialCause.NEITHER, SpecialCause.NEITHER),
    ],
)
def test_direction_decides_improvement_or_concern(
    direction: Direction, high: SpecialCause, low: SpecialCause
) -> None:
    values = [5, 6] * 6 + [20, 5, 6, -10]
    chart = xmr(values, XmROptions(direction=direction, baseline=12), ruleset=MDC_2018)
    assert chart.points[12].special_cause is high
    assert chart.points[15].special_cause is low
    assert chart.points[13].special_cause is SpecialCause.COMMON_CAUSE


@pytest.mark.parametrize(
    ("direction", "last", "icon"),
    [
        (Direction.HIGHER_IS_BETTER, 20, VariationIcon.IMPROVEMENT_HIGH),
        (Direction.HIGHER_IS_BETTER, -10, VariationIcon.CONCERN_LOW),
        (Direction.LOWER_IS_BETTER, 20, VariationIcon.CONCERN_HIGH),
        (Direction.LOWER_IS_BETTER, -10, VariationIcon.IMPROVEMENT_LOW),
        (Direction.NEITHER, 20, VariationIcon.NEUTRAL_HIGH),
        (Direction.NEITHER, -10, VariationIcon.NEUTRAL_LOW),
        (Direction.HIGHER_IS_BETTER, 6, VariationIcon.COMMON_CAUSE),
    ],
)
def test_variation_icon_reads_the_most_recent_point(direction: Direction, last: float, icon: VariationIcon) -> None:
    # The earlier spike of 30 must not matter: only the last point decides (ptd_get_icons).
    values = [5, 6] * 6 + [30, 5, 6, 5, last]
    chart = xmr(values, XmROptions(direction=direction, baseline=12), ruleset=MDC_2018)
    assert chart.variation_icon is icon


@pytest.mark.parametrize(
    ("direction", "target", "icon"),
    [
        # limits 50 +/- 2.66 * 2 = 44.68 .. 55.32
        (Direction.HIGHER_IS_BETTER, 40.0, AssuranceIcon.PASS),
        (Direction.HIGHER_IS_BETTER, 60.0, AssuranceIcon.FAIL),
        (Direction.HIGHER_IS_BETTER, 50.0, AssuranceIcon.HIT_OR_MISS),
        (Direction.LOWER_IS_BETTER, 40.0, AssuranceIcon.FAIL),
        (Direction.LOWER_IS_BETTER, 60.0, AssuranceIcon.PASS),
        (Direction.LOWER_IS_BETTER, 55.0, AssuranceIcon.HIT_OR_MISS),
        (Direction.NEITHER, 60.0, None),
        (Direction.HIGHER_IS_BETTER, None, None),
    ],
)
def test_assurance_icon(direction: Direction, target: float | None, icon: AssuranceIcon | None) -> None:
    chart = xmr([49, 51] * 6, XmROptions(direction=direction, target=target), ruleset=MDC_2018)
    assert (chart.periods[0].limits.lower, chart.periods[0].limits.upper) == pytest.approx((44.68, 55.32))
    assert chart.assurance_icon is icon


def test_assurance_uses_the_last_period() -> None:
    # First period 49/51 would fail a target of 70; the rebased period at 79/81 passes it.
    values = [49, 51] * 6 + [79, 81] * 6
    opts = XmROptions(direction=Direction.HIGHER_IS_BETTER, target=70.0, rebase_at=[12])
    assert xmr(values, opts, ruleset=MDC_2018).assurance_icon is AssuranceIcon.PASS


def test_assurance_on_a_limit_is_hit_or_miss() -> None:
    # NHSRplotthedots compares strictly: a target equal to a limit is "inconsistent".
    chart = xmr([49, 51] * 6, XmROptions(direction=Direction.HIGHER_IS_BETTER), ruleset=MDC_2018)
    lower = chart.periods[0].limits.lower
    opts = XmROptions(direction=Direction.HIGHER_IS_BETTER, target=lower)
    assert xmr([49, 51] * 6, opts, ruleset=MDC_2018).assurance_icon is AssuranceIcon.HIT_OR_MISS


def test_two_in_three_differs_between_rule_sets() -> None:
    # Baseline 5,6 x6: limits 2.84..8.16, 2-sigma 7.27. Then 9 (beyond the limit) and 7.5 (close).
    values = [5, 6] * 6 + [9, 7.5, 6]
    opts = XmROptions(baseline=12)
    old = xmr(values, opts, ruleset=MDC_2018).points
    new = xmr(values, opts, ruleset=MDC_2023).points
    assert [p.two_in_three for p in old[12:]] == [False, False, False]
    assert [p.two_in_three for p in new[12:]] == [True, True, False]
    assert old[13].special_cause is SpecialCause.COMMON_CAUSE
    assert new[13].special_cause is SpecialCause.NEITHER


def test_points_carry_dates_labels_and_lines() -> None:
    dates = [dt.date(2024, m, 1) for m in range(1, 5)]
    series = Series([1.0, 2.0, 1.0, 2.0], dates=dates, labels=["Jan", "Feb", "Mar", "Apr"])
    chart = xmr(series, ruleset=MDC_2018)
    p = chart.points[2]
    assert (p.index, p.value, p.date, p.label) == (2, 1.0, dt.date(2024, 3, 1), "Mar")
    lim = chart.periods[0].limits
    assert (p.mean, p.lower_limit, p.upper_limit, p.near_lower, p.near_upper) == (
        lim.mean,
        lim.lower,
        lim.upper,
        lim.near_lower,
        lim.near_upper,
    )
    assert chart.latest is chart.points[-1]
    assert len(chart) == 4


def test_default_ruleset_is_todays_and_recorded() -> None:
    chart = xmr([1, 2, 1, 2])
    assert chart.ruleset == default_ruleset()
    assert chart.screen_outliers is chart.ruleset.screen_outliers


def test_screen_outliers_option_overrides_the_rule_set() -> None:
    screening = dataclasses.replace(MDC_2018, screen_outliers=True)
    assert xmr([1, 2, 1, 2], ruleset=screening).screen_outliers is True
    assert xmr([1, 2, 1, 2], XmROptions(screen_outliers=False), ruleset=screening).screen_outliers is False


def test_short_periods_are_flagged_as_trial_limits() -> None:
    chart = xmr([1, 2] * 10, XmROptions(rebase_at=[14]), ruleset=MDC_2018)
    assert [p.short for p in chart.periods] == [False, True]
    assert chart.warnings == (
        "Period 2 has limits from only 6 points; at least 12 are recommended, so treat them as trial limits.",
    )


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: xmr([1.0]), "at least 2 points"),
        (lambda: xmr([1.0, 2.0, 3.0], XmROptions(rebase_at=[3])), "rebase index 3 is outside"),
        (lambda: xmr([1.0, 2.0, 3.0], XmROptions(rebase_at=[0])), "rebase index 0 is outside"),
        (lambda: xmr([1.0, 2.0, 3.0], XmROptions(rebase_at=[2])), "period 2 .* has 1 point"),
        (lambda: XmROptions(rebase_at=[5, 3]), "strictly increasing"),
        (lambda: XmROptions(baseline=1), "baseline 1 is too short"),
        (lambda: XmROptions(target=float("inf")), "target is inf"),
        (lambda: Series([1.0, float("nan")]), "value 2 is nan"),
        (lambda: Series([1.0, "x"]), "value 2 'x' is not a number"),  # type: ignore[list-item]
        (lambda: Series([1.0, 2.0], dates=[dt.date(2024, 1, 1)]), "1 dates for 2 values"),
        (lambda: Series([1.0, 2.0], dates=[dt.date(2024, 1, 1)] * 2), "dates must strictly increase"),
        (lambda: Series([1.0, 2.0], labels=["a"]), "1 labels for 2 values"),
    ],
)
def test_bad_input_is_refused_with_a_message(call: object, message: str) -> None:
    assert callable(call)
    with pytest.raises(SpcError, match=message):
        call()


def test_spc_error_is_a_value_error_and_a_uec_error() -> None:
    from uec.errors import UecError

    with pytest.raises(ValueError):
        xmr([])
    with pytest.raises(UecError):
        xmr([])


def test_outputs_are_frozen() -> None:
    chart = xmr([1, 2, 1, 2], ruleset=MDC_2018)
    with pytest.raises(dataclasses.FrozenInstanceError):
        chart.points[0].value = 3.0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        chart.periods[0].limits.mean = 3.0  # type: ignore[misc]
