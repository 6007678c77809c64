"""People: local accounts, roles, passwords (Argon2), lock-out, and users arriving by single sign-on.

Every change writes its audit entry in the same transaction (:func:`uec.access.audit.record`).

>>> import tempfile, os
>>> from uec.store import open_store
>>> with tempfile.TemporaryDirectory() as d:
...     store = open_store(os.path.join(d, "uec.duckdb"))
...     add_organisation(store, "RAA", "Riverside Hospitals NHS Trust", "acute_trust")
...     _ = add_user(store, "sam", display_name="Sam", org_code="RAA", roles=["site_manager"],
...                  password="correct horse")
...     authenticate(store, "sam", "correct horse").roles
frozenset({'site_manager'})
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from pwdlib import PasswordHash

from uec.access import audit, cache
from uec.access import queries as Q
from uec.access.permissions import ROLES
from uec.access.schema import ensure_access_schema
from uec.access.user import User
from uec.errors import UecError
from uec.store import Store, StoreWriter

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "SignInError",
    "UserRecord",
    "add_organisation",
    "add_user",
    "authenticate",
    "get_user",
    "list_users",
    "set_disabled",
    "set_password",
    "set_roles",
    "sign_in_from_claims",
]

#: NCSC password guidance: a minimum length, no composition rules (they make passwords weaker).
#: https://www.ncsc.gov.uk/collection/passwords/updating-your-approach
MIN_PASSWORD_LENGTH = 8

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,63}$")


class SignInError(UecError):
    """A sign-in refused; the message says why in words a person can act on, never the password."""


@lru_cache(maxsize=1)
def _hasher() -> PasswordHash:
    # pwdlib's recommendation is Argon2id with the argon2-cffi defaults (RFC 9106's second
    # recommended option: 64 MiB, 3 passes).
    return PasswordHash.recommended()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    # Checked against when the user is unknown, so that a wrong username takes as long as a wrong
    # password and response times do not tell which usernames exist.
    return _hasher().hash("not a password of anyone")


@dataclass(frozen=True)
class UserRecord:
    """A stored user: who they are and the state of their account (never the password hash)."""

    username: str
    display_name: str
    org_code: str
    roles: frozenset[str]
    email: str | None
    disabled: bool
    has_password: bool
    oidc_subject: str | None
    failed_attempts: int
    locked_until: datetime | None
    created_at: datetime
    last_sign_in: datetime | None

    @property
    def user(self) -> User:
        """The acting :class:`User` this account signs in as."""
        return User(self.username, self.display_name, self.org_code, self.roles,
                    via="oidc" if self.oidc_subject else "local")

    def public(self) -> dict[str, Any]:
        """What an audit entry records of the account."""
        return {
            "username": self.username, "display_name": self.display_name, "org_code": self.org_code,
            "roles": sorted(self.roles), "disabled": self.disabled,
        }


def _now() -> datetime:
    return datetime.now(UTC)


def _username(name: str) -> str:
    name = name.strip().lower()
    if not _USERNAME.match(name):
        raise UecError(
            "a username is 2 to 64 characters: lower-case letters, digits and . _ @ - (starting with a letter or digit)"
        )
    return name


def _roles(roles: Iterable[str]) -> frozenset[str]:
    chosen = frozenset(r.strip() for r in roles if r.strip())
    unknown = sorted(chosen - set(ROLES))
    if unknown:
        raise UecError(f"unknown role {', '.join(unknown)}; roles are: {', '.join(ROLES)}")
    if not chosen:
        raise UecError(f"give at least one role: {', '.join(ROLES)}")
    return chosen


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UecError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")


def _check_org(w: StoreWriter, org_code: str) -> None:
    if not Q.org_exists(w, org_code):
        known = Q.org_codes(w)
        hint = f"organisations in the store: {', '.join(known)}" if known else "the store has no organisations yet"
        raise UecError(f"unknown organisation {org_code!r}; {hint}")


def _record(w: StoreWriter, username: str) -> UserRecord | None:
    row = Q.user_row(w, username)
    if row is None:
        return None
    return _to_record(row, Q.user_roles(w, username))


def _to_record(r: Mapping[str, Any], roles: frozenset[str]) -> UserRecord:
    return UserRecord(
        username=r["username"], display_name=r["display_name"], org_code=r["org_code"], roles=roles,
        email=r["email"], disabled=bool(r["disabled"]), has_password=r["password_hash"] is not None,
        oidc_subject=r["oidc_subject"], failed_attempts=int(r["failed_attempts"]),
        locked_until=r["locked_until"], created_at=r["created_at"], last_sign_in=r["last_sign_in"],
    )


def _existing(w: StoreWriter, username: str) -> UserRecord:
    rec = _record(w, username)
    if rec is None:
        raise UecError(f"no user {username!r}; see `uec users list`")
    return rec


def add_organisation(store: Store, org_code: str, name: str, org_type: str, ics_code: str | None = None) -> None:
    """Add an organisation to the contract's ``organisations`` table (tests and small set-ups)."""
    with audit.writing(store) as w:
        Q.insert_organisation(w, org_code, name, org_type, ics_code)


