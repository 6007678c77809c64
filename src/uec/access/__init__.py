"""Who may do what: organisations, people, roles, sign-in, API tokens and the audit trail.

* :class:`User` — who is acting (username, organisation, roles).
* :func:`allowed` — the one place permissions (``permissions.yaml``) are checked.
* :mod:`uec.access.accounts` — local accounts (Argon2), lock-out, users from single sign-on.
* :mod:`uec.access.tokens` — API tokens for machine feeds.
* :mod:`uec.access.audit` — the hash-chained audit trail, written in the caller's transaction.
* :mod:`uec.access.web` — the web app's sessions, CSRF, security headers and ``require()``.
* :func:`demo_users` — one demo user per role and a site manager per organisation.

>>> allowed(User("v", "V", "QXX", frozenset({"viewer"})), "view_audit")
False
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from uec.access.permissions import ROLES, allowed
from uec.access.user import User

if TYPE_CHECKING:
    from uec.access.demo import DemoUser, demo_users

__all__ = ["ROLES", "DemoUser", "User", "allowed", "demo_users"]


def __getattr__(name: str) -> Any:
    # The demo pulls in the password hasher; the web app's permission checks should not.
    if name in ("demo_users", "DemoUser"):
        from uec.access import demo

        return getattr(demo, name)
    raise AttributeError(name)
