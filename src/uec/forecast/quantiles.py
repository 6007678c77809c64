"""The quantile levels every model forecasts, and their column names.

The 19 levels 0.05, 0.10, …, 0.95 are the scored grid (pinball loss, CRPS, quantile bias). Two
tail levels, 0.025 and 0.975, are forecast as well because a 95% central interval needs them;
the 80% interval is q0.10–q0.90.

>>> [quantile_column(x) for x in (0.025, 0.05, 0.1, 0.95)]
['q0.025', 'q0.05', 'q0.10', 'q0.95']
>>> len(QUANTILE_LEVELS), len(SCORED_LEVELS)
(21, 19)
"""

from __future__ import annotations

__all__ = [
    "INTERVALS",
    "QUANTILE_COLUMNS",
    "QUANTILE_LEVELS",
    "SCORED_COLUMNS",
    "SCORED_LEVELS",
    "quantile_column",
]

#: The scored grid 0.05, 0.10, …, 0.95.
SCORED_LEVELS: tuple[float, ...] = tuple(round(0.05 * i, 2) for i in range(1, 20))
#: Every level a model forecasts, ascending: the scored grid plus 0.025 and 0.975.
QUANTILE_LEVELS: tuple[float, ...] = (0.025, *SCORED_LEVELS, 0.975)


def quantile_column(level: float) -> str:
    """The column name of a level: two decimals, or three where the level needs them.

    >>> quantile_column(0.5)
    'q0.50'
    """
    text = f"{level:.3f}"
    return "q" + (text[:-1] if text.endswith("0") else text)


QUANTILE_COLUMNS: tuple[str, ...] = tuple(quantile_column(x) for x in QUANTILE_LEVELS)
SCORED_COLUMNS: tuple[str, ...] = tuple(quantile_column(x) for x in SCORED_LEVELS)
#: Central intervals scored for coverage: nominal level -> (lower column, upper column).
INTERVALS: dict[int, tuple[str, str]] = {80: ("q0.10", "q0.90"), 95: ("q0.025", "q0.975")}
