"""The production engine: a PostgreSQL database given by URL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pyarrow as pa

from uec.errors import UecError
from uec.store.base import PARAM, Engine, Params, Store, StoreWriter, mask_secrets, register_secret

__all__ = ["PostgresStore"]


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


def _password(url: str) -> str | None:
    from urllib.parse import unquote, urlsplit

    try:
        password = urlsplit(url).password
    except ValueError:
        return None
    return unquote(password) if password else None


class PostgresStore(Store):
    """The production store: a PostgreSQL database given by URL (``postgresql://user@host/db``)."""

    engine: Engine = "postgresql"

    def __init__(self, url: str) -> None:
        self.url = url
        # psycopg takes libpq URLs; SQLAlchemy-style '+driver' suffixes are accepted for convenience.
        self._dsn = re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql://", url)
        register_secret(_password(url))
        self.ensure_schema()

    def _connect(self) -> Any:
        import psycopg

        try:
            con = psycopg.connect(self._dsn, connect_timeout=10, autocommit=True)
        except psycopg.Error as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise UecError(f"cannot open store {self.display_url}: {mask_secrets(first)}") from None
        con.execute("SET TIME ZONE 'UTC'")
        return con

    @staticmethod
    def _sql(sql: str, params: Params) -> str:
        if not params:
            return sql
        return PARAM.sub(r"%(\1)s", sql.replace("%", "%%"))

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
