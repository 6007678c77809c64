"""``POST /api/feeds/{kind}``: a sending organisation's small batch, loaded like ``uec ingest``.

The sender is an API token with the ``feed`` role (permission ``send_feed``, scoped to the token's
organisation). The body is CSV (``Content-Type: text/csv``) or JSON (``application/json``: a list
of objects), at most :data:`uec.feeds.MAX_BYTES`. Answers: 200 with the load's counts and the
reasons of any quarantined rows
(and ``warnings``, e.g. real data put into a demo store); 403 when a row is another organisation's (nothing loaded); 413
too large; 415 neither CSV nor JSON; 404 a kind no feed sends; 400 a malformed batch. A bearer request has
no cookie, so CSRF does not apply (a browser cannot be made to send the token).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from uec.access import allowed
from uec.access.user import User
from uec.access.web import AccessRefused, request_id
from uec.errors import UecError
from uec.feeds import MAX_BYTES, FeedRefused, load_warnings, receive
from uec.feeds.queries import quarantined_rows
from uec.store import StoreBusy
from uec.web.deps import StoreDep, get_current_user
from uec.web.responder import ERROR_RESPONSES, REFUSED_RESPONSES, ErrorModel

__all__ = ["router"]

router = APIRouter()


def _sender(user: Annotated[User | None, Depends(get_current_user)]) -> User:
    what = "Send rows through the feed endpoint"
    if user is None:
        raise AccessRefused(401, what, "no API token was given. Send `Authorization: Bearer <token>`.")
    if not allowed(user, "send_feed", user.org_code):
        roles = ", ".join(sorted(user.roles)) or "none"
        raise AccessRefused(403, what, f"it needs the role feed; you ({user.username}) hold: {roles}.")
    return user


# Read by uec.access.web.route_permissions: the permission this route asks for.
setattr(_sender, "permission", "send_feed")  # noqa: B010


class QuarantinedRow(BaseModel):
    row: int | None
    reason: str


class FeedLoad(BaseModel):
    kind: str
    org_code: str
    rows_in: int
    rows_loaded: int
    rows_quarantined: int
    load_id: int | None
    already_loaded: int | None
    unchecked: list[str]
    quarantined: list[QuarantinedRow]
    #: Loaded, but worth knowing: e.g. real data put into a demo store (the line `uec ingest` prints).
    warnings: list[str] = []


async def _body(request: Request) -> bytes:
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_BYTES:
            raise FeedRefused(f"the batch is larger than {MAX_BYTES} bytes (send larger files with `uec ingest`)", 413)
    return bytes(data)


@router.post(
    "/api/feeds/{kind}", tags=["api"], response_model=FeedLoad,
    responses={**REFUSED_RESPONSES,
               413: {"model": ErrorModel, "description": "The batch is larger than the limit"},
               415: {"model": ErrorModel, "description": "The body is neither CSV nor JSON"},
               400: {"model": ErrorModel, "description": "A malformed batch (the message says)"},
               404: {"model": ErrorModel, "description": "No feed sends this kind (the message lists those that do)"},
               503: ERROR_RESPONSES[503]},
)
async def post_feed(kind: str, request: Request, store: StoreDep,
                    user: Annotated[User, Depends(_sender)]) -> Any:
    """Load one batch of ``kind`` rows sent by the token's organisation (see the module docstring)."""
    from starlette.concurrency import run_in_threadpool

    try:
        body = await _body(request)
        result = await run_in_threadpool(
            receive, store, kind, body, content_type=request.headers.get("content-type", ""),
            org_code=user.org_code, actor=user, request_id=request_id())
    except FeedRefused as exc:
        return JSONResponse({"detail": str(exc)}, status_code=exc.status)
    except StoreBusy as exc:  # another writer holds the store: the sender should try again shortly
        return JSONResponse({"detail": str(exc)}, status_code=503, headers={"Retry-After": "5"})
    except UecError as exc:
        return JSONResponse({"detail": str(exc)}, status_code=400)
    rows = quarantined_rows(store, result.load_id) if result.load_id and result.rows_quarantined else []
    warnings = await run_in_threadpool(load_warnings, store, result)
    return FeedLoad(kind=kind, org_code=user.org_code, rows_in=result.rows_in, rows_loaded=result.rows_loaded,
                    rows_quarantined=result.rows_quarantined, load_id=result.load_id,
                    already_loaded=result.already_loaded, unchecked=list(result.unchecked),
                    quarantined=[QuarantinedRow(row=r["row_number"], reason=r["reason"]) for r in rows],
                    warnings=warnings)
