"""Every query the demo package makes of a store, in one place (the demo's only SQL).

A demo store is one ``build_demo`` wrote: its loads have kind ``demo``. These find out whether a
store is one, and which organisations or sites a later load brought in that the demo does not
have (real data mixed into a synthetic ICS). Each function is one statement, valid on DuckDB and
PostgreSQL alike.

>>> import tempfile, os
>>> from uec.store import open_store
>>> with tempfile.TemporaryDirectory() as d:
...     store = open_store(os.path.join(d, "uec.duckdb"))
...     has_demo_load(store)
False
"""

from __future__ import annotations

from uec.store import Store

__all__ = ["codes_not_in_demo", "has_demo_load"]

#: Where a table names its organisation or site, and the demo reference table and column it
#: must match: the code columns of the contract (identifiers, never user input).
CODE_COLUMNS = {"org_code": ("organisations", "org_code"), "site_code": ("sites", "site_code")}


def has_demo_load(store: Store) -> bool:
    """Whether ``build_demo`` wrote into ``store`` (a load of kind ``demo``)."""
    return bool(store.query("SELECT count(*) AS n FROM loads WHERE kind = 'demo'")[0]["n"])


def codes_not_in_demo(store: Store, table: str, column: str, load_id: int, limit: int = 5) -> tuple[int, list[str]]:
    """How many distinct codes in ``table.column`` of load ``load_id`` the demo's reference data
    lacks, and up to ``limit`` of them (sorted).

    ``table`` and ``column`` must be a contract table and one of :data:`CODE_COLUMNS`.

    >>> import tempfile, os
    >>> from uec.store import open_store
    >>> with tempfile.TemporaryDirectory() as d:
    ...     codes_not_in_demo(open_store(os.path.join(d, "uec.duckdb")), "returns", "org_code", 1)
    (0, [])
    """
    ref_table, ref_column = CODE_COLUMNS[column]
    missing = (f"SELECT DISTINCT t.{column} AS code FROM {table} t WHERE t.load_id = :load_id "
               f"AND t.{column} IS NOT NULL AND t.{column} NOT IN (SELECT r.{ref_column} FROM {ref_table} r "
               "WHERE r.load_id IN (SELECT load_id FROM loads WHERE kind = 'demo'))")
    n = int(store.query(f"SELECT count(*) AS n FROM ({missing}) m", {"load_id": load_id})[0]["n"])
    codes = [str(r["code"]) for r in store.query(f"{missing} ORDER BY code LIMIT {int(limit)}", {"load_id": load_id})]
    return n, codes
