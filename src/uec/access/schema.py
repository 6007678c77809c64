"""The access tables, on both engines: users, their roles, API tokens and the audit log.

Created on first use by :func:`ensure_access_schema` (``CREATE TABLE IF NOT EXISTS``, like the
store's own bookkeeping tables), so a store made before this package existed gains them without a
migration step.

>>> import tempfile, os
>>> from uec.store import open_store
>>> with tempfile.TemporaryDirectory() as d:
...     store = open_store(os.path.join(d, "uec.duckdb"))
...     ensure_access_schema(store)
...     store.query("SELECT count(*) AS n FROM audit_log")
[{'n': 0}]
"""

from __future__ import annotations

from uec.store import Store

__all__ = ["ACCESS_DDL", "AUDIT_DDL", "ensure_access_schema"]

# The audit trail (uec.access.audit): append-only, hash-chained. `at` is a keyword in DuckDB.
AUDIT_DDL = """CREATE TABLE IF NOT EXISTS audit_log (
        id BIGINT NOT NULL,
        occurred_at TIMESTAMP WITH TIME ZONE NOT NULL,
        actor VARCHAR NOT NULL,
        organisation VARCHAR,
        action VARCHAR NOT NULL,
        object_type VARCHAR NOT NULL,
        object_id VARCHAR NOT NULL,
        before_json VARCHAR,
        after_json VARCHAR,
        request_id VARCHAR,
        prev_hash VARCHAR NOT NULL,
        hash VARCHAR NOT NULL,
        UNIQUE (id)
    )"""

# Roles live in their own table so that a person may hold several; a user's organisation is a
# column because a user belongs to exactly one. Lock-out state sits with the password it protects.
# user_roles has no UNIQUE constraint on purpose: changing roles deletes and re-inserts rows in one
# transaction, which DuckDB's eager index checks would reject; the code keeps the pairs unique.
ACCESS_DDL = (
    """CREATE TABLE IF NOT EXISTS users (
        username VARCHAR NOT NULL,
        display_name VARCHAR NOT NULL,
        org_code VARCHAR NOT NULL,
        email VARCHAR,
        password_hash VARCHAR,
        oidc_subject VARCHAR,
        disabled BOOLEAN NOT NULL,
        failed_attempts BIGINT NOT NULL,
        locked_until TIMESTAMP WITH TIME ZONE,
        created_at TIMESTAMP WITH TIME ZONE NOT NULL,
        last_sign_in TIMESTAMP WITH TIME ZONE,
        UNIQUE (username)
    )""",
    """CREATE TABLE IF NOT EXISTS user_roles (
        username VARCHAR NOT NULL,
        role VARCHAR NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS api_tokens (
        token_id VARCHAR NOT NULL,
        name VARCHAR NOT NULL,
        role VARCHAR NOT NULL,
        org_code VARCHAR NOT NULL,
        secret_sha256 VARCHAR NOT NULL,
        created_by VARCHAR NOT NULL,
        created_at TIMESTAMP WITH TIME ZONE NOT NULL,
        expires_at TIMESTAMP WITH TIME ZONE NOT NULL,
        revoked_at TIMESTAMP WITH TIME ZONE,
        UNIQUE (token_id)
    )""",
    AUDIT_DDL,
)

_ensured: set[str] = set()


def ensure_access_schema(store: Store) -> None:
    """Create the access tables if they are missing (once per store per process)."""
    if store.url in _ensured:
        return
    with store.write() as w:
        for ddl in ACCESS_DDL:
            w.execute(ddl)
    _ensured.add(store.url)
