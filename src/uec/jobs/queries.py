"""Every SQL statement of the jobs capability, the ``jobs`` table's DDL among them (the one home of
the jobs SQL; :mod:`uec.jobs.table` says where the table is kept).

The same SQL on DuckDB and PostgreSQL; the few PostgreSQL-only clauses (row and table locks, which
DuckDB needs no more than its one writer at a time) are added by engine here.

>>> lock_for_update("postgresql"), lock_for_update("duckdb")
(' FOR UPDATE SKIP LOCKED', '')
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from uec.store import Store, StoreWriter

__all__ = [
    "COLUMNS",
    "JOBS_DDL",
    "active_counts",
    "cancel_queued",
    "claim_job",
    "create_jobs_table",
    "finish_job",
    "heartbeat",
    "insert_job",
    "job_row",
    "job_rows",
    "lock_for_update",
    "lock_table",
    "oldest_queued_id",
    "put_back",
    "request_cancel",
    "running_rows",
    "set_recovered",
]

#: The jobs table, valid on DuckDB and PostgreSQL alike.
JOBS_DDL = """CREATE TABLE IF NOT EXISTS jobs (
    job_id VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    params VARCHAR NOT NULL,
    state VARCHAR NOT NULL,
    owner VARCHAR,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    started_at TIMESTAMP WITH TIME ZONE,
    finished_at TIMESTAMP WITH TIME ZONE,
    heartbeat_at TIMESTAMP WITH TIME ZONE,
    progress DOUBLE PRECISION,
    message VARCHAR,
    error VARCHAR,
    result VARCHAR,
    worker VARCHAR,
    attempts BIGINT NOT NULL,
    cancel_requested BOOLEAN NOT NULL,
    UNIQUE (job_id)
)"""

COLUMNS = (
    "job_id, kind, params, state, owner, created_at, started_at, finished_at, heartbeat_at, progress, message, "
    "error, result, worker, attempts, cancel_requested"
)

Reader = Store | StoreWriter


def create_jobs_table(w: StoreWriter, engine: str) -> None:
    """Make the jobs table if it is missing."""
    if engine == "postgresql":
        # One creator at a time: concurrent CREATE TABLE IF NOT EXISTS can collide on PostgreSQL.
        w.execute("SELECT pg_advisory_xact_lock(7201)")
    w.execute(JOBS_DDL)


def lock_for_update(engine: str) -> str:
    """The clause that makes a claim skip rows another worker is claiming (PostgreSQL); on the
    embedded store the writer lock already lets one claim run at a time."""
    return " FOR UPDATE SKIP LOCKED" if engine == "postgresql" else ""


def lock_table(w: StoreWriter, engine: str) -> None:
    """Serialise submissions, so two at once cannot both pass a limit (PostgreSQL; DuckDB writes
    are serialised already)."""
    if engine == "postgresql":
        w.execute("LOCK TABLE jobs IN SHARE ROW EXCLUSIVE MODE")


def job_row(reader: Reader, job_id: str) -> dict[str, Any] | None:
    """One job's row, or ``None``."""
    rows = reader.query(f"SELECT {COLUMNS} FROM jobs WHERE job_id = :id", {"id": job_id})
    return rows[0] if rows else None


def job_rows(reader: Reader, filters: dict[str, str], limit: int) -> list[dict[str, Any]]:
    """Jobs newest first where each of ``filters`` (``owner``, ``kind``, ``state``) holds, at most ``limit``."""
    where: list[str] = []
    params: dict[str, Any] = {}
    for name in ("owner", "kind", "state"):
        if name in filters:
            where.append(f"{name} = :{name}")
            params[name] = filters[name]
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    return reader.query(
        f"SELECT {COLUMNS} FROM jobs {clause} ORDER BY created_at DESC, job_id DESC LIMIT {int(limit)}", params
    )


# --- submitting and cancelling -------------------------------------------------------------------


def active_counts(w: StoreWriter, owner: str | None, active_states: Sequence[str]) -> tuple[int, int]:
    """(all active jobs, ``owner``'s active jobs)."""
    active = ", ".join(f"'{s}'" for s in active_states)
    counts = w.query(
        f"SELECT count(*) AS n, sum(CASE WHEN owner = :owner THEN 1 ELSE 0 END) AS mine "
        f"FROM jobs WHERE state IN ({active})",
        {"owner": owner or ""},
    )[0]
    return int(counts["n"]), int(counts["mine"] or 0)


