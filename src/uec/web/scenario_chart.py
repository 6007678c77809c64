"""The scenario comparison chart: per standard, the baseline and scenario means with their 95%
confidence intervals, drawn on the server as an accessible SVG (``role="img"``, ``<title>``, ``<desc>``).
"""

from __future__ import annotations

import html
import math

from uec.standards import format_value
from uec.system.types import Comparison, Interval

__all__ = ["assessment", "comparison_svg"]


def _num(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def assessment(difference: Interval, higher_is_better: bool | None) -> tuple[str, str]:
    """Whether the scenario is better, worse or not clearly different, by the difference's 95% interval.

    >>> assessment(Interval(0.04, 0.03, 0.05), True), assessment(Interval(-5, -7, 3), False)
    (('better', 'Better'), ('unclear', 'No clear difference'))
    """
    low, high = _num(difference.low), _num(difference.high)
    if low is None or high is None:
        return "no-interval", "No interval (one replication)"
    if low <= 0 <= high:
        return "unclear", "No clear difference"
    up = low > 0
    if higher_is_better is None:
        return ("higher", "Higher") if up else ("lower", "Lower")
    return ("better", "Better") if up == higher_is_better else ("worse", "Worse")


# --- drawing ----------------------------------------------------------------------------------

_INK = "#212b32"
_GREY = "#4c6272"
_BLUE = "#005eb8"
_W = 760
_LABEL_W = 250
_ROW_H = 52
_TOP = 44


def _wrap(text: str, width: int, max_lines: int) -> list[str]:
    """``text`` in lines of at most ``width`` characters, broken at spaces; the last line cut with an ellipsis."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: width - 1].rstrip() + "…"
    return [ln if len(ln) <= width else ln[: width - 1] + "…" for ln in lines]


def comparison_svg(c: Comparison, id_prefix: str = "scenario-chart") -> tuple[str | None, str]:
    """A dot-and-interval chart: per standard, the baseline and scenario means with their 95% intervals.

    Each standard has its own scale (they are in different units), printed at the ends of its row.
    Returns the SVG (``None`` without standards) and the sentence its ``<desc>`` holds.

    >>> import datetime as dt
    >>> from uec.system.types import Scenario, StandardComparison
    >>> t = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    >>> s = StandardComparison("ed-4hr", "4-hour performance", "proportion", True,
    ...     Interval(0.7, 0.68, 0.72), Interval(0.75, 0.73, 0.77), Interval(0.05, 0.04, 0.06))
    >>> svg, desc = comparison_svg(Comparison(Scenario("x"), 5, 1, 7.0, t, t, (s,)))
    >>> svg.startswith("<svg") and 'role="img"' in svg and "<title" in svg
    True
    >>> print(desc.split(". ")[-1])
    4-hour performance: baseline 70.0% (68.0% to 72.0%), scenario 75.0% (73.0% to 77.0%), better.
    """
    if not c.standards:
        return None, "No standards were computed for this run."
    e = html.escape
    parts = []
    for s in c.standards:
        b, sc = s.baseline, s.scenario

        def iv(x: Interval, unit: str = s.unit) -> str:
            if _num(x.low) is None or _num(x.high) is None:
                return format_value(x.mean, unit)
            return f"{format_value(x.mean, unit)} ({format_value(x.low, unit)} to {format_value(x.high, unit)})"

        parts.append(f"{s.title}: baseline {iv(b)}, scenario {iv(sc)}, "
                     f"{assessment(s.difference, s.higher_is_better)[1].lower()}.")
    days = f"{c.days:g} day" + ("" if c.days == 1 else "s")
    desc = (f"Baseline and scenario {c.scenario.name} with 95% confidence intervals, {c.reps} replication"
            f"{'' if c.reps == 1 else 's'} of {days}, one row per standard on its own scale. " + " ".join(parts))
    height = _TOP + _ROW_H * len(c.standards) + 10
    x0, x1 = _LABEL_W + 50, _W - 95
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {height}" width="100%" role="img" '
        f'aria-labelledby="{id_prefix}-title {id_prefix}-desc" class="uec-scenario-chart" '
        f'style="max-width:{_W}px;height:auto" font-family="Frutiger W01, Arial, sans-serif" font-size="13">',
        f'<title id="{id_prefix}-title">{e(c.scenario.name)}: baseline and scenario by standard</title>',
        f'<desc id="{id_prefix}-desc">{e(desc)}</desc>',
        # Legend: shape as well as colour tells the two apart.
        f'<circle cx="{x0}" cy="16" r="5" fill="{_GREY}"/>'
        f'<text x="{x0 + 10}" y="16" dominant-baseline="middle" fill="{_INK}">Baseline</text>',
        f'<rect x="{x0 + 95}" y="11" width="10" height="10" fill="{_BLUE}"/>'
        f'<text x="{x0 + 111}" y="16" dominant-baseline="middle" fill="{_INK}">Scenario</text>',
        f'<text x="{x0 + 200}" y="16" dominant-baseline="middle" fill="{_INK}">Lines: 95% confidence interval</text>',
    ]
    for i, s in enumerate(c.standards):
        top = _TOP + i * _ROW_H
        mid = top + _ROW_H / 2
        vals = [v for iv in (s.baseline, s.scenario) for v in (iv.mean, iv.low, iv.high) if _num(v) is not None]
        data_lo, data_hi = (min(vals), max(vals)) if vals else (0.0, 1.0)
        lo, hi = data_lo, data_hi
        if hi == lo:
            lo, hi = (0.0, 1.0) if lo == 0 else (lo - abs(lo) * 0.05, hi + abs(hi) * 0.05)
        pad = (hi - lo) * 0.1
        lo, hi = lo - pad, hi + pad
        # Padding must not invent impossible values: no negative axis for values that are all
        # positive, and no proportion above 100% unless an interval goes there.
        if data_lo >= 0:
            lo = max(lo, 0.0)
        if s.unit == "proportion" and data_hi <= 1:
            hi = min(hi, 1.0)

        def x(v: float, lo: float = lo, hi: float = hi) -> str:
            return f"{x0 + (x1 - x0) * (v - lo) / (hi - lo):.1f}"

        lines = _wrap(s.title, 34, 2)
        out.append(f'<g class="uec-scenario-row" data-standard="{e(s.standard_id)}">')
        if i:
            out.append(f'<line x1="0" x2="{_W}" y1="{top}" y2="{top}" stroke="#d8dde0"/>')
        first = mid - 8 * (len(lines) - 1)
        out.append(f'<text x="0" y="{first:.1f}" dominant-baseline="middle" fill="{_INK}">'
                   + "".join(f'<tspan x="0" dy="{0 if k == 0 else 16}">{e(t)}</tspan>' for k, t in enumerate(lines))
                   + "</text>")
        out.append(f'<line x1="{x0}" x2="{x1}" y1="{mid + 18:.1f}" y2="{mid + 18:.1f}" stroke="#aeb7bd"/>')
        out.append(f'<text x="{x0 - 6}" y="{mid + 18:.1f}" text-anchor="end" dominant-baseline="middle" '
                   f'fill="{_INK}" font-size="11">{e(format_value(lo, s.unit))}</text>')
        out.append(f'<text x="{x1 + 6}" y="{mid + 18:.1f}" dominant-baseline="middle" fill="{_INK}" '
                   f'font-size="11">{e(format_value(hi, s.unit))}</text>')
        for band, dy, colour, shape in ((s.baseline, -8, _GREY, "circle"), (s.scenario, 6, _BLUE, "square")):
            y = mid + dy
            if _num(band.low) is not None and _num(band.high) is not None:
                out.append(f'<line x1="{x(band.low)}" x2="{x(band.high)}" y1="{y:.1f}" y2="{y:.1f}" '
                           f'stroke="{colour}" stroke-width="2.5"/>')
            if _num(band.mean) is not None:
                cx = x(band.mean)
                if shape == "circle":
                    out.append(f'<circle class="uec-baseline" cx="{cx}" cy="{y:.1f}" r="5" fill="{colour}"/>')
                else:
                    out.append(f'<rect class="uec-scenario" x="{float(cx) - 5:.1f}" y="{y - 5:.1f}" width="10" '
                               f'height="10" fill="{colour}"/>')
        out.append("</g>")
    out.append("</svg>")
    return "".join(out), desc
