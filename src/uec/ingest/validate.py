"""Validation of staged rows against the contract, written as one DuckDB query (built in ``queries``).

Each contract field becomes a typed expression and a handful of reason expressions; a row's reason
is every failed check joined with "; ". Doing it in SQL keeps validation vectorised (about a million
rows a second here) and lets the same code serve both stores: validation always runs in an
in-memory DuckDB, whatever the target store is.
"""

from __future__ import annotations

from uec.contract import EARLIEST_YEAR, Field
from uec.ingest.queries import MAX_OFFSET_MINUTES, local_to_utc_sql, typed_select_sql

__all__ = ["EARLIEST_YEAR", "MAX_OFFSET_MINUTES", "compatible", "local_to_utc_sql", "typed_select_sql"]

_TEXT_TYPES = {"VARCHAR", "STRING", "TEXT", '"NULL"', "NULL"}
_NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
            "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "DECIMAL", "REAL")


def compatible(f: Field, source_type: str) -> bool:
    """Whether a column of ``source_type`` can be typed as ``f`` directly; if not, read it as text.

    Reading an odd column as text (int64 seconds for an instant, say) turns what would be a failed
    cast of the whole file into one reason per row.

    >>> from uec.contract import table
    >>> compatible(table("attendances").field("arrival_time"), "BIGINT")
    False
    >>> compatible(table("attendances").field("acuity"), "DOUBLE")
    True
    """
    st = source_type.upper()
    if st in _TEXT_TYPES or f.type in ("string", "code"):
        return True
    if f.type in ("integer", "number"):
        return st.startswith(_NUMERIC)
    if f.type in ("instant", "date"):
        return st.startswith("TIMESTAMP") or st == "DATE"
    return st == "BOOLEAN"
