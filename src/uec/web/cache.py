"""A cache of computed answers (standards, forecasts, occupancy, rendered pages) shared by every worker process.

Answers are kept in a folder (``Settings.cache_dir``, default ``.state/cache``) with
:mod:`diskcache`, which several processes may read and write at once, bounded by
``Settings.cache_size_mb`` (the least recently stored answers go first). Each key holds the store's
:meth:`~uec.store.Store.data_version`, so any change to the data makes a new key.

**Stale while revalidate.** When the data changes (a load commits), every answer's key changes at
once. The first request to ask for an answer takes a lock kept in the cache (so it holds across
processes) and computes it; every other request that asks for it meanwhile is answered at once
with the answer for the previous data, and :func:`served_stale` says so (the app puts the time of
that data in an ``X-Data-As-Of`` header and a notice on the page). Only a request that finds no
previous answer at all waits for the one computation. So a load makes one computation per answer,
not one per waiting request.

**The data version is cheap to read.** It is kept per process and read again only when the store's
:meth:`~uec.store.Store.change_stamp` (on DuckDB, the status of the snapshot pointer that every
committed write replaces) changes, or after :data:`VERSION_SECONDS`; PostgreSQL has no stamp, so
there a change shows within that many seconds.

>>> import tempfile, os
>>> from uec.store import open_store
>>> with tempfile.TemporaryDirectory() as d:
...     store = open_store(os.path.join(d, "uec.duckdb"))
...     cache = AnswerCache(os.path.join(d, "cache"), 1 << 20)
...     first = cache.get(store, "answer", 1, compute=lambda: 42)
...     again = cache.get(store, "answer", 1, compute=lambda: 0)  # not computed again
...     cache.close()
>>> first, again
(42, 42)
"""

from __future__ import annotations

import contextvars
import datetime as dt
import hashlib
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar, cast

import diskcache

import uec
from uec.store import Store
from uec.web.display import LONDON

__all__ = ["MISS", "VERSION_SECONDS", "AnswerCache", "FreshnessHeaders", "data_version", "freshness", "served_stale"]

log = logging.getLogger("uec.web")

T = TypeVar("T")

# Bumped when a cached entry's shape changes without a version change, so old entries are not read.
_FORMAT = 2
_MISS = object()
#: What :meth:`AnswerCache.peek` gives when it does not have the answer at hand.
MISS: Any = object()
# Longest a computation may hold its lock before another worker may start the same one.
_LOCK_SECONDS = 900
# Entries each process keeps in memory besides the shared folder (a rendered page is up to ~250 KB).
_MEMO_ENTRIES = 128
# How often a request that waits for another's computation (with nothing older to serve) looks again.
_POLL_SECONDS = 0.02

#: Longest a process keeps a store's data version without reading it again (DuckDB reads it again
#: at once when a write is published; PostgreSQL only after this long).
VERSION_SECONDS = 1.0

_versions: dict[str, tuple[float, tuple[Any, ...] | None, str]] = {}
_versions_lock = threading.Lock()


def data_version(store: Store) -> str:
    """The store's :meth:`~uec.store.Store.data_version`, hashed (it holds the store's URL, and a
    PostgreSQL URL may hold a password), read again only when the store's change stamp changes or
    :data:`VERSION_SECONDS` have passed.

    >>> import tempfile, os
    >>> from uec.store import open_store
    >>> with tempfile.TemporaryDirectory() as d:
    ...     store = open_store(os.path.join(d, "uec.duckdb"))
    ...     other = open_store(os.path.join(d, "other.duckdb"))
    ...     data_version(store) == data_version(store), data_version(store) == data_version(other)
    (True, False)
    """
    now = time.monotonic()
    # Read before the version: a write between the two makes the next request read it again.
    stamp = store.change_stamp()
    known = _known_version(store, stamp, now)
    if known is not None:
        return known
    version = hashlib.sha256(repr(store.data_version()).encode()).hexdigest()
    with _versions_lock:
        _versions[store.url] = (now, stamp, version)
    return version


def _known_version(store: Store, stamp: tuple[Any, ...] | None, now: float) -> str | None:
    """The data version this process read last, if it still holds (else ``None``: read it again)."""
    with _versions_lock:
        kept = _versions.get(store.url)
    if kept is None:
        return None
    if stamp is not None and kept[1] == stamp and now - kept[0] < VERSION_SECONDS * 5:
        return kept[2]
    if stamp is None and now - kept[0] < VERSION_SECONDS:
        return kept[2]
    return None


# --- which answers of this request were stale -------------------------------------------------

_stale: contextvars.ContextVar[list[dt.datetime] | None] = contextvars.ContextVar("uec_stale_answers", default=None)


@contextmanager
def freshness() -> Iterator[list[dt.datetime]]:
    """Collect, for one request, the data times of the stale answers it was given (empty: all fresh).

    The list is shared with the threads the request's work runs in (they get a copy of the context,
    which holds this same list).

    >>> with freshness() as stale:
    ...     served_stale() is None
    True
    """
    found: list[dt.datetime] = []
    token = _stale.set(found)
    try:
        yield found
    finally:
        _stale.reset(token)


def served_stale() -> dt.datetime | None:
    """The data time of the oldest stale answer this request was given, or ``None`` if none was stale."""
    found = _stale.get()
    return min(found) if found else None


def _note_stale(as_of: dt.datetime) -> None:
    found = _stale.get()
    if found is not None:
        found.append(as_of)


