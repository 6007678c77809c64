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

from uec.spc import SpecialCause, XmRResult

__all__ = ["SPECIAL_CAUSE_COLOURS", "xmr_svg"]

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
    plot_w = _W - _LEFT - _RIGHT
    plot_h = _H - _TOP - _BOTTOM

    def x(i: float) -> float:
        return _LEFT + (plot_w / 2 if n == 1 else plot_w * i / (n - 1))

    def y(v: float) -> float:
        return _TOP + plot_h * (hi - v) / (hi - lo)

    e = html.escape
    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {_H}" width="100%" '
        f'role="img" aria-labelledby="{id_prefix}-title {id_prefix}-desc" class="uec-spc-chart" '
        f'style="max-width:{_W}px;height:auto" font-family="Frutiger W01, Arial, sans-serif" font-size="13">',
        f'<title id="{id_prefix}-title">{e(title)}</title>',
        f'<desc id="{id_prefix}-desc">{e(desc)}</desc>',
        f'<rect x="{_LEFT}" y="{_TOP}" width="{plot_w}" height="{plot_h}" fill="#ffffff" stroke="#d8dde0"/>',
    ]
    # y axis: five ticks with gridlines.
    for k in range(5):
        v = lo + (hi - lo) * k / 4
        yy = _fmt(y(v))
        out.append(f'<line x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{yy}" y2="{yy}" stroke="#f0f4f5"/>')
        out.append(f'<text x="{_LEFT - 6}" y="{yy}" text-anchor="end" dominant-baseline="middle" '
                   f'fill="{_INK}">{e(format_value(v))}</text>')
    # x axis labels: at most about 12, always the last.
    step = max(1, -(-n // 12))
    shown = set(range(0, n, step)) | {n - 1}
    for i in sorted(shown):
        if i >= len(labels):
            continue
        xx, ly = _fmt(x(i)), _H - _BOTTOM + 16
        out.append(f'<text x="{xx}" y="{ly}" text-anchor="end" transform="rotate(-35 {xx} {ly})" '
                   f'fill="{_INK}">{e(labels[i])}</text>')
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
