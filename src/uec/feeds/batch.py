"""One small batch from a sending organisation: parsed, checked against its sender, then loaded by
:func:`uec.ingest.ingest` (the same validation, quarantine and atomic load as ``uec ingest``).

A batch is CSV (the contract's columns, a header line) or JSON (a list of objects, or
``{"rows": [...]}``, keyed by the contract's columns). Every row must belong to the sender: the
table's owning column (``org_code`` where the table has one, else ``site_code``) must be the
sender's organisation or one of its sites. A batch with any other organisation's row is refused
whole, with the row numbers and why, and nothing is loaded: a token leaked from one trust cannot
write another's figures.

>>> import tempfile, os
>>> from uec.store import open_store
>>> store = open_store(os.path.join(tempfile.mkdtemp(), "uec.duckdb"))
>>> body = b"org_code,period_start,period_length,metric_code,value,source\\nDEMO-A,2024-04-01,day,opel_x,3,opel\\n"
>>> r = receive(store, "returns", body, content_type="text/csv", org_code="DEMO-A", actor_label="token:t")
>>> (r.rows_in, r.rows_loaded, r.rows_quarantined)
(1, 1, 0)
>>> receive(store, "returns", body.replace(b"DEMO-A,", b"DEMO-B,"), content_type="text/csv", org_code="DEMO-A",
...         actor_label="token:t")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
uec.feeds.batch.FeedRefused: row 1: org_code DEMO-B is not DEMO-A or one of its sites; this sender sends only for DEMO-A
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import tempfile
from pathlib import Path
from typing import Any

from uec.access import audit
from uec.access.user import User
from uec.contract import Table
from uec.errors import UecError
from uec.feeds import queries
from uec.ingest import LoadResult, ingest
from uec.ingest.formats import resolve_kind
from uec.ingest.mixed_in import mixed_in_warning
from uec.store import Store

__all__ = ["MAX_BYTES", "FeedRefused", "feed_kinds", "load_file", "load_warnings", "owner_field", "parse", "receive",
           "refusals"]

#: The largest batch the endpoint takes. Reasoning (verified: false): a feed sends what changed in
#: the last 15 minutes; the busiest demo site has ~40 attendances an hour, a large trust ~150, so a
#: 15-minute batch is tens of rows of ~300 bytes. 5 MB allows a day's catch-up of a whole ICS
#: after an outage while keeping one request's memory small; larger loads go through `uec ingest`.
MAX_BYTES = 5 * 1024 * 1024

#: Most refusal reasons listed in one error (the count of the rest is given).
_SHOWN = 10


class FeedRefused(UecError):
    """A batch refused whole, nothing loaded. ``status`` is the HTTP status that says why: 403 rows
    for another organisation, 404 a kind no feed sends, 413 too large, 415 neither CSV nor JSON, 400
    otherwise."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def feed_kinds() -> list[str]:
    """The kinds a feed may send: the contract's event and return tables (reference data is an
    administrator's load, not a feed).

    >>> feed_kinds()[:3]
    ['calls-111', 'ambulance-incidents', 'attendances']
    """
    from uec.contract import tables

    return [t.kind for t in tables() if t.grain in ("event", "return")]


def _table(kind: str) -> Table:
    if kind not in feed_kinds():
        raise FeedRefused(f"unknown feed kind {kind!r}; a feed sends one of: {', '.join(feed_kinds())}", 404)
    table, _ = resolve_kind(kind)
    return table


def owner_field(table: Table) -> str:
    """The column that says whose row it is: ``org_code`` where the table has one, else ``site_code``.

    >>> from uec.contract import table
    >>> owner_field(table("ambulance_incidents")), owner_field(table("attendances"))
    ('org_code', 'site_code')
    """
    return "org_code" if "org_code" in table.field_names else "site_code"


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (dict, list)):
        raise FeedRefused("a JSON row holds only plain values (text, numbers, true/false, null), not objects or lists")
    return str(v)


def parse(body: bytes, content_type: str) -> tuple[list[str], list[dict[str, str]], bytes]:
    """The header, the rows (as text) and CSV bytes for the load, from a CSV or JSON body.

    >>> parse(b'[{"a": 1, "b": null}]', "application/json")
    (['a', 'b'], [{'a': '1', 'b': ''}], b'a,b\\r\\n1,\\r\\n')
    """
    kind = content_type.split(";")[0].strip().lower()
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FeedRefused("the body is not UTF-8 text") from None
    if kind in ("application/json", "text/json"):
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FeedRefused(f"the body is not JSON: {exc.msg} at line {exc.lineno}") from None
        rows_in = doc.get("rows") if isinstance(doc, dict) else doc
        if not isinstance(rows_in, list) or not all(isinstance(r, dict) for r in rows_in):
            raise FeedRefused('a JSON batch is a list of objects, or {"rows": [...]}')
        header: list[str] = []
        for r in rows_in:
            header += [str(k) for k in r if str(k) not in header]
        rows = [{h: _text(r.get(h)) for h in header} for r in rows_in]
        out = io.StringIO()
        w = csv.DictWriter(out, fieldnames=header)
        w.writeheader()
        w.writerows(rows)
        return header, rows, out.getvalue().encode("utf-8")
    if kind in ("text/csv", "application/csv", "text/plain"):
        reader = csv.reader(io.StringIO(text, newline=""))
        lines = list(reader)
        if not lines:
            raise FeedRefused("the body is empty: expected a header line naming the columns")
        header = lines[0]
        # A line with the wrong number of fields is left to the load, which quarantines it.
        rows = [dict(zip(header, line, strict=True)) for line in lines[1:] if len(line) == len(header)]
        return header, rows, body
    raise FeedRefused(f"unsupported content type {kind!r}; send text/csv or application/json", 415)


