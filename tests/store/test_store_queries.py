"""uec.store.queries on both engines: the reads behind `uec status`, `uec export` and `uec quarantine`."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from uec.store import Store
from uec.store.queries import bookkeeping_counts, next_free_load_id, quarantine_rows, table_arrow, time_spans


def _fill(store: Store) -> None:
    with store.write() as w:
        w.append("loads", pa.table({
            "load_id": pa.array([3, 7], pa.int64()),
            "kind": ["attendances", "spells"],
            "table_name": ["attendances", "spells"],
            "file_name": ["a.csv", "s.csv"],
            "sha256": ["x", "y"],
            "loaded_at": pa.array([dt.datetime(2025, 1, 1, tzinfo=dt.UTC)] * 2, pa.timestamp("us", tz="UTC")),
            "rows_in": pa.array([3, 1], pa.int64()),
            "rows_loaded": pa.array([1, 0], pa.int64()),
            "rows_quarantined": pa.array([2, 1], pa.int64()),
        }))
        w.append("quarantine", pa.table({
            "load_id": pa.array([7, 3, 3], pa.int64()),
            "kind": ["spells", "attendances", "attendances"],
            "row_number": pa.array([1, 5, 2], pa.int64()),
            "reason": ["bad date", "unknown site", "missing arrival"],
            "raw": ["r1", "r5", "r2"],
        }))


def test_quarantine_rows_filter_count_and_order(store: Store) -> None:
    _fill(store)
    total, rows = quarantine_rows(store)
    assert total == 3 and [(r["load_id"], r["row_number"]) for r in rows] == [(3, 2), (3, 5), (7, 1)]
    total, rows = quarantine_rows(store, load=3, limit=1)
    assert total == 2 and [r["reason"] for r in rows] == ["missing arrival"]
    total, rows = quarantine_rows(store, kind="spells")
    assert total == 1 and rows[0]["raw"] == "r1"
    assert quarantine_rows(store, load=3, kind="spells") == (0, [])


def test_counts_spans_load_ids_and_export(store: Store) -> None:
    assert bookkeeping_counts(store) == {"loads": 0, "quarantine": 0}
    with store.write() as w:
        assert next_free_load_id(w) == 1
    spans = time_spans(store)
    assert spans["attendances"] == {"first": None, "last": None}
    _fill(store)
    assert bookkeeping_counts(store) == {"loads": 2, "quarantine": 3}
    with store.write() as w:
        assert next_free_load_id(w) == 8
    t = table_arrow(store, "quarantine", "load_id, reason AS why", order_by="row_number")
    assert t.column_names == ["load_id", "why"]
    assert t.column("why").to_pylist() == ["bad date", "missing arrival", "unknown site"]
    assert table_arrow(store, "loads").num_rows == 2
