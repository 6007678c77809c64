"""The app's shape: dependencies a test can override, HEAD wherever GET, every status in the OpenAPI
schema, bounded requests, one responder's CSV, and the answer cache shared across worker processes."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from web_fixture import FIXTURE, signed_in, utc, write_fixture

from uec.config import Settings
from uec.store import Store, open_store
from uec.web import create_app, deps
from uec.web.responder import csv_text, neutralise
from uec.web.routes import ROUTERS
from uec.web.routes import standards as standards_routes
from uec.web.standards_views import standards_matrix

# Values for path parameters, so that every route can be asked for.
SAMPLES = {"site_code": "RAA01", "standard_id": "ed-4hr", "series_id": "ambulance/C1",
           "run_id": "20990101-000000-abcdef", "org_code": "RAA",
           "job_id": "20990101-000000-abcdef"}


def get_routes(app: Any) -> list[APIRoute]:
    """Every API route: the routers' (FastAPI keeps included routers unflattened) and the app's own."""
    routes = [r for router in ROUTERS for r in router.routes] + list(app.routes)
    return [r for r in routes if isinstance(r, APIRoute)]


def url_for(path: str) -> str:
    return re.sub(r"\{(\w+)(:path)?\}", lambda m: SAMPLES[m.group(1)], path)


# --- dependencies -------------------------------------------------------------------------------


def test_a_test_can_override_the_store(web_store: str, empty_store: str) -> None:
    app = signed_in(create_app(empty_store))
    client = TestClient(app)
    assert client.get("/api/sites").json() == []
    app.dependency_overrides[deps.get_store] = lambda: open_store(web_store)
    assert [s["site_code"] for s in client.get("/api/sites").json()] == ["RAA02", "RAA01"]


def test_settings_are_read_once_and_can_be_overridden(web_store: str, empty_store: str, tmp_path: Path) -> None:
    settings = Settings().model_copy(update=dict(store=web_store, cache_dir=str(tmp_path / "c")))
    app = signed_in(create_app(settings=settings))
    client = TestClient(app)
    assert client.get("/api/health").json()["rows"]["attendances"] == 7
    # The store is reached through the settings dependency: overriding it moves every route.
    app.dependency_overrides[deps.get_settings] = lambda: settings.model_copy(update={"store": empty_store})
    assert client.get("/api/health").json()["rows"]["attendances"] == 0
    # create_app(store_url) still wins over the settings' store.
    assert TestClient(signed_in(create_app(empty_store, settings))).get("/api/sites").json() == []


def test_current_user_is_a_dependency_that_answers_none_for_now(empty_store: str) -> None:
    app = create_app(empty_store)
    seen: list[Any] = []

    @app.get("/test-whoami")
    def whoami(user: deps.CurrentUser) -> dict[str, bool]:
        seen.append(user)
        return {"ok": True}

    client = TestClient(app)
    client.get("/test-whoami")
    app.dependency_overrides[deps.get_current_user] = lambda: "someone"
    client.get("/test-whoami")
    assert seen == [None, "someone"]


# --- HEAD and the OpenAPI schema ----------------------------------------------------------------


def test_head_works_wherever_get_does(web_client: TestClient) -> None:
    app = web_client.app
    paths = sorted({r.path for r in get_routes(app) if "GET" in (r.methods or ())} | {"/openapi.json", "/docs"})
    assert len(paths) > 30
    for path in paths:
        url = url_for(path)
        got, head = web_client.get(url), web_client.head(url)
        assert head.status_code == got.status_code != 405, url
        assert head.content == b"", url
        assert head.headers.get("content-type") == got.headers.get("content-type"), url


def test_head_of_a_page_and_of_a_missing_page(web_client: TestClient) -> None:
    assert web_client.head("/").status_code == 200
    assert web_client.head("/no/such/page").status_code == 404
    assert web_client.head("/api/scenarios/fields").status_code == 200


def test_openapi_lists_every_status_an_operation_can_return(web_client: TestClient) -> None:
    schema = web_client.get("/openapi.json").json()
    components = schema["components"]["schemas"]
    assert set(components["ErrorModel"]["properties"]) == {"detail"}
    operations = [(path, method, op) for path, item in schema["paths"].items() for method, op in item.items()]
    assert len(operations) > 20
    for path, method, op in operations:
        statuses = set(op["responses"])
        where = f"{method.upper()} {path}"
        assert "200" in statuses or "202" in statuses, where
        assert "503" in statuses, where  # every operation opens the store
        if "{" in path:
            assert "404" in statuses, where
        params = [p for p in op.get("parameters", []) if p["in"] == "query"]
        if params:
            assert "400" in statuses and "422" in statuses, where
        for status, answer in op["responses"].items():
            if status.startswith(("4", "5")):
                ref = answer["content"]["application/json"]["schema"]["$ref"]
                assert ref.rsplit("/", 1)[1] in ("ErrorModel", "FieldErrors"), (where, status)
    submit = schema["paths"]["/api/scenarios/runs"]["post"]["responses"]
    assert {"202", "422", "429", "503"} <= set(submit)
    assert "HTTPValidationError" not in components


def test_a_value_of_the_wrong_type_is_a_422_with_field_messages(web_client: TestClient) -> None:
    r = web_client.get("/occupancy.json?days=abc")
    assert r.status_code == 422
    assert r.json()["detail"][0]["field"] == "days"
    page = web_client.get("/occupancy?days=abc")
    assert page.status_code == 422 and "There is a problem" in page.text and "days" in page.text


# --- bounded requests ---------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "words"), [
    ("/standards.json?from=0001-01-01", "before 1990-01-01"),
    ("/standards.json?from=9999-12-31", "dates after"),
    ("/standards.json?from=2015-01-01", "at most 5 years"),
    ("/standards/ed-4hr.json?from=1900-01-01", "before 1990-01-01"),
    ("/standards/ed-4hr.json?rebase=" + ",".join(f"2025-0{m}-01" for m in range(1, 10))
     + ",2025-10-01,2025-11-01,2025-12-01,2026-01-01", "at most 12 dates"),
    ("/standards/ed-4hr.json?rebase=0001-01-01", "before 1990-01-01"),
    ("/standards/ed-4hr.json?baseline=100000", "between 2 and 500"),
    ("/occupancy.json?days=30", "between 1 and 14"),
    ("/occupancy.json?days=0", "between 1 and 14"),
    ("/api/scenarios/runs?limit=100000", "between 1 and 200"),
    ("/sites/" + "X" * 65 + ".json", "at most 64 characters"),
    ("/standards/ed-4hr.json?site=" + "X" * 1000, "at most 64 characters"),
    ("/forecasts/ambulance/" + "C" * 100 + ".json", "at most 64 characters"),
])
def test_requests_beyond_a_limit_are_a_400_that_states_it(web_client: TestClient, url: str, words: str) -> None:
    r = web_client.get(url)
    assert r.status_code == 400, r.text
    assert words in r.json()["detail"]


def test_a_page_beyond_a_limit_names_the_field_in_an_error_summary(web_client: TestClient) -> None:
    r = web_client.get("/standards?from=0001-01-01")
    assert r.status_code == 400
    assert "nhsuk-error-summary" in r.text and "There is a problem" in r.text
    flat = re.sub(r"\s*([<>])\s*", r"\1", re.sub(r"\s+", " ", r.text))
    assert '<a href="/standards#from">from: dates before 1990-01-01 are not accepted.</a>' in flat
    assert "<title>Error: There is a problem with your request" in r.text


# --- the responder's CSV ------------------------------------------------------------------------


def test_csv_cells_that_could_be_formulas_are_neutralised() -> None:
    for text in ("=1+2", "+1+1", "-1+cmd", "@SUM(A1)", "\tx", "\rx"):
        assert neutralise(text) == "'" + text
    # A plain number written as text stays a number a spreadsheet can sum (uec.csvsafe).
    assert neutralise("-1") == "-1" and neutralise("+2.5") == "+2.5"
    assert neutralise(-1.5) == -1.5 and neutralise(3) == 3 and neutralise("RAA01") == "RAA01"
    rows = list(csv.reader(io.StringIO(csv_text([{"a": "=cmd|' /C calc'!A0", "b": -2, "c": False}], "abc"))))
    assert rows == [["a", "b", "c"], ["'=cmd|' /C calc'!A0", "-2", "false"]]


def test_a_download_with_a_formula_in_a_name_is_neutralised(tmp_path: Path) -> None:
    rows = {k: [dict(r) for r in FIXTURE[k]] for k in ("organisations", "sites", "services")}
    rows["sites"][0]["name"] = '=HYPERLINK("http://example.invalid","click")'
    client = TestClient(signed_in(create_app(write_fixture(tmp_path / "f.duckdb", rows))))
    got = list(csv.DictReader(io.StringIO(client.get("/standards.csv").text)))
    names = {r["name"] for r in got}
    assert "'=HYPERLINK(\"http://example.invalid\",\"click\")" in names
    assert not any(n.startswith("=") for n in names)


# --- the shared answer cache --------------------------------------------------------------------


def test_two_workers_share_the_cache_and_a_data_change_invalidates_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = write_fixture(tmp_path / "c.duckdb", FIXTURE)
    calls: list[Any] = []
    real = standards_matrix

    def counted(s: Store, *args: Any) -> Any:
        calls.append(args)
        return real(s, *args)

    monkeypatch.setattr(standards_routes, "standards_matrix", counted)
    settings = Settings().model_copy(update=dict(store=store, cache_dir=str(tmp_path / "shared-cache")))
    # Two apps, each with its own cache object over one folder, stand for two worker processes.
    worker_a = TestClient(signed_in(create_app(settings=settings)))
    worker_b = TestClient(signed_in(create_app(settings=settings)))
    first = worker_a.get("/standards.json").json()
    assert len(calls) == 1
    assert worker_b.get("/standards.json").json() == first
    assert worker_b.get("/standards").status_code == 200 and worker_a.get("/standards.csv").status_code == 200
    assert len(calls) == 1  # the second worker, the page and the CSV were all answered from the cache
    # A worker with another cache folder computes for itself.
    other = Settings().model_copy(update=dict(store=store, cache_dir=str(tmp_path / "other-cache")))
    TestClient(signed_in(create_app(settings=other))).get("/standards.json")
    assert len(calls) == 2
    # New data: a new data version, so the answer is computed again (and then shared again).
    write_fixture(store, {"attendances": [{"attendance_id": "new1", "site_code": "RAA01",
                                           "service_type": "ed_type1", "arrival_time": utc("2025-07-07T10:00")}]})
    worker_b.get("/standards.json")
    worker_a.get("/standards.json")
    assert len(calls) == 3


def test_an_answer_asked_for_at_once_is_computed_once(tmp_path: Path, empty_store: str) -> None:
    import threading
    import time

    from uec.web.cache import AnswerCache

    store = open_store(empty_store)
    calls: list[int] = []

    def slow() -> int:
        calls.append(1)
        time.sleep(0.3)
        return 7

    caches = [AnswerCache(tmp_path / "shared", 1 << 20) for _ in range(4)]  # four "workers"
    got: list[int] = []
    threads = [threading.Thread(target=lambda c=c: got.append(c.get(store, "slow", compute=slow))) for c in caches]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == [7, 7, 7, 7] and len(calls) == 1


def test_the_cache_is_bounded(tmp_path: Path, web_store: str) -> None:
    settings = Settings().model_copy(update=dict(store=web_store, cache_dir=str(tmp_path / "small"), cache_size_mb=1))
    app = signed_in(create_app(settings=settings))
    assert app.state.cache._cache.size_limit == 1024 * 1024


def test_no_sql_in_the_web_package() -> None:
    """The web asks the capabilities (uec.activity, uec.standards, uec.forecast, uec.system.runs) for
    answers; their SQL lives with them."""
    import uec.web

    root = Path(uec.web.__file__).parent
    for path in root.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for needle in ("store.query", "store.write", "SELECT ", "INSERT ", "query_arrow"):
            assert needle not in text, f"{path.relative_to(root)} has {needle!r}"


@pytest.mark.parametrize("value", ["", "x" * 70, "\x00", "99999999999999999999", "0001-01-01"])
def test_awkward_values_give_a_declared_status_never_a_server_error(web_store: str, value: str) -> None:
    """Each GET operation's parameters, one at a time, with an awkward value: the answer's status is one
    the schema declares for it, and never 5xx (the store opens fine here). A small stand-in for the
    schemathesis run over the whole API."""
    from urllib.parse import quote

    client = TestClient(signed_in(create_app(web_store)), raise_server_exceptions=False)
    schema = client.get("/openapi.json").json()
    for path, item in schema["paths"].items():
        op = item.get("get")
        if op is None:
            continue
        params = op.get("parameters", [])
        for p in params:
            url = path
            for other in params:
                if other["in"] == "path":
                    given = value if other is p else SAMPLES[other["name"]]
                    url = url.replace("{" + other["name"] + "}", quote(given, safe="/") or "x")
            r = client.get(url, params={p["name"]: value} if p["in"] == "query" else None)
            assert r.status_code < 500 and str(r.status_code) in op["responses"], (url, p["name"], r.status_code)
