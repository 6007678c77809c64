"""The national standards: the matrix ``/standards`` and one standard ``/standards/{standard_id}``, each
with ``.json``, ``.csv`` and ``/api`` routes. Both answers come from the shared cache when the data
has not changed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Query

from uec.standards import format_value, organisation_names
from uec.web import data
from uec.web.deps import CacheDep, StoreDep
from uec.web.limits import MAX_BASELINE_POINTS, MAX_REBASE_DATES, BoundError, check_code, check_date, check_from
from uec.web.responder import PageSpec, add_page
from uec.web.standards_views import (
    AREAS,
    DETAIL_CSV_COLUMNS,
    GRAINS,
    MATRIX_CSV_COLUMNS,
    StandardDetail,
    StandardsMatrix,
    detail_csv_rows,
    matrix_csv_rows,
    parse_from,
    parse_rebase,
    standard_detail,
    standards_matrix,
)

__all__ = ["detail_data", "matrix_data", "router"]

router = APIRouter()

By = Query("month", description="Period: month, week, day, quarter or fy (financial year from 1 April)")
From = Query(None, alias="from", description="First local date, YYYY-MM-DD (at most 5 years ago, not before 1990)")
Site = Query(None, description="A site code; the whole ICS if not given")
Org = Query(None, description="An organisation code (a trust, an ICB, an NHS England region or Eng for England) "
            "instead of a site; an area's total over returns names the members it includes and misses")
Area = Query("all", description="Which standards: all, ed, ambulance or flow")
Rebase = Query(None, description="Rebase the SPC chart: comma-separated dates, YYYY-MM-DD "
               f"(at most {MAX_REBASE_DATES})")
Baseline = Query(None, description="Fix each chart period's limits on its first N points "
                 f"({MAX_BASELINE_POINTS[0]} to {MAX_BASELINE_POINTS[1]})")


def matrix_data(store: StoreDep, cache: CacheDep, by: str = By, start: str | None = From,
                area: str = Area) -> StandardsMatrix:
    """The standards matrix, as its page shows it."""
    first = check_from(parse_from(start))
    return cache.get(store, "standards_matrix", by, first, area,
                     compute=lambda: standards_matrix(store, by, first, area))


def detail_data(store: StoreDep, cache: CacheDep, standard_id: str, by: str = By, start: str | None = From,  # noqa: PLR0913 - one per query parameter of the page
                site: str | None = Site, rebase: str | None = Rebase,
                baseline: int | None = Baseline, org: str | None = Org) -> StandardDetail:
    """One standard, as its page shows it."""
    check_code("standard_id", standard_id)
    check_code("site", site)
    check_code("org", org)
    first = check_from(parse_from(start))
    dates = parse_rebase(rebase)
    if len(dates) > MAX_REBASE_DATES:
        raise BoundError("rebase", f"at most {MAX_REBASE_DATES} dates.")
    for d in dates:
        check_date("rebase", d)
    if baseline is not None and baseline > MAX_BASELINE_POINTS[1]:
        raise BoundError("baseline", f"must be between {MAX_BASELINE_POINTS[0]} and {MAX_BASELINE_POINTS[1]}.")
    return cache.get(store, "standard_detail", standard_id, by, first, site or None, tuple(dates), baseline,
                     org or None,
                     compute=lambda: standard_detail(store, standard_id, by, first, site or None, dates, baseline,
                                                     org or None))


def _matrix_context(m: StandardsMatrix, args: Mapping[str, Any]) -> dict[str, Any]:
    return {"m": m, "by": args["by"], "start": args["start"] or "", "area": args["area"], "areas": AREAS,
            "grains": GRAINS, "nav": "standards"}


def _detail_context(d: StandardDetail, args: Mapping[str, Any]) -> dict[str, Any]:
    return {"d": d, "by": args["by"], "start": args["start"] or "", "grains": GRAINS,
            "sites": data.list_sites(args["store"]), "orgs": organisation_names(args["store"]),
            "nav": "standards", "fmt": format_value}


add_page(router, matrix_data, PageSpec(
    name="standards", path="/standards", model=StandardsMatrix, template="standards.html", context=_matrix_context,
    csv_columns=MATRIX_CSV_COLUMNS, csv_rows=matrix_csv_rows, filename=lambda a: "standards.csv",
    api_paths=["/api/standards"], json_doc="The standards matrix, as its page shows it.",
    csv_doc="The standards matrix, one cell per row.",
    cache_page=True,
))
add_page(router, detail_data, PageSpec(
    name="standard", path="/standards/{standard_id}", model=StandardDetail, template="standards_detail.html",
    context=_detail_context, csv_columns=DETAIL_CSV_COLUMNS, csv_rows=detail_csv_rows,
    filename=lambda a: f"standard-{a['standard_id']}.csv", api_paths=["/api/standards/{standard_id}"],
    json_doc="One standard, as its page shows it.",
    csv_doc="One standard's series and breakdowns, one number set per row.",
    cache_page=True,
))
