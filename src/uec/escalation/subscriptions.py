"""Subscriptions managed by the people they notify (the web form), audited.

A signed-in person subscribes themselves to an organisation's (or the whole system's) escalation
events, by email or webhook, and unsubscribes. A person manages only their own subscriptions; an
administrator (``manage_users``) manages anyone's. Each change writes its audit entry in the same
transaction; the entry names the channel and the organisation, never the address (a webhook URL
may carry a secret).

>>> import tempfile, os
>>> from uec.store import open_store
>>> from uec.access.user import User
>>> store = open_store(os.path.join(tempfile.mkdtemp(), "uec.duckdb"))
>>> sam = User("sam", "Sam", "DEMO-A", frozenset({"site_manager"}))
>>> sub = add(store, sam, object_code="DEMO-A", channel="email", address="sam@example.nhs.uk")
>>> [s.object_code for s in mine(store, sam)]
['DEMO-A']
>>> remove(store, sam, sub.id).id == sub.id, mine(store, sam)
(True, [])
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import uuid
from urllib.parse import urlsplit

from uec.access import audit
from uec.access.permissions import allowed
from uec.access.user import User
from uec.errors import UecError
from uec.escalation import queries
from uec.escalation.notify import SYSTEM, Subscription
from uec.escalation.schema import ensure_escalation_schema, ensure_in
from uec.store import Store

__all__ = ["NotYours", "add", "check_public_webhook", "mine", "remove"]


class NotYours(UecError):
    """A person tried to manage someone else's subscription."""


def _sub(r: dict[str, object]) -> Subscription:
    return Subscription(str(r["id"]), str(r["username"]), str(r["scope"]),
                        None if r["object_code"] is None else str(r["object_code"]), str(r["channel"]),
                        str(r["address"]))


def _is_admin(user: User) -> bool:
    return allowed(user, "manage_users")


def mine(store: Store, user: User) -> list[Subscription]:
    """``user``'s active subscriptions; an administrator's view is everyone's."""
    ensure_escalation_schema(store)
    rows = queries.subscription_rows(store, username=None if _is_admin(user) else user.username)
    return [_sub(r) for r in rows]


def _check(channel: str, address: str) -> None:
    if channel not in ("email", "webhook"):
        raise UecError(f"unknown channel {channel!r}; choose email or webhook")
    if len(address) > 500:
        raise UecError("the address is longer than 500 characters")
    if channel == "email" and ("@" not in address or any(c.isspace() for c in address)):
        raise UecError("an email subscription needs an address such as name@example.nhs.uk")
    if channel == "webhook" and not address.startswith(("http://", "https://")):
        raise UecError("a webhook subscription needs an http:// or https:// URL")


def check_public_webhook(url: str) -> None:
    """Refuse a webhook a signed-in person may not point the server at: not ``https://``, or a host
    that is this machine or a private, link-local or reserved address (a form must not let anyone
    make the server post to its own network). Names are not resolved here; an egress proxy is the
    defence against a public name that resolves inward. The command line, run by an operator on the
    server, may still subscribe any URL.

    >>> check_public_webhook("https://hooks.example.org/abc")
    >>> check_public_webhook("https://169.254.169.254/latest")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    uec.errors.UecError: a webhook from this form must go to a public https:// address, not 169.254.169.254
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    inward = not host or host == "localhost" or host.endswith((".localhost", ".local", ".internal"))
    try:
        ip = ipaddress.ip_address(host)
        inward = inward or not ip.is_global
    except ValueError:
        pass
    if parts.scheme != "https" or inward:
        raise UecError(f"a webhook from this form must go to a public https:// address, not {host or url[:40]}")


def add(store: Store, user: User, *, object_code: str | None, channel: str, address: str,
        username: str | None = None, request_id: str | None = None) -> Subscription:
    """Subscribe ``username`` (default: ``user`` themselves; another person's only for an
    administrator) to ``object_code``'s events (``None``: the whole system's). A webhook must pass
    :func:`check_public_webhook`."""
    who = username or user.username
    if who != user.username and not _is_admin(user):
        raise NotYours("you may subscribe only yourself; an administrator may subscribe others")
    _check(channel, address.strip())
    if channel == "webhook":
        check_public_webhook(address.strip())
    ensure_escalation_schema(store)
    sub = Subscription(uuid.uuid4().hex[:12], who, SYSTEM if object_code is None else "org", object_code, channel,
                       address.strip())
    with audit.writing(store) as w:
        ensure_in(w)
        queries.insert_subscription(w, {**sub.__dict__, "at": dt.datetime.now(dt.UTC)})
        audit.record(w, actor=user, action="subscription.add", object_type="subscription", object_id=sub.id,
                     before=None, after={"username": who, "object": object_code or SYSTEM, "channel": channel},
                     request_id=request_id)
    return sub


def remove(store: Store, user: User, sub_id: str, *, request_id: str | None = None) -> Subscription:
    """Unsubscribe: ``user``'s own subscription, or anyone's for an administrator."""
    ensure_escalation_schema(store)
    with audit.writing(store) as w:
        ensure_in(w)
        rows = queries.subscription_rows(w, sub_id=sub_id)
        if not rows:
            raise UecError(f"there is no active subscription {sub_id!r}")
        sub = _sub(rows[0])
        if sub.username != user.username and not _is_admin(user):
            raise NotYours("you may unsubscribe only your own subscriptions")
        queries.deactivate_subscription(w, sub_id)
        audit.record(w, actor=user, action="subscription.remove", object_type="subscription", object_id=sub_id,
                     before={"username": sub.username, "object": sub.object_code or SYSTEM, "channel": sub.channel},
                     after=None, request_id=request_id)
    return sub
