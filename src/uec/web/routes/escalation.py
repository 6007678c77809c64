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
from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from uec.access.permissions import allowed
from uec.access.user import User
from uec.access.web import request_id, require
from uec.errors import UecError
from uec.escalation import declared, tracked
from uec.escalation.cli import parse_instant
from uec.escalation.framework import Framework, load_framework
from uec.escalation.levels import Score, Status, history, status
from uec.standards.periods import LONDON
from uec.web.deps import StoreDep
from uec.web.limits import BoundError, check_code, check_date
from uec.web.responder import PageSpec, add_page, render
from uec.web.routes.escalation_projection import Panel, SystemAhead, panel, system_ahead

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


def _row(fw: Framework, sc: Score, decl: declared.Declaration | None = None) -> LevelRow:
    params = [ParameterRow(parameter=a.parameter_id, title=a.title, value=a.value, value_text=_fmt(a.value, a.unit),
                           source=a.source, level=a.level, points=a.points, thresholds=_thresholds(fw, a.parameter_id),
                           note=a.note) for a in sc.parameters]
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


def _instant(at: str | None) -> dt.datetime:
    if not at:
        return dt.datetime.now(dt.UTC)
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


def system_data(store: StoreDep, at: AtQuery = None, user: User = _view) -> SystemNow:
    """Every organisation, pillar and the ICS: calculated and declared levels, parameters, actions, freshness."""
    fw = load_framework()
    s = status(store, _instant(at), framework=fw)
    current = declared.current_declarations(store)
    now = dt.datetime.now(dt.UTC)
    acts = [a for a in tracked.list_actions(store, state="open")]
    acts.sort(key=lambda a: (not a.overdue(now), a.due_at))
    return SystemNow(
        at=s.at.astimezone(LONDON).strftime("%Y-%m-%d %H:%M"), framework=f"{s.framework_id} {s.framework_version}",
        ics=_row(fw, s.ics, current.get(s.ics.code)), pillars=[_pillar(fw, p, current) for p in s.pillars],
        organisations=[_row(fw, o, current.get(o.code)) for o in s.organisations],
        actions=[_action_row(a, user, now) for a in acts], overdue=sum(a.overdue(now) for a in acts),
        freshness=[FreshnessRow(source=f["source"], latest=f["latest"], rows=f["rows"])
                   for f in declared.freshness(store)],
        notes=list(s.notes), can_declare_system=allowed(user, "declare_escalation"), ahead=system_ahead(store))


def org_data(store: StoreDep, org_code: str, at: AtQuery = None, user: User = _view) -> OrgEscalation:
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

    now = dt.datetime.now(dt.UTC)
    acts = tracked.list_actions(store, object_code=org_code)
    scope_org = None if org_code == s.ics.code else org_code
    may = allowed(user, "declare_escalation", scope_org)
    refusal = None
    if not may and allowed(user, "declare_escalation", user.org_code):
        refusal = f"Your role lets you declare the level of your own organisation ({user.org_code}) only."
    return OrgEscalation(
        at=s.at.astimezone(LONDON).strftime("%Y-%m-%d %H:%M"), code=org_code,
        name=declared.org_name(store, org_code) or calc.name, provider_type=pt,
        ics_code=s.ics.code, calculated=_row(fw, calc, decls[0] if decls else None),
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
        return {"m": model, "tag": TAG, "at_param": args.get("at"), "nav": "escalation", **(extra or {})}
    return context


add_page(router, system_data, PageSpec(
    name="escalation", path="/escalation", model=SystemNow, template="escalation.html", context=_ctx(),
    csv_columns=["kind", "code", "name", "score", "calculated_level", "declared_level", "declared_by", "why"],
    csv_rows=_system_csv, filename=lambda a: "escalation.csv", api_paths=["/api/escalation"],
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
    json_doc="One organisation's escalation: calculated and declared level, daily history, actions.",
    csv_doc="The organisation's daily calculated score and level for the last 14 days.",
))
