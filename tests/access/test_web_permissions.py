"""Permissions across the whole web app: every route needs one (or is one of the few open ones), each role
is checked endpoint by endpoint with its own API token, ``anonymous_read`` opens aggregate reading only,
and the analysts' patient-level download is bounded, neutralised and refused to everyone else."""

from __future__ import annotations

import csv
import importlib
import io
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from access_helpers import sent_to_sign_in
from fastapi.testclient import TestClient

from uec.access.tokens import create_token
from uec.access.web import route_permissions
from uec.config import get_settings
from uec.store import open_store
from uec.web import create_app

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))
web_fixture: Any = importlib.import_module("web_fixture")

#: The routes anyone may reach: health (``uec ping``) and signing in and out. (The OpenAPI description
#: at /openapi.json and /docs is open too: it describes the API, it holds no data.)
OPEN = {
    "GET /api/health", "GET /sign-in", "POST /sign-in", "GET /sign-out", "POST /sign-out", "GET /auth/oidc/login",
    "GET /auth/oidc/callback",
}
DOWNLOAD = "/sites/RAA01/attendances.csv?from=2025-07-01&to=2025-07-07"


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The web tests' hand-made store, with an ICB and two trusts for the users and tokens."""
    path: str = web_fixture.build_web_store(tmp_path_factory.mktemp("perm") / "uec.duckdb")
    store = open_store(path)
    known = {r["org_code"] for r in store.query("SELECT org_code FROM organisations")}
    if "RBB" not in known:
        from uec.access.accounts import add_organisation

        add_organisation(store, "RBB", "Brookside Hospitals NHS Trust", "acute_trust", "QXX")
    return path


@pytest.fixture(scope="module")
def tokens(store_path: str) -> dict[str, str]:
    """One API token per role (a site manager's for the trust RAA, the rest for the ICB)."""
    store = open_store(store_path)
    out = {}
    for role in ("viewer", "analyst", "site_manager", "coordinator", "admin"):
        org = "RAA" if role == "site_manager" else "QXX"
        out[role] = create_token(store, f"perm-{role}", role=role, org_code=org, days=1, actor_label="test")[1]
    return out


@pytest.fixture
def client(store_path: str, tmp_path: Path) -> Iterator[TestClient]:
    get_settings.cache_clear()
    with TestClient(create_app(store_path)) as c:
        yield c


