"""The projected OPEL level and "try an action before taking it", on the escalation pages.

- ``/escalation/{org_code}/projection``: the last projection (``escalation_projection`` job) of an
  organisation (or the ICS, by its code, with every pillar and organisation): at each instant the
  likely level, the probability of each level and the score with the central 95% of replications;
  when it was made and whether the data have changed since. ``.json``, ``.csv`` and
  ``/api/escalation/{org_code}/projection``.
- ``POST /escalation/{org_code}/projection``: project again (a durable job; nothing runs when a
  projection of the data the store holds now exists).
- ``POST /escalation/{org_code}/try``: one click from an action card that names a scenario change:
  a job projects the organisation without and with it over the same replications.
- ``/escalation/{org_code}/try/{job_id}``: that job's progress, then the effect on the score,
  the level's probabilities and every parameter, with 95% intervals (``.json``, ``.csv``, API).

Reading needs ``view_aggregate``; running ``try_actions`` for the organisation in the path.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from uec.access.permissions import allowed
from uec.access.user import User
from uec.access.web import request_id, require
from uec.errors import UecError
from uec.escalation import declared
from uec.escalation.projection import MAX_HOURS
from uec.escalation.projection_jobs import PROJECTION_KIND, TRY_KIND, cached, data_version_key
from uec.escalation.tracked import cards_with_changes, load_cards
from uec.jobs import Job, JobLimitError, get_job, list_jobs, submit
from uec.store import Store
from uec.web.deps import StoreDep
from uec.web.limits import PROJECTION_HOURS, PROJECTION_REPS, REPS_RANGE, check_code
from uec.web.responder import PageSpec, add_page, render

__all__ = ["OrgProjection", "SystemAhead", "TryCard", "TryResult", "panel", "projection_stamp", "router",
           "system_ahead"]

log = logging.getLogger("uec.web.escalation")
router = APIRouter()

_view = Depends(require("view_aggregate"))
_try = Depends(require("try_actions", org_param="org_code"))

#: Replications a projection or a try-it run from a page makes (the command line may ask for up to 50).
WEB_REPS = PROJECTION_REPS
_HOURS_LO, _HOURS_HI = PROJECTION_HOURS
assert REPS_RANGE[0] <= PROJECTION_REPS <= REPS_RANGE[1] and _HOURS_HI <= MAX_HOURS


class ProjectionRow(BaseModel):
    kind: str
    code: str
    name: str
    at: str
    score_mean: float | None
    score_low: float | None
    score_high: float | None
    likely_level: int | None
    p_opel1: float
    p_opel2: float
    p_opel3: float
    p_opel4: float
    p_no_score: float


class OrgProjection(BaseModel):
    code: str
    name: str
    state: str  # none, queued, running, done or failed (of the newest projection asked for)
    job_id: str | None = None
    message: str | None = None
    made_at: str | None = None
    as_of: str | None = None
    hours: int | None = None
    reps: int | None = None
    seed: int | None = None
    current_data: bool = False
    current_level: int | None = None
    # Which demand drove the model: the stored forecast (and by how much) or the simulation's own rates.
    demand: str | None = None
    rise_probability: float | None = None
    rise_level: int | None = None
    rows: list[ProjectionRow] = []
    can_run: bool = False


class TryCard(BaseModel):
    id: str
    title: str
    level: int
    changes: dict[str, Any]


class TryRow(BaseModel):
    at: str
    score_without: float | None
    score_with: float | None
    score_difference: float | None
    difference_low: float | None
    difference_high: float | None
    likely_level_without: int | None
    likely_level_with: int | None
    p_opel3_or_4_without: float
    p_opel3_or_4_with: float


class TryParameterRow(BaseModel):
    parameter: str
    title: str
    unit: str
    at: str
    without_action: float | None
    with_action: float | None
    difference: float | None
    difference_low: float | None
    difference_high: float | None


class TryResult(BaseModel):
    job_id: str
    org: str
    name: str
    state: str
    message: str | None = None
    error: str | None = None
    progress: float | None = None
    card: str | None = None
    changes: dict[str, Any] = {}
    made_at: str | None = None
    as_of: str | None = None
    hours: int | None = None
    reps: int | None = None
    rise_without: float | None = None
    rise_with: float | None = None
    rows: list[TryRow] = []
    parameters: list[TryParameterRow] = []


# --- running jobs where no worker runs them -------------------------------------------------------

_pool: ThreadPoolExecutor | None = None
_lock = threading.Lock()


def _drain(store: Store) -> None:
    from uec.jobs.kinds import KINDS
    from uec.jobs.worker import run_one

    # Only the escalation kinds: scenario runs queued here belong to the web's scenario runner.
    mine = {k: v for k, v in KINDS.items() if k.startswith("escalation_")}
    try:
        while run_one(store, kinds=mine) is not None:
            pass
    except Exception:
        log.exception("running queued escalation jobs failed")


def _kick(store: Store) -> None:
    """In an app without ``uec worker`` beside it (tests, ``create_app`` used directly), run the queue here."""
    from uec.config import get_settings

    global _pool
    if not get_settings().web_runs_jobs:
        return
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="uec-escalation")
    _pool.submit(_drain, store)


# --- the projection -------------------------------------------------------------------------------


def _name(store: Store, code: str) -> str:
    check_code("org_code", code)
    name = declared.org_name(store, code)
    if name is None:
        raise HTTPException(404, f"There is no organisation with code {code} in the store.")
    return name


def _rows(result: dict[str, Any], code: str) -> list[ProjectionRow]:
    rows = [r for r in result.get("rows", []) if r["code"] == code and r["kind"] in ("org", "ics")]
    if rows and rows[0]["kind"] == "ics":
        # The ICS's page shows the system: the ICS, each pillar and each organisation.
        rows = [r for r in result.get("rows", []) if r["kind"] in ("ics", "pillar", "org")]
    return [ProjectionRow(**{k: r[k] for k in ProjectionRow.model_fields}) for r in rows]


def _projection(store: Store, code: str, name: str, user: User | None) -> OrgProjection:
    done = list_jobs(store, kind=PROJECTION_KIND, state="done", limit=1)
    newest = list_jobs(store, kind=PROJECTION_KIND, limit=1)
    m = OrgProjection(code=code, name=name, state="none",
                      can_run=user is not None and allowed(user, "try_actions", code))
    if newest and newest[0].state in ("queued", "running", "failed"):
        m.state, m.job_id = newest[0].state, newest[0].id
        m.message = newest[0].error or newest[0].message
    if done:
        r = done[0].result or {}
        rise = (r.get("rise") or {}).get(code) or {}
        m.made_at = str(r.get("made_at", ""))[:16].replace("T", " ")
        m.as_of = str(r.get("as_of", ""))[:16].replace("T", " ")
        m.hours, m.reps, m.seed = r.get("hours"), r.get("reps"), r.get("seed")
        m.current_data = r.get("data_version") == data_version_key(store)
        m.demand = (r.get("demand") or {}).get("note")
        m.current_level, m.rise_probability, m.rise_level = (
            rise.get("current_level"), rise.get("probability"), rise.get("level"))
        m.rows = _rows(r, code)
        if m.state == "none":
            m.state, m.job_id = "done", done[0].id
    return m


def projection_data(store: StoreDep, org_code: str, user: User = _view) -> OrgProjection:
    """An organisation's (or the ICS's) last projected level: the probability of each level at each instant."""
    return _projection(store, org_code, _name(store, org_code), user)


def _projection_csv(m: OrgProjection) -> list[dict[str, Any]]:
    return [r.model_dump() for r in m.rows]


def _ctx(model: BaseModel, args: Any) -> dict[str, Any]:
    from uec.web.routes.escalation import TAG

    return {"m": model, "tag": TAG, "nav": "escalation"}


add_page(router, projection_data, PageSpec(
    name="escalation_projection", path="/escalation/{org_code}/projection", model=OrgProjection,
    template="escalation_projection.html", context=_ctx, csv_columns=list(ProjectionRow.model_fields),
    csv_rows=_projection_csv, filename=lambda a: f"escalation-projection-{a['org_code']}.csv",
    api_paths=["/api/escalation/{org_code}/projection"],
    json_doc="The last projected OPEL level of an organisation (or the ICS): each level's probability at each "
             "instant, from the whole-system model run from now.",
    csv_doc="One row per unit and projected instant: score (mean, central 95%), likely level, each level's "
            "probability.",
))


def _refused(request: Request, exc: UecError, back: str, status: int) -> Response:
    return render(request, "escalation_error.html", status=status, message=str(exc), back=back, nav="escalation")


@router.post("/escalation/{org_code}/projection", include_in_schema=False)
def run_projection(request: Request, store: StoreDep, org_code: str,
                   hours: Annotated[int, Form(ge=_HOURS_LO, le=_HOURS_HI)] = _HOURS_HI, user: User = _try) -> Response:
    """Project every organisation's level again (unless a projection of the current data exists)."""
    _name(store, org_code)
    back = f"/escalation/{org_code}/projection"
    params = {"hours": hours, "step_hours": 4 if hours >= 4 else hours, "reps": WEB_REPS, "seed": 42}
    try:
        active = [j for j in list_jobs(store, kind=PROJECTION_KIND, limit=5) if j.state in ("queued", "running")]
        if cached(store, PROJECTION_KIND, params) is None and not active:
            submit(store, PROJECTION_KIND, params, owner=user.username, actor=user, request_id=request_id())
            _kick(store)
    except JobLimitError as exc:
        return _refused(request, exc, back, 429)
    except UecError as exc:
        return _refused(request, exc, back, 400)
    return RedirectResponse(back, status_code=303)