def add_user(  # noqa: PLR0913 - keyword-only fields of one record, each named at the call
    store: Store,
    username: str,
    *,
    display_name: str,
    org_code: str,
    roles: Iterable[str],
    password: str | None = None,
    email: str | None = None,
    oidc_subject: str | None = None,
    actor: User | None = None,
    actor_label: str | None = None,
    request_id: str | None = None,
) -> UserRecord:
    """Add a user of ``org_code`` holding ``roles``; with a password for a local account.

    A user without a password signs in only by single sign-on.
    """
    ensure_access_schema(store)
    username = _username(username)
    chosen = _roles(roles)
    if password is not None:
        _check_password(password)
    hashed = _hasher().hash(password) if password is not None else None
    with audit.writing(store) as w:
        _check_org(w, org_code)
        if _record(w, username) is not None:
            raise UecError(f"user {username!r} already exists")
        Q.insert_user(w, {"username": username, "display_name": display_name, "org_code": org_code,
                          "email": email, "password_hash": hashed, "oidc_subject": oidc_subject,
                          "created_at": _now(), "last_sign_in": None})
        for role in sorted(chosen):
            Q.insert_user_role(w, username, role)
        rec = _existing(w, username)
        audit.record(w, actor=actor, actor_label=actor_label, action="user.add", object_type="user",
                     object_id=username, before=None, after=rec.public(), request_id=request_id)
    cache.invalidate()
    return rec


def get_user(store: Store, username: str) -> UserRecord | None:
    """The stored user, or ``None``."""
    ensure_access_schema(store)
    with store.reading():  # one connection for both queries
        row = Q.user_row(store, username.strip().lower())
        if row is None:
            return None
        roles = Q.user_roles(store, row["username"])
    return _to_record(row, roles)


def list_users(store: Store, org_code: str | None = None) -> list[UserRecord]:
    """Every user (of one organisation if given), by organisation then username."""
    ensure_access_schema(store)
    with store.reading():
        rows = Q.user_rows(store, org_code)
        roles: dict[str, set[str]] = {}
        for r in Q.role_rows(store):
            roles.setdefault(r["username"], set()).add(r["role"])
    return [_to_record(r, frozenset(roles.get(r["username"], ()))) for r in rows]


