"""The store: an embedded DuckDB file by default, PostgreSQL by URL, behind one small query layer.

Both engines get the same DDL (generated from the contract) and the same SQL. Queries use named
parameters written ``:name``; the layer turns them into each driver's style.

>>> import tempfile, os
>>> with tempfile.TemporaryDirectory() as d:
...     store = open_store(os.path.join(d, "uec.duckdb"))
...     store.query("SELECT count(*) AS n FROM attendances")
[{'n': 0}]
"""

from __future__ import annotations

import os
import re
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Any, Concatenate, Literal, ParamSpec, TypeVar

import pyarrow as pa

from uec.contract import Table, tables
from uec.errors import UecError

__all__ = [
    "BOOKKEEPING_DDL",
    "DEFAULT_STORE",
    "Store",
    "StoreWriter",
    "open_store",
    "reading",
    "resolve_store_url",
    "schema_ddl",
]

#: Where the embedded store lives unless ``--store`` or ``UEC_STORE`` says otherwise.
DEFAULT_STORE = "data/uec.duckdb"

Engine = Literal["duckdb", "postgresql"]
Params = Mapping[str, Any] | None

# Bookkeeping tables. `loads` records every ingest (and lets a re-ingest of the same file be
# recognised by its digest); `quarantine` keeps every rejected row with its reason, so nothing
# a user sends is ever silently lost.
BOOKKEEPING_DDL = (
    """CREATE TABLE IF NOT EXISTS loads (
        load_id BIGINT NOT NULL,
        kind VARCHAR NOT NULL,
        table_name VARCHAR NOT NULL,
        file_name VARCHAR NOT NULL,
        sha256 VARCHAR NOT NULL,
        loaded_at TIMESTAMP WITH TIME ZONE NOT NULL,
        rows_in BIGINT NOT NULL,
        rows_loaded BIGINT NOT NULL,
        rows_quarantined BIGINT NOT NULL,
        UNIQUE (load_id)
    )""",
    """CREATE TABLE IF NOT EXISTS quarantine (
        load_id BIGINT NOT NULL,
        kind VARCHAR NOT NULL,
        row_number BIGINT,
        reason VARCHAR NOT NULL,
        raw VARCHAR
    )""",
)

_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
_LOCK_WAIT_SECONDS = float(os.environ.get("UEC_LOCK_WAIT_SECONDS", "60"))


def schema_ddl(table: Table) -> str:
    """``CREATE TABLE`` for a contract table, valid on DuckDB and PostgreSQL alike.

    Every table also gets ``load_id`` so each row can be traced to the load that brought it.

    >>> from uec.contract import table
    >>> print(schema_ddl(table("returns")).splitlines()[1])
        org_code VARCHAR NOT NULL,
    """
    cols = [f"    {f.name} {f.sql_type}{' NOT NULL' if f.required else ''}," for f in table.fields]
    cols.append("    load_id BIGINT")
    return f"CREATE TABLE IF NOT EXISTS {table.name} (\n" + "\n".join(cols) + "\n)"


def resolve_store_url(url: str | None) -> str:
    """The store URL to use: the argument, else ``UEC_STORE``, else :data:`DEFAULT_STORE`.

    >>> resolve_store_url("x.duckdb")
    'x.duckdb'
    """
    return url or os.environ.get("UEC_STORE") or DEFAULT_STORE


class StoreWriter(ABC):
    """The handle a write transaction gets. Nothing it does is visible until the block commits."""

    @abstractmethod
    def execute(self, sql: str, params: Params = None) -> None: ...

    @abstractmethod
    def query(self, sql: str, params: Params = None) -> list[dict[str, Any]]: ...

    @abstractmethod
    def append(self, table_name: str, data: pa.Table) -> None:
        """Append an Arrow table whose column names are columns of ``table_name``."""

    @abstractmethod
    def stage(self, name: str, data: pa.Table) -> None:
        """Create a temporary table ``name`` holding ``data`` for the rest of the transaction."""


