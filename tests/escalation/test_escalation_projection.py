"""The projected level (issue 13 item 6) and trying an action (item 5) on a small demo ICS.

The demo store is ten days to 20 January 2025; its "now" is the last event, just before midnight.
The whole-system model runs 12 hours forward from there, three replications each way, seed 1.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from uec.demo import build_demo
from uec.errors import UecError
from uec.escalation.projection import LEVELS, Projection, project, projection_instants
from uec.escalation.tryit import TryIt, try_action
from uec.store import Store, open_store
from uec.system import current_state
from uec.system.state import state_with_changes


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Store:
    store = open_store(str(Path(tmp_path_factory.mktemp("projection")) / "uec.duckdb"))
    build_demo(store, seed=7, days=10, end=dt.date(2025, 1, 20))
    return store


@pytest.fixture(scope="module")
def cut_beds(demo: Store) -> TryIt:
    return try_action(demo, "DEMO-A", {"extra_beds": -200}, hours=12, step_hours=4, reps=3, seed=1)


def test_cutting_beds_raises_the_projected_level(cut_beds: TryIt) -> None:
    """Done-when: 200 fewer core beds at every acute site from now raises DEMO-A's projected level."""
    rows = cut_beds.rows()
    assert [r["at"][11:16] for r in rows] == ["03:59", "07:59", "11:59"]  # every 4 hours from 23:59 GMT
    # The score rises at every instant after the first, and by the end the paired interval is above 0.
    assert all(r["score_difference"] > 0 for r in rows[1:])
    assert rows[-1]["difference_low"] > 0
    # The chance of a higher level than now within the horizon goes from none to most replications.
    d = cut_beds.as_dict()
    assert d["rise_without"]["probability"] < d["rise_with"]["probability"]
    assert d["rise_with"]["level"] == 2
    # Expected level: higher with the cut at some instant, never lower.
    def expected(r: dict[str, float], way: str) -> float:
        return sum(lv * r[f"p_opel{lv}_{way}"] for lv in (1, 2, 3, 4))
    assert max(expected(r, "with") - expected(r, "without") for r in rows) > 0
    # The parameters say why: G&A occupancy is higher with fewer beds, from the first instant (the
    # cut is a census at the start) to the model's own census at 08:00.
    occ = [p for p in cut_beds.parameter_rows() if p["parameter"] == "acute-ga-occupancy"]
    assert all(p["difference"] > 0.05 and p["difference_low"] > 0 for p in occ)


def test_a_projection_gives_each_level_a_probability(demo: Store, cut_beds: TryIt) -> None:
    p = cut_beds.without
    assert p.reps == 3 and len(p.instants) == 3
    assert p.instants[0] == p.as_of + dt.timedelta(hours=4)
    for (kind, code), u in p.units.items():
        for k in range(len(p.instants)):
            probs = p.at_level(code, k, kind)
            assert set(probs) == set(LEVELS) and sum(probs.values()) == pytest.approx(1.0)
            assert len(u.levels[k]) == 3
    kinds = {k for k, _ in p.units}
    assert kinds == {"ics", "pillar", "org", "site"}
    rows = p.rows()
    assert rows[0]["kind"] == "ics" and {"p_opel1", "p_opel4", "p_no_score", "score_low"} <= set(rows[0])
    # Without a change, the baseline is the same run whichever way it was asked for (same seeds).
    again = project(demo, hours=12, step_hours=4, reps=3, seed=1, as_of=p.as_of)
    assert again.unit("DEMO-A").scores == p.unit("DEMO-A").scores


def test_bed_changes_are_made_to_the_census(demo: Store) -> None:
    state = current_state(demo)
    changed = state_with_changes(state, {"extra_beds": -200, "extra_escalation_beds": 10})
    before = {(b.site_code, b.bed_type): b.beds_open for s in state.sites for b in s.beds}
    after = {(b.site_code, b.bed_type): b.beds_open for s in changed.sites for b in s.beds}
    assert after[("DEMO-A01", "g_and_a")] == before[("DEMO-A01", "g_and_a")] - 200
    assert after[("DEMO-A01", "g_and_a_escalation")] == before.get(("DEMO-A01", "g_and_a_escalation"), 0) + 10


def test_bounds_and_unknown_organisations(demo: Store) -> None:
    at = dt.datetime(2025, 1, 20, 12, tzinfo=dt.UTC)
    with pytest.raises(UecError, match="hours must be from 1 to 72"):
        projection_instants(at, 96, 4)
    with pytest.raises(UecError, match="reps must be from 1 to 50"):
        project(demo, reps=500)
    with pytest.raises(UecError, match="unknown change"):
        try_action(demo, "DEMO-A", {"more_beds": 3})
    with pytest.raises(UecError, match="no projection for 'NOPE'"):
        try_action(demo, "NOPE", {"extra_crews": 2}, hours=4, reps=1)


def uec(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "uec", "escalation", *args], capture_output=True, text=True,
                          timeout=300)


