"""Every query the whole-system model makes of the store, in one place (the model's only SQL).

Three groups: the counts :mod:`uec.system.estimate` estimates parameters from, the patients present
at an instant that :mod:`uec.system.state` starts a projection from, and the tables
:mod:`uec.system.runs` keeps scenario runs in. Each function is one statement, valid on DuckDB and
PostgreSQL alike; it returns rows as dictionaries and leaves their meaning to its caller.

>>> import datetime as dt, tempfile, os
>>> from uec.store import open_store
>>> with tempfile.TemporaryDirectory() as d:
...     store = open_store(os.path.join(d, "uec.duckdb"))
...     event_span(store), latest_event_time(store), run_tables_exist(store)
((None, None), None, False)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

from uec.store import Store, StoreWriter

__all__ = [
    "RUNS_DDL",
    "ambulance_conveyances_by_age",
    "attendances_by_site",
    "bed_census_at",
    "beds_at_latest_census",
    "calls_by_disposition",
    "create_run_tables",
    "ed_patients_at",
    "event_span",
    "handovers_waiting_at",
    "incidents_by_category",
    "inpatients_at",
    "insert_run",
    "insert_run_standard",
    "latest_event_time",
    "run_exists",
    "run_row",
    "run_standard_rows",
    "run_summaries",
    "run_tables_exist",
    "site_names",
    "sites_offering",
    "spells_admitted",
    "spells_without_attendance",
]

Rows = list[dict[str, Any]]

# --- estimation: counts over a period [lo, hi) ---------------------------------------------------------

# The model's four age groups from the contract's age bands (-1: unknown).
_AGE_GROUP = """CASE WHEN age_band IN ('0-4', '5-17') THEN 0 WHEN age_band = '18-64' THEN 1
    WHEN age_band IN ('65-74', '75-84') THEN 2 WHEN age_band = '85+' THEN 3 ELSE -1 END"""


def event_span(store: Store) -> tuple[Any, Any]:
    """The first and last instants of the store's incidents and attendances (``None`` when empty)."""
    rows = store.query(
        "SELECT min(t) AS lo, max(t) AS hi FROM ("
        " SELECT call_time AS t FROM ambulance_incidents UNION ALL SELECT arrival_time FROM attendances) x")
    return rows[0]["lo"], rows[0]["hi"]


def calls_by_disposition(store: Store, lo: dt.datetime, hi: dt.datetime) -> Rows:
    """NHS 111 calls per disposition (``disposition``, ``n``)."""
    return store.query("SELECT disposition, count(*) AS n FROM calls_111 WHERE call_time >= :lo AND call_time < :hi"
                       " GROUP BY disposition", {"lo": lo, "hi": hi})


def incidents_by_category(store: Store, lo: dt.datetime, hi: dt.datetime) -> Rows:
    """999 incidents per category and outcome (``category``, ``outcome``, ``n``)."""
    return store.query("SELECT category, outcome, count(*) AS n FROM ambulance_incidents"
                       " WHERE call_time >= :lo AND call_time < :hi GROUP BY category, outcome", {"lo": lo, "hi": hi})


def attendances_by_site(store: Store, lo: dt.datetime, hi: dt.datetime) -> Rows:
    """Attendances per site, service type, age group ``g`` and arrival mode, with how many were admitted."""
    return store.query(f"SELECT site_code, service_type, {_AGE_GROUP} AS g, arrival_mode,"
                       " sum(CASE WHEN disposal = 'admitted' THEN 1 ELSE 0 END) AS admitted, count(*) AS n"
                       " FROM attendances WHERE arrival_time >= :lo AND arrival_time < :hi"
                       " GROUP BY site_code, service_type, g, arrival_mode", {"lo": lo, "hi": hi})


def ambulance_conveyances_by_age(store: Store, lo: dt.datetime, hi: dt.datetime) -> Rows:
    """Incidents conveyed to an ED per age group (``g``, ``n``)."""
    return store.query(f"SELECT {_AGE_GROUP} AS g, count(*) AS n FROM ambulance_incidents"
                       " WHERE call_time >= :lo AND call_time < :hi AND outcome = 'conveyed_ed' GROUP BY g",
                       {"lo": lo, "hi": hi})


def spells_admitted(store: Store, lo: dt.datetime, hi: dt.datetime) -> Rows:
    """Each spell admitted in the period: age group ``g``, ``admission_method``, seconds to the end of the
    criteria to reside ``s`` (``None`` if not yet), seconds to the end of the period ``c`` (the censoring
    time) and ``discharge_pathway``."""
    return store.query(f"SELECT {_AGE_GROUP} AS g, admission_method,"
                       " EXTRACT(EPOCH FROM criteria_to_reside_end_time) - EXTRACT(EPOCH FROM admission_time) AS s,"
                       " EXTRACT(EPOCH FROM CAST(:hi AS TIMESTAMP WITH TIME ZONE))"
                       " - EXTRACT(EPOCH FROM admission_time) AS c,"
                       " discharge_pathway FROM spells WHERE admission_time >= :lo AND admission_time < :hi",
                       {"lo": lo, "hi": hi})


