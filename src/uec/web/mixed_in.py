"""The warning on every page when real data has been loaded into a demo store (issue 15).

``base.html`` calls :func:`mixed_in_notice` (a template global) while a page renders. The answer is
worked out once per data version and kept in the shared answer cache (:mod:`uec.web.cache`), so a
request costs a look-up, never the query; a page kept rendered in the cache carries the notice of
its own data version, which is when the notice can change.

The app tells templates how to reach the store and cache through :class:`MixedInContext`, an ASGI
middleware; outside a request (a doctest, the access layer's own pages) there is no notice.

>>> mixed_in_notice() is None
True
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Callable
from typing import Any

from uec.ingest.mixed_in import MixedIn, mixed_in
from uec.store import Store, open_store
from uec.web.cache import AnswerCache

__all__ = ["MixedInContext", "mixed_in_notice"]

log = logging.getLogger("uec.web")

_lookup: contextvars.ContextVar[Callable[[], MixedIn | None] | None] = contextvars.ContextVar(
    "uec_mixed_in", default=None)


def mixed_in_notice() -> MixedIn | None:
    """The real data mixed into this request's demo store, or ``None`` (not a demo store, nothing
    mixed in, or not in a request). Never fails a page: a store that cannot answer gives ``None``
    (the page's own figures will say what is wrong)."""
    lookup = _lookup.get()
    if lookup is None:
        return None
    try:
        return lookup()
    except Exception as exc:  # the notice is a courtesy; the page must still render
        log.warning("could not check for real data in the demo store (%s)", type(exc).__name__)
        return None


class MixedInContext:
    """ASGI middleware: lets :func:`mixed_in_notice` reach the app's store and answer cache."""

    def __init__(self, app: Any, store_url: str, cache: Callable[[], AnswerCache]) -> None:
        self.app = app
        self.store_url = store_url
        self.cache = cache
        # One store object for the app's life: opening one runs the schema check (a write on
        # PostgreSQL), and it holds no connection between queries, so keeping it costs nothing.
        self._store: Store | None = None
        self._lock = threading.Lock()

    def _lookup(self) -> MixedIn | None:
        with self._lock:
            if self._store is None:
                self._store = open_store(self.store_url)
            store = self._store
        return self.cache().get(store, "mixed-in", compute=lambda: mixed_in(store))

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = _lookup.set(self._lookup)
        try:
            await self.app(scope, receive, send)
        finally:
            _lookup.reset(token)
