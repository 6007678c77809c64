"""Helpers of the feed tests: a small ICS (trusts DEMO-A and DEMO-B with one hospital each) and bed-state CSV."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa

from uec.contract import table
from uec.store import Store


def put_rows(store: Store, name: str, rows: list[dict[str, Any]]) -> None:
    schema = table(name).arrow_schema()
    data = pa.table({f.name: pa.array([r.get(f.name) for r in rows], f.type) for f in schema})
    with store.write() as w:
        w.append(name, data)


def small_ics(store: Store) -> Store:
    put_rows(store, "organisations", [
        {"org_code": "DEMO-A", "name": "Trust A", "org_type": "acute_trust"},
        {"org_code": "DEMO-B", "name": "Trust B", "org_type": "acute_trust"},
        {"org_code": "DEMO-ICB", "name": "The ICB", "org_type": "ics"},
    ])
    put_rows(store, "sites", [
        {"site_code": "DEMO-A01", "org_code": "DEMO-A", "name": "Hospital A", "site_type": "acute_hospital"},
        {"site_code": "DEMO-B01", "org_code": "DEMO-B", "name": "Hospital B", "site_type": "acute_hospital"},
    ])
    return store


BEDS_HEADER = "site_code,snapshot_time,bed_type,beds_open,beds_occupied\n"


def beds_csv(*rows: tuple[str, str, int, int]) -> bytes:
    """Bed-state rows ``(site, local time, open, occupied)`` of G&A beds as CSV bytes."""
    lines = [f"{s},{t},g_and_a,{o},{occ}" for s, t, o, occ in rows]
    return (BEDS_HEADER + "\n".join(lines) + "\n").encode()


NOW = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)
