"""The escalation pages and forms through the web app (the embedded store; people by API token)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from loop_helpers import build

from uec.access.tokens import create_token
from uec.config import get_settings
from uec.escalation import declared, tracked
from uec.store import Store, open_store
from uec.web import create_app

AT = "2024-07-10T14:00"


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Store, TestClient, dict[str, str]]]:
    monkeypatch.setenv("UEC_SECRET_KEY", "test-secret-key-for-signing-cookies-0123456789")
    monkeypatch.setenv("UEC_STATE_DIR", str(tmp_path / "state"))
    get_settings.cache_clear()
    store = build(open_store(str(tmp_path / "uec.duckdb")))
    tokens = {}
    for name, role, org in (("sam", "site_manager", "A1"), ("tess", "site_manager", "A2"),
                            ("cory", "coordinator", "ICB"), ("vic", "viewer", "ICB")):
        tokens[name] = create_token(store, f"{name}-token", role=role, org_code=org)[1]
    yield store, TestClient(create_app(store.url)), tokens
    get_settings.cache_clear()


def as_(tokens: dict[str, str], who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[who]}"}


def test_system_page_json_and_csv_need_view_aggregate(site: tuple[Store, TestClient, dict[str, str]]) -> None:
    _, client, tokens = site
    assert client.get("/escalation", params={"at": AT}, follow_redirects=False).status_code == 303  # to sign in
    r = client.get("/escalation", params={"at": AT}, headers=as_(tokens, "vic"))
    assert r.status_code == 200 and "Escalation: the system now" in r.text
    assert 'nhsuk-tag nhsuk-tag--orange">OPEL 3</strong>' in r.text  # A1, in words as well as colour
    j = client.get("/escalation.json", params={"at": AT}, headers=as_(tokens, "vic")).json()
    orgs = {o["code"]: o for o in j["organisations"]}
    assert (orgs["A1"]["calculated_level"], orgs["A1"]["score"], orgs["A1"]["declared_level"]) == (3, 70.8, None)
    assert j["ics"]["code"] == "ICB" and j["ics"]["calculated_level"] == 2
    handover = next(p for p in orgs["A1"]["parameters"] if p["parameter"] == "acute-handover-mean")
    assert handover["thresholds"].startswith("OPEL 2 ≥")
    assert {f["source"] for f in j["freshness"]} >= {"A&E attendances", "Bed states"}
    assert next(f for f in j["freshness"] if f["source"] == "A&E attendances")["latest"].startswith("2024-07-10")
    rows = list(csv.DictReader(io.StringIO(client.get("/escalation.csv", params={"at": AT},
                                                      headers=as_(tokens, "vic")).text)))
    assert {r["code"]: r["calculated_level"] for r in rows}["A1"] == "3"
    assert client.get("/api/escalation/A1", params={"at": AT}, headers=as_(tokens, "vic")).json()["code"] == "A1"
    assert client.get("/escalation/NOPE", headers=as_(tokens, "vic")).status_code == 404


def test_declare_mark_done_and_refusals(site: tuple[Store, TestClient, dict[str, str]]) -> None:
    store, client, tokens = site
    # Another trust's site manager: a clear 403.
    r = client.post("/escalation/A1/declare", data={"level": "3", "at": AT}, headers=as_(tokens, "tess"),
                    follow_redirects=False)
    assert r.status_code == 403
    assert "your role lets you act for your own organisation (A2) only, and this is for A1." in r.json()["detail"]
    # Differing from the calculated level without a reason: 400, nothing stored.
    r = client.post("/escalation/A1/declare", data={"level": "4", "at": AT}, headers=as_(tokens, "sam"),
                    follow_redirects=False)
    assert r.status_code == 400 and "a reason is required" in r.text
    assert declared.declarations(store) == []
    r = client.post("/escalation/A1/declare", data={"level": "3", "at": AT}, headers=as_(tokens, "sam"),
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/escalation/A1?at={AT.replace(':', '%3A')}"
    d = declared.current_declarations(store)["A1"]
    assert d.level == 3 and d.calculated_level == 3
    own = [a for a in tracked.list_actions(store, object_code="A1") if a.owner_org == "A1"]
    ics_owned = next(a for a in tracked.list_actions(store, object_code="A1") if a.owner_org == "ICB")
    r = client.post(f"/escalation/A1/actions/{own[0].id}", data={"state": "done", "note": "done it",
                                                                 "back": "/escalation/A1"},
                    headers=as_(tokens, "sam"), follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/escalation/A1"
    assert tracked.get_action(store, own[0].id).state == "done"  # type: ignore[union-attr]
    # The ICS's actions are the coordinator's.
    r = client.post(f"/escalation/ICB/actions/{ics_owned.id}", data={"state": "done", "note": "x"},
                    headers=as_(tokens, "sam"), follow_redirects=False)
    assert r.status_code == 403
    r = client.post(f"/escalation/ICB/actions/{ics_owned.id}",
                    data={"state": "not_applicable", "note": "no mutual aid needed", "back": "https://evil.example"},
                    headers=as_(tokens, "cory"), follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/escalation"
    # An action under the wrong organisation in the path is not found.
    r = client.post(f"/escalation/A1/actions/{ics_owned.id}", data={"state": "done", "note": "x"},
                    headers=as_(tokens, "sam"), follow_redirects=False)
    assert r.status_code == 404
    page = client.get("/escalation/A1", params={"at": AT}, headers=as_(tokens, "vic")).text
    assert "Declared OPEL 3" in page and "Done" in page and "Not applicable" in page
    # The system: the coordinator may, a site manager may not.
    assert client.post("/escalation/system/declare", data={"level": "2", "at": AT}, headers=as_(tokens, "sam"),
                       follow_redirects=False).status_code == 403
    assert client.post("/escalation/system/declare", data={"level": "2", "at": AT}, headers=as_(tokens, "cory"),
                       follow_redirects=False).status_code == 303
    assert declared.current_declarations(store)["ICB"].level == 2
    j = client.get("/escalation.json", params={"at": AT}, headers=as_(tokens, "vic")).json()
    assert j["ics"]["declared_level"] == 2
    assert {o["code"]: o["declared_level"] for o in j["organisations"]}["A1"] == 3
    assert {p["code"]: p["declared_level"] for p in j["pillars"]} == {
        "acute": 3, "community": None, "mental_health": None, "nhs111": None}


def test_overdue_actions_stand_out(site: tuple[Store, TestClient, dict[str, str]]) -> None:
    store, client, tokens = site
    done = declared.declare(store, "A1", 3, assessed_at=declared_at(), actor_label="cli:test")
    late = done.opened[0]
    with store.write() as w:  # as if its due time had passed
        w.execute("UPDATE escalation_actions SET due_at = :t WHERE id = :id",
                  {"t": late.created_at - dt.timedelta(minutes=1), "id": late.id})
    j = client.get("/escalation.json", params={"at": AT}, headers=as_(tokens, "vic")).json()
    assert j["overdue"] == 1 and j["actions"][0]["id"] == late.id and j["actions"][0]["overdue"] is True
    page = client.get("/escalation", params={"at": AT}, headers=as_(tokens, "vic")).text
    assert '<strong class="nhsuk-tag nhsuk-tag--red">Overdue</strong>' in page
    assert f"Open actions ({len(done.opened)}, 1 overdue)" in page


def declared_at() -> dt.datetime:
    return dt.datetime(2024, 7, 10, 13, 0, tzinfo=dt.UTC)
