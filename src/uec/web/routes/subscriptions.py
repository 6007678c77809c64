"""``/subscriptions``: a signed-in person subscribes to (and unsubscribes from) escalation
notifications by email or webhook, for an organisation or the whole system.

A person sees and manages only their own subscriptions; an administrator sees and manages
everyone's (:mod:`uec.escalation.subscriptions` checks it, audited). The forms carry the CSRF
token. The page is personal: it must not be cached for other people.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from uec.access.permissions import allowed
from uec.access.user import User
from uec.access.web import request_id, require
from uec.errors import UecError
from uec.escalation import subscriptions
from uec.escalation.notify import Subscription
from uec.escalation.queries import org_rows
from uec.web.deps import StoreDep
from uec.web.responder import ERROR_RESPONSES, REFUSED_RESPONSES, render

__all__ = ["router"]

router = APIRouter()

# Signed in, always (a subscription is a person's): not opened by the anonymous_read setting.
_person = Depends(require("view_aggregate"))


class SubscriptionRow(BaseModel):
    id: str
    username: str
    object_code: str | None
    channel: str
    address: str


class Subscriptions(BaseModel):
    username: str
    is_admin: bool
    subscriptions: list[SubscriptionRow]


def _shown(s: Subscription) -> SubscriptionRow:
    # A webhook URL's path or query may hold a secret: only its scheme and host are shown.
    address = s.address
    if s.channel == "webhook":
        parts = urlsplit(address)
        address = f"{parts.scheme}://{parts.netloc}/…"
    return SubscriptionRow(id=s.id, username=s.username, object_code=s.object_code, channel=s.channel,
                           address=address)


def _data(store: StoreDep, user: User) -> Subscriptions:
    return Subscriptions(username=user.username, is_admin=allowed(user, "manage_users"),
                         subscriptions=[_shown(s) for s in subscriptions.mine(store, user)])


@router.get("/api/subscriptions", tags=["api"], response_model=Subscriptions,
            responses={**REFUSED_RESPONSES, 503: ERROR_RESPONSES[503]})
def api_subscriptions(store: StoreDep, user: User = _person) -> Subscriptions:
    """Your subscriptions (an administrator: everyone's); webhook addresses shown by host only."""
    return _data(store, user)


@router.get("/subscriptions", include_in_schema=False)
def subscriptions_page(request: Request, store: StoreDep, user: User = _person) -> Response:
    """The subscriptions page with its subscribe and unsubscribe forms."""
    orgs = [(r["org_code"], r["name"]) for r in org_rows(store)]
    resp = render(request, "subscriptions.html", m=_data(store, user), orgs=orgs, nav="subscriptions")
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


def _problem(request: Request, exc: UecError) -> Response:
    status = 403 if isinstance(exc, subscriptions.NotYours) else 400
    return render(request, "escalation_error.html", status=status, message=str(exc), back="/subscriptions",
                  nav="escalation")


@router.post("/subscriptions", include_in_schema=False)
def subscribe(request: Request, store: StoreDep, channel: Annotated[str, Form(pattern="^(email|webhook)$")],
              address: Annotated[str, Form(max_length=500)],
              org_code: Annotated[str, Form(max_length=20)] = "",
              username: Annotated[str, Form(max_length=100)] = "", user: User = _person) -> Response:
    """Subscribe (yourself, or for an administrator anyone) to an organisation's or the system's events."""
    try:
        subscriptions.add(store, user, object_code=org_code or None, channel=channel, address=address,
                          username=username or None, request_id=request_id())
    except UecError as exc:
        return _problem(request, exc)
    return RedirectResponse("/subscriptions", status_code=303)


@router.post("/subscriptions/{sub_id}/delete", include_in_schema=False)
def unsubscribe(request: Request, store: StoreDep, sub_id: str, user: User = _person) -> Response:
    """Unsubscribe (your own subscription; an administrator's: anyone's)."""
    try:
        subscriptions.remove(store, user, sub_id, request_id=request_id())
    except UecError as exc:
        return _problem(request, exc)
    return RedirectResponse("/subscriptions", status_code=303)
