"""The FastAPI application: server-rendered NHS.UK pages, their JSON and CSV siblings, and the API.

The app is assembled here from module-level routers (:mod:`uec.web.routes`, one per resource), the
dependencies they take (:mod:`uec.web.deps`: settings, store, cache, current user) and the one
responder that answers every page's ``.json`` and ``.csv`` (:mod:`uec.web.responder`). ``HEAD`` is
answered wherever ``GET`` is, and the OpenAPI schema lists every status an operation can return.
Every route but health and signing in needs a permission (:func:`uec.web.deps.allow`).

>>> from fastapi.testclient import TestClient
>>> from uec.access import User
>>> from uec.web.deps import get_current_user
>>> import tempfile, os
>>> with tempfile.TemporaryDirectory() as d:
...     app = create_app(os.path.join(d, "uec.duckdb"))
...     client = TestClient(app)
...     nobody = client.get("/api/health").json()["status"], client.get("/api/sites").status_code
...     app.dependency_overrides[get_current_user] = lambda: User("v", "V", "QXX", frozenset({"viewer"}))
...     nobody, client.get("/api/sites").json()
(('ok', 401), [])
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import ChainableUndefined, ChoiceLoader, Environment, PackageLoader, select_autoescape
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from uec.access import web as access_web
from uec.config import Settings
from uec.errors import UecError
from uec.web import api_docs, display, scenario_jobs
from uec.web.cache import AnswerCache, FreshnessHeaders
from uec.web.limits import BoundError
from uec.web.mixed_in import MixedInContext, mixed_in_notice
from uec.web.responder import FieldErrors, render
from uec.web.routes import ROUTERS
from uec.web.routes import audit as audit_routes
from uec.web.routes import auth as auth_routes

__all__ = ["FRONTEND_URL", "SERVICE_NAME", "HeadAsGet", "create_app", "find_frontend_dir", "template_environment"]

log = logging.getLogger("uec.web")

#: The service name in the header and page titles.
SERVICE_NAME = "UEC Resilience"

#: Where the app serves the nhsuk-frontend ``dist`` folder.
FRONTEND_URL = "/nhsuk-frontend"

# The files of nhsuk-frontend 10.x's dist folder the pages link to.
_CSS = "nhsuk/nhsuk-frontend.min.css"
_JS = "nhsuk/nhsuk-frontend.min.js"


def find_frontend_dir(cwd: Path | None = None, settings: Settings | None = None) -> Path | None:
    """The nhsuk-frontend ``dist`` folder, or ``None`` when it is not installed.

    ``Settings.frontend_dir`` (``UEC_FRONTEND_DIR``: the ``dist`` folder or the package folder
    holding it) wins when set; otherwise ``node_modules/nhsuk-frontend/dist`` is looked for in the
    working directory and its parents, then beside the source tree (an editable install run from elsewhere).

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     print(find_frontend_dir(Path(d), Settings(_env_file=None, frontend_dir=d + "/missing")))
    None
    """
    explicit = (settings or Settings()).frontend_dir
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


def _wants_html(request: Request) -> bool:
    # Data URLs answer errors in JSON; pages answer them with an NHS-styled page.
    path = request.url.path
    return not (path.startswith("/api/") or path.endswith((".json", ".csv")))


class HeadAsGet:
    """ASGI middleware: a ``HEAD`` request is answered as ``GET`` would be, headers and all, without the body.

    FastAPI's routes answer only the methods they declare, so without this ``HEAD /`` is 405.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_headers_only)


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The schema, with 422 answers described as they are sent (:class:`FieldErrors`, see ``invalid``)."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    ref = "#/components/schemas/FieldErrors"
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.update(FieldErrors.model_json_schema(ref_template="#/components/schemas/{model}").pop("$defs", {}))
    components["FieldErrors"] = FieldErrors.model_json_schema(ref_template="#/components/schemas/{model}")
    for item in schema.get("paths", {}).values():
        for op in item.values():
            answer = op.get("responses", {}).get("422")
            if answer is not None:
                answer["content"] = {"application/json": {"schema": {"$ref": ref}}}
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    app.openapi_schema = schema
    return schema


