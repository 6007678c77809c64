"""The projected level and "try an action" through the web app, on a small demo ICS.

Jobs run in the app's own background thread (``UEC_WEB_RUNS_JOBS``, on by default without ``uec
serve``); the pages are polled until they are done. One replication each way and 4 hours keep it
to seconds: the numbers themselves are tested in test_escalation_projection.py.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from loop_helpers import webhook_receiver

from uec.access.tokens import create_token
from uec.config import get_settings
from uec.demo import build_demo
from uec.escalation import notify
from uec.escalation.projection import project_levels_example
from uec.escalation.projection_jobs import notify_projected
from uec.store import Store, open_store
from uec.web import create_app
from uec.web.routes import escalation_projection


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = Path(tmp_path_factory.mktemp("projection-web")) / "uec.duckdb"
    build_demo(open_store(str(path)), seed=7, days=10, end=dt.date(2025, 1, 20))
    return path


@pytest.fixture
def site(demo_path: Path, tmp_path: Path,
         monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Store, TestClient, dict[str, str]]]:
    monkeypatch.setenv("UEC_SECRET_KEY", "test-secret-key-for-signing-cookies-0123456789")
    monkeypatch.setenv("UEC_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setattr(escalation_projection, "WEB_REPS", 1)
    get_settings.cache_clear()
    copy = tmp_path / "uec.duckdb"
    copy.write_bytes(demo_path.read_bytes())
    store = open_store(str(copy))
    tokens = {}
    for name, role, org in (("sam", "site_manager", "DEMO-A"), ("tess", "site_manager", "DEMO-B"),
                            ("cory", "coordinator", "DEMO-ICB"), ("vic", "viewer", "DEMO-ICB")):
        tokens[name] = create_token(store, f"{name}-token", role=role, org_code=org)[1]
    yield store, TestClient(create_app(store.url)), tokens
    get_settings.cache_clear()


def as_(tokens: dict[str, str], who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[who]}"}


def wait_done(client: TestClient, url: str, headers: dict[str, str], seconds: float = 240) -> dict[str, Any]:
    end = time.monotonic() + seconds
    while True:
        j: dict[str, Any] = client.get(url, headers=headers).json()
        if j["state"] in ("done", "failed", "cancelled") or time.monotonic() > end:
            return j
        time.sleep(0.5)


def test_try_an_action_from_the_organisation_page(site: tuple[Store, TestClient, dict[str, str]]) -> None:
    _, client, tokens = site
    page = client.get("/escalation/DEMO-A", headers=as_(tokens, "sam")).text
    assert 'id="try-acute-3-capacity"' in page and 'action="/escalation/DEMO-A/try"' in page
    assert "Project the next 72 hours" in page
    # A viewer sees the cards but no forms; another trust's site manager is refused.
    viewer = client.get("/escalation/DEMO-A", headers=as_(tokens, "vic")).text
    assert 'id="try-acute-3-capacity"' in viewer and 'action="/escalation/DEMO-A/try"' not in viewer
    for who in ("vic", "tess"):
        r = client.post("/escalation/DEMO-A/try", data={"card": "acute-3-capacity", "hours": "4"},
                        headers=as_(tokens, who), follow_redirects=False)
        assert r.status_code == 403
    r = client.post("/escalation/DEMO-A/try", data={"card": "no-such-card"}, headers=as_(tokens, "sam"),
                    follow_redirects=False)
    assert r.status_code == 400 and "no action card" in r.text
    r = client.post("/escalation/DEMO-A/try", data={"card": "acute-3-capacity", "hours": "4"},
                    headers=as_(tokens, "sam"), follow_redirects=False)
    assert r.status_code == 303
    url = r.headers["location"]
    assert url.startswith("/escalation/DEMO-A/try/")
    j = wait_done(client, url + ".json", as_(tokens, "sam"))
    assert j["state"] == "done", j
    assert j["changes"] == {"extra_escalation_beds": 20, "sdec_closes": "22:00"} and len(j["rows"]) == 1
    esc = next(p for p in j["parameters"] if p["parameter"] == "acute-escalation-beds")
    # 20 escalation beds opened at each of DEMO-A's sites: their share of open beds rises from 0.
    assert esc["with_action"] > esc["without_action"]
    html = client.get(url, headers=as_(tokens, "vic")).text
    assert 'id="try-table"' in html and "Open beds that are escalation beds" in html
    rows = list(csv.DictReader(io.StringIO(client.get(url + ".csv", headers=as_(tokens, "vic")).text)))
    assert len(rows) == 1 and "score_difference" in rows[0]
    assert client.get("/api" + url, headers=as_(tokens, "vic")).json()["job_id"] == j["job_id"]
    # The same action on the same data is not run again: the finished run is shown.
    again = client.post("/escalation/DEMO-A/try", data={"card": "acute-3-capacity", "hours": "4"},
                        headers=as_(tokens, "sam"), follow_redirects=False)
    assert again.headers["location"] == url
    # And the organisation page lists it.
    assert url in client.get("/escalation/DEMO-A", headers=as_(tokens, "vic")).text


def test_project_the_level_and_show_when_it_was_made(site: tuple[Store, TestClient, dict[str, str]]) -> None:
    _, client, tokens = site
    j = client.get("/escalation/DEMO-ICB/projection.json", headers=as_(tokens, "vic")).json()
    assert j["state"] == "none" and j["rows"] == [] and j["can_run"] is False
    assert "No projection has been made yet" in client.get("/escalation", headers=as_(tokens, "vic")).text
    assert client.post("/escalation/DEMO-ICB/projection", data={"hours": "4"}, headers=as_(tokens, "sam"),
                       follow_redirects=False).status_code == 403
    r = client.post("/escalation/DEMO-ICB/projection", data={"hours": "4"}, headers=as_(tokens, "cory"),
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/escalation/DEMO-ICB/projection"
    j = wait_done(client, "/escalation/DEMO-ICB/projection.json", as_(tokens, "cory"))
    assert j["state"] == "done" and j["current_data"] is True and j["hours"] == 4
    kinds = {r["kind"] for r in j["rows"]}
    assert kinds == {"ics", "pillar", "org"}
    ics = next(r for r in j["rows"] if r["kind"] == "ics")
    assert ics["p_opel1"] + ics["p_opel2"] + ics["p_opel3"] + ics["p_opel4"] + ics["p_no_score"] == 1.0
    # An organisation's projection comes from the same job.
    rxa = client.get("/api/escalation/DEMO-A/projection", headers=as_(tokens, "vic")).json()
    assert [r["code"] for r in rxa["rows"]] == ["DEMO-A"] and rxa["made_at"] == j["made_at"]
    html = client.get("/escalation/DEMO-A/projection", headers=as_(tokens, "vic")).text
    assert 'id="projection-table"' in html and "Projected from" in html
    assert client.get("/escalation/NOPE/projection", headers=as_(tokens, "vic")).status_code == 404
    # The system page shows what the projection says of the next 24 hours (here, its 4).
    ahead = client.get("/escalation.json", headers=as_(tokens, "vic")).json()["ahead"]
    assert {r["code"] for r in ahead["rows"]} >= {"DEMO-ICB", "DEMO-A"} and ahead["made_at"] == j["made_at"]
    assert 'id="ahead-table"' in client.get("/escalation", headers=as_(tokens, "vic")).text


def test_projected_escalation_is_notified_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UEC_NOTIFY_COOLDOWN_MINUTES", "30")
    get_settings.cache_clear()
    store = open_store(str(tmp_path / "uec.duckdb"))
    p = project_levels_example()  # DEMO-A at OPEL 1 now, OPEL 2 in one of two replications
    with webhook_receiver() as (url, received):
        notify.subscribe(store, "sam", "DEMO-A", "webhook", url)
        assert notify_projected(store, p, threshold=0.75) == []
        assert notify_projected(store, p) == [("DEMO-A", 1, 2, 0.5)]
        assert notify_projected(store, p) == [("DEMO-A", 1, 2, 0.5)]  # the same projection again
    rows = notify.notifications(store)
    assert [(n.event, n.state) for n in rows] == [("projected_escalation", "sent")]
    assert len(received) == 1 and received[0]["event"] == "projected_escalation"
    assert received[0]["subject"] == "DEMO-A projected to reach OPEL 2 within 8 hours (now OPEL 1)"
    get_settings.cache_clear()
