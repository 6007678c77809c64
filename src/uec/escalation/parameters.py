"""OPEL parameters computed at instants: from events where the store has them, from returns where not.

For each instant and each unit (an organisation, or a site of an acute trust), every parameter of
the unit's provider type gets a :class:`ParameterValue`: a value with its source (``events`` or
``returns``), or no value and a note saying why (``not available: <data missing from the
contract>`` or ``no data``). Nothing is invented: a parameter the events cannot give and no return
gives stays empty and is left out of the score.

Events come first: a parameter with an events measure whose denominator is positive for the unit
at the instant is taken from events. Otherwise the unit's daily OPEL return (``returns`` rows with
``source = 'opel'``, ``period_length = 'day'``, ``metric_code`` as the framework names it, the value
in the parameter's unit) for the instant's local day is used, or failing that the previous day's
(a return is submitted once a day and describes that day).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from uec.escalation.framework import Framework, Parameter
from uec.escalation.queries import (
    MEASURES,
    Instant,
    event_rows,
    opel_return_orgs,
    org_rows,
    returns_rows,
    site_rows,
)
from uec.standards.periods import LONDON, local_midnight
from uec.store import Store

__all__ = ["ParameterValue", "Unit", "UnitKey", "compute_values", "instant", "units"]

UnitKind = Literal["site", "org"]
UnitKey = tuple[UnitKind, str]


@dataclass(frozen=True)
class Unit:
    """An organisation or site that gets an OPEL score."""

    kind: UnitKind
    code: str
    name: str
    provider_type: str
    org_code: str  # the site's organisation, or the organisation itself


@dataclass(frozen=True)
class ParameterValue:
    """One parameter's value for one unit at one instant, or why it has none."""

    parameter: Parameter
    value: float | None
    source: Literal["events", "returns"] | None
    numerator: float | None = None
    denominator: float | None = None
    note: str | None = None


def instant(at: dt.datetime) -> Instant:
    """The :class:`Instant` for an aware datetime: its local midnight ("since midnight" starts there).

    >>> instant(dt.datetime(2024, 7, 1, 9, tzinfo=dt.UTC)).midnight.isoformat()
    '2024-06-30T23:00:00+00:00'
    """
    if at.tzinfo is None:
        raise ValueError("an instant must carry its offset")
    utc = at.astimezone(dt.UTC)
    return Instant(utc, local_midnight(utc.astimezone(LONDON).date()))


def units(store: Store, fw: Framework) -> list[Unit]:
    """Every organisation and site the framework scores, plus any code that only sends OPEL returns.

    A code in the returns that is neither an organisation nor a site of the store takes the
    provider type of the parameters it returns (a mental health trust that sends only its OPEL
    parameters, say).
    """
    by_org_type: dict[str, str] = {ot: name for name, pt in fw.provider_types.items() for ot in pt.org_types}
    out: list[Unit] = []
    orgs: dict[str, str] = {}
    for r in org_rows(store):
        kind = by_org_type.get(r["org_type"])
        if kind is not None:
            orgs[r["org_code"]] = kind
            out.append(Unit("org", r["org_code"], r["name"], kind, r["org_code"]))
    sites = site_rows(store)
    site_codes = {r["site_code"] for r in sites}
    site_types: dict[str, tuple[str, ...]] = {name: pt.site_types for name, pt in fw.provider_types.items()}
    for r in sites:
        org_type = orgs.get(r["org_code"])
        if org_type is not None and r["site_type"] in site_types[org_type]:
            out.append(Unit("site", r["site_code"], r["name"], org_type, r["org_code"]))
    metric_type = {p.returns.metric: fw.provider_type_of(p.id) for p in fw.parameters()}
    if metric_type:
        for r in opel_return_orgs(store, list(metric_type)):
            code = r["org_code"]
            if code not in orgs and code not in site_codes:
                out.append(Unit("org", code, code, metric_type[r["metric"]], code))
    return out


def _ratio(n: Any, d: Any) -> tuple[float | None, float | None, float | None]:
    num = None if n is None else float(n)
    den = None if d is None else float(d)
    if num is None or den is None or den <= 0:
        return None, num, den
    return num / den, num, den


def compute_values(
    store: Store, fw: Framework, instants: Sequence[Instant], scope: Sequence[Unit],
) -> dict[tuple[int, UnitKey], dict[str, ParameterValue]]:
    """Every parameter of every unit in ``scope`` at every instant, keyed ``(instant index, (kind, code))``."""
    # Every site adds to its organisation, including sites the framework does not score itself.
    site_org = {r["site_code"]: r["org_code"] for r in site_rows(store)}
    days = [inst.at.astimezone(LONDON).date() for inst in instants]
    params_by_type: dict[str, list[Parameter]] = {name: list(pt.parameters) for name, pt in fw.provider_types.items()}
    wanted_types = {u.provider_type for u in scope}
    measures = {m for t in wanted_types for p in params_by_type[t] for m in (p.events.measure, p.events.fallback)
                if m}

    event_values = _event_values(store, instants, measures, site_org)

    returned = _returns(store, fw, instants, wanted_types, params_by_type)

    out: dict[tuple[int, UnitKey], dict[str, ParameterValue]] = {}
    for i in range(len(instants)):
        for u in scope:
            values: dict[str, ParameterValue] = {}
            for p in params_by_type[u.provider_type]:
                cell = event_values.get(p.events.measure or "", {}).get((i, u.kind, u.code))
                if p.events.fallback and not _usable(cell):
                    cell = event_values.get(p.events.fallback, {}).get((i, u.kind, u.code))
                values[p.id] = _value(p, u, days[i], cell, returned)
            out[(i, (u.kind, u.code))] = values
    return out


