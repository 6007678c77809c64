"""The embedded engine: one DuckDB file, read through published snapshots.

DuckDB lets one process open a file read-write, and then no other process may open it at all, not
even read-only. So that reads never wait for a load or a scenario run to finish writing, the store
keeps two kinds of file (docs/decisions/0002-serving-model.md):

- the **live file** (the store's path), which only writers open, one at a time: a writer takes an
  exclusive lock on ``<store>.snapshots/writer.lock`` (so writers queue instead of failing), opens
  the file read-write, commits, checkpoints and closes it;
- **snapshots**, immutable copies of the live file in ``<store>.snapshots/``, which only readers
  open (read-only, by any number of processes at once). After every committed write the writer
  copies the live file to a new snapshot and replaces the pointer ``<store>.snapshots/CURRENT``
  atomically; readers open whatever ``CURRENT`` names. Older snapshots are unlinked at once: a reader
  that still has one open keeps reading it (POSIX keeps an unlinked file until its last reader
  closes it), and the next request opens the new one.

A reader therefore sees the store as of the last committed write, never half a write, and a write
is visible to every reader in every process as soon as ``write()`` returns.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa

from uec.errors import UecError
from uec.store.base import PARAM, Engine, Params, Store, StoreBusy, StoreWriter

__all__ = ["SNAPSHOTS_SUFFIX", "DuckDBStore"]

_LOCK_WAIT_SECONDS = float(os.environ.get("UEC_LOCK_WAIT_SECONDS", "60"))

#: The folder beside the live file that holds its snapshots, pointer and writer lock.
SNAPSHOTS_SUFFIX = ".snapshots"
_POINTER = "CURRENT"
_WRITER_LOCK = "writer.lock"
#: Snapshots kept besides the current one, so a reader that has just read the pointer finds its file.
_KEEP_PREVIOUS = 1
#: Idle snapshot databases a process keeps open (each is a DuckDB instance with its own threads).
_IDLE_OPEN = 4


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc)
    return "lock" in text.lower() and ("Could not set lock" in text or "Conflicting lock" in text)


class _Snapshots:
    """Read-only snapshot databases this process has open, shared by every thread.

    Opening a DuckDB file reads its catalogue, which costs more than many page queries; so a
    snapshot is opened once and each reader gets a cursor (a connection of its own) on it. A
    snapshot that is no longer current is closed when its last reader finishes.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[str, list[Any]] = {}  # path -> [connection, readers, last used]
        self._newest: dict[str, str] = {}  # snapshot folder -> newest path opened

    def cursor(self, path: Path) -> _SnapshotReader:
        import duckdb

        key = str(path)
        with self._lock:
            entry = self._open.get(key)
            if entry is None:
                con = duckdb.connect(key, read_only=True)
                entry = self._open[key] = [con, 0, 0.0]
                self._newest[str(path.parent)] = key
            entry[1] += 1
            cur = entry[0].cursor()
        try:
            cur.execute("SET TimeZone = 'UTC'")
        except BaseException:
            cur.close()
            self.release(key)
            raise
        return _SnapshotReader(cur, key, self)

    def release(self, key: str) -> None:
        with self._lock:
            entry = self._open.get(key)
            if entry is None:
                return
            entry[1] -= 1
            entry[2] = time.monotonic()
            idle = [(k, e) for k, e in self._open.items() if e[1] == 0]
            for k, e in idle:
                current = self._newest.get(str(Path(k).parent)) == k
                if not current:
                    self._close(k, e)
            idle = sorted(((k, e) for k, e in self._open.items() if e[1] == 0), key=lambda ke: ke[1][2])
            for k, e in idle[: max(0, len(idle) - _IDLE_OPEN)]:
                self._close(k, e)

    def forget(self) -> None:
        """Drop, without closing, every database this process inherited when it was forked.

        A forked child (a process pool's worker) inherits the parent's open DuckDB handles, whose
        native state belongs to the parent: closing one in the child crashes it. The child opens its
        own instead; the inherited ones are left to the parent.
        """
        # Dropping the last reference would run the handles' destructors, which close them: keep them.
        _INHERITED.append(self._open)
        self._lock = threading.Lock()
        self._open = {}
        self._newest = {}

    def _close(self, key: str, entry: list[Any]) -> None:
        del self._open[key]
        if self._newest.get(str(Path(key).parent)) == key:
            del self._newest[str(Path(key).parent)]
        entry[0].close()


# Handles a forked child inherited and must never close (see _Snapshots.forget).
_INHERITED: list[Any] = []
_SNAPSHOTS = _Snapshots()
os.register_at_fork(after_in_child=_SNAPSHOTS.forget)
# Live files whose writer lock this thread holds: a write inside a write would wait for itself.
_HELD = threading.local()