def create_app(store_url: str | None = None, settings: Settings | None = None) -> FastAPI:
    """The web app over the store at ``store_url`` (``None``: the settings' store, ``UEC_STORE`` or the default).

    ``settings`` default to :class:`~uec.config.Settings` read now from ``UEC_*`` and ``.env``; the
    routes reach them, the store and the cache through :mod:`uec.web.deps`. The store is opened
    for each request and closed after it: the embedded DuckDB file may be held by only one writer,
    and ``uec ingest`` must be able to write while the app is running.
    """
    settings = settings or Settings()
    if store_url is not None:
        settings = settings.model_copy(update={"store": store_url})
    app = FastAPI(
        title=f"{SERVICE_NAME} API",
        description="Urgent and emergency care figures for an integrated care system. "
        "Times are UTC instants in ISO 8601; days are Europe/London days.",
        version="1",
        # /docs is Swagger UI served from this server (uec.web.api_docs), not from a CDN.
        docs_url=None,
        redoc_url=None,
    )
    _install_middleware(app)
    env = template_environment()
    frontend = _mount_static(app, settings)
    env.globals.update(
        htmlLang="en-GB",
        assetPath="/assets",
        frontend_css=f"{FRONTEND_URL}/{_CSS}" if frontend else None,
        frontend_js=f"{FRONTEND_URL}/{_JS}" if frontend else None,
        service_name=SERVICE_NAME,
        mixed_in_notice=mixed_in_notice,
    )
    app.state.settings = settings
    app.state.templates = env
    app.state.cache = AnswerCache(settings.cache_dir, settings.cache_size_mb * 1024 * 1024)
    # Real data in a demo store: a warning on every page, worked out once per data version.
    app.add_middleware(MixedInContext, store_url=settings.store, cache=lambda: app.state.cache)
    scenario_jobs.set_limits(settings.scenario_queue_limit)
    _install_error_handlers(app)
    # Access (uec.access): sessions, CSRF, security headers, sign-in and the audit trail.
    access_web.install(app, store_url=settings.store, settings=settings, env=env)
    app.add_exception_handler(access_web.AccessRefused, _refused)
    _include_routers(app)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    api_docs.install(app, settings)
    return app


def _install_middleware(app: FastAPI) -> None:
    """The app's own middleware (access installs its own after these)."""
    # Pages are mostly macro whitespace and compress about tenfold.
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=6)  # 9 costs 5x the CPU for 10% less
    app.add_middleware(HeadAsGet)
    app.add_middleware(FreshnessHeaders)  # X-Data-As-Of on an answer from before the latest load


def _mount_static(app: FastAPI, settings: Settings) -> Path | None:
    """Serve the NHS.UK frontend's assets; returns their folder, or ``None`` (pages unstyled) if not found."""
    frontend = find_frontend_dir(settings=settings)
    if frontend is None:
        log.warning(
            "NHS.UK frontend assets not found (node_modules/nhsuk-frontend/dist): pages will be unstyled. "
            "Run the setup (`npm ci` in the repository root) or set UEC_FRONTEND_DIR."
        )
        return None
    app.mount(FRONTEND_URL, StaticFiles(directory=frontend), name="nhsuk-frontend")
    # The compiled stylesheet refers to its icons at the absolute path /assets/images/...
    if (frontend / "nhsuk" / "assets").is_dir():
        app.mount("/assets", StaticFiles(directory=frontend / "nhsuk" / "assets"), name="nhsuk-assets")
    return frontend


