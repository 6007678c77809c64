"""A cache of computed answers (standards, forecasts, occupancy) shared by every worker process.

Answers are kept in a folder (``Settings.cache_dir``, default ``.state/cache``) with
:mod:`diskcache`, which several processes may read and write at once, bounded by
``Settings.cache_size_mb`` (the least recently stored answers go first). Each key holds the store's
:meth:`~uec.store.Store.data_version`, so any change to the data makes a new key and old answers
are never served; they age out under the size bound.

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

import datetime as dt
import hashlib
import logging
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any, TypeVar

import diskcache

import uec
from uec.store import Store
from uec.web.display import LONDON

__all__ = ["AnswerCache"]

log = logging.getLogger("uec.web")

T = TypeVar("T")

# Bumped when a cached model's shape changes without a version change, so old answers are not read.
_FORMAT = 1
_MISS = object()
# Longest a computation may hold its lock before another worker may start the same one.
_LOCK_SECONDS = 900


class AnswerCache:
    """Computed answers on disk, keyed by name, the store's data version, today's date and arguments."""

    def __init__(self, directory: str | Path, size_limit_bytes: int) -> None:
        Path(directory).mkdir(parents=True, exist_ok=True)
        self.directory = str(directory)
        self._cache = diskcache.Cache(self.directory, size_limit=size_limit_bytes)

    def key(self, store: Store, name: str, *args: Hashable) -> tuple[Any, ...]:
        """The key of an answer. Today's (London) date is in it because pages say which targets are in
        force today and which day is "yesterday"."""
        today = dt.datetime.now(LONDON).date().isoformat()
        # Hashed: the version holds the store's URL, and a PostgreSQL URL may hold a password.
        version = hashlib.sha256(repr(store.data_version()).encode()).hexdigest()
        return (uec.__version__, _FORMAT, name, version, today, *args)

    def get(self, store: Store, name: str, *args: Hashable, compute: Callable[[], T]) -> T:
        """The cached answer for ``name`` and ``args`` over the store's current data, computed (and
        kept) if there is none, once however many ask at the same time. Errors are not kept: the
        next request tries again."""
        key = self.key(store, name, *args)
        hit = self._read(key, name)
        if hit is not _MISS:
            return hit  # type: ignore[return-value]
        # One computation per answer, whichever worker or thread asks first: the others wait for it
        # here rather than each spend the same minute of CPU (a lock in the cache itself, so it holds
        # across processes; it expires if its holder dies).
        with diskcache.Lock(self._cache, ("computing", *key), expire=_LOCK_SECONDS):
            hit = self._read(key, name)
            if hit is not _MISS:
                return hit  # type: ignore[return-value]
            value = compute()
            self._cache.set(key, value)
            return value

    def _read(self, key: tuple[Any, ...], name: str) -> object:
        try:
            return self._cache.get(key, default=_MISS)
        except Exception as exc:  # an entry another version wrote and this one cannot read
            log.warning("cache entry for %s unreadable (%s): computing it again", name, type(exc).__name__)
            return _MISS

    def __len__(self) -> int:
        return len(self._cache)

    def close(self) -> None:
        """Close the cache's database connections (it reopens them if used again)."""
        self._cache.close()
