"""Property-based tests: invariants of XmR charts and the rules that must hold for any series."""

from __future__ import annotations

import dataclasses
import itertools

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from uec.spc import (
    Direction,
    RuleSet,
    Side,
    SpecialCause,
    VariationIcon,
    XmROptions,
    XmRResult,
    get_ruleset,
    shift_signals,
    trend_signals,
    xmr,
)

RULESETS = [get_ruleset("mdc-2018"), get_ruleset("mdc-2023")]

# Per test rather than a global profile, which would change every other suite's settings too.
# The machine is shared, so a slow example is not a failure.
spc_settings = settings(deadline=None, max_examples=100)

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
series = st.lists(finite, min_size=2, max_size=60)
integers = st.lists(st.integers(min_value=-(10**6), max_value=10**6).map(float), min_size=2, max_size=60)
rulesets = st.sampled_from(RULESETS)
run_lengths = st.integers(min_value=2, max_value=12)


def with_runs(rs: RuleSet, shift: int | None = None, trend: int | None = None) -> RuleSet:
    return dataclasses.replace(
        rs,
        shift_run_length=shift if shift is not None else rs.shift_run_length,
        trend_run_length=trend if trend is not None else rs.trend_run_length,
    )


def flags(chart: XmRResult) -> list[tuple[bool, bool, bool, bool, Side | None]]:
    return [(p.outside_limits, p.shift, p.trend, p.two_in_three, p.side) for p in chart.points]


@spc_settings
@given(c=finite, n=st.integers(min_value=2, max_value=60), rs=rulesets, screen=st.booleans())
def test_constant_series_has_zero_width_limits_and_no_special_cause(
    c: float, n: int, rs: RuleSet, screen: bool
) -> None:
    chart = xmr([c] * n, XmROptions(direction=Direction.HIGHER_IS_BETTER, screen_outliers=screen), ruleset=rs)
    lim = chart.periods[0].limits
    assert (lim.lower, lim.near_lower, lim.mean, lim.near_upper, lim.upper) == (c, c, c, c, c)
    assert lim.mean_moving_range == 0.0
    assert not any(p.is_special_cause or p.rules for p in chart.points)
    assert chart.variation_icon is VariationIcon.COMMON_CAUSE


@spc_settings
@given(x=series, c=finite, rs=rulesets)
def test_adding_a_constant_moves_the_mean_not_the_width(x: list[float], c: float, rs: RuleSet) -> None:
    scale = 1.0 + max(abs(v) for v in x) + abs(c)
    tol = 1e-9 * scale
    opts = XmROptions(screen_outliers=False)
    before = xmr(x, opts, ruleset=rs).periods[0].limits
    after = xmr([v + c for v in x], opts, ruleset=rs).periods[0].limits
    assert after.mean == pytest.approx(before.mean + c, abs=tol)
    assert after.width == pytest.approx(before.width, abs=tol)
    assert after.mean_moving_range == pytest.approx(before.mean_moving_range, abs=tol)


@spc_settings
@given(x=integers, c=st.integers(min_value=-(10**6), max_value=10**6), screen=st.booleans())
def test_adding_an_integer_keeps_moving_ranges_exactly(x: list[float], c: int, screen: bool) -> None:
    # Integer data: differences are exact, so screening drops the same ranges and mR-bar is identical.
    opts = XmROptions(screen_outliers=screen)
    before = xmr(x, opts, ruleset=RULESETS[0]).periods[0]
    after = xmr([v + c for v in x], opts, ruleset=RULESETS[0]).periods[0]
    assert after.limits.mean_moving_range == before.limits.mean_moving_range
    assert after.moving_ranges_excluded == before.moving_ranges_excluded


@spc_settings
@given(x=series, k=st.floats(min_value=1e-3, max_value=1e3), rs=rulesets)
def test_scaling_by_a_positive_factor_scales_the_limits(x: list[float], k: float, rs: RuleSet) -> None:
    tol = 1e-9 * k * (1.0 + max(abs(v) for v in x))
    opts = XmROptions(screen_outliers=False)
    before = xmr(x, opts, ruleset=rs).periods[0].limits
    after = xmr([k * v for v in x], opts, ruleset=rs).periods[0].limits
    for name in ("mean", "mean_moving_range", "lower", "upper", "near_lower", "near_upper"):
        assert getattr(after, name) == pytest.approx(k * getattr(before, name), abs=tol), name


@spc_settings
@given(x=series, power=st.integers(min_value=-20, max_value=20), rs=rulesets, screen=st.booleans())
def test_scaling_by_a_power_of_two_is_exact(x: list[float], power: int, rs: RuleSet, screen: bool) -> None:
    # Multiplying by 2**j changes no rounding, so limits scale exactly and every flag is unchanged.
    k = 2.0**power
    opts = XmROptions(screen_outliers=screen)
    before = xmr(x, opts, ruleset=rs)
    after = xmr([k * v for v in x], opts, ruleset=rs)
    b, a = before.periods[0].limits, after.periods[0].limits
    assert (a.mean, a.lower, a.upper, a.near_lower, a.near_upper) == (
        k * b.mean,
        k * b.lower,
        k * b.upper,
        k * b.near_lower,
        k * b.near_upper,
    )
    assert flags(after) == flags(before)


SWAP = {
    SpecialCause.IMPROVEMENT: SpecialCause.CONCERN,
    SpecialCause.CONCERN: SpecialCause.IMPROVEMENT,
    SpecialCause.COMMON_CAUSE: SpecialCause.COMMON_CAUSE,
}


