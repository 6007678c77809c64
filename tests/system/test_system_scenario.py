"""Scenarios as data, the comparison, parallel runs that match serial ones, and ``uec simulate``."""

from __future__ import annotations

import dataclasses
import json
import math
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from typer.testing import CliRunner

from uec.cli import app
from uec.errors import UecError
from uec.system.params import demo_params
from uec.system.scenario import (
    CHANGE_FIELDS,
    apply_changes,
    baseline_params,
    load_scenario,
    parse_scenario,
    run_replications_system,
    run_scenario,
    scenario_dir,
)
from uec.system.types import Scenario

runner = CliRunner()


def test_every_shipped_example_loads_and_applies() -> None:
    names = sorted(p.stem for p in scenario_dir().glob("*.yaml"))
    assert names == ["baseline", "divert-c34-to-ucr", "faster-discharge-readiness", "more-p1-homecare",
                     "plus-20-beds", "sdec-to-midnight", "two-more-crews"]
    for name in names:
        s = load_scenario(scenario_dir() / f"{name}.yaml")
        assert s.name == name and s.baseline is None
        apply_changes(baseline_params(s), s.changes)


def test_changes_reach_the_parameters() -> None:
    p = demo_params()
    changed = apply_changes(p, {"extra_beds": 20, "extra_crews": 2, "sdec_closes": "00:00", "extra_p1_packages": 40,
                                "demand_growth": 0.05, "divert_c34_to_ucr": 0.2, "extra_ed_spaces": 3,
                                "extra_weekend_discharge": 2, "extra_decision_makers": 1, "extra_ucr_teams": 2,
                                "faster_discharge_readiness": 0.25})
    assert [s.core_beds for s in changed.sites] == [s.core_beds + 20 for s in p.sites]
    assert changed.extra_crews == 2 and changed.sdec_closes == "00:00" and changed.p1_packages == p.p1_packages + 40
    assert changed.demand_growth == 0.05 and changed.divert_c34_to_ucr == 0.2 and changed.ucr_teams == p.ucr_teams + 2
    assert changed.sites[0].ed_spaces == p.sites[0].ed_spaces + 3
    assert changed.sites[0].discharge_weekend == p.sites[0].discharge_weekend + 2
    assert changed.sites[0].decision_makers["10:00"] == p.sites[0].decision_makers["10:00"] + 1
    assert changed.nctr_ready_days == pytest.approx([d * 0.75 for d in p.nctr_ready_days])
    # Every change field has a default equal to the baseline (no change) and a label.
    for f in CHANGE_FIELDS:
        assert f.label and f.unit
        assert apply_changes(p, {f.name: f.default}) == p, f.name


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([1, 2], "must be a mapping"),
        ({"changes": {}}, "needs a name"),
        ({"name": "x", "chnages": {}}, "unknown key 'chnages'"),
        ({"name": "x", "changes": {"more_beds": 1}}, "unknown change 'more_beds'; known changes: extra_beds"),
        ({"name": "x", "changes": {"extra_beds": "ten"}}, "extra_beds must be a number"),
        ({"name": "x", "changes": {"extra_beds": 2.5}}, "extra_beds must be a whole number"),
        ({"name": "x", "changes": {"extra_beds": 10_000}}, "extra_beds must be between -300 and 500"),
        ({"name": "x", "changes": {"divert_c34_to_ucr": 1.5}}, "divert_c34_to_ucr must be between 0 and 1"),
        ({"name": "x", "changes": {"sdec_closes": "9pm"}}, "sdec_closes must be a time HH:MM"),
        ({"name": "x", "changes": {"extra_crews": True}}, "extra_crews must be a number"),
        ({"name": "x", "changes": [1]}, "changes must be a mapping"),
        ({"name": "x", "baseline": 3}, "baseline must be 'demo'"),
    ],
)
def test_scenario_mistakes_are_one_line_errors(data: object, message: str) -> None:
    with pytest.raises(UecError, match=message.replace("(", r"\(")):
        parse_scenario(data)


