"""Every SQL statement of the feeds capability: who owns a site, and each source's freshness.

Portable SQL (DuckDB and PostgreSQL). Table and column names come from the contract and
``sources.yaml`` (never from a request), so they are safe to place in the statement.

>>> import tempfile, os
>>> from uec.store import open_store
>>> store = open_store(os.path.join(tempfile.mkdtemp(), "uec.duckdb"))
>>> site_orgs(store, ["DEMO-A01"])
{}
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from uec.store import Store

__all__ = ["last_load", "latest_record", "quarantined_rows", "site_orgs"]


def site_orgs(store: Store, site_codes: Sequence[str]) -> dict[str, str]:
    """The organisation of each known site among ``site_codes``."""
    codes = sorted(set(site_codes))
    if not codes:
        return {}
    names = ", ".join(f":s{k}" for k in range(len(codes)))
    rows = store.query(f"SELECT site_code, org_code FROM sites WHERE site_code IN ({names})",
                       {f"s{k}": c for k, c in enumerate(codes)})
    return {str(r["site_code"]): str(r["org_code"]) for r in rows}


def latest_record(store: Store, table: str, column: str, at: Any) -> dict[str, Any]:
    """``latest`` (the newest ``column`` at or before ``at``) and ``n`` (every row) of a contract table."""
    return store.query(f"SELECT max(CASE WHEN {column} <= :at THEN {column} END) AS latest, count(*) AS n "
                       f"FROM {table}", {"at": at})[0]


def last_load(store: Store, table: str) -> dict[str, Any] | None:
    """The newest load into ``table`` (``loaded_at``, ``rows_in``, ``rows_loaded``, ``rows_quarantined``)."""
    rows = store.query(
        "SELECT load_id, kind, loaded_at, rows_in, rows_loaded, rows_quarantined FROM loads "
        "WHERE table_name = :t ORDER BY loaded_at DESC, load_id DESC LIMIT 1", {"t": table})
    return rows[0] if rows else None


def quarantined_rows(store: Store, load_id: int, limit: int = 100) -> list[dict[str, Any]]:
    """The first ``limit`` rows a load quarantined: ``row_number`` and ``reason`` (not the row)."""
    return store.query("SELECT row_number, reason FROM quarantine WHERE load_id = :l ORDER BY row_number LIMIT :n",
                       {"l": load_id, "n": limit})