def _install_error_handlers(app: FastAPI) -> None:
    """Errors as pages for a browser and as JSON for scripts."""

    @app.exception_handler(StarletteHTTPException)
    def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if not _wants_html(request):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        if exc.status_code == 404:
            return render(request, "not_found.html", 404, message=exc.detail, path=request.url.path)
        if isinstance(exc, BoundError):
            return _bad_request(request, 400, str(exc.detail), [(exc.field, str(exc.detail))])
        if exc.status_code == 400:
            return _bad_request(request, 400, str(exc.detail), [("", str(exc.detail))])
        if exc.status_code == 405:
            # A form's address opened as a page (a bookmark, a link from an error): not a fault of the service.
            return render(request, "not_found.html", 405, path=request.url.path,
                          message="This address is where a form is sent, not a page: open the page with the form.")
        return render(request, "error.html", exc.status_code, message=exc.detail)

    @app.exception_handler(RequestValidationError)
    def invalid(request: Request, exc: RequestValidationError) -> Response:
        # A value of the wrong type (days=abc): one message per field, as the scenario API answers.
        errors = [(".".join(str(p) for p in e["loc"][1:]) or str(e["loc"][0]), str(e["msg"])) for e in exc.errors()]
        if not _wants_html(request):
            return JSONResponse({"detail": [{"field": f, "message": m} for f, m in errors]}, status_code=422)
        return _bad_request(request, 422, "Some values in the address are not valid.", errors)

    @app.exception_handler(UecError)
    def store_error(request: Request, exc: UecError) -> Response:
        # A store that cannot be opened or is busy is the user's to fix, not a bug: say what happened.
        log.warning("store problem: %s", exc)
        if not _wants_html(request):
            return JSONResponse({"detail": str(exc)}, status_code=503)
        return render(request, "error.html", 503, message=str(exc))


async def _refused(request: Request, exc: Exception) -> Response:
    # A person who follows a download link (.csv) gets the refusal as a page that says why,
    # not as JSON; scripts and tokens (no text/html in Accept) still get JSON.
    assert isinstance(exc, access_web.AccessRefused)
    browsing = ("text/html" in request.headers.get("accept", "")
                and not request.headers.get("authorization", "").startswith("Bearer "))
    if browsing and not _wants_html(request):
        response = access_web.render(request, "access_refused.html", exc.status, refused=exc,
                                     next_path=request.url.path + (f"?{request.url.query}" if request.url.query
                                                                   else ""))
        if exc.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="uec"'
        return response
    return access_web.refused_response(request, exc)


def _include_routers(app: FastAPI) -> None:
    """Sign-in and audit (uec.access), then every page and API router."""
    app.include_router(auth_routes.router)
    app.include_router(audit_routes.router)
    for router in ROUTERS:
        app.include_router(router)


def _form_page(request: Request) -> str:
    """The page (path and query) a form was posted from: the Referer when it is this server's, else ``/``.

    >>> from starlette.requests import Request
    >>> scope = {"type": "http", "method": "POST", "path": "/x", "headers": [
    ...     (b"host", b"uec.test"), (b"referer", b"http://uec.test/escalation/RAA?at=2026-01-01")]}
    >>> _form_page(Request(scope))
    '/escalation/RAA?at=2026-01-01'
    >>> _form_page(Request({**scope, "headers": [(b"host", b"uec.test"), (b"referer", b"http://evil.test/")]}))
    '/'
    """
    ref = urlsplit(request.headers.get("referer", ""))
    if ref.netloc != request.url.netloc or not ref.path.startswith("/") or ref.path.startswith("//"):
        return "/"
    return ref.path + (f"?{ref.query}" if ref.query else "")


def _bad_request(request: Request, status: int, message: str, errors: list[tuple[str, str]]) -> Response:
    """The NHS.UK error summary page: each field named, with its limit, linking to the field on the page."""
    back = urlsplit(str(request.url)).path
    if request.method not in ("GET", "HEAD"):
        # A form was posted: its fields are on the page it came from, not at the address it was sent to
        # (which answers GET with 405).
        back = _form_page(request)
    return render(request, "bad_request.html", status, message=message, back=back,
                  error_list=[{"text": f"{f}: {m}" if f and not m.startswith(f"{f}:") else m,
                               "href": f"{back}#{f}" if f else back} for f, m in errors])
