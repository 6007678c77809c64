"""Rendered pages kept in the shared cache, and answers given stale while one computation runs.

A cached page must never give one person what another may see (nor their name, nonce or CSRF
token); after a load, the first asker computes each answer once while everyone else is given the
previous answer, marked as such.
"""

from __future__ import annotations

import re
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI, Request
from fastapi.testclient import TestClient
from pydantic import BaseModel
from web_fixture import FIXTURE, signed_in, utc, write_fixture

from uec.access.user import User
from uec.config import Settings
from uec.store import Store, open_store
from uec.web import create_app
from uec.web.cache import AnswerCache, data_version, freshness, served_stale
from uec.web.deps import CurrentUser, get_current_user
from uec.web.responder import PageSpec, add_page
from uec.web.routes import standards as standards_routes
from uec.web.standards_views import standards_matrix

PEOPLE = {
    "ana": User("ana", "Ana", "QXX", frozenset({"analyst"})),
    "cyd": User("cyd", "Cyd", "QXX", frozenset({"analyst"})),  # what ana may see, exactly
    "bob<b>": User("bob<b>", "Bob", "RAA", frozenset({"site_manager"})),  # another organisation and role
}
NEW_ATTENDANCE = {"attendances": [{"attendance_id": "new1", "site_code": "RAA01", "service_type": "ed_type1",
                                   "arrival_time": utc("2025-07-07T10:00")}]}


class OrgFigures(BaseModel):
    org: str


def _nonce(response: Any) -> str:
    match = re.search(r"'nonce-([^']+)'", response.headers["content-security-policy"])
    assert match
    return match.group(1)


@pytest.fixture
def org_app(tmp_path: Path, web_store: str) -> tuple[FastAPI, list[str]]:
    """The app with one more cached page whose figures depend on the asker's organisation, and people
    who sign in by name (a session, so the header names them)."""
    calls: list[str] = []

    def org_figures(user: CurrentUser) -> OrgFigures:
        calls.append(user.username)
        return OrgFigures(org=user.org_code)

    router = APIRouter()
    add_page(router, org_figures, PageSpec(
        name="org_figures", path="/org-figures", model=OrgFigures, template="error.html",
        context=lambda m, a: {"message": f"Figures for {m.org}"}, csv_columns=["org"],
        csv_rows=lambda m: [{"org": m.org}], filename=lambda a: "org.csv", cache_page=True))
    settings = Settings().model_copy(update=dict(store=web_store, cache_dir=str(tmp_path / "cache")))
    app = create_app(settings=settings)
    app.include_router(router)

    @app.get("/test-sign-in/{name}")
    def sign_in(name: str, request: Request) -> dict[str, str]:
        request.session["user"] = name
        return {}

    def who(request: Request) -> User | None:
        return PEOPLE.get(request.session.get("user", ""))

    app.dependency_overrides[get_current_user] = who
    return app, calls


def test_a_cached_page_never_gives_one_person_what_another_may_see(org_app: tuple[FastAPI, list[str]]) -> None:
    app, calls = org_app
    clients = {}
    for name in PEOPLE:
        clients[name] = TestClient(app)
        clients[name].get(f"/test-sign-in/{name}")
    pages = {name: c.get("/org-figures") for name, c in clients.items()}
    assert all(r.status_code == 200 for r in pages.values())
    assert "Figures for QXX" in pages["ana"].text and "Figures for QXX" in pages["cyd"].text
    assert "Figures for RAA" in pages["bob<b>"].text and "QXX" not in pages["bob<b>"].text
    # Ana and Cat may see the same: one computation; Bob another.
    assert sorted(calls) == ["ana", "bob<b>"]
    for name, r in pages.items():
        # The header names the person asking (escaped), never the one the page was rendered for.
        others = [n for n in PEOPLE if n != name]
        assert str(PEOPLE[name].username).replace("<", "&lt;").replace(">", "&gt;") in r.text
        assert not any(o.replace("<", "&lt;").replace(">", "&gt;") in r.text for o in others)
        assert "<b>" not in r.text and "uec-slot" not in r.text
        # The script's nonce is this response's own, the one its policy allows.
        assert f'nonce="{_nonce(r)}"' in r.text
    again = clients["ana"].get("/org-figures")
    assert _nonce(again) != _nonce(pages["ana"]) and f'nonce="{_nonce(again)}"' in again.text
    assert len(calls) == 2
    # Someone not signed in is refused, not given a cached page.
    assert TestClient(app).get("/org-figures", headers={"accept": "application/json"}).status_code == 401


def test_a_cached_page_keys_on_its_query(tmp_path: Path) -> None:
    store = write_fixture(tmp_path / "q.duckdb", FIXTURE)
    settings = Settings().model_copy(update=dict(store=store, cache_dir=str(tmp_path / "cache")))
    client = TestClient(signed_in(create_app(settings=settings)))
    by_month, by_week = client.get("/standards"), client.get("/standards?by=week")
    assert by_month.status_code == by_week.status_code == 200
    assert by_month.text.count("nonce=") and by_month.text != by_week.text
    assert "Week" in by_week.text or "week" in by_week.text


