"""`/docs` is Swagger UI served by this server, with the request's CSP nonce: it works offline."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from uec.config import Settings
from uec.web import create_app
from uec.web.api_docs import ASSETS_URL, find_swagger_dir


def test_docs_page_loads_swagger_ui_from_this_server_with_the_nonce(web_client: TestClient) -> None:
    r = web_client.get("/docs")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    # Every script and stylesheet is this server's: nothing from a CDN.
    urls = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert f"{ASSETS_URL}/swagger-ui-bundle.js" in urls and f"{ASSETS_URL}/swagger-ui.css" in urls
    assert all(u.startswith("/") for u in urls), urls
    # The inline script carries the nonce the Content-Security-Policy allows; no other inline script runs.
    csp = r.headers["content-security-policy"]
    [nonce] = re.findall(r"'nonce-([^']+)'", csp)
    scripts = re.findall(r"<script([^>]*)>", page)
    assert [s for s in scripts if "src=" not in s] == [f' nonce="{nonce}"']
    script_src = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
    assert script_src.split() == ["script-src", "'self'", f"'nonce-{nonce}'"]
    assert '<html lang="en-GB">' in page


def test_swagger_ui_files_are_served_locally(web_client: TestClient) -> None:
    for name, kind in (("swagger-ui-bundle.js", "javascript"), ("swagger-ui.css", "text/css"),
                       ("favicon-32x32.png", "image/png")):
        r = web_client.get(f"{ASSETS_URL}/{name}")
        assert r.status_code == 200 and kind in r.headers["content-type"], name
        assert len(r.content) > 500, name
    assert "SwaggerUIBundle" in web_client.get(f"{ASSETS_URL}/swagger-ui-bundle.js").text


def test_docs_without_swagger_ui_installed_says_how_and_still_needs_no_internet(tmp_path: Path) -> None:
    settings = Settings().model_copy(update=dict(frontend_dir=str(tmp_path / "missing"), cache_dir=str(tmp_path / "c")))
    assert find_swagger_dir(tmp_path, settings) is None
    r = TestClient(create_app(str(tmp_path / "uec.duckdb"), settings=settings)).get("/docs")
    assert r.status_code == 200 and "npm ci" in r.text and "/openapi.json" in r.text
    assert "http" not in r.text
