"""The FastAPI application: server-rendered NHS.UK pages, their JSON and CSV siblings, and the API.

>>> from fastapi.testclient import TestClient
>>> import tempfile, os
>>> with tempfile.TemporaryDirectory() as d:
...     client = TestClient(create_app(os.path.join(d, "uec.duckdb")))
...     client.get("/api/sites").json()
[]
"""

from __future__ import annotations

import csv
import io
import logging
import os
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import ChainableUndefined, ChoiceLoader, Environment, PackageLoader, select_autoescape
from starlette.exceptions import HTTPException as StarletteHTTPException

from uec.access import web as access_web
from uec.errors import UecError
from uec.store import Store, open_store
from uec.web import data, display
from uec.web.forecast_pages import forecast_router
from uec.web.routes import audit as audit_routes
from uec.web.routes import auth as auth_routes
from uec.web.scenario_pages import scenarios_router
from uec.web.standards_pages import standards_router

__all__ = ["FRONTEND_URL", "SERVICE_NAME", "create_app", "find_frontend_dir", "template_environment"]

log = logging.getLogger("uec.web")

#: The service name in the header and page titles.
SERVICE_NAME = "UEC Resilience"

#: Where the app serves the nhsuk-frontend ``dist`` folder.
FRONTEND_URL = "/nhsuk-frontend"

# The files of nhsuk-frontend 10.x's dist folder the pages link to.
_CSS = "nhsuk/nhsuk-frontend.min.css"
_JS = "nhsuk/nhsuk-frontend.min.js"


def find_frontend_dir(cwd: Path | None = None, env: dict[str, str] | None = None) -> Path | None:
    """The nhsuk-frontend ``dist`` folder, or ``None`` when it is not installed.

    ``UEC_FRONTEND_DIR`` (the ``dist`` folder or the package folder holding it) wins when set;
    otherwise ``node_modules/nhsuk-frontend/dist`` is looked for in the working directory and its
    parents, then beside the source tree (an editable install run from elsewhere).

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     print(find_frontend_dir(Path(d), {"UEC_FRONTEND_DIR": d + "/missing"}))
    None
    """
    env = dict(os.environ) if env is None else env
    explicit = env.get("UEC_FRONTEND_DIR")
    if explicit:
        candidates = [Path(explicit), Path(explicit) / "dist"]
    else:
        here = (cwd or Path.cwd()).resolve()
        roots = [here, *here.parents, Path(__file__).resolve().parents[3]]
        candidates = [r / "node_modules" / "nhsuk-frontend" / "dist" for r in roots]
    for c in candidates:
        if (c / _CSS).is_file():
            return c
    return None


def template_environment() -> Environment:
    """The Jinja environment: this package's templates first, then nhsuk-frontend-jinja's macros.

    ``ChainableUndefined`` is what nhsuk-frontend-jinja's macros expect (they read nested optional
    parameters such as ``params.caption.text`` without checking each level).

    >>> env = template_environment()
    >>> "nhsuk-skip-link" in env.from_string(
    ...     '{% from "nhsuk/components/skip-link/macro.jinja" import skipLink %}'
    ...     '{{ skipLink({"href": "#maincontent", "text": "Skip to main content"}) }}').render()
    True
    """
    env = Environment(
        loader=ChoiceLoader([PackageLoader("uec.web", "templates"), PackageLoader("nhsuk_frontend_jinja")]),
        undefined=ChainableUndefined,
        autoescape=select_autoescape(["html", "jinja"], default_for_string=True),
    )
    env.filters.update(
        count=display.count,
        percent=display.percent,
        day_long=display.day_long,
        day_short=display.day_short,
        local_time=display.local_time,
        label=display.label,
    )
    return env


