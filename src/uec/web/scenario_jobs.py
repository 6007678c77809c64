"""The in-process job queue behind the scenario pages, with the functions of the agreed ``uec.jobs``
interface (:func:`submit`, :func:`get_job`, :func:`list_jobs`, :func:`cancel` and :class:`Job`), so
that durable jobs kept in the store can replace it by changing one import.

Jobs run one at a time on one background thread of this process: a queued or running job is lost
if the server stops (a finished scenario run is saved in the store). Beyond the limits
(:func:`set_limits`: jobs queued or running, in all and per owner) :func:`submit` raises
:class:`JobLimitError`, which the web answers with 429.

Kinds: ``scenario_run`` (params ``scenario``, a mapping as ``parse_scenario`` takes it, ``reps``,
``days`` and ``seed``; result ``{"run_id": ...}``, the saved run, whose id is the job's).

>>> JobLimitError.__mro__[1].__name__
'UecError'
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

from uec.errors import UecError
from uec.store import Store

__all__ = ["Job", "JobLimitError", "cancel", "get_job", "list_jobs", "set_limits", "submit"]

log = logging.getLogger("uec.web.scenarios")

State = Literal["queued", "running", "done", "failed", "cancelled"]
_FINISHED: frozenset[str] = frozenset({"done", "failed", "cancelled"})
# Finished jobs kept for their pages: a done run is read from the store, so only failures matter.
_KEEP_FINISHED = 100


class JobLimitError(UecError):
    """Too many jobs queued or running, for the owner or in all: try again when one has finished."""


@dataclass(frozen=True)
class Job:
    """A job and where it has got to."""

    id: str
    kind: str
    params: dict[str, Any]
    state: State
    owner: str | None
    created_at: dt.datetime
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    progress: float | None = None
    message: str | None = None
    error: str | None = None
    result: dict[str, Any] | None = None


@dataclass
class _Entry:
    job: Job
    store: Store
    future: Future[None] | None = None


_lock = threading.Lock()
_entries: dict[str, _Entry] = {}
_executor: ThreadPoolExecutor | None = None
_limits = {"global": 4, "per_owner": 2}


def set_limits(global_limit: int, per_owner: int | None = None) -> None:
    """Jobs that may be queued or running at once, in all and per owner (default: half, at least 1)."""
    _limits["global"] = global_limit
    _limits["per_owner"] = per_owner if per_owner is not None else max(1, global_limit // 2)


def _pool() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        # One thread: runs queue one after another rather than compete for the cores, and a process
        # pool forked from a threaded web server is fragile.
        _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="uec-scenario")
    return _executor


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _update(job_id: str, **changes: Any) -> Job:
    with _lock:
        entry = _entries[job_id]
        entry.job = dataclasses.replace(entry.job, **changes)
        return entry.job


def _run_scenario(store: Store, job: Job) -> dict[str, Any]:
    from uec.system.runs import save_run
    from uec.system.scenario import parse_scenario
    from uec.web import scenario_pages  # the model hooks tests and deployments may replace

    p = job.params
    scenario = parse_scenario(p["scenario"], fields=tuple(scenario_pages.default_fields()))
    comparison = scenario_pages.default_runner(scenario, int(p["reps"]), int(p["seed"]), float(p["days"]))
    save_run(store, comparison, run_id=job.id)
    return {"run_id": job.id}


_KINDS: dict[str, Callable[[Store, Job], dict[str, Any]]] = {"scenario_run": _run_scenario}


def _work(job_id: str) -> None:
    with _lock:
        entry = _entries[job_id]
        if entry.job.state != "queued":
            return
    job = _update(job_id, state="running", started_at=_now())
    try:
        result = _KINDS[job.kind](entry.store, job)
    except UecError as exc:
        _update(job_id, state="failed", error=str(exc), finished_at=_now())
        return
    except Exception as exc:
        log.exception("job %s (%s) failed", job_id, job.kind)
        _update(job_id, state="failed", finished_at=_now(),
                error=f"The run failed unexpectedly ({type(exc).__name__}: {exc}).")
        return
    _update(job_id, state="done", result=result, progress=1.0, finished_at=_now())


def _prune() -> None:
    finished = sorted((e for e in _entries.values() if e.job.state in _FINISHED), key=lambda e: e.job.created_at)
    for e in finished[: max(0, len(finished) - _KEEP_FINISHED)]:
        _entries.pop(e.job.id, None)


def submit(store: Store, kind: str, params: dict[str, Any], *, owner: str | None = None) -> Job:
    """Queue a job of ``kind``; :class:`JobLimitError` beyond the limits, ``UecError`` for an unknown kind."""
    if kind not in _KINDS:
        raise UecError(f"unknown job kind {kind!r}; the kinds are: {', '.join(_KINDS)}")
    from uec.system.runs import new_run_id

    with _lock:
        _prune()
        active = [e.job for e in _entries.values() if e.job.state not in _FINISHED]
        if len(active) >= _limits["global"]:
            raise JobLimitError(f"{len(active)} runs are queued or running, the most this server takes at once "
                                f"({_limits['global']}); try again when one has finished.")
        if owner is not None and sum(j.owner == owner for j in active) >= _limits["per_owner"]:
            raise JobLimitError(f"you have {_limits['per_owner']} runs queued or running, the most one person "
                                "may have; try again when one has finished.")
        job = Job(id=new_run_id(), kind=kind, params=dict(params), state="queued", owner=owner, created_at=_now())
        entry = _Entry(job, store)
        _entries[job.id] = entry
    entry.future = _pool().submit(_work, job.id)
    return job


def get_job(store: Store, job_id: str) -> Job | None:
    """The job with that id on this store, or ``None``."""
    with _lock:
        entry = _entries.get(job_id)
        return entry.job if entry is not None and entry.store.url == store.url else None


def list_jobs(store: Store, *, owner: str | None = None, kind: str | None = None, limit: int = 50) -> list[Job]:
    """Jobs on this store, newest first."""
    with _lock:
        jobs = [e.job for e in _entries.values() if e.store.url == store.url
                and (owner is None or e.job.owner == owner) and (kind is None or e.job.kind == kind)]
    return sorted(jobs, key=lambda j: j.created_at, reverse=True)[:limit]


def cancel(store: Store, job_id: str, *, by: str | None = None) -> Job:
    """Cancel a queued job. A running one cannot be stopped in this queue: ``UecError`` says so."""
    with _lock:
        entry = _entries.get(job_id)
        if entry is None or entry.store.url != store.url:
            raise UecError(f"there is no job {job_id!r}")
        if entry.job.state != "queued":
            raise UecError(f"job {job_id} is {entry.job.state} and cannot be cancelled")
        if entry.future is not None:
            entry.future.cancel()
        entry.job = dataclasses.replace(entry.job, state="cancelled", finished_at=_now(),
                                        message=None if by is None else f"cancelled by {by}")
        return entry.job
