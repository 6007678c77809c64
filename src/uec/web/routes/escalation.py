"""Escalation: ``/escalation`` (the system now: every organisation and pillar with its calculated
and declared OPEL level, the parameters behind it, the ICS level, open and overdue actions, data
freshness) and ``/escalation/{org_code}`` (an organisation's history, actions and the declare
form), each with ``.json`` and ``.csv`` siblings; and the POST forms that declare a level and mark
an action done or not applicable.

Reading needs ``view_aggregate``; declaring ``declare_escalation`` and marking actions
``manage_actions``, for the organisation in the path (a site manager acts for their own only).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Mapping
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from uec import feeds
from uec.access.permissions import allowed
from uec.access.user import User
from uec.access.web import request_id, require
from uec.errors import UecError
from uec.escalation import declared, tracked
from uec.escalation.cli import parse_instant
from uec.escalation.framework import Framework, load_framework
from uec.escalation.levels import (
    Assessment,
    Score,
    Status,
    Trend,
    history,
    quarter_hours_since_midnight,
    status,
    trend_since_midnight,
)
from uec.standards.periods import LONDON
from uec.store import Store
from uec.web.cache import AnswerCache
from uec.web.deps import CacheDep, StoreDep
from uec.web.limits import BoundError, check_code, check_date
from uec.web.responder import PageSpec, add_page, render
from uec.web.routes.escalation_projection import Panel, SystemAhead, panel, projection_stamp, system_ahead
from uec.web.sparkline import sparkline, trend_text

__all__ = ["org_data", "router", "system_data"]

router = APIRouter()

_view = Depends(require("view_aggregate"))
_declare_system = Depends(require("declare_escalation"))
_declare_org = Depends(require("declare_escalation", org_param="org_code"))
_manage = Depends(require("manage_actions", org_param="org_code"))

#: NHS.UK tag colours for OPEL 1-4; the tag always carries the words too (never colour alone).
TAG = {1: "nhsuk-tag--green", 2: "nhsuk-tag--yellow", 3: "nhsuk-tag--orange", 4: "nhsuk-tag--red"}


class ParameterRow(BaseModel):
    parameter: str
    title: str
    value: float | None
    value_text: str
    source: str | None
    level: int | None
    points: float | None
    thresholds: str
    note: str | None
    # The value at every quarter hour since local midnight (SystemNow.trend_times), and it in words.
    trend: list[float | None] = []
    trend_text: str | None = None


class LevelRow(BaseModel):
    kind: str
    code: str
    name: str
    provider_type: str | None
    score: float | None
    calculated_level: int | None
    declared_level: int | None = None
    declared_by: str | None = None
    declared_at: str | None = None
    declared_reason: str | None = None
    why: str
    parameters: list[ParameterRow] = []


class ActionRow(BaseModel):
    id: str
    object: str
    level: int
    title: str
    role: str
    owner_org: str
    owner_role: str
    due_at: str
    state: str
    overdue: bool
    note: str | None
    closed_by: str | None
    can_manage: bool = False


class FreshnessRow(BaseModel):
    source: str
    latest: str | None
    rows: int
    # From uec.feeds.freshness: the last load, the interval the source is expected within, and late.
    last_load: str | None = None
    last_load_rows: int | None = None
    last_load_quarantined: int | None = None
    expected_minutes: int | None = None
    late: bool = False
    why: str | None = None


class SystemNow(BaseModel):
    at: str
    framework: str
    ics: LevelRow
    pillars: list[LevelRow]
    organisations: list[LevelRow]
    actions: list[ActionRow]
    overdue: int
    freshness: list[FreshnessRow]
    notes: list[str]
    can_declare_system: bool
    # What the last projection says of the next 24 hours (routes/escalation_projection.py).
    ahead: SystemAhead | None = None
    # The quarter hours (UK time) of each parameter's trend since midnight.
    trend_times: list[str] = []


class DeclarationRow(BaseModel):
    level: int
    previous_level: int | None
    calculated_level: int | None
    reason: str | None
    declared_by: str
    declared_at: str


class DailyRow(BaseModel):
    day: str
    score: float | None
    level: int | None


class OrgEscalation(BaseModel):
    at: str
    code: str
    name: str
    provider_type: str | None
    ics_code: str
    calculated: LevelRow
    sites: list[LevelRow]
    declarations: list[DeclarationRow]
    daily: list[DailyRow]
    actions: list[ActionRow]
    can_declare: bool
    declare_refusal: str | None
    # The projected level and the "try an action" cards (routes/escalation_projection.py).
    projection: Panel | None = None


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "not available"
    if unit == "proportion":
        return f"{100 * value:.1f}%"
    if unit == "minutes":
        return f"{value:.0f} min"
    return f"{value:g}"


def _thresholds(fw: Framework, pid: str) -> str:
    p = fw.parameter(pid)
    op = "≥" if p.direction == "higher" else "≤"
    return ", ".join(f"OPEL {lv} {op} {_fmt(p.thresholds[lv], p.unit)}" for lv in (2, 3, 4))


def _row(fw: Framework, sc: Score, decl: declared.Declaration | None = None, trend: Trend | None = None) -> LevelRow:
    times = [t.astimezone(LONDON).strftime("%H:%M") for t in trend.instants] if trend else []

    def spark(a: Assessment) -> dict[str, Any]:
        values = trend.of(sc.code, a.parameter_id) if trend else ()
        if not values:
            return {}
        return {"trend": list(values), "trend_text": trend_text(times, values, lambda v: _fmt(v, a.unit))}

    params = [ParameterRow(parameter=a.parameter_id, title=a.title, value=a.value, value_text=_fmt(a.value, a.unit),
                           source=a.source, level=a.level, points=a.points, thresholds=_thresholds(fw, a.parameter_id),
                           note=a.note, **spark(a)) for a in sc.parameters]
    return LevelRow(
        kind=sc.kind, code=sc.code, name=sc.name, provider_type=sc.provider_type, score=sc.score,
        calculated_level=sc.level, why=sc.why(), parameters=params,
        declared_level=decl.level if decl else None, declared_by=decl.declared_by if decl else None,
        declared_at=decl.declared_at.astimezone(LONDON).strftime("%Y-%m-%d %H:%M") if decl else None,
        declared_reason=decl.reason if decl else None)


def _pillar(fw: Framework, p: Score, current: Mapping[str, declared.Declaration]) -> LevelRow:
    """A pillar's row; its declared level is the highest its organisations declared (a pillar is
    not declared itself)."""
    row = _row(fw, p)
    levels = [current[c].level for c, _, _ in p.members if c in current]
    row.declared_level = max(levels) if levels else None
    return row


def _action_row(a: tracked.TrackedAction, user: User | None, now: dt.datetime) -> ActionRow:
    return ActionRow(id=a.id, object=a.object_code, level=a.level, title=a.title, role=a.role, owner_org=a.owner_org,
                     owner_role=a.owner_role, due_at=a.due_at.astimezone(LONDON).strftime("%Y-%m-%d %H:%M"),
                     state=a.state, overdue=a.overdue(now), note=a.note, closed_by=a.closed_by,
                     can_manage=allowed(user, "manage_actions", a.owner_org))


def _minute() -> dt.datetime:
    """Now, to the minute: the escalation pages are "the system at HH:MM", and kept in the page cache
    for that minute (:func:`_page_key`)."""
    return dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)


def _instant(at: str | None) -> dt.datetime:
    if not at:
        return _minute()
    try:
        instant = parse_instant(at)
    except UecError:
        # Named as the form field (the error summary links to it), not as the command line's --at.
        raise BoundError("at", f"{at!r} is not a date and time: use YYYY-MM-DDTHH:MM (Europe/London) "
                               "or add an offset.") from None
    # An instant outside the years a store holds (0001-01-01) is a clear 400, never a computation
    # that overflows.
    check_date("at", instant.astimezone(dt.UTC).date())
    return instant


AtQuery = Annotated[str | None, Query(max_length=40, description="An instant (Europe/London unless it has an "
                                                                   "offset); default now.")]


def _trend(store: Store, cache: AnswerCache, at: dt.datetime, fw: Framework) -> Trend:
    """Each organisation's parameters at every quarter hour since midnight up to ``at``: kept per data
    version and last quarter hour (a past quarter hour's values change only with the data)."""
    last = quarter_hours_since_midnight(at)[-1]
    return cache.get(store, "escalation_trend", last.isoformat(), fw.id, fw.version,
                     compute=lambda: trend_since_midnight(store, last, framework=fw))


def system_data(store: StoreDep, cache: CacheDep, at: AtQuery = None, user: User = _view) -> SystemNow:
    """Every organisation, pillar and the ICS: calculated and declared levels, parameters with their trend
    since midnight, actions, freshness."""
    fw = load_framework()
    s = status(store, _instant(at), framework=fw)
    trend = _trend(store, cache, s.at, fw)
    current = declared.current_declarations(store)
    now = _minute()
    acts = [a for a in tracked.list_actions(store, state="open")]
    acts.sort(key=lambda a: (not a.overdue(now), a.due_at))
    return SystemNow(
        at=s.at.astimezone(LONDON).strftime("%Y-%m-%d %H:%M"), framework=f"{s.framework_id} {s.framework_version}",
        ics=_row(fw, s.ics, current.get(s.ics.code)), pillars=[_pillar(fw, p, current) for p in s.pillars],
        organisations=[_row(fw, o, current.get(o.code), trend) for o in s.organisations],
        actions=[_action_row(a, user, now) for a in acts], overdue=sum(a.overdue(now) for a in acts),
        freshness=[FreshnessRow(source=f.source, latest=f.latest, rows=f.rows, last_load=f.last_load,
                                last_load_rows=f.last_load_rows, last_load_quarantined=f.last_load_quarantined,
                                expected_minutes=f.expected_minutes, late=f.late, why=f.why)
                   for f in feeds.freshness(store, s.at)],
        notes=list(s.notes), can_declare_system=allowed(user, "declare_escalation"), ahead=system_ahead(store),
        trend_times=[t.astimezone(LONDON).strftime("%H:%M") for t in trend.instants])


def org_data(store: StoreDep, cache: CacheDep, org_code: str, at: AtQuery = None,
             user: User = _view) -> OrgEscalation:
    """One organisation's (or the ICS's) escalation: calculated and declared level, history, actions."""
    check_code("org_code", org_code)
    fw = load_framework()
    when = _instant(at)
    s = status(store, when, framework=fw)
    if org_code == s.ics.code:
        calc, pt, sites = s.ics, None, []
    else:
        try:
            pt = declared.provider_type_of(store, org_code, s)
        except UecError:
            raise HTTPException(404, f"There is no organisation with code {org_code} in the store.") from None
        found = next((o for o in s.organisations if o.code == org_code), None)
        calc = found or Score("org", org_code, org_code, pt, None, None, note="no parameter has a value")
        site_codes = declared.sites_of(store, org_code)
        sites = [x for x in s.sites if x.code in site_codes]
    decls = declared.declarations(store, org_code, limit=50)
    day = when.astimezone(LONDON).date()
    daily = history(store, day - dt.timedelta(days=14), day, "1d", framework=fw)

    def pick(st: Status) -> Score | None:
        if org_code == st.ics.code:
            return st.ics
        return next((o for o in st.organisations if o.code == org_code), None)

    now = _minute()
    acts = tracked.list_actions(store, object_code=org_code)
    scope_org = None if org_code == s.ics.code else org_code
    may = allowed(user, "declare_escalation", scope_org)
    refusal = None
    if not may and allowed(user, "declare_escalation", user.org_code):
        refusal = f"Your role lets you declare the level of your own organisation ({user.org_code}) only."
    return OrgEscalation(
        at=s.at.astimezone(LONDON).strftime("%Y-%m-%d %H:%M"), code=org_code,
        name=declared.org_name(store, org_code) or calc.name, provider_type=pt,
        ics_code=s.ics.code, calculated=_row(fw, calc, decls[0] if decls else None, _trend(store, cache, s.at, fw)),
        sites=[_row(fw, x) for x in sites],
        declarations=[DeclarationRow(level=d.level, previous_level=d.previous_level,
                                     calculated_level=d.calculated_level, reason=d.reason, declared_by=d.declared_by,
                                     declared_at=d.declared_at.astimezone(LONDON).strftime("%Y-%m-%d %H:%M"))
                      for d in decls],
        daily=[DailyRow(day=st.at.astimezone(LONDON).date().isoformat(), score=sc.score if sc else None,
                        level=sc.level if sc else None) for st in daily for sc in [pick(st)]],
        actions=[_action_row(a, user, now) for a in acts], can_declare=may or refusal is not None,
        declare_refusal=refusal,
        projection=panel(store, org_code, declared.org_name(store, org_code) or calc.name, pt, user))


def _system_csv(m: SystemNow) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for r in [m.ics, *m.pillars, *m.organisations]:
        rows.append({"kind": r.kind, "code": r.code, "name": r.name, "score": r.score,
                     "calculated_level": r.calculated_level, "declared_level": r.declared_level,
                     "declared_by": r.declared_by, "why": r.why})
    return rows


def _org_csv(m: OrgEscalation) -> list[dict[str, Any]]:
    return [{"day": d.day, "score": d.score, "level": d.level} for d in m.daily]


def _ctx(extra: Mapping[str, Any] | None = None) -> Any:
    def context(model: BaseModel, args: Mapping[str, Any]) -> dict[str, Any]:
        return {"m": model, "tag": TAG, "at_param": args.get("at"), "nav": "escalation", "spark": sparkline,
                **(extra or {})}
    return context


def _page_key(store: Store, args: Mapping[str, Any]) -> tuple[Hashable, ...]:
    """What an escalation page depends on besides the data version, its URL and the asking user's roles
    and organisation (:mod:`uec.web.responder` keys on those): the minute (the page is the system at
    that minute, and an action becomes overdue as the clock passes its due time), the declarations and
    tracked actions (:func:`uec.escalation.declared.loop_version`), and the projection and try-it jobs
    it shows (kept in the jobs store). So a declaration or a marked action shows at once."""
    return (_minute().isoformat(), declared.loop_version(store), projection_stamp(store, args.get("org_code")))


add_page(router, system_data, PageSpec(
    name="escalation", path="/escalation", model=SystemNow, template="escalation.html", context=_ctx(),
    csv_columns=["kind", "code", "name", "score", "calculated_level", "declared_level", "declared_by", "why"],
    csv_rows=_system_csv, filename=lambda a: "escalation.csv", api_paths=["/api/escalation"],
    cache_page=True, cache_key=_page_key,
    json_doc="The system now: every organisation, pillar and the ICS with calculated and declared OPEL levels.",
    csv_doc="One row per organisation, pillar and the ICS: score, calculated and declared level, why.",
))


def _declare(request: Request, store: Any, code: str, level: int, reason: str, at: str, user: User,
             back: str) -> Response:
    try:
        declared.declare(store, code, level, reason=reason, actor=user,
                         assessed_at=_instant(at) if at else None, request_id=request_id())
    except UecError as exc:
        field = "reason" if "reason" in str(exc) else "level"  # what the declaration form asks for
        return render(request, "escalation_error.html", status=400, message=str(exc), back=back, nav="escalation",
                      error_list=[{"text": str(exc), "href": f"{back}#{field}"}])
    return RedirectResponse(back, status_code=303)


def _back(org_code: str, at: str) -> str:
    return f"/escalation/{org_code}" + (f"?{urlencode({'at': at})}" if at else "")


@router.post("/escalation/system/declare", include_in_schema=False)
def declare_system(request: Request, store: StoreDep, level: Annotated[int, Form(ge=1, le=4)],
                   reason: Annotated[str, Form(max_length=2000)] = "", at: Annotated[str, Form(max_length=40)] = "",
                   user: User = _declare_system) -> Response:
    """Declare the system's (the ICS's) level."""
    return _declare(request, store, declared.SYSTEM, level, reason, at, user,
                    "/escalation" + (f"?{urlencode({'at': at})}" if at else ""))


@router.post("/escalation/{org_code}/declare", include_in_schema=False)
def declare_org(request: Request, store: StoreDep, org_code: str, level: Annotated[int, Form(ge=1, le=4)],
                reason: Annotated[str, Form(max_length=2000)] = "", at: Annotated[str, Form(max_length=40)] = "",
                user: User = _declare_org) -> Response:
    """Declare an organisation's level."""
    check_code("org_code", org_code)
    return _declare(request, store, org_code, level, reason, at, user, _back(org_code, at))


@router.post("/escalation/{org_code}/actions/{action_id}", include_in_schema=False)
def resolve_action(request: Request, store: StoreDep, org_code: str, action_id: str,
                   state: Annotated[str, Form(pattern="^(done|not_applicable)$")],
                   note: Annotated[str, Form(max_length=2000)] = "",
                   back: Annotated[str, Form(max_length=300)] = "/escalation",
                   user: User = _manage) -> Response:
    """Mark an action owned by ``org_code`` done (with a note) or not applicable (with the reason)."""
    check_code("org_code", org_code)
    a = tracked.get_action(store, action_id)
    if a is None or a.owner_org != org_code:
        raise HTTPException(404, f"There is no action {action_id} owned by {org_code}.")
    if not back.startswith("/escalation") or "//" in back:
        back = "/escalation"
    try:
        tracked.resolve(store, action_id, state, note, actor=user, request_id=request_id())
    except UecError as exc:
        return render(request, "escalation_error.html", status=400, message=str(exc), back=back, nav="escalation",
                      error_list=[{"text": str(exc), "href": back}])
    return RedirectResponse(back, status_code=303)


add_page(router, org_data, PageSpec(
    name="org_escalation", path="/escalation/{org_code}", model=OrgEscalation, template="escalation_org.html",
    context=_ctx(), csv_columns=["day", "score", "level"], csv_rows=_org_csv,
    filename=lambda a: f"escalation-{a['org_code']}.csv", api_paths=["/api/escalation/{org_code}"],
    cache_page=True, cache_key=_page_key,
    json_doc="One organisation's escalation: calculated and declared level, daily history, actions.",
    csv_doc="The organisation's daily calculated score and level for the last 14 days.",
))
