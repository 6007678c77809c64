"""Local accounts, lock-out, single sign-on users and API tokens, on both engines, each change audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from uec.access import audit
from uec.access.accounts import (
    SignInError,
    add_user,
    authenticate,
    get_user,
    list_users,
    set_disabled,
    set_password,
    set_roles,
    sign_in_from_claims,
)
from uec.access.demo import DEMO_PASSWORD, demo_users
from uec.access.tokens import create_token, list_tokens, revoke_token, token_user
from uec.errors import UecError
from uec.store import Store


def actions(store: Store) -> list[str]:
    return [e.action for e in audit.entries(store, newest_first=False)]


def test_add_list_and_change_a_user(org_store: Store) -> None:
    rec = add_user(org_store, "Sam", display_name="Sam Smith", org_code="RAA", roles=["site_manager"],
                   password="a long password", actor_label="cli:test")
    assert (rec.username, rec.org_code, rec.roles, rec.has_password) == (
        "sam", "RAA", frozenset({"site_manager"}), True)
    # The hash is Argon2id and never the password.
    stored = org_store.query("SELECT password_hash FROM users WHERE username = 'sam'")[0]["password_hash"]
    assert stored.startswith("$argon2id$") and "a long password" not in stored
    assert set_roles(org_store, "sam", ["viewer", "analyst"]).roles == {"viewer", "analyst"}
    assert set_disabled(org_store, "sam").disabled
    assert not set_disabled(org_store, "sam", False).disabled
    assert [u.username for u in list_users(org_store)] == ["sam"]
    assert [u.username for u in list_users(org_store, "RBB")] == []
    assert actions(org_store) == ["user.add", "user.roles", "user.disable", "user.enable"]
    entry = audit.entries(org_store, limit=1, offset=2)[0]
    assert entry.action == "user.roles" and entry.actor == "system"
    assert '"roles":["site_manager"]' in (entry.before or "") and '"roles":["analyst","viewer"]' in (entry.after or "")
    assert audit.verify(org_store).ok


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"org_code": "ZZZ"}, "unknown organisation 'ZZZ'; organisations in the store: QXX, RAA, RBB"),
        ({"roles": ["boss"]}, "unknown role boss"),
        ({"roles": []}, "give at least one role"),
        ({"password": "short"}, "at least 8 characters"),
        ({"username": "A B"}, "a username is 2 to 64 characters"),
    ],
)
def test_bad_users_are_refused_with_a_reason(org_store: Store, kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"username": "ok", "display_name": "Ok", "org_code": "RAA", "roles": ["viewer"],
                               "password": "long enough"} | kwargs
    with pytest.raises(UecError, match=message):
        add_user(org_store, **args)  # type: ignore[arg-type]
    assert actions(org_store) == []


def test_duplicate_user_is_refused(org_store: Store) -> None:
    add_user(org_store, "ana", display_name="Ana", org_code="RAA", roles=["analyst"])
    with pytest.raises(UecError, match="already exists"):
        add_user(org_store, "ANA", display_name="Ana", org_code="RAA", roles=["analyst"])


def test_sign_in_lock_out_and_reset(org_store: Store) -> None:
    add_user(org_store, "sam", display_name="Sam", org_code="RAA", roles=["site_manager"], password="right password")
    assert authenticate(org_store, "sam", "right password").username == "sam"
    for _ in range(2):
        with pytest.raises(SignInError, match="not right"):
            authenticate(org_store, "sam", "wrong", max_failures=3)
    assert get_user(org_store, "sam").failed_attempts == 2  # type: ignore[union-attr]
    with pytest.raises(SignInError, match="now locked for 15 minutes after 3 failed"):
        authenticate(org_store, "sam", "wrong", max_failures=3)
    # Locked: even the right password is refused until the lock ends or an admin resets it.
    with pytest.raises(SignInError, match="locked after 3 failed sign-ins"):
        authenticate(org_store, "sam", "right password", max_failures=3)
    set_password(org_store, "sam", "a new password")
    assert authenticate(org_store, "sam", "a new password", max_failures=3).username == "sam"
    # Unknown users get the same answer as a wrong password.
    with pytest.raises(SignInError, match=r"^The username or password is not right\.$"):
        authenticate(org_store, "nobody", "whatever")
    assert actions(org_store) == [
        "user.add", "sign_in", "sign_in.failed", "sign_in.failed", "sign_in.locked", "user.password", "sign_in",
    ]
    assert all("password" not in (e.after or "") or "(changed)" in (e.after or "")
               for e in audit.entries(org_store))


def test_lock_expires(org_store: Store) -> None:
    add_user(org_store, "sam", display_name="Sam", org_code="RAA", roles=["viewer"], password="right password")
    with pytest.raises(SignInError):
        authenticate(org_store, "sam", "wrong", max_failures=1)
    with org_store.write() as w:
        w.execute("UPDATE users SET locked_until = :t", {"t": datetime.now(UTC) - timedelta(seconds=1)})
    assert authenticate(org_store, "sam", "right password", max_failures=1).username == "sam"


def test_disabled_user_cannot_sign_in(org_store: Store) -> None:
    add_user(org_store, "sam", display_name="Sam", org_code="RAA", roles=["viewer"], password="right password")
    set_disabled(org_store, "sam")
    with pytest.raises(SignInError, match="disabled"):
        authenticate(org_store, "sam", "right password")


def test_single_sign_on_users(org_store: Store) -> None:
    claims = {"sub": "abc123", "preferred_username": "Alice", "name": "Alice A", "org_code": "RAA"}
    user = sign_in_from_claims(org_store, claims, issuer="https://idp.example")
    assert (user.username, user.org_code, user.roles, user.via) == ("alice", "RAA", frozenset({"viewer"}), "oidc")
    # The organisation comes from the provider each time; the roles are this service's.
    set_roles(org_store, "alice", ["site_manager"])
    moved = sign_in_from_claims(org_store, {**claims, "org_code": "RBB"}, issuer="https://idp.example")
    assert (moved.username, moved.org_code, moved.roles) == ("alice", "RBB", frozenset({"site_manager"}))
    with pytest.raises(SignInError, match=r"Your organisation \(ZZZ\) is not one of the organisations"):
        sign_in_from_claims(org_store, {**claims, "org_code": "ZZZ"}, issuer="https://idp.example")
    with pytest.raises(SignInError, match="which organisation you belong to"):
        sign_in_from_claims(org_store, {"sub": "x"}, issuer="https://idp.example")
    with pytest.raises(SignInError, match="not one of the organisations"):
        sign_in_from_claims(org_store, {"sub": "y", "org_code": "ZZZ"}, issuer="https://idp.example")
    set_disabled(org_store, "alice")
    with pytest.raises(SignInError, match="disabled"):
        sign_in_from_claims(org_store, claims, issuer="https://idp.example")
    assert actions(org_store) == ["user.add", "sign_in", "user.roles", "user.organisation", "sign_in", "user.disable"]


def test_api_tokens(org_store: Store) -> None:
    _, secret = create_token(org_store, "bed-feed", role="site_manager", org_code="RAA", days=30)
    user = token_user(org_store, secret)
    assert user is not None and (user.username, user.org_code, user.roles, user.via) == (
        "token:bed-feed", "RAA", frozenset({"site_manager"}), "token")
    # Only a hash is stored.
    stored = org_store.query("SELECT * FROM api_tokens")[0]
    assert secret.split("_", 2)[2] not in str(stored)
    assert token_user(org_store, secret[:-2] + "xx") is None
    assert token_user(org_store, "not a token") is None
    assert [t.state for t in list_tokens(org_store)] == ["active"]
    with org_store.write() as w:
        w.execute("UPDATE api_tokens SET expires_at = :t", {"t": datetime.now(UTC) - timedelta(seconds=1)})
    assert token_user(org_store, secret) is None and list_tokens(org_store)[0].state == "expired"
    info2, secret2 = create_token(org_store, "other", role="viewer", org_code="QXX")
    revoke_token(org_store, info2.token_id)
    assert token_user(org_store, secret2) is None
    with pytest.raises(UecError, match="1 to 366 days"):
        create_token(org_store, "x", role="viewer", org_code="QXX", days=1000)
    with pytest.raises(UecError, match="unknown role"):
        create_token(org_store, "x", role="root", org_code="QXX")
    assert actions(org_store) == ["token.create", "token.create", "token.revoke"]
    # The secret is everything after the id (token_urlsafe may itself hold "_").
    assert all(secret.split("_", 2)[2] not in (e.after or "") for e in audit.entries(org_store))


def test_demo_users(org_store: Store) -> None:
    made = demo_users(org_store)
    assert [(u.username, u.role, u.org_code) for u in made] == [
        ("viewer", "viewer", "QXX"), ("analyst", "analyst", "QXX"), ("coordinator", "coordinator", "QXX"),
        ("admin", "admin", "QXX"), ("site-manager-raa", "site_manager", "RAA"),
        ("site-manager-rbb", "site_manager", "RBB"),
    ]
    assert all(u.created for u in made)
    assert authenticate(org_store, "site-manager-rbb", DEMO_PASSWORD).org_code == "RBB"
    # A second run leaves them alone.
    assert not any(u.created for u in demo_users(org_store))