class Ahead(BaseModel):
    """One organisation's (or the ICS's) projected level about 24 hours ahead, for the system page."""

    kind: str
    code: str
    name: str
    at: str
    likely_level: int | None
    p_opel3_or_4: float
    rise_probability: float | None = None


class SystemAhead(BaseModel):
    made_at: str | None = None
    as_of: str | None = None
    current_data: bool = False
    demand: str | None = None
    rows: list[Ahead] = []


def system_ahead(store: Store, hours: int = 24) -> SystemAhead:
    """From the last projection: each organisation's and the ICS's likely level at the last projected
    instant within ``hours`` of its start, and the chance of OPEL 3 or 4 then."""
    import datetime as dt

    done = list_jobs(store, kind=PROJECTION_KIND, state="done", limit=1)
    if not done or not done[0].result:
        return SystemAhead()
    r = done[0].result
    start = dt.datetime.fromisoformat(r["as_of"])
    within = [a for a in r.get("instants", []) if dt.datetime.fromisoformat(a) <= start + dt.timedelta(hours=hours)]
    if not within:
        return SystemAhead()
    rises = r.get("rise") or {}
    rows = [Ahead(kind=x["kind"], code=x["code"], name=x["name"], at=x["at"][:16].replace("T", " "),
                  likely_level=x["likely_level"], p_opel3_or_4=round(x["p_opel3"] + x["p_opel4"], 4),
                  rise_probability=(rises.get(x["code"]) or {}).get("probability"))
            for x in r.get("rows", []) if x["kind"] in ("ics", "org") and x["at"] == within[-1]]
    return SystemAhead(made_at=str(r.get("made_at", ""))[:16].replace("T", " "),
                       as_of=str(r.get("as_of", ""))[:16].replace("T", " "),
                       current_data=r.get("data_version") == data_version_key(store),
                       demand=(r.get("demand") or {}).get("note"), rows=rows)


