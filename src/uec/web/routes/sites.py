"""Sites: ``/sites/{site_code}`` with its ``.json``, ``.csv`` and ``/api/sites/{site_code}``; ``/api/sites``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, HTTPException

from uec.web import data
from uec.web.deps import CacheDep, StoreDep
from uec.web.limits import check_code
from uec.web.responder import ERROR_RESPONSES, PageSpec, add_page

__all__ = ["router", "site_data"]

router = APIRouter()


def site_data(store: StoreDep, cache: CacheDep, site_code: str) -> data.SiteDetail:
    """One site, as its page shows it."""
    check_code("site_code", site_code)
    detail = cache.get(store, "site", site_code, compute=lambda: data.site_detail(store, site_code))
    if detail is None:
        raise HTTPException(404, f"There is no site with code {site_code} in the store.")
    return detail


def _context(sd: data.SiteDetail, args: Mapping[str, Any]) -> dict[str, Any]:
    return {"sd": sd}


add_page(router, site_data, PageSpec(
    name="site", path="/sites/{site_code}", model=data.SiteDetail, template="site.html", context=_context,
    csv_columns=data.CSV_COLUMNS, csv_rows=data.csv_rows, filename=lambda a: f"site-{a['site_code']}.csv",
    api_paths=["/api/sites/{site_code}"], json_doc="One site, as its page shows it.",
    csv_doc="Every number on a site's page, one per row.",
))


@router.get("/api/sites", response_model=list[data.Site], tags=["api"], responses={503: ERROR_RESPONSES[503]})
def api_sites(store: StoreDep) -> list[data.Site]:
    """Every site in the ICS with its services."""
    return data.list_sites(store)