def test_scenario_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n", encoding="utf-8")
    with pytest.raises(UecError, match="not valid YAML"):
        load_scenario(bad)
    with pytest.raises(UecError, match=r"no scenario file 'nope\.yaml'; give a YAML file or one of: baseline"):
        load_scenario("nope.yaml")
    # A baseline named by a relative path builds on that scenario's changes.
    (tmp_path / "base.yaml").write_text("name: base\nchanges: {extra_beds: 10}\n", encoding="utf-8")
    (tmp_path / "more.yaml").write_text("name: more\nbaseline: base.yaml\nchanges: {extra_beds: 5}\n",
                                        encoding="utf-8")
    s = load_scenario(tmp_path / "more.yaml")
    base = baseline_params(s)
    assert base.sites[0].core_beds == demo_params().sites[0].core_beds + 10
    assert apply_changes(base, s.changes).sites[0].core_beds == demo_params().sites[0].core_beds + 15
    (tmp_path / "a.yaml").write_text("name: a\nbaseline: b.yaml\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("name: b\nbaseline: a.yaml\n", encoding="utf-8")
    with pytest.raises(UecError, match="in a circle"):
        baseline_params(load_scenario(tmp_path / "a.yaml"))


def _tiny() -> object:
    return dataclasses.replace(demo_params(), warmup_days=3)


def _same(a: list[dict[str, float]], b: list[dict[str, float]]) -> bool:
    return all(
        x.keys() == y.keys() and all((math.isnan(x[k]) and math.isnan(y[k])) or x[k] == y[k] for k in x)
        for x, y in zip(a, b, strict=True)
    )


@pytest.mark.slow
def test_serial_process_pool_and_dask_give_identical_results() -> None:
    from distributed import Client, LocalCluster

    p = _tiny()
    serial = run_replications_system(p, reps=3, seed=99, days=2)  # type: ignore[arg-type]
    assert not _same(serial[:1], serial[1:2])  # replications differ from each other
    with ProcessPoolExecutor(max_workers=2) as pool:
        pooled = run_replications_system(p, reps=3, seed=99, days=2, executor=pool)  # type: ignore[arg-type]
    assert _same(serial, pooled)
    # dask publishes no type information: its constructors are untyped calls.
    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1,  # type: ignore[no-untyped-call]
                      dashboard_address=None) as cluster, \
            Client(cluster) as client:  # type: ignore[no-untyped-call]
        dasked = run_replications_system(p, reps=3, seed=99, days=2, executor=client)  # type: ignore[arg-type]
    assert _same(serial, dasked)


def test_progress_reports_replications_done() -> None:
    seen: list[tuple[int, int]] = []
    run_replications_system(_tiny(), reps=2, seed=1, days=1, progress=lambda d, t: seen.append((d, t)))  # type: ignore[arg-type]
    assert seen == [(0, 2), (1, 2), (2, 2)]


def test_run_scenario_compares_with_intervals() -> None:
    s = Scenario(name="crews", changes={"extra_crews": 6})
    c = run_scenario(s, reps=2, seed=7, days=2)
    assert c.scenario == s and c.reps == 2 and c.seed == 7 and c.days == 2.0
    rows = {r.standard_id: r for r in c.standards}
    c2 = rows["amb-c2-mean"]
    assert c2.higher_is_better is False and c2.unit == "minutes"
    assert c2.baseline.low <= c2.baseline.mean <= c2.baseline.high
    assert c2.difference.mean == pytest.approx(c2.scenario.mean - c2.baseline.mean)
    assert c2.difference.mean < 0  # six more crews on every shift: faster responses
    assert rows["ed-4hr"].higher_is_better is True


