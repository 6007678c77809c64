"""Real data in a demo store is shown on every page and in a feed's answer, on both stores (issue 15)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from uec.access.tokens import create_token
from uec.config import get_settings
from uec.demo import build_demo
from uec.feeds import scan
from uec.ingest import ingest
from uec.store import Store
from uec.web import create_app
from uec.web.cache import VERSION_SECONDS

RETURN = Path(__file__).resolve().parents[1] / "data" / "ingest" / "ae_attendances.csv"
BANNER = "Real and demo data are mixed"
PAGES = ("/", "/standards", "/forecasts")


@pytest.fixture
def app_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("UEC_SECRET_KEY", "test-secret-key-for-signing-cookies-0123456789")
    monkeypatch.setenv("UEC_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("UEC_ANONYMOUS_READ", "true")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _demo(store: Store) -> Store:
    build_demo(store, days=1, end=dt.date(2025, 1, 15))
    return store


def _pages(client: TestClient) -> list[str]:
    answers = [client.get(p) for p in PAGES]
    for p, r in zip(PAGES, answers, strict=True):
        assert r.status_code == 200, (p, r.text[:500])
    return [r.text for r in answers]


def _after_a_write() -> None:
    # PostgreSQL has no change stamp: a process sees a new data version within VERSION_SECONDS.
    time.sleep(VERSION_SECONDS * 1.2)


def test_every_page_warns_once_real_data_is_in_a_demo_store(store: Store, app_env: None) -> None:
    client = TestClient(create_app(store.url))
    _demo(store)
    _after_a_write()
    assert not any(BANNER in page for page in _pages(client))  # the plain demo: no warning
    load = ingest(store, "ae-attendances", RETURN, actor="test").load_id
    _after_a_write()
    for page in _pages(client):  # the cached pages too: their key holds the data version
        assert BANNER in page and "nhsuk-card--warning" in page
        assert f"uec unload {load}" in page and "AAH" in page and "organisation or site code(s)" in page
    # Undone, the warning goes with it.
    from uec.ingest import unload
    assert load is not None
    unload(store, load)
    _after_a_write()
    assert not any(BANNER in page for page in _pages(client))


def test_a_store_that_is_not_a_demo_does_not_warn(store: Store, app_env: None) -> None:
    ingest(store, "ae-attendances", RETURN, actor="test")
    assert not any(BANNER in page for page in _pages(TestClient(create_app(store.url))))


def test_a_feed_batch_and_a_watched_file_into_a_demo_store_warn(store: Store, app_env: None, tmp_path: Path) -> None:
    _demo(store)
    client = TestClient(create_app(store.url))
    # A real trust is added (a token is for an organisation the store knows), then sends its figures.
    orgs = tmp_path / "organisations.csv"
    orgs.write_text("org_code,name,org_type\nRRK,University Hospitals Birmingham,acute_trust\n")
    assert ingest(store, "organisations", orgs, actor="test").rows_loaded == 1
    token = create_token(store, "real-feed", role="feed", org_code="RRK", actor_label="test")[1]
    body = b"org_code,period_start,period_length,metric_code,value,source\nRRK,2024-04-01,day,opel_x,3,opel\n"
    r = client.post("/api/feeds/returns", content=body,
                    headers={"Content-Type": "text/csv", "Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    load = r.json()["load_id"]
    assert r.json()["warnings"] == [
        f"warning: this store holds the demo ICS, and load {load} added returns rows for 1 organisation or site "
        f"code(s) the demo does not have (RRK): real and demo data are now mixed; remove them with "
        f"`uec unload {load}` or use another --store"]
    # The demo's own organisation sends: nothing to warn about.
    own = create_token(store, "demo-feed", role="feed", org_code="DEMO-A", actor_label="test")[1]
    r = client.post("/api/feeds/returns", content=body.replace(b"RRK,", b"DEMO-A,"),
                    headers={"Content-Type": "text/csv", "Authorization": f"Bearer {own}"})
    assert r.status_code == 200 and r.json()["warnings"] == [], r.text
    # `uec watch` says the same (its command prints each warning as a line on stderr).
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "returns.csv").write_bytes(body.replace(b"2024-04-01", b"2024-04-02"))
    [outcome] = scan(store, inbox)
    assert outcome.outcome == "loaded" and len(outcome.warnings) == 1
    assert outcome.warnings[0].startswith("warning: this store holds the demo ICS") and "(RRK)" in outcome.warnings[0]


def test_uec_watch_prints_the_warning_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    from uec.store import open_store

    path = str(tmp_path / "demo.duckdb")
    _demo(open_store(path))
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "returns.csv").write_text("org_code,period_start,period_length,metric_code,value,source\n"
                                       "RRK,2024-04-01,day,opel_x,3,opel\n")
    r = subprocess.run([sys.executable, "-m", "uec", "watch", str(inbox), "--once", "--settle", "0", "--store", path],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    warnings = [line for line in r.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "(RRK)" in warnings[0] and "uec unload" in warnings[0], r.stderr
    assert "returns.csv: loaded" in r.stdout
