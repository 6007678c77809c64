"""A server-rendered, accessible SVG of an XmR (statistical process control) chart.

Plain SVG, no script: the value line and its points, the mean, the process limits and the target,
with special-cause points coloured as *Making Data Count* does (orange concern, blue improvement,
purple where neither direction is better, grey common cause). The chart is ``role="img"`` with a
``<title>`` and a ``<desc>`` that say in words what it shows; the data table under it on the page
carries every number.

>>> from uec.spc import Direction, XmROptions, xmr
>>> chart = xmr([5, 6, 5, 7, 6, 5, 6, 12], XmROptions(direction=Direction.LOWER_IS_BETTER, target=8))
>>> svg = xmr_svg(chart, title="Test", desc="A test chart", labels=[str(i) for i in range(8)])
>>> svg.startswith("<svg") and 'role="img"' in svg and "<title" in svg and "<desc" in svg
True
>>> 'fill="#e46c0a"' in svg  # the last point is a concern: above the upper limit, lower is better
True
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from uec.spc import SpecialCause, XmRResult

__all__ = ["SPECIAL_CAUSE_COLOURS", "Axes", "svg_head", "xmr_svg"]

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


def svg_head(
    axes: Axes,
    *,
    css_class: str,
    title: str,
    desc: str,
    id_prefix: str,
    labels: Sequence[str],
    format_value: Callable[[float], str],
    most_labels: int = 12,
) -> list[str]:
    """The opening of a chart's SVG: its title and description, the plot box, five y gridlines with
    their values, and at most about ``most_labels`` x labels (always the last one). The caller adds
    its marks and the closing ``</svg>``.
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
    n = axes.n
    step = max(1, -(-n // most_labels))
    for i in sorted(set(range(0, n, step)) | ({n - 1} if n else set())):
        if i >= len(labels):
            continue
        xx, ly = _fmt(axes.x(i)), _H - axes.bottom + 16
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
    """The chart as an SVG string; ``labels`` name the points (periods) along the x axis."""
    pts = chart.points
    n = len(pts)
    ys = [p.value for p in pts] + [p.lower_limit for p in pts] + [p.upper_limit for p in pts]
    if chart.target is not None:
        ys.append(chart.target)
    lo, hi = min(ys), max(ys)
    if hi == lo:
        hi, lo = hi + 1, lo - 1
    pad = (hi - lo) * 0.08
    lo, hi = lo - pad, hi + pad
    axes = Axes(n=n, lo=lo, hi=hi)
    x, y = axes.x, axes.y
    out = svg_head(axes, css_class="uec-spc-chart", title=title, desc=desc, id_prefix=id_prefix,
                   labels=labels, format_value=format_value)
    # Mean and limits, one segment per period (they step where the chart is rebased).
    for period in chart.periods:
        a, b = x(period.start), x(period.stop - 1)
        lim = period.limits
        out.append(f'<line class="spc-mean" x1="{_fmt(a)}" x2="{_fmt(b)}" y1="{_fmt(y(lim.mean))}" '
                   f'y2="{_fmt(y(lim.mean))}" stroke="{_INK}" stroke-width="1.5"/>')
        for v in (lim.lower, lim.upper):
            out.append(f'<line class="spc-limit" x1="{_fmt(a)}" x2="{_fmt(b)}" y1="{_fmt(y(v))}" '
                       f'y2="{_fmt(y(v))}" stroke="{_LIMIT}" stroke-width="1.5" stroke-dasharray="6 4"/>')
    if chart.target is not None:
        ty = _fmt(y(chart.target))
        out.append(f'<line class="spc-target" x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{ty}" y2="{ty}" '
                   f'stroke="{_TARGET}" stroke-width="2" stroke-dasharray="2 3"/>')
    path = " ".join(f"{_fmt(x(i))},{_fmt(y(p.value))}" for i, p in enumerate(pts))
    out.append(f'<polyline class="spc-values" points="{path}" fill="none" stroke="{_LINE}" stroke-width="2"/>')
    for i, p in enumerate(pts):
        colour = SPECIAL_CAUSE_COLOURS[p.special_cause]
        out.append(f'<circle class="spc-point spc-point--{p.special_cause.value}" cx="{_fmt(x(i))}" '
                   f'cy="{_fmt(y(p.value))}" r="4.5" fill="{colour}" stroke="{_INK}" stroke-width="0.75"/>')
    out.append("</svg>")
    return "".join(out)
