"""Validated, atomic ingest of files into the store, with a quarantine for every rejected row.

``ingest(store, kind, path)`` reads a file, maps it onto a contract table if it is a real-world
layout, checks every row against the contract in an in-memory DuckDB, and then in one store
transaction appends the good rows and quarantines the rest with their reasons. Rows in = rows loaded
+ rows quarantined, always; a load either commits whole or leaves the store as it was.

>>> import tempfile, pathlib
>>> from uec.store import open_store
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "returns.csv").write_text(
...     "org_code,period_start,period_length,metric_code,value,source\\n"
...     "DEMO-A,2024-04-01,month,ae_attendances_type1,9000,ae_monthly\\n"
...     "DEMO-A,2024-04-01,fortnight,ae_attendances_type1,9000,ae_monthly\\n")
>>> result = ingest(open_store(str(d / "uec.duckdb")), "returns", d / "returns.csv")
>>> (result.rows_in, result.rows_loaded, result.rows_quarantined)
(2, 1, 1)
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa

from uec.access import audit
from uec.contract import Table, collections
from uec.contract import table as contract_table
from uec.errors import UecError
from uec.ingest import queries as q
from uec.ingest.formats import FORMATS, Format, kinds, read_file, resolve_kind
from uec.ingest.validate import compatible, local_to_utc_sql, typed_select_sql
from uec.store import RETURNS_HISTORY_DDL, Store, StoreWriter

__all__ = [
    "DEFAULT_RETENTION_DAYS",
    "FORMATS",
    "LoadResult",
    "Progress",
    "UnloadResult",
    "ingest",
    "kinds",
    "purge_quarantine",
    "return_history",
    "unload",
]

#: How long rejected rows are kept when no setting says otherwise (``UEC_QUARANTINE_RETENTION_DAYS``).
#: Reasoning (verified: false, no national rule names a figure): a rejected row is kept so that its
#: sender can see why and send it again corrected; monthly national returns are revised within the
#: following month or two, so 90 days covers one submission cycle and its revision with a month to
#: spare, and storage limitation (UK GDPR Article 5(1)(e)) says keep it no longer than that purpose needs.
DEFAULT_RETENTION_DAYS = 90

#: Called with a stage name and the fraction of the load done (0-1).
Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class LoadResult:
    """What one ``ingest`` did. ``rows_in == rows_loaded + rows_quarantined`` for a new load.

    A file already loaded (same kind, same bytes) is not loaded again: ``already_loaded`` is the
    earlier load's id and nothing is added.
    """

    kind: str
    table: str
    file: str
    rows_in: int
    rows_loaded: int
    rows_quarantined: int
    load_id: int | None
    already_loaded: int | None = None
    seconds: float = 0.0
    #: Checks that could not be made, each with why (e.g. site codes while ``sites`` is still empty).
    unchecked: tuple[str, ...] = ()
    #: Returns values already in the store that this load replaced (a revised return); the values
    #: replaced are kept in ``returns_history``.
    rows_revised: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _kept_raw_sql(table: Table, fmt: Format | None, con: Any) -> str:
    """What the quarantine keeps of a rejected row (SQL over ``src s``).

    A file in the contract's own columns holds nothing else (unknown columns are refused), so its
    row is kept whole. A real-world layout (a HES extract) carries fields outside the contract (NHS
    number, postcode, date of birth): only the row's contract columns as the mapping made them are
    kept, with a SHA-256 digest of the whole source row so that a resent row can still be matched.
    """
    if fmt is None:
        return q.RAW_WHOLE
    mapped_cols = {r[0] for r in con.execute(q.describe_sql("mapped")).fetchall()}
    con.execute(q.kept_sql(", ".join(f'"{f}"' for f in table.field_names if f in mapped_cols)))
    return q.RAW_KEPT


def _kept_line(text: str, fmt: Format | None) -> str:
    """What the quarantine keeps of a line that could not be parsed: the text, or for a real-world
    layout (which may carry personal data outside the contract) only its SHA-256 digest.

    >>> _kept_line("A1,x", None)
    'A1,x'
    >>> _kept_line("A1,x", FORMATS["hes-ae"])[:15]
    '{"raw_sha256": '
    """
    if fmt is None:
        return text
    import json

    return json.dumps({"raw_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest()})


def _check_columns(table: Table, fmt: Format | None, names: list[str], file_name: str) -> None:
    present = set(names) - {"_row"}
    if fmt is not None:
        missing = [c for c in fmt.required_columns if c not in present]
        missing += [" or ".join(group) if len(group) < 4 else f"any of {', '.join(group[:3])} …"
                    for group in fmt.one_of if not present & set(group)]
        if missing:
            raise UecError(
                f"{file_name} is not a {fmt.kind} file: missing column(s) {'; '.join(missing)}"
            )
        return
    expected = set(table.field_names)
    unknown = sorted(present - expected)
    missing = [f.name for f in table.fields if f.required and f.name not in present]
    if unknown or missing:
        parts = []
        if missing:
            parts.append(f"missing required column(s) {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown column(s) {', '.join(unknown)}")
        raise UecError(
            f"{file_name} does not have the {table.kind} columns: {'; '.join(parts)} "
            f"(see `uec docs contract` for the columns of each kind)"
        )


def _with_optional_columns(data: pa.Table, fmt: Format) -> pa.Table:
    """Add the columns a format reads but the file left out, as empty text."""
    for name in fmt.optional_columns:
        if name not in data.column_names:
            data = data.append_column(name, pa.nulls(data.num_rows, pa.string()))
    return data


def _reference_codes(store: Store, table: Table) -> tuple[dict[str, pa.Table], list[str]]:
    """For each field that must be in a reference table: that table's keys. Also the checks skipped.

    A reference table with no rows at all cannot be checked against: a store is often started with
    event data before its reference data. The load reports the skipped check instead of guessing.
    """
    codes: dict[str, pa.Table] = {}
    unchecked: list[str] = []
    cache: dict[str, pa.Table] = {}
    for f in table.fields:
        if f.references is None:
            continue
        ref = contract_table(f.references)
        if ref.name not in cache:
            cache[ref.name] = store.query_arrow(q.reference_codes_sql(ref.name, ref.key[0]))
        if cache[ref.name].num_rows == 0:
            unchecked.append(f"{f.name} was not checked against {ref.name}: the store has no {ref.name} yet")
        else:
            codes[f.name] = cache[ref.name]
    return codes, unchecked


def _check_metric_codes(con: Any) -> None:
    """A returns row of a national collection (its ``source``) must use one of that collection's codes.

    Other sources (local returns, OPEL parameters) name their own codes and are not checked.
    """
    known = [(c.source, code, ", ".join(c.codes)) for c in collections() for code in c.codes]
    con.register("known_metrics", pa.table({
        "source": [k[0] for k in known], "code": [k[1] for k in known], "listed": [k[2] for k in known]}))
    con.execute(q.unknown_metric_sql("checked"))


def next_load_id(w: StoreWriter) -> int:
    """A new load id from the store's sequence, so that concurrent loads never take the same one.

    A store made before the sequence existed has ids already: the sequence is moved past them once.
    """
    top = w.query(q.TOP_LOAD_ID_SQL)[0]["n"]
    while True:
        n = int(w.query(q.NEXT_LOAD_ID_SQL)[0]["n"])
        if n > int(top):
            return n


def _purge(w: StoreWriter, older_than_days: int) -> int:
    cutoff = datetime.now(UTC) - timedelta(days=older_than_days)
    n = int(w.query(q.PURGE_COUNT_SQL, {"cutoff": cutoff})[0]["n"])
    if n:
        w.execute(q.PURGE_SQL, {"cutoff": cutoff})
    return n


def purge_quarantine(store: Store, older_than_days: int | None = None, *, actor: audit.Actor = None) -> int:
    """Delete rejected rows of loads older than ``older_than_days`` (default: the retention setting).

    Returns how many rows went. The loads themselves stay, with their counts. A purge that deletes
    rows is audited (``quarantine.purge``, by ``actor``) in the same transaction.

    >>> import tempfile, pathlib
    >>> from uec.store import open_store
    >>> store = open_store(str(pathlib.Path(tempfile.mkdtemp()) / "uec.duckdb"))
    >>> purge_quarantine(store, 0)
    0
    """
    days = retention_days() if older_than_days is None else older_than_days
    if days < 0:
        raise UecError(f"--older-than must be 0 or more days, not {days}")
    with store.write() as w:
        n = _purge(w, days)
        if n:
            audit.record(w, actor=actor, action="quarantine.purge", object_type="quarantine",
                         object_id=f"older_than_days={days}", before=None,
                         after={"older_than_days": days, "rows_deleted": n}, request_id=None)
        return n


def retention_days() -> int:
    """Days rejected rows are kept: the ``quarantine_retention_days`` setting."""
    from uec.config import get_settings

    return int(get_settings().quarantine_retention_days)


def ingest(store: Store, kind: str, path: Path | str, *, progress: Progress | None = None,
           actor: audit.Actor = None) -> LoadResult:
    """Load ``path`` as ``kind`` into ``store``; see the module docstring.

    The load is audited (``ingest.load``, by ``actor``, object the load id) in its own transaction.
    """
    import duckdb

    started = time.perf_counter()
    report = progress or (lambda stage, frac: None)
    path = Path(path)
    table, fmt = resolve_kind(kind)
    report("reading", 0.0)
    digest = _sha256(path) if path.is_file() else ""
    read = read_file(path, all_text=fmt is not None, column_names=fmt.headerless if fmt else ())
    raw = read.data
    _check_columns(table, fmt, raw.column_names, path.name)
    if fmt is not None:
        raw = _with_optional_columns(raw, fmt)
    rows_in = raw.num_rows + len(read.bad_lines)
    references, unchecked = _reference_codes(store, table)

    # Validation runs in a private in-memory DuckDB whatever the store is, so the slow part of a
    # load holds no lock on the store and the rules exist once.
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.register("src", raw)
        relation = "src"
        if fmt is not None:
            instant = local_to_utc_sql("TRY_CAST(_arrival_local AS TIMESTAMP)")[0]
            con.execute(q.mapped_sql(fmt.mapping_sql, instant))
            relation = "mapped"
        types = {r[0]: r[1] for r in con.execute(q.describe_sql(relation)).fetchall()}
        # A column the contract type cannot be cast from (int64 for an instant) is read as text, so
        # each row gets a reason instead of the whole load failing on one cast.
        odd = [f.name for f in table.fields if f.name in types and not compatible(f, types[f.name])]
        if odd:
            con.execute(q.as_text_view_sql(relation, odd))
            relation = "as_read"
            types = {r[0]: r[1] for r in con.execute(q.describe_sql(relation)).fetchall()}
        for name, codes in references.items():
            con.register(f"ref_{name}", codes)
        report("validating", 0.3)
        checked_sql = typed_select_sql(
            table, relation, types, references={name: f"ref_{name}" for name in references}
        )
        con.execute(q.checked_sql(checked_sql))
        if table.name == "returns":
            _check_metric_codes(con)
        # A row whose key appears earlier in the same file is a duplicate, not a second record.
        con.execute(q.dup_in_file_sql(table.key))
        con.execute(q.BAD_SQL)
        cols = ", ".join(f'"{f.name}"' for f in table.fields)
        good: pa.Table = con.sql(q.good_sql(cols)).to_arrow_table()
        report("loading", 0.6)

        with store.write() as w:
            earlier = w.query(q.EARLIER_LOAD_SQL, {"kind": kind, "sha": digest})
            if earlier:
                return LoadResult(
                    kind, table.name, str(path), rows_in, 0, 0, None,
                    already_loaded=int(earlier[0]["load_id"]), seconds=time.perf_counter() - started,
                )
            if store.engine == "duckdb":
                # A file made before load ids came from a sequence lacks it (PostgreSQL makes it on open).
                w.execute(q.LOAD_SEQUENCE_DDL)
            load_id = next_load_id(w)
            purged = _purge(w, retention_days())
            w.stage("uec_incoming", good)
            revised = 0
            store_dups: list[int] = []
            if table.grain == "return":
                # A later return for the same organisation, period and metric is a revision: it
                # replaces the value, and the value it replaces goes to the history with its load.
                w.execute(RETURNS_HISTORY_DDL)  # a store made before revisions were kept lacks it
                revised = int(w.query(q.REVISED_COUNT_SQL)[0]["n"])
                if revised:
                    w.execute(q.SUPERSEDE_SQL, {"load_id": load_id})
                    w.execute(q.REMOVE_SUPERSEDED_SQL)
            else:
                # A key already in the store belongs to an earlier load; the row is kept in the
                # quarantine rather than overwriting or doubling what is there.
                store_dups = [int(r["row"]) for r in w.query(q.in_store_sql(table.name, table.key))]
            plain = cols.replace(chr(34), "")
            if store_dups:
                w.stage("uec_clashes", pa.table({"_row": pa.array(store_dups, pa.int64())}))
            w.execute(q.insert_sql(table.name, plain, skip_clashes=bool(store_dups)), {"load_id": load_id})
            con.register("store_dups", pa.table({"_row": pa.array(store_dups, pa.int64())}))
            quarantined = con.sql(q.quarantined_sql(table.key, _kept_raw_sql(table, fmt, con))).to_arrow_table()
            bad_lines = pa.table({
                "row_number": pa.array([n for n, _, _ in read.bad_lines], pa.int64()),
                "reason": pa.array([r for _, _, r in read.bad_lines], pa.string()),
                "raw": pa.array([_kept_line(t, fmt) for _, t, _ in read.bad_lines], pa.string()),
            })
            quarantined = pa.concat_tables([quarantined, bad_lines])
            n_quarantined = quarantined.num_rows
            quarantined = quarantined.append_column(
                "load_id", pa.array([load_id] * n_quarantined, pa.int64())
            ).append_column("kind", pa.array([kind] * n_quarantined, pa.string()))
            w.append("quarantine", quarantined)
            n_loaded = rows_in - n_quarantined
            w.append("loads", pa.table({
                "load_id": pa.array([load_id], pa.int64()),
                "kind": [kind],
                "table_name": [table.name],
                "file_name": [str(path)],
                "sha256": [digest],
                "loaded_at": pa.array([datetime.now(UTC)], pa.timestamp("us", tz="UTC")),
                "rows_in": pa.array([rows_in], pa.int64()),
                "rows_loaded": pa.array([n_loaded], pa.int64()),
                "rows_quarantined": pa.array([n_quarantined], pa.int64()),
            }))
            audit.record(w, actor=actor, action="ingest.load", object_type="load", object_id=str(load_id),
                         before=None, after={"kind": kind, "table": table.name, "file": path.name,
                                             "rows_in": rows_in, "rows_loaded": n_loaded,
                                             "rows_quarantined": n_quarantined, "quarantine_purged": purged},
                         request_id=None)
            # Test seam: lets the atomicity test kill the process inside the open transaction.
            pause = os.environ.get("UEC_TEST_PAUSE_BEFORE_COMMIT")
            if pause:
                sys.stderr.write("uec: pausing before commit (UEC_TEST_PAUSE_BEFORE_COMMIT)\n")
                sys.stderr.flush()
                time.sleep(float(pause))
        report("done", 1.0)
        return LoadResult(
            kind, table.name, str(path), rows_in, n_loaded, n_quarantined, load_id,
            seconds=time.perf_counter() - started, unchecked=tuple(unchecked), rows_revised=revised,
        )
    finally:
        con.close()


@dataclass(frozen=True)
class UnloadResult:
    """What ``unload`` removed: the load's rows, the values it had replaced put back, its quarantine."""

    load_id: int
    kind: str
    table: str
    file: str
    rows_removed: int
    rows_restored: int
    quarantine_removed: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


