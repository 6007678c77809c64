"""The system overview: ``/`` with ``/overview.json``, ``/overview.csv`` and ``/api/overview``, answered from
the shared cache until the data (or the London date) changes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter

from uec.web import data, first_screen
from uec.web.deps import CacheDep, StoreDep
from uec.web.responder import PageSpec, add_page

__all__ = ["overview_data", "router"]

router = APIRouter()


def overview_data(store: StoreDep, cache: CacheDep) -> first_screen.FirstScreen:
    """The first screen: the whole ICS now, the key standards, yesterday and the last 7 days."""
    return cache.get(store, "overview", compute=lambda: first_screen.first_screen(store))


def _context(ov: first_screen.FirstScreen, args: Mapping[str, Any]) -> dict[str, Any]:
    return {"ov": ov}


add_page(router, overview_data, PageSpec(
    name="overview", path="/overview", html_path="/", model=first_screen.FirstScreen,
    template="overview.html", context=_context, csv_columns=data.CSV_COLUMNS,
    csv_rows=first_screen.first_screen_csv_rows, filename=lambda a: "overview.csv",
    api_paths=["/api/overview"], json_doc="The first screen (system overview), as its page shows it.",
    csv_doc="Every number on the overview page, one per row.",
    cache_page=True,
))
