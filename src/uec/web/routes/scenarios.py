"""Scenarios: the form ``/scenarios`` (with the runs, newest first, as ``.json``, ``.csv`` and
``/api/scenarios/runs``), one run ``/scenarios/runs/{run_id}`` (and its ``.json``, ``.csv`` and API
route), the change fields and starting a run through the API.

Submitting the form checks it (:func:`uec.web.scenario_views.validate_run`, which hands every value
to ``parse_scenario``), queues a ``scenario_run`` job and sends the browser to the run's page,
which says the run is under way until it is done. Beyond the queue's limits the answer is 429.

Reading runs needs ``view_aggregate``; starting one needs ``run_scenarios`` (analysts), and each
start writes an audit entry (``scenario.run``) in the same store transaction: if the entry cannot
be written the job is cancelled, so no run starts unrecorded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from uec.access.user import User
from uec.access.web import request_id
from uec.errors import UecError
from uec.store import Store
from uec.system.runs import get_run, list_runs
from uec.system.types import ChangeField
from uec.web import scenario_jobs, scenario_pages
from uec.web.deps import StoreDep, allow
from uec.web.limits import DAYS_RANGE, PAGE_SIZE, REPS_RANGE, check_code, check_range
from uec.web.responder import ERROR_RESPONSES, REFUSED_RESPONSES, ErrorModel, FieldErrors, PageSpec, add_page, render
from uec.web.scenario_views import (
    DEFAULTS,
    RUN_CSV_COLUMNS,
    RUN_LIST_CSV_COLUMNS,
    FieldView,
    FormError,
    RunList,
    RunRequest,
    RunView,
    field_id,
    field_view,
    job_list_item,
    job_view,
    run_csv_rows,
    run_list_csv_rows,
    run_view,
    stored_list_item,
    validate_run,
)

__all__ = ["router", "run_data", "runs_data"]

router = APIRouter()


def _fields() -> Sequence[ChangeField]:
    # Looked up on every use, so tests and deployments may replace the model's hooks.
    return tuple(scenario_pages.default_fields())


Limit = Query(PAGE_SIZE[0], description=f"Most runs to list, 1 to {PAGE_SIZE[1]}")


def runs_data(store: StoreDep, limit: int = Limit) -> RunList:
    """Runs under way and stored runs, newest first, as the scenario page lists them."""
    check_range("limit", limit, (1, PAGE_SIZE[1]))
    fields = _fields()
    items = [job_list_item(j, fields) for j in scenario_jobs.list_jobs(store, kind="scenario_run", limit=limit)
             if j.state != "done"]
    items += [stored_list_item(r, fields) for r in list_runs(store)[: max(0, limit - len(items))]]
    return RunList(runs=items)


def run_data(store: StoreDep, run_id: str) -> RunView:
    """One run: its status and, once done, its comparison."""
    check_code("run_id", run_id)
    fields = _fields()
    job = scenario_jobs.get_job(store, run_id)
    if job is not None and job.state != "done":
        return job_view(job, fields)
    # A finished job names the run it saved (the in-process queue gives the run the job's id).
    saved = str(job.result["run_id"]) if job is not None and job.result else run_id
    try:
        c = get_run(store, saved)
    except UecError:
        raise HTTPException(404, f"There is no scenario run with id {run_id}.") from None
    return run_view(run_id, c, fields)


def _form_context(runs: RunList, values: Mapping[str, str], errors: Sequence[FormError]) -> dict[str, Any]:
    return {"fields": _fields(), "values": values, "errors": errors, "error_for": {e.field: e.message for e in errors},
            "error_list": [{"text": e.message, "href": f"#{e.field}"} for e in errors], "runs": runs.runs,
            "reps_range": REPS_RANGE, "days_range": DAYS_RANGE, "defaults": DEFAULTS, "field_id": field_id,
            "nav": "scenarios"}


add_page(router, runs_data, PageSpec(
    name="scenarios", path="/scenarios", model=RunList, template="scenarios.html",
    context=lambda runs, a: _form_context(runs, {}, []), csv_columns=RUN_LIST_CSV_COLUMNS,
    csv_rows=run_list_csv_rows, filename=lambda a: "scenarios.csv", api_paths=["/api/scenarios/runs"],
    json_doc="Runs under way and stored runs, newest first, as the scenario page lists them.",
    csv_doc="Runs under way and stored runs, newest first, one per row.",
))
add_page(router, run_data, PageSpec(
    name="scenario_run", path="/scenarios/runs/{run_id}", model=RunView, template="scenario_run.html",
    context=lambda r, a: {"r": r, "nav": "scenarios"}, csv_columns=RUN_CSV_COLUMNS, csv_rows=run_csv_rows,
    filename=lambda a: f"scenario-run-{a['run_id']}.csv", api_paths=["/api/scenarios/runs/{run_id}"],
    json_doc="One run: its status and, once done, its comparison.",
    csv_doc="One run's comparison: each standard's baseline, scenario and difference with 95% intervals.",
))


def _queue(store: Store, values: Mapping[str, Any], user: User) -> str | FormError:
    run, errors = validate_run(values.get("name", ""), values.get("description", ""), values.get("changes", {}),
                               values.get("reps", ""), values.get("days", ""), values.get("seed", ""), _fields())
    if run is None:
        raise _Invalid(errors)
    params = run.params()
    try:
        # Queued and audited (job.submit, the job's id, which is the run's) in one transaction of the
        # store that keeps the jobs: both commit or neither does (docs/decisions/0006-audited-jobs.md).
        job = scenario_jobs.submit(store, "scenario_run", params, owner=user.username, actor=user,
                                   request_id=request_id())
    except scenario_jobs.JobLimitError as exc:
        return FormError("scenario-name", str(exc))
    return job.id


class _Invalid(Exception):
    def __init__(self, errors: list[FormError]) -> None:
        self.errors = errors


_may_run = Depends(allow("run_scenarios"))


@router.post("/scenarios", response_class=HTMLResponse, include_in_schema=False)
async def scenarios_submit(request: Request, store: StoreDep, user: User = _may_run) -> Response:
    # Parsed by hand: the form is plain url-encoded text and needs nothing more.
    body = (await request.body()).decode("utf-8", errors="replace")
    form = {k: v[-1] for k, v in parse_qs(body, keep_blank_values=True).items()}
    values = {"name": form.get("scenario-name", ""), "description": form.get("description", ""),
              "changes": {f.name: form.get(field_id(f.name), "") for f in _fields()},
              "reps": form.get("reps", ""), "days": form.get("days", ""), "seed": form.get("seed", "")}
    try:
        got = _queue(store, values, user)
    except _Invalid as bad:
        return render(request, "scenarios.html", 400, **_form_context(runs_data(store, PAGE_SIZE[0]), form, bad.errors))
    if isinstance(got, FormError):
        return render(request, "scenarios.html", 429, **_form_context(runs_data(store, PAGE_SIZE[0]), form, [got]))
    return RedirectResponse(f"/scenarios/runs/{got}", status_code=303)


@router.get("/api/scenarios/fields", response_model=list[FieldView], tags=["api"],
            responses={503: ERROR_RESPONSES[503], **REFUSED_RESPONSES}, dependencies=[Depends(allow("view_aggregate"))])
def api_fields() -> list[FieldView]:
    """The changes a scenario can make, with their units, defaults (the baseline) and limits."""
    return [field_view(f) for f in _fields()]


@router.post("/api/scenarios/runs", response_model=RunView, status_code=202, tags=["api"], responses={
    422: {"model": FieldErrors, "description": "Invalid values, one message per field"},
    429: {"model": ErrorModel, "description": "Too many runs queued or running; try again later"},
    503: ERROR_RESPONSES[503], **REFUSED_RESPONSES,
})
def api_submit(store: StoreDep, body: RunRequest, user: User = _may_run) -> Response:
    """Start a run (analysts); 202 with its status and URL, which gives the comparison once done."""
    values = body.model_dump()
    try:
        got = _queue(store, values, user)
    except _Invalid as bad:
        return JSONResponse({"detail": [{"field": e.field, "message": e.message} for e in bad.errors]},
                            status_code=422)
    if isinstance(got, FormError):
        return JSONResponse({"detail": got.message}, status_code=429, headers={"Retry-After": "60"})
    v = run_data(store, got)
    return JSONResponse(jsonable_encoder(v), status_code=202, headers={"Location": f"/api/scenarios/runs/{got}"})
