"""A short-lived, per-process cache of who a session or token is.

Looking a user up opens the store (tens of milliseconds for DuckDB on a busy machine), and every
signed-in request needs it. Answers are kept for ``UEC_ACCESS_CACHE_SECONDS`` (default 5): a
change made in this process (a role, a disabled account, a revoked token) clears the cache at
once; one made by another process (``uec users disable`` at the command line) takes effect within
that many seconds. Set it to 0 to look up every time.

>>> calls = []
>>> load = lambda: calls.append(1) or "ana"
>>> lookup(("x", "ana"), 60, load), lookup(("x", "ana"), 60, load), len(calls)
('ana', 'ana', 1)
>>> invalidate(); lookup(("x", "ana"), 60, load), len(calls)
('ana', 2)
>>> lookup(("x", "ana"), 0, load), len(calls)
('ana', 3)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import TypeVar

__all__ = ["invalidate", "lookup"]

_T = TypeVar("_T")
_MAX_ENTRIES = 10_000

_entries: dict[Hashable, tuple[float, object]] = {}
_lock = threading.Lock()


def lookup(key: Hashable, ttl: float, load: Callable[[], _T]) -> _T:
    """The cached answer for ``key`` if younger than ``ttl`` seconds, else ``load()`` (then cached)."""
    if ttl <= 0:
        return load()
    now = time.monotonic()
    with _lock:
        hit = _entries.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]  # type: ignore[return-value]
    value = load()
    with _lock:
        if len(_entries) >= _MAX_ENTRIES:
            _entries.clear()
        _entries[key] = (now + ttl, value)
    return value


def invalidate() -> None:
    """Forget every answer (called by every change to users, roles and tokens)."""
    with _lock:
        _entries.clear()
