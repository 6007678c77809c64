"""Forecasts: ``/forecasts`` (every series and its latest saved forecast) and ``/forecasts/{series_id}``
(ids contain ``/``), each with ``.json``, ``.csv`` and ``/api`` routes, answered from the shared cache
until the data or the saved runs change."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter

from uec.forecast.series import KINDS
from uec.web.deps import CacheDep, StoreDep
from uec.web.forecast_views import (
    DETAIL_CSV_COLUMNS,
    LIST_CSV_COLUMNS,
    ForecastDetail,
    ForecastList,
    detail_csv_rows,
    forecast_detail,
    forecast_list,
    list_csv_rows,
    runs_fingerprint,
)
from uec.web.limits import check_code
from uec.web.responder import PageSpec, add_page

__all__ = ["detail_data", "list_data", "router"]

router = APIRouter()


def list_data(store: StoreDep, cache: CacheDep) -> ForecastList:
    """Every series with its latest saved forecast, as the forecasts page shows them."""
    return cache.get(store, "forecast_list", runs_fingerprint(store), compute=lambda: forecast_list(store))


def detail_data(store: StoreDep, cache: CacheDep, series_id: str) -> ForecastDetail:
    """One series' recent history and latest saved forecast, as its page shows them."""
    # Each part of the id is a code (a returns id names a collection, an organisation and a metric).
    for part in series_id.split("/"):
        check_code("series_id", part)
    return cache.get(store, "forecast_detail", series_id, runs_fingerprint(store),
                     compute=lambda: forecast_detail(store, series_id))


add_page(router, list_data, PageSpec(
    name="forecasts", path="/forecasts", model=ForecastList, template="forecasts.html",
    context=lambda fl, a: {"fl": fl, "kinds": KINDS, "nav": "forecasts"}, csv_columns=LIST_CSV_COLUMNS,
    csv_rows=list_csv_rows, filename=lambda a: "forecasts.csv", api_paths=["/api/forecasts"],
    json_doc="Every series with its latest saved forecast, as the forecasts page shows them.",
    csv_doc="Every series with its latest saved forecast, one per row.",
))


def _detail_context(d: ForecastDetail, args: Mapping[str, Any]) -> dict[str, Any]:
    return {"d": d, "nav": "forecasts"}


add_page(router, detail_data, PageSpec(
    name="forecast", path="/forecasts/{series_id:path}", model=ForecastDetail, template="forecast_detail.html",
    context=_detail_context, csv_columns=DETAIL_CSV_COLUMNS, csv_rows=detail_csv_rows,
    filename=lambda a: f"forecast-{a['series_id'].replace('/', '-')}.csv",
    api_paths=["/api/forecasts/{series_id:path}"],
    json_doc="One series' recent history and latest saved forecast, as its page shows them.",
    csv_doc="One series: recent actuals, then the forecast's mean and every quantile, one step per row.",
))
