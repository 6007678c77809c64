"""The four Making Data Count special-cause rules, applied to the points of one period.

Each function returns one entry per point: the :class:`~uec.spc.model.Side` of the signal the point
is part of, or ``None``. The semantics follow NHSRplotthedots (``R/ptd_spc_standard.R`` at commit
8aac3239e90ce9ebeb9c3e61f56c207dfc37b225 and ``R/ptd_calculate_point_type.R`` at commit
f7891af4b8f71838f4c6fb17c8eec1a1c9bd6d7f); ``docs/spc.md`` lists every choice.

* Comparisons with limits are strict: a point exactly on a limit is inside it.
* A point exactly on the mean belongs to neither side, so it ends a shift.
* Two equal consecutive values end a trend.
* Every point of a qualifying run is flagged, not only the N-th.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from uec.spc.model import Side, SpcError

__all__ = [
    "outside_limits_signals",
    "shift_signals",
    "trend_signals",
    "two_in_three_signals",
]

Signals = tuple[Side | None, ...]


def _sign(x: float) -> int:
    return (x > 0) - (x < 0)


def _side(sign: int) -> Side:
    return Side.HIGH if sign > 0 else Side.LOW


def _check_run_length(run_length: int, what: str) -> None:
    if run_length < 2:
        raise SpcError(f"{what} run length {run_length} is too short: it must be at least 2")


def outside_limits_signals(values: Sequence[float], lower: float, upper: float) -> Signals:
    """Rule 1: a single point above the upper or below the lower process limit.

    >>> outside_limits_signals([5, 11, 10, -1], lower=0.0, upper=10.0)
    (None, <Side.HIGH: 'high'>, None, <Side.LOW: 'low'>)
    """
    return tuple(Side.HIGH if v > upper else Side.LOW if v < lower else None for v in values)


def shift_signals(values: Sequence[float], mean: float, run_length: int) -> Signals:
    """Rule 2: ``run_length`` or more consecutive points all above, or all below, the mean.

    Every point of the run is flagged. A point equal to the mean is on neither side and breaks the
    run, as in NHSRplotthedots' ``ptd_seven_point_one_side_mean`` (``sign(y - mean)`` is 0).

    >>> shift_signals([1, 6, 6, 6, 6, 2], mean=5.0, run_length=4)
    (None, <Side.HIGH: 'high'>, <Side.HIGH: 'high'>, <Side.HIGH: 'high'>, <Side.HIGH: 'high'>, None)
    >>> shift_signals([6, 6, 5, 6, 6], mean=5.0, run_length=3)
    (None, None, None, None, None)
    """
    _check_run_length(run_length, "shift")
    out: list[Side | None] = [None] * len(values)
    signs = [_sign(v - mean) for v in values]
    start = 0
    for i in range(1, len(signs) + 1):
        if i == len(signs) or signs[i] != signs[start]:
            if signs[start] != 0 and i - start >= run_length:
                out[start:i] = [_side(signs[start])] * (i - start)
            start = i
    return tuple(out)


def trend_signals(values: Sequence[float], run_length: int) -> Signals:
    """Rule 3: ``run_length`` or more consecutive points each higher (or each lower) than the last.

    ``run_length`` counts points, so a trend of 7 points has 6 rises. Equal consecutive values
    break a trend, as in NHSRplotthedots' ``ptd_seven_point_trend`` (``sign(diff(y))`` is 0). The
    side is the direction of the run: ``HIGH`` for increasing, whichever side of the mean it is on.
    A turning point shared by a rising and a falling run takes the later run's direction, as
    NHSRplotthedots does ("if a point is part of a trend either side, use right side").

    >>> trend_signals([3, 1, 2, 3, 4, 2], run_length=4)
    (None, <Side.HIGH: 'high'>, <Side.HIGH: 'high'>, <Side.HIGH: 'high'>, <Side.HIGH: 'high'>, None)
    >>> trend_signals([1, 2, 3, 3, 4, 5], run_length=4)
    (None, None, None, None, None, None)
    """
    _check_run_length(run_length, "trend")
    out: list[Side | None] = [None] * len(values)
    steps = [_sign(b - a) for a, b in itertools.pairwise(values)]
    start = 0
    for i in range(1, len(steps) + 1):
        if i == len(steps) or steps[i] != steps[start]:
            # steps[start:i] are equal, so points start..i (inclusive) form the run.
            if steps[start] != 0 and i - start + 1 >= run_length:
                out[start : i + 1] = [_side(steps[start])] * (i - start + 1)
            start = i
    return tuple(out)


def two_in_three_signals(
    values: Sequence[float],
    *,
    mean: float,
    lower: float,
    upper: float,
    near_lower: float,
    near_upper: float,
    count_beyond_limits: bool,
) -> Signals:
    """Rule 4: two of three consecutive points beyond the same 2-sigma line.

    A window of three consecutive points qualifies when all three are on the same side of the mean
    and at least two of them are beyond the 2-sigma line on that side; only the points beyond the
    line are flagged, not the third (NHSRplotthedots' ``ptd_two_in_three`` and
    ``ptd_part_of_two_in_three``).

    ``count_beyond_limits`` says whether a point beyond the process limit also counts. The original
    Making Data Count tools and NHSRplotthedots 0.2.2 count only points between the 2-sigma line and
    the limit; the Making Data Count team changed this in November 2023 to count every point beyond
    2 sigma (NHSRplotthedots issue #194).

    >>> kw = dict(mean=0.0, lower=-3.0, upper=3.0, near_lower=-2.0, near_upper=2.0)
    >>> two_in_three_signals([0.5, 2.5, 1.0, 2.5, 0.5], count_beyond_limits=False, **kw)
    (None, <Side.HIGH: 'high'>, None, <Side.HIGH: 'high'>, None)
    >>> two_in_three_signals([0.5, 2.5, 3.5, 0.5], count_beyond_limits=False, **kw)
    (None, None, None, None)
    >>> two_in_three_signals([0.5, 2.5, 3.5, 0.5], count_beyond_limits=True, **kw)
    (None, <Side.HIGH: 'high'>, <Side.HIGH: 'high'>, None)
    """
    n = len(values)
    out: list[Side | None] = [None] * n
    relative = [_sign(v - mean) for v in values]
    beyond = [
        (v > near_upper or v < near_lower) and (count_beyond_limits or lower <= v <= upper) for v in values
    ]
    for w in range(n - 2):
        side = relative[w]
        window = range(w, w + 3)
        if side == 0 or any(relative[i] != side for i in window):
            continue
        if sum(beyond[i] for i in window) >= 2:
            for i in window:
                if beyond[i]:
                    out[i] = _side(side)
    return tuple(out)