def refusals(store: Store, table: Table, rows: list[dict[str, str]], org_code: str) -> list[str]:
    """Why rows may not be sent by ``org_code`` (empty when every row is its own).

    A site code must be a known site of the sender (an unknown one cannot be vouched for);
    ``returns`` may be for the organisation or one of its sites.
    """
    owner = owner_field(table)
    values = [r.get(owner, "") for r in rows]
    sites = queries.site_orgs(store, [v for v in values if v and v != org_code])
    out: list[str] = []
    for n, v in enumerate(values, start=1):
        if owner == "site_code":
            if sites.get(v) != org_code:
                why = "an unknown site" if v not in sites else f"a site of {sites[v]}"
                out.append(f"row {n}: site_code {v or '(empty)'} is {why}, not of {org_code}")
        elif v != org_code and not (table.name == "returns" and sites.get(v) == org_code):
            where = " or one of its sites" if table.name == "returns" else ""
            out.append(f"row {n}: org_code {v or '(empty)'} is not {org_code}{where}")
    return out


def _audit(store: Store, *, action: str, object_id: str, after: dict[str, Any], actor: User | None,
           actor_label: str | None, request_id: str | None) -> None:
    with audit.writing(store) as w:
        audit.record(w, actor=actor, actor_label=actor_label, action=action, object_type="load",
                     object_id=object_id, before=None, after=after, request_id=request_id)


def load_file(store: Store, kind: str, path: Path, *, actor: User | None = None, actor_label: str | None = None,
              request_id: str | None = None, via: str = "feed") -> LoadResult:
    """``uec.ingest.ingest``, audited in the load's own transaction (``ingest.load``) by whoever sent it:
    the person, else the label (``token:…``, ``watch:…``). ``via`` and ``request_id`` are for the
    caller's other entries (a refused batch); the load's entry carries the load id.
    """
    return ingest(store, kind, path, actor=actor if actor is not None else actor_label)


def load_warnings(store: Store, result: LoadResult) -> list[str]:
    """What a feed batch or a watched file should be warned about once loaded: today only real data
    put into a demo store (:func:`uec.ingest.mixed_in.mixed_in_warning`, worded as ``uec ingest`` says it).

    >>> import tempfile, os
    >>> from uec.store import open_store
    >>> with tempfile.TemporaryDirectory() as d:
    ...     store = open_store(os.path.join(d, "uec.duckdb"))
    ...     load_warnings(store, receive(store, "returns", b"org_code,period_start,period_length,metric_code,"
    ...                   b"value,source\\nDEMO-A,2024-04-01,day,opel_x,3,opel\\n", content_type="text/csv",
    ...                   org_code="DEMO-A", actor_label="token:t"))
    []
    """
    if result.load_id is None or result.already_loaded is not None or not result.rows_loaded:
        return []
    warning = mixed_in_warning(store, result.table, result.load_id)
    return [warning] if warning else []


def receive(store: Store, kind: str, body: bytes, *, content_type: str, org_code: str,
            actor: User | None = None, actor_label: str | None = None, request_id: str | None = None) -> LoadResult:
    """Check and load one batch sent by ``org_code``; see the module docstring.

    Raises :class:`FeedRefused` (nothing loaded, the refusal audited) when the batch is too large,
    of an unknown kind, malformed, or holds another organisation's rows.
    """
    try:
        if len(body) > MAX_BYTES:
            raise FeedRefused(f"the batch is {len(body)} bytes; a feed batch is at most {MAX_BYTES} "
                              "(send larger files with `uec ingest`)", 413)
        table = _table(kind)
        header, rows, data = parse(body, content_type)
        owner = owner_field(table)
        if owner not in header:
            raise FeedRefused(f"the batch has no {owner} column, so it cannot be checked against its sender")
        problems = refusals(store, table, rows, org_code)
        if problems:
            more = f"; and {len(problems) - _SHOWN} more" if len(problems) > _SHOWN else ""
            raise FeedRefused("; ".join(problems[:_SHOWN]) + more +
                              f"; this sender sends only for {org_code}", 403)
    except FeedRefused as exc:
        _audit(store, action="feed.refused", object_id=kind[:64],
               after={"kind": kind, "org_code": org_code, "bytes": len(body), "reason": str(exc)[:500]},
               actor=actor, actor_label=actor_label, request_id=request_id)
        raise
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    with tempfile.TemporaryDirectory(prefix="uec-feed-") as d:
        path = Path(d) / f"feed-{org_code}-{kind}-{stamp}.csv"
        path.write_bytes(data)
        return load_file(store, kind, path, actor=actor, actor_label=actor_label, request_id=request_id)
