"""Writing results out: the CSV "publish" export and human-readable values.

The CSV export is what leaves the building, so disclosure control is on unless the caller turns it
off; suppressed cells are written ``*``.

>>> format_value(0.8660, "proportion"), format_value(7.58, "minutes"), format_value(None, "count")
('86.6%', '7.6 min', '')
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from uec.csvsafe import neutralise
from uec.errors import UecError
from uec.standards.engine import Result
from uec.standards.sdc import disclose

__all__ = ["CSV_COLUMNS", "csv_cell", "csv_records", "format_value", "write_csv"]

CSV_COLUMNS: tuple[str, ...] = (
    "standard_id", "title", "unit", "level", "code", "period", "period_start", "breakdown", "group",
    "numerator", "denominator", "value", "support", "target", "target_comparison", "target_label",
    "target_source", "met", "source", "approximate",
)

_SUFFIX = {
    "minutes": " min", "hours": " h", "per_1000": " per 1,000", "beds": " beds",
    "hours_per_day": " h/day", "count": "", "ratio": "",
}


def format_value(value: float | str | None, unit: str) -> str:
    """A value for people: percentages for proportions, units otherwise, ``*`` kept.

    Counts and beds are whole things, so a mean of them (across days or replications) is shown
    to the nearest whole one.

    >>> format_value("*", "proportion"), format_value(12.0, "count"), format_value(0.97, "ratio")
    ('*', '12', '0.97')
    >>> format_value(6.8, "count"), format_value(1234.4, "beds")
    ('7', '1,234 beds')
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if unit == "proportion":
        return f"{100 * value:.1f}%"
    if unit in ("count", "beds"):
        return f"{round(value):,}{_SUFFIX.get(unit, '')}"
    if unit == "ratio":
        return f"{value:,.2f}"
    return f"{value:,.1f}{_SUFFIX.get(unit, '')}"


def csv_cell(value: object) -> str:
    """A cell as CSV text: whole numbers without a decimal point, others to 6 significant figures;
    text that a spreadsheet would run as a formula is neutralised (:mod:`uec.csvsafe`), numbers never.

    >>> csv_cell(95.0), csv_cell(0.904761904), csv_cell("*"), csv_cell(None), csv_cell(True)
    ('95', '0.904762', '*', '', 'true')
    >>> csv_cell(-2.5), csv_cell("=cmd|' /C calc'!A0")
    ('-2.5', "'=cmd|' /C calc'!A0")
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.6g}"
    if isinstance(value, int):
        return str(value)
    return neutralise(str(value))


def csv_records(results: Iterable[Result]) -> list[dict[str, str]]:
    """One dict of CSV cells per row, across results."""
    out = []
    for res in results:
        for row in res.rows:
            d = row.as_dict()
            d["title"] = res.standard.title
            d["unit"] = res.standard.unit
            out.append({c: csv_cell(d.get(c)) for c in CSV_COLUMNS})
    return out


def write_csv(results: Iterable[Result], path: Path | str, *, sdc: bool = True) -> int:
    """Write results to ``path`` as CSV (disclosure control on by default); the number of rows written."""
    chosen = [disclose(r) if sdc else r for r in results]
    records = csv_records(chosen)
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=list(CSV_COLUMNS))
            writer.writeheader()
            writer.writerows(records)
    except OSError as exc:
        raise UecError(f"cannot write {target}: {exc.strerror}") from None
    return len(records)
