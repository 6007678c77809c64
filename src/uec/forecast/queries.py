"""Every SQL statement of the forecasting capability (the tables' DDL is in :mod:`uec.forecast.schema`).

Portable SQL: each runs unchanged on DuckDB and PostgreSQL. Local days and hours use
``x AT TIME ZONE 'Europe/London'`` on a ``TIMESTAMP WITH TIME ZONE``, which both engines read as the
local wall-clock time. Table and column names come from this module's own lists, never from input.

>>> local_day("arrival_time")
"CAST((arrival_time AT TIME ZONE 'Europe/London') AS DATE)"
>>> sorted(EVENT_COUNTS)
['admissions', 'ambulance', 'discharges']
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from uec.store import Store

__all__ = [
    "ARRIVAL_SERVICES",
    "EVENT_COUNTS",
    "EventCounts",
    "ambulance_categories",
    "arrival_sites",
    "bed_census_sites",
    "beds_occupied_at_census",
    "beds_open_at",
    "daily_event_counts",
    "discharge_sites",
    "event_day_span",
    "hourly_arrival_counts",
    "last_spell_events",
    "local_day",
    "nctr_sites",
    "returns_series_keys",
    "returns_values",
    "run_freq",
    "run_rows",
    "run_tables_exist",
    "run_value_rows",
    "service_bed_capacity",
    "spell_sites",
    "spells_arrow",
    "successful_series_run_rows",
]

#: The services whose attendances make an ``arrivals`` series.
ARRIVAL_SERVICES = ("ed_type1", "ed_type2", "ed_type3", "ed_type4", "utc", "sdec")

_G_AND_A = "('g_and_a', 'g_and_a_escalation')"


def local_day(column: str) -> str:
    """The SQL for the local (Europe/London) date of a timestamp column."""
    return f"CAST(({column} AT TIME ZONE 'Europe/London') AS DATE)"


# --- which series exist --------------------------------------------------------------------------


def arrival_sites(store: Store) -> list[dict[str, Any]]:
    """``{site_code, service_type}`` of every site and service with arrivals."""
    services = ", ".join(f"'{s}'" for s in ARRIVAL_SERVICES)
    return store.query(f"SELECT DISTINCT site_code, service_type FROM attendances WHERE service_type IN ({services})")


def ambulance_categories(store: Store) -> list[dict[str, Any]]:
    """``{category}`` of every response category with incidents."""
    return store.query("SELECT DISTINCT category FROM ambulance_incidents")


def spell_sites(store: Store) -> list[dict[str, Any]]:
    """``{site_code, admission_method}`` of every site with spells."""
    return store.query("SELECT DISTINCT site_code, admission_method FROM spells")


def nctr_sites(store: Store) -> list[dict[str, Any]]:
    """``{site_code}`` of every site with a spell that stopped meeting the criteria to reside."""
    return store.query("SELECT DISTINCT site_code FROM spells WHERE criteria_to_reside_end_time IS NOT NULL")


def discharge_sites(store: Store) -> list[dict[str, Any]]:
    """``{site_code, discharge_pathway}`` of every site and pathway with discharges."""
    return store.query(
        "SELECT DISTINCT site_code, discharge_pathway FROM spells "
        "WHERE discharge_time IS NOT NULL AND discharge_pathway IS NOT NULL"
    )


def bed_census_sites(store: Store) -> list[dict[str, Any]]:
    """``{site_code}`` of every site with a G&A bed census."""
    return store.query(f"SELECT DISTINCT site_code FROM bed_states WHERE bed_type IN {_G_AND_A}")


def returns_series_keys(store: Store, period_lengths: Sequence[str]) -> list[dict[str, Any]]:
    """``{period_length, source, org_code, metric_code}`` of every returns series of these period lengths."""
    lengths = ", ".join(f"'{p}'" for p in period_lengths if p.isalpha())
    return store.query(
        "SELECT DISTINCT period_length, source, org_code, metric_code FROM returns "
        f"WHERE period_length IN ({lengths})"
    )


# --- series values -------------------------------------------------------------------------------


def returns_values(store: Store, period_length: str, source: str, orgs: Sequence[str]) -> pa.Table:
    """``org_code, metric_code, period_start, value`` of one collection's returns of one period length
    for the given organisations (the current values: revised ones are in ``returns_history``)."""
    marks = ", ".join(f":o{i}" for i in range(len(orgs)))
    params: dict[str, Any] = {"p": period_length, "s": source, **{f"o{i}": o for i, o in enumerate(orgs)}}
    return store.query_arrow(
        "SELECT org_code, metric_code, period_start, value FROM returns "
        f"WHERE period_length = :p AND source = :s AND org_code IN ({marks}) ORDER BY period_start",
        params,
    )


@dataclass(frozen=True)
class EventCounts:
    """Where a kind of daily event series counts: its table, the instant column, the SQL key that
    names the series (after the kind) and any condition."""

    table: str
    column: str
    key: str
    where: str = ""


#: The daily event-count series kinds.
EVENT_COUNTS: dict[str, EventCounts] = {
    "ambulance": EventCounts("ambulance_incidents", "call_time", "category"),
    "admissions": EventCounts("spells", "admission_time", "site_code || '/' || admission_method"),
    "discharges": EventCounts("spells", "discharge_time", "site_code || '/' || CAST(discharge_pathway AS VARCHAR)",
                              "discharge_pathway IS NOT NULL"),
}


def event_day_span(store: Store, table: str, column: str) -> dict[str, Any] | None:
    """``{lo, hi}``: the first and last local day with an event in ``table``, or ``None``."""
    day = local_day(column)
    rows = store.query(f"SELECT min({day}) AS lo, max({day}) AS hi FROM {table}")
    return rows[0] if rows and rows[0]["lo"] is not None else None


def daily_event_counts(store: Store, kind: str, t0: dt.datetime, t1: dt.datetime) -> list[dict[str, Any]]:
    """``{k, d, n}``: events of ``kind`` (:data:`EVENT_COUNTS`) per series key and local day in ``[t0, t1)``
    (absent where zero)."""
    e = EVENT_COUNTS[kind]
    return store.query(
        f"SELECT {e.key} AS k, {local_day(e.column)} AS d, count(*) AS n FROM {e.table} "
        f"WHERE {e.column} >= :t0 AND {e.column} < :t1{' AND ' + e.where if e.where else ''} GROUP BY 1, 2",
        {"t0": t0, "t1": t1},
    )


def hourly_arrival_counts(store: Store, t0: dt.datetime, t1: dt.datetime) -> list[dict[str, Any]]:
    """``{k, h, n}``: arrivals per ``site/service`` and UTC hour in ``[t0, t1)`` (absent where zero)."""
    return store.query(
        "SELECT site_code || '/' || service_type AS k, date_trunc('hour', arrival_time) AS h, count(*) AS n "
        "FROM attendances WHERE arrival_time >= :t0 AND arrival_time < :t1 GROUP BY 1, 2",
        {"t0": t0, "t1": t1},
    )


def beds_occupied_at_census(store: Store) -> list[dict[str, Any]]:
    """``{site_code, d, t, occ}``: G&A beds occupied (core + escalation) at each census, with its local day."""
    return store.query(
        f"SELECT site_code, {local_day('snapshot_time')} AS d, snapshot_time AS t, sum(beds_occupied) AS occ "
        f"FROM bed_states WHERE bed_type IN {_G_AND_A} GROUP BY site_code, snapshot_time"
    )


def spells_arrow(store: Store, columns: Sequence[str], sites: Sequence[str] | None) -> pa.Table:
    """The spells' ``columns`` as Arrow (all spells, or those of ``sites``): a store holds hundreds
    of thousands, too many for row dicts."""
    where = ""
    params: dict[str, Any] = {}
    if sites is not None:
        names = [f"s{i}" for i in range(len(sites))]
        where = f" WHERE site_code IN ({', '.join(':' + n for n in names)})" if names else " WHERE 1 = 0"
        params = dict(zip(names, sites, strict=True))
    return store.query_arrow(f"SELECT {', '.join(columns)} FROM spells{where}", params or None)


# --- occupancy -----------------------------------------------------------------------------------


def last_spell_events(store: Store) -> tuple[Any, Any]:
    """The latest admission and the latest discharge time in ``spells`` (``None`` where none)."""
    rows = store.query("SELECT max(admission_time) AS a, max(discharge_time) AS d FROM spells")
    return (rows[0]["a"], rows[0]["d"]) if rows else (None, None)


def beds_open_at(store: Store, at: dt.datetime) -> list[dict[str, Any]]:
    """``{site_code, beds}``: G&A beds open (core + escalation) at each site's latest census at or before ``at``."""
    return store.query(
        "SELECT b.site_code, sum(b.beds_open) AS beds FROM bed_states b JOIN ("
        "  SELECT site_code, max(snapshot_time) AS t FROM bed_states"
        f"  WHERE snapshot_time <= :t AND bed_type IN {_G_AND_A} GROUP BY site_code"
        ") l ON b.site_code = l.site_code AND b.snapshot_time = l.t "
        f"WHERE b.bed_type IN {_G_AND_A} GROUP BY b.site_code",
        {"t": at},
    )