_Cell = tuple[int, UnitKind, str]
_Triple = tuple[float | None, float | None, float | None]


def _event_values(
    store: Store, instants: Sequence[Instant], measures: set[str], site_org: dict[str, str],
) -> dict[str, dict[_Cell, _Triple]]:
    """(measure) -> (instant index, kind, code) -> (value, numerator, denominator), from the events."""
    event_values: dict[str, dict[_Cell, _Triple]] = defaultdict(dict)
    by_query: dict[str, list[str]] = defaultdict(list)
    for m in sorted(measures):
        by_query[MEASURES[m].query].append(m)
    for query, names in by_query.items():
        medians = [m for m in names if MEASURES[m].statistic == "median"]
        if medians:
            _median_values(store, query, instants, medians, event_values)
        else:
            _summed_values(store, query, instants, names, site_org, event_values)
    return event_values


def _median_values(
    store: Store, query: str, instants: Sequence[Instant], medians: list[str],
    event_values: dict[str, dict[_Cell, _Triple]],
) -> None:
    # A median of a trust is not built from its sites' medians: ask for both groupings.
    grains: tuple[UnitKind, ...] = ("site", "org")
    for kind in grains:
        for row in event_rows(store, query, instants, kind):
            if row["unit"] is None:
                continue
            for m in medians:
                ms = MEASURES[m]
                v = row[ms.numerator]
                event_values[m][(row["i"], kind, row["unit"])] = (
                    None if v is None else float(v), None, float(row[ms.denominator]))


def _summed_values(
    store: Store, query: str, instants: Sequence[Instant], names: list[str], site_org: dict[str, str],
    event_values: dict[str, dict[_Cell, _Triple]],
) -> None:
    # Ratios add their sites' numerators and denominators up to the organisation.
    grain = MEASURES[names[0]].grain
    sums: dict[str, dict[_Cell, list[float]]] = defaultdict(lambda: defaultdict(lambda: [0.0, 0.0]))
    for row in event_rows(store, query, instants, grain):
        if row["unit"] is None:
            continue
        for m in names:
            ms = MEASURES[m]
            n = float(row[ms.numerator] or 0)
            d = float(row[ms.denominator] or 0)
            keys: list[_Cell] = [(row["i"], grain, row["unit"])]
            if grain == "site" and row["unit"] in site_org:
                keys.append((row["i"], "org", site_org[row["unit"]]))
            for key in keys:
                acc = sums[m][key]
                acc[0] += n
                acc[1] += d
    for m, cells in sums.items():
        for key, (n, d) in cells.items():
            event_values[m][key] = _ratio(n, d)


def _returns(
    store: Store, fw: Framework, instants: Sequence[Instant], wanted_types: set[str],
    params_by_type: dict[str, list[Parameter]],
) -> dict[tuple[str, str, dt.date], float]:
    """(code, metric, local day) -> value of the daily OPEL returns the instants could use."""
    metrics = sorted({p.returns.metric for t in wanted_types for p in params_by_type[t]})
    if not instants or not metrics:
        return {}
    days = [inst.at.astimezone(LONDON).date() for inst in instants]
    rows = returns_rows(store, metrics, min(days) - dt.timedelta(days=1), max(days))
    out: dict[tuple[str, str, dt.date], float] = {}
    for r in rows:
        start = r["period_start"]
        day = start if isinstance(start, dt.date) else dt.date.fromisoformat(str(start))
        out[(r["org_code"], r["metric_code"], day)] = float(r["value"])
    return out


def _usable(cell: _Triple | None) -> bool:
    return cell is not None and cell[0] is not None and (cell[2] or 0) > 0


def _value(
    p: Parameter, u: Unit, day: dt.date,
    cell: tuple[float | None, float | None, float | None] | None,
    returned: dict[tuple[str, str, dt.date], float],
) -> ParameterValue:
    if cell is not None and _usable(cell):
        return ParameterValue(p, cell[0], "events", cell[1], cell[2])
    for d in (day, day - dt.timedelta(days=1)):
        v = returned.get((u.code, p.returns.metric, d))
        if v is not None:
            return ParameterValue(p, v, "returns", note=f"OPEL return for {d.isoformat()}")
    no_return = f"no OPEL return ({p.returns.metric})"
    if p.events.missing is not None:
        return ParameterValue(p, None, None, note=f"not available: {p.events.missing}; {no_return}")
    return ParameterValue(p, None, None, note=f"no data: no events for this measure and {no_return}")
