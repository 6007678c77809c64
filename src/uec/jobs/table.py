"""Where jobs are kept, and a job as a record (its SQL is in :mod:`uec.jobs.queries`).

On PostgreSQL the ``jobs`` table is in the store itself. On the embedded store it is in a small
companion DuckDB file beside the store (``<store>.jobs.duckdb``), read and written through the same
:class:`~uec.store.Store` interface and the same SQL: the store's big file is published as a read
snapshot after every write (:mod:`uec.store.duckdb`), and copying a hundred megabytes for every
progress tick, or making a web request that queues a run wait behind a minute-long load, would
defeat the point. The job's *result* (a saved scenario run, a forecast) goes to the store itself.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from uec.errors import UecError
from uec.jobs import queries
from uec.jobs.queries import COLUMNS, JOBS_DDL
from uec.store import DuckDBStore, Store, StoreWriter

__all__ = ["ACTIVE_STATES", "COLUMNS", "JOBS_DDL", "STATES", "Job", "JobState", "jobs_store"]

JobState = Literal["queued", "running", "done", "failed", "cancelled"]
#: Every state a job can be in.
STATES: tuple[JobState, ...] = ("queued", "running", "done", "failed", "cancelled")
#: States that count against the limits.
ACTIVE_STATES: tuple[JobState, ...] = ("queued", "running")

@dataclass(frozen=True)
class Job:
    """One job as it is stored: what to do (``kind``, ``params``), who asked, and how it went.

    ``progress`` is 0..1 (None before the job reports any); ``error`` says why a failed job failed;
    ``result`` is what a done job produced (for a scenario run, ``{"run_id": ...}``).
    """

    id: str
    kind: str
    params: Mapping[str, Any]
    state: JobState
    owner: str | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    progress: float | None
    message: str | None
    error: str | None
    result: dict[str, Any] | None
    attempts: int = 0
    cancel_requested: bool = False
    worker: str | None = None
    heartbeat_at: dt.datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        """The job as JSON-ready values (instants in ISO 8601 UTC).

        >>> t = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
        >>> Job("j", "scenario_run", {}, "queued", None, t, None, None, None, None, None, None).as_dict()["created_at"]
        '2026-12-01T00:00:00+00:00'
        """
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            v = getattr(self, name)
            out[name] = v.isoformat() if isinstance(v, dt.datetime) else dict(v) if isinstance(v, Mapping) else v
        return out


def _utc(v: Any) -> dt.datetime | None:
    if v is None:
        return None
    if not isinstance(v, dt.datetime):
        raise TypeError(f"expected a datetime, got {v!r}")
    return v.replace(tzinfo=dt.UTC) if v.tzinfo is None else v.astimezone(dt.UTC)


def job_from_row(r: Mapping[str, Any]) -> Job:
    """A :class:`Job` from a row of the jobs table."""
    created = _utc(r["created_at"])
    assert created is not None
    return Job(
        id=str(r["job_id"]), kind=str(r["kind"]), params=json.loads(r["params"]), state=r["state"],
        owner=r["owner"], created_at=created, started_at=_utc(r["started_at"]), finished_at=_utc(r["finished_at"]),
        progress=None if r["progress"] is None else float(r["progress"]), message=r["message"], error=r["error"],
        result=None if r["result"] is None else json.loads(r["result"]), attempts=int(r["attempts"]),
        cancel_requested=bool(r["cancel_requested"]), worker=r["worker"], heartbeat_at=_utc(r["heartbeat_at"]),
    )


class _JobsFile(DuckDBStore):
    """The embedded store's companion file that holds only the jobs table."""

    def ensure_schema(self) -> None:
        with self.write() as w:
            queries.create_jobs_table(w, self.engine)


_OPENED: dict[str, Store] = {}
_READY: set[str] = set()
_LOCK = threading.Lock()


def jobs_path(store: DuckDBStore) -> Path:
    """The companion file of an embedded store.

    >>> import tempfile, os
    >>> from uec.store import open_store
    >>> with tempfile.TemporaryDirectory() as d:
    ...     jobs_path(open_store(os.path.join(d, "uec.duckdb"))).name
    'uec.duckdb.jobs.duckdb'
    """
    return store.path.with_name(store.path.name + ".jobs.duckdb")


def jobs_store(store: Store) -> Store:
    """The store that keeps ``store``'s jobs, its jobs table made if missing.

    >>> import tempfile, os
    >>> from uec.store import open_store
    >>> with tempfile.TemporaryDirectory() as d:
    ...     jobs_store(open_store(os.path.join(d, "uec.duckdb"))).query("SELECT count(*) AS n FROM jobs")
    [{'n': 0}]
    """
    if isinstance(store, DuckDBStore):
        key = str(jobs_path(store).resolve())
        with _LOCK:
            js = _OPENED.get(key)
            if js is None or not Path(key).exists():
                js = _OPENED[key] = _JobsFile(key)
        return js
    with _LOCK:
        ready = store.url in _READY
    if not ready:
        with store.write() as w:
            queries.create_jobs_table(w, store.engine)
        with _LOCK:
            _READY.add(store.url)
    return store


def select_job(reader: Store | StoreWriter, job_id: str) -> Job | None:
    row = queries.job_row(reader, job_id)
    return job_from_row(row) if row else None


def require_job(reader: Store | StoreWriter, job_id: str) -> Job:
    job = select_job(reader, job_id)
    if job is None:
        raise UecError(f"there is no job with id {job_id!r}")
    return job
