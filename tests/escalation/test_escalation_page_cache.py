"""The escalation pages kept in the page cache, and each parameter's trend since midnight.

The cache keeps a page per data version, the escalation loop's state (declarations and tracked
actions), the jobs it shows, the minute, and the asking user's roles and organisation: these tests
show a page served from the cache, then a declaration, a marked action and the clock passing a due
time each showing at once, and a person of another organisation never given someone else's page.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import escalation_fixtures as fx
import pytest
from fastapi.testclient import TestClient
from loop_helpers import PASSWORD, build

from uec.access.tokens import create_token
from uec.config import get_settings
from uec.escalation import declared, tracked
from uec.escalation.levels import quarter_hours_since_midnight, trend_since_midnight
from uec.store import Store, open_store
from uec.web import create_app
from uec.web.routes import escalation as routes

AT = "2024-07-10T14:00"
Site = tuple[Store, TestClient, dict[str, str]]


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    monkeypatch.setenv("UEC_SECRET_KEY", "test-secret-key-for-signing-cookies-0123456789")
    monkeypatch.setenv("UEC_STATE_DIR", str(tmp_path / "state"))
    get_settings.cache_clear()
    store = build(open_store(str(tmp_path / "uec.duckdb")))
    tokens = {}
    for name, role, org in (("sam", "site_manager", "A1"), ("tess", "site_manager", "A2"),
                            ("cory", "coordinator", "ICB"), ("vic", "viewer", "ICB"), ("fay", "feed", "A1")):
        tokens[name] = create_token(store, f"{name}-token", role=role, org_code=org)[1]
    yield store, TestClient(create_app(store.url)), tokens
    get_settings.cache_clear()


def as_(tokens: dict[str, str], who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[who]}"}


def _freeze_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    """One minute throughout: a page is kept for its minute, and a slow machine must not cross one (a
    new minute would compute the page again, and the test would prove nothing of the other keys)."""
    minute = routes._minute()
    monkeypatch.setattr(routes, "_minute", lambda: minute)


def _no_computing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Computing the levels fails from now on: only a page from the cache can be answered."""
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("computed again instead of served from the cache")
    monkeypatch.setattr(routes, "status", refuse)


