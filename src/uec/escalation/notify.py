"""Notifications: subscriptions, an outbox written in the change's own transaction, and sending.

A person subscribes to an organisation (or to the whole system) by email or webhook. Events are a
declared level change, a calculated level change and an overdue action. :func:`enqueue` writes one
``notifications`` row per matching subscription inside the transaction that made the change, so a
change and its notifications commit together; :func:`send_pending` sends them after the commit
(email by SMTP, webhook by an HTTP POST of JSON) and records each as ``sent`` or ``failed``.

No storms: an event has a key (a declaration's id, an action's id, a calculated change's instant);
a subscription gets at most one row per key, and a row for the same subscription and object within
``Settings.notify_cooldown_minutes`` of the last one sent is recorded as ``suppressed`` and not sent.

>>> import tempfile, os
>>> from uec.store import open_store
>>> with tempfile.TemporaryDirectory() as d:
...     store = open_store(os.path.join(d, "uec.duckdb"))
...     sub = subscribe(store, "sam", "RAA", "webhook", "http://127.0.0.1:9/hook")
...     [(s.object_code, s.channel) for s in subscriptions(store)]
[('RAA', 'webhook')]
"""

from __future__ import annotations

import datetime as dt
import json
import smtplib
import urllib.request
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Literal

from uec.access import audit
from uec.config import Settings, get_settings
from uec.errors import UecError
from uec.escalation import queries
from uec.escalation.schema import ensure_escalation_schema
from uec.store import Store, StoreWriter

__all__ = [
    "EVENTS",
    "Notification",
    "Subscription",
    "enqueue",
    "notifications",
    "send_pending",
    "subscribe",
    "subscriptions",
]

Channel = Literal["email", "webhook"]

#: The events a subscription hears of.
EVENTS = ("declared_level_change", "calculated_level_change", "action_overdue",
          # A projection likely to rise above the current level (uec.escalation.projection_jobs).
          "projected_escalation",
          # A parameter entering a higher threshold band (uec.escalation.thresholds).
          "parameter_threshold_crossed")

#: ``scope`` of a subscription to the whole system (``object_code`` NULL).
SYSTEM = "system"


@dataclass(frozen=True)
class Subscription:
    """Who hears of what, and how."""

    id: str
    username: str
    scope: str
    object_code: str | None
    channel: str
    address: str


@dataclass(frozen=True)
class Notification:
    """One notification as recorded (the address is the subscription's; never printed here)."""

    id: str
    subscription_id: str
    event: str
    event_key: str
    object_code: str
    channel: str
    subject: str
    body: str
    created_at: dt.datetime
    state: str
    sent_at: dt.datetime | None
    error: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "subscription": self.subscription_id, "event": self.event,
                "object": self.object_code, "channel": self.channel, "subject": self.subject,
                "created_at": self.created_at.isoformat(), "state": self.state,
                "sent_at": self.sent_at.isoformat() if self.sent_at else None, "error": self.error}


def _new_id() -> str:
    return uuid.uuid4().hex[:12]


def subscribe(store: Store, username: str, object_code: str | None, channel: str, address: str, *,
              actor: audit.Actor = None) -> Subscription:
    """Subscribe ``username`` to an organisation's events (``object_code``) or the system's (``None``).

    An email address must contain ``@``; a webhook must be an ``http(s)://`` URL. Audited
    (``escalation.subscribe``, by ``actor``) without the address, which is personal or may hold a secret.
    """
    if channel not in ("email", "webhook"):
        raise UecError(f"unknown channel {channel!r}; use email or webhook")
    if channel == "email" and "@" not in address:
        raise UecError("an email subscription needs an address with @")
    if channel == "webhook" and not address.startswith(("http://", "https://")):
        raise UecError("a webhook subscription needs an http:// or https:// URL")
    ensure_escalation_schema(store)
    sub = Subscription(_new_id(), username, SYSTEM if object_code is None else "org", object_code, channel, address)
    with store.write() as w:
        queries.insert_subscription(w, {**sub.__dict__, "at": dt.datetime.now(dt.UTC)})
        audit.record(w, actor=actor, action="escalation.subscribe", object_type="subscription", object_id=sub.id,
                     before=None, after={"username": username, "scope": sub.scope, "object_code": object_code,
                                         "channel": channel}, request_id=None)
    return sub


