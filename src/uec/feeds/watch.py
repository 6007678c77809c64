"""``uec watch DIR``: load files dropped into a folder, then move each to ``loaded/`` or ``rejected/``.

A file is read only once it is complete. Two conventions, both honoured:

- a writer that can rename writes ``name.csv.part`` and renames it to ``name.csv`` when done
  (``*.part`` files are never read; the rename is atomic, so the file appears whole);
- any other file is read only after its size and modification time have not changed for
  ``settle`` seconds (default 2), so a file still being copied in is not read half-way.

A file's kind is the start of its name (``attendances.csv``, ``bed-states_0815.csv``,
``returns.2026-12-02.csv``), or ``--kind`` for the whole folder. After the load (committed whole
or not at all by :func:`uec.ingest.ingest`) the file is moved, by a rename within the folder, to
``DIR/loaded/`` with ``<name>.result.json`` (the counts), or to ``DIR/rejected/`` with
``<name>.reason.txt`` saying why (written first, so a rejected file always has its reason).

>>> import tempfile, pathlib
>>> from uec.store import open_store
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> store = open_store(str(d / "uec.duckdb"))
>>> inbox = d / "inbox"; inbox.mkdir()
>>> _ = (inbox / "returns.csv").write_text(
...     "org_code,period_start,period_length,metric_code,value,source\\nDEMO-A,2024-04-01,day,opel_x,3,opel\\n")
>>> _ = (inbox / "notes.txt").write_text("hello")
>>> [(o.name, o.outcome) for o in scan(store, inbox, settle=0)]
[('notes.txt', 'rejected'), ('returns.csv', 'loaded')]
>>> sorted(p.name for p in (inbox / "rejected").iterdir())
['notes.txt', 'notes.txt.reason.txt']
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from uec.errors import UecError
from uec.feeds.batch import feed_kinds, load_file, load_warnings, refusals
from uec.store import Store, StoreBusy

__all__ = ["Outcome", "kind_of", "scan", "watch"]

LOADED = "loaded"
REJECTED = "rejected"
#: Seconds a file's size and time must stay unchanged before it is read (without ``.part``).
DEFAULT_SETTLE = 2.0


@dataclass(frozen=True)
class Outcome:
    """What happened to one file."""

    name: str
    outcome: str  # loaded | rejected
    detail: str
    #: Loaded, but worth knowing (each a ``warning:`` line, e.g. real data put into a demo store).
    warnings: tuple[str, ...] = ()


def kind_of(name: str, kinds: list[str] | None = None) -> str | None:
    """The kind a file name starts with (followed by ``.``, ``_`` or ``-``), the longest that fits.

    >>> kind_of("bed-states_0815.csv"), kind_of("returns.2026-12-02.csv"), kind_of("x.csv")
    ('bed-states', 'returns', None)
    """
    found = [k for k in (kinds or feed_kinds()) if name == k or name.startswith((f"{k}.", f"{k}_", f"{k}-"))]
    return max(found, key=len) if found else None


def _free(folder: Path, name: str) -> Path:
    """A path in ``folder`` for ``name`` that is not taken (a resent file keeps the first)."""
    target = folder / name
    if not target.exists():
        return target
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    return folder / f"{stamp}-{name}"


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _reject(inbox: Path, path: Path, reason: str) -> Outcome:
    folder = inbox / REJECTED
    folder.mkdir(exist_ok=True)
    target = _free(folder, path.name)
    _write_atomic(target.with_name(target.name + ".reason.txt"), reason + "\n")
    os.replace(path, target)
    return Outcome(path.name, REJECTED, reason)


def _settled(path: Path, settle: float, seen: dict[Path, tuple[int, int, float]]) -> bool:
    st = path.stat()
    now = time.monotonic()
    sig = (st.st_size, st.st_mtime_ns)
    prev = seen.get(path)
    if prev is None or prev[:2] != sig:
        seen[path] = (*sig, now)
        # A file already older than the settle time (there before the watcher started) is ready.
        return settle <= 0 or (time.time() - st.st_mtime) >= settle
    return now - prev[2] >= settle


def scan(store: Store, inbox: Path, *, kind: str | None = None, org_code: str | None = None, settle: float = 0,
         actor_label: str | None = None, seen: dict[Path, tuple[int, int, float]] | None = None) -> list[Outcome]:
    """Load every complete file in ``inbox`` once (sorted by name); return what happened to each.

    With ``org_code``, every row must be that organisation's (as for the feed endpoint).
    """
    from uec.contract import table as contract_table
    from uec.feeds.batch import owner_field
    from uec.ingest.formats import read_file, resolve_kind

    seen = {} if seen is None else seen
    out: list[Outcome] = []
    for path in sorted(p for p in inbox.iterdir() if p.is_file()):
        if path.name.endswith(".part") or path.name.startswith("."):
            continue
        if not _settled(path, settle, seen):
            continue
        seen.pop(path, None)
        k = kind or kind_of(path.name)
        if k is None:
            out.append(_reject(inbox, path, f"cannot tell the kind of {path.name}: start its name with one of "
                                            f"{', '.join(feed_kinds())} (or run with --kind)"))
            continue
        try:
            if org_code is not None:
                # Read as the load will (CSV, .csv.gz or Parquet, every column as text), so no file
                # format slips past the check.
                table = contract_table(resolve_kind(k)[0].name)
                data = read_file(path, all_text=True).data
                header = data.column_names
                rows = [{c: "" if v is None else str(v) for c, v in r.items()} for r in data.to_pylist()]
                if owner_field(table) not in header:
                    raise UecError(f"no {owner_field(table)} column, so the rows cannot be checked against {org_code}")
                problems = refusals(store, table, rows, org_code)
                if problems:
                    raise UecError("; ".join(problems[:10]) + f"; this folder takes rows of {org_code} only")
            result = load_file(store, k, path, actor_label=actor_label, via="watch")
        except StoreBusy:
            # Another writer holds the store: the file is fine, so it stays for the next look.
            continue
        except UecError as exc:
            out.append(_reject(inbox, path, str(exc)))
            continue
        if result.already_loaded is not None:
            out.append(_reject(inbox, path, f"already loaded (load {result.already_loaded}): the same {k} file "
                                            "was loaded before; nothing added"))
            continue
        folder = inbox / LOADED
        folder.mkdir(exist_ok=True)
        target = _free(folder, path.name)
        _write_atomic(target.with_name(target.name + ".result.json"), json.dumps(result.as_dict(), default=str))
        os.replace(path, target)
        out.append(Outcome(path.name, LOADED, f"load {result.load_id}: {result.rows_loaded} loaded, "
                                              f"{result.rows_quarantined} quarantined",
                           tuple(load_warnings(store, result))))
    return out


def watch(  # noqa: PLR0913 - keyword-only options of one command, each named at the call
    store: Store, inbox: Path, *, kind: str | None = None, org_code: str | None = None,
    settle: float = DEFAULT_SETTLE, every: float = 1.0, once: bool = False,
    actor_label: str | None = None, report: Callable[[Outcome], None] | None = None,
) -> int:
    """Poll ``inbox`` every ``every`` seconds until stopped (or once); returns files handled."""
    if not inbox.is_dir():
        raise UecError(f"{inbox} is not a folder")
    if kind is not None and kind not in feed_kinds():
        raise UecError(f"unknown kind {kind!r}; choose one of: {', '.join(feed_kinds())}")
    seen: dict[Path, tuple[int, int, float]] = {}
    handled = 0
    while True:
        for o in scan(store, inbox, kind=kind, org_code=org_code, settle=settle, actor_label=actor_label, seen=seen):
            handled += 1
            if report:
                report(o)
        if once:
            return handled
        time.sleep(every)
