"""The worker: claims the oldest queued job, runs it, records how it went; ``uec worker`` runs it.

Claiming is atomic: on PostgreSQL ``SELECT … FOR UPDATE SKIP LOCKED`` lets several workers take
different jobs at once; on the embedded store the writer lock lets one claim happen at a time.
A running job's worker writes a heartbeat every few seconds. When a worker starts, and between
jobs, it looks for jobs left 'running' by a worker that is gone (its process is not alive on this
host, or its heartbeat is older than ``UEC_JOB_STALE_SECONDS``) and puts them back in the queue
with the reason, or fails them with the reason once they have been tried ``UEC_JOB_MAX_ATTEMPTS``
times (a job that kills its worker must not kill every worker after it).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from uec.errors import UecError
from uec.jobs import JobCancelled, get_job, queries
from uec.jobs.kinds import KINDS, Kind, save_patiently
from uec.jobs.table import Job, job_from_row, jobs_store
from uec.store import Store, StoreBusy, open_store

__all__ = ["claim", "recover", "run_one", "run_worker", "worker_id"]

log = logging.getLogger("uec.jobs")


def worker_id() -> str:
    """This process as a worker: ``host:pid``.

    >>> worker_id().endswith(f":{os.getpid()}")
    True
    """
    return f"{socket.gethostname()}:{os.getpid()}"


def _settings() -> Any:
    from uec.config import get_settings

    return get_settings()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _alive_here(worker: str | None) -> bool | None:
    """Whether ``worker`` (``host:pid``) is a live process; None when it is on another host."""
    if not worker or ":" not in worker:
        return None
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return None
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover(store: Store, *, me: str | None = None) -> list[Job]:
    """Requeue or fail jobs left 'running' by a worker that has stopped; the jobs changed."""
    s = _settings()
    js = jobs_store(store)
    me = me or worker_id()
    now = _now()
    stale_before = now - dt.timedelta(seconds=s.job_stale_seconds)
    changed: list[str] = []
    with js.write() as w:
        for r in queries.running_rows(w, js.engine):
            job = job_from_row(r)
            if job.worker == me:
                continue
            alive = _alive_here(job.worker)
            beat = job.heartbeat_at or job.started_at or job.created_at
            if alive is True or (alive is None and beat >= stale_before):
                continue
            why = "its process ended" if alive is False else f"no heartbeat since {beat:%Y-%m-%d %H:%M:%S} UTC"
            if job.cancel_requested:
                state, msg, err = "cancelled", f"cancelled; the worker {job.worker} stopped ({why})", None
            elif job.attempts < s.job_max_attempts:
                state, msg, err = "queued", (
                    f"requeued: the worker {job.worker} stopped while running it ({why}); "
                    f"attempt {job.attempts} of {s.job_max_attempts} was lost"), None
            else:
                state, msg, err = "failed", None, (
                    f"the worker running it stopped ({job.worker}: {why}) on each of {job.attempts} attempts; "
                    "not tried again")
            queries.set_recovered(w, job.id, state=state, message=msg, error=err,
                                  finished_at=None if state == "queued" else now,
                                  started_at=None if state == "queued" else job.started_at)
            changed.append(job.id)
    return [j for j in (get_job(store, i) for i in changed) if j is not None]


def claim(store: Store, *, me: str | None = None) -> Job | None:
    """Take the oldest queued job for this worker (now 'running'), or None when the queue is empty."""
    js = jobs_store(store)
    me = me or worker_id()
    now = _now()
    with js.write() as w:
        job_id = queries.oldest_queued_id(w, js.engine)
        if job_id is None:
            return None
        queries.claim_job(w, job_id, now=now, me=me)
        row = queries.job_row(w, job_id)
    assert row is not None
    return job_from_row(row)


class _Running:
    """A claimed job as it runs: progress and heartbeats written to the store, cancellation noticed."""

    def __init__(self, store: Store, job: Job, me: str) -> None:
        self.store = store
        self.js = jobs_store(store)
        self.job_id = job.id
        self.me = me
        self.cancelled = threading.Event()
        self.lost = threading.Event()  # another worker took the job over (we were thought dead)
        self._lock = threading.Lock()
        self._progress: tuple[float | None, str | None] = (None, None)
        self._written = 0.0

    def _touch(self) -> None:
        with self._lock:
            fraction, message = self._progress
            self._written = time.monotonic()
        try:
            with self.js.write() as w:
                row = queries.heartbeat(w, self.job_id, me=self.me, now=_now(), progress=fraction, message=message)
        except StoreBusy:
            return  # the next heartbeat tries again
        if not row or row["worker"] != self.me or row["state"] != "running":
            self.lost.set()
        elif row["cancel_requested"]:
            self.cancelled.set()

    def progress(self, fraction: float, message: str) -> None:
        with self._lock:
            self._progress = (max(0.0, min(1.0, fraction)), message)
            due = time.monotonic() - self._written >= 1.0
        if due:
            self._touch()
        if self.cancelled.is_set() or self.lost.is_set():
            raise JobCancelled()

    def heartbeat(self, stop: threading.Event, every: float) -> None:
        while not stop.wait(every):
            self._touch()

    def finish(self, state: str, *, message: str | None = None, error: str | None = None,
               result: dict[str, Any] | None = None) -> None:
        def save() -> None:
            with self.js.write() as w:
                queries.finish_job(w, self.job_id, me=self.me, state=state, now=_now(), message=message, error=error,
                                   result=None if result is None else json.dumps(result, default=str))

        save_patiently(save)

    def put_back(self, why: str) -> None:
        """Return the job to the queue, this attempt not counted (the worker is being stopped)."""
        with self.js.write() as w:
            queries.put_back(w, self.job_id, me=self.me, message=f"requeued: {why}")


def _test_pause(run: _Running) -> None:
    # Test seam (like ingest's UEC_TEST_PAUSE_BEFORE_COMMIT): hold the job open, reporting progress,
    # so a test can kill or cancel the worker mid-job.
    pause = float(os.environ.get("UEC_TEST_PAUSE_IN_JOB", "0") or 0)
    if pause > 0:
        log.warning("pausing in job %s (UEC_TEST_PAUSE_IN_JOB)", run.job_id)
        print(f"uec worker: pausing in job {run.job_id} (UEC_TEST_PAUSE_IN_JOB)", flush=True)
        end = time.monotonic() + pause
        while time.monotonic() < end:
            run.progress(0.0, "paused for a test")
            time.sleep(0.1)


def run_one(store: Store, *, me: str | None = None, report: Callable[[str], None] | None = None,
            kinds: Mapping[str, Kind] | None = None) -> Job | None:
    """Claim and run one job; the job as recorded afterwards, or None when none was queued.

    ``kinds`` replaces :data:`~uec.jobs.kinds.KINDS` (how each kind runs) for this call.
    """
    me = me or worker_id()
    job = claim(store, me=me)
    if job is None:
        return None
    say = report or (lambda text: None)
    say(f"job {job.id} ({job.kind}) started")
    run = _Running(store, job, me)
    stop = threading.Event()
    beat = threading.Thread(target=run.heartbeat, args=(stop, max(0.5, _settings().job_stale_seconds / 6)),
                            name=f"uec-job-{job.id}-heartbeat", daemon=True)
    beat.start()
    try:
        _test_pause(run)
        kind = (KINDS if kinds is None else kinds).get(job.kind)
        if kind is None:
            raise UecError(f"this worker cannot run jobs of kind {job.kind!r}")
        result = kind.run(store, job.params, run)
        run.finish("done", message="finished", result=result)
    except JobCancelled:
        if not run.lost.is_set():
            run.finish("cancelled", message="cancelled while running")
    except UecError as exc:
        run.finish("failed", message="failed", error=str(exc))
    except Exception as exc:
        log.exception("job %s failed", job.id)
        run.finish("failed", message="failed",
                   error=f"the job failed unexpectedly ({type(exc).__name__}: {str(exc)[:300]}); see the worker's log")
    except BaseException:
        # Ctrl+C or SIGTERM (the server stopping its worker): the job goes back to the queue at once
        # instead of waiting for the next worker to find it abandoned.
        run.put_back(f"the worker {me} was stopped while running it")
        raise
    finally:
        stop.set()
        beat.join()
    after = get_job(store, job.id)
    if after is not None:
        say(f"job {job.id} ({job.kind}) {after.state}" + (f": {after.error}" if after.error else ""))
    return after


def run_worker(store_url: str | None = None, *, once: bool = False, poll: float | None = None,
               stop: threading.Event | None = None, parent_pid: int | None = None,
               report: Callable[[str], None] | None = None) -> int:
    """Run jobs until stopped (or, with ``once``, at most one); the number of jobs run.

    With ``parent_pid`` the worker stops when that process has gone (``uec serve``'s child worker
    must not outlive the server).
    """
    store = open_store(store_url)
    me = worker_id()
    say = report or (lambda text: None)
    every = poll if poll is not None else _settings().job_poll_seconds
    stop = stop or threading.Event()
    for j in recover(store, me=me):
        say(f"job {j.id} was left running by a stopped worker: now {j.state}")
    ran = 0
    while not stop.is_set():
        if parent_pid is not None and os.getppid() != parent_pid:
            say("the server that started this worker has stopped; stopping")
            break
        try:
            job = run_one(store, me=me, report=say)
        except StoreBusy:
            job = None
        if job is not None:
            ran += 1
        if once:
            break
        if job is None:
            stop.wait(every)
            try:
                for j in recover(store, me=me):
                    say(f"job {j.id} was left running by a stopped worker: now {j.state}")
            except StoreBusy:
                pass
    return ran
