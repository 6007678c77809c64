"""The store: an embedded DuckDB file by default, PostgreSQL by URL, behind one small query layer.

Both engines get the same DDL (generated from the contract, :mod:`uec.store.schema`) and the same
SQL. Queries use named parameters written ``:name``; each engine (:mod:`uec.store.duckdb`,
:mod:`uec.store.postgres`) turns them into its driver's style.

>>> import tempfile, os
>>> with tempfile.TemporaryDirectory() as d:
...     store = open_store(os.path.join(d, "uec.duckdb"))
...     store.query("SELECT count(*) AS n FROM attendances")
[{'n': 0}]
"""

from __future__ import annotations

import re

from uec.errors import UecError
from uec.store.base import (
    DEFAULT_STORE,
    Store,
    StoreBusy,
    StoreWriter,
    install_log_masking,
    mask_secrets,
    reading,
    resolve_store_url,
)
from uec.store.duckdb import DuckDBStore
from uec.store.postgres import PostgresStore
from uec.store.schema import BOOKKEEPING_DDL, RETURNS_HISTORY_DDL, schema_ddl

__all__ = [
    "BOOKKEEPING_DDL",
    "DEFAULT_STORE",
    "RETURNS_HISTORY_DDL",
    "DuckDBStore",
    "PostgresStore",
    "Store",
    "StoreBusy",
    "StoreWriter",
    "mask_secrets",
    "open_store",
    "reading",
    "resolve_store_url",
    "schema_ddl",
]


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
    install_log_masking()
    if re.match(r"^postgres(ql)?(\+\w+)?://", url):
        return PostgresStore(url)
    if url.startswith("duckdb://"):
        # SQLAlchemy's convention: duckdb:///relative/path and duckdb:////absolute/path.
        return DuckDBStore(url.removeprefix("duckdb:///") if url.startswith("duckdb:///") else url[9:])
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", url):
        raise UecError(f"unknown store URL {mask_secrets(url)!r}: use a file path, duckdb:///path or postgresql://...")
    return DuckDBStore(url)