def _csv(rows: list[dict[str, Any]], filename: str) -> Response:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=data.CSV_COLUMNS, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return Response(
        buf.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _wants_html(request: Request) -> bool:
    # Data URLs answer errors in JSON; pages answer them with an NHS-styled page.
    path = request.url.path
    return not (path.startswith("/api/") or path.endswith((".json", ".csv")))


def create_app(store_url: str | None = None) -> FastAPI:
    """The web app over the store at ``store_url`` (``None``: ``UEC_STORE`` or the default store).

    The store is opened for each request and closed after it: the embedded DuckDB file may be held
    by only one writer, and ``uec ingest`` must be able to write while the app is running.
    """
    app = FastAPI(
        title=f"{SERVICE_NAME} API",
        description="Urgent and emergency care figures for an integrated care system. "
        "Times are UTC instants in ISO 8601; days are Europe/London days.",
        version="1",
    )
    # Pages are mostly macro whitespace and compress about tenfold.
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    env = template_environment()
    frontend = find_frontend_dir()
    if frontend is None:
        log.warning(
            "NHS.UK frontend assets not found (node_modules/nhsuk-frontend/dist): pages will be unstyled. "
            "Run the setup (`npm ci` in the repository root) or set UEC_FRONTEND_DIR."
        )
    else:
        app.mount(FRONTEND_URL, StaticFiles(directory=frontend), name="nhsuk-frontend")
        # The compiled stylesheet refers to its icons at the absolute path /assets/images/...
        if (frontend / "nhsuk" / "assets").is_dir():
            app.mount("/assets", StaticFiles(directory=frontend / "nhsuk" / "assets"), name="nhsuk-assets")
    env.globals.update(
        htmlLang="en-GB",
        assetPath="/assets",
        frontend_css=f"{FRONTEND_URL}/{_CSS}" if frontend else None,
        frontend_js=f"{FRONTEND_URL}/{_JS}" if frontend else None,
        service_name=SERVICE_NAME,
    )

    def store() -> Store:
        return open_store(store_url)

    def page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
        return HTMLResponse(env.get_template(name).render(**context), status_code=status)

    def site_or_404(code: str) -> data.SiteDetail:
        detail = data.site_detail(store(), code)
        if detail is None:
            raise HTTPException(404, f"There is no site with code {code} in the store.")
        return detail

    @app.exception_handler(StarletteHTTPException)
    def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if not _wants_html(request):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        if exc.status_code == 404:
            return page("not_found.html", 404, message=exc.detail, path=request.url.path)
        return page("error.html", exc.status_code, message=exc.detail)

    @app.exception_handler(UecError)
    def store_error(request: Request, exc: UecError) -> Response:
        # A store that cannot be opened or is busy is the user's to fix, not a bug: say what happened.
        log.warning("store problem: %s", exc)
        if not _wants_html(request):
            return JSONResponse({"detail": str(exc)}, status_code=503)
        return page("error.html", 503, message=str(exc))

    # --- pages --------------------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def overview_page() -> HTMLResponse:
        return page("overview.html", ov=data.overview(store()))

    # The .json and .csv routes come before /sites/{site_code}, whose parameter would match them too.
    @app.get("/sites/{site_code}.json", response_model=data.SiteDetail, tags=["downloads"])
    def site_json(site_code: str) -> data.SiteDetail:
        """One site, as its page shows it."""
        return site_or_404(site_code)

    @app.get("/sites/{site_code}.csv", response_class=Response, tags=["downloads"])
    def site_csv(site_code: str) -> Response:
        """Every number on a site's page, one per row."""
        return _csv(data.csv_rows(site_or_404(site_code)), f"site-{site_code}.csv")

    @app.get("/sites/{site_code}", response_class=HTMLResponse, include_in_schema=False)
    def site_page(site_code: str) -> HTMLResponse:
        return page("site.html", sd=site_or_404(site_code))

    @app.get("/overview.json", response_model=data.Overview, tags=["downloads"])
    def overview_json() -> data.Overview:
        """The system overview, as its page shows it."""
        return data.overview(store())

    @app.get("/overview.csv", response_class=Response, tags=["downloads"])
    def overview_csv() -> Response:
        """Every number on the overview page, one per row."""
        return _csv(data.csv_rows(data.overview(store())), "overview.csv")

    # --- API ----------------------------------------------------------------------------------

    app.add_api_route("/api/overview", overview_json, response_model=data.Overview, tags=["api"])
    app.add_api_route("/api/sites/{site_code}", site_json, response_model=data.SiteDetail, tags=["api"])

    # Access (uec.access): sessions, CSRF, security headers, sign-in and the audit trail.
    access_web.install(app, store_url=store_url, env=env)
    app.include_router(auth_routes.router)
    app.include_router(audit_routes.router)

    app.include_router(standards_router(store, page))
    app.include_router(forecast_router(store, page))
    app.include_router(scenarios_router(store, page))

    @app.get("/api/health", tags=["api"])
    def api_health() -> dict[str, Any]:
        """The app is up and its store opens (``uec ping`` asks this); 503 with the reason if not."""
        s = store()
        return {"status": "ok", "engine": s.engine, "rows": s.counts()}

    @app.get("/api/sites", response_model=list[data.Site], tags=["api"])
    def api_sites() -> list[data.Site]:
        """Every site in the ICS with its services."""
        return data.list_sites(store())

    return app