def projection_stamp(store: Store, org_code: str | None = None) -> tuple[Any, ...]:
    """What the escalation pages show of the jobs (kept in the jobs store, which the data version does
    not cover) depends on: the newest projection and the newest done one, and with ``org_code`` its
    recent try-it runs, each with its state and progress. A cached page keys on it."""
    def brief(jobs: list[Job]) -> tuple[Any, ...]:
        return tuple((j.id, j.state, j.progress, j.message) for j in jobs)

    stamp: tuple[Any, ...] = (brief(list_jobs(store, kind=PROJECTION_KIND, state="done", limit=1)),)
    if org_code is not None:
        tries = [j for j in list_jobs(store, kind=TRY_KIND, limit=20) if j.params.get("org") == org_code][:3]
        stamp += (brief(list_jobs(store, kind=PROJECTION_KIND, limit=1)), brief(tries))
    return stamp


# --- try an action --------------------------------------------------------------------------------


def try_cards(provider_type: str | None) -> list[TryCard]:
    """The action cards of a provider type (or the system's) that name a change the model can try.

    >>> [c.id for c in try_cards("acute")][:2]
    ['acute-2-discharge', 'acute-3-capacity']
    """
    cards = load_cards()
    group = provider_type or "system"
    levels = {c.id: lv for lv, roles in cards.cards.get(group, {}).items() for cs in roles.values() for c in cs}
    return [TryCard(id=c.id, title=c.title, level=levels[c.id], changes=c.changes)
            for c in cards_with_changes(cards, group)]


class Panel(BaseModel):
    """What the organisation's escalation page shows of the projection and the try-it cards."""

    projection: OrgProjection
    cards: list[TryCard]
    can_try: bool
    recent: list[TryResult]


