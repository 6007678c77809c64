"""The API reference page (``/docs``): Swagger UI served by this server, so it works offline.

FastAPI's own ``/docs`` loads Swagger UI from a CDN, which left the page blank without the internet
and needed a looser Content-Security-Policy. Here Swagger UI's files come from the npm package
``swagger-ui-dist`` (installed by ``npm ci`` beside ``nhsuk-frontend``) at :data:`ASSETS_URL`, and
the page's one inline script carries the request's CSP nonce.

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as d:
...     print(find_swagger_dir(Path(d), Settings(_env_file=None, frontend_dir=d + "/missing")))
None
"""

from __future__ import annotations

import html
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request
from starlette.responses import HTMLResponse

from uec.config import Settings

__all__ = ["ASSETS_URL", "DOCS_URL", "find_swagger_dir", "install"]

DOCS_URL = "/docs"
ASSETS_URL = "/docs/assets"
_BUNDLE = "swagger-ui-bundle.js"


def find_swagger_dir(cwd: Path | None = None, settings: Settings | None = None) -> Path | None:
    """The ``swagger-ui-dist`` package folder, or ``None`` when it is not installed.

    Looked for beside the NHS.UK frontend when ``UEC_FRONTEND_DIR`` names it (both come from the same
    ``node_modules``), else in ``node_modules`` of the working directory and its parents, then beside
    the source tree (an editable install run from elsewhere).
    """
    explicit = (settings or Settings()).frontend_dir
    if explicit:
        # The frontend setting names nhsuk-frontend or its dist folder: node_modules is one or two up.
        candidates = [Path(explicit).parent / "swagger-ui-dist", Path(explicit).parent.parent / "swagger-ui-dist"]
    else:
        here = (cwd or Path.cwd()).resolve()
        roots = [here, *here.parents, Path(__file__).resolve().parents[3]]
        candidates = [r / "node_modules" / "swagger-ui-dist" for r in roots]
    return next((c for c in candidates if (c / _BUNDLE).is_file()), None)


def install(app: FastAPI, settings: Settings) -> None:
    """Serve Swagger UI's files and the ``/docs`` page on ``app`` (create it with ``docs_url=None``)."""
    folder = find_swagger_dir(settings=settings)
    if folder is not None:
        app.mount(ASSETS_URL, StaticFiles(directory=folder), name="swagger-ui")
    title = f"{app.title}: reference"

    async def docs(request: Request) -> HTMLResponse:
        if folder is None:
            # Still no CDN: say how to install it, and where the description itself is.
            return HTMLResponse(
                f"<!DOCTYPE html><html lang='en-GB'><head><title>{html.escape(title)}</title></head><body>"
                "<h1>API reference</h1><p>Swagger UI is not installed on this server (run <code>scripts/setup"
                "</code>, which runs <code>npm ci</code>). The API description is at "
                "<a href='/openapi.json'>/openapi.json</a>.</p></body></html>"
            )
        page = get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=title,
            swagger_js_url=f"{ASSETS_URL}/{_BUNDLE}",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/favicon-32x32.png",
        )
        nonce = html.escape(str(getattr(request.state, "csp_nonce", "") or ""), quote=True)
        body = bytes(page.body).decode("utf-8").replace("<script>", f'<script nonce="{nonce}">')
        return HTMLResponse(body.replace("<html>", '<html lang="en-GB">', 1))

    app.add_route(DOCS_URL, docs, include_in_schema=False)
