"""The scenario page and API with a fake model: the form, its errors, runs started, stored and listed."""

from __future__ import annotations

import datetime as dt
import html
import math
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from web_fixture import signed_in

from uec.config import Settings
from uec.errors import UecError
from uec.store import open_store
from uec.system.runs import list_runs
from uec.system.types import ChangeField, Comparison, Interval, Scenario, StandardComparison
from uec.web import create_app, scenario_jobs, scenario_pages
from uec.web.scenario_pages import assessment, comparison_svg, format_difference, validate_run

FIELDS = (
    ChangeField("extra_beds", "Extra G&A beds per site", "int", "beds", 0, minimum=0, maximum=200,
                hint="Beds opened on top of each site's core beds."),
    ChangeField("demand_growth", "Growth in demand", "float", "share", 0.0, minimum=-0.5, maximum=1.0),
    ChangeField("sdec_closes", "SDEC closing time", "time", "", "20:00"),
)


class FakeModel:
    """Stands in for the whole-system model: more beds, better 4-hour performance and shorter C2 responses."""

    def __init__(self) -> None:
        self.calls: list[tuple[Scenario, int, int, float]] = []
        self.gate: threading.Event | None = None
        self.fail: Exception | None = None

    def __call__(self, scenario: Scenario, reps: int, seed: int, days: float) -> Comparison:
        self.calls.append((scenario, reps, seed, days))
        if self.gate is not None:
            assert self.gate.wait(30)
        if self.fail is not None:
            raise self.fail
        beds = float(scenario.changes.get("extra_beds", 0))
        now = dt.datetime.now(dt.UTC)
        return Comparison(scenario=scenario, reps=reps, seed=seed, days=days, started_at=now, finished_at=now,
                          standards=(
            StandardComparison("ed-4hr", "4-hour performance", "proportion", True, Interval(0.70, 0.69, 0.71),
                               Interval(0.70 + beds / 1000, 0.69 + beds / 1000, 0.71 + beds / 1000),
                               Interval(beds / 1000, beds / 1000 - 0.005, beds / 1000 + 0.005)),
            StandardComparison("amb-c2-mean", "Category 2 mean response time", "minutes", False,
                               Interval(40.0, 38.0, 42.0), Interval(40.0 - beds / 10, 38.0 - beds / 10, 42 - beds / 10),
                               Interval(-beds / 10, -beds / 10 - 1, -beds / 10 + 1)),
            StandardComparison("beds-ga-occupancy", "G&A bed occupancy", "proportion", None,
                               Interval(0.95, 0.94, 0.96), Interval(0.95, 0.94, 0.96), Interval(0.0, -0.01, 0.01)),
        ))


@pytest.fixture
def model(monkeypatch: pytest.MonkeyPatch) -> FakeModel:
    fake = FakeModel()
    monkeypatch.setattr(scenario_pages, "default_runner", fake)
    monkeypatch.setattr(scenario_pages, "default_fields", lambda: FIELDS)
    return fake


@pytest.fixture
def client(model: FakeModel, empty_store: str) -> Iterator[TestClient]:
    with TestClient(signed_in(create_app(empty_store))) as c:
        yield c


def flat(html: str) -> str:
    """The page with whitespace runs collapsed and none beside tag brackets (the macros indent freely)."""
    return re.sub(r"\s*([<>])\s*", r"\1", re.sub(r"\s+", " ", html))


def wait_done(client: TestClient, url: str) -> dict[str, Any]:
    """The run's JSON once it is no longer running (the model runs in a background thread)."""
    deadline = time.monotonic() + 180
    while True:
        got: dict[str, Any] = client.get(url + ".json").json()
        if got["status"] != "running" or time.monotonic() > deadline:
            return got
        time.sleep(0.02)