class _SnapshotReader:
    """A cursor on a snapshot; closing it lets the snapshot be closed once it is no longer current."""

    def __init__(self, cursor: Any, key: str, pool: _Snapshots) -> None:
        self._cursor = cursor
        self._key = key
        self._pool = pool
        self._closed = False

    def execute(self, sql: str, params: Any = None) -> Any:
        return self._cursor.execute(sql, params)

    def sql(self, sql: str, params: Any = None) -> Any:
        return self._cursor.sql(sql, params=params)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._cursor.close()
            self._pool.release(self._key)


class DuckDBStore(Store):
    """The embedded store: one DuckDB file, written by one writer at a time, read through snapshots.

    >>> import tempfile, os
    >>> with tempfile.TemporaryDirectory() as d:
    ...     store = DuckDBStore(os.path.join(d, "uec.duckdb"))
    ...     with store.write() as w:
    ...         w.execute("CREATE TABLE notes (n INTEGER)")
    ...         w.execute("INSERT INTO notes VALUES (1)")
    ...     store.query("SELECT n FROM notes")
    [{'n': 1}]
    """

    engine: Engine = "duckdb"

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self.url = str(self.path)
        if self.path.is_dir():
            raise UecError(f"store path {path!r} is a folder; give a file name such as {path}/uec.duckdb")
        self.snapshots = self.path.with_name(self.path.name + SNAPSHOTS_SUFFIX)
        try:
            self.snapshots.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UecError(f"cannot create the folder for store {path!r}: {exc.strerror}") from None
        if not self.path.exists():
            self.ensure_schema()

    # --- the live file -------------------------------------------------------------------------

    def _connect(self, read_only: bool, wait: float = _LOCK_WAIT_SECONDS) -> Any:
        import duckdb

        deadline = time.monotonic() + wait
        while True:
            try:
                con = duckdb.connect(str(self.path), read_only=read_only)
                con.execute("SET TimeZone = 'UTC'")
                return con
            except duckdb.IOException as exc:
                if _is_lock_error(exc) and time.monotonic() < deadline:
                    time.sleep(0.05)
                    continue
                if _is_lock_error(exc):
                    raise StoreBusy(f"store {self.url} is busy (another process holds it); try again") from None
                raise UecError(f"cannot open store {self.url}: {str(exc).splitlines()[0]}") from None
            except duckdb.Error as exc:
                raise UecError(f"cannot open store {self.url}: {str(exc).splitlines()[0]}") from None

    @contextmanager
    def _writer_lock(self, wait: float = _LOCK_WAIT_SECONDS) -> Iterator[None]:
        # flock, not lockf: flock conflicts between two threads of one process too, so writers in
        # the web server's threads queue like writers in other processes. The kernel drops the lock
        # when its holder dies, so a killed load never leaves the store locked.
        held: set[str] = _HELD.__dict__.setdefault("paths", set())
        if self.url in held:
            raise UecError(f"a write to store {self.url} was started inside another write to it")
        try:
            fd = os.open(self.snapshots / _WRITER_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise UecError(f"cannot open store {self.url}: {exc.strerror}") from None
        try:
            deadline = time.monotonic() + wait
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise StoreBusy(
                            f"store {self.url} is busy (another load or run is writing it); try again"
                        ) from None
                    time.sleep(0.05)
            held.add(self.url)
            try:
                yield
            finally:
                held.discard(self.url)
        finally:
            os.close(fd)

    @contextmanager
    def write(self) -> Iterator[StoreWriter]:
        with self._writer_lock():
            con = self._connect(read_only=False)
            committed = False
            try:
                con.execute("BEGIN TRANSACTION")
                try:
                    yield _DuckDBWriter(con)
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
                con.execute("COMMIT")
                committed = True
                # The whole store in the file (no write-ahead log beside it), so a copy is complete.
                con.execute("CHECKPOINT")
            finally:
                con.close()
            if committed:
                self._publish()

    # --- snapshots -----------------------------------------------------------------------------

    def _pointer(self) -> dict[str, Any] | None:
        try:
            loaded: dict[str, Any] = json.loads((self.snapshots / _POINTER).read_text(encoding="utf-8"))
            return loaded
        except (OSError, ValueError):
            return None

    def change_stamp(self) -> tuple[Any, ...] | None:
        # Every committed write replaces the pointer (a new file: a new inode), so its status changes.
        try:
            st = (self.snapshots / _POINTER).stat()
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def _live_stamp(self) -> list[int]:
        st = self.path.stat()
        return [st.st_mtime_ns, st.st_size]

    def _publish(self) -> None:
        """Copy the live file to a new snapshot and point readers at it (the writer lock is held)."""
        previous = self._pointer()
        generation = int(previous["generation"]) + 1 if previous else 1
        name = f"gen-{generation:012d}-{uuid.uuid4().hex[:8]}.duckdb"
        stamp = self._live_stamp()
        tmp = self.snapshots / f".{name}.tmp"
        try:
            # copyfile uses the kernel's in-place copy (sendfile/copy_file_range) on Linux.
            shutil.copyfile(self.path, tmp)
            os.replace(tmp, self.snapshots / name)
            pointer_tmp = self.snapshots / f".{_POINTER}.tmp"
            pointer_tmp.write_text(
                json.dumps({"generation": generation, "file": name, "live": stamp}), encoding="utf-8"
            )
            os.replace(pointer_tmp, self.snapshots / _POINTER)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise UecError(f"cannot publish a read snapshot of store {self.url}: {exc.strerror}") from None
        self._prune(name)

    def _prune(self, current: str) -> None:
        kept = sorted(p.name for p in self.snapshots.glob("gen-*.duckdb"))
        keep = set(kept[-(_KEEP_PREVIOUS + 1):]) | {current}
        for p in self.snapshots.iterdir():
            # Stray temporary copies are from a writer that died mid-copy (we hold the lock now).
            if (p.name.startswith("gen-") and p.name not in keep) or p.name.endswith(".tmp"):
                p.unlink(missing_ok=True)

    def _republish(self, wait: float) -> bool:
        """Publish the live file as it is now (it changed outside :meth:`write`, or has no snapshot).

        False when a writer holds the store: it publishes when it commits.
        """
        try:
            with self._writer_lock(wait=wait):
                con = self._connect(read_only=False, wait=wait)
                try:
                    con.execute("CHECKPOINT")
                finally:
                    con.close()
                self._publish()
            return True
        except StoreBusy:
            return False

    def publish(self) -> None:
        """Publish a snapshot of the live file now (after changing it with DuckDB directly, say).

        Every :meth:`write` publishes when it commits; readers also notice a live file that changed
        outside one and publish it when no writer is busy.
        """
        if not self._republish(_LOCK_WAIT_SECONDS):
            raise StoreBusy(f"store {self.url} is busy (another load or run is writing it); try again")

    def _open_reader(self) -> Any:
        import duckdb

        for _ in range(10):
            pointer = self._pointer()
            if pointer is None:
                # A store made before snapshots existed, or a live file copied on its own.
                if not self._republish(_LOCK_WAIT_SECONDS):
                    raise StoreBusy(f"store {self.url} is busy (another process holds it); try again")
                continue
            try:
                stale = pointer.get("live") != self._live_stamp()
            except OSError:
                stale = False
            if stale:
                # Someone changed the live file without publishing (an older uec, a DuckDB shell).
                # Publish it if nobody is writing; never wait for a writer: it publishes when done.
                self._republish(wait=0)
                pointer = self._pointer() or pointer
            try:
                return _SNAPSHOTS.cursor(self.snapshots / str(pointer["file"]))
            except duckdb.IOException:
                # The snapshot was replaced and unlinked between reading the pointer and opening it.
                continue
            except duckdb.Error as exc:
                raise UecError(f"cannot open store {self.url}: {str(exc).splitlines()[0]}") from None
        raise StoreBusy(f"store {self.url} is changing too fast to read a snapshot; try again")

    @staticmethod
    def _sql(sql: str) -> str:
        return PARAM.sub(r"$\1", sql)

    def query(self, sql: str, params: Params = None) -> list[dict[str, Any]]:
        with self._reader() as con:
            cur = con.execute(self._sql(sql), dict(params) if params else None)
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def query_arrow(self, sql: str, params: Params = None) -> pa.Table:
        with self._reader() as con:
            result: pa.Table = con.sql(self._sql(sql), params=dict(params) if params else None).to_arrow_table()
            return result


class _DuckDBWriter(StoreWriter):
    def __init__(self, con: Any) -> None:
        self.con = con

    def execute(self, sql: str, params: Params = None) -> None:
        self.con.execute(DuckDBStore._sql(sql), dict(params) if params else None)

    def query(self, sql: str, params: Params = None) -> list[dict[str, Any]]:
        cur = self.con.execute(DuckDBStore._sql(sql), dict(params) if params else None)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def append(self, table_name: str, data: pa.Table) -> None:
        self.con.register("_uec_append", data)
        try:
            cols = ", ".join(data.column_names)
            self.con.execute(f"INSERT INTO {table_name} ({cols}) SELECT {cols} FROM _uec_append")
        finally:
            self.con.unregister("_uec_append")

    def stage(self, name: str, data: pa.Table) -> None:
        # A registered Arrow table is a zero-copy view for the life of the connection: no need to
        # copy a million rows into a temporary table only to copy them again.
        self.con.register(name, data)
