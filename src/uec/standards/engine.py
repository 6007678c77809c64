"""The engine: compute any standard for any site, organisation or the whole ICS, for any period.

One implementation serves every caller (command line, web, simulation): it reads the catalogue's
recipes, writes portable SQL for the store (DuckDB or PostgreSQL), and returns typed rows. Standards
computed from the same table, time column and scope are fused into one query, so the whole catalogue
scans each event table once.

Events are used where the store holds them for a unit and period; aggregate returns fill the
periods that have none (``source="auto"``), or either can be forced.

>>> import tempfile, os
>>> from uec.store import open_store
>>> store = open_store(os.path.join(tempfile.mkdtemp(), "uec.duckdb"))
>>> result = compute(store, "ed-4hr", period="month", start=dt.date(2024, 4, 1), end=dt.date(2024, 5, 1))
>>> result.rows
()
>>> result.notes  # doctest: +ELLIPSIS
('no ed-4hr data in the store for this scope and range: source not loaded: the store has no attendances ...',)
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, get_args

from uec.errors import UecError
from uec.standards.areas import AGGREGATES, Hierarchy, Membership
from uec.standards.model import BREAKDOWNS, EventsRecipe, Part, ReturnsRecipe, Standard, Target, catalogue
from uec.standards.periods import (
    GRAINS,
    LONDON,
    Grain,
    count_days,
    iter_periods,
    local_midnight,
    nesting_lengths,
    period_end,
    period_key_sql,
    return_period,
    utc_bounds,
)
from uec.store import Store

__all__ = [
    "Level",
    "Query",
    "Result",
    "Row",
    "SourceChoice",
    "compute",
    "compute_many",
    "organisation_names",
]

Level = Literal["site", "org", "ics"]
SourceChoice = Literal["auto", "events", "returns"]

PeriodStart = dt.date | dt.datetime


@dataclass(frozen=True)
class Query:
    """What was asked: the period grain, the local date range ``[start, end)`` and the scope."""

    period: Grain
    start: dt.date
    end: dt.date
    level: Level
    site: str | None = None
    org: str | None = None
    breakdown: str | None = None
    source: SourceChoice = "auto"
    #: Read returns as the store knew them at this instant (revisions loaded later not yet made).
    as_of: dt.datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "period": self.period, "from": self.start.isoformat(), "to": self.end.isoformat(),
            "level": self.level, "site": self.site, "org": self.org,
            "breakdown": self.breakdown, "source": self.source,
        }
        if self.as_of is not None:
            out["as_of"] = self.as_of.isoformat()
        return out


@dataclass(frozen=True)
class Row:
    """One value of one standard for one unit (site, organisation or ICS), period and group.

    ``code`` is the site or organisation code (``None`` for the ICS). ``group`` is the breakdown
    value (``None`` when there is no breakdown, or the value was not recorded). ``support`` is how
    many records the value rests on. ``suppressed`` names the cells disclosure control hid.
    """

    standard_id: str
    level: Level
    code: str | None
    period: Grain
    period_start: PeriodStart
    breakdown: str | None
    group: str | None
    numerator: float | None
    denominator: float | None
    value: float | None
    support: float | None
    target: Target | None
    met: bool | None
    source: Literal["events", "returns"]
    approximate: bool = False
    suppressed: frozenset[str] = frozenset()

    def cell(self, name: str) -> float | str | None:
        """A numeric cell as shown: ``"*"`` where disclosure control suppressed it."""
        if name in self.suppressed:
            return "*"
        value: float | None = getattr(self, name)
        return value

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: dates as ISO text, suppressed cells as ``"*"``."""
        t = self.target
        return {
            "standard_id": self.standard_id,
            "level": self.level,
            "code": self.code,
            "period": self.period,
            "period_start": self.period_start.isoformat(),
            "breakdown": self.breakdown,
            "group": self.group,
            "numerator": self.cell("numerator"),
            "denominator": self.cell("denominator"),
            "value": self.cell("value"),
            "support": self.cell("support"),
            "target": None if t is None else t.value,
            "target_comparison": None if t is None else t.comparison,
            "target_label": None if t is None else t.label,
            "target_source": None if t is None else t.source.citation(),
            "met": self.met,
            "source": self.source,
            "approximate": self.approximate,
        }


