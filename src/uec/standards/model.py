"""The standards catalogue as typed, frozen values read from reviewed YAML.

Each file under ``uec/standards/catalogue_data/`` holds the standards of one area (``ed.yaml``,
``ambulance.yaml``, ``flow.yaml``) and ``sources.yaml`` holds the publications that targets cite.
Loading rejects unknown keys, unknown tables and columns, and targets that cite no known source, so
a typo in a reviewed file fails the tests rather than silently dropping a rule.

>>> cat = catalogue()
>>> cat.get("ed-4hr").unit
'proportion'
>>> [t.value for t in cat.get("ed-4hr").targets]
[0.95, 0.76, 0.78, 0.78, 0.82]
>>> cat.get("amb-c1-mean").grains
('events', 'returns')
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from importlib import resources
from typing import Any, Literal, get_args

import yaml

from uec.contract import table as contract_table
from uec.errors import UecError

__all__ = [
    "BREAKDOWNS",
    "Area",
    "Catalogue",
    "CatalogueError",
    "Combine",
    "Comparison",
    "DayKind",
    "Direction",
    "Disclosure",
    "EventsRecipe",
    "NoTarget",
    "Part",
    "ReturnsRecipe",
    "Source",
    "Standard",
    "Statistic",
    "Target",
    "TargetKind",
    "Unit",
    "catalogue",
    "load_catalogue",
    "standard_from_mapping",
]

Area = Literal["ed", "ambulance", "flow"]
Unit = Literal["proportion", "count", "minutes", "hours", "per_1000", "ratio", "beds", "hours_per_day"]
Direction = Literal["higher", "lower"]
Statistic = Literal["ratio", "total", "percentile"]
Disclosure = Literal["parts", "numerator", "support", "none"]
Comparison = Literal[">=", "<=", ">", "<"]
TargetKind = Literal["operational", "contract", "ambition", "constitutional", "benchmark"]
DayKind = Literal["all", "weekday", "weekend"]
PartAgg = Literal["sum", "count_distinct", "days", "population"]
#: How one organisation's returns of a code combine over the return periods inside a reporting period.
Combine = Literal["sum", "mean"]

#: Columns a result can be broken down by, where the recipe's table has them.
BREAKDOWNS: tuple[str, ...] = ("imd_decile", "ethnic_group", "age_band", "sex", "arrival_mode", "acuity")

# When several targets are in force on a period, the one a "met" flag is judged against: what the
# NHS is being held to this year comes before the long-standing constitutional standard, which comes
# before a clinical benchmark.
TARGET_PRIORITY: tuple[TargetKind, ...] = ("operational", "contract", "ambition", "constitutional", "benchmark")


class CatalogueError(ValueError):
    """A catalogue file is malformed (a reviewer's or developer's error, caught by the tests)."""


@dataclass(frozen=True)
class Source:
    """A publication a target or definition cites.

    >>> catalogue().sources["uec-plan-2025-26"].year
    2025
    """

    id: str
    title: str
    publisher: str
    year: int
    url: str | None = None
    note: str | None = None

    def citation(self) -> str:
        """Title, publisher and year in one line.

        >>> Source("x", "A plan", "NHS England", 2023).citation()
        'A plan (NHS England, 2023)'
        """
        return f"{self.title} ({self.publisher}, {self.year})"


@dataclass(frozen=True)
class Target:
    """A dated threshold a standard is measured against, with the publication that set it."""

    value: float
    comparison: Comparison
    kind: TargetKind
    label: str
    source: Source
    effective_from: dt.date | None = None
    effective_to: dt.date | None = None
    verified: bool = True
    note: str | None = None

    def in_force(self, day: dt.date) -> bool:
        """Whether the target applies to a period starting on ``day`` (``effective_to`` inclusive).

        >>> t = catalogue().get("ed-4hr").targets[1]
        >>> t.in_force(dt.date(2024, 3, 1)), t.in_force(dt.date(2024, 4, 1))
        (True, False)
        """
        if self.effective_from is not None and day < self.effective_from:
            return False
        return self.effective_to is None or day <= self.effective_to

    def met(self, value: float) -> bool:
        """Whether ``value`` meets the target.

        >>> catalogue().get("amb-c1-mean").targets[0].met(6.9)
        True
        """
        if self.comparison == ">=":
            return value >= self.value
        if self.comparison == "<=":
            return value <= self.value
        if self.comparison == ">":
            return value > self.value
        return value < self.value


@dataclass(frozen=True)
class NoTarget:
    """A kind of target a standard had that was not renewed: from when, and why (``no_target_since``)."""

    kind: TargetKind
    effective_from: dt.date
    note: str
    source: Source | None = None
    verified: bool = True


@dataclass(frozen=True)
class Part:
    """How one side of a ratio is aggregated over event rows.

    ``sum`` sums a SQL expression; ``count_distinct`` counts its distinct values; ``days`` is the
    number of local days of a kind in the period (no SQL); ``population`` is the population served by
    the sites in scope. ``per_day`` divides the aggregate by the number of days of that kind.
    """

    agg: PartAgg
    expr: str
    per_day: DayKind | None = None


@dataclass(frozen=True)
class EventsRecipe:
    """How to compute a standard from event rows of one contract table.

    The engine writes the SQL: it filters ``table`` to the period range on ``time`` and to the site or
    organisation asked for, assigns each row to a local period, and aggregates ``numerator`` and
    ``denominator`` over rows where ``where`` holds. A census recipe instead joins each row to the
    local midnights it spans (``census_start`` to ``census_end``) and exposes ``census_time``.
    """

    table: str
    time: str | None
    site: str | None
    org: str | None
    where: str | None
    numerator: Part | None
    denominator: Part | None
    measure: str | None = None
    census_start: str | None = None
    census_end: str | None = None
    breakdowns: tuple[str, ...] = ()

    @property
    def census(self) -> bool:
        return self.census_start is not None

    @property
    def reference(self) -> bool:
        """A recipe over reference data (no time): the same value stands for every period."""
        return self.time is None

    @property
    def uses_calendar(self) -> bool:
        """Whether the recipe needs whole local days (so cannot be computed by the hour)."""
        parts = [p for p in (self.numerator, self.denominator) if p is not None]
        return self.census or self.reference or any(p.agg == "days" or p.per_day for p in parts)


@dataclass(frozen=True)
class ReturnsRecipe:
    """How to compute a standard from aggregate ``returns`` rows.

    A ratio or total sums signed metric codes (``-code`` subtracts) into numerator and denominator;
    a percentile takes the published ``value`` code, weighted by ``weight`` when rows are combined.
    ``scale`` multiplies the numerator (or value), e.g. ``1/60`` for seconds to minutes.

    ``combine`` says how a code's returns add up over time. ``sum`` (the default) is for counts of
    things that happened in the return period (attendances, handovers). ``mean`` is for levels at a
    census (patients not meeting the criteria to reside, beds) and per-day averages: each code is
    added up over organisations and averaged over the return periods that carry it, so a month of
    daily returns gives the average day. A ``mean`` recipe with no denominator codes is a ratio of
    the numerator's sum to the number of return periods (days of a daily return).
    ``join`` names other collections whose returns for the same organisation and period are read
    with ``source``'s (criteria to reside from the discharge sitrep over occupied beds from the UEC
    sitrep); a joined recipe is always read code by code, as ``mean`` is.

    >>> r = catalogue().get("beds-no-criteria-to-reside").returns[0]
    >>> r.combine, r.sources
    ('mean', ('discharge_sitrep', 'uec_sitrep'))
    """

    source: str | None
    numerator: tuple[tuple[str, int], ...] = ()
    denominator: tuple[tuple[str, int], ...] = ()
    value: str | None = None
    weight: str | None = None
    scale: float = 1.0
    #: Only a return that has every code of the recipe counts (a total return whose count over 4
    #: hours is missing says nothing about performance; it must not count as no breaches).
    complete: bool = False
    combine: Combine = "sum"
    join: tuple[str, ...] = ()

    @property
    def sources(self) -> tuple[str, ...]:
        """Every collection the recipe reads (``source`` first); empty when it reads any."""
        return tuple(c for c in (self.source, *self.join) if c)

    @property
    def by_code(self) -> bool:
        """Whether codes are combined one by one over a cell's returns (``mean`` or ``join``), not
        return by return."""
        return self.combine == "mean" or bool(self.join)

    @property
    def codes(self) -> tuple[str, ...]:
        out = [c for c, _ in self.numerator] + [c for c, _ in self.denominator]
        out += [c for c in (self.value, self.weight) if c]
        return tuple(dict.fromkeys(out))


@dataclass(frozen=True)
class Standard:
    """One national standard: what it measures, how to compute it, and what it is measured against."""

    id: str
    title: str
    area: Area
    definition: str
    numerator: str
    denominator: str | None
    unit: Unit
    direction: Direction
    statistic: Statistic
    disclosure: Disclosure
    events: tuple[EventsRecipe, ...]
    returns: tuple[ReturnsRecipe, ...]
    targets: tuple[Target, ...]
    percentile: float | None = None
    multiplier: float = 1.0
    defined_by: tuple[Source, ...] = ()
    notes: str | None = None
    no_target_since: tuple[NoTarget, ...] = ()

    @property
    def grains(self) -> tuple[str, ...]:
        """The grains it can be computed from: ``events`` and/or ``returns``."""
        return tuple(g for g, r in (("events", self.events), ("returns", self.returns)) if r)

    @property
    def collections(self) -> tuple[str, ...]:
        """The national collections (``source`` of ``returns``) its returns recipes read, in order.

        >>> catalogue().get("ed-4hr").collections
        ('ae_monthly', 'ae_scotland', 'ae_wales')
        """
        return tuple(dict.fromkeys(c for r in self.returns for c in r.sources))

    @property
    def computable_from(self) -> dict[str, tuple[str, ...]]:
        """Each grain that can compute it, with what it reads: ``events`` the contract tables,
        ``returns`` the national collections (the catalogue page's grain-by-standard view).

        >>> catalogue().get("beds-no-criteria-to-reside").computable_from
        {'events': ('spells',), 'returns': ('discharge_sitrep', 'uec_sitrep')}
        >>> catalogue().get("flow-delays").computable_from
        {'returns': ('discharge_delays',)}
        """
        out = {"events": self.event_tables, "returns": self.collections}
        return {g: v for g, v in out.items() if v}

    @property
    def event_tables(self) -> tuple[str, ...]:
        """The contract tables its events recipes read, in order.

        >>> catalogue().get("beds-ga-occupancy").event_tables
        ('bed_states',)
        """
        return tuple(dict.fromkeys(r.table for r in self.events))

    @property
    def breakdowns(self) -> tuple[str, ...]:
        """Breakdowns available from its (first) events recipe."""
        return self.events[0].breakdowns if self.events else ()

    def target_for(self, day: dt.date) -> Target | None:
        """The headline target in force for a period starting on ``day``, if any.

        >>> s = catalogue().get("amb-c2-mean")
        >>> s.target_for(dt.date(2019, 1, 1)).value, s.target_for(dt.date(2024, 1, 1)).value
        (18.0, 30.0)
        """
        live = [t for t in self.targets if t.in_force(day)]
        if not live:
            return None
        return min(live, key=lambda t: TARGET_PRIORITY.index(t.kind))

    def lapsed(self, day: dt.date) -> list[TargetKind]:
        """Kinds of target in force a year before ``day`` with none in force on ``day`` and no
        ``no_target_since`` note saying why: a catalogue that has fallen behind the guidance.

        >>> s = catalogue().get("ed-4hr")
        >>> s.lapsed(dt.date(2026, 12, 2)), s.lapsed(dt.date(2027, 12, 2))
        ([], ['operational'])
        """
        try:
            year_before = day.replace(year=day.year - 1)
        except ValueError:  # 29 February
            year_before = day - dt.timedelta(days=365)
        then = {t.kind for t in self.targets if t.in_force(year_before)}
        now = {t.kind for t in self.targets if t.in_force(day)}
        explained = {n.kind for n in self.no_target_since if n.effective_from <= day}
        return [k for k in TARGET_PRIORITY if k in then - now - explained]


@dataclass(frozen=True)
class Catalogue:
    """All standards, in file order, and the sources they cite."""

    standards: tuple[Standard, ...]
    sources: Mapping[str, Source]

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.standards)

    def get(self, standard_id: str) -> Standard:
        """The standard with this id; a one-line ``UecError`` naming close matches otherwise.

        >>> catalogue().get("ed-4hour")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        uec.errors.UecError: unknown standard 'ed-4hour' (did you mean ed-4hr, ...?); list them with ...
        """
        for s in self.standards:
            if s.id == standard_id:
                return s
        close = difflib.get_close_matches(standard_id, self.ids, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise UecError(f"unknown standard {standard_id!r}{hint}; list them with `uec standards --list`")

    def area(self, area: str) -> tuple[Standard, ...]:
        return tuple(s for s in self.standards if s.area == area)


# --- loading ------------------------------------------------------------------------------------


def _check_keys(raw: Mapping[str, Any], where: str, required: Iterable[str], optional: Iterable[str]) -> None:
    if not isinstance(raw, Mapping):
        raise CatalogueError(f"{where}: expected a mapping, got {type(raw).__name__}")
    req, opt = set(required), set(optional)
    unknown = sorted(set(raw) - req - opt)
    if unknown:
        raise CatalogueError(f"{where}: unknown key(s) {', '.join(unknown)}")
    missing = sorted(req - set(raw))
    if missing:
        raise CatalogueError(f"{where}: missing key(s) {', '.join(missing)}")


def _literal(value: Any, allowed: Any, where: str) -> Any:
    options = get_args(allowed)
    if value not in options:
        raise CatalogueError(f"{where}: {value!r} is not one of {', '.join(map(str, options))}")
    return value


def _date(value: Any, where: str) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise CatalogueError(f"{where}: {value!r} is not a date (YYYY-MM-DD)") from None


def _scale(value: Any, where: str) -> float:
    # Written as a fraction ("1/60") so a reviewer reads the conversion, not 0.016666…
    try:
        return float(Fraction(str(value)))
    except (ValueError, ZeroDivisionError):
        raise CatalogueError(f"{where}: scale {value!r} is not a number or fraction") from None


def _part(raw: Any, where: str) -> Part | None:
    if raw is None:
        return None
    if isinstance(raw, (str, int, float)):
        return Part("sum", str(raw))
    _check_keys(raw, where, (), ("sum", "count_distinct", "days", "population", "per_day"))
    aggs = [k for k in ("sum", "count_distinct", "days", "population") if k in raw]
    if len(aggs) != 1:
        raise CatalogueError(f"{where}: give exactly one of sum, count_distinct, days, population")
    agg = aggs[0]
    expr = str(raw[agg])
    if agg == "days":
        _literal(expr, DayKind, where)
    if agg == "population" and expr != "sites":
        raise CatalogueError(f"{where}: population comes from 'sites' only")
    per_day = raw.get("per_day")
    if per_day is not None:
        _literal(per_day, DayKind, f"{where}.per_day")
    return Part(agg, expr, per_day)  # type: ignore[arg-type]


def _events(raw: Any, where: str) -> EventsRecipe:
    _check_keys(
        raw, where, ("table",),
        ("time", "site", "org", "where", "numerator", "denominator", "measure", "census", "breakdowns"),
    )
    try:
        t = contract_table(str(raw["table"]))
    except KeyError:
        raise CatalogueError(f"{where}: unknown contract table {raw['table']!r}") from None
    columns = set(t.field_names)
    census = raw.get("census")
    census_start = census_end = None
    if census is not None:
        _check_keys(census, f"{where}.census", ("start", "end"), ())
        census_start, census_end = str(census["start"]), str(census["end"])
        for c in (census_start, census_end):
            if c not in columns:
                raise CatalogueError(f"{where}.census: {t.name} has no column {c!r}")
    time = raw.get("time")
    if time is not None and time not in columns and not (census is not None and time == "census_time"):
        raise CatalogueError(f"{where}: time column {time!r} is not a column of {t.name}")
    for key in ("site", "org"):
        col = raw.get(key)
        if col is not None and col not in columns:
            raise CatalogueError(f"{where}: {key} column {col!r} is not a column of {t.name}")
    if raw.get("site") is None and raw.get("org") is None:
        raise CatalogueError(f"{where}: give the column naming the site or the organisation")
    requested = raw.get("breakdowns")
    if requested is None:
        breakdowns = tuple(b for b in BREAKDOWNS if b in columns)
    else:
        breakdowns = tuple(str(b) for b in requested)
        bad = [b for b in breakdowns if b not in BREAKDOWNS or b not in columns]
        if bad:
            raise CatalogueError(f"{where}: breakdown(s) {', '.join(bad)} not available on {t.name}")
    return EventsRecipe(
        table=t.name,
        time=None if time is None else str(time),
        site=raw.get("site"),
        org=raw.get("org"),
        where=raw.get("where"),
        numerator=_part(raw.get("numerator"), f"{where}.numerator"),
        denominator=_part(raw.get("denominator"), f"{where}.denominator"),
        measure=raw.get("measure"),
        census_start=census_start,
        census_end=census_end,
        breakdowns=breakdowns,
    )


_CODE = re.compile(r"[A-Za-z0-9_]+")


def _code(raw: Any, where: str) -> str:
    # Codes are written into SQL as literals, so only plain identifiers are allowed.
    text = str(raw).strip()
    if not _CODE.fullmatch(text):
        raise CatalogueError(f"{where}: {text!r} is not a plain code (letters, digits, _)")
    return text


def _signed_codes(raw: Any, where: str) -> tuple[tuple[str, int], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not raw:
        raise CatalogueError(f"{where}: expected a non-empty list of metric codes")
    out = []
    for code in raw:
        text = str(code).strip()
        sign = -1 if text.startswith("-") else 1
        out.append((_code(text.lstrip("-"), where), sign))
    return tuple(out)


def _returns(raw: Any, where: str) -> ReturnsRecipe:
    _check_keys(raw, where, (), ("source", "numerator", "denominator", "value", "weight", "scale", "complete",
                                 "combine", "join"))
    join = raw.get("join") or []
    if not isinstance(join, list):
        raise CatalogueError(f"{where}.join: expected a list of collections")
    recipe = ReturnsRecipe(
        source=None if raw.get("source") is None else _code(raw["source"], f"{where}.source"),
        numerator=_signed_codes(raw.get("numerator"), f"{where}.numerator"),
        denominator=_signed_codes(raw.get("denominator"), f"{where}.denominator"),
        value=None if raw.get("value") is None else _code(raw["value"], f"{where}.value"),
        weight=None if raw.get("weight") is None else _code(raw["weight"], f"{where}.weight"),
        scale=_scale(raw.get("scale", 1), where),
        complete=bool(raw.get("complete", False)),
        combine=_literal(raw.get("combine", "sum"), Combine, f"{where}.combine"),
        join=tuple(_code(c, f"{where}.join") for c in join),
    )
    if recipe.join and recipe.source is None:
        raise CatalogueError(f"{where}: a recipe that joins collections names its own source first")
    if recipe.by_code and recipe.value:
        raise CatalogueError(f"{where}: a centile (value code) cannot be averaged or joined")
    if bool(recipe.value) == bool(recipe.numerator):
        raise CatalogueError(f"{where}: give either numerator (and denominator) codes or a value code")
    return recipe


def _target(raw: Any, where: str, sources: Mapping[str, Source]) -> Target:
    _check_keys(
        raw, where, ("value", "comparison", "kind", "label", "source"),
        ("from", "to", "verified", "note"),
    )
    if raw["source"] not in sources:
        raise CatalogueError(f"{where}: unknown source {raw['source']!r}")
    start, end = _date(raw.get("from"), f"{where}.from"), _date(raw.get("to"), f"{where}.to")
    if start and end and end < start:
        raise CatalogueError(f"{where}: 'to' is before 'from'")
    return Target(
        value=float(raw["value"]),
        comparison=_literal(raw["comparison"], Comparison, f"{where}.comparison"),
        kind=_literal(raw["kind"], TargetKind, f"{where}.kind"),
        label=str(raw["label"]),
        source=sources[raw["source"]],
        effective_from=start,
        effective_to=end,
        verified=bool(raw.get("verified", True)),
        note=" ".join(str(raw["note"]).split()) if raw.get("note") else None,
    )


_STANDARD_REQUIRED = (
    "id", "title", "definition", "numerator", "unit", "direction", "statistic", "disclosure",
)
_STANDARD_OPTIONAL = (
    "denominator", "events", "returns", "targets", "percentile", "multiplier", "defined_by", "notes",
    "no_target_since",
)


def _no_target(raw: Any, where: str, sources: Mapping[str, Source]) -> NoTarget:
    _check_keys(raw, where, ("kind", "from", "note"), ("source", "verified"))
    if raw.get("source") is not None and raw["source"] not in sources:
        raise CatalogueError(f"{where}: unknown source {raw['source']!r}")
    start = _date(raw["from"], f"{where}.from")
    if start is None:
        raise CatalogueError(f"{where}.from: give the date the last target lapsed")
    return NoTarget(
        kind=_literal(raw["kind"], TargetKind, f"{where}.kind"),
        effective_from=start,
        note=" ".join(str(raw["note"]).split()),
        source=sources[raw["source"]] if raw.get("source") is not None else None,
        verified=bool(raw.get("verified", True)),
    )


def standard_from_mapping(raw: Mapping[str, Any], area: str, sources: Mapping[str, Source]) -> Standard:
    """Build one standard from its YAML mapping, rejecting anything unknown.

    >>> standard_from_mapping({"id": "x", "colour": "red"}, "ed", {})
    Traceback (most recent call last):
    ...
    uec.standards.model.CatalogueError: standard x: unknown key(s) colour
    """
    where = f"standard {raw.get('id', '?')}"
    _check_keys(raw, where, _STANDARD_REQUIRED, _STANDARD_OPTIONAL)
    statistic = _literal(raw["statistic"], Statistic, f"{where}.statistic")
    events = tuple(_events(r, f"{where}.events[{i}]") for i, r in enumerate(raw.get("events") or []))
    returns = tuple(_returns(r, f"{where}.returns[{i}]") for i, r in enumerate(raw.get("returns") or []))
    if not events and not returns:
        raise CatalogueError(f"{where}: needs at least one events or returns recipe")
    for i, e in enumerate(events):
        if statistic == "percentile" and not e.measure:
            raise CatalogueError(f"{where}.events[{i}]: a percentile needs a measure")
        if statistic == "ratio" and e.denominator is None:
            raise CatalogueError(f"{where}.events[{i}]: a ratio needs a denominator")
        if statistic != "percentile" and e.numerator is None:
            raise CatalogueError(f"{where}.events[{i}]: needs a numerator")
    for i, r in enumerate(returns):
        if (statistic == "percentile") != bool(r.value):
            raise CatalogueError(f"{where}.returns[{i}]: percentiles use a value code; others use codes")
    percentile = raw.get("percentile")
    if (statistic == "percentile") != (percentile is not None):
        raise CatalogueError(f"{where}: give percentile exactly when the statistic is percentile")
    defined_by = []
    for sid in raw.get("defined_by") or []:
        if sid not in sources:
            raise CatalogueError(f"{where}.defined_by: unknown source {sid!r}")
        defined_by.append(sources[sid])
    return Standard(
        id=str(raw["id"]),
        title=str(raw["title"]),
        area=_literal(area, Area, f"{where}.area"),
        definition=" ".join(str(raw["definition"]).split()),
        numerator=" ".join(str(raw["numerator"]).split()),
        denominator=" ".join(str(raw["denominator"]).split()) if raw.get("denominator") else None,
        unit=_literal(raw["unit"], Unit, f"{where}.unit"),
        direction=_literal(raw["direction"], Direction, f"{where}.direction"),
        statistic=statistic,
        disclosure=_literal(raw["disclosure"], Disclosure, f"{where}.disclosure"),
        events=events,
        returns=returns,
        targets=tuple(_target(t, f"{where}.targets[{i}]", sources) for i, t in enumerate(raw.get("targets") or [])),
        percentile=None if percentile is None else float(percentile),
        multiplier=_scale(raw.get("multiplier", 1), f"{where}.multiplier"),
        defined_by=tuple(defined_by),
        notes=" ".join(str(raw["notes"]).split()) if raw.get("notes") else None,
        no_target_since=tuple(_no_target(n, f"{where}.no_target_since[{i}]", sources)
                              for i, n in enumerate(raw.get("no_target_since") or [])),
    )


def _sources(raw: Any) -> dict[str, Source]:
    _check_keys(raw, "sources.yaml", ("sources",), ())
    out: dict[str, Source] = {}
    for sid, s in raw["sources"].items():
        _check_keys(s, f"source {sid}", ("title", "publisher", "year"), ("url", "note"))
        note = " ".join(str(s["note"]).split()) if s.get("note") else None
        out[str(sid)] = Source(str(sid), str(s["title"]), str(s["publisher"]), int(s["year"]), s.get("url"), note)
    return out


def load_catalogue(texts: Sequence[tuple[str, str]], sources_text: str) -> Catalogue:
    """A catalogue from YAML texts: ``(area, text)`` pairs and the sources file's text.

    >>> src = "sources: {s: {title: T, publisher: P, year: 2020}}"
    >>> area = '''
    ... area: ed
    ... standards:
    ...   - {id: a, title: A, definition: d, numerator: n, unit: count, direction: lower,
    ...      statistic: total, disclosure: numerator,
    ...      events: [{table: attendances, time: arrival_time, site: site_code, numerator: "1"}]}
    ... '''
    >>> load_catalogue([("ed", area)], src).ids
    ('a',)
    """
    sources = _sources(yaml.safe_load(sources_text))
    standards: list[Standard] = []
    seen: set[str] = set()
    for name, text in texts:
        raw = yaml.safe_load(text)
        _check_keys(raw, name, ("area", "standards"), ())
        for item in raw["standards"]:
            s = standard_from_mapping(item, str(raw["area"]), sources)
            if s.id in seen:
                raise CatalogueError(f"standard {s.id} is defined twice")
            seen.add(s.id)
            standards.append(s)
    return Catalogue(tuple(standards), sources)


#: The area files, in the order the reference page lists them.
AREA_FILES: tuple[str, ...] = ("ed.yaml", "ambulance.yaml", "flow.yaml")


@cache
def catalogue() -> Catalogue:
    """The packaged catalogue, read once.

    >>> len(catalogue().standards) >= 40
    True
    """
    folder = resources.files(__package__).joinpath("catalogue_data")
    texts = [(name, folder.joinpath(name).read_text(encoding="utf-8")) for name in AREA_FILES]
    return load_catalogue(texts, folder.joinpath("sources.yaml").read_text(encoding="utf-8"))