class FreshnessHeaders:
    """ASGI middleware: collects each request's stale answers (:func:`freshness`) and, when there were
    any, says so in the response's ``X-Data-As-Of`` header (the time of the data the answer is from,
    ISO 8601 UTC), so a script can tell an answer from before the latest load.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with freshness() as stale:

            async def send_marked(message: Any) -> None:
                if message["type"] == "http.response.start" and stale:
                    as_of = min(stale).astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
                    message = {**message, "headers": [*message.get("headers", []),
                                                      (b"x-data-as-of", as_of.encode("latin-1"))]}
                await send(message)

            await self.app(scope, receive, send_marked)


class AnswerCache:
    """Computed answers on disk, keyed by name, the store's data version, today's date and arguments."""

    def __init__(self, directory: str | Path, size_limit_bytes: int) -> None:
        Path(directory).mkdir(parents=True, exist_ok=True)
        self.directory = str(directory)
        self._cache = diskcache.Cache(self.directory, size_limit=size_limit_bytes)
        # The entries this process read or wrote last. An entry's key holds the data version, so the
        # entry never changes: kept here, a hit costs neither a read from disk nor unpickling a model.
        self._memo: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._memo_lock = threading.Lock()

    def key(self, store: Store, name: str, *args: Hashable) -> tuple[Any, ...]:
        """The key of an answer. Today's (London) date is in it because pages say which targets are in
        force today and which day is "yesterday"."""
        today = dt.datetime.now(LONDON).date().isoformat()
        return (uec.__version__, _FORMAT, name, data_version(store), today, *args)

    def peek(self, store: Store, name: str, *args: Hashable) -> Any:
        """The answer if this process has it in memory for the data version it knows to be current,
        else :data:`MISS`; never reads the store, the disk or computes, so an ``async`` route may ask
        without leaving the event loop (and asks :meth:`get` in a thread on a miss)."""
        version = _known_version(store, store.change_stamp(), time.monotonic())
        if version is None:
            return MISS
        today = dt.datetime.now(LONDON).date().isoformat()
        with self._memo_lock:
            hit = self._memo.get((uec.__version__, _FORMAT, name, version, today, *args), _MISS)
        return MISS if hit is _MISS else hit[1]

    def get(self, store: Store, name: str, *args: Hashable, compute: Callable[[], T]) -> T:
        """The answer for ``name`` and ``args`` over the store's current data: from the cache, else
        computed once however many ask at the same time (in any process), while the others are given
        the answer for the previous data if there is one (:func:`served_stale`). Errors are not kept:
        the next request tries again. An answer may be given to several requests at once: read it,
        never change it."""
        key = self.key(store, name, *args)
        hit = self._entry(key, name)
        if hit is not _MISS:
            return cast(T, hit[1])
        latest = ("latest", uec.__version__, _FORMAT, name, *args)
        computing = ("computing", *key)
        while True:
            # One computation per answer, whichever worker or thread asks first; the lock expires if
            # its holder dies.
            if self._cache.add(computing, os.getpid(), expire=_LOCK_SECONDS):
                try:
                    hit = self._entry(key, name)  # finished by another while this one looked
                    if hit is not _MISS:
                        return cast(T, hit[1])
                    with freshness() as inner:
                        value = compute()
                    if inner:
                        # Made from another answer's older version (a page from stale figures): stale
                        # itself, so given as such and not kept under the new data's key.
                        _note_stale(min(inner))
                        return value
                    entry = (dt.datetime.now(dt.UTC), value)
                    self._cache.set(key, entry)
                    self._cache.set(latest, key)
                    self._remember(key, entry)
                    return value
                finally:
                    self._cache.delete(computing)
            previous = self._previous(latest, name)
            if previous is not _MISS:
                as_of, value = previous
                _note_stale(as_of)
                return cast(T, value)
            time.sleep(_POLL_SECONDS)
            hit = self._entry(key, name)
            if hit is not _MISS:
                return cast(T, hit[1])

    def _previous(self, latest: tuple[Any, ...], name: str) -> Any:
        """The entry (data time, answer) that ``latest`` points at: the answer for older data."""
        pointer = self._read(latest, name)
        if pointer is _MISS:
            return _MISS
        return self._read(pointer, name)

    def _read(self, key: tuple[Any, ...], name: str) -> Any:
        try:
            return self._cache.get(key, default=_MISS)
        except Exception as exc:  # an entry another version wrote and this one cannot read
            log.warning("cache entry for %s unreadable (%s): computing it again", name, type(exc).__name__)
            return _MISS

    def _entry(self, key: tuple[Any, ...], name: str) -> Any:
        """The entry (data time, answer) for ``key``: from this process's memory, else from disk."""
        with self._memo_lock:
            hit = self._memo.get(key, _MISS)
            if hit is not _MISS:
                self._memo.move_to_end(key)
                return hit
        hit = self._read(key, name)
        if hit is not _MISS:
            self._remember(key, hit)
        return hit

    def _remember(self, key: tuple[Any, ...], entry: Any) -> None:
        with self._memo_lock:
            self._memo[key] = entry
            self._memo.move_to_end(key)
            while len(self._memo) > _MEMO_ENTRIES:
                self._memo.popitem(last=False)

    def __len__(self) -> int:
        return len(self._cache)

    def close(self) -> None:
        """Close the cache's database connections (it reopens them if used again)."""
        self._cache.close()
