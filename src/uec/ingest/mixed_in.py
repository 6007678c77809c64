"""Real data loaded into a demo store: found, and said in one message (issue 15).

A demo store holds the synthetic demo ICS (``uec.demo.build_demo`` writes its tables as loads of
kind ``demo``). A later load that brings rows for organisations or sites the demo does not have mixes
real and demo data. That is not an error (someone may mean to try their own extract beside the
demo), but it is said: by ``uec ingest`` and ``uec watch`` on stderr, in a feed batch's JSON answer
(``warnings``), and on every web page (:func:`mixed_in` once per data version). Every one of them
words it with :func:`mixed_in_message`.

This sits in the ingest capability, not in :mod:`uec.demo`, so the feeds (below the demo in the
layers) can warn too; the SQL is in :mod:`uec.ingest.queries`.

>>> print(mixed_in_message(3, ["AAH", "RAE"], [7]))  # doctest: +ELLIPSIS
warning: this store holds the demo ICS, and load 7 added rows for 3 ... (AAH, RAE, ...): ... `uec unload 7` ...
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from uec.contract import table as contract_table
from uec.contract import tables
from uec.ingest.queries import CODE_COLUMNS, codes_not_in_demo, foreign_codes, has_demo_load
from uec.store import Store

__all__ = ["MixedIn", "is_demo_store", "mixed_in", "mixed_in_message", "mixed_in_warning"]

#: Codes named in a message; the rest are counted.
SHOWN = 5


def is_demo_store(store: Store) -> bool:
    """Whether ``store`` holds the demo ICS: ``build_demo`` marks each table it writes as a load of
    kind ``demo``.

    >>> import tempfile, os
    >>> from uec.store import open_store
    >>> with tempfile.TemporaryDirectory() as d:
    ...     is_demo_store(open_store(os.path.join(d, "uec.duckdb")))
    False
    """
    return has_demo_load(store)


def mixed_in_message(total: int, shown: Sequence[str], load_ids: Sequence[int], table: str | None = None,
                     *, line: bool = True) -> str:
    """The one wording of the warning: ``total`` codes the demo lacks (``shown`` of them named) that
    the loads ``load_ids`` brought in (``table``: the table they went into, when one load is meant).
    ``line``: a ``warning:`` line for a terminal or a feed answer; else a sentence for a page.

    >>> print(mixed_in_message(2, ["X", "Y"], [4, 9]))  # doctest: +ELLIPSIS
    warning: ... loads 4 and 9 added rows for 2 ... (X, Y): ... remove them with `uec unload 4` and `uec unload 9` ...
    """
    more = ", ..." if total > len(shown) else ""
    ids = [str(i) for i in load_ids]
    which = f"load {ids[0]}" if len(ids) == 1 else f"loads {', '.join(ids[:-1])} and {ids[-1]}"
    undo = " and ".join(f"`uec unload {i}`" for i in ids)
    rows = f"{table} rows" if table else "rows"
    start = "warning: this" if line else "This"
    return (f"{start} store holds the demo ICS, and {which} added {rows} for {total} "
            f"organisation or site code(s) the demo does not have ({', '.join(shown[:SHOWN])}{more}): real and "
            f"demo data are now mixed; remove them with {undo} or use another --store")


def mixed_in_warning(store: Store, table: str, load_id: int) -> str | None:
    """The warning when load ``load_id`` put rows for organisations or sites that the demo ICS does
    not have into a demo store (real data mixed with synthetic); ``None`` otherwise.

    >>> import tempfile, os
    >>> from uec.store import open_store
    >>> with tempfile.TemporaryDirectory() as d:  # not a demo store: nothing to warn about
    ...     print(mixed_in_warning(open_store(os.path.join(d, "uec.duckdb")), "attendances", 1))
    None
    """
    if not is_demo_store(store):
        return None
    names = {f.name for f in contract_table(table).fields}
    total, shown = 0, []
    for column in CODE_COLUMNS:
        if column in names:
            n, codes = codes_not_in_demo(store, table, column, load_id, SHOWN)
            total += n
            shown += codes
    if not total:
        return None
    return mixed_in_message(total, shown, [load_id], table)


@dataclass(frozen=True)
class MixedIn:
    """The whole store's real data in the demo: how many codes the demo lacks, some of them, and the
    loads that brought them (each undone with ``uec unload``)."""

    codes: int
    shown: tuple[str, ...]
    load_ids: tuple[int, ...]

    @property
    def message(self) -> str:
        """The warning, worded as ``uec ingest`` words it."""
        return mixed_in_message(self.codes, self.shown, self.load_ids)

    @property
    def sentence(self) -> str:
        """The same warning as a sentence for a page."""
        return mixed_in_message(self.codes, self.shown, self.load_ids, line=False)


def mixed_in(store: Store) -> MixedIn | None:
    """The real data mixed into a demo store, or ``None`` (not a demo store, or nothing mixed in).

    A few statements per contract table: ask once per data version (the web caches it), not per request.

    >>> import tempfile, os
    >>> from uec.store import open_store
    >>> with tempfile.TemporaryDirectory() as d:
    ...     print(mixed_in(open_store(os.path.join(d, "uec.duckdb"))))
    None
    """
    if not is_demo_store(store):
        return None
    codes: set[str] = set()
    loads: set[int] = set()
    for t in tables():
        names = {f.name for f in t.fields}
        for column in CODE_COLUMNS:
            if column in names:
                for load_id, code in foreign_codes(store, t.name, column):
                    loads.add(load_id)
                    codes.add(code)
    if not codes:
        return None
    return MixedIn(len(codes), tuple(sorted(codes)[:SHOWN]), tuple(sorted(loads)))
