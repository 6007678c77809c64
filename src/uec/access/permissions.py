"""Permissions are data (``permissions.yaml``), checked in one place: :func:`allowed`.

>>> from uec.access.user import User
>>> manager = User("sam", "Sam", "RAA", frozenset({"site_manager"}))
>>> allowed(manager, "declare_escalation", "RAA"), allowed(manager, "declare_escalation", "RBB")
(True, False)
>>> allowed(manager, "view_patient_level")
False
>>> allowed(None, "view_aggregate")
False
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from typing import Any, Literal

import yaml

from uec.access.user import User
from uec.errors import UecError

__all__ = ["ROLES", "Policy", "allowed", "grants", "permission_names", "policy"]

Scope = Literal["system", "organisation"]


@dataclass(frozen=True)
class Policy:
    """The parsed ``permissions.yaml``."""

    version: int
    permissions: dict[str, str]
    roles: dict[str, str]
    grants: dict[str, dict[str, Scope]]
    sources: tuple[dict[str, str], ...]


def _parse(doc: dict[str, Any]) -> Policy:
    permissions = {str(k): str(v) for k, v in doc["permissions"].items()}
    roles: dict[str, str] = {}
    table: dict[str, dict[str, Scope]] = {}
    for role, spec in doc["roles"].items():
        roles[role] = str(spec["description"])
        table[role] = {}
        for perm, scope in (spec.get("grants") or {}).items():
            if perm not in permissions:
                raise ValueError(f"permissions.yaml: role {role} grants unknown permission {perm}")
            if scope not in ("system", "organisation"):
                raise ValueError(f"permissions.yaml: role {role} grants {perm} with unknown scope {scope}")
            table[role][perm] = scope
    return Policy(int(doc["version"]), permissions, roles, table, tuple(doc.get("sources") or ()))


@lru_cache(maxsize=1)
def policy() -> Policy:
    """The policy shipped with the package.

    >>> policy().version >= 1 and "admin" in policy().roles
    True
    """
    text = files("uec.access").joinpath("permissions.yaml").read_text(encoding="utf-8")
    return _parse(yaml.safe_load(text))


#: The role names, in the order the policy lists them (least to most powerful).
ROLES: tuple[str, ...] = tuple(policy().roles)


def permission_names() -> tuple[str, ...]:
    """Every permission the policy knows.

    >>> "view_audit" in permission_names()
    True
    """
    return tuple(policy().permissions)


def grants(role: str) -> dict[str, Scope]:
    """The permissions a role grants and their scope.

    >>> grants("viewer")
    {'view_aggregate': 'system'}
    """
    try:
        return dict(policy().grants[role])
    except KeyError:
        raise UecError(f"unknown role {role!r}; roles are: {', '.join(ROLES)}") from None


def allowed(user: User | None, permission: str, org_code: str | None = None) -> bool:
    """May ``user`` do ``permission``, for organisation ``org_code`` (``None``: for the whole system)?

    A grant scoped ``organisation`` allows the action only when ``org_code`` is the user's own
    organisation; asked without an organisation it is refused, so that forgetting to say which
    organisation never widens a site manager's reach to the whole system. An unknown permission is
    a programming error and raises.

    >>> coordinator = User("cat", "Cat", "QXX", frozenset({"coordinator"}))
    >>> allowed(coordinator, "declare_escalation", "RAA"), allowed(coordinator, "declare_escalation")
    (True, True)
    >>> allowed(coordinator, "no_such_thing")
    Traceback (most recent call last):
    ...
    ValueError: unknown permission 'no_such_thing'
    """
    pol = policy()
    if permission not in pol.permissions:
        raise ValueError(f"unknown permission {permission!r}")
    if user is None:
        return False
    for role in user.roles:
        scope = pol.grants.get(role, {}).get(permission)
        if scope == "system":
            return True
        if scope == "organisation" and org_code is not None and org_code == user.org_code:
            return True
    return False
