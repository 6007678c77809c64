"""The embedded engine: one DuckDB file."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa

from uec.errors import UecError
from uec.store.base import PARAM, Engine, Params, Store, StoreWriter

__all__ = ["DuckDBStore"]

_LOCK_WAIT_SECONDS = float(os.environ.get("UEC_LOCK_WAIT_SECONDS", "60"))


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc)
    return "lock" in text.lower() and ("Could not set lock" in text or "Conflicting lock" in text)


class DuckDBStore(Store):
    """The embedded store: one DuckDB file.

    DuckDB lets one process write a file at a time and no other process read it meanwhile, so each
    operation opens the file, does its work and closes it; an ingest does its slow part (reading and
    validating the file) before it opens the store and holds the lock only while it appends. A
    reader or writer that finds the file locked waits (up to ``UEC_LOCK_WAIT_SECONDS``) rather than
    failing, so reads go on working while a load runs, at worst a second or two late.
    """

    engine: Engine = "duckdb"

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self.url = str(self.path)
        if self.path.is_dir():
            raise UecError(f"store path {path!r} is a folder; give a file name such as {path}/uec.duckdb")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UecError(f"cannot create the folder for store {path!r}: {exc.strerror}") from None
        if not self.path.exists():
            self.ensure_schema()

    def _connect(self, read_only: bool) -> Any:
        import duckdb

        deadline = time.monotonic() + _LOCK_WAIT_SECONDS
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
                    raise UecError(f"store {self.url} is busy (another process holds it); try again") from None
                raise UecError(f"cannot open store {self.url}: {str(exc).splitlines()[0]}") from None
            except duckdb.Error as exc:
                raise UecError(f"cannot open store {self.url}: {str(exc).splitlines()[0]}") from None

    @staticmethod
    def _sql(sql: str) -> str:
        return PARAM.sub(r"$\1", sql)

    def _open_reader(self) -> Any:
        return self._connect(read_only=True)

    def query(self, sql: str, params: Params = None) -> list[dict[str, Any]]:
        with self._reader() as con:
            cur = con.execute(self._sql(sql), dict(params) if params else None)
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def query_arrow(self, sql: str, params: Params = None) -> pa.Table:
        with self._reader() as con:
            result: pa.Table = con.sql(self._sql(sql), params=dict(params) if params else None).to_arrow_table()
            return result

    @contextmanager
    def write(self) -> Iterator[StoreWriter]:
        con = self._connect(read_only=False)
        try:
            con.execute("BEGIN TRANSACTION")
            try:
                yield _DuckDBWriter(con)
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
        finally:
            con.close()


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