def spells_without_attendance(store: Store, lo: dt.datetime, hi: dt.datetime) -> Rows:
    """Spells with no attendance (electives, direct admissions) per admission method."""
    return store.query("SELECT admission_method, count(*) AS n FROM spells s"
                       " WHERE admission_time >= :lo AND admission_time < :hi AND attendance_id IS NULL"
                       " GROUP BY admission_method", {"lo": lo, "hi": hi})


def beds_at_latest_census(store: Store) -> Rows:
    """Beds open by site and bed type at each site's latest census."""
    return store.query("SELECT site_code, bed_type, beds_open FROM bed_states b WHERE snapshot_time ="
                       " (SELECT max(snapshot_time) FROM bed_states c WHERE c.site_code = b.site_code)")


# --- the state at an instant ---------------------------------------------------------------------------


def latest_event_time(store: Store) -> Any:
    """The latest instant a record starts at (a call, an arrival, an admission, a census), or ``None``."""
    rows = store.query(
        "SELECT max(t) AS t FROM ("
        "SELECT max(call_time) AS t FROM calls_111 "
        "UNION ALL SELECT max(call_time) FROM ambulance_incidents "
        "UNION ALL SELECT max(referral_time) FROM ucr_referrals "
        "UNION ALL SELECT max(arrival_time) FROM attendances "
        "UNION ALL SELECT max(admission_time) FROM spells "
        "UNION ALL SELECT max(snapshot_time) FROM bed_states) x"
    )
    return rows[0]["t"]


def site_names(store: Store) -> dict[str, str]:
    """Every site's name by its code."""
    return {r["site_code"]: r["name"] for r in store.query("SELECT site_code, name FROM sites")}


def sites_offering(store: Store, service_types: Collection[str]) -> set[str]:
    """The codes of sites with a service of one of ``service_types``."""
    # Bound one by one: a list parameter is spelled differently on the two engines.
    names = {f"t{i}": t for i, t in enumerate(sorted(service_types))}
    if not names:
        return set()
    marks = ", ".join(f":{k}" for k in names)
    rows = store.query(f"SELECT DISTINCT site_code FROM services WHERE service_type IN ({marks})", names)
    return {r["site_code"] for r in rows}


def ed_patients_at(store: Store, as_of: dt.datetime, since: dt.datetime) -> Rows:
    """Attendances that arrived in ``(since, as_of]`` and had not left at ``as_of``; ``dta`` is the decision
    to admit if made by then."""
    return store.query(
        "SELECT attendance_id, site_code, service_type, arrival_time, arrival_mode, acuity, age_band, "
        "CASE WHEN decision_to_admit_time <= :as_of THEN decision_to_admit_time END AS dta "
        "FROM attendances WHERE arrival_time <= :as_of AND arrival_time > :since "
        "AND (departure_time IS NULL OR departure_time > :as_of) "
        "ORDER BY site_code, arrival_time, attendance_id", {"as_of": as_of, "since": since})


def inpatients_at(store: Store, as_of: dt.datetime) -> Rows:
    """Spells admitted by ``as_of`` and not discharged then; ``ctr`` is the end of the criteria to reside
    if it had come."""
    return store.query(
        "SELECT spell_id, site_code, admission_time, age_band, specialty_group, discharge_pathway, "
        "CASE WHEN criteria_to_reside_end_time <= :as_of THEN criteria_to_reside_end_time END AS ctr "
        "FROM spells WHERE admission_time <= :as_of AND (discharge_time IS NULL OR discharge_time > :as_of) "
        "ORDER BY site_code, admission_time, spell_id", {"as_of": as_of})


def handovers_waiting_at(store: Store, as_of: dt.datetime, since: dt.datetime) -> Rows:
    """Ambulances that reached a hospital in ``(since, as_of]`` and had not handed over at ``as_of``."""
    return store.query(
        "SELECT incident_id, destination_site, category, call_time, hospital_arrival_time "
        "FROM ambulance_incidents WHERE destination_site IS NOT NULL AND hospital_arrival_time <= :as_of "
        "AND hospital_arrival_time > :since AND (handover_time IS NULL OR handover_time > :as_of) "
        "ORDER BY destination_site, hospital_arrival_time, incident_id", {"as_of": as_of, "since": since})


def bed_census_at(store: Store, as_of: dt.datetime) -> Rows:
    """Each site's latest census at or before ``as_of``, beds open and occupied by bed type."""
    return store.query(
        "SELECT b.site_code, b.snapshot_time, b.bed_type, sum(b.beds_open) AS beds_open, "
        "sum(b.beds_occupied) AS beds_occupied FROM bed_states b JOIN ("
        "SELECT site_code, max(snapshot_time) AS t FROM bed_states WHERE snapshot_time <= :as_of "
        "GROUP BY site_code) m ON b.site_code = m.site_code AND b.snapshot_time = m.t "
        "GROUP BY b.site_code, b.snapshot_time, b.bed_type ORDER BY b.site_code, b.bed_type", {"as_of": as_of})


