"""The web app's dependencies, injected into routes with ``Depends`` so a test can replace any of them
(``app.dependency_overrides[get_store] = lambda: my_store``).

- :func:`get_settings`: the one typed :class:`~uec.config.Settings`, read once when the app is built.
- :func:`get_store`: the store named by the settings, opened for each request (the embedded DuckDB
  file may be held by one writer only, and ``uec ingest`` must be able to write while the app runs).
- :func:`get_cache`: the cache of computed answers shared by every worker process.
- :func:`get_current_user`: who is asking. A placeholder answering ``None`` (nobody signed in) until
  the access package is merged; then it becomes ``uec.access.web.current_user`` (one line, below).

>>> from fastapi import Depends
>>> from fastapi.testclient import TestClient
>>> from uec.web import create_app
>>> app = create_app("unused.duckdb")
>>> @app.get("/whoami")
... def whoami(user: object = Depends(get_current_user)) -> dict[str, object]:
...     return {"user": user}
>>> app.dependency_overrides[get_current_user] = lambda: "tester"
>>> TestClient(app).get("/whoami").json()
{'user': 'tester'}
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from jinja2 import Environment

from uec.config import Settings
from uec.config import get_settings as process_settings
from uec.store import Store, open_store
from uec.web.cache import AnswerCache

__all__ = [
    "CacheDep",
    "CurrentUser",
    "SettingsDep",
    "StoreDep",
    "get_cache",
    "get_current_user",
    "get_settings",
    "get_store",
    "get_templates",
]


def get_settings(request: Request) -> Settings:
    """The app's settings (``create_app`` reads them once, from ``UEC_*`` and ``.env``); the process's
    (:func:`uec.config.get_settings`) for an app built some other way."""
    settings: Settings | None = getattr(request.app.state, "settings", None)
    return settings if settings is not None else process_settings()


def get_store(settings: Annotated[Settings, Depends(get_settings)]) -> Store:
    """The store, opened for this request. A store that cannot be opened is a 503 with the reason."""
    return open_store(settings.store)


def get_cache(request: Request) -> AnswerCache:
    """The cache of computed answers, keyed by the store's data version."""
    cache: AnswerCache = request.app.state.cache
    return cache


def get_templates(request: Request) -> Environment:
    """The Jinja environment pages are rendered with."""
    env: Environment = request.app.state.templates
    return env


def get_current_user(request: Request) -> Any:
    """The signed-in user, or ``None``. Merge step: ``from uec.access.web import current_user as
    get_current_user`` replaces this function (routes depend on the name, not the body)."""
    return None


# Parameter types for routes, as in the FastAPI full-stack template (``SessionDep``, ``CurrentUser``).
SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
CacheDep = Annotated[AnswerCache, Depends(get_cache)]
CurrentUser = Annotated[Any, Depends(get_current_user)]
