"""The store's schema: contract tables (generated from the contract) and bookkeeping tables.

Both engines get the same DDL.
"""

from __future__ import annotations

from uec.contract import Table

__all__ = ["BOOKKEEPING_DDL", "RETURNS_HISTORY_DDL", "schema_ddl"]

# Bookkeeping tables. `loads` records every ingest (and lets a re-ingest of the same file be
# recognised by its digest); `quarantine` keeps every rejected row with its reason, so nothing
# a user sends is ever silently lost.
BOOKKEEPING_DDL: tuple[str, ...] = (
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
    # Load ids come from a sequence, not max + 1, so two loads at once never take the same id.
    "CREATE SEQUENCE IF NOT EXISTS load_ids",
)

# Returns values a later return replaced (a revision): the row as it was, the load that brought it and
# the load that replaced it, so that what was known at any moment can be read back (`--as-of`) and a
# removed load (`uec unload`) can restore what it replaced.
RETURNS_HISTORY_DDL = """CREATE TABLE IF NOT EXISTS returns_history (
    org_code VARCHAR NOT NULL,
    period_start DATE NOT NULL,
    period_length VARCHAR NOT NULL,
    metric_code VARCHAR NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    source VARCHAR NOT NULL,
    load_id BIGINT,
    superseded_by BIGINT NOT NULL
)"""
BOOKKEEPING_DDL = (*BOOKKEEPING_DDL, RETURNS_HISTORY_DDL)


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