#: Called inside the unload's transaction with what it removed (the CLI records the audit entry here).
OnUnload = Callable[[StoreWriter, UnloadResult], None]


def unload(store: Store, load_id: int, *, on_write: OnUnload | None = None) -> UnloadResult:
    """Remove load ``load_id`` in one transaction, as if it had never been made.

    Its rows go, its quarantined rows go, and its entry in ``loads`` goes. Returns values the load
    had revised become current again; where a later load revised the load's own values, that later
    value stays and now replaces the earlier one. ``on_write`` runs in the same transaction (an audit
    entry commits with the change or not at all).

    >>> import tempfile, pathlib
    >>> from uec.store import open_store
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> store = open_store(str(d / "uec.duckdb"))
    >>> _ = (d / "r.csv").write_text("org_code,period_start,period_length,metric_code,value,source\\n"
    ...                              "DEMO-A,2024-04-01,month,m1,1,local\\n")
    >>> loaded = ingest(store, "returns", d / "r.csv")
    >>> unload(store, loaded.load_id or 0).rows_removed, store.counts()["returns"]
    (1, 0)
    """
    from uec.contract import tables

    with store.write() as w:
        found = w.query(q.LOAD_SQL, {"load_id": load_id})
        if not found:
            raise UecError(f"there is no load {load_id} (see `uec export loads` for the loads made)")
        load = found[0]
        table_name = str(load["table_name"])
        if table_name not in {t.name for t in tables()}:  # pragma: no cover - loads only names contract tables
            raise UecError(f"load {load_id} names an unknown table {table_name!r}")
        key = {"load_id": load_id}
        restored = 0
        if table_name == "returns":
            w.execute(RETURNS_HISTORY_DDL)
            w.execute(q.RELINK_HISTORY_SQL, key)
            w.execute(q.DELETE_LOAD_HISTORY_SQL, key)
        removed = int(w.query(q.rows_of_load_sql(table_name), key)[0]["n"])
        w.execute(q.delete_load_rows_sql(table_name), key)
        if table_name == "returns":
            restored = int(w.query(q.RESTORED_COUNT_SQL, key)[0]["n"])
            w.execute(q.RESTORE_SUPERSEDED_SQL, key)
            w.execute(q.DELETE_RESTORED_SQL, key)
        quarantined = int(w.query(q.QUARANTINE_OF_LOAD_SQL, key)[0]["n"])
        w.execute(q.DELETE_LOAD_QUARANTINE_SQL, key)
        w.execute(q.DELETE_LOAD_SQL, key)
        result = UnloadResult(load_id, str(load["kind"]), table_name, str(load["file_name"]), removed, restored,
                              quarantined)
        if on_write is not None:
            on_write(w, result)
    return result


def return_history(
    store: Store, org_code: str, period_start: Any, metric_code: str, source: str
) -> list[dict[str, Any]]:
    """Every value one returns key has had, oldest first: value, load, file, when loaded, and the load
    that replaced it (``None`` for the current value).

    >>> import tempfile, pathlib, datetime
    >>> from uec.store import open_store
    >>> store = open_store(str(pathlib.Path(tempfile.mkdtemp()) / "uec.duckdb"))
    >>> return_history(store, "DEMO-A", datetime.date(2024, 4, 1), "m1", "local")
    []
    """
    params = {"org": org_code, "start": period_start, "metric": metric_code, "source": source}
    with store.reading():
        if not int(store.query(q.HAS_HISTORY_SQL)[0]["n"]):  # a store from before revisions were kept
            return [dict(r, superseded_by=None, superseded_at=None)
                    for r in store.query(q.CURRENT_VALUE_SQL, params)]
        return store.query(q.HISTORY_SQL, params)
