"""Every query the access package makes of the store, in one place (its only SQL; DDL is in schema.py).

Organisations, users and their roles (:mod:`uec.access.accounts`), API tokens
(:mod:`uec.access.tokens`), the audit log (:mod:`uec.access.audit`) and the demo users
(:mod:`uec.access.demo`). Each function is one statement, valid on DuckDB and PostgreSQL alike; it
takes a store (to read) or a writer (inside the caller's transaction), returns rows as dictionaries
and leaves their meaning to its caller.

>>> import tempfile, os
>>> from uec.store import open_store
>>> from uec.access.schema import ensure_access_schema
>>> with tempfile.TemporaryDirectory() as d:
...     store = open_store(os.path.join(d, "uec.duckdb"))
...     ensure_access_schema(store)
...     organisations(store), user_row(store, "nobody"), last_audit_entry(store)
([], None, None)
"""

from __future__ import annotations

from typing import Any

from uec.store import Store, StoreWriter

__all__ = [
    "audit_count",
    "audit_log_exists",
    "audit_rows",
    "delete_user_roles",
    "insert_audit_entry",
    "insert_organisation",
    "insert_token",
    "insert_user",
    "insert_user_role",
    "last_audit_entry",
    "lock_audit_log",
    "org_codes",
    "org_exists",
    "organisations",
    "revoke_token",
    "role_rows",
    "take_audit_turn",
    "token_row",
    "token_rows",
    "update_user",
    "user_failed_attempts",
    "user_for_subject",
    "user_password_hash",
    "user_roles",
    "user_row",
    "user_rows",
]

Reader = Store | StoreWriter
Row = dict[str, Any]

# --- organisations (the contract's table) --------------------------------------------------------


def org_exists(r: Reader, org_code: str) -> bool:
    """Whether ``org_code`` is an organisation of the store."""
    return bool(r.query("SELECT 1 AS x FROM organisations WHERE org_code = :o", {"o": org_code}))


def org_codes(r: Reader) -> list[str]:
    """Every organisation's code, in order."""
    return [str(x["org_code"]) for x in r.query("SELECT org_code FROM organisations ORDER BY org_code")]


def organisations(r: Reader) -> list[Row]:
    """Every organisation's code, name and type, by code."""
    return r.query("SELECT org_code, name, org_type FROM organisations ORDER BY org_code")


def insert_organisation(w: StoreWriter, org_code: str, name: str, org_type: str, ics_code: str | None) -> None:
    """Add an organisation."""
    w.execute("INSERT INTO organisations (org_code, name, org_type, ics_code) VALUES (:c, :n, :t, :i)",
              {"c": org_code, "n": name, "t": org_type, "i": ics_code})


# --- users and roles -----------------------------------------------------------------------------------


def user_row(r: Reader, username: str) -> Row | None:
    """The ``users`` row of ``username``, or ``None``."""
    rows = r.query("SELECT * FROM users WHERE username = :u", {"u": username})
    return rows[0] if rows else None


def user_rows(r: Reader, org_code: str | None = None) -> list[Row]:
    """Every user (of one organisation if given), by organisation then username."""
    if org_code:
        return r.query("SELECT * FROM users WHERE org_code = :o ORDER BY org_code, username", {"o": org_code})
    return r.query("SELECT * FROM users ORDER BY org_code, username")


def user_roles(r: Reader, username: str) -> frozenset[str]:
    """The roles ``username`` holds."""
    return frozenset(str(x["role"]) for x in r.query("SELECT role FROM user_roles WHERE username = :u",
                                                     {"u": username}))


def role_rows(r: Reader) -> list[Row]:
    """Every (username, role) pair."""
    return r.query("SELECT username, role FROM user_roles")


def user_for_subject(r: Reader, subject: str) -> str | None:
    """The username signed in by single sign-on as ``subject`` (``issuer#sub``), or ``None``."""
    rows = r.query("SELECT username FROM users WHERE oidc_subject = :s", {"s": subject})
    return str(rows[0]["username"]) if rows else None


def user_password_hash(r: Reader, username: str) -> str | None:
    """The stored password hash of ``username`` (``None``: no password)."""
    rows = r.query("SELECT password_hash FROM users WHERE username = :u", {"u": username})
    return rows[0]["password_hash"] if rows else None


def user_failed_attempts(w: StoreWriter, username: str) -> int:
    """Wrong passwords in a row so far."""
    return int(w.query("SELECT failed_attempts FROM users WHERE username = :u", {"u": username})[0]["failed_attempts"])


def insert_user(w: StoreWriter, values: Row) -> None:
    """Add a user: ``values`` has username, display_name, org_code, email, password_hash,
    oidc_subject, created_at and last_sign_in (``None`` for never)."""
    w.execute(
        "INSERT INTO users (username, display_name, org_code, email, password_hash, oidc_subject, disabled, "
        "failed_attempts, created_at, last_sign_in) VALUES (:username, :display_name, :org_code, :email, "
        ":password_hash, :oidc_subject, false, 0, :created_at, :last_sign_in)",
        values,
    )


