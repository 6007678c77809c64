"""The store's own reads that commands show: what each table holds (``uec status``), the
bookkeeping tables (``uec quarantine``) and a whole table as Arrow (``uec export``); and the
first free load id for a writer that numbers its own loads (the demo).

Table and column names come from the contract or the caller's fixed lists, never from input.

>>> import tempfile, os
>>> from uec.store import open_store
>>> with tempfile.TemporaryDirectory() as d:
...     s = open_store(os.path.join(d, "uec.duckdb"))
...     bookkeeping_counts(s), quarantine_rows(s, limit=5)
({'loads': 0, 'quarantine': 0}, (0, []))
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from uec.contract import tables
from uec.store.base import Store, StoreWriter

__all__ = ["bookkeeping_counts", "next_free_load_id", "quarantine_rows", "table_arrow", "time_spans"]


def time_spans(store: Store) -> dict[str, dict[str, Any]]:
    """``{table: {first, last}}``: the earliest and latest instant of each contract table that has a time field."""
    spans: dict[str, dict[str, Any]] = {}
    for t in tables():
        if t.time_field:
            r = store.query(f"SELECT min({t.time_field}) AS first, max({t.time_field}) AS last FROM {t.name}")[0]
            spans[t.name] = {"first": r["first"], "last": r["last"]}
    return spans


def bookkeeping_counts(store: Store) -> dict[str, int]:
    """Rows in ``loads`` and ``quarantine``."""
    return {name: int(store.query(f"SELECT count(*) AS n FROM {name}")[0]["n"]) for name in ("loads", "quarantine")}


def quarantine_rows(store: Store, *, load: int | None = None, kind: str | None = None,
                    limit: int = 50) -> tuple[int, list[dict[str, Any]]]:
    """(how many rejected rows match, the first ``limit`` of them in load and row order), optionally
    of one load or one kind."""
    where: list[str] = []
    params: dict[str, Any] = {}
    if load is not None:
        where.append("load_id = :load")
        params["load"] = load
    if kind is not None:
        where.append("kind = :kind")
        params["kind"] = kind
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    total = int(store.query(f"SELECT count(*) AS n FROM quarantine {clause}", params)[0]["n"])
    rows = store.query(
        f"SELECT load_id, kind, row_number, reason, raw FROM quarantine {clause} "
        f"ORDER BY load_id, row_number LIMIT {int(limit)}",
        params,
    )
    return total, rows


def table_arrow(store: Store, table_name: str, columns: str = "*", order_by: str | None = None) -> pa.Table:
    """A whole table as Arrow: ``columns`` a select list (names, ``x AS y``), ``order_by`` a column."""
    return store.query_arrow(f"SELECT {columns} FROM {table_name}" + (f" ORDER BY {order_by}" if order_by else ""))


def next_free_load_id(writer: StoreWriter) -> int:
    """One more than the largest load id in ``loads`` (1 for none), read inside the writer's transaction."""
    return int(writer.query("SELECT coalesce(max(load_id), 0) + 1 AS n FROM loads")[0]["n"])