def insert_job(w: StoreWriter, *, job_id: str, kind: str, params: str, owner: str | None, now: dt.datetime) -> None:
    """Queue a job (``params`` as JSON text)."""
    w.execute(
        "INSERT INTO jobs (job_id, kind, params, state, owner, created_at, message, attempts, cancel_requested) "
        "VALUES (:id, :kind, :params, 'queued', :owner, :now, 'waiting for a worker', 0, false)",
        {"id": job_id, "kind": kind, "params": params, "owner": owner, "now": now},
    )


def cancel_queued(w: StoreWriter, job_id: str, now: dt.datetime, message: str) -> None:
    """Cancel a job that has not started."""
    w.execute(
        "UPDATE jobs SET state = 'cancelled', finished_at = :now, message = :msg, cancel_requested = true "
        "WHERE job_id = :id",
        {"id": job_id, "now": now, "msg": message},
    )


def request_cancel(w: StoreWriter, job_id: str, message: str) -> None:
    """Ask a running job's worker to stop it."""
    w.execute(
        "UPDATE jobs SET cancel_requested = true, message = :msg WHERE job_id = :id",
        {"id": job_id, "msg": message},
    )


# --- the worker ----------------------------------------------------------------------------------


def running_rows(w: StoreWriter, engine: str) -> list[dict[str, Any]]:
    """Every running job's row, locked for this transaction (PostgreSQL)."""
    return w.query(f"SELECT {COLUMNS} FROM jobs WHERE state = 'running'{lock_for_update(engine)}")


def set_recovered(w: StoreWriter, job_id: str, *, state: str, message: str | None, error: str | None,
                  finished_at: dt.datetime | None, started_at: dt.datetime | None) -> None:
    """Requeue, fail or cancel a job whose worker stopped."""
    w.execute(
        "UPDATE jobs SET state = :state, message = :msg, error = :err, worker = NULL, "
        "finished_at = :fin, started_at = :started WHERE job_id = :id",
        {"state": state, "msg": message, "err": error, "id": job_id, "fin": finished_at, "started": started_at},
    )


def oldest_queued_id(w: StoreWriter, engine: str) -> str | None:
    """The oldest queued job's id (locked, skipping rows another worker holds), or ``None``."""
    rows = w.query(
        "SELECT job_id FROM jobs WHERE state = 'queued' ORDER BY created_at, job_id LIMIT 1" + lock_for_update(engine)
    )
    return str(rows[0]["job_id"]) if rows else None


def claim_job(w: StoreWriter, job_id: str, *, now: dt.datetime, me: str) -> None:
    """Mark a job running on worker ``me``, one more attempt."""
    w.execute(
        "UPDATE jobs SET state = 'running', started_at = :now, heartbeat_at = :now, worker = :me, "
        "attempts = attempts + 1, progress = 0, message = 'started', error = NULL WHERE job_id = :id",
        {"now": now, "me": me, "id": job_id},
    )


def heartbeat(w: StoreWriter, job_id: str, *, me: str, now: dt.datetime, progress: float | None,
              message: str | None) -> dict[str, Any] | None:
    """Record a running job's heartbeat and progress (only while ``me`` still runs it); then its
    ``{state, worker, cancel_requested}``, or ``None`` if it is gone."""
    w.execute(
        "UPDATE jobs SET heartbeat_at = :now, progress = coalesce(:p, progress), "
        "message = CASE WHEN cancel_requested THEN message ELSE coalesce(:m, message) END "
        "WHERE job_id = :id AND worker = :me AND state = 'running'",
        {"now": now, "p": progress, "m": message, "id": job_id, "me": me},
    )
    rows = w.query("SELECT state, worker, cancel_requested FROM jobs WHERE job_id = :id", {"id": job_id})
    return rows[0] if rows else None


def finish_job(w: StoreWriter, job_id: str, *, me: str, state: str, now: dt.datetime, message: str | None,
               error: str | None, result: str | None) -> None:
    """Record how a job ended (``result`` as JSON text); a done job's progress becomes 1."""
    w.execute(
        "UPDATE jobs SET state = :state, finished_at = :now, heartbeat_at = :now, "
        "progress = coalesce(:done, progress), "
        "message = :msg, error = :err, result = :result WHERE job_id = :id AND worker = :me",
        {"state": state, "now": now, "done": 1.0 if state == "done" else None, "msg": message, "err": error,
         "result": result, "id": job_id, "me": me},
    )


def put_back(w: StoreWriter, job_id: str, *, me: str, message: str) -> None:
    """Return a running job to the queue, this attempt not counted."""
    w.execute(
        "UPDATE jobs SET state = 'queued', started_at = NULL, worker = NULL, attempts = attempts - 1, "
        "message = :msg WHERE job_id = :id AND worker = :me AND state = 'running'",
        {"msg": message, "id": job_id, "me": me},
    )