@spc_settings
@given(x=series, rs=rulesets, baseline=st.none() | st.integers(min_value=2, max_value=30))
def test_reversing_direction_swaps_improvement_and_concern(
    x: list[float], rs: RuleSet, baseline: int | None
) -> None:
    up = xmr(x, XmROptions(direction=Direction.HIGHER_IS_BETTER, baseline=baseline), ruleset=rs)
    down = xmr(x, XmROptions(direction=Direction.LOWER_IS_BETTER, baseline=baseline), ruleset=rs)
    neither = xmr(x, XmROptions(direction=Direction.NEITHER, baseline=baseline), ruleset=rs)
    assert [SWAP[p.special_cause] for p in up.points] == [p.special_cause for p in down.points]
    assert flags(up) == flags(down) == flags(neither)
    assert all(
        (p.special_cause is SpecialCause.NEITHER) == q.is_special_cause
        for p, q in zip(neither.points, up.points, strict=True)
    )
    swapped = up.variation_icon.value.replace("improvement", "x").replace("concern", "improvement")
    assert down.variation_icon.value == swapped.replace("x", "concern")


increments = st.lists(st.floats(min_value=1e-3, max_value=1e3), min_size=1, max_size=40)


@spc_settings
@given(start=st.floats(min_value=-1e3, max_value=1e3), steps=increments, n=run_lengths, rs=rulesets)
def test_strictly_increasing_series_of_length_n_is_a_trend(
    start: float, steps: list[float], n: int, rs: RuleSet
) -> None:
    values = list(itertools.accumulate(steps, initial=start))
    assume(all(a < b for a, b in itertools.pairwise(values)))
    chart = xmr(values, ruleset=with_runs(rs, trend=n))
    trend = len(values) >= n
    assert all(p.trend is trend for p in chart.points)
    if trend:
        # Mirror image: strictly decreasing is a trend the other way.
        falling = xmr([-v for v in values], ruleset=with_runs(rs, trend=n))
        assert all(p.trend for p in falling.points)
        assert trend_signals([-v for v in values], n) == (Side.LOW,) * len(values)


@spc_settings
@given(start=st.floats(min_value=-1e3, max_value=1e3), steps=increments, n=run_lengths)
def test_one_point_short_is_not_a_trend(start: float, steps: list[float], n: int) -> None:
    values = list(itertools.accumulate(steps, initial=start))[: n - 1]
    assume(len(values) == n - 1)
    assert trend_signals(values, n) == (None,) * (n - 1)


@spc_settings
@given(
    run=st.lists(st.floats(min_value=0.6, max_value=3.0), min_size=1, max_size=13),
    n=run_lengths,
    rs=rulesets,
)
def test_run_of_n_above_the_mean_is_a_shift_and_n_minus_1_is_not(
    run: list[float], n: int, rs: RuleSet
) -> None:
    # Baseline 1,0,... fixes the mean at 0.5 and ends below it; the run sits above; a 0 closes it.
    for k in (n - 1, n):
        above = (run * n)[:k]
        values = [1.0, 0.0] * 6 + above + [0.0]
        chart = xmr(values, XmROptions(baseline=12), ruleset=with_runs(rs, shift=n))
        assert chart.periods[0].limits.mean == 0.5
        assert [p.shift for p in chart.points[12 : 12 + k]] == [k >= n] * k
        assert not any(p.shift for p in chart.points[:12])
        assert not chart.points[-1].shift


@spc_settings
@given(x=series, n=run_lengths)
def test_shift_flags_are_maximal_runs_on_one_side(x: list[float], n: int) -> None:
    mean = sum(x) / len(x)
    signals = shift_signals(x, mean, n)
    for i, s in enumerate(signals):
        if s is not None:
            assert (x[i] > mean) if s is Side.HIGH else (x[i] < mean)


@spc_settings
@given(x=st.lists(finite, min_size=4, max_size=60), data=st.data(), rs=rulesets)
def test_rebasing_equals_separate_charts(x: list[float], data: st.DataObject, rs: RuleSet) -> None:
    k = data.draw(st.integers(min_value=2, max_value=len(x) - 2))
    whole = xmr(x, XmROptions(rebase_at=[k]), ruleset=rs)
    parts = [xmr(x[:k], ruleset=rs), xmr(x[k:], ruleset=rs)]
    assert [p.limits for p in whole.periods] == [c.periods[0].limits for c in parts]
    assert flags(whole) == flags(parts[0]) + flags(parts[1])


@spc_settings
@given(x=series, extra=series, b=st.integers(min_value=2, max_value=30), rs=rulesets)
def test_points_after_the_baseline_do_not_move_the_limits(
    x: list[float], extra: list[float], b: int, rs: RuleSet
) -> None:
    assume(len(x) >= b)
    short = xmr(x[:b], ruleset=rs).periods[0].limits
    long = xmr(x[:b] + extra, XmROptions(baseline=b), ruleset=rs).periods[0].limits
    assert long == short


@spc_settings
@given(x=series, rs=rulesets, screen=st.booleans())
def test_flags_agree_with_the_lines(x: list[float], rs: RuleSet, screen: bool) -> None:
    chart = xmr(x, XmROptions(direction=Direction.HIGHER_IS_BETTER, screen_outliers=screen), ruleset=rs)
    lim = chart.periods[0].limits
    assert lim.lower <= lim.near_lower <= lim.mean <= lim.near_upper <= lim.upper
    for p in chart.points:
        assert p.outside_limits == (p.value > p.upper_limit or p.value < p.lower_limit)
        if p.two_in_three:
            assert p.value > p.near_upper or p.value < p.near_lower
            if not rs.two_in_three_counts_beyond_limits:
                assert not p.outside_limits
        if p.shift:
            assert p.value != p.mean
        assert (p.special_cause is SpecialCause.COMMON_CAUSE) == (not p.rules)
        assert (p.side is None) == (not p.rules)