# The columns update_user may set; a name not here is a programming error, never SQL.
_USER_COLUMNS = frozenset({"disabled", "password_hash", "failed_attempts", "locked_until", "last_sign_in",
                           "org_code"})


def update_user(w: StoreWriter, username: str, **values: Any) -> None:
    """Set some of a user's columns (``disabled``, ``password_hash``, ``failed_attempts``,
    ``locked_until``, ``last_sign_in``, ``org_code``)."""
    unknown = set(values) - _USER_COLUMNS
    if unknown or not values:
        raise ValueError(f"cannot set {sorted(unknown) or 'nothing'} of a user")
    sets = ", ".join(f"{c} = :{c}" for c in sorted(values))
    w.execute(f"UPDATE users SET {sets} WHERE username = :username", {**values, "username": username})


def insert_user_role(w: StoreWriter, username: str, role: str) -> None:
    """Give ``username`` ``role``."""
    w.execute("INSERT INTO user_roles (username, role) VALUES (:u, :r)", {"u": username, "r": role})


def delete_user_roles(w: StoreWriter, username: str) -> None:
    """Take every role from ``username``."""
    w.execute("DELETE FROM user_roles WHERE username = :u", {"u": username})


# --- API tokens ----------------------------------------------------------------------------------------


def token_row(r: Reader, token_id: str) -> Row | None:
    """The ``api_tokens`` row of ``token_id``, or ``None``."""
    rows = r.query("SELECT * FROM api_tokens WHERE token_id = :i", {"i": token_id})
    return rows[0] if rows else None


def token_rows(r: Reader) -> list[Row]:
    """Every token, newest first."""
    return r.query("SELECT * FROM api_tokens ORDER BY created_at DESC")


def insert_token(w: StoreWriter, values: Row) -> None:
    """Add a token: ``values`` has token_id, name, role, org_code, secret_sha256, created_by,
    created_at and expires_at."""
    w.execute(
        "INSERT INTO api_tokens (token_id, name, role, org_code, secret_sha256, created_by, created_at, expires_at) "
        "VALUES (:token_id, :name, :role, :org_code, :secret_sha256, :created_by, :created_at, :expires_at)",
        values,
    )


def revoke_token(w: StoreWriter, token_id: str, at: Any) -> None:
    """Mark a token revoked at ``at``."""
    w.execute("UPDATE api_tokens SET revoked_at = :t WHERE token_id = :i", {"t": at, "i": token_id})


# --- the audit log -------------------------------------------------------------------------------------


def take_audit_turn(w: StoreWriter) -> None:
    """PostgreSQL: writers of the log take turns until this transaction ends, from before the log is
    made: two first writers each running ``CREATE TABLE IF NOT EXISTS`` at once collide in the catalogue."""
    w.execute("SELECT pg_advisory_xact_lock(7212)")


def lock_audit_log(w: StoreWriter) -> None:
    """PostgreSQL: writers take turns on the log until this transaction ends."""
    w.execute("LOCK TABLE audit_log IN EXCLUSIVE MODE")


def last_audit_entry(r: Reader) -> Row | None:
    """The newest entry's id and hash, or ``None`` for an empty log."""
    rows = r.query("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1")
    return rows[0] if rows else None


def insert_audit_entry(w: StoreWriter, fields: Row) -> None:
    """Append an entry: ``fields`` has id, at, actor, organisation, action, object_type, object_id,
    before, after, request_id, prev_hash and hash."""
    w.execute(
        "INSERT INTO audit_log (id, occurred_at, actor, organisation, action, object_type, object_id, before_json, "
        "after_json, request_id, prev_hash, hash) VALUES (:id, :at, :actor, :organisation, :action, "
        ":object_type, :object_id, :before, :after, :request_id, :prev_hash, :hash)",
        fields,
    )


def audit_log_exists(r: Reader) -> bool:
    """Whether the store (or a companion file) has an audit log."""
    rows = r.query("SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'audit_log'")
    return bool(rows[0]["n"])


def _audit_where(actor: str | None, object_type: str | None) -> tuple[str, Row]:
    where, params = [], {}
    if actor:
        where.append("actor = :actor")
        params["actor"] = actor
    if object_type:
        where.append("object_type = :object_type")
        params["object_type"] = object_type
    return (f"WHERE {' AND '.join(where)}" if where else ""), params


def audit_count(r: Reader, actor: str | None = None, object_type: str | None = None) -> int:
    """How many entries (by ``actor``, of ``object_type``, when given)."""
    clause, params = _audit_where(actor, object_type)
    return int(r.query(f"SELECT count(*) AS n FROM audit_log {clause}", params)[0]["n"])


def audit_rows(r: Reader, *, actor: str | None = None, object_type: str | None = None, newest_first: bool = True,
               limit: int | None = None, offset: int = 0) -> list[Row]:
    """Entries in id order (newest first unless asked otherwise), filtered and paged."""
    clause, params = _audit_where(actor, object_type)
    order = "DESC" if newest_first else "ASC"
    page = f" LIMIT {int(limit)} OFFSET {int(offset)}" if limit is not None else ""
    return r.query(f"SELECT * FROM audit_log {clause} ORDER BY id {order}{page}", params)
