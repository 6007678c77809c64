"""``/api/health``: the app is up and its store opens (``uec ping`` asks this)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from uec.web.deps import StoreDep
from uec.web.responder import ERROR_RESPONSES

__all__ = ["router"]

router = APIRouter()


@router.get("/api/health", tags=["api"], responses={503: ERROR_RESPONSES[503]})
def api_health(store: StoreDep) -> dict[str, Any]:
    """The app is up and its store opens (``uec ping`` asks this); 503 with the reason if not."""
    return {"status": "ok", "engine": store.engine, "rows": store.counts()}
