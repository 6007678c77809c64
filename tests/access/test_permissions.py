"""Permissions role by role: the policy file says what each role may do, and this test says it again.

The table below is written out by hand on purpose: a change to ``permissions.yaml`` that widens or
narrows a role fails here until the test is changed too, so it is never an accident.
"""

from __future__ import annotations

import pytest

from uec.access import ROLES, User, allowed
from uec.access.permissions import grants, permission_names, policy
from uec.errors import UecError

# role -> permission -> "system" (any organisation), "own" (own organisation only) or absent (never).
EXPECTED: dict[str, dict[str, str]] = {
    "viewer": {"view_aggregate": "system"},
    "analyst": {
        "view_aggregate": "system", "view_patient_level": "system", "export_data": "system",
        "run_scenarios": "system", "refresh_forecasts": "system", "try_actions": "system",
    },
    "site_manager": {"view_aggregate": "system", "declare_escalation": "own", "manage_actions": "own",
                     "try_actions": "own"},
    "coordinator": {
        "view_aggregate": "system", "declare_escalation": "system", "manage_actions": "system",
        "view_audit": "system", "try_actions": "system",
    },
    "admin": {
        "view_aggregate": "system", "view_audit": "system", "manage_users": "system",
        "manage_frameworks": "system", "manage_settings": "system",
    },
}


def test_the_roles_are_the_five_of_the_issue() -> None:
    assert ROLES == ("viewer", "analyst", "site_manager", "coordinator", "admin")


@pytest.mark.parametrize("role", list(EXPECTED))
@pytest.mark.parametrize("permission", permission_names())
def test_each_role_and_permission(role: str, permission: str) -> None:
    user = User(f"u-{role}", role, "RAA", frozenset({role}))
    expected = EXPECTED[role].get(permission)
    own, other, system = (allowed(user, permission, "RAA"), allowed(user, permission, "RBB"),
                          allowed(user, permission))
    if expected == "system":
        assert (own, other, system) == (True, True, True)
    elif expected == "own":
        assert (own, other, system) == (True, False, False)
    else:
        assert (own, other, system) == (False, False, False)


def test_roles_add_up_and_nobody_is_allowed_anything() -> None:
    both = User("x", "X", "RAA", frozenset({"viewer", "analyst"}))
    assert allowed(both, "view_patient_level")
    assert not allowed(User("n", "N", "RAA", frozenset()), "view_aggregate")
    assert not allowed(None, "view_aggregate")
    assert not allowed(User("q", "Q", "RAA", frozenset({"no_such_role"})), "view_aggregate")


def test_the_policy_is_versioned_and_cites_its_sources() -> None:
    pol = policy()
    assert pol.version >= 1
    assert pol.sources and all(s["url"].startswith("https://") for s in pol.sources)
    assert set(pol.roles) == set(EXPECTED)


def test_unknown_names_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown permission"):
        allowed(User("a", "A", "RAA", frozenset({"admin"})), "fly")
    with pytest.raises(UecError, match="unknown role"):
        grants("superuser")
