"""``/audit``: the audit trail for administrators and coordinators, with its .json and .csv siblings."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from uec.access import audit
from uec.access.user import User
from uec.access.web import render, require, store_for
from uec.web.limits import BoundError
from uec.web.responder import ERROR_RESPONSES, REFUSED_RESPONSES

__all__ = ["router"]

router = APIRouter()

PAGE_SIZE = 50

_view_audit = Depends(require("view_audit"))

# What else the downloads can answer: who is asking, and a store that cannot be opened.
_RESPONSES: dict[int | str, dict[str, Any]] = {**REFUSED_RESPONSES, 400: ERROR_RESPONSES[400],
                                                503: ERROR_RESPONSES[503]}
_MAX_FILTER = 200


def _filters(actor: str | None, object_type: str | None) -> dict[str, str]:
    # A value beyond its limit is a 400 naming the field, as everywhere in the web app.
    for name, value in (("actor", actor), ("object_type", object_type)):
        if value is not None and len(value) > _MAX_FILTER:
            raise BoundError(name, f"must be at most {_MAX_FILTER} characters.")
    return {k: v for k, v in (("actor", actor), ("object_type", object_type)) if v}


@router.get("/audit", response_class=HTMLResponse, include_in_schema=False)
def audit_page(
    request: Request,
    page: int = Query(1, ge=1, le=1_000_000),
    actor: str | None = Query(None),
    object_type: str | None = Query(None),
    user: User = _view_audit,
) -> HTMLResponse:
    store = store_for(request)
    filters = _filters(actor, object_type)
    rows = audit.entries(store, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE, actor=actor,
                         object_type=object_type)
    total = audit.count(store, actor=actor, object_type=object_type)
    query = f"?{urlencode(filters)}" if filters else ""

    def href(p: int) -> str:
        return "/audit?" + urlencode({**filters, "page": p})

    return render(
        request, "audit.html", nav="audit", entries=rows[:PAGE_SIZE], total=total, query=query,
        prev_href=href(page - 1) if page > 1 else None,
        next_href=href(page + 1) if len(rows) > PAGE_SIZE else None,
    )


@router.get("/audit.json", tags=["downloads"], responses=_RESPONSES)
def audit_json(
    request: Request,
    actor: str | None = Query(None),
    object_type: str | None = Query(None),
    user: User = _view_audit,
) -> dict[str, Any]:
    """The whole audit trail, oldest first, with the result of checking its hash chain."""
    _filters(actor, object_type)
    store = store_for(request)
    rows = audit.entries(store, newest_first=False, actor=actor, object_type=object_type)
    check = audit.verify(store)
    return {
        "verified": check.ok, "head": check.head, "problems": list(check.problems),
        "entries": [e.as_dict() for e in rows],
    }


@router.get("/audit.csv", response_class=Response, tags=["downloads"],
            responses={**_RESPONSES, 200: {"content": {"text/csv": {}}, "description": "CSV"}})
def audit_csv(
    request: Request,
    actor: str | None = Query(None),
    object_type: str | None = Query(None),
    user: User = _view_audit,
) -> Response:
    """The whole audit trail, oldest first, one entry per row (before and after as JSON text)."""
    _filters(actor, object_type)
    rows = audit.entries(store_for(request), newest_first=False, actor=actor, object_type=object_type)
    return Response(
        audit.to_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
    )