@dataclass(frozen=True)
class Result:
    """A standard's rows for one query, with notes on anything that could not be computed."""

    standard: Standard
    query: Query
    rows: tuple[Row, ...]
    notes: tuple[str, ...] = ()
    disclosed: bool = False
    #: For an area total over returns (the ICS level, or an organisation that is an ICB, region or
    #: England): each period's members included and missing (see :mod:`uec.standards.areas`).
    members: tuple[Membership, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        s = self.standard
        return {
            "standard": s.id, "title": s.title, "unit": s.unit, "direction": s.direction,
            "query": self.query.as_dict(), "sdc": self.disclosed,
            "rows": [r.as_dict() for r in self.rows], "notes": list(self.notes),
            "members": [c.as_dict() for c in self.members],
        }


# --- public entry points ------------------------------------------------------------------------


def compute(  # noqa: PLR0913 - keyword-only filters, each a documented option of the query
    store: Store,
    standard: str | Standard,
    *,
    period: str = "month",
    start: dt.date | None = None,
    end: dt.date | None = None,
    site: str | None = None,
    org: str | None = None,
    level: str | None = None,
    breakdown: str | None = None,
    source: str = "auto",
    as_of: dt.datetime | None = None,
) -> Result:
    """Compute one standard. See :func:`compute_many` for the arguments.

    Asking for a scope the standard cannot be computed at (category 1 response times by hospital
    site, say) is a one-line ``UecError`` rather than an empty answer.
    """
    s = standard if isinstance(standard, Standard) else catalogue().get(standard)
    with store.reading():  # one connection for the checks and the queries
        plan, q = _prepare(store, [s], period, start, end, site, org, level, breakdown, source)
        q = replace(q, as_of=as_of)
        if s.id in plan.impossible:
            raise UecError(plan.notes[s.id][0])
        (result,) = _run(store, plan, q)
    if not result.rows and s.id in plan.unusable_events:
        # Events could not serve the scope and no return did either: say why, not just "no data".
        raise UecError(f"{s.id} cannot be computed for this query: {plan.unusable_events[s.id]}")
    return result


def compute_many(  # noqa: PLR0913 - keyword-only filters, each a documented option of the query
    store: Store,
    standards: Sequence[str | Standard] | None = None,
    *,
    period: str = "month",
    start: dt.date | None = None,
    end: dt.date | None = None,
    site: str | None = None,
    org: str | None = None,
    level: str | None = None,
    breakdown: str | None = None,
    source: str = "auto",
    as_of: dt.datetime | None = None,
) -> list[Result]:
    """Compute several standards (default: the whole catalogue) in as few queries as possible.

    ``period`` is ``hour``, ``day``, ``week``, ``month``, ``quarter``, ``fy`` (financial year from 1
    April) or ``range`` (the whole range as one period). ``start``/``end`` bound the local dates
    ``[start, end)``; missing bounds come from the data. ``site`` or ``org`` narrow the scope;
    ``level`` (``site``, ``org`` or ``ics``) says what each row is for, by default the narrowest
    given. ``breakdown`` is one of :data:`~uec.standards.model.BREAKDOWNS`. ``source`` is ``auto``
    (events where present, returns otherwise), ``events`` or ``returns``. ``as_of`` (an aware
    instant) reads returns as the store knew them then: values loaded later are left out and values
    they revised are read instead (events are not versioned). A standard that cannot be computed for
    the query comes back with no rows and a note saying why.
    """
    cat = catalogue()
    chosen = [s if isinstance(s, Standard) else cat.get(s) for s in (standards or cat.standards)]
    with store.reading():  # one connection for the checks and every query
        plan, q = _prepare(store, chosen, period, start, end, site, org, level, breakdown, source)
        return _run(store, plan, replace(q, as_of=as_of))


def _prepare(  # noqa: PLR0913 - compute's filters, passed through
    store: Store, chosen: list[Standard], period: str, start: dt.date | None, end: dt.date | None,
    site: str | None, org: str | None, level: str | None, breakdown: str | None, source: str,
) -> tuple[_Plan, Query]:
    q_level = _check_args(period, site, org, level, breakdown, source)
    if site is not None:
        _check_known(store, "site", site)
    if org is not None:
        _check_known(store, "org", org)
    if start is not None and end is not None and end <= start:
        raise UecError(f"the range ends ({end}) on or before it starts ({start}); --to must be after --from")
    plan = _Plan(chosen, period, q_level, site, org, breakdown, source)  # type: ignore[arg-type]
    if start is None or end is None:
        span = _data_span(store, plan)
        if span is None:
            today = dt.datetime.now(LONDON).date()
            start, end = start or today, end or today
        else:
            start, end = start or span[0], end or span[1]
        end = max(end, start)
    q = Query(period, start, end, q_level, site, org, breakdown, source)  # type: ignore[arg-type]
    return plan, q


# --- argument checks ----------------------------------------------------------------------------


def _check_args(period: str, site: str | None, org: str | None, level: str | None,
                breakdown: str | None, source: str) -> Level:
    if period not in GRAINS:
        raise UecError(f"unknown period {period!r}; choose one of: {', '.join(GRAINS)}")
    if source not in get_args(SourceChoice):
        raise UecError(f"unknown source {source!r}; choose one of: auto, events, returns")
    if breakdown is not None and breakdown not in BREAKDOWNS:
        raise UecError(f"unknown breakdown {breakdown!r}; choose one of: {', '.join(BREAKDOWNS)}")
    if site is not None and org is not None:
        raise UecError("give a site or an organisation, not both")
    if level is not None and level not in get_args(Level):
        raise UecError(f"unknown level {level!r}; choose one of: site, org, ics")
    chosen: Level = level or ("site" if site else "org" if org else "ics")  # type: ignore[assignment]
    if site is not None and chosen != "site":
        raise UecError(f"a single site is reported at site level, not {chosen}")
    if org is not None and chosen == "ics":
        raise UecError("an organisation is reported at org or site level, not ics")
    return chosen


# Where a code may appear: a site or organisation is known if any of these holds it.
_KNOWN_IN = {
    "site": (("sites", "site_code"), ("returns", "org_code"), ("attendances", "site_code"),
             ("spells", "site_code"), ("bed_states", "site_code"), ("ambulance_incidents", "destination_site")),
    "org": (("organisations", "org_code"), ("sites", "org_code"), ("returns", "org_code"),
            ("ambulance_incidents", "org_code"), ("calls_111", "org_code"), ("ucr_referrals", "org_code"),
            ("org_hierarchy", "org_code"), ("org_hierarchy", "parent_code"), ("org_hierarchy", "region_code")),
}


def _check_known(store: Store, kind: str, code: str) -> None:
    # EXISTS stops at the first match, so checking a code costs little even on large event tables.
    probes = " OR ".join(f"EXISTS (SELECT 1 FROM {t} WHERE {c} = :c)" for t, c in _KNOWN_IN[kind])
    if store.query(f"SELECT ({probes}) AS known", {"c": code})[0]["known"]:
        return
    if kind == "site":
        known = [r["site_code"] for r in store.query("SELECT site_code FROM sites ORDER BY site_code LIMIT 10")]
        word = "site"
    else:
        known = [r["org_code"] for r in store.query("SELECT org_code FROM organisations ORDER BY org_code LIMIT 10")]
        word = "organisation"
    hint = f" (known: {', '.join(known)})" if known else ""
    raise UecError(f"unknown {word} {code!r}: no {word}, event or return in the store has that code{hint}")


# --- planning -----------------------------------------------------------------------------------


@dataclass
class _Plan:
    """Which events recipe serves each standard for this query, and why any cannot."""

    standards: list[Standard]
    period: Grain
    level: Level
    site: str | None
    org: str | None
    breakdown: str | None
    source: SourceChoice
    events: dict[str, EventsRecipe] = field(default_factory=dict)
    notes: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    impossible: set[str] = field(default_factory=set)
    unusable_events: dict[str, str] = field(default_factory=dict)

    def returns_usable(self, s: Standard) -> bool:
        return bool(s.returns) and self.source != "events" and self.breakdown is None and self.period != "hour"

    def __post_init__(self) -> None:
        for s in self.standards:
            if self.source == "returns":
                if not self.returns_usable(s):
                    why = "it has no returns recipe" if not s.returns else "returns have no breakdowns or hours"
                    self._impossible(s, why)
                continue
            reasons = []
            for recipe in s.events:
                reason = self._incompatible(recipe)
                if reason is None:
                    self.events[s.id] = recipe
                    break
                reasons.append(reason)
            else:
                if self.returns_usable(s):
                    if reasons:
                        self.unusable_events[s.id] = reasons[0]
                        self.notes[s.id].append(f"{s.id}: not from events here ({reasons[0]}); using returns")
                else:
                    self._impossible(s, reasons[0] if reasons else "it has no events recipe")

    def _impossible(self, s: Standard, why: str) -> None:
        self.impossible.add(s.id)
        self.notes[s.id].append(f"{s.id} cannot be computed for this query: {why}")

    def _incompatible(self, r: EventsRecipe) -> str | None:
        if (self.level == "site" or self.site) and r.site is None:
            return f"{r.table} has no site column, so it is reported by organisation or ICS"
        if self.breakdown and self.breakdown not in r.breakdowns:
            have = ", ".join(r.breakdowns) or "none"
            return f"no breakdown by {self.breakdown} (available: {have})"
        if self.period == "hour" and r.uses_calendar:
            return "it is measured over whole days, not by the hour"
        return None


def _data_span(store: Store, plan: _Plan) -> tuple[dt.date, dt.date] | None:
    """Local dates ``[first, last + 1)`` of the data the planned recipes would read."""
    lows: list[dt.datetime | dt.date] = []
    highs: list[dt.datetime | dt.date] = []
    seen: set[tuple[str, str]] = set()
    for r in plan.events.values():
        if r.reference:
            continue
        lo, hi = (r.census_start, f"coalesce({r.census_end}, {r.census_start})") if r.census else (r.time, r.time)
        assert lo is not None and hi is not None
        if (r.table, lo) in seen:
            continue
        seen.add((r.table, lo))
        row = store.query(f"SELECT min({lo}) AS lo, max({hi}) AS hi FROM {r.table}")[0]
        if row["lo"] is not None:
            lows.append(row["lo"])
            highs.append(row["hi"])
    codes = sorted({c for s in plan.standards for rr in s.returns for c in rr.codes})
    if codes and plan.source != "events":
        row = store.query(
            f"SELECT min(period_start) AS lo, max(period_start) AS hi FROM returns WHERE metric_code IN ({_in(codes)})"
        )[0]
        if row["lo"] is not None:
            lows.append(row["lo"])
            highs.append(row["hi"])
    if not lows:
        return None
    first = min(_local_date(v) for v in lows)
    last = max(_local_date(v) for v in highs)
    return first, last + dt.timedelta(days=1)


def _local_date(v: dt.datetime | dt.date) -> dt.date:
    if isinstance(v, dt.datetime):
        aware = v if v.tzinfo else v.replace(tzinfo=dt.UTC)
        return aware.astimezone(LONDON).date()
    return v


def _in(codes: Iterable[str]) -> str:
    # Codes come from the reviewed catalogue and are checked to be plain identifiers on load.
    return ", ".join(f"'{c}'" for c in codes)


# --- events -------------------------------------------------------------------------------------


_FusionKey = tuple[str, str | None, str | None, str | None, str | None, str | None]


def _fusion_key(r: EventsRecipe) -> _FusionKey:
    return (r.table, r.time, r.site, r.org, r.census_start, r.census_end)


def _part_sql(part: Part | None, cond: str) -> str | None:
    if part is None or part.agg in ("days", "population"):
        return None
    if part.agg == "count_distinct":
        return f"count(DISTINCT CASE WHEN {cond} THEN ({part.expr}) END)"
    return f"sum(CASE WHEN {cond} THEN ({part.expr}) ELSE 0 END)"


def _counts_rows(part: Part | None) -> bool:
    """Whether a denominator is the row count itself, so it doubles as the support."""
    return part is not None and part.agg == "sum" and part.expr.strip() == "1" and part.per_day is None


def _census_values(q: Query) -> str:
    days = []
    d = q.start
    while d < q.end:
        days.append(f"(CAST('{local_midnight(d).isoformat()}' AS TIMESTAMP WITH TIME ZONE))")
        d += dt.timedelta(days=1)
    return f"(VALUES {', '.join(days)}) AS c(census_time)"


def _events_sql(items: Sequence[tuple[int, Standard, EventsRecipe]], q: Query) -> tuple[str, dict[str, Any]]:
    r0 = items[0][2]
    params: dict[str, Any] = {}
    start_utc, end_utc = utc_bounds(q.start, q.end)
    joins, where = "", []
    if r0.census:
        source = f"{r0.table} e JOIN {_census_values(q)} ON e.{r0.census_start} <= c.census_time AND " \
                 f"(e.{r0.census_end} IS NULL OR e.{r0.census_end} > c.census_time)"
        # Only spells that overlap the range can be in a bed at one of its censuses.
        where.append(
            f"e.{r0.census_start} < :end_utc AND (e.{r0.census_end} IS NULL OR e.{r0.census_end} >= :start_utc)"
        )
        params.update(start_utc=start_utc, end_utc=end_utc)
        extra = ", c.census_time"
    else:
        source = f"{r0.table} e"
        extra = ""
        if not r0.reference:
            where.append(f"e.{r0.time} >= :start_utc AND e.{r0.time} < :end_utc")
            params.update(start_utc=start_utc, end_utc=end_utc)
    if q.site is not None:
        where.append(f"e.{r0.site} = :site")
        params["site"] = q.site
    if q.org is not None:
        if r0.org is not None:
            where.append(f"e.{r0.org} = :org")
        else:
            where.append(f"e.{r0.site} IN (SELECT site_code FROM sites WHERE org_code = :org)")
        params["org"] = q.org
    if q.level == "site":
        unit = f"e.{r0.site}"
    elif q.level == "org" and r0.org is not None:
        unit = f"e.{r0.org}"
    elif q.level == "org":
        joins = f" LEFT JOIN sites st ON st.site_code = e.{r0.site}"
        unit = "st.org_code"
    else:
        unit = "CAST(NULL AS VARCHAR)"
    base = f"SELECT e.*{extra}, {unit} AS _unit FROM {source}{joins}"
    if where:
        base += " WHERE " + " AND ".join(f"({w})" for w in where)
    # Every row's time lies in the query's range (the WHERE above, or the census instants), which
    # lets the period be found by comparison with the periods' starting instants.
    period = "CAST(NULL AS DATE)" if r0.reference else period_key_sql(str(r0.time), q.period, q.start, q.end)
    group = f"CAST({q.breakdown} AS VARCHAR)" if q.breakdown else "CAST(NULL AS VARCHAR)"
    aggs = []
    for i, s, r in items:
        cond = f"({r.where})" if r.where else "TRUE"
        if s.statistic == "percentile":
            aggs.append(
                f"percentile_cont({s.percentile}) WITHIN GROUP "
                f"(ORDER BY CASE WHEN {cond} THEN ({r.measure}) END) AS v{i}"
            )
            aggs.append(f"sum(CASE WHEN {cond} AND ({r.measure}) IS NOT NULL THEN 1 ELSE 0 END) AS s{i}")
            continue
        for name, part in (("n", r.numerator), ("d", r.denominator)):
            sql = _part_sql(part, cond)
            if sql:
                aggs.append(f"{sql} AS {name}{i}")
        if not _counts_rows(r.denominator):
            aggs.append(f"sum(CASE WHEN {cond} THEN 1 ELSE 0 END) AS s{i}")
    sql = (
        f"WITH base AS ({base}) SELECT _unit, {period} AS _period, {group} AS _grp, "
        + ", ".join(aggs) + " FROM base GROUP BY 1, 2, 3"
    )
    return sql, params


@dataclass(frozen=True)
class _Cell:
    """Raw aggregates of one standard for one unit, period and group."""

    numerator: float | None
    denominator: float | None
    value: float | None
    support: float | None
    approximate: bool = False


_Key = tuple[str | None, PeriodStart | None, str | None]


def _num(v: Any) -> float | None:
    return None if v is None else float(v)


def _period_value(v: Any, q: Query) -> PeriodStart | None:
    if v is None:
        return None
    if isinstance(v, dt.datetime):
        aware = v if v.tzinfo else v.replace(tzinfo=dt.UTC)
        local = aware.astimezone(LONDON)
        # A fixed offset, not the zone: Python compares two times in the same zone by wall clock,
        # so 01:00 BST and 01:00 GMT on the autumn change would be one dictionary key.
        return local.replace(tzinfo=dt.timezone(local.utcoffset() or dt.timedelta()))
    if q.period == "range":
        return q.start
    return v if isinstance(v, dt.date) else dt.date.fromisoformat(str(v))


def _run_events(store: Store, plan: _Plan, q: Query) -> dict[str, dict[_Key, _Cell]]:
    groups: dict[_FusionKey, list[tuple[int, Standard, EventsRecipe]]] = defaultdict(list)
    for i, s in enumerate(plan.standards):
        r = plan.events.get(s.id)
        if r is not None:
            groups[_fusion_key(r)].append((i, s, r))
    out: dict[str, dict[_Key, _Cell]] = defaultdict(dict)
    for items in groups.values():
        if q.start >= q.end:
            continue
        sql, params = _events_sql(items, q)
        for row in store.query(sql, params):
            key: _Key = (row["_unit"], _period_value(row["_period"], q), row["_grp"])
            for i, s, _ in items:
                support = row[f"s{i}"] if f"s{i}" in row else row[f"d{i}"]
                out[s.id][key] = _Cell(
                    numerator=_num(row.get(f"n{i}")),
                    denominator=_num(row.get(f"d{i}")),
                    value=_num(row.get(f"v{i}")),
                    support=_num(support),
                )
    return out


def _populations(store: Store, q: Query) -> dict[str | None, float | None]:
    rows = store.query("SELECT site_code, org_code, population_served FROM sites")
    if q.site is not None:
        rows = [r for r in rows if r["site_code"] == q.site]
    if q.org is not None:
        rows = [r for r in rows if r["org_code"] == q.org]
    out: dict[str | None, float | None] = {}
    totals: dict[str | None, float] = defaultdict(float)
    for r in rows:
        unit = {"site": r["site_code"], "org": r["org_code"], "ics": None}[q.level]
        if r["population_served"] is not None:
            totals[unit] += float(r["population_served"])
        out.setdefault(unit, None)
    out.update(totals)
    return out


def _days(kind: str, period: PeriodStart, q: Query) -> int:
    if isinstance(period, dt.datetime):
        return 0
    lo = period if q.period == "range" else max(period, q.start)
    hi = q.end if q.period == "range" else min(period_end(period, q.period), q.end)
    return count_days(lo, hi, kind)


def _finish_events(s: Standard, r: EventsRecipe, cells: dict[_Key, _Cell], q: Query,
                   population: dict[str | None, float | None] | None) -> dict[_Key, _Cell]:
    """Apply the parts computed outside SQL: day counts, populations, per-day rates; spread reference values."""
    if r.reference:
        spread: dict[_Key, _Cell] = {}
        for (unit, _, grp), cell in cells.items():
            for p in iter_periods(q.start, q.end, q.period):
                spread[(unit, p, grp)] = cell
        cells = spread
    out: dict[_Key, _Cell] = {}
    for key, cell in cells.items():
        unit, period, _ = key
        assert period is not None
        n, d = cell.numerator, cell.denominator
        for side, part in (("n", r.numerator), ("d", r.denominator)):
            if part is None:
                continue
            v = n if side == "n" else d
            if part.agg == "days":
                v = float(_days(part.expr, period, q))
            elif part.agg == "population":
                v = (population or {}).get(unit)
            if part.per_day and v is not None:
                days = _days(part.per_day, period, q)
                v = v / days if days else None
            n, d = (v, d) if side == "n" else (n, v)
        out[key] = replace(cell, numerator=n, denominator=d)
    return out


# --- returns ------------------------------------------------------------------------------------


def _returns_scope(store: Store, q: Query) -> tuple[str, dict[str, Any]]:
    if q.site is not None:
        return "org_code = :site", {"site": q.site}
    if q.org is not None and q.level == "site":
        return "org_code IN (SELECT site_code FROM sites WHERE org_code = :org)", {"org": q.org}
    if q.org is not None:
        return "org_code = :org", {"org": q.org}
    if q.level == "site":
        return "org_code IN (SELECT site_code FROM sites)", {}
    # Organisation and ICS levels add up the providers the store knows; a bare store of returns
    # (no organisations loaded) adds up every code it holds.
    if store.query("SELECT count(*) AS n FROM organisations WHERE org_type <> 'ics'")[0]["n"]:
        return "org_code IN (SELECT org_code FROM organisations WHERE org_type <> 'ics')", {}
    return "TRUE", {}


# Returns as known at :as_of: current values loaded by then, and values revised after it (kept in
# returns_history by uec.ingest with the load that replaced them). A row with no load (written by the
# demo) was always known.
_RETURNS_AS_OF = """(
  SELECT r.org_code, r.period_start, r.period_length, r.metric_code, r.source, r.value FROM returns r
  LEFT JOIN loads l ON l.load_id = r.load_id WHERE l.loaded_at IS NULL OR l.loaded_at <= :as_of
  {history}
) AS returns_as_of"""
_HISTORY_AS_OF = """UNION ALL
  SELECT h.org_code, h.period_start, h.period_length, h.metric_code, h.source, h.value FROM returns_history h
  LEFT JOIN loads l ON l.load_id = h.load_id JOIN loads s ON s.load_id = h.superseded_by
  WHERE (l.loaded_at IS NULL OR l.loaded_at <= :as_of) AND s.loaded_at > :as_of"""


def _returns_relation(store: Store, as_of: dt.datetime | None) -> tuple[str, dict[str, Any]]:
    """The relation to read returns from, and its parameters: the table, or it as known at ``as_of``."""
    if as_of is None:
        return "returns", {}
    has_history = store.query(
        "SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'returns_history'")[0]["n"]
    return _RETURNS_AS_OF.format(history=_HISTORY_AS_OF if has_history else ""), {"as_of": as_of}


def _run_returns(store: Store, standards: Sequence[Standard], q: Query,
                 scope: tuple[str, dict[str, Any]]) -> dict[str, dict[_Key, _Cell]]:
    """Cells from returns for every standard, from one query.

    Returns are small aggregate tables, so the rows needed are read once and each recipe's
    arithmetic (signed sums, weighted centiles) is done here rather than in one query per standard.
    """
    recipes = [r for s in standards for r in s.returns]
    lengths = nesting_lengths(q.period)
    if not recipes or not lengths:
        return {}
    returns = _read_returns(store, recipes, q, scope)
    out: dict[str, dict[_Key, _Cell]] = {}
    for s in standards:
        # Recipes in order: a unit and period the first cannot serve (a Scottish site, a trust's
        # all-types return) is served by the next, never both.
        for r in s.returns:
            for key, cell in _returns_cells(r, returns, q).items():
                out.setdefault(s.id, {}).setdefault(key, cell)
    return out


_ReturnsByUnit = dict[tuple[str, dt.date, str, str], dict[str, float]]


def _read_returns(store: Store, recipes: Sequence[ReturnsRecipe], q: Query,
                  scope: tuple[str, dict[str, Any]]) -> _ReturnsByUnit:
    """The returns the recipes need: (org, first day, length, source) -> metric code -> value."""
    lengths = nesting_lengths(q.period)
    codes = sorted({c for r in recipes for c in r.codes})
    relation, as_of = _returns_relation(store, q.as_of)
    sql = (
        f"SELECT org_code, period_start, period_length, metric_code, source, value FROM {relation} "
        f"WHERE metric_code IN ({_in(codes)}) AND period_start >= :start_d AND period_start < :end_d "
        f"AND period_length IN ({_in(lengths)}) AND ({scope[0]})"
    )
    returns: _ReturnsByUnit = defaultdict(dict)
    for row in store.query(sql, {"start_d": q.start, "end_d": q.end, **scope[1], **as_of}):
        day = row["period_start"] if isinstance(row["period_start"], dt.date) else dt.date.fromisoformat(
            str(row["period_start"]))
        values = returns[(row["org_code"], day, row["period_length"], row["source"])]
        values[row["metric_code"]] = values.get(row["metric_code"], 0.0) + float(row["value"])
    return returns


def _returns_cells(r: ReturnsRecipe, returns: dict[tuple[str, dt.date, str, str], dict[str, float]],
                   q: Query) -> dict[_Key, _Cell]:
    if r.by_code:
        return _returns_cells_by_code(r, returns, q)
    sums: dict[_Key, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for (org, day, length, source), values in returns.items():
        if r.source is not None and source != r.source:
            continue
        period = return_period(day, length, q.period, q.start)
        if period is None:
            continue
        key: _Key = (None if q.level == "ics" else org, period, None)
        if r.value:
            if r.value not in values:
                continue
            w = values.get(r.weight, 1.0) if r.weight else 1.0
            acc = sums[key]
            acc[0] += values[r.value] * w
            acc[1] += w
            acc[2] += 1
        elif any(c in values for c in r.codes) and not (r.complete and not all(c in values for c in r.codes)):
            acc = sums[key]
            acc[0] += sum(sign * values.get(c, 0.0) for c, sign in r.numerator)
            acc[1] += sum(sign * values.get(c, 0.0) for c, sign in r.denominator)
            acc[2] += 1
    cells: dict[_Key, _Cell] = {}
    for key, (a, b, k) in sums.items():
        if r.value:
            value = r.scale * a / b if b else None
            # A centile cannot be recombined: over several returns it is their weighted mean.
            cells[key] = _Cell(None, b, value, b if r.weight else None, approximate=k > 1)
        else:
            den = b if r.denominator else None
            cells[key] = _Cell(r.scale * a, den, None, den)
    return cells


def _returns_cells_by_code(r: ReturnsRecipe, returns: dict[tuple[str, dt.date, str, str], dict[str, float]],
                           q: Query) -> dict[_Key, _Cell]:
    """Cells of a ``mean`` or joined recipe: each organisation's codes summed over its returns in the
    cell (of any of the recipe's collections) and, for ``mean``, divided by the number of return
    periods that carried them; then added up over organisations.

    A ``complete`` recipe leaves out an organisation that lacks one of its codes in the cell, so an
    ICS total never sets one trust's patients against another's beds. A ``mean`` with no denominator
    is the sum over every organisation's returns over the distinct return periods: for England, the
    average of the daily totals, as the published figures are.
    """
    Acc = dict[str, tuple[list[float], set[tuple[dt.date, str]]]]
    # cell -> organisation -> code -> ([sum], {(first day, length)})
    acc: dict[_Key, dict[str, Acc]] = defaultdict(lambda: defaultdict(dict))
    for (org, day, length, source), values in returns.items():
        if r.sources and source not in r.sources:
            continue
        period = return_period(day, length, q.period, q.start)
        if period is None:
            continue
        key: _Key = (None if q.level == "ics" else org, period, None)
        for code in r.codes:
            if code in values:
                total, periods = acc[key][org].setdefault(code, ([0.0], set()))
                total[0] += values[code]
                periods.add((day, length))

    def side(codes: tuple[tuple[str, int], ...], got: Acc) -> float:
        out = 0.0
        for code, sign in codes:
            if code in got:
                total, periods = got[code]
                out += sign * (total[0] / len(periods) if r.combine == "mean" else total[0])
        return out

    cells: dict[_Key, _Cell] = {}
    for key, by_org in acc.items():
        orgs = [got for got in by_org.values() if not r.complete or all(c in got for c in r.codes)]
        if not orgs:
            continue
        if r.combine == "mean" and not r.denominator:
            # An average per return period: the sum over them, over how many there were.
            n = sum(sign * got[c][0][0] for got in orgs for c, sign in r.numerator if c in got)
            days = len(set().union(*(got[c][1] for got in orgs for c, _ in r.numerator if c in got)))
            cells[key] = _Cell(r.scale * n, float(days), None, float(days))
            continue
        den = sum(side(r.denominator, got) for got in orgs) if r.denominator else None
        cells[key] = _Cell(r.scale * sum(side(r.numerator, got) for got in orgs), den, None, den)
    return cells


# --- area totals over returns --------------------------------------------------------------------

_HIERARCHY_SQL = ("SELECT org_code, name, role, parent_code, region_code, open_date, close_date FROM org_hierarchy "
                  "ORDER BY org_code")
# The length a return's part periods have, as a reporting grain (a quarter made of months).
_LENGTH_GRAIN: dict[str, Grain] = {"day": "day", "month": "month", "quarter": "quarter", "year": "fy"}


def _hierarchy(store: Store) -> Hierarchy:
    rows = store.query(_HIERARCHY_SQL)
    return Hierarchy.build(
        (r["org_code"], r["name"], r["role"], r["parent_code"], r["region_code"], r["open_date"], r["close_date"])
        for r in rows)


def _area_of(store: Store, q: Query) -> tuple[Hierarchy, str | None] | None:
    """The hierarchy and the area whose returns total this query asks for, or ``None`` if it asks for
    none (a site, or each organisation on its own row). A single organisation that is not an area (a
    trust) is its own only member: its periods still say which of their months are missing."""
    if q.level == "ics":
        return _hierarchy(store), None
    if q.level == "org" and q.org is not None:
        return _hierarchy(store), q.org
    return None


def _area_scope(h: Hierarchy, area: str) -> tuple[str, dict[str, Any]]:
    codes = sorted(h.below(area) | {area})
    names = {f"a{i}": c for i, c in enumerate(codes)}
    return f"org_code IN ({', '.join(':' + n for n in names)})", names


def _reporters(store: Store, codes: Sequence[str],
               scope: tuple[str, dict[str, Any]]) -> dict[tuple[str, str], set[str]]:
    """(organisation, source) -> the metric codes it has sent in any period: who is expected in a total."""
    sql = (f"SELECT DISTINCT org_code, source, metric_code FROM returns WHERE metric_code IN ({_in(codes)}) "
           f"AND ({scope[0]})")
    out: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in store.query(sql, scope[1]):
        out[(row["org_code"], row["source"])].add(row["metric_code"])
    return out


def _server(recipes: Sequence[ReturnsRecipe]) -> Callable[[str, Collection[str]], bool]:
    """Whether a return of a source holding some metric codes gives any of ``recipes`` a value (as
    :func:`_returns_cells` decides): a member whose return lacks the recipe's counts (a trust that
    sends no 4-hour count) is not in its total."""
    # A joined recipe reads its codes from several collections, so one collection's return holds only
    # part of them: it serves if it has any.
    needs = [(frozenset(r.sources), r.value, frozenset(r.codes), r.complete and not r.join) for r in recipes]

    def serves(source: str, have: Collection[str]) -> bool:
        for srcs, value, codes, complete in needs:
            if srcs and source not in srcs:
                continue
            if value:
                if value in have:
                    return True
            elif codes.issubset(have) if complete else not codes.isdisjoint(have):
                return True
        return False

    return serves


def _part_periods(p: dt.date, lengths: set[str], q: Query) -> set[dt.date]:
    """The part periods (months of a quarter) of period ``p``, when the returns are shorter. The whole
    period counts, so a quarter cut short by the range asked for is said to be incomplete too."""
    lo, hi = (q.start, q.end) if q.period == "range" else (p, period_end(p, q.period))
    grains = {_LENGTH_GRAIN.get(length) for length in lengths}
    if len(grains) != 1 or None in grains:
        return set()
    (grain,) = grains
    assert grain is not None
    return {d for d in iter_periods(lo, hi, grain) if d >= lo}


def _run_area_returns(
    store: Store, standards: Sequence[Standard], q: Query, scope: tuple[str, dict[str, Any]], h: Hierarchy,
    area: str | None,
) -> tuple[dict[str, dict[_Key, _Cell]], dict[str, list[Membership]]]:
    """Cells of an area total over returns, made only of the members the hierarchy says make it
    (never a parent added to its children), and for each period who is in and who is missing."""
    recipes = [r for s in standards for r in s.returns]
    if not recipes or not nesting_lengths(q.period):
        return {}, {}
    if area is not None:
        scope = _area_scope(h, area)
    returns = _read_returns(store, recipes, q, scope)
    reporters = _reporters(store, sorted({c for r in recipes for c in r.codes}), scope)
    as_total = replace(q, level="ics")
    cells: dict[str, dict[_Key, _Cell]] = {}
    members: dict[str, list[Membership]] = {}
    for s in standards:
        serves = _server(s.returns)
        expected = {org for (org, source), sent in reporters.items() if serves(source, sent)}
        parts: dict[dt.date, dict[str, set[dt.date]]] = defaultdict(lambda: defaultdict(set))
        lengths: dict[dt.date, set[str]] = defaultdict(set)
        for (org, day, length, source), values in returns.items():
            p = return_period(day, length, q.period, q.start)
            if p is not None and serves(source, values.keys()):
                parts[p][org].add(day)
                lengths[p].add(length)
        chosen: set[tuple[str, dt.date]] = set()
        for p, by_org in sorted(parts.items()):
            lo, hi = (q.start, q.end) if q.period == "range" else (p, period_end(p, q.period))
            m = h.members(area, lo, hi, present=set(by_org), expected=expected)
            expected_parts = _part_periods(p, lengths[p], q)
            have = set().union(*(by_org[c] for c in m.included)) if m.included else set()
            partial: dict[str, tuple[dt.date, ...]] = {}
            incomplete: tuple[dt.date, ...] = ()
            if len(expected_parts) > 1:
                incomplete = tuple(sorted(expected_parts - have))
                partial = {c: tuple(sorted((have & expected_parts) - by_org[c])) for c in m.included
                           if (have & expected_parts) - by_org[c]}
            members.setdefault(s.id, []).append(
                Membership(area, p, m.basis, m.included, m.missing, partial, incomplete))
            chosen.update((c, p) for c in m.included)
        mine = {k: v for k, v in returns.items()
                if (k[0], return_period(k[1], k[2], q.period, q.start)) in chosen}
        for r in s.returns:
            for (_, period, grp), cell in _returns_cells(r, mine, as_total).items():
                cells.setdefault(s.id, {}).setdefault((area, period, grp), cell)
    return cells, members


_ORG_NAMES_SQL = ("SELECT org_code, name, 0 AS o FROM organisations UNION ALL "
                  "SELECT org_code, name, 1 AS o FROM org_hierarchy WHERE role <> 'site' ORDER BY o, org_code")


def organisation_names(store: Store) -> dict[str, str]:
    """Code -> name of every organisation a scope may name (not sites): the store's organisations,
    the loaded hierarchy's trusts and areas, and England and the NHS England regions where the store
    has their returns or places an organisation under them.

    >>> import tempfile, os
    >>> from uec.store import open_store
    >>> organisation_names(open_store(os.path.join(tempfile.mkdtemp(), "uec.duckdb")))
    {}
    """
    names: dict[str, str] = {}
    for row in store.query(_ORG_NAMES_SQL):
        names.setdefault(row["org_code"], row["name"])
    h = _hierarchy(store)
    # England and the regions are always known by name, but offered only where the store has their
    # returns or the loaded hierarchy places an organisation under them.
    placed = {a for c in names for a in h.lineage(c)[1:]}
    sent = {r["org_code"] for r in store.query(
        f"SELECT DISTINCT org_code FROM returns WHERE org_code IN ({_in(AGGREGATES)})")}
    for code, name in h.names(roles=("country", "region", "icb", "trust")).items():
        if code not in AGGREGATES or code in placed | sent:
            names.setdefault(code, name)
    return dict(sorted(names.items()))


def _membership_notes(items: Sequence[Membership], names: dict[str, str], *, total: bool) -> list[str]:
    """A note for each period whose total is short of a member or part period, or one saying an
    area's own row was used throughout. A single organisation (``total`` false) gets only the first."""
    if not items:
        return []
    if not total:
        return [f"{c.code}, period from {c.period_start.isoformat()}: incomplete: no return for "
                + ", ".join(d.isoformat() for d in c.incomplete) for c in items if c.incomplete]
    if all(c.basis == "own row" and c.complete for c in items):
        return [f"{items[0].code}: its own return in every period, not the sum of its members"]
    return [c.describe(names) for c in items if not c.complete or c.basis == "own row"]


# --- assembling rows ----------------------------------------------------------------------------


def _value(s: Standard, cell: _Cell) -> tuple[float | None, float | None, float | None]:
    """(numerator, denominator, value) as reported for the standard's statistic."""
    if s.statistic == "percentile":
        # A centile has no numerator; its denominator is how many values it was taken over.
        return None, cell.support, cell.value
    if s.statistic == "total":
        return cell.numerator, None, cell.numerator
    n, d = cell.numerator, cell.denominator
    if n is None or d is None or d == 0:
        return n, d, None
    return n, d, s.multiplier * n / d


def _make_row(s: Standard, q: Query, key: _Key, cell: _Cell, origin: Literal["events", "returns"]) -> Row:
    unit, period, grp = key
    assert period is not None
    n, d, v = _value(s, cell)
    day = period.date() if isinstance(period, dt.datetime) else period
    target = s.target_for(day)
    return Row(
        standard_id=s.id, level=q.level, code=unit, period=q.period, period_start=period,
        breakdown=q.breakdown if origin == "events" else None, group=grp,
        numerator=n, denominator=d, value=v, support=cell.support,
        target=target, met=None if target is None or v is None else target.met(v),
        source=origin, approximate=cell.approximate,
    )


def _group_order(g: str | None) -> tuple[int, float, str]:
    if g is None:
        return (1, 0.0, "")
    try:
        return (0, float(g), g)
    except ValueError:
        return (0, math.inf, g)


def _no_data_cause(store: Store, s: Standard, plan: _Plan, q: Query, seen: dict[str, bool] | None = None) -> str:
    """Which of the causes of an empty answer applies, and what to do (issue 14: honest gaps).

    Source not loaded (neither its events table nor its returns hold anything); wrong period length
    (its returns are of lengths that do not make the period asked for); no rows in the range asked;
    organisation not in its data; otherwise no rows of that grain (the level or site asked for).
    """
    # ``seen`` remembers, across the standards of one computation, which tables hold any row: the
    # whole catalogue asks the same few questions (issue 14 grew it to 60 standards).
    seen = {} if seen is None else seen

    def any_rows(t: str) -> bool:
        if t not in seen:
            seen[t] = bool(store.query(f"SELECT EXISTS (SELECT 1 FROM {t}) AS x")[0]["x"])
        return seen[t]

    tables = sorted({r.table for r in s.events} if plan.source != "returns" else set())
    with_events = [t for t in tables if any_rows(t)]
    codes = [c for r in s.returns for c in r.codes] if plan.returns_usable(s) else []
    sources = sorted({c for r in s.returns for c in (r.sources or ("any",))}) if codes else []
    have = [] if not codes or not any_rows("returns") else store.query(
        "SELECT period_length, min(period_start) AS lo, max(period_start) AS hi, count(DISTINCT org_code) AS orgs "
        f"FROM returns WHERE metric_code IN ({_in(codes)}) GROUP BY period_length") if codes else []
    if not with_events and not have:
        parts = [f"no {', '.join(tables)} events"] if tables else []
        parts += [f"no {', '.join(sources)} returns"] if sources else []
        return f"source not loaded: the store has {' and '.join(parts)} (load them with `uec ingest`)"
    if not with_events and have and q.as_of is not None:
        relation, params = _returns_relation(store, q.as_of)
        known = store.query(f"SELECT count(*) AS n FROM {relation} WHERE metric_code IN ({_in(codes)})", params)
        if not known[0]["n"]:
            return f"source not loaded by then: none of its returns had been loaded at {q.as_of.isoformat()}"
    if not with_events and have:
        lengths = sorted({str(h["period_length"]) for h in have})
        if not set(lengths) & set(nesting_lengths(q.period)):
            order = ("day", "week", "month", "quarter", "year")
            shortest = min(lengths, key=lambda x: order.index(x) if x in order else len(order))
            return (f"wrong period length: its returns are {', '.join(lengths)} returns, which cannot make a "
                    f"{q.period}; ask for {shortest} or a longer period (--by)")
        lo = min(h["lo"] for h in have)
        hi = max(h["hi"] for h in have)
        if hi < q.start or lo >= q.end:
            return f"no rows in this range: its returns run from {lo} to {hi}"
        if q.org is not None or q.site is not None:
            code = q.org or q.site
            found = store.query(f"SELECT EXISTS (SELECT 1 FROM returns WHERE metric_code IN ({_in(codes)}) "
                                "AND org_code = :c) AS x", {"c": code})[0]["x"]
            if not found:
                return f"organisation not in its data: no {', '.join(sources)} returns for {code}"
    return f"no rows of that grain: nothing at {q.level} level for this scope and range"


def _row_order(r: Row) -> tuple[str, float, tuple[int, float, str]]:
    p = r.period_start
    when = p.timestamp() if isinstance(p, dt.datetime) else float(p.toordinal())
    return (r.code or "", when, _group_order(r.group))


def _run(store: Store, plan: _Plan, q: Query) -> list[Result]:
    event_cells = _run_events(store, plan, q) if plan.events else {}
    needs_population = any(
        p is not None and p.agg == "population"
        for r in plan.events.values() for p in (r.numerator, r.denominator)
    )
    population = _populations(store, q) if needs_population else None
    with_returns = [s for s in plan.standards if plan.returns_usable(s)]
    area = _area_of(store, q) if with_returns else None
    members: dict[str, list[Membership]] = {}
    if area is not None:
        returns_cells, members = _run_area_returns(store, with_returns, q, _returns_scope(store, q), *area)
    else:
        returns_cells = _run_returns(store, with_returns, q, _returns_scope(store, q)) if with_returns else {}
    results: list[Result] = []
    seen: dict[str, bool] = {}
    for s in plan.standards:
        notes = list(plan.notes.get(s.id, []))
        rows: list[Row] = []
        recipe = plan.events.get(s.id)
        covered: set[tuple[str | None, PeriodStart]] = set()
        if recipe is not None:
            cells = _finish_events(s, recipe, event_cells.get(s.id, {}), q, population)
            for key, cell in cells.items():
                covered.add((key[0], key[1]))  # type: ignore[arg-type]
                # Events of the table exist for this unit and period but none is of this standard's
                # kind (no type 1 attendances at a UTC site): a 0/0 row says nothing, but the period
                # is still covered by events. A total of zero is an answer, so it stays.
                if cell.support == 0 and s.statistic != "total":
                    continue
                rows.append(_make_row(s, q, key, cell, "events"))
        used: list[Membership] = []
        if plan.returns_usable(s):
            for key, cell in returns_cells.get(s.id, {}).items():
                if plan.source == "auto" and (key[0], key[1]) in covered:
                    continue
                rows.append(_make_row(s, q, key, cell, "returns"))
            # Only the periods the returns served: a period covered by events is not a returns total.
            used = [c for c in members.get(s.id, []) if (c.code, c.period_start) not in covered]
            if used and area is not None:
                h, code = area
                notes.extend(_membership_notes(used, h.names(), total=code is None or h.is_area(code)))
        elif plan.source != "events" and s.returns and s.id not in plan.impossible:
            notes.append(f"{s.id}: returns have no breakdowns or hours, so only event data is used")
        if not rows and s.id not in plan.impossible:
            cause = _no_data_cause(store, s, plan, q, seen)
            notes.append(f"no {s.id} data in the store for this scope and range: {cause}")
        results.append(Result(s, q, tuple(sorted(rows, key=_row_order)), tuple(notes), members=tuple(used)))
    return results
