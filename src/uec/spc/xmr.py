"""XmR (individuals and moving range) charts as NHS England's Making Data Count draws them.

Per period (the whole series, or each stretch between rebase points):

* mean = mean of the baseline points (all the period's points unless ``baseline`` is set);
* moving ranges = ``|x[i] - x[i-1]|`` between consecutive baseline points of the period (never
  across a gap: missing periods mean the two points are not neighbours);
* optionally screen outliers: drop moving ranges at or above 3.267 × their mean, once, and re-average;
* process limits = mean ± 2.66 × mean moving range; 2-sigma lines = mean ± (2/3)(2.66) × mean
  moving range.

Then the four rules run within each period against its lines, as NHSRplotthedots does, and
within each stretch between gaps: a run, trend or two-in-three window does not continue across one.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from uec.spc.icons import AssuranceIcon, VariationIcon, assurance_icon, variation_icon
from uec.spc.model import (
    Direction,
    Gap,
    Limits,
    Period,
    Series,
    Side,
    SpcError,
    SpecialCause,
    XmROptions,
    XmRPoint,
)
from uec.spc.rules import outside_limits_signals, shift_signals, trend_signals, two_in_three_signals
from uec.spc.ruleset import RuleSet, default_ruleset

__all__ = ["XmRResult", "compute_limits", "xmr"]

_SCREEN_MULTIPLIER = 3.267
_LIMIT_MULTIPLIER = 2.66


def _mean(values: Sequence[float]) -> float:
    # fsum is exactly rounded, and a constant series must get its own value back exactly:
    # otherwise rounding puts every point a hair below the mean and invents a shift.
    lo, hi = min(values), max(values)
    if lo == hi:
        return lo
    return min(max(math.fsum(values) / len(values), lo), hi)


@dataclass(frozen=True)
class _Screened:
    mean_moving_range: float
    used: int
    excluded: int


def _mean_moving_range(values: Sequence[float], screen: bool, screen_multiplier: float,
                       breaks: Sequence[int] = ()) -> _Screened:
    """``breaks`` are positions in ``values`` that follow a gap: no moving range ends there."""
    ranges = [abs(values[i] - values[i - 1]) for i in range(1, len(values)) if i not in breaks]
    if not ranges:
        raise SpcError("no two consecutive points to take a moving range from: every point is cut off by a gap")
    amr = math.fsum(ranges) / len(ranges)
    if screen and amr > 0:
        # NHSRplotthedots keeps mr < 3.267 * amr (strictly), screening once. With amr == 0 it would
        # drop every range and return NaN limits; a flat baseline has nothing to screen.
        kept = [r for r in ranges if r < screen_multiplier * amr]
        return _Screened(math.fsum(kept) / len(kept), len(kept), len(ranges) - len(kept))
    return _Screened(amr, len(ranges), 0)


def compute_limits(
    values: Sequence[float],
    *,
    limit_multiplier: float = _LIMIT_MULTIPLIER,
    screen_outliers: bool = False,
    screen_multiplier: float = _SCREEN_MULTIPLIER,
) -> Limits:
    """Mean, mean moving range, process limits and 2-sigma lines from a run of at least 2 values.

    >>> lim = compute_limits([10, 12, 11, 13, 12])
    >>> lim.mean, lim.mean_moving_range
    (11.6, 1.5)
    >>> round(lim.lower, 2), round(lim.upper, 2), round(lim.near_lower, 2), round(lim.near_upper, 2)
    (7.61, 15.59, 8.94, 14.26)
    >>> spike = [1, 2, 1, 2, 10, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1]
    >>> round(compute_limits(spike).mean_moving_range, 4)
    1.8824
    >>> compute_limits(spike, screen_outliers=True).mean_moving_range
    1.0
    """
    vals = [float(v) for v in values]
    if len(vals) < 2:
        raise SpcError(f"limits need at least 2 points, got {len(vals)}")
    return _limits(vals, _mean_moving_range(vals, screen_outliers, screen_multiplier), limit_multiplier)


def _limits(values: Sequence[float], screened: _Screened, limit_multiplier: float) -> Limits:
    mean = _mean(values)
    amr = screened.mean_moving_range
    near = 2 * (limit_multiplier / 3)
    return Limits(
        mean=mean,
        mean_moving_range=amr,
        lower=mean - limit_multiplier * amr,
        upper=mean + limit_multiplier * amr,
        near_lower=mean - near * amr,
        near_upper=mean + near * amr,
    )


@dataclass(frozen=True)
class XmRResult:
    """A computed XmR chart: its points, periods, the rule set used and the summary icons.

    ``variation_icon`` is read from the most recent point and ``assurance_icon`` from the most
    recent period's limits (``None`` without a target, or when neither direction is better), as
    NHSRplotthedots' ``ptd_get_icons`` and ``ptd_calculate_assurance_type`` do.
    """

    points: tuple[XmRPoint, ...]
    periods: tuple[Period, ...]
    direction: Direction
    ruleset: RuleSet
    screen_outliers: bool
    target: float | None
    variation_icon: VariationIcon
    assurance_icon: AssuranceIcon | None
    gaps: tuple[Gap, ...] = ()
    period_name: str = "period"

    def __len__(self) -> int:
        return len(self.points)

    @property
    def latest(self) -> XmRPoint:
        """The most recent point.

        >>> xmr([4, 5, 6]).latest.value
        6.0
        """
        return self.points[-1]

    @property
    def warnings(self) -> tuple[str, ...]:
        """Plain-English cautions about the chart, such as limits fixed from too few points.

        >>> print(*xmr([4, 5, 6]).warnings)
        Period 1 has limits from only 3 points; at least 12 are recommended, so treat them as trial limits.
        """
        short = tuple(
            f"Period {p.index + 1} has limits from only {p.baseline_points} points; at least "
            f"{self.ruleset.recommended_minimum_points} are recommended, so treat them as trial limits."
            for p in self.periods
            if p.short
        )
        return self.gap_notes + short

    def _name(self, i: int) -> str:
        p = self.points[i]
        return p.label or (p.date.isoformat() if p.date else f"point {i + 1}")

    @property
    def gap_notes(self) -> tuple[str, ...]:
        """One sentence per gap: what is missing, between which points, and how the chart treats it.

        >>> chart = xmr([5, 6, 5, 7, 6, 5], XmROptions(gaps=[Gap(3, 24)], period_name="month"))
        >>> import textwrap
        >>> print(textwrap.fill(*chart.gap_notes, width=100))
        24 months missing between point 3 and point 4: the line breaks there, no run or trend continues
        across the gap, and the limits are computed from the 6 points on both sides without the moving range
        across it.
        """
        out = []
        for g in self.gaps:
            period = next(p for p in self.periods if p.start < g.index < p.stop or p.start == g.index)
            what = (f"{g.missing} {self.period_name}{'' if g.missing == 1 else 's'} missing" if g.missing
                    else f"{self.period_name.capitalize()}s missing")
            if period.start == g.index:
                limits = f"period {period.index + 1} starts after it with its own limits"
            else:
                limits = (f"the limits are computed from the {period.baseline_points} points on both sides "
                          "without the moving range across it")
            out.append(f"{what} between {self._name(g.index - 1)} and {self._name(g.index)}: the line breaks "
                       f"there, no run or trend continues across the gap, and {limits}.")
        return tuple(out)


def _classify(side: Side | None, direction: Direction) -> SpecialCause:
    if side is None:
        return SpecialCause.COMMON_CAUSE
    if direction is Direction.NEITHER:
        return SpecialCause.NEITHER
    good = Side.HIGH if direction is Direction.HIGHER_IS_BETTER else Side.LOW
    return SpecialCause.IMPROVEMENT if side is good else SpecialCause.CONCERN


def xmr(
    series: Series | Sequence[float],
    options: XmROptions | None = None,
    *,
    ruleset: RuleSet | None = None,
) -> XmRResult:
    """Compute an XmR chart with Making Data Count special-cause rules and icons.

    ``ruleset`` defaults to the rule set in force today (:func:`uec.spc.default_ruleset`); the
    result records which one was used.

    >>> from uec.spc import get_ruleset
    >>> values = [20, 21, 19, 22, 20, 21, 20, 19, 21, 20, 22, 21, 27, 28, 29, 30, 31, 32, 33]
    >>> chart = xmr(values, XmROptions(direction=Direction.LOWER_IS_BETTER, baseline=12, target=25),
    ...            ruleset=get_ruleset("mdc-2018"))
    >>> lim = chart.periods[0].limits
    >>> round(lim.mean, 3), round(lim.lower, 3), round(lim.upper, 3)
    (20.5, 16.389, 24.611)
    >>> [p.index for p in chart.points if p.special_cause is SpecialCause.CONCERN]
    [10, 11, 12, 13, 14, 15, 16, 17, 18]
    >>> chart.latest.rules
    (<Rule.OUTSIDE_LIMITS: 'outside_limits'>, <Rule.TREND: 'trend'>, <Rule.SHIFT: 'shift'>)
    >>> chart.variation_icon, chart.assurance_icon
    (<VariationIcon.CONCERN_HIGH: 'concern_high'>, <AssuranceIcon.PASS: 'pass'>)
    """
    s = series if isinstance(series, Series) else Series(series)
    opts = options if options is not None else XmROptions()
    rs = ruleset if ruleset is not None else default_ruleset()
    screen = rs.screen_outliers if opts.screen_outliers is None else opts.screen_outliers
    n = len(s.values)
    if n < 2:
        raise SpcError(f"an XmR chart needs at least 2 points, got {n}")
    for i in opts.rebase_at:
        if not 0 < i < n:
            raise SpcError(f"rebase index {i} is outside the series: use 1 to {n - 1}")
    gaps = tuple(g for g in opts.gaps if isinstance(g, Gap))
    for g in gaps:
        if g.index >= n:
            raise SpcError(f"gap before point {g.index} is outside the series: use 1 to {n - 1}")
    gap_at = {g.index for g in gaps}
    bounds = [0, *opts.rebase_at, n]

    periods: list[Period] = []
    points: list[XmRPoint] = []
    for k, (start, stop) in enumerate(itertools.pairwise(bounds)):
        if stop - start < 2:
            raise SpcError(
                f"period {k + 1} (points {start} to {stop - 1}) has {stop - start} point; "
                "each period needs at least 2, so move or drop that rebase"
            )
        vals = s.values[start:stop]
        base_stop = start + min(opts.baseline or len(vals), len(vals))
        base = vals[: base_stop - start]
        breaks = [i - start for i in gap_at if start < i < stop]
        try:
            screened = _mean_moving_range(base, screen, rs.outlier_screen_multiplier, breaks)
        except SpcError:
            raise SpcError(f"period {k + 1} (points {start} to {stop - 1}) has no two consecutive baseline "
                           "points: every one is cut off by a gap, so it has no moving range") from None
        lim = _limits(base, screened, rs.limit_multiplier)
        periods.append(
            Period(
                index=k,
                start=start,
                stop=stop,
                baseline_stop=base_stop,
                limits=lim,
                moving_ranges_used=screened.used,
                moving_ranges_excluded=screened.excluded,
                short=len(base) < rs.recommended_minimum_points,
            )
        )
        # Runs, trends and two-in-three windows stop at a gap: rules run on each stretch between gaps.
        by_rule: tuple[list[Side | None], ...] = ([], [], [], [])
        for a, b in itertools.pairwise([0, *sorted(breaks), len(vals)]):
            part = vals[a:b]
            for acc, signals in zip(by_rule, (
                outside_limits_signals(part, lim.lower, lim.upper),
                trend_signals(part, rs.trend_run_length),
                two_in_three_signals(
                    part,
                    mean=lim.mean,
                    lower=lim.lower,
                    upper=lim.upper,
                    near_lower=lim.near_lower,
                    near_upper=lim.near_upper,
                    count_beyond_limits=rs.two_in_three_counts_beyond_limits,
                ),
                shift_signals(part, lim.mean, rs.shift_run_length),
            ), strict=True):
                acc.extend(signals)
        for j, value in enumerate(vals):
            outside, trend, two, shift = (signals[j] for signals in by_rule)
            side = next((x for x in (outside, trend, two, shift) if x is not None), None)
            i = start + j
            points.append(
                XmRPoint(
                    index=i,
                    value=value,
                    date=s.dates[i] if s.dates is not None else None,
                    label=s.labels[i] if s.labels is not None else None,
                    period=k,
                    moving_range=abs(value - vals[j - 1]) if j > 0 and i not in gap_at else None,
                    mean=lim.mean,
                    lower_limit=lim.lower,
                    upper_limit=lim.upper,
                    near_lower=lim.near_lower,
                    near_upper=lim.near_upper,
                    outside_limits=outside is not None,
                    shift=shift is not None,
                    trend=trend is not None,
                    two_in_three=two is not None,
                    side=side,
                    special_cause=_classify(side, opts.direction),
                )
            )

    last = points[-1]
    last_limits = periods[-1].limits
    return XmRResult(
        points=tuple(points),
        periods=tuple(periods),
        direction=opts.direction,
        ruleset=rs,
        screen_outliers=screen,
        target=opts.target,
        variation_icon=variation_icon(last.special_cause, last.side),
        assurance_icon=assurance_icon(
            lower_limit=last_limits.lower,
            upper_limit=last_limits.upper,
            target=opts.target,
            direction=opts.direction,
        ),
        gaps=gaps,
        period_name=opts.period_name,
    )
