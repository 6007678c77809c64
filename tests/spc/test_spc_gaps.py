"""An XmR chart over a series with missing periods: no moving range, run or trend spans the gap,
and the chart says so (issue 14: honest charts)."""

from __future__ import annotations

import pytest

from uec.spc import Gap, SpcError, XmROptions, compute_limits, xmr


def test_a_shift_does_not_continue_across_a_gap() -> None:
    # Seven points above the mean: a shift if consecutive, but 4 + 3 either side of a gap are not.
    values = [1, 1, 1, 1, 1, 1, 5, 5, 5, 5, 5, 5, 5, 1, 1, 1, 1]
    assert all(p.shift for p in xmr(values).points[6:13])
    gapped = xmr(values, XmROptions(gaps=[Gap(10, 24)]))
    assert not any(p.shift for p in gapped.points)


def test_a_trend_does_not_continue_across_a_gap() -> None:
    values = [5, 5, 1, 2, 3, 4, 5, 6, 7, 5, 5]
    assert all(p.trend for p in xmr(values).points[2:9])
    assert not any(p.trend for p in xmr(values, XmROptions(gaps=[5])).points)


def test_no_moving_range_spans_the_gap_but_the_limits_cover_both_sides() -> None:
    values = [10.0, 11, 10, 11, 30, 31, 30, 31]
    chart = xmr(values, XmROptions(gaps=[Gap(4, 24)]))
    assert chart.points[4].moving_range is None
    (period,) = chart.periods
    assert period.moving_ranges_used == 6  # 7 ranges less the one across the gap
    lim = period.limits
    assert lim.mean == pytest.approx(sum(values) / 8)
    assert lim.mean_moving_range == pytest.approx(1.0)
    # Bridged as if consecutive, the jump of 19 would inflate the limits.
    assert compute_limits(values).mean_moving_range == pytest.approx(25 / 7)


def test_the_chart_says_what_is_missing_and_how_limits_were_computed() -> None:
    labels = ["Jan 2020", "Feb 2020", "Mar 2020", "Apr 2022", "May 2022", "Jun 2022"]
    from uec.spc import Series

    chart = xmr(Series([5, 6, 5, 7, 6, 5], labels=labels), XmROptions(gaps=[Gap(3, 24)], period_name="month"))
    assert chart.warnings[0] == (
        "24 months missing between Mar 2020 and Apr 2022: the line breaks there, no run or trend continues "
        "across the gap, and the limits are computed from the 6 points on both sides without the moving "
        "range across it.")
    # A rebase at the gap starts new limits after it instead.
    rebased = xmr(Series([5, 6, 5, 7, 6, 5], labels=labels),
                  XmROptions(gaps=[Gap(3, 24)], rebase_at=[3], period_name="month"))
    assert "period 2 starts after it with its own limits" in rebased.gap_notes[0]


def test_bad_gaps_are_refused_in_words() -> None:
    with pytest.raises(SpcError, match="outside the series"):
        xmr([1, 2, 3], XmROptions(gaps=[3]))
    with pytest.raises(SpcError, match="no two consecutive"):
        xmr([1, 2, 3], XmROptions(gaps=[1, 2]))
    with pytest.raises(SpcError, match="strictly increasing"):
        XmROptions(gaps=[2, 2])