class Store(ABC):
    """One store, either engine. Open it with :func:`open_store`."""

    engine: Engine
    url: str

    @abstractmethod
    def query(self, sql: str, params: Params = None) -> list[dict[str, Any]]:
        """Rows of a read-only query as dicts."""

    @abstractmethod
    def query_arrow(self, sql: str, params: Params = None) -> pa.Table:
        """A read-only query as an Arrow table (for exports and large reads)."""

    @abstractmethod
    @contextmanager
    def write(self) -> Iterator[StoreWriter]:
        """A write transaction: commits when the block ends, rolls back if it raises or is killed."""

    @abstractmethod
    def _open_reader(self) -> Any:
        """A new read-only connection."""

    def _held(self) -> Any:
        """The connection a :meth:`reading` block on this thread holds, if any."""
        local: threading.local | None = self.__dict__.get("_local")
        return None if local is None else getattr(local, "con", None)

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Run the block's queries on one read connection instead of one each.

        A page or a whole catalogue of standards makes dozens of small queries; opening a
        connection for each costs more than many of the queries themselves. Blocks nest (the outer
        one's connection is used) and are per thread. On DuckDB the held connection keeps writers
        in other processes waiting, so hold it for one request, not longer.

        >>> import tempfile, os
        >>> with tempfile.TemporaryDirectory() as d:
        ...     store = open_store(os.path.join(d, "uec.duckdb"))
        ...     with store.reading():
        ...         [store.query("SELECT 1 AS one")[0]["one"], store.query_arrow("SELECT 2 AS two").num_rows]
        [1, 1]
        """
        local = self.__dict__.setdefault("_local", threading.local())
        if getattr(local, "con", None) is not None:
            yield
            return
        con = self._open_reader()
        local.con = con
        try:
            yield
        finally:
            local.con = None
            con.close()

    @contextmanager
    def _reader(self) -> Iterator[Any]:
        """The held read connection, or a new one closed after the block."""
        held = self._held()
        if held is not None:
            yield held
            return
        con = self._open_reader()
        try:
            yield con
        finally:
            con.close()

    def ensure_schema(self) -> None:
        """Create every contract and bookkeeping table that is missing."""
        with self.write() as w:
            for t in tables():
                w.execute(schema_ddl(t))
            for ddl in BOOKKEEPING_DDL:
                w.execute(ddl)

    def counts(self) -> dict[str, int]:
        """Rows in every contract table, by table name."""
        sql = " UNION ALL ".join(f"SELECT '{t.name}' AS t, count(*) AS n FROM {t.name}" for t in tables())
        return {r["t"]: int(r["n"]) for r in self.query(sql)}


# --- DuckDB -------------------------------------------------------------------------------------


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
        return _PARAM.sub(r"$\1", sql)

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


# --- PostgreSQL ---------------------------------------------------------------------------------


def _pg_type(t: pa.DataType) -> str:
    if pa.types.is_integer(t):
        return "BIGINT"
    if pa.types.is_floating(t):
        return "DOUBLE PRECISION"
    if pa.types.is_boolean(t):
        return "BOOLEAN"
    if pa.types.is_timestamp(t):
        return "TIMESTAMP WITH TIME ZONE"
    if pa.types.is_date(t):
        return "DATE"
    return "VARCHAR"


def _csv_bytes(data: pa.Table) -> bytes:
    import pyarrow.csv as pacsv

    # PostgreSQL reads at most microseconds; Arrow's CSV writer prints the unit it has.
    cols = []
    for col in data.columns:
        if pa.types.is_timestamp(col.type):
            col = col.cast(pa.timestamp("us", tz="UTC"))
        cols.append(col)
    sink = pa.BufferOutputStream()
    pacsv.write_csv(pa.table(cols, names=data.column_names), sink, pacsv.WriteOptions(include_header=False))
    return bytes(sink.getvalue().to_pybytes())


class PostgresStore(Store):
    """The production store: a PostgreSQL database given by URL (``postgresql://user@host/db``)."""

    engine: Engine = "postgresql"

    def __init__(self, url: str) -> None:
        self.url = url
        # psycopg takes libpq URLs; SQLAlchemy-style '+driver' suffixes are accepted for convenience.
        self._dsn = re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql://", url)
        self.ensure_schema()

    def _connect(self) -> Any:
        import psycopg

        try:
            con = psycopg.connect(self._dsn, connect_timeout=10, autocommit=True)
        except psycopg.Error as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise UecError(f"cannot open store {self._redacted()}: {first}") from None
        con.execute("SET TIME ZONE 'UTC'")
        return con

    def _redacted(self) -> str:
        return re.sub(r"://([^:@/]+):[^@/]*@", r"://\1:***@", self.url)

    @staticmethod
    def _sql(sql: str, params: Params) -> str:
        if not params:
            return sql
        return _PARAM.sub(r"%(\1)s", sql.replace("%", "%%"))

    def _open_reader(self) -> Any:
        return self._connect()

    def _cursor(self, con: Any, sql: str, params: Params) -> Any:
        return con.execute(self._sql(sql, params), dict(params) if params else None)

    def query(self, sql: str, params: Params = None) -> list[dict[str, Any]]:
        with self._reader() as con:
            cur = self._cursor(con, sql, params)
            names = [d.name for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def query_arrow(self, sql: str, params: Params = None) -> pa.Table:
        with self._reader() as con:
            cur = self._cursor(con, sql, params)
            names = [d.name for d in cur.description]
            rows = cur.fetchall()
        if rows:
            return pa.Table.from_pylist([dict(zip(names, row, strict=True)) for row in rows])
        return pa.table({n: pa.array([], pa.string()) for n in names})

    @contextmanager
    def write(self) -> Iterator[StoreWriter]:
        con = self._connect()
        try:
            with con.transaction():
                yield _PostgresWriter(con)
        finally:
            con.close()


class _PostgresWriter(StoreWriter):
    def __init__(self, con: Any) -> None:
        self.con = con

    def execute(self, sql: str, params: Params = None) -> None:
        self.con.execute(PostgresStore._sql(sql, params), dict(params) if params else None)

    def query(self, sql: str, params: Params = None) -> list[dict[str, Any]]:
        cur = self.con.execute(PostgresStore._sql(sql, params), dict(params) if params else None)
        names = [d.name for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def _copy(self, table_name: str, data: pa.Table) -> None:
        cols = ", ".join(data.column_names)
        with self.con.cursor().copy(f"COPY {table_name} ({cols}) FROM STDIN WITH (FORMAT csv)") as copy:
            copy.write(_csv_bytes(data))

    def append(self, table_name: str, data: pa.Table) -> None:
        if data.num_rows:
            self._copy(table_name, data)

    def stage(self, name: str, data: pa.Table) -> None:
        cols = ", ".join(f"{f.name} {_pg_type(f.type)}" for f in data.schema)
        self.con.execute(f"DROP TABLE IF EXISTS {name}")
        self.con.execute(f"CREATE TEMP TABLE {name} ({cols}) ON COMMIT DROP")
        if data.num_rows:
            self._copy(name, data)


def open_store(url: str | None = None) -> Store:
    """Open (creating if need be) the store at ``url``.

    ``url`` is a file path or ``duckdb:///path`` for the embedded store, or ``postgresql://…``;
    ``None`` means ``UEC_STORE`` or :data:`DEFAULT_STORE`.

    >>> open_store("mysql://x")
    Traceback (most recent call last):
    ...
    uec.errors.UecError: unknown store URL 'mysql://x': use a file path, duckdb:///path or postgresql://...
    """
    url = resolve_store_url(url)
    if re.match(r"^postgres(ql)?(\+\w+)?://", url):
        return PostgresStore(url)
    if url.startswith("duckdb://"):
        # SQLAlchemy's convention: duckdb:///relative/path and duckdb:////absolute/path.
        return DuckDBStore(url.removeprefix("duckdb:///") if url.startswith("duckdb:///") else url[9:])
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", url):
        raise UecError(f"unknown store URL {url!r}: use a file path, duckdb:///path or postgresql://...")
    return DuckDBStore(url)


_P = ParamSpec("_P")
_R = TypeVar("_R")


def reading(fn: Callable[Concatenate[Store, _P], _R]) -> Callable[Concatenate[Store, _P], _R]:
    """Decorate a function of a store so that all its queries share one connection (:meth:`Store.reading`).

    >>> @reading
    ... def two_counts(store: Store) -> tuple[int, int]:
    ...     return store.counts()["attendances"], store.counts()["spells"]
    >>> import tempfile, os
    >>> with tempfile.TemporaryDirectory() as d:
    ...     two_counts(open_store(os.path.join(d, "uec.duckdb")))
    (0, 0)
    """

    @wraps(fn)
    def wrapper(store: Store, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        with store.reading():
            return fn(store, *args, **kwargs)

    return wrapper