def set_roles(
    store: Store,
    username: str,
    roles: Iterable[str],
    *,
    actor: User | None = None,
    actor_label: str | None = None,
    request_id: str | None = None,
) -> UserRecord:
    """Replace the roles ``username`` holds."""
    ensure_access_schema(store)
    chosen = _roles(roles)
    with audit.writing(store) as w:
        before = _existing(w, _username(username))
        Q.delete_user_roles(w, before.username)
        for role in sorted(chosen):
            Q.insert_user_role(w, before.username, role)
        after = _existing(w, before.username)
        audit.record(w, actor=actor, actor_label=actor_label, action="user.roles", object_type="user",
                     object_id=before.username, before=before.public(), after=after.public(),
                     request_id=request_id)
    cache.invalidate()
    return after


def set_disabled(
    store: Store,
    username: str,
    disabled: bool = True,
    *,
    actor: User | None = None,
    actor_label: str | None = None,
    request_id: str | None = None,
) -> UserRecord:
    """Disable (or enable again) an account: a disabled user cannot sign in and their sessions stop working."""
    ensure_access_schema(store)
    with audit.writing(store) as w:
        before = _existing(w, _username(username))
        Q.update_user(w, before.username, disabled=disabled)
        after = _existing(w, before.username)
        audit.record(w, actor=actor, actor_label=actor_label, action="user.disable" if disabled else "user.enable",
                     object_type="user", object_id=before.username, before=before.public(), after=after.public(),
                     request_id=request_id)
    cache.invalidate()
    return after


def set_password(
    store: Store,
    username: str,
    password: str,
    *,
    actor: User | None = None,
    actor_label: str | None = None,
    request_id: str | None = None,
) -> UserRecord:
    """Set a new password (and clear any lock-out). The audit entry says it changed, not what to."""
    ensure_access_schema(store)
    _check_password(password)
    hashed = _hasher().hash(password)
    with audit.writing(store) as w:
        before = _existing(w, _username(username))
        Q.update_user(w, before.username, password_hash=hashed, failed_attempts=0, locked_until=None)
        audit.record(w, actor=actor, actor_label=actor_label, action="user.password", object_type="user",
                     object_id=before.username, before={"password": "(previous)"}, after={"password": "(changed)"},
                     request_id=request_id)
    cache.invalidate()
    return _existing_read(store, before.username)


def _existing_read(store: Store, username: str) -> UserRecord:
    rec = get_user(store, username)
    if rec is None:
        raise UecError(f"no user {username!r}")
    return rec


