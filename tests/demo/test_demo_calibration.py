"""A year of the demo reproduces the published figures in calibration.yaml, within tolerance.

Each figure is measured again here with SQL on the store (not with the demo's own measuring code),
then compared with its target; the DemoSummary must agree with these independent measurements.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from demo_stores import Built, year

from uec.demo import calibration

TARGETS: dict[str, Any] = calibration()["targets"]
DAYS = 365
POPULATION = 1_200_000
PER_1000_MONTH = 30.4375 / DAYS / (POPULATION / 1000)
FOUR_HOURS = "departure_time - arrival_time <= INTERVAL 4 HOUR"
UTC = "timezone('UTC', {})"  # the calendar month as the demo's own measure reads it

# The figure each target is checked with: SQL returning one value `v`.
SQL: dict[str, str] = {
    "ed_type1_attendances_per_1000_month": f"SELECT count(*) * {PER_1000_MONTH} AS v FROM attendances "
    "WHERE service_type = 'ed_type1'",
    "minor_attendances_per_1000_month": f"SELECT count(*) * {PER_1000_MONTH} AS v FROM attendances "
    "WHERE service_type = 'utc'",
    "emergency_admissions_via_ae_per_1000_month": f"SELECT count(*) * {PER_1000_MONTH} AS v FROM attendances "
    "WHERE service_type IN ('ed_type1', 'utc') AND disposal = 'admitted'",
    "ed_type1_admission_share": "SELECT avg(CASE WHEN disposal = 'admitted' THEN 1 ELSE 0 END) AS v "
    "FROM attendances WHERE service_type = 'ed_type1'",
    "four_hour_type1": f"SELECT avg(CASE WHEN {FOUR_HOURS} THEN 1 ELSE 0 END) AS v FROM attendances "
    "WHERE service_type = 'ed_type1'",
    "four_hour_all_types": f"SELECT avg(CASE WHEN {FOUR_HOURS} THEN 1 ELSE 0 END) AS v FROM attendances "
    "WHERE service_type IN ('ed_type1', 'utc')",
    "ambulance_incidents_per_1000_month": f"SELECT count(*) * {PER_1000_MONTH} AS v FROM ambulance_incidents",
    "ambulance_hear_and_treat_share": "SELECT avg(CASE WHEN outcome = 'hear_and_treat' THEN 1 ELSE 0 END) AS v "
    "FROM ambulance_incidents",
    "ambulance_conveyed_ed_share": "SELECT avg(CASE WHEN outcome = 'conveyed_ed' THEN 1 ELSE 0 END) AS v "
    "FROM ambulance_incidents",
    **{f"ambulance_c{i}_share": f"SELECT avg(CASE WHEN category = 'C{i}' THEN 1 ELSE 0 END) AS v "
       "FROM ambulance_incidents WHERE category <> 'C5'" for i in range(1, 5)},
    **{f"ambulance_c{i}_mean_s": "SELECT avg(epoch(on_scene_time - call_time)) AS v FROM ambulance_incidents "
       f"WHERE category = 'C{i}' AND on_scene_time IS NOT NULL" for i in range(1, 5)},
    **{f"ambulance_c{i}_p90_s": "SELECT quantile_cont(epoch(on_scene_time - call_time), 0.9) AS v "
       f"FROM ambulance_incidents WHERE category = 'C{i}' AND on_scene_time IS NOT NULL" for i in range(1, 5)},
    **{f"handover_winter_{name}": f"SELECT {expr} AS v FROM (SELECT epoch(handover_time - hospital_arrival_time) / 60 "
       "AS m FROM ambulance_incidents WHERE handover_time IS NOT NULL AND hospital_arrival_time IS NOT NULL "
       f"AND month({UTC.format('hospital_arrival_time')}) IN (12, 1, 2))"
       for name, expr in (("mean_min", "avg(m)"), ("over_30_share", "avg(CASE WHEN m > 30 THEN 1 ELSE 0 END)"),
                          ("over_60_share", "avg(CASE WHEN m > 60 THEN 1 ELSE 0 END)"))},
    "g_and_a_occupancy_q4_minus_q2": f"""SELECT
        sum(beds_occupied) FILTER (WHERE month({UTC.format('snapshot_time')}) IN (1, 2, 3))
          / sum(beds_open) FILTER (WHERE month({UTC.format('snapshot_time')}) IN (1, 2, 3))
        - sum(beds_occupied) FILTER (WHERE month({UTC.format('snapshot_time')}) IN (7, 8, 9))
          / sum(beds_open) FILTER (WHERE month({UTC.format('snapshot_time')}) IN (7, 8, 9)) AS v FROM bed_states""",
    "twelve_hour_dta_waits_per_day": f"SELECT count(*) / {DAYS} AS v FROM attendances "
    "WHERE departure_time - decision_to_admit_time > INTERVAL 12 HOUR",
    "twelve_hour_from_arrival_type1_share": "SELECT avg(CASE WHEN departure_time - arrival_time > INTERVAL 12 HOUR "
    "THEN 1 ELSE 0 END) AS v FROM attendances WHERE service_type = 'ed_type1' AND departure_time IS NOT NULL",
    "g_and_a_beds_per_1000": f"SELECT sum(capacity) / {POPULATION / 1000} AS v FROM services "
    "WHERE service_type = 'g_and_a_beds' AND service_id LIKE '%-GA'",
    "g_and_a_occupancy": "SELECT sum(beds_occupied) / sum(beds_open) AS v FROM bed_states",
    # Patients in a bed at each 08:00 census whose criteria to reside had already ended.
    "nctr_daily": """SELECT avg(n) AS v FROM (
        SELECT b.snapshot_time, count(s.spell_id) AS n
        FROM (SELECT DISTINCT snapshot_time FROM bed_states) b
        LEFT JOIN spells s ON s.criteria_to_reside_end_time <= b.snapshot_time
          AND (s.discharge_time IS NULL OR s.discharge_time > b.snapshot_time)
        GROUP BY 1)""",
    "nctr_share_of_occupied": """SELECT (SELECT count(*) FROM bed_states b JOIN spells s
          ON s.criteria_to_reside_end_time <= b.snapshot_time AND s.site_code = b.site_code
          AND b.bed_type = 'g_and_a'
          AND (s.discharge_time IS NULL OR s.discharge_time > b.snapshot_time))
        / (SELECT sum(beds_occupied) FROM bed_states) AS v""",
    **{f"discharge_pathway_{k}_share": f"SELECT avg(CASE WHEN discharge_pathway = {k} THEN 1 ELSE 0 END) AS v "
       "FROM spells WHERE discharge_pathway IS NOT NULL" for k in range(4)},
    "ucr_within_2h_share": "SELECT avg(CASE WHEN first_visit_time - referral_time <= INTERVAL 2 HOUR "
    "THEN 1 ELSE 0 END) AS v FROM ucr_referrals WHERE first_visit_time IS NOT NULL",
    "mimic_ed_median_stay_admitted_h": "SELECT median(epoch(departure_time - arrival_time)) / 3600 AS v "
    "FROM attendances WHERE service_type = 'ed_type1' AND disposal = 'admitted'",
}

@pytest.fixture(scope="module")
def demo_year(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return year(tmp_path_factory)



@pytest.fixture(scope="module")
def measured(demo_year: Built) -> dict[str, float]:
    return {name: float(demo_year.store.query(sql)[0]["v"]) for name, sql in SQL.items()}


def test_every_target_has_a_check() -> None:
    assert set(SQL) == set(TARGETS)


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_target_is_reproduced(measured: dict[str, float], name: str) -> None:
    target = TARGETS[name]
    got = measured[name]
    assert abs(got - target["value"]) <= target["tol"], (
        f"{name}: demo gives {got:.4g}, target {target['value']} ± {target['tol']} ({target['derivation']})")


def test_summary_reports_the_same_figures(demo_year: Built, measured: dict[str, float]) -> None:
    by_name = {c.name: c for c in demo_year.summary.calibration}
    assert set(by_name) == set(TARGETS)
    for name, check in by_name.items():
        assert math.isclose(check.achieved, measured[name], rel_tol=2e-3, abs_tol=1e-6), name
        assert check.met
    assert demo_year.summary.targets_met == len(TARGETS)


def test_pathway_waits_grow_with_support_needed(demo_year: Built) -> None:
    rows = demo_year.store.query(
        """SELECT discharge_pathway AS p, avg(epoch(discharge_time - criteria_to_reside_end_time)) / 86400 AS d
           FROM spells WHERE discharge_pathway IS NOT NULL GROUP BY 1 ORDER BY 1""")
    waits = [r["d"] for r in rows]
    assert len(waits) == 4
    assert waits[0] < 1.0 < waits[1] < waits[2] < waits[3]


def test_scale_is_an_ics_of_1_2_million(demo_year: Built) -> None:
    s = demo_year.store
    assert s.query("SELECT sum(population_served) AS v FROM sites")[0]["v"] == POPULATION
    people = s.query("SELECT count(DISTINCT patient_key) AS v FROM attendances")[0]["v"]
    assert 150_000 < people < POPULATION
    # A patient's 111 call, ambulance and attendance share a key, so journeys can be followed.
    linked = s.query("""SELECT count(*) AS v FROM attendances a JOIN ambulance_incidents i USING (incident_id)
                        WHERE a.patient_key <> i.patient_key OR a.age_band <> i.age_band""")[0]["v"]
    assert linked == 0
    by111 = s.query("""SELECT avg(CASE WHEN EXISTS (SELECT 1 FROM calls_111 c WHERE c.patient_key = a.patient_key
                          AND c.call_time <= a.arrival_time AND c.call_time > a.arrival_time - INTERVAL 1 DAY)
                          THEN 1 ELSE 0 END) AS v FROM attendances a WHERE referred_by_111""")[0]["v"]
    assert by111 > 0.95