def panel(store: Store, org_code: str, name: str, provider_type: str | None, user: User | None) -> Panel:
    """The projection and "try it" panel of an organisation's escalation page."""
    recent = [_try_result(store, j, org_code, name) for j in list_jobs(store, kind=TRY_KIND, limit=20)
              if j.params.get("org") == org_code][:3]
    return Panel(projection=_projection(store, org_code, name, user), cards=try_cards(provider_type),
                 can_try=user is not None and allowed(user, "try_actions", org_code), recent=recent)


@router.post("/escalation/{org_code}/try", include_in_schema=False)
def run_try(request: Request, store: StoreDep, org_code: str, card: Annotated[str, Form(max_length=100)],
            hours: Annotated[int, Form(ge=_HOURS_LO, le=_HOURS_HI)] = 24, user: User = _try) -> Response:
    """Try an action card's change: project the organisation from now without and with it."""
    _name(store, org_code)
    back = f"/escalation/{org_code}"
    found = load_cards().card(card)
    if found is None or not found.scenario:
        return _refused(request, UecError(f"There is no action card {card!r} with a change to try."), back, 400)
    params = {"org": org_code, "changes": found.changes, "card": card, "hours": hours,
              "step_hours": 4 if hours >= 4 else hours, "reps": WEB_REPS, "seed": 42}
    try:
        hit = cached(store, TRY_KIND, params)
        job = hit if hit is not None else submit(store, TRY_KIND, params, owner=user.username, actor=user,
                                                 request_id=request_id())
        if hit is None:
            _kick(store)
    except JobLimitError as exc:
        return _refused(request, exc, back, 429)
    except UecError as exc:
        return _refused(request, exc, back, 400)
    return RedirectResponse(f"/escalation/{org_code}/try/{job.id}", status_code=303)


def _try_result(store: Store, job: Job, org_code: str, name: str) -> TryResult:
    p = job.params
    m = TryResult(job_id=job.id, org=org_code, name=name, state=job.state, message=job.message, error=job.error,
                  progress=job.progress, card=p.get("card"), changes=dict(p.get("changes") or {}),
                  hours=p.get("hours"), reps=p.get("reps"))
    r = job.result if job.state == "done" else None
    if r:
        m.made_at = str(r.get("made_at", ""))[:16].replace("T", " ")
        m.as_of = str(r.get("as_of", ""))[:16].replace("T", " ")
        m.rise_without = (r.get("rise_without") or {}).get("probability")
        m.rise_with = (r.get("rise_with") or {}).get("probability")
        m.rows = [TryRow(at=x["at"], score_without=x["score_without"], score_with=x["score_with"],
                         score_difference=x["score_difference"], difference_low=x["difference_low"],
                         difference_high=x["difference_high"], likely_level_without=x["likely_level_without"],
                         likely_level_with=x["likely_level_with"],
                         p_opel3_or_4_without=round(x["p_opel3_without"] + x["p_opel4_without"], 4),
                         p_opel3_or_4_with=round(x["p_opel3_with"] + x["p_opel4_with"], 4)) for x in r["rows"]]
        m.parameters = [TryParameterRow(parameter=x["parameter"], title=x["title"], unit=x["unit"], at=x["at"],
                                        without_action=x["without"], with_action=x["with"],
                                        difference=x["difference"], difference_low=x["difference_low"],
                                        difference_high=x["difference_high"])
                        for x in r["parameters"] if x["without"] is not None or x["with"] is not None]
    return m


def try_data(store: StoreDep, org_code: str, job_id: str, user: User = _view) -> TryResult:
    """One try-it run: the organisation's projection without and with the action, and the difference."""
    name = _name(store, org_code)
    check_code("job_id", job_id)
    job = get_job(store, job_id)
    if job is None or job.kind != TRY_KIND or job.params.get("org") != org_code:
        raise HTTPException(404, f"There is no try-it run {job_id} for {org_code}.")
    return _try_result(store, job, org_code, name)


def _try_csv(m: TryResult) -> list[dict[str, Any]]:
    return [r.model_dump() for r in m.rows]


add_page(router, try_data, PageSpec(
    name="escalation_try", path="/escalation/{org_code}/try/{job_id}", model=TryResult,
    template="escalation_try.html", context=_ctx, csv_columns=list(TryRow.model_fields), csv_rows=_try_csv,
    filename=lambda a: f"escalation-try-{a['org_code']}-{a['job_id']}.csv",
    api_paths=["/api/escalation/{org_code}/try/{job_id}"],
    json_doc="An action tried before it is taken: the organisation's projection without and with its change "
             "(paired replications), with 95% intervals for the score and every parameter.",
    csv_doc="One row per projected instant: score without and with the action, the difference and its interval.",
))