def service_bed_capacity(store: Store) -> list[dict[str, Any]]:
    """``{site_code, beds}``: the G&A bed capacity of each site's services."""
    return store.query(
        "SELECT site_code, sum(capacity) AS beds FROM services WHERE service_type = 'g_and_a_beds' "
        "AND capacity IS NOT NULL GROUP BY site_code"
    )


# --- saved runs ----------------------------------------------------------------------------------


def run_tables_exist(store: Store) -> bool:
    """Whether the store has all three forecast tables."""
    rows = store.query(
        "SELECT count(*) AS n FROM information_schema.tables WHERE table_name IN "
        "('forecast_runs', 'forecast_series', 'forecast_values')"
    )
    return int(rows[0]["n"]) == 3


def run_rows(store: Store, limit: int) -> list[dict[str, Any]]:
    """The newest ``limit`` runs, newest first."""
    return store.query(
        "SELECT run_id, created_at, model, freq, horizon, origin, n_series, n_failed, source FROM forecast_runs "
        "ORDER BY created_at DESC, run_id DESC LIMIT :n",
        {"n": int(limit)},
    )


def successful_series_run_rows(store: Store) -> list[dict[str, Any]]:
    """Every series forecast without error, with its run's facts, oldest run first."""
    return store.query(
        "SELECT s.*, r.created_at, r.model, r.freq, r.horizon FROM forecast_series s "
        "JOIN forecast_runs r ON r.run_id = s.run_id WHERE s.error IS NULL "
        "ORDER BY r.created_at, r.run_id"
    )


def run_freq(store: Store, run_id: str) -> str | None:
    """A run's frequency, or ``None`` for an unknown run."""
    rows = store.query("SELECT freq FROM forecast_runs WHERE run_id = :r", {"r": run_id})
    return str(rows[0]["freq"]) if rows else None


def run_value_rows(store: Store, run_id: str, value_columns: Sequence[str],
                   unique_ids: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """``{unique_id, ds, mean, <value_columns>}`` of a run (all its series, or ``unique_ids``)."""
    params: dict[str, Any] = {"r": run_id}
    where = ""
    if unique_ids is not None:
        names = [f"u{i}" for i in range(len(unique_ids))]
        params.update(zip(names, unique_ids, strict=True))
        where = f" AND unique_id IN ({', '.join(':' + n for n in names)})" if names else " AND 1 = 0"
    return store.query(
        f"SELECT unique_id, ds, mean, {', '.join(value_columns)} FROM forecast_values WHERE run_id = :r{where} "
        "ORDER BY unique_id, ds",
        params,
    )
