"""Sites: ``/sites/{site_code}`` with its ``.json``, ``.csv`` and ``/api/sites/{site_code}``; ``/api/sites``;
and the analysts' patient-level download ``/sites/{site_code}/attendances.csv``.

The download is the one place the web hands out patient-level rows, so it needs
``view_patient_level`` (analysts), never opens to visitors who are not signed in, and is bounded:
at most :data:`~uec.web.limits.PATIENT_ROWS_DAYS` London days and
:data:`~uec.web.limits.PATIENT_ROWS` rows per request (``X-More-Rows: true`` says the limit cut it
short). Rows are as the contract keeps them, pseudonymised (``patient_key``, never an NHS number),
and every text cell is neutralised against spreadsheet formulas.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import Response

from uec.activity.patient_rows import ATTENDANCE_COLUMNS, site_attendances
from uec.web import data, first_screen
from uec.web.deps import CacheDep, StoreDep, allow
from uec.web.limits import PATIENT_ROWS, PATIENT_ROWS_DAYS, BoundError, check_code, check_date, check_range
from uec.web.responder import ERROR_RESPONSES, REFUSED_RESPONSES, PageSpec, add_page, csv_response

__all__ = ["router", "site_attendances_csv", "site_data"]

router = APIRouter()


def site_data(store: StoreDep, cache: CacheDep, site_code: str) -> first_screen.SitePage:
    """One site, as its page shows it."""
    check_code("site_code", site_code)
    detail = cache.get(store, "site", site_code, compute=lambda: first_screen.site_page(store, site_code))
    if detail is None:
        raise HTTPException(404, f"There is no site with code {site_code} in the store.")
    return detail


def _context(sd: first_screen.SitePage, args: Mapping[str, Any]) -> dict[str, Any]:
    return {"sd": sd}


add_page(router, site_data, PageSpec(
    name="site", path="/sites/{site_code}", model=first_screen.SitePage, template="site.html", context=_context,
    csv_columns=data.CSV_COLUMNS, csv_rows=first_screen.first_screen_csv_rows,
    filename=lambda a: f"site-{a['site_code']}.csv",
    api_paths=["/api/sites/{site_code}"], json_doc="One site, as its page shows it.",
    csv_doc="Every number on a site's page, one per row.",
    # Kept rendered: the page's charts and tables take longer to render than to read from the cache.
    cache_page=True,
))


@router.get("/api/sites", response_model=list[data.Site], tags=["api"],
            responses={503: ERROR_RESPONSES[503], **REFUSED_RESPONSES}, dependencies=[Depends(allow("view_aggregate"))])
def api_sites(store: StoreDep) -> list[data.Site]:
    """Every site in the ICS with its services."""
    return data.list_sites(store)


From = Query(alias="from", description="First London day of arrivals, YYYY-MM-DD")
To = Query(None, alias="to",
           description=f"Last London day (default: the first); at most {PATIENT_ROWS_DAYS} days in all")
Rows = Query(PATIENT_ROWS[0], description=f"Most rows, 1 to {PATIENT_ROWS[1]}")


@router.get(
    "/sites/{site_code}/attendances.csv", response_class=Response, tags=["downloads"],
    dependencies=[Depends(allow("view_patient_level"))],
    responses={**ERROR_RESPONSES, **REFUSED_RESPONSES, 200: {
        "content": {"text/csv": {}}, "description": "CSV, one pseudonymised attendance per row",
        "headers": {"X-More-Rows": {"description": "true when the row limit cut the answer short",
                                    "schema": {"type": "string", "enum": ["true", "false"]}}}}},
)
def site_attendances_csv(store: StoreDep, site_code: str, start: dt.date = From, end: dt.date | None = To,
                         limit: int = Rows) -> Response:
    """A site's attendances, one pseudonymised row each (analysts only: patient-level rows)."""
    check_code("site_code", site_code)
    check_date("from", start)
    last = check_date("to", end) or start
    check_range("limit", limit, (1, PATIENT_ROWS[1]))
    if last < start:
        raise BoundError("to", "must be on or after from.")
    if (last - start).days + 1 > PATIENT_ROWS_DAYS:
        raise BoundError("to", f"a download covers at most {PATIENT_ROWS_DAYS} days.")
    if not data.list_sites(store, site_code):
        raise HTTPException(404, f"There is no site with code {site_code} in the store.")
    begin, _ = data.day_bounds(start)
    _, finish = data.day_bounds(last)
    rows = site_attendances(store, site_code, begin, finish, limit + 1)
    response = csv_response(rows[:limit], ATTENDANCE_COLUMNS,
                            f"attendances-{site_code}-{start.isoformat()}-{last.isoformat()}.csv")
    response.headers["X-More-Rows"] = "true" if len(rows) > limit else "false"
    # Patient-level rows: no shared or browser cache keeps a copy.
    response.headers["Cache-Control"] = "no-store"
    return response
