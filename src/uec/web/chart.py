"""A server-rendered, accessible SVG of an XmR (statistical process control) chart.

Plain SVG, no script: the value line and its points, the mean, the process limits and the target,
with special-cause points coloured as *Making Data Count* does (orange concern, blue improvement,
purple where neither direction is better, grey common cause). The chart is ``role="img"`` with a
``<title>`` and a ``<desc>`` that say in words what it shows; the data table under it on the page
carries every number.

>>> import datetime as dt
>>> from uec.spc import Direction, XmROptions, xmr
>>> chart = xmr([5, 6, 5, 7, 6, 5, 6, 12], XmROptions(direction=Direction.LOWER_IS_BETTER, target=8))
>>> svg = xmr_svg(chart, title="Test", desc="A test chart", labels=[str(i) for i in range(8)])
>>> svg.startswith("<svg") and 'role="img"' in svg and "<title" in svg and "<desc" in svg
True
>>> 'fill="#e46c0a"' in svg  # the last point is a concern: above the upper limit, lower is better
True

A series with missing periods is drawn with its line broken at each gap and the gap labelled:

>>> gapped = xmr([5, 6, 5, 7, 6, 5], XmROptions(gaps=period_gaps(
...     [dt.date(2020, 1, 1), dt.date(2020, 2, 1), dt.date(2020, 3, 1), dt.date(2022, 4, 1),
...      dt.date(2022, 5, 1), dt.date(2022, 6, 1)], "month")))
>>> svg = xmr_svg(gapped, title="T", desc="D", labels=[str(i) for i in range(6)])
>>> svg.count('class="spc-values"'), ">24 missing<" in svg
(2, True)
"""

from __future__ import annotations

import datetime as dt
import html
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from uec.spc import Gap, SpecialCause, XmRResult
from uec.standards.periods import iter_periods, period_end

__all__ = ["SPECIAL_CAUSE_COLOURS", "Axes", "period_gaps", "svg_head", "xmr_svg"]


def period_gaps(starts: Sequence[dt.date | dt.datetime], grain: str) -> list[Gap]:
    """Where a series of period starts (in order) skips periods of ``grain``, and how many.

    >>> period_gaps([dt.date(2024, 1, 1), dt.date(2024, 2, 1), dt.date(2024, 5, 1)], "month")
    [Gap(index=2, missing=2)]
    >>> period_gaps([dt.datetime(2024, 1, 1, 0, tzinfo=dt.UTC), dt.datetime(2024, 1, 1, 3, tzinfo=dt.UTC)], "hour")
    [Gap(index=1, missing=2)]
    """
    out: list[Gap] = []
    if grain == "range":
        return out
    for i, (a, b) in enumerate(itertools.pairwise(starts), start=1):
        if isinstance(a, dt.datetime) or isinstance(b, dt.datetime):
            missing = round((b - a).total_seconds() / 3600) - 1
        else:
            missing = len(list(iter_periods(period_end(a, grain), b, grain)))  # type: ignore[arg-type]
        if missing > 0:
            out.append(Gap(i, missing))
    return out

#: Point fill colours, as Making Data Count uses them.
SPECIAL_CAUSE_COLOURS: dict[SpecialCause, str] = {
    SpecialCause.CONCERN: "#e46c0a",
    SpecialCause.IMPROVEMENT: "#00b0f0",
    SpecialCause.NEITHER: "#490092",
    SpecialCause.COMMON_CAUSE: "#a6a6a6",
}

_INK = "#212b32"
_LINE = "#4c6272"
_LIMIT = "#768692"
_TARGET = "#d5281b"

_W, _H = 760, 340
_LEFT, _RIGHT, _TOP, _BOTTOM = 78, 20, 16, 56


def _fmt(x: float) -> str:
    return f"{x:.1f}"


@dataclass(frozen=True)
class Axes:
    """The plot area of a 760 x 340 chart: ``n`` steps along x, values ``lo`` to ``hi`` up y.

    >>> a = Axes(n=3, lo=0.0, hi=10.0, left=78, bottom=56)
    >>> a.x(0), a.x(2), a.y(10.0), a.y(0.0)
    (78.0, 740.0, 16.0, 284.0)
    """

    n: int
    lo: float
    hi: float
    left: int = _LEFT
    bottom: int = _BOTTOM

    @property
    def width(self) -> int:
        return _W - self.left - _RIGHT

    @property
    def height(self) -> int:
        return _H - _TOP - self.bottom

    def x(self, i: float) -> float:
        return self.left + (self.width / 2 if self.n <= 1 else self.width * i / (self.n - 1))

    def y(self, v: float) -> float:
        return _TOP + self.height * (self.hi - v) / (self.hi - self.lo)