def call(client: TestClient, method: str, path: str, token: str | None, **kw: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.request(method, path, headers=headers, **kw)


def test_every_route_needs_a_permission_but_the_open_few(store_path: str) -> None:
    perms = route_permissions(create_app(store_path))
    assert {k for k, v in perms.items() if not v} == OPEN
    assert perms["GET /sites/{site_code}/attendances.csv"] == ("view_patient_level",)
    assert perms["POST /api/scenarios/runs"] == ("run_scenarios",) == perms["POST /scenarios"]
    # A page, its downloads and its API route need the same permission.
    for path in ("/", "/overview.json", "/overview.csv", "/api/overview", "/sites/{site_code}",
                 "/sites/{site_code}.csv", "/api/sites", "/standards", "/api/standards/{standard_id}",
                 "/forecasts", "/occupancy.json", "/scenarios", "/api/scenarios/runs/{run_id}"):
        assert perms[f"GET {path}"] == ("view_aggregate",), path


# (method, path, body) -> the status each role gets: None (not signed in), then by role.
ROLES = (None, "viewer", "analyst", "site_manager", "coordinator", "admin")
MATRIX: list[tuple[str, str, Any, tuple[int, ...]]] = [
    ("GET", "/api/health", None, (200, 200, 200, 200, 200, 200)),
    ("GET", "/overview.json", None, (401, 200, 200, 200, 200, 200)),
    ("GET", "/overview.csv", None, (401, 200, 200, 200, 200, 200)),
    ("GET", "/api/sites", None, (401, 200, 200, 200, 200, 200)),
    ("GET", "/api/sites/RAA01", None, (401, 200, 200, 200, 200, 200)),
    ("GET", "/api/scenarios/fields", None, (401, 200, 200, 200, 200, 200)),
    ("GET", "/api/scenarios/runs", None, (401, 200, 200, 200, 200, 200)),
    ("GET", DOWNLOAD, None, (401, 403, 200, 403, 403, 403)),
    # An invalid body: those who may start runs learn it is invalid (422), the rest are refused first.
    ("POST", "/api/scenarios/runs", {"reps": "many"}, (401, 403, 422, 403, 403, 403)),
    ("GET", "/audit.json", None, (401, 403, 403, 403, 200, 200)),
]


@pytest.mark.parametrize(("method", "path", "body", "expected"), MATRIX, ids=[f"{m} {p}" for m, p, _, _ in MATRIX])
def test_each_role_endpoint_by_endpoint(client: TestClient, tokens: dict[str, str], method: str, path: str,
                                        body: Any, expected: tuple[int, ...]) -> None:
    got = tuple(call(client, method, path, tokens[r] if r else None, json=body).status_code for r in ROLES)
    assert got == expected
    for role, status in zip(ROLES, got, strict=True):
        if status in (401, 403):
            detail = call(client, method, path, tokens[role] if role else None, json=body).json()["detail"]
            assert ("not signed in" in detail) if status == 401 else ("it needs the role" in detail)


def test_pages_refuse_with_a_page_and_downloads_followed_in_a_browser_too(client: TestClient,
                                                                        tokens: dict[str, str]) -> None:
    # A page: the browser is sent to sign in, and comes back to the page (a local path only) after.
    assert sent_to_sign_in(client.get("/", follow_redirects=False), "/")
    assert sent_to_sign_in(client.get("/standards?site=RAA01", follow_redirects=False), "/standards?site=RAA01")
    assert client.get("/standards?site=RAA01", follow_redirects=False).headers["location"] == (
        "/sign-in?next=/standards%3Fsite%3DRAA01")
    followed = client.get("/")
    assert followed.status_code == 200 and 'name="next" value="/"' in followed.text
    # A person following the download link gets a page saying why; a script gets JSON.
    browsing = client.get(DOWNLOAD, headers={"Accept": "text/html,application/xhtml+xml"})
    assert browsing.status_code == 401 and browsing.headers["content-type"].startswith("text/html")
    assert "You are not signed in" in browsing.text or "not signed in" in browsing.text
    assert client.get(DOWNLOAD).headers["content-type"].startswith("application/json")


def test_anonymous_read_opens_aggregate_pages_only(store_path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UEC_ANONYMOUS_READ", "true")
    get_settings.cache_clear()
    with TestClient(create_app(store_path)) as c:
        assert c.get("/").status_code == 200
        assert c.get("/overview.json").status_code == 200 and c.get("/api/sites/RAA01").status_code == 200
        assert c.get(DOWNLOAD).status_code == 401
        assert c.post("/api/scenarios/runs", json={"changes": {}}).status_code == 401
        assert c.get("/audit.json").status_code == 401


def test_the_patient_level_download_is_bounded_pseudonymised_and_neutralised(
    client: TestClient, tokens: dict[str, str]
) -> None:
    analyst = tokens["analyst"]
    r = call(client, "GET", DOWNLOAD, analyst)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.headers["cache-control"] == "no-store" and r.headers["x-more-rows"] == "false"
    rows = list(csv.DictReader(io.StringIO(r.text)))
    # London days 1 to 7 July 2025 (BST) run from 30 June 23:00 to 7 July 23:00 UTC.
    start, end = web_fixture.utc("2025-06-30T23:00"), web_fixture.utc("2025-07-07T23:00")
    expected = sorted(a["attendance_id"] for a in web_fixture.FIXTURE["attendances"]
                      if a["site_code"] == "RAA01" and start <= a["arrival_time"] < end)
    assert sorted(row["attendance_id"] for row in rows) == expected
    assert "patient_key" in rows[0] and "nhs_number" not in rows[0]
    # The row limit cuts the answer short and says so.
    short = call(client, "GET", DOWNLOAD + "&limit=2", analyst)
    assert len(list(csv.DictReader(io.StringIO(short.text)))) == 2 and short.headers["x-more-rows"] == "true"
    # Beyond the limits: 400 naming the field; unknown site: 404.
    for bad, field in [("from=2025-07-01&to=2025-09-01", "to"), ("from=2025-07-07&to=2025-07-01", "to"),
                       ("from=2025-07-01&limit=0", "limit"), ("from=1900-01-01", "from")]:
        got = call(client, "GET", f"/sites/RAA01/attendances.csv?{bad}", analyst)
        assert got.status_code == 400 and got.json()["detail"].startswith(f"{field}:"), bad
    assert call(client, "GET", "/sites/NOPE/attendances.csv?from=2025-07-01", analyst).status_code == 404
    assert call(client, "GET", "/sites/RAA01/attendances.csv", analyst).status_code == 422


def test_text_in_patient_rows_cannot_run_as_a_formula(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = {k: v for k, v in web_fixture.FIXTURE.items() if k in ("organisations", "sites", "services")}
    rows["attendances"] = [{"attendance_id": "=HYPERLINK(\"http://x\")", "site_code": "RAA01",
                            "service_type": "ed_type1", "arrival_time": web_fixture.utc("2025-07-07T09:45"),
                            "patient_key": "@SUM(A1)"}]
    path = web_fixture.write_fixture(tmp_path / "f.duckdb", rows)
    app = web_fixture.signed_in(create_app(path))
    with TestClient(app) as c:
        r = c.get("/sites/RAA01/attendances.csv?from=2025-07-07")
    row = next(csv.DictReader(io.StringIO(r.text)))
    assert row["attendance_id"].startswith("'=") and row["patient_key"] == "'@SUM(A1)"