def subscriptions(store: Store) -> list[Subscription]:
    """Every active subscription."""
    ensure_escalation_schema(store)
    rows = queries.subscription_rows(store)
    return [Subscription(r["id"], r["username"], r["scope"], r["object_code"], r["channel"], r["address"])
            for r in rows]


def enqueue(writer: StoreWriter, *, event: str, object_code: str, key: str, subject: str, body: str,
            now: dt.datetime, settings: Settings | None = None) -> int:
    """Record a notification of ``event`` on ``object_code`` for every matching subscription, inside
    the caller's transaction; returns how many will be sent (the rest are duplicates or suppressed)."""
    assert event in EVENTS, event
    cooldown = dt.timedelta(minutes=(settings or get_settings()).notify_cooldown_minutes)
    subs = queries.matching_subscription_rows(writer, SYSTEM, object_code)
    queued = 0
    for sub in subs:
        if queries.count_notifications_with_key(writer, sub["id"], key):
            continue  # one message per change
        recent = queries.count_recent_notifications(writer, sub["id"], object_code, now - cooldown)
        state = "suppressed" if recent else "pending"
        queued += state == "pending"
        queries.insert_notification(
            writer,
            {"id": _new_id(), "sub": sub["id"], "event": event, "key": key, "obj": object_code,
             "channel": sub["channel"], "subject": subject, "body": body, "at": now, "state": state})
    return queued


def _row(r: dict[str, Any]) -> Notification:
    return Notification(r["id"], r["subscription_id"], r["event"], r["event_key"], r["object_code"], r["channel"],
                        r["subject"], r["body"], r["created_at"], r["state"], r["sent_at"], r["error"])


def notifications(store: Store, *, state: str | None = None) -> list[Notification]:
    """Every notification recorded, oldest first (optionally only those in ``state``)."""
    ensure_escalation_schema(store)
    return [_row(r) for r in queries.notification_rows(store, state)]


def _send_email(settings: Settings, to: str, subject: str, body: str) -> None:
    msg = EmailMessage()
    msg["From"] = settings.smtp_from
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content(body)
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
        smtp.send_message(msg)


def _send_webhook(url: str, n: dict[str, Any]) -> None:
    payload = {"event": n["event"], "object": n["object_code"], "subject": n["subject"], "body": n["body"],
               "id": n["id"], "created_at": n["created_at"].isoformat()}
    # The standard library's client: httpx is a test-only dependency, and a webhook is one small POST.
    if not url.startswith(("http://", "https://")):
        raise ValueError("a webhook address is an http:// or https:// URL")
    request = urllib.request.Request(url, data=json.dumps(payload).encode("utf-8"), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def send_pending(store: Store, settings: Settings | None = None) -> tuple[int, int]:
    """Send every pending notification; returns (sent, failed).

    Rows are claimed first (``pending`` -> ``sending`` with this call's token, in one statement), so
    two processes sending at once never send the same row twice. A failure is recorded by the kind
    of error only (an address or URL may hold a secret).
    """
    settings = settings or get_settings()
    ensure_escalation_schema(store)
    token = uuid.uuid4().hex
    with store.write() as w:
        queries.claim_pending_notifications(w, token)
    rows = queries.claimed_notification_rows(store, token)
    sent = failed = 0
    for r in rows:
        error: str | None = None
        try:
            if r["channel"] == "email":
                _send_email(settings, r["address"], r["subject"], r["body"])
            else:
                _send_webhook(r["address"], r)
        except (OSError, ValueError, smtplib.SMTPException) as exc:  # urllib's HTTPError is an OSError
            status = getattr(exc, "code", None)
            error = type(exc).__name__ + (f" (HTTP {status})" if status else "")
        with store.write() as w:
            queries.set_notification_state(w, r["id"], state="failed" if error else "sent",
                                           at=dt.datetime.now(dt.UTC), error=error)
        sent += error is None
        failed += error is not None
    return sent, failed