def submit(client: TestClient, **form: str) -> str:
    r = client.post("/scenarios", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    url: str = r.headers["location"]
    assert re.fullmatch(r"/scenarios/runs/\d{8}-\d{6}-[0-9a-f]{6}", url)
    return url


def test_the_form_is_built_from_the_change_fields(client: TestClient) -> None:
    r = client.get("/scenarios")
    assert r.status_code == 200
    page = flat(r.text)
    assert "<title>Scenarios – UEC Resilience</title>" in page
    assert 'href="/scenarios"' in page and "No scenarios have been run yet." in page
    for f in FIELDS:
        assert f'<label class="nhsuk-label" for="change-{f.name}">' in page
        assert html.escape(f.label) in page
    assert 'id="change-extra_beds" name="change-extra_beds" type="text" spellcheck="false" value="0"' in page
    assert 'inputmode="numeric"' in page and 'inputmode="decimal"' in page
    assert "Beds opened on top of each site&#39;s core beds. Baseline 0 beds. From 0 to 200." in page
    assert "Baseline 20:00. A time on the 24-hour clock, like 22:00." in page
    assert 'id="reps" name="reps" type="text" spellcheck="false" value="5"' in page
    assert "Run scenario</button>" in page


def test_invalid_values_are_shown_in_a_summary_and_beside_each_field(client: TestClient, model: FakeModel) -> None:
    r = client.post("/scenarios", data={"scenario-name": "Winter", "change-extra_beds": "lots",
                                        "change-demand_growth": "2", "change-sdec_closes": "25:00",
                                        "reps": "0", "days": "2.5", "seed": ""})
    assert r.status_code == 400
    page = flat(r.text)
    assert "<title>Error: Scenarios – UEC Resilience</title>" in page
    assert "There is a problem" in page
    expected = {
        "change-extra_beds": "Extra G&amp;A beds per site must be a number, like 20",
        "change-demand_growth": "Growth in demand must be between -0.5 and 1",
        "change-sdec_closes": "SDEC closing time must be a time on the 24-hour clock, like 22:00",
        "reps": "Replications must be between 1 and 50",
        "days": "Days must be a whole number",
    }
    for field, message in expected.items():
        assert f'<a href="#{field}">{message}</a>' in page, field
        assert f'id="{field}-error"' in page, field
    # What the user typed is kept, so they can correct it.
    assert 'value="lots"' in page and 'value="Winter"' in page
    assert model.calls == []


def test_a_run_is_started_stored_and_listed(client: TestClient, model: FakeModel, empty_store: str) -> None:
    url = submit(client, **{"scenario-name": "More beds", "description": "Twenty more beds",
                            "change-extra_beds": "20", "change-demand_growth": "0", "change-sdec_closes": "20:00",
                            "reps": "3", "days": "14", "seed": "7"})
    run = wait_done(client, url)
    assert run["status"] == "done"
    scenario, reps, seed, days = model.calls[0]
    # Only what differs from the baseline is a change.
    assert scenario == Scenario("More beds", "Twenty more beds", None, {"extra_beds": 20})
    assert (reps, seed, days) == (3, 7, 14.0)

    rows = {s["standard_id"]: s for s in run["standards"]}
    assert rows["ed-4hr"]["assessment"] == "better" and rows["ed-4hr"]["difference"]["display"] == \
        "+2.0 percentage points"
    assert rows["amb-c2-mean"]["assessment"] == "better"  # lower is better and it fell
    assert rows["beds-ga-occupancy"]["assessment"] == "unclear"
    assert run["changes"] == [{"name": "extra_beds", "label": "Extra G&A beds per site", "value": 20,
                               "display": "20 beds"}]

    page = flat(client.get(url).text)
    assert "<title>More beds – UEC Resilience</title>" in page
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in page and 'role="img"' in page
    assert "<desc id=" in page and "4-hour performance: baseline 70.0% (69.0% to 71.0%)" in page
    assert 'id="comparison-table"' in page
    assert '<strong class="nhsuk-tag nhsuk-tag--green">Better</strong>' in page
    assert '<strong class="nhsuk-tag nhsuk-tag--grey">No clear difference</strong>' in page
    assert "-2.0 min" in page and "Extra G&amp;A beds per site: 20 beds" in page

    stored = list_runs(open_store(empty_store))
    assert [r.run_id for r in stored] == [url.rsplit("/", 1)[1]]

    second = submit(client, **{"change-extra_beds": "5"})
    assert wait_done(client, second)["name"] == "extra_beds 5"
    listed = client.get("/api/scenarios/runs").json()["runs"]
    assert [r["url"] for r in listed] == [second, url]
    assert client.get("/scenarios.json").json()["runs"] == listed
    page = client.get("/scenarios").text
    assert page.index(second) < page.index(url)
    assert "3 × 14 days" in page


def test_a_run_under_way_says_so_then_shows_its_results(client: TestClient, model: FakeModel) -> None:
    model.gate = threading.Event()
    url = submit(client, **{"change-extra_beds": "10"})
    running = client.get(url)
    assert running.status_code == 200
    assert "Running…" in running.text and 'role="status"' in running.text
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in running.text
    assert client.get(url + ".json").json()["status"] == "running"
    assert client.get("/api/scenarios/runs").json()["runs"][0]["status"] == "running"
    model.gate.set()
    assert wait_done(client, url)["status"] == "done"
    assert "Running…" not in client.get(url).text


def test_a_failed_run_says_why(client: TestClient, model: FakeModel) -> None:
    model.fail = UecError("the model cannot open 201 beds at a site with 200")
    url = submit(client, **{"change-extra_beds": "10"})
    run = wait_done(client, url)
    assert run["status"] == "failed" and run["error"] == "the model cannot open 201 beds at a site with 200"
    page = client.get(url).text
    assert "The run failed" in page and "cannot open 201 beds" in page


def test_api_fields_and_runs(client: TestClient, model: FakeModel) -> None:
    fields = client.get("/api/scenarios/fields").json()
    assert fields[0] == {"name": "extra_beds", "label": "Extra G&A beds per site", "kind": "int", "unit": "beds",
                         "default": 0, "minimum": 0.0, "maximum": 200.0,
                         "hint": "Beds opened on top of each site's core beds."}
    assert [f["name"] for f in fields] == ["extra_beds", "demand_growth", "sdec_closes"]

    r = client.post("/api/scenarios/runs", json={"name": "api", "changes": {"extra_beds": 30, "sdec_closes": "23:00"},
                                                 "reps": 2, "days": 7})
    assert r.status_code == 202
    body = r.json()
    assert body["status"] in ("running", "done") and r.headers["location"] == f"/api/scenarios/runs/{body['run_id']}"
    done = wait_done(client, body["url"])
    assert client.get(r.headers["location"]).json() == done
    assert model.calls[-1][0].changes == {"extra_beds": 30, "sdec_closes": "23:00"}
    assert model.calls[-1][1:] == (2, 42, 7.0)
    ed = done["standards"][0]
    assert set(ed) == {"standard_id", "title", "unit", "higher_is_better", "baseline", "scenario", "difference",
                       "assessment", "assessment_label"}
    assert set(ed["baseline"]) == {"mean", "low", "high", "display", "interval_display"}
    assert ed["scenario"]["mean"] == pytest.approx(0.73)

    bad = client.post("/api/scenarios/runs", json={"changes": {"extra_beds": 500, "nurses": 3}, "reps": 51})
    assert bad.status_code == 422
    assert bad.json()["detail"] == [
        {"field": "change-nurses", "message":
         "There is no change called 'nurses'; the changes are: extra_beds, demand_growth, sdec_closes"},
        {"field": "change-extra_beds", "message": "Extra G&A beds per site must be between 0 and 200"},
        {"field": "reps", "message": "Replications must be between 1 and 50"},
    ]
    assert client.post("/api/scenarios/runs", json={"changes": {"extra_beds": True}}).status_code == 422


def test_unknown_runs_are_not_found(client: TestClient) -> None:
    assert client.get("/api/scenarios/runs/20990101-000000-abcdef").status_code == 404
    assert client.get("/api/scenarios/runs/20990101-000000-abcdef").json()["detail"].startswith("There is no")
    page = client.get("/scenarios/runs/nope")
    assert page.status_code == 404 and "Page not found" in page.text
    assert client.get("/scenarios/runs/a%27b").status_code == 404


def test_without_the_model_the_page_says_so(monkeypatch: pytest.MonkeyPatch, empty_store: str) -> None:
    monkeypatch.setattr(scenario_pages, "default_fields", lambda: ())
    with TestClient(signed_in(create_app(empty_store))) as c:
        page = c.get("/scenarios").text
        assert "The whole-system model is not installed here" in page and "<form" not in page
        assert c.get("/api/scenarios/fields").json() == []


def test_runs_in_a_postgresql_store(model: FakeModel, postgres_url: str) -> None:
    with TestClient(signed_in(create_app(postgres_url))) as c:
        url = submit(c, **{"change-extra_beds": "20", "reps": "2"})
        assert wait_done(c, url)["status"] == "done"
        assert [r["url"] for r in c.get("/api/scenarios/runs").json()["runs"]] == [url]
    assert len(list_runs(open_store(postgres_url))) == 1


def test_beyond_the_queue_limit_a_run_is_refused_with_429(model: FakeModel, empty_store: str,
                                                          tmp_path: Any) -> None:
    model.gate = threading.Event()
    settings = Settings().model_copy(update=dict(cache_dir=str(tmp_path / "cache"), scenario_queue_limit=1))
    with TestClient(signed_in(create_app(empty_store, settings))) as c:
        first = submit(c, **{"change-extra_beds": "10"})
        r = c.post("/api/scenarios/runs", json={"changes": {"extra_beds": 5}})
        # Durable jobs (uec.jobs) say which limit was reached: here one person's, which comes first.
        assert r.status_code == 429 and "the most" in r.json()["detail"]
        page = c.post("/scenarios", data={"change-extra_beds": "5"})
        assert page.status_code == 429 and "There is a problem" in page.text and "the most" in page.text
        model.gate.set()
        assert wait_done(c, first)["status"] == "done"
        # The form page set the CSRF cookie, so this client is now a browser and must send the token.
        again = c.post("/api/scenarios/runs", json={"changes": {"extra_beds": 5}},
                       headers={"x-csrftoken": c.cookies.get("csrftoken") or ""})
        assert again.status_code == 202, again.text
        assert wait_done(c, again.json()["url"])["status"] == "done"
    scenario_jobs.set_limits(4)


def test_the_queue_has_the_agreed_jobs_interface(model: FakeModel, empty_store: str) -> None:
    store = open_store(empty_store)
    scenario_jobs.set_limits(4, per_owner=2)
    model.gate = threading.Event()
    params = {"scenario": {"name": "x", "changes": {"extra_beds": 3}}, "reps": 2, "days": 7, "seed": 1}
    a = scenario_jobs.submit(store, "scenario_run", params, owner="ann")
    b = scenario_jobs.submit(store, "scenario_run", params, owner="ann")
    assert a.state == b.state == "queued" and a.kind == "scenario_run" and a.owner == "ann"
    with pytest.raises(scenario_jobs.JobLimitError):
        scenario_jobs.submit(store, "scenario_run", params, owner="ann")
    cancelled = scenario_jobs.cancel(store, b.id, by="ann")
    assert cancelled.state == "cancelled" and scenario_jobs.get_job(store, b.id) == cancelled
    c = scenario_jobs.submit(store, "scenario_run", params, owner="ann")  # room again
    with pytest.raises(UecError):
        scenario_jobs.submit(store, "no_such_kind", {})
    assert [j.id for j in scenario_jobs.list_jobs(store, owner="ann")] == [c.id, b.id, a.id]
    model.gate.set()
    deadline = time.monotonic() + 60
    while (j := scenario_jobs.get_job(store, c.id)) is not None and j.state != "done" and time.monotonic() < deadline:
        time.sleep(0.02)
    done = scenario_jobs.get_job(store, a.id)
    assert done is not None and done.state == "done" and done.result == {"run_id": a.id}
    assert done.started_at is not None and done.finished_at is not None
    assert {r.run_id for r in list_runs(store)} == {a.id, c.id}
    with pytest.raises(UecError):
        scenario_jobs.cancel(store, a.id)
    assert scenario_jobs.get_job(open_store(empty_store + ".other.duckdb"), a.id) is None


def test_validation_rules() -> None:
    run, errors = validate_run("", "", {"extra_beds": " 1,000 "}, "", "", "", FIELDS)
    assert run is None and errors[0].message == "Extra G&A beds per site must be between 0 and 200"
    run, errors = validate_run("", "", {"extra_beds": "1.5"}, "", "", "", FIELDS)
    assert errors[0].message == "Extra G&A beds per site must be a whole number"
    run, errors = validate_run("x" * 101, "", {}, "", "", "-1", FIELDS)
    assert {e.field for e in errors} == {"scenario-name", "seed"}
    run, errors = validate_run("", "", {"demand_growth": "0.10", "sdec_closes": "23:30"}, "", "", "", FIELDS)
    assert errors == [] and run is not None
    assert run.scenario.changes == {"demand_growth": 0.1, "sdec_closes": "23:30"}
    assert (run.reps, run.days, run.seed) == (5, 28, 42)
    assert run.scenario.name == "demand_growth 0.1, sdec_closes 23:30"
    run, _ = validate_run("", "", {"extra_beds": "0", "demand_growth": "0.0"}, "1", "1", "0", FIELDS)
    assert run is not None and run.scenario.changes == {} and run.scenario.name == "Baseline only"


def test_run_settings_limits_read_as_people_write_them() -> None:
    _, errors = validate_run("", "", {}, "", "1e9", "-1", FIELDS)
    assert [(e.field, e.message) for e in errors] == [
        ("days", "Days must be between 1 and 365"),
        ("seed", "Random seed must be between 0 and 4,294,967,295"),
    ]
    run, errors = validate_run("", "", {}, "2.0", "7.0", "", FIELDS)
    assert errors == [] and run is not None and (run.reps, run.days) == (2, 7)


def test_assessment_follows_the_direction() -> None:
    assert assessment(Interval(-5, -7, -3), False) == ("better", "Better")
    assert assessment(Interval(-5, -7, -3), True) == ("worse", "Worse")
    assert assessment(Interval(0.02, 0.01, 0.03), None) == ("higher", "Higher")
    assert assessment(Interval(1, math.nan, math.nan), True)[0] == "no-interval"
    assert format_difference(-0.031, "proportion") == "-3.1 percentage points"
    assert format_difference(12.0, "count") == "+12"


def test_chart_without_intervals_or_standards() -> None:
    t = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    nan = math.nan
    one = StandardComparison("ed-4hr", "4-hour performance", "proportion", True, Interval(0.7, nan, nan),
                             Interval(0.7, nan, nan), Interval(0.0, nan, nan))
    svg, desc = comparison_svg(Comparison(Scenario("s"), 1, 1, 1.0, t, t, (one,)))
    assert svg is not None and 'nan"' not in svg.lower() and "<line x1=" in svg
    assert "1 replication of 1 day," in desc and "baseline 70.0%, scenario 70.0%" in desc
    assert comparison_svg(Comparison(Scenario("s"), 1, 1, 1.0, t, t, ())) == (
        None, "No standards were computed for this run.")


@pytest.mark.slow
def test_a_real_run_of_the_whole_system_model(empty_store: str) -> None:
    # No fakes: the page's defaults are the whole-system model's fields and run_scenario (2 days, 2 reps).
    from uec.system.scenario import CHANGE_FIELDS

    with TestClient(signed_in(create_app(empty_store))) as c:
        fields = c.get("/api/scenarios/fields").json()
        assert [f["name"] for f in fields] == [f.name for f in CHANGE_FIELDS]
        url = submit(c, **{"scenario-name": "Two more crews", "change-extra_crews": "2", "reps": "2", "days": "2",
                           "seed": "11"})
        run = wait_done(c, url)
        assert run["status"] == "done", run.get("error")
        assert run["changes"][0]["name"] == "extra_crews" and run["reps"] == 2 and run["days"] == 2
        ids = {s["standard_id"] for s in run["standards"]}
        assert {"ed-4hr", "amb-c2-mean"} <= ids
        for s in run["standards"]:
            assert s["baseline"]["mean"] is None or s["baseline"]["display"]
        page = flat(c.get(url).text)
        assert 'id="comparison-table"' in page and "svg" in page
    stored = list_runs(open_store(empty_store))
    assert [r.name for r in stored] == ["Two more crews"] and stored[0].standards == len(run["standards"])


# --- who started it: the audit trail -------------------------------------------------------------


def test_starting_a_run_writes_an_audit_entry_naming_who(client: TestClient, empty_store: str) -> None:
    from uec.access import audit

    url = submit(client, **{"change-extra_beds": "10", "scenario-name": "Ten beds"})
    run_id = url.rsplit("/", 1)[1]
    r = client.post("/api/scenarios/runs", json={"changes": {"extra_beds": 5}, "reps": 2})
    assert r.status_code == 202
    # Read once both runs are saved: the embedded store is not opened by two configurations at once.
    wait_done(client, url)
    wait_done(client, r.json()["url"])
    # Queued and audited in one transaction of the store that keeps the jobs (the embedded store's
    # companion file has its own trail); the saved run is audited in the store, by the job.
    trails = dict(audit.trails(open_store(empty_store)))
    entries = [e for e in audit.entries(trails["jobs"], newest_first=False) if e.action == "job.submit"]
    assert [(e.actor, e.organisation, e.object_type) for e in entries] == [
        ("test-analyst", "QXX", "job"), ("test-analyst", "QXX", "job")]
    assert entries[0].object_id == run_id and '"extra_beds":10' in (entries[0].after or "")
    assert entries[1].object_id == r.json()["url"].rsplit("/", 1)[1]
    saved = [e for e in audit.entries(trails["store"], newest_first=False) if e.action == "scenario.save"]
    assert [(e.actor, e.object_id) for e in saved] == [(f"job:{e.object_id}", e.object_id) for e in entries]
    assert all(v.ok for v in audit.verify_all(open_store(empty_store)).values())


def test_a_run_whose_audit_entry_fails_is_not_queued(
    model: FakeModel, empty_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from uec.access import audit

    model.gate = threading.Event()
    with TestClient(signed_in(create_app(empty_store)), raise_server_exceptions=False) as c:
        first = submit(c, **{"change-extra_beds": "1"})  # holds the queue's one worker

        def broken(*args: Any, **kwargs: Any) -> None:
            raise RuntimeError("the audit log is unwritable")

        monkeypatch.setattr(audit, "record", broken)
        r = c.post("/api/scenarios/runs", json={"changes": {"extra_beds": 5}})
        assert r.status_code == 500
        jobs = scenario_jobs.list_jobs(open_store(empty_store), kind="scenario_run")
        assert [j.state for j in jobs] == ["running"]  # the job and its entry commit together or not at all
        monkeypatch.undo()
        model.gate.set()
        assert wait_done(c, first)["status"] == "done"
    assert len(model.calls) == 1


def test_a_viewer_may_read_runs_but_not_start_one(model: FakeModel, empty_store: str) -> None:
    from uec.access import User

    viewer = User("viv", "Viv", "QXX", frozenset({"viewer"}))
    with TestClient(signed_in(create_app(empty_store), viewer)) as c:
        assert c.get("/api/scenarios/runs").status_code == 200
        r = c.post("/api/scenarios/runs", json={"changes": {"extra_beds": 5}})
        assert r.status_code == 403 and "analyst" in r.json()["detail"]
        page = c.post("/scenarios", data={"change-extra_beds": "5"})
        assert page.status_code == 403 and "You do not have access to this" in page.text
    with TestClient(signed_in(create_app(empty_store), None)) as c:
        assert c.post("/api/scenarios/runs", json={"changes": {}}).status_code == 401
    assert model.calls == []
