"""The audit trail: an append-only, hash-chained log of every state change, in the store.

Each entry says who (``actor``, their ``organisation``), when (``at``, UTC), what (``action`` on
``object_type``/``object_id``), the object ``before`` and ``after`` (JSON) and the ``request_id``
that caused it. :func:`record` writes the entry with the caller's own ``store.write()`` handle, so
the change and its entry commit together or not at all.

Entries are chained: ``hash`` is the SHA-256 of the canonical JSON of the entry including
``prev_hash``, the previous entry's hash. Editing or deleting an entry breaks the chain from there
on, which :func:`verify` finds. (Deleting the newest entries leaves a shorter valid chain: keep the
head hash that ``uec audit verify`` prints somewhere else to detect that too.)

>>> import tempfile, os
>>> from uec.store import open_store
>>> with tempfile.TemporaryDirectory() as d:
...     store = open_store(os.path.join(d, "uec.duckdb"))
...     with store.write() as w:
...         _ = record(w, actor=None, action="example", object_type="thing", object_id="1",
...                    before=None, after={"colour": "blue"}, request_id=None)
...     verify(store).ok
True
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from uec.access import queries as Q
from uec.access.schema import AUDIT_DDL
from uec.access.user import User
from uec.store import DuckDBStore, Store, StoreWriter

__all__ = [
    "COLUMNS",
    "GENESIS",
    "Actor",
    "AuditEntry",
    "Verification",
    "cli_actor",
    "count",
    "entries",
    "entry_hash",
    "record",
    "to_csv",
    "trails",
    "verify",
    "verify_all",
    "writing",
]

#: ``prev_hash`` of the first entry.
GENESIS = "0" * 64

#: The columns of an exported entry, in order.
COLUMNS = (
    "id", "at", "actor", "organisation", "action", "object_type", "object_id",
    "before", "after", "request_id", "prev_hash", "hash",
)

#: Who made a change, as the capabilities take it: a signed-in :class:`User`, a label such as
#: ``cli:alice`` (:func:`cli_actor`) or ``token:feed``, or ``None`` for the system itself.
Actor = User | str | None


def cli_actor() -> str:
    """The actor of a change made on the command line: ``cli:`` and the operating-system user.

    >>> cli_actor().startswith("cli")
    True
    """
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name (a container with an unnamed uid)
        return "cli"


#: Called after an entry is written and before the transaction commits. Tests set it to pause a
#: change mid-transaction and kill the process there; it is never set in production.
before_commit_hook: Callable[[], None] | None = None


@dataclass(frozen=True)
class AuditEntry:
    """One entry of the audit trail, as stored."""

    id: int
    at: datetime
    actor: str
    organisation: str | None
    action: str
    object_type: str
    object_id: str
    before: str | None
    after: str | None
    request_id: str | None
    prev_hash: str
    hash: str

    def as_dict(self) -> dict[str, Any]:
        """The entry as plain values (``at`` in ISO 8601 UTC; before/after parsed from JSON)."""
        return {
            "id": self.id, "at": _iso(self.at), "actor": self.actor, "organisation": self.organisation,
            "action": self.action, "object_type": self.object_type, "object_id": self.object_id,
            "before": None if self.before is None else json.loads(self.before),
            "after": None if self.after is None else json.loads(self.after),
            "request_id": self.request_id, "prev_hash": self.prev_hash, "hash": self.hash,
        }


def canonical_json(value: Any) -> str | None:
    """The one JSON spelling of a value (sorted keys, no spaces), or ``None`` for ``None``.

    >>> canonical_json({"b": 1, "a": [1, "é"]})
    '{"a":[1,"é"],"b":1}'
    """
    if value is None:
        return None
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def entry_hash(fields: dict[str, Any]) -> str:
    """SHA-256 over the canonical JSON of an entry's fields (everything but ``hash``).

    >>> len(entry_hash({"id": 1}))
    64
    """
    body = {k: (_iso(v) if isinstance(v, datetime) else v) for k, v in fields.items() if k != "hash"}
    return hashlib.sha256((canonical_json(body) or "").encode("utf-8")).hexdigest()


_locks: dict[str, threading.Lock] = {}
_locks_lock = threading.Lock()


@contextmanager
def writing(store: Store) -> Iterator[StoreWriter]:
    """``store.write()`` for a change that records an audit entry: such changes take turns.

    Every entry chains to the one before, so two transactions appending at once would both claim
    the next id and one would fail at commit. On PostgreSQL :func:`record` locks the log; on the
    embedded store two threads of one process (the web app's) would collide, so they queue here
    (other processes already wait for DuckDB's file lock).

    >>> import tempfile, os
    >>> from uec.store import open_store
    >>> with tempfile.TemporaryDirectory() as d:
    ...     store = open_store(os.path.join(d, "uec.duckdb"))
    ...     with writing(store) as w:
    ...         record(w, actor=None, action="example", object_type="thing", object_id="1",
    ...                before=None, after=None, request_id=None).id
    1
    """
    with _locks_lock:
        lock = _locks.setdefault(store.url, threading.Lock())
    with lock, store.write() as w:
        yield w


def record(  # noqa: PLR0913 - keyword-only fields of one record, each named at the call
    writer: StoreWriter,
    *,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str,
    before: Any,
    after: Any,
    request_id: str | None,
    actor_label: str | None = None,
) -> AuditEntry:
    """Append one entry inside the caller's write transaction and return it.

    ``actor`` is a :class:`User`, a label (``cli:alice``, see :data:`Actor`) or ``None``: the system
    itself, or whoever ``actor_label`` names. Call it in the same ``store.write()`` block as the change it records (best
    :func:`writing`, which also lets concurrent changes of one process take turns).
    Secrets never belong in ``before``/``after``: pass what a reader of the trail may see.
    """
    postgres = type(writer).__module__ == "uec.store.postgres"
    if postgres:
        # Writers serialise on the log so two transactions cannot chain to the same previous
        # entry (nor make the log at once); the locks last until this transaction commits. DuckDB
        # allows one writer per file anyway, and two racing in one process fail on UNIQUE (id) instead.
        Q.take_audit_turn(writer)
    # Callers in other packages need not have created the access tables: make sure of the log here,
    # inside the same transaction (both engines allow DDL in a transaction).
    writer.execute(AUDIT_DDL)
    if postgres:
        Q.lock_audit_log(writer)
    last = Q.last_audit_entry(writer)
    prev_id, prev_hash = (int(last["id"]), str(last["hash"])) if last else (0, GENESIS)
    # Microseconds: what both engines' timestamps keep, so the hash recomputes from the stored value.
    at = datetime.now(UTC)
    fields: dict[str, Any] = {
        "id": prev_id + 1,
        "at": at,
        "actor": actor.username if isinstance(actor, User) else (actor or actor_label or "system"),
        "organisation": actor.org_code if isinstance(actor, User) else None,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "before": canonical_json(before),
        "after": canonical_json(after),
        "request_id": request_id,
        "prev_hash": prev_hash,
    }
    fields["hash"] = entry_hash(fields)
    Q.insert_audit_entry(writer, fields)
    if before_commit_hook is not None:
        before_commit_hook()
    return AuditEntry(**fields)


def _entry(row: dict[str, Any]) -> AuditEntry:
    return AuditEntry(
        id=int(row["id"]), at=row["occurred_at"], actor=row["actor"], organisation=row["organisation"],
        action=row["action"], object_type=row["object_type"], object_id=row["object_id"],
        before=row["before_json"], after=row["after_json"], request_id=row["request_id"],
        prev_hash=row["prev_hash"], hash=row["hash"],
    )


_logs: set[str] = set()


def _ensure_log(store: Store) -> None:
    # Only the log: a companion file's trail (see trails()) holds no users or tokens.
    if store.url not in _logs:
        with store.write() as w:
            w.execute(AUDIT_DDL)
        _logs.add(store.url)


def trails(store: Store) -> list[tuple[str, Store]]:
    """Every audit trail of ``store``: its own (``"store"``) and, on the embedded store, each
    companion file's (``<store>.<name>.duckdb`` holding an ``audit_log``: ``"jobs"``, where
    :mod:`uec.jobs` queues jobs and audits their submission and cancellation in the same
    transaction; docs/decisions/0006-audited-jobs.md). On PostgreSQL there is one trail.

    >>> import tempfile, os
    >>> from uec.store import open_store
    >>> with tempfile.TemporaryDirectory() as d:
    ...     store = open_store(os.path.join(d, "uec.duckdb"))
    ...     companion = DuckDBStore(os.path.join(d, "uec.duckdb.jobs.duckdb"))
    ...     with companion.write() as w:
    ...         _ = record(w, actor="cli:alice", action="job.submit", object_type="job", object_id="j1",
    ...                    before=None, after=None, request_id=None)
    ...     [(name, verify(s).checked) for name, s in trails(store)]
    [('store', 0), ('jobs', 1)]
    """
    found: list[tuple[str, Store]] = [("store", store)]
    if isinstance(store, DuckDBStore):
        import glob

        base = store.path.name
        for path in sorted(store.path.parent.glob(glob.escape(base) + ".*.duckdb")):
            name = path.name[len(base) + 1:-len(".duckdb")]
            if not name or "." in name:
                continue
            companion = DuckDBStore(str(path))
            if Q.audit_log_exists(companion):
                found.append((name, companion))
    return found


def count(store: Store, *, actor: str | None = None, object_type: str | None = None) -> int:
    """How many entries (match the filters)."""
    _ensure_log(store)
    return Q.audit_count(store, actor, object_type)


def to_csv(rows: list[AuditEntry]) -> str:
    """Entries as CSV with a header row (:data:`COLUMNS`; before/after as JSON text, at in ISO UTC).

    Like every CSV the service writes, a text cell a spreadsheet would run as a formula is
    neutralised (:mod:`uec.csvsafe`): the CSV is a view for people; the chain covers the stored
    values, which :func:`verify` and the JSON export keep exactly.

    >>> to_csv([]).strip()
    'id,at,actor,organisation,action,object_type,object_id,before,after,request_id,prev_hash,hash'
    """
    import csv
    import io

    from uec.csvsafe import neutralise

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    for e in rows:
        text = [_iso(e.at), e.actor, e.organisation or "", e.action, e.object_type, e.object_id,
                e.before or "", e.after or "", e.request_id or "", e.prev_hash, e.hash]
        w.writerow([e.id, *(neutralise(v) for v in text)])
    return buf.getvalue()


def entries(
    store: Store,
    *,
    limit: int | None = None,
    offset: int = 0,
    actor: str | None = None,
    object_type: str | None = None,
    newest_first: bool = True,
) -> list[AuditEntry]:
    """Entries of the trail, newest first unless asked otherwise, optionally filtered."""
    _ensure_log(store)
    rows = Q.audit_rows(store, actor=actor, object_type=object_type, newest_first=newest_first, limit=limit,
                        offset=offset)
    return [_entry(r) for r in rows]


@dataclass(frozen=True)
class Verification:
    """What :func:`verify` found: ``ok``, the entries checked, the head hash and every problem."""

    ok: bool
    checked: int
    head: str
    problems: tuple[str, ...]


def verify(store: Store) -> Verification:
    """Recompute the chain: every entry's hash, its link to the one before, no gaps in the ids.

    A problem names the entry id and what is wrong with it, never the entry's content.
    """
    problems: list[str] = []
    prev = GENESIS
    expected_id = 1
    checked = 0
    for e in entries(store, newest_first=False):
        checked += 1
        if e.id != expected_id:
            problems.append(f"entry {expected_id}" + (f" to {e.id - 1}" if e.id - 1 > expected_id else "")
                            + " missing (deleted?)" if e.id > expected_id else f"entry {e.id} out of sequence")
        if e.prev_hash != prev:
            problems.append(f"entry {e.id}: does not follow the entry before it (prev_hash differs)")
        fields = {
            "id": e.id, "at": e.at, "actor": e.actor, "organisation": e.organisation, "action": e.action,
            "object_type": e.object_type, "object_id": e.object_id, "before": e.before, "after": e.after,
            "request_id": e.request_id, "prev_hash": e.prev_hash,
        }
        if entry_hash(fields) != e.hash:
            problems.append(f"entry {e.id}: content does not match its hash (edited?)")
        prev = e.hash
        expected_id = e.id + 1
    return Verification(not problems, checked, prev, tuple(problems))


def verify_all(store: Store) -> dict[str, Verification]:
    """:func:`verify` every trail of ``store`` (:func:`trails`), by trail name.

    >>> import tempfile, os
    >>> from uec.store import open_store
    >>> with tempfile.TemporaryDirectory() as d:
    ...     {name: v.ok for name, v in verify_all(open_store(os.path.join(d, "uec.duckdb"))).items()}
    {'store': True}
    """
    return {name: verify(s) for name, s in trails(store)}