# --- stored scenario runs ------------------------------------------------------------------------------

#: The tables runs are kept in, valid on DuckDB and PostgreSQL alike.
RUNS_DDL: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS scenario_runs (
        run_id VARCHAR NOT NULL,
        scenario_name VARCHAR NOT NULL,
        description VARCHAR NOT NULL,
        baseline VARCHAR,
        changes VARCHAR NOT NULL,
        reps BIGINT NOT NULL,
        seed BIGINT NOT NULL,
        days DOUBLE PRECISION NOT NULL,
        started_at TIMESTAMP WITH TIME ZONE NOT NULL,
        finished_at TIMESTAMP WITH TIME ZONE NOT NULL,
        saved_at TIMESTAMP WITH TIME ZONE NOT NULL,
        UNIQUE (run_id)
    )""",
    """CREATE TABLE IF NOT EXISTS scenario_run_standards (
        run_id VARCHAR NOT NULL,
        position BIGINT NOT NULL,
        standard_id VARCHAR NOT NULL,
        title VARCHAR NOT NULL,
        unit VARCHAR NOT NULL,
        higher_is_better BOOLEAN,
        baseline_mean DOUBLE PRECISION,
        baseline_low DOUBLE PRECISION,
        baseline_high DOUBLE PRECISION,
        scenario_mean DOUBLE PRECISION,
        scenario_low DOUBLE PRECISION,
        scenario_high DOUBLE PRECISION,
        difference_mean DOUBLE PRECISION,
        difference_low DOUBLE PRECISION,
        difference_high DOUBLE PRECISION,
        UNIQUE (run_id, position)
    )""",
)


def run_tables_exist(store: Store) -> bool:
    """Whether the store has the run tables (made by the first save)."""
    rows = store.query(
        "SELECT count(*) AS n FROM information_schema.tables WHERE table_name IN "
        "('scenario_runs', 'scenario_run_standards')"
    )
    return int(rows[0]["n"]) >= 2


def create_run_tables(w: StoreWriter) -> None:
    """Make the run tables if they are missing (inside the writer's transaction)."""
    for ddl in RUNS_DDL:
        w.execute(ddl)


def run_exists(w: StoreWriter, run_id: str) -> bool:
    return bool(w.query("SELECT count(*) AS n FROM scenario_runs WHERE run_id = :run_id", {"run_id": run_id})[0]["n"])


def insert_run(w: StoreWriter, row: dict[str, Any]) -> None:
    """One ``scenario_runs`` row: run_id, name, description, baseline, changes, reps, seed, days,
    started_at, finished_at, saved_at."""
    w.execute(
        "INSERT INTO scenario_runs (run_id, scenario_name, description, baseline, changes, reps, seed, days, "
        "started_at, finished_at, saved_at) VALUES (:run_id, :name, :description, :baseline, :changes, :reps, "
        ":seed, :days, :started_at, :finished_at, :saved_at)", row)


def insert_run_standard(w: StoreWriter, row: dict[str, Any]) -> None:
    """One ``scenario_run_standards`` row: run_id, position, standard_id, title, unit, hib (higher is
    better), then bm/bl/bh, sm/sl/sh and dm/dl/dh (baseline, scenario, difference: mean, low, high)."""
    w.execute(
        "INSERT INTO scenario_run_standards (run_id, position, standard_id, title, unit, higher_is_better, "
        "baseline_mean, baseline_low, baseline_high, scenario_mean, scenario_low, scenario_high, "
        "difference_mean, difference_low, difference_high) VALUES (:run_id, :position, :standard_id, "
        ":title, :unit, :hib, :bm, :bl, :bh, :sm, :sl, :sh, :dm, :dl, :dh)", row)


def run_summaries(store: Store) -> Rows:
    """Every run, newest first, with its number of standards."""
    return store.query(
        "SELECT r.run_id, r.scenario_name, r.description, r.baseline, r.changes, r.reps, r.seed, r.days, "
        "r.started_at, r.finished_at, r.saved_at, "
        "(SELECT count(*) FROM scenario_run_standards s WHERE s.run_id = r.run_id) AS standards "
        "FROM scenario_runs r ORDER BY r.saved_at DESC, r.run_id DESC"
    )


def run_row(store: Store, run_id: str) -> dict[str, Any] | None:
    rows = store.query("SELECT * FROM scenario_runs WHERE run_id = :run_id", {"run_id": run_id})
    return rows[0] if rows else None


def run_standard_rows(store: Store, run_id: str) -> Rows:
    return store.query(
        "SELECT * FROM scenario_run_standards WHERE run_id = :run_id ORDER BY position", {"run_id": run_id})
