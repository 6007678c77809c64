"""Scores and levels for organisations, sites, pillars and the ICS, at an instant or as history.

Each parameter with a value earns ``weight x points[its level]``; a unit's score is 100 x the points
earned over the most it could earn from the same parameters, and its level is the band the score
reaches (:class:`~uec.escalation.framework.Framework`). A pillar (provider type) combines its
organisations' scores, and the ICS the pillars', as the framework's ``aggregation`` says. Every
result carries its "why": the parameters, their values and sources, the thresholds crossed and the
points.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from uec.errors import UecError
from uec.escalation.framework import Framework, load_framework
from uec.escalation.parameters import ParameterValue, Unit, compute_values, instant, units
from uec.escalation.queries import first_ics_code
from uec.standards.periods import LONDON, local_midnight
from uec.store import Store

__all__ = ["Assessment", "Score", "Status", "Trend", "history", "quarter_hours_since_midnight", "score_unit", "status",
           "status_many", "trend_since_midnight"]


@dataclass(frozen=True)
class Assessment:
    """One parameter's part in a score: its value, level, thresholds crossed and points."""

    parameter_id: str
    title: str
    unit: str
    value: float | None
    source: str | None
    level: int | None
    crossed: tuple[tuple[int, float], ...]
    points: float | None
    max_points: float | None
    note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "parameter": self.parameter_id, "title": self.title, "unit": self.unit,
            "value": self.value, "source": self.source, "level": self.level,
            "thresholds_crossed": [{"level": lv, "threshold": t} for lv, t in self.crossed],
            "points": self.points, "max_points": self.max_points, "note": self.note,
        }


@dataclass(frozen=True)
class Score:
    """The score and level of a site, organisation, pillar or the ICS, with why."""

    kind: Literal["site", "org", "pillar", "ics"]
    code: str
    name: str
    provider_type: str | None
    score: float | None
    level: int | None
    parameters: tuple[Assessment, ...] = ()
    members: tuple[tuple[str, float | None, int | None], ...] = ()
    note: str | None = None

    def why(self) -> str:
        """One line: which parameters (or members) drive the level, largest points first.

        >>> Score("ics", "ICS", "ICS", None, None, None, note="no pillar has a score").why()
        'no pillar has a score'
        """
        if self.score is None:
            return self.note or "no score"
        if self.kind in ("pillar", "ics"):
            parts = [f"{c} {s:.0f}" for c, s, _ in self.members if s is not None]
            return f"score {self.score:.1f} = {self.note}: " + ", ".join(parts)
        driving = sorted((a for a in self.parameters if a.points), key=lambda a: -(a.points or 0))
        parts = [f"{a.parameter_id} {_fmt(a.value, a.unit)} (OPEL {a.level}, {a.points:g} pts)" for a in driving]
        earned = sum(a.points or 0 for a in self.parameters)
        most = sum(a.max_points or 0 for a in self.parameters)
        return f"score {self.score:.1f} = {earned:g}/{most:g} points: " + (", ".join(parts) or "no threshold crossed")

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "code": self.code, "name": self.name, "provider_type": self.provider_type,
            "score": self.score, "level": self.level, "why": self.why(),
            "parameters": [a.as_dict() for a in self.parameters],
            "members": [{"code": c, "score": s, "level": lv} for c, s, lv in self.members],
            "note": self.note,
        }


@dataclass(frozen=True)
class Status:
    """Every score at one instant."""

    at: dt.datetime
    framework_id: str
    framework_version: str
    ics: Score
    pillars: tuple[Score, ...]
    organisations: tuple[Score, ...]
    sites: tuple[Score, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)

    def all(self) -> tuple[Score, ...]:
        return (self.ics, *self.pillars, *self.organisations, *self.sites)

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.astimezone(LONDON).isoformat(), "framework": self.framework_id,
            "framework_version": self.framework_version, "notes": list(self.notes),
            "ics": self.ics.as_dict(), "pillars": [p.as_dict() for p in self.pillars],
            "organisations": [o.as_dict() for o in self.organisations], "sites": [s.as_dict() for s in self.sites],
        }


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "proportion":
        return f"{100 * value:.1f}%"
    if unit == "minutes":
        return f"{value:.0f} min"
    return f"{value:g}"


