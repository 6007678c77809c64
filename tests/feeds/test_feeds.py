"""Live data in: the feed endpoint and the library under it, on both stores (issue 13 item 8)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from feed_helpers import beds_csv, small_ics

from uec.access.audit import entries
from uec.access.tokens import create_token
from uec.config import get_settings
from uec.feeds import MAX_BYTES, FeedRefused, receive
from uec.store import Store, open_store
from uec.web import create_app


@pytest.fixture
def ics(store: Store) -> Store:
    """The small ICS, once per engine."""
    return small_ics(store)


def test_a_batch_loads_like_ingest_with_its_quarantine(ics: Store) -> None:
    body = beds_csv(("DEMO-A01", "2026-12-02 08:00", 100, 90), ("DEMO-A01", "2026-12-02 08:15", 100, -1))
    r = receive(ics, "bed-states", body, content_type="text/csv", org_code="DEMO-A", actor_label="token:a")
    assert (r.rows_in, r.rows_loaded, r.rows_quarantined) == (2, 1, 1)
    assert ics.query("SELECT count(*) AS n FROM bed_states")[0]["n"] == 1
    assert ics.query("SELECT count(*) AS n FROM quarantine")[0]["n"] == 1
    # ingest audits the load itself, in its own transaction
    audit = [e for e in entries(ics) if e.action in ("feed.load", "ingest.load")]
    assert audit and json.loads(audit[-1].after or "")["rows_quarantined"] == 1 and audit[-1].actor == "token:a"


def test_another_organisations_row_refuses_the_whole_batch(ics: Store) -> None:
    body = beds_csv(("DEMO-A01", "2026-12-02 08:00", 100, 90), ("DEMO-B01", "2026-12-02 08:00", 90, 80),
                    ("ZZZ99", "2026-12-02 08:00", 90, 80))
    with pytest.raises(FeedRefused) as err:
        receive(ics, "bed-states", body, content_type="text/csv", org_code="DEMO-A", actor_label="token:a")
    assert err.value.status == 403
    assert "row 2: site_code DEMO-B01 is a site of DEMO-B, not of DEMO-A" in str(err.value)
    assert "row 3: site_code ZZZ99 is an unknown site" in str(err.value)
    assert ics.query("SELECT count(*) AS n FROM bed_states")[0]["n"] == 0  # nothing loaded
    refused = [e for e in entries(ics) if e.action == "feed.refused"]
    assert refused and json.loads(refused[-1].after or "")["org_code"] == "DEMO-A"


def test_json_batch_and_its_refusals(ics: Store) -> None:
    rows = [{"org_code": "DEMO-A", "period_start": "2026-12-01", "period_length": "day", "metric_code": "opel_x",
             "value": 3, "source": "opel"},
            {"org_code": "DEMO-A01", "period_start": "2026-12-01", "period_length": "day", "metric_code": "opel_x",
             "value": 4, "source": "opel"}]
    r = receive(ics, "returns", json.dumps({"rows": rows}).encode(), content_type="application/json",
                org_code="DEMO-A", actor_label="t")
    assert (r.rows_in, r.rows_loaded) == (2, 2)  # an organisation's site may be sent for too
    for body, ctype, status in ((b"{not json", "application/json", 400), (b"[1, 2]", "application/json", 400),
                                (b"x", "application/xml", 415), (b"x" * (MAX_BYTES + 1), "text/csv", 413)):
        with pytest.raises(FeedRefused) as err:
            receive(ics, "returns", body, content_type=ctype, org_code="DEMO-A", actor_label="t")
        assert err.value.status == status
    with pytest.raises(FeedRefused, match="unknown feed kind 'sites'"):
        receive(ics, "sites", b"site_code\n", content_type="text/csv", org_code="DEMO-A", actor_label="t")


@pytest.fixture
def web(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Store, TestClient, dict[str, str]]]:
    monkeypatch.setenv("UEC_SECRET_KEY", "test-secret-key-for-signing-cookies-0123456789")
    monkeypatch.setenv("UEC_STATE_DIR", str(tmp_path / "state"))
    get_settings.cache_clear()
    store = small_ics(open_store(str(tmp_path / "uec.duckdb")))
    tokens = {name: create_token(store, f"{name}-feed", role=role, org_code=org)[1]
              for name, role, org in (("a", "feed", "DEMO-A"), ("b", "feed", "DEMO-B"),
                                      ("viewer", "viewer", "DEMO-ICB"))}
    yield store, TestClient(create_app(store.url)), tokens
    get_settings.cache_clear()


def test_feed_endpoint(web: tuple[Store, TestClient, dict[str, str]]) -> None:
    store, client, tokens = web
    body = beds_csv(("DEMO-A01", "2026-12-02 08:00", 100, 90), ("DEMO-A01", "2026-12-02 08:15", 100, -1))
    csv_type = {"Content-Type": "text/csv"}
    assert client.post("/api/feeds/bed-states", content=body, headers=csv_type).status_code == 401
    r = client.post("/api/feeds/bed-states", content=body,
                    headers={**csv_type, "Authorization": f"Bearer {tokens['viewer']}"})
    assert r.status_code == 403
    r = client.post("/api/feeds/bed-states", content=body,
                    headers={**csv_type, "Authorization": f"Bearer {tokens['a']}"})
    assert r.status_code == 200, r.text
    j = r.json()
    assert (j["org_code"], j["rows_in"], j["rows_loaded"], j["rows_quarantined"]) == ("DEMO-A", 2, 1, 1)
    assert j["quarantined"][0]["row"] == 2 and "beds_occupied" in j["quarantined"][0]["reason"]
    # Trust B's token may not send trust A's rows: refused whole, with the reason.
    r = client.post("/api/feeds/bed-states", content=beds_csv(("DEMO-A01", "2026-12-02 09:00", 100, 95)),
                    headers={**csv_type, "Authorization": f"Bearer {tokens['b']}"})
    assert r.status_code == 403 and "site_code DEMO-A01 is a site of DEMO-A, not of DEMO-B" in r.json()["detail"]
    # JSON, and the same bytes again are not loaded twice.
    rows = [{"site_code": "DEMO-B01", "snapshot_time": "2026-12-02 09:00", "bed_type": "g_and_a", "beds_open": 90,
             "beds_occupied": 80}]
    first, again = (client.post("/api/feeds/bed-states", json=rows, headers={"Authorization": f"Bearer {tokens['b']}"})
                    for _ in range(2))
    assert first.status_code == again.status_code == 200
    assert first.json()["already_loaded"] is None and again.json()["already_loaded"] == first.json()["load_id"]
    assert store.query("SELECT count(*) AS n FROM bed_states")[0]["n"] == 2
    r = client.post("/api/feeds/nope", content=body, headers={**csv_type, "Authorization": f"Bearer {tokens['a']}"})
    assert r.status_code == 404 and "unknown feed kind" in r.json()["detail"]


def test_freshness_flags_a_source_later_than_its_interval(ics: Store) -> None:
    import datetime as dt

    from uec.feeds import freshness

    receive(ics, "bed-states", beds_csv(("DEMO-A01", "2026-12-02 08:00", 100, 90)), content_type="text/csv",
            org_code="DEMO-A", actor_label="t")
    eight = dt.datetime(2026, 12, 2, 8, 0, tzinfo=dt.UTC)
    at = {f.table: f for f in freshness(ics, eight + dt.timedelta(hours=3))}
    beds = at["bed_states"]
    assert (beds.rows, beds.last_load_rows, beds.last_load_quarantined, beds.expected_minutes) == (1, 1, 0, 540)
    assert not beds.late and beds.minutes_since == 180
    assert at["attendances"].late and at["attendances"].why == "no record yet"
    later = {f.table: f for f in freshness(ics, eight + dt.timedelta(hours=10))}["bed_states"]
    assert later.late and later.why.startswith("late: the latest record is 10.0 h old")
    # Before the record existed, it is not the latest.
    assert {f.table: f for f in freshness(ics, eight - dt.timedelta(hours=1))}["bed_states"].latest is None
