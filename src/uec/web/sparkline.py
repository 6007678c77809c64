"""A sparkline: a small inline SVG of a series, with its text alternative, for a table cell.

The SVG is ``role="img"`` with the text as its ``aria-label`` and ``<title>``, so a screen reader
reads the words (the figures) and never only a shape. Colours are presentation attributes (no
``style``), which the content security policy allows. Gaps (``None``) break the line.

>>> svg = sparkline([1.0, None, 3.0, 2.0], "from 1 to 2")
>>> svg.count("<polyline"), svg.count("<circle"), 'aria-label="from 1 to 2"' in svg
(1, 1, True)
>>> sparkline([None, None], "no values")
Markup('')
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

__all__ = ["sparkline", "trend_text"]


def _runs(values: Sequence[float | None]) -> list[list[tuple[int, float]]]:
    """The unbroken runs of values, each as (index, value)."""
    runs: list[list[tuple[int, float]]] = [[]]
    for i, v in enumerate(values):
        if v is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append((i, float(v)))
    return [r for r in runs if r]


def sparkline(values: Sequence[float | None], label: str, *, width: int = 120, height: int = 24) -> Markup:
    """An inline SVG line of ``values`` (evenly spaced, scaled to their own range), labelled ``label``;
    empty when no value is known."""
    runs = _runs(values)
    if not runs:
        return Markup("")
    known = [v for r in runs for _, v in r]
    lo, hi = min(known), max(known)
    span = hi - lo or 1.0
    pad = 2.0
    step = (width - 2 * pad) / max(len(values) - 1, 1)

    def xy(i: int, v: float) -> str:
        y = height - pad - (v - lo) / span * (height - 2 * pad) if hi > lo else height / 2
        return f"{pad + i * step:.1f},{y:.1f}"

    parts = []
    for r in runs:
        if len(r) == 1:
            x, y = xy(*r[0]).split(",")
            parts.append(f'<circle cx="{x}" cy="{y}" r="1.5" fill="#005eb8"/>')
        else:
            points = " ".join(xy(i, v) for i, v in r)
            parts.append(f'<polyline points="{points}" fill="none" stroke="#005eb8" stroke-width="1.5"/>')
    text = escape(label)
    return Markup(f'<svg class="uec-sparkline" role="img" aria-label="{text}" width="{width}" height="{height}" '
                  f'viewBox="0 0 {width} {height}" focusable="false"><title>{text}</title>{"".join(parts)}</svg>')


def trend_text(times: Sequence[str], values: Sequence[float | None], fmt: Callable[[float], str]) -> str:
    """The words for a trend since midnight: its first value, its lowest and highest, and its latest,
    each with its time (``HH:MM``) and as ``fmt`` displays it.

    >>> for part in trend_text(["00:00", "00:15", "00:30"], [10, 40, 20], "{:g} min".format).split("; "):
    ...     print(part)
    Since midnight, every 15 minutes: 00:00 10 min
    lowest 10 min at 00:00
    highest 40 min at 00:15
    latest 20 min at 00:30.
    >>> trend_text(["00:00"], [None], str)
    'Since midnight: no values.'
    """
    known = [(t, v) for t, v in zip(times, values, strict=True) if v is not None]
    if not known:
        return "Since midnight: no values."
    low = min(known, key=lambda p: p[1])
    high = max(known, key=lambda p: p[1])
    first, last = known[0], known[-1]
    return (f"Since midnight, every 15 minutes: {first[0]} {fmt(first[1])}; lowest {fmt(low[1])} at {low[0]}; "
            f"highest {fmt(high[1])} at {high[0]}; latest {fmt(last[1])} at {last[0]}.")