def score_unit(fw: Framework, unit: Unit, values: dict[str, ParameterValue]) -> Score:
    """The score and level of one organisation or site from its parameter values."""
    assessments: list[Assessment] = []
    earned = most = 0.0
    for v in values.values():
        p = v.parameter
        if v.value is None:
            assessments.append(Assessment(p.id, p.title, p.unit, None, None, None, (), None, None, v.note))
            continue
        crossed = tuple(p.crossed(v.value))
        level = crossed[-1][0] if crossed else 1
        points = p.weight * fw.points[level]  # type: ignore[index]
        top = p.weight * fw.max_points()
        earned += points
        most += top
        assessments.append(Assessment(p.id, p.title, p.unit, v.value, v.source, level, crossed, points, top, v.note))
    if most == 0:
        return Score(unit.kind, unit.code, unit.name, unit.provider_type, None, None, tuple(assessments),
                     note="no parameter has a value at this instant")
    score = round(100 * earned / most, 1)
    return Score(unit.kind, unit.code, unit.name, unit.provider_type, score, fw.level_for_score(score),
                 tuple(assessments))


def _combine(fw: Framework, kind: Literal["pillar", "ics"], code: str, name: str, pt: str | None,
             members: Sequence[Score]) -> Score:
    agg = fw.aggregation.pillar if kind == "pillar" else fw.aggregation.ics
    scored = [m.score for m in members if m.score is not None]
    combined = agg.combine(scored)
    mem = tuple((m.code, m.score, m.level) for m in members)
    what = "organisations" if kind == "pillar" else "pillars"
    if combined is None:
        return Score(kind, code, name, pt, None, None, members=mem, note=f"no {what} with a score")
    combined = round(combined, 1)
    return Score(kind, code, name, pt, combined, fw.level_for_score(combined), members=mem,
                 note=f"{agg.method} of {len(scored)} {what}")


def _check_instant(at: dt.datetime) -> None:
    if at.tzinfo is None:
        raise UecError("an instant needs a time zone (or is read as Europe/London by the command line)")


def status_many(store: Store, instants: Sequence[dt.datetime], *, framework: Framework | None = None,
                org: str | None = None) -> list[Status]:
    """Every score at each instant, computed together (a few queries whatever the number of instants).

    ``org`` narrows organisations and sites to one organisation (pillars and the ICS still cover
    every organisation, as they cannot be judged from one).
    """
    fw = framework or load_framework()
    for at in instants:
        _check_instant(at)
    insts = [instant(at) for at in instants]
    with store.reading():
        scope = units(store, fw)
        if org is not None and not any(u.kind == "org" and u.code == org for u in scope):
            known = ", ".join(sorted(u.code for u in scope if u.kind == "org")) or "none"
            raise UecError(f"unknown organisation {org!r} for this framework (known: {known})")
        values = compute_values(store, fw, insts, scope)
        ics_code = _ics_code(store)
    out: list[Status] = []
    for i, inst in enumerate(insts):
        org_scores = [score_unit(fw, u, values[(i, (u.kind, u.code))]) for u in scope if u.kind == "org"]
        site_scores = [score_unit(fw, u, values[(i, (u.kind, u.code))]) for u in scope if u.kind == "site"]
        pillars = [
            _combine(fw, "pillar", name, pt.title, name, [s for s in org_scores if s.provider_type == name])
            for name, pt in fw.provider_types.items()
        ]
        ics = _combine(fw, "ics", ics_code, "Integrated care system", None, pillars)
        if org is not None:
            org_scores = [s for s in org_scores if s.code == org]
            site_codes = {u.code for u in scope if u.kind == "site" and u.org_code == org}
            site_scores = [s for s in site_scores if s.code in site_codes]
        day = inst.at.astimezone(LONDON).date()
        notes = () if fw.in_force(day) else (
            f"framework {fw.id} is dated {fw.effective_from} to {fw.effective_to} and not in force on {day}; "
            "it is used as the latest framework held",)
        out.append(Status(inst.at, fw.id, fw.version, ics, tuple(pillars), tuple(org_scores), tuple(site_scores),
                          notes))
    return out


def status(store: Store, at: dt.datetime, *, framework: Framework | None = None, org: str | None = None) -> Status:
    """Every score at one instant.

    >>> import tempfile, os
    >>> from uec.store import open_store
    >>> s = open_store(os.path.join(tempfile.mkdtemp(), "uec.duckdb"))
    >>> status(s, dt.datetime(2025, 1, 6, 12, tzinfo=dt.UTC)).ics.why()
    'no pillars with a score'
    """
    return status_many(store, [at], framework=framework, org=org)[0]


def _ics_code(store: Store) -> str:
    return first_ics_code(store) or "ICS"


Every = Literal["15min", "1d"]