def test_cli_simulate_text_json_and_saved_run(tmp_path: Path) -> None:
    scenario = tmp_path / "crews.yaml"
    scenario.write_text("name: crews\ndescription: more crews\nchanges: {extra_crews: 4}\n", encoding="utf-8")
    store = tmp_path / "uec.duckdb"
    result = runner.invoke(app, ["simulate", str(scenario), "--reps", "2", "--days", "1", "--seed", "5",
                                 "--processes", "1", "--store", str(store)])
    assert result.exit_code == 0, result.output
    assert "amb-c2-mean" in result.output and "(95% CI)" in result.output
    assert "saved as run" in result.output
    result = runner.invoke(app, ["simulate", str(scenario), "--reps", "2", "--days", "1", "--seed", "5",
                                 "--processes", "1", "--json", "--no-save"])
    assert result.exit_code == 0, result.output
    obj = json.loads(result.output.strip().splitlines()[-1])
    assert obj["scenario"]["changes"] == {"extra_crews": 4} and obj["reps"] == 2 and obj["run_id"] is None
    row = next(r for r in obj["standards"] if r["standard"] == "amb-c2-mean")
    assert set(row) == {"standard", "title", "unit", "higher_is_better", "baseline", "scenario", "difference"}
    assert set(row["difference"]) == {"mean", "low", "high"}
    from uec.store import open_store
    from uec.system.runs import list_runs

    assert [r.name for r in list_runs(open_store(str(store)))] == ["crews"]


def test_cli_simulate_mistakes_are_one_line_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nchanges: {extra_bedz: 1}\n", encoding="utf-8")
    result = runner.invoke(app, ["simulate", str(bad), "--reps", "2"])
    assert result.exit_code != 0
    assert isinstance(result.exception, UecError) and "unknown change 'extra_bedz'" in str(result.exception)
    result = runner.invoke(app, ["simulate", "plus-20-beds", "--reps", "0"])
    assert isinstance(result.exception, UecError) and "--reps" in str(result.exception)


def test_intervals_of_simulated_standards_stay_inside_what_their_unit_allows() -> None:
    # A count that is 0 in most replications: a Student t interval would run below zero (issue 15:
    # "6.80 (-10.01 to 23.61)"); kept inside its range, the interval is asymmetric and starts at 0 or above.
    from uec.system.standards import bounds_of, interval

    counts = [0.0, 0.0, 0.0, 0.0, 34.0]
    plain, kept = interval(counts), interval(counts, bounds_of("count"))
    assert plain.low < 0 <= kept.low < kept.mean < kept.high and kept.mean == plain.mean
    shares = [1.0, 1.0, 0.99, 0.9]
    plain, kept = interval(shares), interval(shares, bounds_of("proportion"))
    assert plain.high > 1 >= kept.high and kept.low >= 0
    # An interval already inside its range is the plain one.
    assert interval([80.0, 82.0, 81.0], bounds_of("minutes")) == interval([80.0, 82.0, 81.0])


def test_cli_simulate_start_runs_the_demo_on_the_stores_own_days() -> None:
    # --start simulates the demo ICS's days from that date on its local clock (the days a demo store
    # holds), so a summer start and a winter start give different baselines from the same seed.
    def baseline(start: str) -> dict[str, float]:
        result = runner.invoke(app, ["simulate", "--start", start, "--reps", "1", "--days", "2", "--seed", "5",
                                     "--processes", "1", "--json", "--no-save"])
        assert result.exit_code == 0, result.output
        obj = json.loads(result.output.strip().splitlines()[-1])
        return {r["standard"]: r["baseline"]["mean"] for r in obj["standards"]}

    assert baseline("2025-01-06") != baseline("2025-07-07")
    for args, message in ((["--start", "soon"], "--start 'soon' is not a date"),
                          (["--start", "2025-01-06", "--estimate"], "--start is for the demo ICS's own days")):
        result = runner.invoke(app, ["simulate", "--reps", "1", "--no-save", *args])
        assert isinstance(result.exception, UecError) and message in str(result.exception), result.output