def svg_head(  # noqa: PLR0913 - keyword-only drawing options
    axes: Axes,
    *,
    css_class: str,
    title: str,
    desc: str,
    id_prefix: str,
    labels: Sequence[str],
    format_value: Callable[[float], str],
    most_labels: int = 12,
    positions: Sequence[float] | None = None,
) -> list[str]:
    """The opening of a chart's SVG: its title and description, the plot box, five y gridlines with
    their values, and at most about ``most_labels`` x labels (always the last one). The caller adds
    its marks and the closing ``</svg>``. ``positions`` place label ``i`` at ``axes.x(positions[i])``
    (a chart with gaps leaves a slot for each); by default at ``axes.x(i)``.
    """
    e = html.escape
    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {_H}" width="100%" '
        f'role="img" aria-labelledby="{id_prefix}-title {id_prefix}-desc" class="{css_class}" '
        f'style="max-width:{_W}px;height:auto" font-family="Frutiger W01, Arial, sans-serif" font-size="13">',
        f'<title id="{id_prefix}-title">{e(title)}</title>',
        f'<desc id="{id_prefix}-desc">{e(desc)}</desc>',
        f'<rect x="{axes.left}" y="{_TOP}" width="{axes.width}" height="{axes.height}" fill="#ffffff" '
        f'stroke="#d8dde0"/>',
    ]
    for k in range(5):
        v = axes.lo + (axes.hi - axes.lo) * k / 4
        yy = _fmt(axes.y(v))
        out.append(f'<line x1="{axes.left}" x2="{_W - _RIGHT}" y1="{yy}" y2="{yy}" stroke="#f0f4f5"/>')
        out.append(f'<text x="{axes.left - 6}" y="{yy}" text-anchor="end" dominant-baseline="middle" '
                   f'fill="{_INK}">{e(format_value(v))}</text>')
    n = axes.n if positions is None else len(positions)
    step = max(1, -(-n // most_labels))
    for i in sorted(set(range(0, n, step)) | ({n - 1} if n else set())):
        if i >= len(labels):
            continue
        xx, ly = _fmt(axes.x(i if positions is None else positions[i])), _H - axes.bottom + 16
        out.append(f'<text x="{xx}" y="{ly}" text-anchor="end" transform="rotate(-35 {xx} {ly})" '
                   f'fill="{_INK}">{e(labels[i])}</text>')
    return out


def xmr_svg(
    chart: XmRResult,
    *,
    title: str,
    desc: str,
    labels: Sequence[str],
    format_value: Callable[[float], str] = lambda v: f"{v:g}",
    id_prefix: str = "spc-chart",
) -> str:
    """The chart as an SVG string; ``labels`` name the points (periods) along the x axis.

    Each gap in the series (``chart.gaps``) gets an empty slot on the x axis, labelled with how many
    periods are missing; the value line, the mean and the limits break there rather than bridge it.
    """
    pts = chart.points
    n = len(pts)
    gap_at = {g.index: g for g in chart.gaps}
    # Point i sits one slot further right for each gap before it.
    pos = [i + sum(1 for g in gap_at if g <= i) for i in range(n)]
    runs = list(itertools.pairwise([0, *sorted(gap_at), n]))
    ys = [p.value for p in pts] + [p.lower_limit for p in pts] + [p.upper_limit for p in pts]
    if chart.target is not None:
        ys.append(chart.target)
    lo, hi = min(ys), max(ys)
    if hi == lo:
        hi, lo = hi + 1, lo - 1
    pad = (hi - lo) * 0.08
    lo, hi = lo - pad, hi + pad
    axes = Axes(n=n + len(gap_at), lo=lo, hi=hi)
    y = axes.y

    def x(i: int) -> float:
        return axes.x(pos[i])

    out = svg_head(axes, css_class="uec-spc-chart", title=title, desc=desc, id_prefix=id_prefix,
                   labels=labels, format_value=format_value, positions=pos)
    notes = dict(zip(sorted(gap_at), chart.gap_notes, strict=True))
    for i, g in sorted(gap_at.items()):
        # The empty slot, shaded and labelled: nothing was measured here.
        a, b = x(i - 1), x(i)
        what = f"{g.missing} missing" if g.missing else "missing"
        mid, top = (a + b) / 2, axes.y(axes.hi)
        out.append(f'<g class="spc-gap"><title>{html.escape(notes[i])}</title>'
                   f'<rect x="{_fmt(a + 6)}" y="{_fmt(top)}" width="{_fmt(max(b - a - 12, 1))}" '
                   f'height="{axes.height}" fill="#f0f4f5"/>'
                   f'<text x="{_fmt(mid)}" y="{_fmt(top + 14)}" text-anchor="middle" font-size="11" '
                   f'fill="{_INK}">{html.escape(what)}</text></g>')
    # Mean and limits, one segment per period (they step where the chart is rebased) and per stretch
    # between gaps (they do not bridge one).
    for period in chart.periods:
        lim = period.limits
        for start, stop in runs:
            lo_i, hi_i = max(start, period.start), min(stop, period.stop) - 1
            if lo_i > hi_i:
                continue
            a, b = x(lo_i), x(hi_i)
            out.append(f'<line class="spc-mean" x1="{_fmt(a)}" x2="{_fmt(b)}" y1="{_fmt(y(lim.mean))}" '
                       f'y2="{_fmt(y(lim.mean))}" stroke="{_INK}" stroke-width="1.5"/>')
            for v in (lim.lower, lim.upper):
                out.append(f'<line class="spc-limit" x1="{_fmt(a)}" x2="{_fmt(b)}" y1="{_fmt(y(v))}" '
                           f'y2="{_fmt(y(v))}" stroke="{_LIMIT}" stroke-width="1.5" stroke-dasharray="6 4"/>')
    if chart.target is not None:
        ty = _fmt(y(chart.target))
        out.append(f'<line class="spc-target" x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{ty}" y2="{ty}" '
                   f'stroke="{_TARGET}" stroke-width="2" stroke-dasharray="2 3"/>')
    for start, stop in runs:
        path = " ".join(f"{_fmt(x(i))},{_fmt(y(pts[i].value))}" for i in range(start, stop))
        out.append(f'<polyline class="spc-values" points="{path}" fill="none" stroke="{_LINE}" stroke-width="2"/>')
    for i, p in enumerate(pts):
        colour = SPECIAL_CAUSE_COLOURS[p.special_cause]
        out.append(f'<circle class="spc-point spc-point--{p.special_cause.value}" cx="{_fmt(x(i))}" '
                   f'cy="{_fmt(y(p.value))}" r="4.5" fill="{colour}" stroke="{_INK}" stroke-width="0.75"/>')
    out.append("</svg>")
    return "".join(out)
