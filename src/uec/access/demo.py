"""Demo users: one per role, and a site manager per organisation, all with one known password.

For the demo on one machine only (``scripts/start``, ``uec users demo``): the password is printed
and written in the README, so never run this against a store that real people use.
"""

from __future__ import annotations

from dataclasses import dataclass

from uec.access import queries as Q
from uec.access.accounts import add_user, get_user
from uec.access.schema import ensure_access_schema
from uec.errors import UecError
from uec.store import Store

__all__ = ["DEMO_PASSWORD", "DemoUser", "demo_users", "sign_in_help"]

#: The password of every demo user (printed by ``uec users demo``).
DEMO_PASSWORD = "uec-demo"

_SYSTEM_ROLES = ("viewer", "analyst", "coordinator", "admin")


@dataclass(frozen=True)
class DemoUser:
    """A demo account: how to sign in as it and what it is for."""

    username: str
    role: str
    org_code: str
    org_name: str
    created: bool


def demo_users(store: Store, password: str = DEMO_PASSWORD) -> list[DemoUser]:
    """Create the demo users that are missing and return them all.

    The system-wide roles (viewer, analyst, coordinator, admin) belong to the integrated care
    board (the organisation of type ``ics``); every other organisation gets a site manager, so one
    can see a trust's site manager refused another trust's action. Existing users are left alone.

    >>> import tempfile, os
    >>> from uec.store import open_store
    >>> from uec.access.accounts import add_organisation
    >>> with tempfile.TemporaryDirectory() as d:
    ...     store = open_store(os.path.join(d, "uec.duckdb"))
    ...     add_organisation(store, "QXX", "Test ICB", "ics")
    ...     add_organisation(store, "RAA", "Riverside Hospitals NHS Trust", "acute_trust", "QXX")
    ...     [(u.username, u.role) for u in demo_users(store)]  # doctest: +NORMALIZE_WHITESPACE
    [('viewer', 'viewer'), ('analyst', 'analyst'), ('coordinator', 'coordinator'), ('admin', 'admin'),
     ('site-manager-raa', 'site_manager')]
    """
    ensure_access_schema(store)
    orgs = Q.organisations(store)
    if not orgs:
        raise UecError("the store has no organisations: build the demo first (`uec demo`)")
    system = next((o for o in orgs if o["org_type"] == "ics"), orgs[0])
    wanted = [(role, role, system) for role in _SYSTEM_ROLES]
    wanted += [(f"site-manager-{o['org_code'].lower()}", "site_manager", o) for o in orgs if o is not system]
    made: list[DemoUser] = []
    for username, role, org in wanted:
        exists = get_user(store, username) is not None
        if not exists:
            add_user(store, username, display_name=f"Demo {role.replace('_', ' ')} ({org['name']})",
                     org_code=org["org_code"], roles=[role], password=password, actor_label="demo")
        made.append(DemoUser(username, role, org["org_code"], org["name"], not exists))
    return made


def sign_in_help(users: list[DemoUser], base_url: str = "http://127.0.0.1:8000", password: str = DEMO_PASSWORD) -> str:
    """What to print after :func:`demo_users`: where to sign in and as whom.

    >>> print(sign_in_help([DemoUser("viewer", "viewer", "QXX", "Test ICB", True)]))
    Sign in at http://127.0.0.1:8000/sign-in with password uec-demo as:
      viewer  (viewer, Test ICB)
    """
    width = max((len(u.username) for u in users), default=0)
    lines = [f"Sign in at {base_url}/sign-in with password {password} as:"]
    lines += [f"  {u.username:<{width}}  ({u.role}, {u.org_name})" for u in users]
    return "\n".join(lines)