def test_the_command_line(demo: Store) -> None:
    r = uec("project", "DEMO-A", "--hours", "4", "--reps", "1", "--store", demo.url, "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert [(row["code"], row["kind"]) for row in out["rows"]] == [("DEMO-A", "org")]
    assert out["hours"] == 4 and out["reps"] == 1 and set(out["rise"]) >= {"DEMO-A", "DEMO-ICB"}
    for args, message in [
        (("project",), "error: give an organisation's code or --system (the ICS as a whole), not both or neither"),
        (("project", "--system", "--hours", "96"), "error: hours must be from 1 to 72, got 96"),
        (("project", "NOPE"),
         "error: unknown organisation 'NOPE' (known: DEMO-A, DEMO-B, DEMO-C, DEMO-CHS, DEMO-IUC, DEMO-MH; "),
        (("try", "NOPE", "--change", "extra_crews=2"), "error: unknown organisation 'NOPE'"),
        (("try", "DEMO-A", "--card", "acute-2-huddle"), "error: action card 'acute-2-huddle' names no scenario change"),
        (("try", "DEMO-A", "--change", "extra_beds"), "error: --change 'extra_beds': write name=value"),
        (("try", "DEMO-A"), "error: give --card or at least one --change"),
    ]:
        r = uec(*args, "--store", demo.url)
        assert r.returncode == 2 and r.stderr.strip().splitlines()[-1].startswith(message), (args, r.stderr)


def test_the_past_a_projection_starts_from_on_both_stores(store: Store) -> None:
    """What a projection takes from the real store at 14:00 on the spec's day: events over by then."""
    from escalation_fixtures import AT, events, reference, returns

    from uec.escalation.projection import past_tables

    reference(store)
    events(store)
    returns(store)
    past = past_tables(store, AT.astimezone(dt.UTC))
    # Departed by 14:00 within 48 hours: a1-a5 (a6, a9, a10 are still in; a7, a8 leave later).
    assert sorted(past["attendances"].column("attendance_id").to_pylist()) == ["a1", "a2", "a3", "a4", "a5"]
    # Handed over by 14:00 (i4 is at 14:30).
    assert sorted(past["ambulance_incidents"].column("incident_id").to_pylist()) == ["i1", "i2", "i3", "i5", "i6"]
    # Censuses up to 14:00 (not H1's 16:00); UCR first visits up to 14:00 (not r4's 15:00).
    assert past["bed_states"].num_rows == 4
    assert sorted(past["ucr_referrals"].column("referral_id").to_pylist()) == ["r1", "r2", "r3"]
    assert "spells" not in past  # every patient in a bed at the start is in the simulation
    assert past["organisations"].num_rows == 6 and past["sites"].num_rows == 3
    assert past["returns"].num_rows > 0 and set(past["returns"].column("source").to_pylist()) == {"opel"}


def test_a_higher_demand_forecast_raises_the_projected_score(demo: Store, tmp_path: Path) -> None:
    """Item 6: the stored forecast drives the start-from-now simulation's arrival rates.

    A seasonal naive forecast repeats the week before, which is also the usual the forecast is
    compared with (the store holds one week before the start), so it runs the model at x 1.00; the
    same forecast made twice as high runs it at x 2.00, and on the same seeds DEMO-A's, the acute
    pillar's and the ICS's projected scores are higher a day on. (Scores move in steps of a few
    points and a replication's noise is as large: 60% more demand over 12 hours on 3 replications
    was not enough to show through it once the ICS gained its mental health and 111 pillars.)
    """
    import shutil

    from uec.escalation.demand import demand_forecast
    from uec.forecast.runs import forecast_store_series
    from uec.forecast.series import available_series

    copy = tmp_path / "forecast.duckdb"
    shutil.copyfile(demo.url, copy)
    store = open_store(str(copy))
    assert project(store, hours=1, step_hours=1, reps=1).demand.source == "simulation"  # type: ignore[union-attr]
    ids = [s.series_id for s in available_series(store) if s.series_id.startswith("arrivals/")]
    forecast_store_series(store, ids, model="snaive", horizon=24, backtest_origins=0)
    start = current_state(store).as_of
    usual = demand_forecast(store, start, 12)
    assert usual.source == "forecast" and usual.ratio == pytest.approx(1.0, abs=0.02)
    assert usual.hours_covered == 12 and set(usual.series) == set(ids)
    with store.write() as w:
        w.execute("UPDATE forecast_values SET mean = mean * 2.0")
    busy = demand_forecast(store, start, 12)
    assert busy.ratio == pytest.approx(2.0 * usual.ratio, rel=1e-6) and "arrival rates x 2.00" in busy.note
    normal = project(store, hours=24, step_hours=6, reps=6, seed=1, use_forecasts=False)
    higher = project(store, hours=24, step_hours=6, reps=6, seed=1)
    assert higher.demand is not None and higher.demand.source == "forecast"
    assert higher.as_dict()["demand"]["ratio"] == pytest.approx(busy.ratio, abs=1e-4)

    def mean_score(p: Projection, kind: str) -> float:
        code = {"org": "DEMO-A", "pillar": "acute"}.get(kind) or next(c for k, c in p.units if k == "ics")
        scores = p.unit(code, kind).scores[-1]
        return sum(s for s in scores if s is not None) / len(scores)

    assert mean_score(higher, "org") > mean_score(normal, "org")
    assert mean_score(higher, "pillar") > mean_score(normal, "pillar")
    assert mean_score(higher, "ics") > mean_score(normal, "ics")