def test_after_a_load_one_computes_and_the_others_get_the_previous_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = write_fixture(tmp_path / "s.duckdb", FIXTURE)
    calls: list[float] = []
    real = standards_matrix

    def slow(s: Store, *args: Any) -> Any:
        calls.append(time.monotonic())
        time.sleep(1.0)
        return real(s, *args)

    settings = Settings().model_copy(update=dict(store=store, cache_dir=str(tmp_path / "cache")))
    app = signed_in(create_app(settings=settings))
    before = TestClient(app).get("/standards.json")
    assert before.status_code == 200 and "x-data-as-of" not in before.headers
    monkeypatch.setattr(standards_routes, "standards_matrix", slow)
    write_fixture(store, NEW_ATTENDANCE)  # a load: a new data version

    answers: list[Any] = []

    def ask() -> None:
        answers.append(TestClient(app).get("/standards.json"))

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1  # one computation for six askers
    stale = [r for r in answers if "x-data-as-of" in r.headers]
    fresh = [r for r in answers if "x-data-as-of" not in r.headers]
    assert len(stale) >= 1 and len(fresh) >= 1
    assert all(r.json() == before.json() for r in stale)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", stale[0].headers["x-data-as-of"])
    after = TestClient(app).get("/standards.json")
    assert "x-data-as-of" not in after.headers and after.json() == fresh[0].json()
    assert len(calls) == 1


def test_a_page_given_stale_says_so_and_is_not_kept_as_new(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = write_fixture(tmp_path / "p.duckdb", FIXTURE)
    settings = Settings().model_copy(update=dict(store=store, cache_dir=str(tmp_path / "cache")))
    app = signed_in(create_app(settings=settings))
    client = TestClient(app)
    assert "These figures are from the data as of" not in client.get("/standards").text
    write_fixture(store, NEW_ATTENDANCE)
    cache: AnswerCache = app.state.cache
    # Another worker is computing the new matrix (its lock is taken): the page is made from the
    # previous matrix, says so, and is not kept as the new data's page.
    key = cache.key(open_store(store), "standards_matrix", "month", None, "all")
    cache._cache.add(("computing", *key), 1, expire=60)
    page = client.get("/standards")
    assert page.status_code == 200 and "These figures are from the data as of" in page.text
    assert "x-data-as-of" in page.headers
    cache._cache.delete(("computing", *key))
    page = client.get("/standards")
    assert "These figures are from the data as of" not in page.text and "x-data-as-of" not in page.headers


def test_processes_asking_after_a_change_compute_once(tmp_path: Path) -> None:
    store_path = write_fixture(tmp_path / "w.duckdb", FIXTURE)
    store = open_store(store_path)
    caches = [AnswerCache(tmp_path / "shared", 1 << 20) for _ in range(4)]  # four "worker processes"
    assert caches[0].get(store, "answer", compute=lambda: "old") == "old"
    write_fixture(store_path, NEW_ATTENDANCE)
    calls: list[int] = []

    def slow() -> str:
        calls.append(1)
        time.sleep(0.5)
        return "new"

    got: list[tuple[str, bool]] = []

    def ask(c: AnswerCache) -> None:
        with freshness():
            value = c.get(store, "answer", compute=slow)
            got.append((value, served_stale() is not None))

    threads = [threading.Thread(target=ask, args=(c,)) for c in caches]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert ("new", False) in got and all(g in (("new", False), ("old", True)) for g in got)
    assert caches[1].get(store, "answer", compute=slow) == "new" and len(calls) == 1


def test_the_data_version_is_read_again_after_every_write(tmp_path: Path) -> None:
    path = write_fixture(tmp_path / "v.duckdb", FIXTURE)
    store = open_store(path)
    first = data_version(store)
    assert data_version(store) == first
    write_fixture(path, NEW_ATTENDANCE)
    assert data_version(store) != first  # at once, not after a while
    # A copy of the store elsewhere is another store.
    shutil.copyfile(path, tmp_path / "copy.duckdb")
    assert data_version(open_store(str(tmp_path / "copy.duckdb"))) != data_version(store)


def test_a_cached_page_is_the_same_gzipped_or_not(web_client: TestClient) -> None:
    import gzip

    web_client.get("/standards")  # kept
    raw = web_client.get("/standards", headers={"accept-encoding": "identity"})
    packed = web_client.get("/standards", headers={"accept-encoding": "gzip"})
    assert "content-encoding" not in raw.headers and packed.headers["content-encoding"] == "gzip"
    assert packed.headers["content-type"] == raw.headers["content-type"] == "text/html; charset=utf-8"
    # httpx has unzipped it; the nonce is each response's own, the rest is the same page.
    assert packed.text.replace(_nonce(packed), "N") == raw.text.replace(_nonce(raw), "N")
    assert f'nonce="{_nonce(packed)}"' in packed.text and "uec-slot" not in packed.text
    with web_client.stream("GET", "/standards", headers={"accept-encoding": "gzip"}) as r:
        body = b"".join(r.iter_raw())
    assert b"<!DOCTYPE html>" in gzip.decompress(body)  # checks the CRC and length too
