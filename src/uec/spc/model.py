"""Typed inputs and outputs of an XmR chart: enums and frozen dataclasses, no arithmetic.

The arithmetic lives in :mod:`uec.spc.xmr` and :mod:`uec.spc.rules`; keeping the shapes here lets
the web layer and the icons import them without pulling in the computation.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from uec.errors import UecError

__all__ = [
    "Direction",
    "Gap",
    "Limits",
    "Period",
    "Rule",
    "Series",
    "Side",
    "SpcError",
    "SpecialCause",
    "XmROptions",
    "XmRPoint",
]


class SpcError(UecError, ValueError):
    """Input that an XmR chart cannot be drawn from: the message says what to change.

    It is a :class:`~uec.errors.UecError` so the command line and web app report it as the user's
    to fix, and a :class:`ValueError` so plain Python callers can catch it as one.

    >>> isinstance(SpcError("x"), ValueError)
    True
    """


class Direction(StrEnum):
    """Which way is better for the measure; decides improvement versus concern.

    >>> Direction("lower_is_better").label
    'Lower is better'
    """

    HIGHER_IS_BETTER = "higher_is_better"
    LOWER_IS_BETTER = "lower_is_better"
    NEITHER = "neither"

    @property
    def label(self) -> str:
        """Plain-English name.

        >>> Direction.NEITHER.label
        'Neither direction is better'
        """
        return {
            Direction.HIGHER_IS_BETTER: "Higher is better",
            Direction.LOWER_IS_BETTER: "Lower is better",
            Direction.NEITHER: "Neither direction is better",
        }[self]


class Side(StrEnum):
    """Which way a special-cause signal points: above the mean / increasing, or below / decreasing.

    >>> Side.HIGH.value
    'high'
    """

    HIGH = "high"
    LOW = "low"


class Rule(StrEnum):
    """The four Making Data Count special-cause rules, in NHSRplotthedots' order of precedence.

    When a point breaks more than one rule, the first in this order decides its side (this matters
    only for a trend, whose side is its direction rather than the point's side of the mean).

    >>> [r.value for r in Rule]
    ['outside_limits', 'trend', 'two_in_three', 'shift']
    >>> Rule.SHIFT.label
    'Run of points on one side of the mean'
    """

    OUTSIDE_LIMITS = "outside_limits"
    TREND = "trend"
    TWO_IN_THREE = "two_in_three"
    SHIFT = "shift"

    @property
    def label(self) -> str:
        """Plain-English name.

        >>> Rule.TWO_IN_THREE.label
        'Two of three points near or beyond a limit'
        """
        return {
            Rule.OUTSIDE_LIMITS: "Point outside the process limits",
            Rule.TREND: "Run of points all increasing or all decreasing",
            Rule.TWO_IN_THREE: "Two of three points near or beyond a limit",
            Rule.SHIFT: "Run of points on one side of the mean",
        }[self]


class SpecialCause(StrEnum):
    """How one point reads, given the direction of improvement.

    ``NEITHER`` is special cause on a measure where neither direction is better; ``COMMON_CAUSE``
    is no special cause at all.

    >>> SpecialCause.CONCERN.label
    'Special cause: concern'
    """

    COMMON_CAUSE = "common_cause"
    IMPROVEMENT = "improvement"
    CONCERN = "concern"
    NEITHER = "neither"

    @property
    def label(self) -> str:
        """Plain-English name.

        >>> SpecialCause.NEITHER.label
        'Special cause: neither improvement nor concern'
        """
        return {
            SpecialCause.COMMON_CAUSE: "Common cause variation",
            SpecialCause.IMPROVEMENT: "Special cause: improvement",
            SpecialCause.CONCERN: "Special cause: concern",
            SpecialCause.NEITHER: "Special cause: neither improvement nor concern",
        }[self]


def _finite(x: float, what: str) -> float:
    try:
        f = float(x)
    except (TypeError, ValueError):
        raise SpcError(f"{what} {x!r} is not a number") from None
    if not math.isfinite(f):
        raise SpcError(f"{what} is {f}; give finite numbers only (drop or fill missing values first)")
    return f


@dataclass(frozen=True)
class Series:
    """The measure over time: one value per period, in time order, with optional dates and labels.

    Values are stored as a tuple of floats; dates, if given, must strictly increase, because rebase
    indices and the "most recent point" both mean position in time.

    >>> s = Series([3, 4.5, 5], dates=[dt.date(2024, 1, 31), dt.date(2024, 2, 29), dt.date(2024, 3, 31)])
    >>> s.values
    (3.0, 4.5, 5.0)
    >>> Series([1.0, float("nan")])
    Traceback (most recent call last):
    ...
    uec.spc.model.SpcError: value 2 is nan; give finite numbers only (drop or fill missing values first)
    """

    values: Sequence[float]
    dates: Sequence[dt.date] | None = None
    labels: Sequence[str] | None = None

    def __post_init__(self) -> None:
        values = tuple(_finite(v, f"value {i + 1}") for i, v in enumerate(self.values))
        object.__setattr__(self, "values", values)
        n = len(values)
        if self.dates is not None:
            dates = tuple(self.dates)
            if len(dates) != n:
                raise SpcError(f"{len(dates)} dates for {n} values; give one date per value")
            for i in range(1, n):
                if not dates[i - 1] < dates[i]:
                    raise SpcError(
                        f"dates must strictly increase, but date {i + 1} ({dates[i]}) is not after "
                        f"date {i} ({dates[i - 1]}); sort the series and remove duplicates"
                    )
            object.__setattr__(self, "dates", dates)
        if self.labels is not None:
            labels = tuple(str(label) for label in self.labels)
            if len(labels) != n:
                raise SpcError(f"{len(labels)} labels for {n} values; give one label per value")
            object.__setattr__(self, "labels", labels)

    def __len__(self) -> int:
        return len(self.values)


@dataclass(frozen=True)
class Gap:
    """Missing periods in the series, just before point ``index`` (0-based): the series is not
    consecutive there. ``missing`` is how many periods are missing, if known.

    A chart over a gap keeps its limits (the process is assumed unchanged unless you rebase), but
    no moving range spans the gap and no run, trend or two-in-three window continues across it:
    the points on either side are not neighbours in time (``docs/spc.md``).

    >>> Gap(12, 24).missing
    24
    >>> Gap(0)
    Traceback (most recent call last):
    ...
    uec.spc.model.SpcError: a gap must come before a point after the first (index 1 or more), not 0
    """

    index: int
    missing: int | None = None

    def __post_init__(self) -> None:
        if self.index < 1:
            raise SpcError(f"a gap must come before a point after the first (index 1 or more), not {self.index}")
        if self.missing is not None and self.missing < 1:
            raise SpcError(f"a gap of {self.missing} missing periods is not a gap; give 1 or more")


@dataclass(frozen=True)
class XmROptions:
    """How to draw the chart.

    * ``direction``: which way is better (decides improvement versus concern, and assurance).
    * ``baseline``: if set, only the first ``baseline`` points of each period fix its mean and
      limits; later points are judged against them (NHSRplotthedots' ``fix_after_n_points``).
    * ``rebase_at``: 0-based indices where a new period with its own mean and limits starts.
    * ``target``: the value to meet, for the assurance icon.
    * ``screen_outliers``: drop moving ranges at or above 3.267 × the mean moving range before
      recomputing it; ``None`` takes the rule set's default.
    * ``gaps``: where the series skips periods (:class:`Gap`, or a bare index); ``period_name``
      names one period in the chart's warnings ("24 months missing ...").

    >>> XmROptions(rebase_at=[12, 24]).rebase_at
    (12, 24)
    >>> XmROptions(baseline=1)
    Traceback (most recent call last):
    ...
    uec.spc.model.SpcError: baseline 1 is too short: limits need at least 2 points
    """

    direction: Direction = Direction.NEITHER
    baseline: int | None = None
    rebase_at: Sequence[int] = field(default=())
    target: float | None = None
    screen_outliers: bool | None = None
    gaps: Sequence[Gap | int] = field(default=())
    period_name: str = "period"

    def __post_init__(self) -> None:
        object.__setattr__(self, "direction", Direction(self.direction))
        gaps = tuple(g if isinstance(g, Gap) else Gap(int(g)) for g in self.gaps)
        if [g.index for g in gaps] != sorted({g.index for g in gaps}):
            raise SpcError(f"gaps at {[g.index for g in gaps]} must be at strictly increasing points")
        object.__setattr__(self, "gaps", gaps)
        if self.baseline is not None and self.baseline < 2:
            raise SpcError(f"baseline {self.baseline} is too short: limits need at least 2 points")
        rebase = tuple(int(i) for i in self.rebase_at)
        if list(rebase) != sorted(set(rebase)):
            raise SpcError(f"rebase_at {list(rebase)} must be strictly increasing indices")
        object.__setattr__(self, "rebase_at", rebase)
        if self.target is not None:
            object.__setattr__(self, "target", _finite(self.target, "target"))


@dataclass(frozen=True)
class Limits:
    """The centre line and limits of one period.

    ``near_lower``/``near_upper`` are the 2-sigma lines, two thirds of the way from the mean to
    the process limits; the two-in-three rule looks beyond them.

    >>> Limits(mean=10.0, mean_moving_range=1.5, lower=6.0, upper=14.0, near_lower=7.3, near_upper=12.7).width
    8.0
    """

    mean: float
    mean_moving_range: float
    lower: float
    upper: float
    near_lower: float
    near_upper: float

    @property
    def width(self) -> float:
        """Distance between the process limits.

        >>> Limits(0.0, 0.0, 0.0, 0.0, 0.0, 0.0).width
        0.0
        """
        return self.upper - self.lower


@dataclass(frozen=True)
class Period:
    """A run of points sharing one mean and set of limits (the whole series unless rebased).

    Points ``start`` to ``stop - 1`` belong to it; points ``start`` to ``baseline_stop - 1`` fixed
    its limits. ``short`` is true when fewer points than the rule set recommends fixed the limits:
    NHSRplotthedots calls these trial limits.

    >>> lim = Limits(5.0, 1.0, 2.34, 7.66, 3.2266666666666666, 6.773333333333333)
    >>> p = Period(0, 0, 20, 12, lim, 11, 0, False)
    >>> len(p), p.baseline_points
    (20, 12)
    """

    index: int
    start: int
    stop: int
    baseline_stop: int
    limits: Limits
    moving_ranges_used: int
    moving_ranges_excluded: int
    short: bool

    def __len__(self) -> int:
        return self.stop - self.start

    @property
    def baseline_points(self) -> int:
        """How many points fixed the limits.

        >>> Period(1, 10, 15, 15, Limits(0.0, 0.0, 0.0, 0.0, 0.0, 0.0), 4, 0, True).baseline_points
        5
        """
        return self.baseline_stop - self.start


@dataclass(frozen=True)
class XmRPoint:
    """One point of the chart with its period's lines and what the rules found.

    ``outside_limits``, ``shift``, ``trend`` and ``two_in_three`` say which rules the point is part
    of. ``side`` is the direction of the deciding signal (see :class:`Rule` for precedence) and
    ``special_cause`` what that means given the direction of improvement.
    """

    index: int
    value: float
    date: dt.date | None
    label: str | None
    period: int
    moving_range: float | None
    mean: float
    lower_limit: float
    upper_limit: float
    near_lower: float
    near_upper: float
    outside_limits: bool
    shift: bool
    trend: bool
    two_in_three: bool
    side: Side | None
    special_cause: SpecialCause

    @property
    def rules(self) -> tuple[Rule, ...]:
        """The rules this point is part of, in order of precedence.

        >>> from uec.spc import xmr
        >>> xmr([1, 2, 3, 4, 5, 6, 7]).points[3].rules
        (<Rule.TREND: 'trend'>,)
        """
        flags = {
            Rule.OUTSIDE_LIMITS: self.outside_limits,
            Rule.TREND: self.trend,
            Rule.TWO_IN_THREE: self.two_in_three,
            Rule.SHIFT: self.shift,
        }
        return tuple(rule for rule in Rule if flags[rule])

    @property
    def deciding_rule(self) -> Rule | None:
        """The rule that decides this point's side, or ``None`` for common cause.

        >>> from uec.spc import xmr
        >>> xmr([5, 5, 5, 5]).points[-1].deciding_rule is None
        True
        """
        rules = self.rules
        return rules[0] if rules else None

    @property
    def is_special_cause(self) -> bool:
        """Whether any rule flags this point.

        >>> from uec.spc import xmr
        >>> xmr([5, 5, 5, 5]).points[0].is_special_cause
        False
        """
        return self.special_cause is not SpecialCause.COMMON_CAUSE