def history_instants(start: dt.date, end: dt.date, every: str,
                     time_of_day: dt.time = dt.time(12, 0)) -> list[dt.datetime]:
    """The instants of a history over local days ``[start, end)``.

    ``15min``: every quarter hour from local midnight of ``start`` (real time, so a clock-change
    day has 92 or 100); ``1d``: each local day at ``time_of_day`` (Europe/London).

    >>> len(history_instants(dt.date(2024, 10, 27), dt.date(2024, 10, 28), "15min"))
    100
    >>> history_instants(dt.date(2024, 7, 1), dt.date(2024, 7, 3), "1d")[1].isoformat()
    '2024-07-02T11:00:00+00:00'
    """
    if end <= start:
        raise UecError(f"--to ({end}) must be after --from ({start})")
    if every == "15min":
        if (end - start).days > 7:
            raise UecError("15-minute history covers at most 7 days; use --every 1d for longer ranges")
        lo, hi = local_midnight(start), local_midnight(end)
        n = int((hi - lo).total_seconds() // 900)
        return [lo + dt.timedelta(minutes=15 * k) for k in range(n)]
    if every == "1d":
        if (end - start).days > 3660:
            raise UecError("daily history covers at most ten years")
        return [
            dt.datetime.combine(start + dt.timedelta(days=k), time_of_day, tzinfo=LONDON).astimezone(dt.UTC)
            for k in range((end - start).days)
        ]
    raise UecError(f"--every must be 15min or 1d, not {every!r}")


def history(store: Store, start: dt.date, end: dt.date, every: str = "1d", *,
            time_of_day: dt.time = dt.time(12, 0), framework: Framework | None = None,
            org: str | None = None, chunk: int = 100) -> list[Status]:
    """Scores over local days ``[start, end)``: every 15 minutes, or daily at ``time_of_day``."""
    instants = history_instants(start, end, every, time_of_day)
    out: list[Status] = []
    # Chunks keep each statement's instants table (and its parameters) small.
    for k in range(0, len(instants), chunk):
        out.extend(status_many(store, instants[k:k + chunk], framework=framework, org=org))
    return out


def quarter_hours_since_midnight(at: dt.datetime) -> list[dt.datetime]:
    """Every quarter hour from the local (Europe/London) midnight that starts ``at``'s day up to and
    including ``at`` (UTC; real time, so a clock-change day has its 92 or 100 quarter hours).

    >>> [t.strftime("%H:%M") for t in quarter_hours_since_midnight(dt.datetime(2025, 1, 6, 0, 40, tzinfo=dt.UTC))]
    ['00:00', '00:15', '00:30']
    >>> quarter_hours_since_midnight(dt.datetime(2025, 7, 1, 10, 0, tzinfo=LONDON))[0].isoformat()
    '2025-06-30T23:00:00+00:00'
    """
    _check_instant(at)
    midnight = local_midnight(at.astimezone(LONDON).date())
    n = int((at.astimezone(dt.UTC) - midnight).total_seconds() // 900)
    return [midnight + dt.timedelta(minutes=15 * k) for k in range(n + 1)]


@dataclass(frozen=True)
class Trend:
    """Each organisation's parameter values at every quarter hour since local midnight.

    ``values[(org_code, parameter_id)]`` lines up with ``instants``; ``None`` where the parameter had
    no value then.
    """

    instants: tuple[dt.datetime, ...]
    values: dict[tuple[str, str], tuple[float | None, ...]] = field(default_factory=dict)

    def of(self, org_code: str, parameter_id: str) -> tuple[float | None, ...]:
        """One parameter's values (empty when the organisation or parameter is unknown)."""
        return self.values.get((org_code, parameter_id), ())


def trend_since_midnight(store: Store, at: dt.datetime, *, framework: Framework | None = None) -> Trend:
    """Every organisation's parameters at each quarter hour from local midnight to ``at``, computed
    together (:func:`status_many`: the same parameter code as the levels themselves, so a trend point
    is exactly what the page would have shown at that quarter hour).

    >>> import tempfile, os
    >>> from uec.store import open_store
    >>> s = open_store(os.path.join(tempfile.mkdtemp(), "uec.duckdb"))
    >>> len(trend_since_midnight(s, dt.datetime(2025, 1, 6, 1, 0, tzinfo=dt.UTC)).instants)
    5
    """
    instants = quarter_hours_since_midnight(at)
    statuses = status_many(store, instants, framework=framework)
    values: dict[tuple[str, str], list[float | None]] = {}
    for k, st in enumerate(statuses):
        for org in st.organisations:
            for a in org.parameters:
                values.setdefault((org.code, a.parameter_id), [None] * len(instants))[k] = a.value
    return Trend(tuple(instants), {key: tuple(v) for key, v in values.items()})
