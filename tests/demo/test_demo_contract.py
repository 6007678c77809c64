"""The demo obeys the event contract everywhere: every rule of contract.yaml, over all the data.

The rules are read from the contract itself, so a new rule is checked without changing this file.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from demo_stores import Built, autumn

from uec.contract import Field, Table, tables
from uec.demo import build_demo
from uec.errors import UecError
from uec.store import open_store

EVENT_TABLES = ("calls_111", "ambulance_incidents", "attendances", "spells", "bed_states", "ucr_referrals")

@pytest.fixture(scope="module")
def demo_autumn(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return autumn(tmp_path_factory)



def _one(built: Any, sql: str) -> Any:
    row = built.store.query(sql)[0]
    return next(iter(row.values()))


def _rules() -> list[tuple[Table, Field]]:
    return [(t, f) for t in tables() if t.name != "returns" for f in t.fields]


@pytest.mark.parametrize(("table", "field"), _rules(), ids=lambda x: getattr(x, "name", str(x)))
def test_every_field_rule_holds(demo_autumn: Built, table: Table, field: Field) -> None:
    t, f = table.name, field.name
    if field.required:
        assert _one(demo_autumn, f"SELECT count(*) FROM {t} WHERE {f} IS NULL") == 0, f"{t}.{f} required"
    if field.values is not None:
        found = {r["v"] for r in demo_autumn.store.query(f"SELECT DISTINCT {f} AS v FROM {t} WHERE {f} IS NOT NULL")}
        assert found <= set(field.values), f"{t}.{f}: {sorted(found - set(field.values))} not allowed"
    if field.min is not None:
        assert _one(demo_autumn, f"SELECT count(*) FROM {t} WHERE {f} < {field.min}") == 0, f"{t}.{f} < min"
    if field.max is not None:
        assert _one(demo_autumn, f"SELECT count(*) FROM {t} WHERE {f} > {field.max}") == 0, f"{t}.{f} > max"
    if field.not_before:
        bad = _one(demo_autumn, f"SELECT count(*) FROM {t} WHERE {f} < {field.not_before}")
        assert bad == 0, f"{t}.{f} before {field.not_before} in {bad} rows"


@pytest.mark.parametrize("table", [t for t in tables() if t.name != "returns"], ids=lambda t: t.name)
def test_keys_are_unique_and_tables_filled(demo_autumn: Built, table: Table) -> None:
    key = ", ".join(table.key)
    n = _one(demo_autumn, f"SELECT count(*) FROM {table.name}")
    distinct = _one(demo_autumn, f"SELECT count(*) FROM (SELECT DISTINCT {key} FROM {table.name})")
    assert n > 0
    assert distinct == n


def test_every_not_before_rule_was_checked() -> None:
    # Guards the parametrisation above: the contract has these ordering rules, and all are in scope.
    rules = {(t.name, f.name) for t, f in _rules() if f.not_before}
    assert ("attendances", "departure_time") in rules
    assert ("ambulance_incidents", "handover_time") in rules
    assert len(rules) >= 12


def test_links_point_at_rows_that_exist(demo_autumn: Built) -> None:
    checks = {
        "attendance incident": "SELECT count(*) FROM attendances a WHERE incident_id IS NOT NULL AND NOT EXISTS "
        "(SELECT 1 FROM ambulance_incidents i WHERE i.incident_id = a.incident_id)",
        "spell attendance": "SELECT count(*) FROM spells s WHERE attendance_id IS NOT NULL AND NOT EXISTS "
        "(SELECT 1 FROM attendances a WHERE a.attendance_id = s.attendance_id)",
        "site org": "SELECT count(*) FROM sites s WHERE NOT EXISTS "
        "(SELECT 1 FROM organisations o WHERE o.org_code = s.org_code)",
        "service site": "SELECT count(*) FROM services v WHERE NOT EXISTS "
        "(SELECT 1 FROM sites s WHERE s.site_code = v.site_code)",
        "attendance site": "SELECT count(*) FROM attendances a WHERE NOT EXISTS "
        "(SELECT 1 FROM sites s WHERE s.site_code = a.site_code)",
        "destination site": "SELECT count(*) FROM ambulance_incidents i WHERE destination_site IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM sites s WHERE s.site_code = i.destination_site)",
        "event org": "SELECT count(*) FROM (SELECT org_code FROM calls_111 "
        "UNION SELECT org_code FROM ambulance_incidents "
        "UNION SELECT org_code FROM ucr_referrals) e WHERE NOT EXISTS "
        "(SELECT 1 FROM organisations o WHERE o.org_code = e.org_code)",
    }
    for name, sql in checks.items():
        assert _one(demo_autumn, sql) == 0, name


def test_clocks_run_in_a_sensible_order(demo_autumn: Built) -> None:
    # Orderings the contract does not spell out but any real record would show.
    checks = {
        "seen before initial assessment": "SELECT count(*) FROM attendances WHERE seen_time < initial_assessment_time",
        "left before being seen": "SELECT count(*) FROM attendances WHERE departure_time < seen_time",
        "left before ready": "SELECT count(*) FROM attendances WHERE departure_time < clinically_ready_time",
        "admitted before decision": "SELECT count(*) FROM attendances WHERE departure_time < decision_to_admit_time",
        "decision without admission": "SELECT count(*) FROM attendances WHERE (decision_to_admit_time IS NULL) "
        "<> (disposal <> 'admitted')",
        "on scene before allocation": "SELECT count(*) FROM ambulance_incidents WHERE on_scene_time < allocated_time",
        "at hospital before on scene": "SELECT count(*) FROM ambulance_incidents "
        "WHERE hospital_arrival_time < on_scene_time",
        "clear before handover": "SELECT count(*) FROM ambulance_incidents WHERE clear_time < handover_time",
        "conveyed without arrival": "SELECT count(*) FROM ambulance_incidents WHERE outcome LIKE 'conveyed%' "
        "AND hospital_arrival_time IS NULL",
        "hear and treat sent a vehicle": "SELECT count(*) FROM ambulance_incidents WHERE outcome = 'hear_and_treat' "
        "AND (on_scene_time IS NOT NULL OR category <> 'C5')",
        "ED ambulance arrival not at hospital arrival": "SELECT count(*) FROM attendances a "
        "JOIN ambulance_incidents i USING (incident_id) "
        "WHERE a.arrival_time <> i.hospital_arrival_time OR a.site_code <> i.destination_site",
        "incident linked to a non-ambulance arrival": "SELECT count(*) FROM attendances "
        "WHERE incident_id IS NOT NULL AND arrival_mode <> 'ambulance'",
        "discharge before criteria end": "SELECT count(*) FROM spells "
        "WHERE discharge_time < criteria_to_reside_end_time",
        "admitted before arriving": "SELECT count(*) FROM spells s JOIN attendances a USING (attendance_id) "
        "WHERE s.admission_time < a.departure_time",
        "spell for a non-admitted attendance": "SELECT count(*) FROM spells s JOIN attendances a USING (attendance_id) "
        "WHERE a.disposal <> 'admitted'",
        "pathway without discharge": "SELECT count(*) FROM spells WHERE discharge_pathway IS NOT NULL "
        "AND discharge_time IS NULL",
        "death with a pathway": "SELECT count(*) FROM spells WHERE discharge_destination = 'died' "
        "AND discharge_pathway IS NOT NULL",
        "core beds over-occupied": "SELECT count(*) FROM bed_states "
        "WHERE bed_type = 'g_and_a' AND beds_occupied > beds_open",
    }
    for name, sql in checks.items():
        assert _one(demo_autumn, sql) == 0, name


def test_bed_states_are_the_spells_in_bed(demo_autumn: Built) -> None:
    # The census is derived from spells: count them back at every snapshot and compare.
    rows = demo_autumn.store.query(
        """WITH census AS (
             SELECT b.site_code, b.snapshot_time, sum(b.beds_occupied) AS occupied
             FROM bed_states b GROUP BY ALL),
           counted AS (
             SELECT c.site_code, c.snapshot_time, count(s.spell_id) AS in_bed
             FROM census c LEFT JOIN spells s ON s.site_code = c.site_code
               AND s.admission_time <= c.snapshot_time
               AND (s.discharge_time IS NULL OR s.discharge_time > c.snapshot_time)
             GROUP BY ALL)
           SELECT count(*) AS n, sum(CASE WHEN occupied <> in_bed THEN 1 ELSE 0 END) AS wrong
           FROM census JOIN counted USING (site_code, snapshot_time)"""
    )[0]
    assert rows["n"] == 3 * 60
    assert rows["wrong"] == 0


def test_window_and_extract_time(demo_autumn: Built) -> None:
    start = dt.datetime(2024, 9, 26, tzinfo=dt.UTC) - dt.timedelta(hours=1)  # local midnight in BST
    end = dt.datetime(2024, 11, 25, tzinfo=dt.UTC)  # local midnight in GMT
    for t in EVENT_TABLES:
        if t == "spells":
            continue
        field = next(x.time_field for x in tables() if x.name == t)
        first, last = demo_autumn.store.query(f"SELECT min({field}) AS a, max({field}) AS b FROM {t}")[0].values()
        assert start <= first and last < end, t
    # No discharge is known after the extract time (midnight after the last day).
    assert _one(demo_autumn, f"SELECT count(*) FROM spells WHERE discharge_time >= '{end.isoformat()}'") == 0
    assert _one(demo_autumn, "SELECT count(*) FROM spells WHERE discharge_time IS NULL") > 0


def test_reference_data_describes_the_ics(demo_autumn: Built) -> None:
    s = demo_autumn.store
    types = {r["org_type"]: r["n"] for r in s.query("SELECT org_type, count(*) AS n FROM organisations GROUP BY 1")}
    assert types == {"ics": 1, "acute_trust": 3, "ambulance_trust": 1, "nhs111_provider": 1,
                     "community_provider": 1, "mental_health_provider": 1, "local_authority": 1}
    pop = _one(demo_autumn, "SELECT sum(population_served) FROM sites")
    assert 1_150_000 <= pop <= 1_250_000
    services = {r["service_type"]: r["n"]
                for r in s.query("SELECT service_type, count(*) AS n FROM services GROUP BY 1")}
    assert services["ed_type1"] == 3 and services["sdec"] == 3 and services["utc"] == 2
    assert services["acute_frailty"] == 1
    assert {"ucr", "home_care", "community_beds", "care_home", "ambulance", "nhs111"} <= set(services)
    hours = s.query("SELECT opens, closes FROM services WHERE service_type = 'utc'")
    assert all(h["opens"] == "08:00" and h["closes"] == "22:00" for h in hours)
    # Opening hours are kept: no arrival at a UTC or SDEC outside them (local time).
    outside = _one(demo_autumn, """SELECT count(*) FROM attendances a JOIN services v
        ON v.site_code = a.site_code AND v.service_type = a.service_type
        WHERE v.opens IS NOT NULL AND (
          strftime(timezone('Europe/London', a.arrival_time), '%H:%M') < v.opens
          OR strftime(timezone('Europe/London', a.arrival_time), '%H:%M') >= v.closes)""")
    assert outside == 0


def test_rows_carry_their_load(demo_autumn: Built) -> None:
    loads = demo_autumn.store.query("SELECT table_name, rows_loaded FROM loads WHERE kind = 'demo' ORDER BY load_id")
    assert {r["table_name"]: r["rows_loaded"] for r in loads} == demo_autumn.summary.rows
    assert _one(demo_autumn, "SELECT count(*) FROM attendances WHERE load_id IS NULL") == 0
    assert demo_autumn.store.counts() == {**demo_autumn.summary.rows, "returns": 0}


def test_refuses_a_store_with_data(demo_autumn: Built) -> None:
    with pytest.raises(UecError, match="already holds data"):
        build_demo(demo_autumn.store, days=1, end=dt.date(2024, 1, 1))


def test_rejects_no_days(tmp_path: Any) -> None:
    with pytest.raises(UecError, match="at least 1"):
        build_demo(open_store(str(tmp_path / "uec.duckdb")), days=0)


def test_progress_is_reported_in_order(demo_autumn: Built) -> None:
    fractions = [f for _, f in demo_autumn.progress]
    assert fractions == sorted(fractions)
    assert fractions[0] >= 0.0 and fractions[-1] == 1.0
    stages = [s for s, _ in demo_autumn.progress]
    assert "writing attendances" in stages and len(set(stages)) >= 10
