"""The escalation tables, on both engines: declared levels, tracked actions, observed calculated
levels, notification subscriptions and the notification outbox.

Created on first use (``CREATE TABLE IF NOT EXISTS``, like the access tables), and again inside
each writing transaction (:func:`ensure_in`), so a declaration made on a store created before this
module existed needs no migration step.

>>> import tempfile, os
>>> from uec.store import open_store
>>> with tempfile.TemporaryDirectory() as d:
...     store = open_store(os.path.join(d, "uec.duckdb"))
...     ensure_escalation_schema(store)
...     store.query("SELECT count(*) AS n FROM escalation_declarations")
[{'n': 0}]
"""

from __future__ import annotations

from uec.store import Store, StoreWriter

__all__ = ["ESCALATION_DDL", "ensure_escalation_schema", "ensure_in"]

# Ids are short random hex strings (no sequences: the same DDL runs on DuckDB and PostgreSQL).
# A declaration's `scope` is 'org' or 'system' (the ICS as a whole, `object_code` its code).
ESCALATION_DDL = (
    """CREATE TABLE IF NOT EXISTS escalation_declarations (
        id VARCHAR NOT NULL,
        scope VARCHAR NOT NULL,
        object_code VARCHAR NOT NULL,
        provider_type VARCHAR,
        level BIGINT NOT NULL,
        previous_level BIGINT,
        calculated_level BIGINT,
        calculated_score DOUBLE PRECISION,
        calculated_at TIMESTAMP WITH TIME ZONE,
        reason VARCHAR,
        declared_by VARCHAR NOT NULL,
        declared_at TIMESTAMP WITH TIME ZONE NOT NULL,
        framework VARCHAR NOT NULL,
        UNIQUE (id)
    )""",
    # state: open, done (note), not_applicable (note = the reason), closed (stood down; note says so).
    """CREATE TABLE IF NOT EXISTS escalation_actions (
        id VARCHAR NOT NULL,
        object_code VARCHAR NOT NULL,
        scope VARCHAR NOT NULL,
        provider_type VARCHAR,
        level BIGINT NOT NULL,
        card_id VARCHAR NOT NULL,
        title VARCHAR NOT NULL,
        role VARCHAR NOT NULL,
        owner_org VARCHAR NOT NULL,
        owner_role VARCHAR NOT NULL,
        origin VARCHAR NOT NULL,
        declaration_id VARCHAR,
        created_at TIMESTAMP WITH TIME ZONE NOT NULL,
        due_at TIMESTAMP WITH TIME ZONE NOT NULL,
        state VARCHAR NOT NULL,
        note VARCHAR,
        closed_by VARCHAR,
        closed_at TIMESTAMP WITH TIME ZONE,
        UNIQUE (id)
    )""",
    # Each change of a calculated level seen by uec.escalation.notify.observe (its history).
    """CREATE TABLE IF NOT EXISTS escalation_calculated (
        object_code VARCHAR NOT NULL,
        scope VARCHAR NOT NULL,
        level BIGINT,
        score DOUBLE PRECISION,
        assessed_at TIMESTAMP WITH TIME ZONE NOT NULL,
        observed_at TIMESTAMP WITH TIME ZONE NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS notification_subscriptions (
        id VARCHAR NOT NULL,
        username VARCHAR NOT NULL,
        scope VARCHAR NOT NULL,
        object_code VARCHAR,
        channel VARCHAR NOT NULL,
        address VARCHAR NOT NULL,
        created_at TIMESTAMP WITH TIME ZONE NOT NULL,
        active BOOLEAN NOT NULL,
        UNIQUE (id)
    )""",
    # The outbox and the record of every notification: pending -> sending -> sent | failed;
    # suppressed = inside the cool-down (recorded, never sent).
    """CREATE TABLE IF NOT EXISTS notifications (
        id VARCHAR NOT NULL,
        subscription_id VARCHAR NOT NULL,
        event VARCHAR NOT NULL,
        event_key VARCHAR NOT NULL,
        object_code VARCHAR NOT NULL,
        channel VARCHAR NOT NULL,
        subject VARCHAR NOT NULL,
        body VARCHAR NOT NULL,
        created_at TIMESTAMP WITH TIME ZONE NOT NULL,
        state VARCHAR NOT NULL,
        claim VARCHAR,
        sent_at TIMESTAMP WITH TIME ZONE,
        error VARCHAR,
        UNIQUE (id)
    )""",
    # Each change of a parameter's level seen by uec.escalation.thresholds.observe_parameters.
    """CREATE TABLE IF NOT EXISTS escalation_parameter_levels (
        object_code VARCHAR NOT NULL,
        parameter_id VARCHAR NOT NULL,
        level BIGINT,
        value DOUBLE PRECISION,
        assessed_at TIMESTAMP WITH TIME ZONE NOT NULL,
        observed_at TIMESTAMP WITH TIME ZONE NOT NULL
    )""",
)

_ensured: set[str] = set()


def ensure_in(writer: StoreWriter) -> None:
    """Create the tables inside the caller's transaction (both engines allow DDL there)."""
    for ddl in ESCALATION_DDL:
        writer.execute(ddl)


def ensure_escalation_schema(store: Store) -> None:
    """Create the escalation tables if they are missing (once per store per process)."""
    if store.url in _ensured:
        return
    with store.write() as w:
        ensure_in(w)
    _ensured.add(store.url)
