"""API tokens for machine feeds and scripts: ``Authorization: Bearer uec_<id>_<secret>``.

A token is scoped to one role and one organisation and expires. Only the SHA-256 of its secret is
stored: the secret is 256 random bits, so a fast hash is as safe as a slow one here (nothing to
guess), and it lets every request be checked without Argon2's deliberate cost. The whole token is
shown once, when it is created.

>>> import tempfile, os
>>> from uec.store import open_store
>>> from uec.access.accounts import add_organisation
>>> with tempfile.TemporaryDirectory() as d:
...     store = open_store(os.path.join(d, "uec.duckdb"))
...     add_organisation(store, "QXX", "Test ICB", "ics")
...     info, secret = create_token(store, "bed-feed", role="viewer", org_code="QXX")
...     user = token_user(store, secret)
...     (user.username, sorted(user.roles), info.state, secret.startswith(f"uec_{info.token_id}_"))
('token:bed-feed', ['viewer'], 'active', True)
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from uec.access import audit, cache
from uec.access import queries as Q
from uec.access.accounts import _check_org, _roles
from uec.access.schema import ensure_access_schema
from uec.access.user import User
from uec.errors import UecError
from uec.store import Store, StoreWriter

__all__ = ["MAX_DAYS", "TokenInfo", "create_token", "list_tokens", "revoke_token", "token_user"]

#: The longest life a token may have. A token that never expires is a leaked credential waiting to
#: happen (NCSC, "Secure system administration": credentials are time-limited).
MAX_DAYS = 366

_TOKEN = re.compile(r"^uec_([0-9a-f]{12})_([A-Za-z0-9_-]{20,})$")


@dataclass(frozen=True)
class TokenInfo:
    """A token as listed: everything but its secret."""

    token_id: str
    name: str
    role: str
    org_code: str
    created_by: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None

    @property
    def state(self) -> str:
        """``active``, ``expired`` or ``revoked``."""
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= datetime.now(UTC) else "active"

    def public(self) -> dict[str, Any]:
        return {"token_id": self.token_id, "name": self.name, "role": self.role, "org_code": self.org_code,
                "expires_at": self.expires_at.isoformat(), "revoked": self.revoked_at is not None}


def _sha(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _info(r: dict[str, Any]) -> TokenInfo:
    return TokenInfo(r["token_id"], r["name"], r["role"], r["org_code"], r["created_by"], r["created_at"],
                     r["expires_at"], r["revoked_at"])


def create_token(
    store: Store,
    name: str,
    *,
    role: str,
    org_code: str,
    days: int = 90,
    actor: User | None = None,
    actor_label: str | None = None,
    request_id: str | None = None,
) -> tuple[TokenInfo, str]:
    """Create a token; returns its listing and the whole token, which is never shown again."""
    ensure_access_schema(store)
    (chosen,) = _roles([role])
    if not 1 <= days <= MAX_DAYS:
        raise UecError(f"a token lives 1 to {MAX_DAYS} days, not {days}")
    if not re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", name):
        raise UecError("a token name is 1 to 64 letters, digits, . _ - (say what feeds it, e.g. bed-feed)")
    token_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    with audit.writing(store) as w:
        _check_org(w, org_code)
        Q.insert_token(w, {"token_id": token_id, "name": name, "role": chosen, "org_code": org_code,
                           "secret_sha256": _sha(secret),
                           "created_by": actor.username if actor else (actor_label or "system"),
                           "created_at": now, "expires_at": now + timedelta(days=days)})
        info = _info(_row(w, token_id))
        audit.record(w, actor=actor, actor_label=actor_label, action="token.create", object_type="api_token",
                     object_id=token_id, before=None, after=info.public(), request_id=request_id)
    return info, f"uec_{token_id}_{secret}"


def _row(w: StoreWriter, token_id: str) -> dict[str, Any]:
    row = Q.token_row(w, token_id)
    if row is None:  # written in this very transaction
        raise UecError(f"token {token_id!r} vanished")
    return row


def list_tokens(store: Store) -> list[TokenInfo]:
    """Every token, newest first (secrets are not stored, so not listed)."""
    ensure_access_schema(store)
    return [_info(r) for r in Q.token_rows(store)]


def revoke_token(
    store: Store,
    token_id: str,
    *,
    actor: User | None = None,
    actor_label: str | None = None,
    request_id: str | None = None,
) -> TokenInfo:
    """Revoke a token at once; its next request is refused."""
    ensure_access_schema(store)
    with audit.writing(store) as w:
        row = Q.token_row(w, token_id)
        if row is None:
            raise UecError(f"no token {token_id!r}; see `uec tokens list`")
        before = _info(row)
        if before.revoked_at is None:
            Q.revoke_token(w, token_id, datetime.now(UTC))
        after = _info(_row(w, token_id))
        audit.record(w, actor=actor, actor_label=actor_label, action="token.revoke", object_type="api_token",
                     object_id=token_id, before=before.public(), after=after.public(), request_id=request_id)
    cache.invalidate()
    return after


def token_user(store: Store, token: str) -> User | None:
    """The :class:`User` a bearer token acts as, or ``None`` if it is unknown, wrong, expired or revoked."""
    m = _TOKEN.match(token.strip())
    if not m:
        return None
    ensure_access_schema(store)
    row = Q.token_row(store, m.group(1))
    if row is None or not hmac.compare_digest(row["secret_sha256"], _sha(m.group(2))):
        return None
    info = _info(row)
    if info.state != "active":
        return None
    return User(f"token:{info.name}", info.name, info.org_code, frozenset({info.role}), via="token")