def authenticate(
    store: Store,
    username: str,
    password: str,
    *,
    max_failures: int = 5,
    lockout_minutes: int = 15,
    request_id: str | None = None,
) -> User:
    """The user whose password this is, or :class:`SignInError` saying why not.

    After ``max_failures`` wrong passwords in a row the account is locked for ``lockout_minutes``
    (a right password does not open it meanwhile); a successful sign-in resets the count. Failures,
    lock-outs and sign-ins are audited.
    """
    ensure_access_schema(store)
    wrong = SignInError("The username or password is not right.")
    try:
        name = _username(username)
    except UecError:
        _hasher().verify(password, _dummy_hash())
        raise wrong from None
    rec = get_user(store, name)
    if rec is None or not rec.has_password:
        _hasher().verify(password, _dummy_hash())
        raise wrong
    now = _now()
    if rec.locked_until is not None and rec.locked_until > now:
        minutes = max(1, int((rec.locked_until - now).total_seconds() // 60) + 1)
        raise SignInError(
            f"This account is locked after {max_failures} failed sign-ins. Try again in {minutes} minutes, "
            "or ask an administrator to set a new password."
        )
    stored = Q.user_password_hash(store, name)
    ok = _hasher().verify(password, stored or _dummy_hash()) and stored is not None
    if ok and rec.disabled:
        raise SignInError("This account is disabled. Ask an administrator of UEC Resilience if you need it.")
    with audit.writing(store) as w:
        if ok:
            Q.update_user(w, name, failed_attempts=0, locked_until=None, last_sign_in=now)
            audit.record(w, actor=rec.user, action="sign_in", object_type="user", object_id=name,
                         before=None, after={"via": "local"}, request_id=request_id)
            return rec.user
        failed = Q.user_failed_attempts(w, name) + 1
        locked = now + timedelta(minutes=lockout_minutes) if failed >= max_failures else None
        Q.update_user(w, name, failed_attempts=0 if locked else failed, locked_until=locked)
        audit.record(w, actor=None, actor_label="anonymous", action="sign_in.locked" if locked else "sign_in.failed",
                     object_type="user", object_id=name, before=None,
                     after={"failed_attempts": failed, "locked_until": locked.isoformat() if locked else None},
                     request_id=request_id)
    if locked:
        raise SignInError(
            f"This account is now locked for {lockout_minutes} minutes after {max_failures} failed sign-ins."
        )
    raise wrong


def sign_in_from_claims(
    store: Store,
    claims: Mapping[str, Any],
    *,
    issuer: str,
    org_claim: str = "org_code",
    default_role: str = "viewer",
    request_id: str | None = None,
) -> User:
    """The user an OpenID Connect sign-in stands for, added on first sign-in.

    The identity provider says who the person is (``sub``, stable per issuer) and which
    organisation they belong to (``org_claim``); the roles are this service's to give, so a new
    user starts with ``default_role`` and an administrator grants more with ``uec users roles``.
    A changed organisation claim moves the user (audited).
    """
    ensure_access_schema(store)
    sub = str(claims.get("sub") or "")
    if not sub:
        raise SignInError("The identity provider did not say who you are (no 'sub' claim).")
    org = claims.get(org_claim)
    if not org:
        raise SignInError(
            f"The identity provider did not say which organisation you belong to (claim '{org_claim}'); "
            "ask your administrator to release it to UEC Resilience."
        )
    subject = f"{issuer}#{sub}"
    display = str(claims.get("name") or claims.get("preferred_username") or sub)
    wanted = str(claims.get("preferred_username") or claims.get("email") or sub).lower()
    now = _now()
    with audit.writing(store) as w:
        known = Q.user_for_subject(w, subject)
        if known is not None:
            before = _existing(w, known)
            if before.disabled:
                raise SignInError("This account is disabled. Ask an administrator of UEC Resilience if you need it.")
            if before.org_code != org:
                try:
                    _check_org(w, str(org))
                except UecError:
                    raise SignInError(
                        f"Your organisation ({org}) is not one of the organisations of this service."
                    ) from None
                Q.update_user(w, before.username, org_code=org)
                audit.record(w, actor=None, actor_label=f"oidc:{issuer}", action="user.organisation",
                             object_type="user", object_id=before.username, before=before.public(),
                             after=_existing(w, before.username).public(), request_id=request_id)
            Q.update_user(w, before.username, last_sign_in=now)
            user = _existing(w, before.username).user
        else:
            try:
                _check_org(w, str(org))
            except UecError:
                raise SignInError(
                    f"Your organisation ({org}) is not one of the organisations of this service."
                ) from None
            username = _username(re.sub(r"[^a-z0-9._@-]", "-", wanted)[:64] or "user")
            if _record(w, username) is not None:  # a local account of that name: keep them apart
                username = _username(f"{username[:40]}-{hashlib.sha256(subject.encode()).hexdigest()[:8]}")
            Q.insert_user(w, {"username": username, "display_name": display, "org_code": org,
                              "email": claims.get("email"), "password_hash": None, "oidc_subject": subject,
                              "created_at": now, "last_sign_in": now})
            Q.insert_user_role(w, username, next(iter(_roles([default_role]))))
            rec = _existing(w, username)
            audit.record(w, actor=None, actor_label=f"oidc:{issuer}", action="user.add", object_type="user",
                         object_id=username, before=None, after=rec.public(), request_id=request_id)
            user = rec.user
        audit.record(w, actor=user, action="sign_in", object_type="user", object_id=user.username,
                     before=None, after={"via": "oidc"}, request_id=request_id)
    cache.invalidate()
    return user