def test_the_system_page_is_served_from_the_cache(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    _, client, tokens = site
    _freeze_minute(monkeypatch)
    first = client.get("/escalation", params={"at": AT}, headers=as_(tokens, "cory"))
    j = client.get("/escalation.json", params={"at": AT}, headers=as_(tokens, "cory")).json()
    org = client.get("/escalation/A1", params={"at": AT}, headers=as_(tokens, "cory"))
    assert first.status_code == 200 and org.status_code == 200
    _no_computing(monkeypatch)
    again = client.get("/escalation", params={"at": AT}, headers=as_(tokens, "cory"))
    assert again.status_code == 200
    # The same page, but this request's own nonce and CSRF token (never another request's).
    assert _without_per_request(again.text) == _without_per_request(first.text)
    assert client.get("/escalation.json", params={"at": AT}, headers=as_(tokens, "cory")).json() == j
    assert client.get("/escalation/A1", params={"at": AT}, headers=as_(tokens, "cory")).status_code == 200


def _without_per_request(html: str) -> str:
    html = re.sub(r'nonce="[^"]*"', 'nonce=""', html)
    return re.sub(r'name="csrftoken" value="[^"]*"', "", html)


def test_a_declaration_and_a_marked_action_show_at_once(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    store, client, tokens = site
    _freeze_minute(monkeypatch)
    page = client.get("/escalation", params={"at": AT}, headers=as_(tokens, "cory")).text
    assert "Open actions (0, 0 overdue)" in page
    assert client.get("/escalation/A1.json", params={"at": AT}, headers=as_(tokens, "sam")).json()["actions"] == []
    r = client.post("/escalation/A1/declare", data={"level": "3", "at": AT}, headers=as_(tokens, "sam"),
                    follow_redirects=False)
    assert r.status_code == 303
    opened = tracked.list_actions(store, state="open")
    assert opened
    j = client.get("/escalation.json", params={"at": AT}, headers=as_(tokens, "cory")).json()
    assert {o["code"]: o["declared_level"] for o in j["organisations"]}["A1"] == 3
    page = client.get("/escalation", params={"at": AT}, headers=as_(tokens, "cory")).text
    assert f"Open actions ({len(opened)}, 0 overdue)" in page
    mine = next(a for a in opened if a.owner_org == "A1")
    r = client.post(f"/escalation/A1/actions/{mine.id}", data={"state": "done", "note": "opened the unit",
                                                                "back": "/escalation/A1"},
                    headers=as_(tokens, "sam"), follow_redirects=False)
    assert r.status_code == 303
    page = client.get("/escalation", params={"at": AT}, headers=as_(tokens, "cory")).text
    assert f"Open actions ({len(opened) - 1}, 0 overdue)" in page
    org = client.get("/escalation/A1.json", params={"at": AT}, headers=as_(tokens, "sam")).json()
    assert next(a for a in org["actions"] if a["id"] == mine.id)["state"] == "done"
    # And a system declaration by the coordinator.
    client.post("/escalation/system/declare", data={"level": "2", "at": AT}, headers=as_(tokens, "cory"))
    assert client.get("/escalation.json", params={"at": AT},
                      headers=as_(tokens, "vic")).json()["ics"]["declared_level"] == 2


def test_an_action_becomes_overdue_when_the_clock_passes_its_due_time(site: Site,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    store, client, tokens = site
    done = declared.declare(store, "A1", 3, assessed_at=dt.datetime(2024, 7, 10, 13, tzinfo=dt.UTC),
                            actor_label="cli:test")
    first_due = min(a.due_at for a in done.opened)
    before = first_due.replace(second=0, microsecond=0) - dt.timedelta(minutes=1)
    monkeypatch.setattr(routes, "_minute", lambda: before)
    assert client.get("/escalation.json", params={"at": AT}, headers=as_(tokens, "vic")).json()["overdue"] == 0
    # No write at all: only the clock moves past the due time.
    monkeypatch.setattr(routes, "_minute", lambda: before + dt.timedelta(minutes=2))
    j = client.get("/escalation.json", params={"at": AT}, headers=as_(tokens, "vic")).json()
    assert j["overdue"] >= 1 and j["actions"][0]["overdue"] is True


def test_another_organisation_never_gets_a_page_it_may_not_see(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    store, client, tokens = site
    _freeze_minute(monkeypatch)
    declared.declare(store, "A1", 3, assessed_at=dt.datetime(2024, 7, 10, 13, tzinfo=dt.UTC), actor_label="cli:test")
    sams = client.get("/escalation/A1", params={"at": AT}, headers=as_(tokens, "sam")).text
    assert "/escalation/A1/actions/" in sams and "Not your organisation" not in sams  # sam may act
    tess = client.get("/escalation/A1", params={"at": AT}, headers=as_(tokens, "tess")).text
    assert "/escalation/A1/actions/" not in tess and "own organisation (A2) only" in tess
    vics = client.get("/escalation/A1", params={"at": AT}, headers=as_(tokens, "vic")).text
    assert 'action="/escalation/A1/declare"' not in vics and "/escalation/A1/actions/" not in vics
    # A role without view_aggregate is refused even though the page is in the cache.
    assert client.get("/escalation/A1", params={"at": AT}, headers=as_(tokens, "fay")).status_code == 403
    assert client.get("/escalation.json", params={"at": AT}, headers=as_(tokens, "fay")).status_code == 403


def test_trend_since_midnight_by_hand(store: Store) -> None:
    """A1's mean handover since midnight (working in escalation_fixtures.py): its own return's 99 minutes
    until the first handover (events win once they have a value), then i1's 10 from 08:15, (10 + 40) / 2
    = 25 once i2 is handed over at 09:40, (10 + 40 + 25) / 3 = 25 after i3 at 10:25. A2 has no value
    until i6 is handed over at 11:10, then 10. Every 15 minutes from local midnight (23:00 UTC the day
    before, in summer time) to 14:00: 57 points."""
    fx.reference(store)
    fx.events(store)
    fx.returns(store)
    trend = trend_since_midnight(store, fx.AT)
    local = [t.astimezone(fx.LONDON).strftime("%H:%M") for t in trend.instants]
    assert len(local) == 57 and local[0] == "00:00" and local[-1] == "14:00"
    assert trend.instants[0] == dt.datetime(2024, 7, 9, 23, tzinfo=dt.UTC)
    a1 = dict(zip(local, trend.of("A1", "acute-handover-mean"), strict=True))
    assert [a1[t] for t in ("08:00", "08:15", "09:30", "09:45", "10:30", "14:00")] == [
        99, 10, 10, pytest.approx(25), pytest.approx(25), pytest.approx(25)]
    a2 = dict(zip(local, trend.of("A2", "acute-handover-mean"), strict=True))
    assert a2["11:00"] is None and a2["11:15"] == pytest.approx(10)
    assert trend.of("A9", "acute-handover-mean") == ()


def test_quarter_hours_since_midnight_on_a_clock_change_day() -> None:
    # 2024-10-27 has 25 hours in London: 23:45 local is the 100th quarter hour.
    end = dt.datetime(2024, 10, 27, 23, 45, tzinfo=fx.LONDON)
    assert len(quarter_hours_since_midnight(end)) == 100
    assert len(quarter_hours_since_midnight(end + dt.timedelta(minutes=14))) == 100


def test_the_system_page_shows_each_parameters_trend(site: Site) -> None:
    _, client, tokens = site
    j = client.get("/escalation.json", params={"at": AT}, headers=as_(tokens, "vic")).json()
    assert j["trend_times"][0] == "00:00" and j["trend_times"][-1] == "14:00"
    a1 = next(o for o in j["organisations"] if o["code"] == "A1")
    handover = next(p for p in a1["parameters"] if p["parameter"] == "acute-handover-mean")
    assert handover["trend"][j["trend_times"].index("08:15")] == 10
    assert handover["trend_text"] == ("Since midnight, every 15 minutes: 00:00 99 min; lowest 10 min at 08:15; "
                                      "highest 99 min at 00:00; latest 25 min at 14:00.")
    page = client.get("/escalation", params={"at": AT}, headers=as_(tokens, "vic")).text
    assert 'class="uec-sparkline" role="img" aria-label="Since midnight, every 15 minutes: 00:00 99 min' in page
    assert ">Since midnight</th>" in page


def test_notifications_are_in_the_navigation_for_people_signed_in(site: Site) -> None:
    _, client, _ = site
    nav = re.compile(r'class="nhsuk-header__navigation-link" href="/subscriptions"[^>]*>(<strong[^>]*>)?Notifications')
    assert not nav.search(client.get("/sign-in").text)
    form = client.get("/sign-in").text
    token = re.search(r'name="csrftoken" value="([^"]+)"', form)
    assert token
    r = client.post("/sign-in", data={"username": "cory", "password": PASSWORD, "next": "/escalation",
                                      "csrftoken": token.group(1)}, follow_redirects=False)
    assert r.status_code == 303
    for path in ("/escalation", "/subscriptions", "/standards"):
        page = client.get(path).text
        assert nav.search(page), path
    assert re.search(r'href="/subscriptions" aria-current="page"', client.get("/subscriptions").text)
