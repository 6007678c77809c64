"""The scenario pages' jobs: durable :mod:`uec.jobs` jobs (kept in the store, run by ``uec worker``),
behind the functions the routes use (:func:`submit`, :func:`get_job`, :func:`list_jobs`,
:func:`cancel`, :class:`Job`, :class:`JobLimitError`).

A queued run survives a restart of the server and is run by the worker ``uec serve`` starts beside
it. An app that runs in one process, without that worker (tests, ``create_app`` used directly),
also runs the jobs it queues itself, one at a time on a background thread
(``UEC_WEB_RUNS_JOBS``, which ``uec serve`` turns off); those runs go through the model hooks of
:mod:`uec.web.scenario_pages`, which tests replace. Beyond the limits (:func:`set_limits`: jobs
queued or running, in all and per owner) :func:`submit` raises :class:`JobLimitError`, which the web
answers with 429.

Kinds: ``scenario_run`` (params ``scenario``, a mapping as ``parse_scenario`` takes it, ``reps``,
``days`` and ``seed``; result ``{"run_id": ...}``, the saved run, whose id is the job's).

>>> JobLimitError.__mro__[1].__name__
'UecError'
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from uec import jobs
from uec.access import audit
from uec.jobs import Job, JobContext, JobLimitError, Kind
from uec.store import Store

__all__ = ["Job", "JobLimitError", "cancel", "get_job", "list_jobs", "set_limits", "submit"]

log = logging.getLogger("uec.web.scenarios")

_limits = {"global": 4, "per_owner": 2}
_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None


def set_limits(global_limit: int, per_owner: int | None = None) -> None:
    """Jobs that may be queued or running at once, in all and per owner (default: half, at least 1)."""
    _limits["global"] = global_limit
    _limits["per_owner"] = per_owner if per_owner is not None else max(1, global_limit // 2)


def _check_scenario(params: Mapping[str, Any]) -> dict[str, Any]:
    from uec.system.scenario import parse_scenario
    from uec.web import scenario_pages  # the model hooks tests and deployments may replace

    parse_scenario(params.get("scenario"), "scenario_run", fields=tuple(scenario_pages.default_fields()))
    return {k: params[k] for k in ("scenario", "reps", "days", "seed") if k in params}


def _run_scenario(store: Store, params: Mapping[str, Any], ctx: JobContext) -> dict[str, Any]:
    from uec.jobs.kinds import save_patiently
    from uec.system.runs import save_run
    from uec.system.scenario import parse_scenario
    from uec.web import scenario_pages

    scenario = parse_scenario(params["scenario"], fields=tuple(scenario_pages.default_fields()))
    comparison = scenario_pages.default_runner(scenario, int(params["reps"]), int(params["seed"]),
                                               float(params["days"]))
    save_patiently(lambda: save_run(store, comparison, run_id=ctx.job_id, actor=f"job:{ctx.job_id}"))
    return {"run_id": ctx.job_id}


_KINDS: dict[str, Kind] = {"scenario_run": Kind("scenario_run", _check_scenario, _run_scenario)}


def _runs_here() -> bool:
    from uec.config import get_settings

    return get_settings().web_runs_jobs


def _drain(store: Store) -> None:
    from uec.jobs.worker import run_one

    try:
        while run_one(store, kinds=_KINDS) is not None:
            pass
    except Exception:
        log.exception("running queued scenario jobs failed")


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _lock:
        if _executor is None:
            # One thread: runs queue one after another rather than compete for the cores.
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="uec-scenario")
        return _executor


def submit(store: Store, kind: str, params: dict[str, Any], *, owner: str | None = None,
           actor: audit.Actor = None, request_id: str | None = None) -> Job:
    """Queue a job of ``kind``, audited (``job.submit``, by ``actor``) in the same transaction;
    :class:`JobLimitError` beyond the limits, ``UecError`` for an unknown kind."""
    try:
        job = jobs.submit(store, kind, params, owner=owner, limits=(_limits["per_owner"], _limits["global"]),
                          kinds=_KINDS, actor=actor, request_id=request_id)
    except JobLimitError as exc:
        if exc.scope == "owner":
            raise JobLimitError(f"you have {exc.limit} runs queued or running, the most one person may have; "
                                "try again when one has finished.", scope=exc.scope, limit=exc.limit) from None
        raise JobLimitError(f"{exc.limit} runs are queued or running, the most this server takes at once "
                            f"({exc.limit}); try again when one has finished.", scope=exc.scope,
                            limit=exc.limit) from None
    if _runs_here():
        _pool().submit(_drain, store)
    return job


def get_job(store: Store, job_id: str) -> Job | None:
    """The job with that id on this store, or ``None``."""
    return jobs.get_job(store, job_id)


def list_jobs(store: Store, *, owner: str | None = None, kind: str | None = None, limit: int = 50) -> list[Job]:
    """Jobs on this store, newest first."""
    return jobs.list_jobs(store, owner=owner, kind=kind, limit=limit)


def cancel(store: Store, job_id: str, *, by: str | None = None) -> Job:
    """Cancel a queued job at once; a running one stops at its next step. ``UecError`` if it has finished."""
    return jobs.cancel(store, job_id, by=by)
