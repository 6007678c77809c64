"""The bed occupancy projection: ``/occupancy`` with ``.json``, ``.csv`` and ``/api/occupancy``, answered
from the shared cache until the data or the saved forecast runs change."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Query

from uec.forecast.occupancy import OccupancyProjection
from uec.web import data
from uec.web.deps import CacheDep, StoreDep
from uec.web.forecast_views import OCCUPANCY_CSV_COLUMNS, occupancy, occupancy_csv_rows, runs_fingerprint
from uec.web.limits import OCCUPANCY_DAYS, check_code, check_range
from uec.web.responder import PageSpec, add_page

__all__ = ["occupancy_data", "router"]

router = APIRouter()

Site = Query(None, description="A site code; every site if not given")
Days = Query(7, description=f"Midnights to project, {OCCUPANCY_DAYS[0]} to {OCCUPANCY_DAYS[1]}")


def occupancy_data(store: StoreDep, cache: CacheDep, site: str | None = Site,
                   days: int = Days) -> OccupancyProjection:
    """The bed occupancy projection and next-day capacity, as the occupancy page shows them."""
    check_range("days", days, OCCUPANCY_DAYS)
    check_code("site", site)
    return cache.get(store, "occupancy", site or None, days, runs_fingerprint(store),
                     compute=lambda: occupancy(store, site or None, days))


def _context(p: OccupancyProjection, args: Mapping[str, Any]) -> dict[str, Any]:
    # Sites by name, as everywhere else on the pages (the projection itself keys them by code).
    names = {s.site_code: s.name for s in data.list_sites(args["store"])}
    return {"p": p, "message": None, "site": args["site"] or "", "days": args["days"], "nav": "forecasts",
            "names": names}


def _not_found(message: str, args: Mapping[str, Any]) -> dict[str, Any]:
    return {"p": None, "message": message, "site": args["site"] or "", "days": args["days"], "nav": "forecasts"}


add_page(router, occupancy_data, PageSpec(
    name="occupancy", path="/occupancy", model=OccupancyProjection, template="forecast_occupancy.html",
    context=_context, not_found=_not_found, csv_columns=OCCUPANCY_CSV_COLUMNS, csv_rows=occupancy_csv_rows,
    filename=lambda a: "occupancy.csv", api_paths=["/api/occupancy"],
    json_doc="The bed occupancy projection and next-day capacity, as the occupancy page shows them.",
    csv_doc="The projection, one site, day and measure per row.",
))
