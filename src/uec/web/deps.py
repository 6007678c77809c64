"""The web app's dependencies, injected into routes with ``Depends`` so a test can replace any of them
(``app.dependency_overrides[get_store] = lambda: my_store``).

- :func:`get_settings`: the one typed :class:`~uec.config.Settings`, read once when the app is built.
- :func:`get_store`: the store named by the settings, opened for each request (the embedded DuckDB
  file may be held by one writer only, and ``uec ingest`` must be able to write while the app runs).
- :func:`get_cache`: the cache of computed answers shared by every worker process.
- :func:`get_current_user`: who is asking (``uec.access.web.current_user``): a :class:`~uec.access.User`
  by API token or session cookie, or ``None``.
- :func:`allow`: what every route of the app depends on to say which permission it needs
  (``uec.access.web.require``, except that ``view_aggregate`` is open to visitors who are not
  signed in when the setting ``anonymous_read`` is on).

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

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from jinja2 import Environment

from uec.access.user import User
from uec.access.web import current_user, require
from uec.config import Settings
from uec.config import get_settings as process_settings
from uec.store import Store, open_store
from uec.web.cache import AnswerCache

__all__ = [
    "CacheDep",
    "CurrentUser",
    "SettingsDep",
    "StoreDep",
    "allow",
    "get_cache",
    "get_current_user",
    "get_settings",
    "get_store",
    "get_templates",
]


# The dependencies that only look at the app are async: FastAPI runs a sync one in a thread, and
# the hop costs more than they do.
async def get_settings(request: Request) -> Settings:
    """The app's settings (``create_app`` reads them once, from ``UEC_*`` and ``.env``); the process's
    (:func:`uec.config.get_settings`) for an app built some other way."""
    settings: Settings | None = getattr(request.app.state, "settings", None)
    return settings if settings is not None else process_settings()


def get_store(settings: Annotated[Settings, Depends(get_settings)]) -> Store:
    """The store, opened for this request. A store that cannot be opened is a 503 with the reason."""
    return open_store(settings.store)


async def get_cache(request: Request) -> AnswerCache:
    """The cache of computed answers, keyed by the store's data version."""
    cache: AnswerCache = request.app.state.cache
    return cache


async def get_templates(request: Request) -> Environment:
    """The Jinja environment pages are rendered with."""
    env: Environment = request.app.state.templates
    return env


# Who is asking: by API token or session cookie (uec.access). Routes depend on this name, so a test
# overrides ``dependency_overrides[get_current_user]`` to act as anyone.
get_current_user = current_user


# Parameter types for routes, as in the FastAPI full-stack template (``SessionDep``, ``CurrentUser``).
SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
CacheDep = Annotated[AnswerCache, Depends(get_cache)]
CurrentUser = Annotated[Any, Depends(get_current_user)]


# Only reading aggregate figures may be opened to everyone; a setting must never open patient-level
# rows or actions.
_OPENABLE = "view_aggregate"


def allow(permission: str, *, org_param: str | None = None) -> Callable[..., Awaitable[User | None]]:
    """The dependency a route takes to need ``permission``: the user if allowed, else 401 or 403.

    It is :func:`uec.access.web.require`, with one difference: when the setting ``anonymous_read``
    is on, ``view_aggregate`` lets in a visitor who is not signed in (the dependency gives ``None``).
    A signed-in user is always checked, and every other permission always needs one.

    >>> from fastapi import FastAPI
    >>> from uec.access.web import route_permissions
    >>> app = FastAPI()
    >>> @app.get("/x", dependencies=[Depends(allow("view_aggregate"))])
    ... def x() -> int:
    ...     return 1
    >>> route_permissions(app)["GET /x"]
    ('view_aggregate',)
    """
    strict = require(permission, org_param=org_param)

    async def dependency(request: Request, settings: Annotated[Settings, Depends(get_settings)],
                         user: Annotated[User | None, Depends(get_current_user)]) -> User | None:
        if user is None and permission == _OPENABLE and settings.anonymous_read:
            return None
        return strict(request, user)

    dependency.__name__ = f"allow_{permission}"
    # Read by uec.access.web.route_permissions: which permission each route asks for.
    setattr(dependency, "permission", permission)  # noqa: B010
    return dependency
