"""Durable background work: scenario runs and forecast refreshes kept as jobs in the store.

A job is queued with :func:`submit`, claimed and run by ``uec worker`` (:func:`uec.jobs.worker.run_worker`),
and its state (queued, running, done, failed with the reason, cancelled), progress and result are
kept in the store, so nothing is lost when the web server or the worker restarts. Limits per owner
and overall (``UEC_JOBS_PER_OWNER``, ``UEC_JOBS_TOTAL``) bound the work one person or everyone can
queue; beyond them :func:`submit` raises :class:`JobLimitError` (the web answers 429).

>>> import tempfile, os
>>> from uec.store import open_store
>>> with tempfile.TemporaryDirectory() as d:
...     store = open_store(os.path.join(d, "uec.duckdb"))
...     job = submit(store, "scenario_run", {"scenario": {"name": "more-crews", "changes": {"extra_crews": 5}},
...                                          "reps": 1, "days": 1, "seed": 3}, owner="analyst")
...     cancelled = cancel(store, job.id, by="analyst")
...     [job.state, cancelled.state, [j.id for j in list_jobs(store)] == [job.id]]
['queued', 'cancelled', True]
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping
from typing import Any

from uec.access import audit
from uec.errors import UecError
from uec.jobs import queries
from uec.jobs.kinds import KINDS, MAX_DAYS, MAX_REPS, JobContext, Kind, check_params
from uec.jobs.table import (
    ACTIVE_STATES,
    STATES,
    Job,
    JobState,
    job_from_row,
    jobs_store,
    require_job,
    select_job,
)
from uec.store import Store

__all__ = [
    "KINDS",
    "MAX_DAYS",
    "MAX_REPS",
    "STATES",
    "Job",
    "JobCancelled",
    "JobContext",
    "JobLimitError",
    "JobState",
    "Kind",
    "cancel",
    "get_job",
    "list_jobs",
    "new_job_id",
    "submit",
]


class JobLimitError(UecError):
    """Too many jobs queued or running, for this owner or for everyone: try again when some finish.

    ``scope`` says which limit was reached ('owner' or 'total') and ``limit`` its value, so a caller
    may word its own message.
    """

    def __init__(self, message: str, *, scope: str = "total", limit: int = 0) -> None:
        super().__init__(message)
        self.scope = scope
        self.limit = limit


class JobCancelled(Exception):
    """Raised inside a running job when it notices it was cancelled; the worker records 'cancelled'."""


def new_job_id(now: dt.datetime | None = None) -> str:
    """A new job id: the UTC time (so ids sort by age) and 6 random hex digits.

    It is also a valid scenario run id: a scenario run job saves its run under the job's id.

    >>> new_job_id(dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC))[:16]
    '20261201-093000-'
    """
    now = now or dt.datetime.now(dt.UTC)
    return f"{now.astimezone(dt.UTC):%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}"


def _limits() -> tuple[int, int]:
    from uec.config import get_settings

    s = get_settings()
    return s.jobs_per_owner, s.jobs_total


def submit(store: Store, kind: str, params: Mapping[str, Any], *, owner: str | None = None,
           limits: tuple[int, int] | None = None, kinds: Mapping[str, Kind] | None = None,
           actor: audit.Actor = None, request_id: str | None = None) -> Job:
    """Queue a job of ``kind`` with ``params`` for ``owner``; the queued :class:`Job`.

    ``UecError`` when the kind or params are wrong (nothing is queued); :class:`JobLimitError`
    when ``owner`` already has ``UEC_JOBS_PER_OWNER`` jobs queued or running, or everyone together
    has ``UEC_JOBS_TOTAL`` (a job without an owner counts only against the second). ``limits``
    (per owner, in all) replaces those settings; ``kinds`` replaces :data:`KINDS` for checking
    the params (an app that runs jobs of its own makes, such as the web app's tests).

    The job is audited (``job.submit``, by ``actor``) in the transaction that queues it, in the
    trail of the store that keeps the jobs (:func:`uec.jobs.table.jobs_store`; on the embedded store
    the companion file's own trail, docs/decisions/0006-audited-jobs.md).
    """
    clean = check_params(kind, params, kinds)
    per_owner, total = limits or _limits()
    js = jobs_store(store)
    now = dt.datetime.now(dt.UTC)
    job_id = new_job_id(now)
    with js.write() as w:
        queries.lock_table(w, js.engine)
        n_all, n_mine = queries.active_counts(w, owner, ACTIVE_STATES)
        if owner is not None and n_mine >= per_owner:
            raise JobLimitError(
                f"{owner} already has {per_owner} jobs queued or running (the limit per person); "
                "wait for one to finish or cancel one",
                scope="owner", limit=per_owner,
            )
        if n_all >= total:
            raise JobLimitError(
                f"{total} jobs are already queued or running (the limit for everyone); try again later",
                scope="total", limit=total,
            )
        queries.insert_job(w, job_id=job_id, kind=kind, params=json.dumps(clean, sort_keys=True), owner=owner,
                           now=now)
        audit.record(w, actor=actor, action="job.submit", object_type="job", object_id=job_id, before=None,
                     after={"kind": kind, "owner": owner, "params": clean}, request_id=request_id)
        job = require_job(w, job_id)
    return job


def get_job(store: Store, job_id: str) -> Job | None:
    """The job with id ``job_id``, or None.

    >>> import tempfile, os
    >>> from uec.store import open_store
    >>> with tempfile.TemporaryDirectory() as d:
    ...     print(get_job(open_store(os.path.join(d, "uec.duckdb")), "nope"))
    None
    """
    return select_job(jobs_store(store), job_id)


def list_jobs(store: Store, *, owner: str | None = None, kind: str | None = None, limit: int = 50,
              state: str | None = None) -> list[Job]:
    """Jobs newest first, optionally only ``owner``'s, of ``kind`` or in ``state`` (at most ``limit``)."""
    if limit < 1:
        raise UecError(f"limit must be at least 1, got {limit}")
    if state is not None and state not in STATES:
        raise UecError(f"unknown job state {state!r}; states: {', '.join(STATES)}")
    filters = {name: value for name, value in (("owner", owner), ("kind", kind), ("state", state))
               if value is not None}
    rows = queries.job_rows(jobs_store(store), filters, limit)
    return [job_from_row(r) for r in rows]


def cancel(store: Store, job_id: str, *, by: str | None = None, actor: audit.Actor = None,
           request_id: str | None = None) -> Job:
    """Cancel a job: a queued one at once; a running one when it next reports progress (its worker
    then records it cancelled). ``UecError`` for an unknown job or one already finished.
    Audited (``job.cancel``, by ``actor``) in the same transaction, like :func:`submit`."""
    js = jobs_store(store)
    who = f" by {by}" if by else ""
    now = dt.datetime.now(dt.UTC)
    with js.write() as w:
        job = require_job(w, job_id)
        if job.state == "queued":
            queries.cancel_queued(w, job_id, now, f"cancelled{who} before it started")
        elif job.state == "running":
            queries.request_cancel(w, job_id, f"cancellation requested{who}; stopping at the next step")
        else:
            raise UecError(f"job {job_id} is already {job.state}; only queued or running jobs can be cancelled")
        after = require_job(w, job_id)
        audit.record(w, actor=actor, action="job.cancel", object_type="job", object_id=job_id,
                     before={"state": job.state}, after={"state": after.state, "cancel_requested": True},
                     request_id=request_id)
        return after
