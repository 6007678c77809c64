"""Statistical disclosure control for results that leave the building.

The rules follow the NHS practice for publishing counts of people: a count of 1 to 7 is suppressed
(shown ``*``), every other count is rounded to the nearest 5, and a rate is recomputed from the
rounded parts, so no published figure can be differenced back to a small number. How a standard's
cells are treated is its ``disclosure`` in the catalogue:

- ``parts``: numerator and denominator are counts of people or events.
- ``numerator``: only the numerator is a count (the denominator is a population or a number of days).
- ``support``: the value is a statistic (a mean, a centile, hours lost) over ``support`` records; the
  numerator and denominator are withheld and the value is suppressed when the support is 1 to 7.
- ``none``: capacity data (beds, opening hours), published as it is.

>>> round_count(12), round_count(13), round_count(0), round_count(6)
(10, 15, 0, None)
"""

from __future__ import annotations

import math
from dataclasses import replace

from uec.standards.engine import Result, Row
from uec.standards.model import Standard

__all__ = ["SUPPRESSED", "disclose", "disclose_row", "round_count"]

#: How a suppressed cell is shown.
SUPPRESSED = "*"


def round_count(n: float) -> int | None:
    """A count as it may be published: ``None`` (suppressed) for 1-7, else rounded to the nearest 5.

    Halves round up, so the rule never depends on floating-point ties.

    >>> [round_count(n) for n in (7, 8, 22, 23)]
    [None, 10, 20, 25]
    """
    if 0 < n < 7.5:
        return None
    return math.floor(n / 5 + 0.5) * 5


def _ratio(standard: Standard, n: float | None, d: float | None) -> float | None:
    if n is None or d is None or d == 0:
        return None
    return standard.multiplier * n / d


def disclose_row(row: Row, standard: Standard) -> Row:
    """The row as it may be published under the standard's disclosure rule.

    >>> from uec.standards.model import catalogue
    >>> from uec.standards.engine import Row
    >>> import datetime as dt
    >>> row = Row("ed-4hr", "ics", None, "month", dt.date(2024, 4, 1), None, None,
    ...           numerator=93, denominator=104, value=93 / 104, support=104, target=None, met=None,
    ...           source="events")
    >>> shown = disclose_row(row, catalogue().get("ed-4hr"))
    >>> shown.numerator, shown.denominator, round(shown.value, 4)
    (95.0, 105.0, 0.9048)
    """
    rule = standard.disclosure
    if rule == "none":
        return row
    hidden: set[str] = set()

    def count(name: str, v: float | None) -> float | None:
        if v is None:
            return None
        shown = round_count(v)
        if shown is None:
            hidden.add(name)
        return None if shown is None else float(shown)

    support = count("support", row.support)
    numerator, denominator, value = row.numerator, row.denominator, row.value
    if rule == "parts":
        numerator, denominator = count("numerator", numerator), count("denominator", denominator)
        value = numerator if standard.statistic == "total" else _ratio(standard, numerator, denominator)
        if {"numerator", "denominator"} & hidden:
            hidden.add("value")
    elif rule == "numerator":
        numerator = count("numerator", numerator)
        value = numerator if standard.statistic == "total" else _ratio(standard, numerator, denominator)
        if "numerator" in hidden:
            hidden.add("value")
    else:  # support: a statistic over records; its parts are not counts of people
        numerator = denominator = None
        if "support" in hidden:
            value = None
            hidden.add("value")
    if "value" in hidden:
        value = None
    met = None if value is None or row.target is None else row.target.met(value)
    return replace(
        row, numerator=numerator, denominator=denominator, value=value, support=support, met=met,
        suppressed=frozenset(hidden),
    )


def disclose(result: Result) -> Result:
    """The whole result under disclosure control (idempotent on an already disclosed result)."""
    if result.disclosed:
        return result
    rows = tuple(disclose_row(r, result.standard) for r in result.rows)
    return replace(result, rows=rows, disclosed=True)
