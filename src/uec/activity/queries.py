"""Portable SQL (DuckDB and PostgreSQL) for activity counts, the latest bed census and sites.

Counts come back by UTC hour (``date_trunc('hour', …)``): SQL cannot portably convert to a named
zone, and London's offset is always a whole number of hours, so the caller puts each hour into
its London day without any hour straddling a midnight.

Every function returns plain rows (dicts); instants are as the driver gives them (aware, UTC).

>>> import tempfile, os
>>> from uec.store import open_store
>>> with tempfile.TemporaryDirectory() as d:
...     store = open_store(os.path.join(d, "uec.duckdb"))
...     latest_event_time(store), site_rows(store), latest_bed_rows(store)
(None, [], [])
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from uec.store import Store

__all__ = [
    "activity_by_hour",
    "ambulance_arrivals",
    "ambulances_waiting_now",
    "attendance_rows",
    "calls_111_by_hour",
    "ed_now",
    "latest_bed_rows",
    "latest_event_time",
    "site_attendances_by_hour",
    "site_rows",
    "spells_now",
]

Row = dict[str, Any]


def _utc(t: datetime) -> datetime:
    # Drivers hand back aware datetimes with their own tzinfo classes (pytz, psycopg's); normalise.
    return t.astimezone(UTC) if t.tzinfo else t.replace(tzinfo=UTC)


def latest_event_time(store: Store) -> datetime | None:
    """The newest event instant in the activity tables (UTC), or ``None`` when there are none."""
    rows = store.query(
        "SELECT max(t) AS t FROM ("
        " SELECT max(call_time) AS t FROM calls_111"
        " UNION ALL SELECT max(call_time) FROM ambulance_incidents"
        " UNION ALL SELECT max(arrival_time) FROM attendances"
        " UNION ALL SELECT max(admission_time) FROM spells"
        " UNION ALL SELECT max(snapshot_time) FROM bed_states"
        ") latest"
    )
    t = rows[0]["t"] if rows else None
    return _utc(t) if t is not None else None


def site_rows(store: Store, site_code: str | None = None) -> list[Row]:
    """Sites (all, or the one given) joined to their organisation's name and each of their services:
    one row per site and service (service columns ``None`` for a site without services)."""
    # One query rather than one per table: each query opens the store, which costs more than the join.
    return store.query(
        "SELECT s.site_code, s.name, s.site_type, s.org_code, s.population_served, o.name AS org_name,"
        " v.service_id, v.name AS service_name, v.service_type, v.opens, v.closes, v.capacity, v.capacity_unit"
        " FROM sites s LEFT JOIN organisations o ON o.org_code = s.org_code"
        " LEFT JOIN services v ON v.site_code = s.site_code"
        f"{' WHERE s.site_code = :site' if site_code is not None else ''}",
        {"site": site_code} if site_code is not None else None,
    )


def latest_bed_rows(store: Store, site_code: str | None = None) -> list[Row]:
    """Beds open and occupied by site and bed type at each site's latest census (``snapshot_time`` in UTC)."""
    where = " WHERE b.site_code = :site" if site_code is not None else ""
    rows = store.query(
        "SELECT b.site_code, b.snapshot_time, b.bed_type, sum(b.beds_open) AS beds_open,"
        " sum(b.beds_occupied) AS beds_occupied"
        " FROM bed_states b JOIN"
        " (SELECT site_code, max(snapshot_time) AS t FROM bed_states GROUP BY site_code) l"
        " ON l.site_code = b.site_code AND l.t = b.snapshot_time"
        f"{where} GROUP BY b.site_code, b.snapshot_time, b.bed_type",
        {"site": site_code} if site_code is not None else None,
    )
    for r in rows:
        r["snapshot_time"] = _utc(r["snapshot_time"])
    return rows


def activity_by_hour(store: Store, start: datetime, end: datetime) -> list[Row]:
    """System activity in ``[start, end)`` as ``(k, h, n)`` rows: measure key, UTC hour, count.

    Keys: ``calls_111``, ``ambulance_incidents``, ``ambulance_conveyances``,
    ``attendances_ed_type1``, ``attendances_ed_other`` (types 2 to 4), ``attendances_<type>`` for
    the other service types, ``admissions`` and ``discharges``.
    """
    return store.query(
        "SELECT 'calls_111' AS k, date_trunc('hour', call_time) AS h, count(*) AS n FROM calls_111"
        " WHERE call_time >= :start AND call_time < :end GROUP BY date_trunc('hour', call_time)"
        " UNION ALL SELECT 'ambulance_incidents', date_trunc('hour', call_time), count(*)"
        " FROM ambulance_incidents WHERE call_time >= :start AND call_time < :end"
        " GROUP BY date_trunc('hour', call_time)"
        " UNION ALL SELECT 'ambulance_conveyances', date_trunc('hour', call_time), count(*)"
        " FROM ambulance_incidents WHERE call_time >= :start AND call_time < :end"
        " AND outcome IN ('conveyed_ed', 'conveyed_other') GROUP BY date_trunc('hour', call_time)"
        " UNION ALL SELECT CASE WHEN service_type IN ('ed_type2', 'ed_type3', 'ed_type4')"
        " THEN 'attendances_ed_other' ELSE 'attendances_' || service_type END,"
        " date_trunc('hour', arrival_time), count(*)"
        " FROM attendances WHERE arrival_time >= :start AND arrival_time < :end"
        " GROUP BY service_type, date_trunc('hour', arrival_time)"
        " UNION ALL SELECT 'admissions', date_trunc('hour', admission_time), count(*) FROM spells"
        " WHERE admission_time >= :start AND admission_time < :end"
        " GROUP BY date_trunc('hour', admission_time)"
        " UNION ALL SELECT 'discharges', date_trunc('hour', discharge_time), count(*) FROM spells"
        " WHERE discharge_time >= :start AND discharge_time < :end"
        " GROUP BY date_trunc('hour', discharge_time)",
        {"start": start, "end": end},
    )


def site_attendances_by_hour(store: Store, site_code: str, start: datetime, end: datetime) -> list[Row]:
    """A site's attendances in ``[start, end)`` as ``(k, h, n)`` rows: service type, UTC hour, count."""
    return store.query(
        "SELECT service_type AS k, date_trunc('hour', arrival_time) AS h, count(*) AS n"
        " FROM attendances WHERE site_code = :site AND arrival_time >= :start AND arrival_time < :end"
        " GROUP BY service_type, date_trunc('hour', arrival_time)",
        {"site": site_code, "start": start, "end": end},
    )


def ambulance_arrivals(store: Store, site_code: str, start: datetime, end: datetime) -> list[Row]:
    """Ambulances that arrived at a site's hospital in ``[start, end)``: ``arrived`` and ``handed_over``
    (``None`` when no handover was recorded), both UTC."""
    rows = store.query(
        "SELECT hospital_arrival_time AS arrived, handover_time AS handed_over FROM ambulance_incidents"
        " WHERE destination_site = :site AND hospital_arrival_time >= :start"
        " AND hospital_arrival_time < :end",
        {"site": site_code, "start": start, "end": end},
    )
    for r in rows:
        r["arrived"] = _utc(r["arrived"])
        if r["handed_over"] is not None:
            r["handed_over"] = _utc(r["handed_over"])
    return rows


def attendance_rows(store: Store, site_code: str, start: datetime, end: datetime, limit: int,
                    columns: Sequence[str]) -> list[Row]:
    """A site's attendances arriving in ``[start, end)``, oldest first, at most ``limit`` rows
    (``columns``: names from the contract, never from a request)."""
    return store.query(
        f"SELECT {', '.join(columns)} FROM attendances WHERE site_code = :site AND arrival_time >= :start "
        "AND arrival_time < :end ORDER BY arrival_time, attendance_id LIMIT :limit",
        {"site": site_code, "start": start, "end": end, "limit": int(limit)},
    )


# --- "now": who is where at one instant --------------------------------------------------------------
#
# The store has no snapshot of an emergency department or of an ambulance queue (yet: ED area
# snapshots and NHS 111 call handling are planned contract tables), so "now" is rebuilt from the events:
# a patient is in the department at ``t`` when they arrived at or before ``t`` and had not left by then.
# Each query looks back a bounded time (``since``) so that one event missing its departure or handover
# time is not counted as present for ever.

#: Emergency department service types (types 1 to 4), as the contract names them.
ED_TYPES = ("ed_type1", "ed_type2", "ed_type3", "ed_type4")


def ed_now(store: Store, t: datetime, since: datetime) -> list[Row]:
    """Patients in each site's emergency department at ``t`` (arrived in ``[since, t]``, not yet departed):
    ``site_code``, ``in_ed``, ``over_12_hours`` (arrived 12 hours or more before ``t``),
    ``dta_waiting`` (with a decision to admit at or before ``t``) and ``longest_arrival`` (UTC)."""
    rows = store.query(
        "SELECT site_code, count(*) AS in_ed,"
        " sum(CASE WHEN arrival_time <= :t12 THEN 1 ELSE 0 END) AS over_12_hours,"
        " sum(CASE WHEN decision_to_admit_time <= :t THEN 1 ELSE 0 END) AS dta_waiting,"
        " min(arrival_time) AS longest_arrival"
        " FROM attendances WHERE service_type IN ('ed_type1', 'ed_type2', 'ed_type3', 'ed_type4')"
        " AND arrival_time <= :t AND arrival_time >= :since"
        " AND (departure_time IS NULL OR departure_time > :t) GROUP BY site_code",
        {"t": t, "t12": t - timedelta(hours=12), "since": since},
    )
    for r in rows:
        r["longest_arrival"] = _utc(r["longest_arrival"])
    return rows


def ambulances_waiting_now(store: Store, t: datetime, since: datetime) -> list[Row]:
    """Ambulances at each hospital at ``t`` whose handover was not complete (arrived in ``[since, t]``):
    ``site_code``, ``waiting`` and ``longest_arrival`` (UTC)."""
    rows = store.query(
        "SELECT destination_site AS site_code, count(*) AS waiting, min(hospital_arrival_time) AS longest_arrival"
        " FROM ambulance_incidents WHERE hospital_arrival_time <= :t AND hospital_arrival_time >= :since"
        " AND (handover_time IS NULL OR handover_time > :t) AND destination_site IS NOT NULL"
        " GROUP BY destination_site",
        {"t": t, "since": since},
    )
    for r in rows:
        r["longest_arrival"] = _utc(r["longest_arrival"])
    return rows


def spells_now(store: Store, t: datetime, since: datetime) -> list[Row]:
    """Inpatients at each site at ``t``: ``site_code``, ``in_bed`` (admitted, not yet discharged),
    ``no_criteria_to_reside`` (of those, no longer meeting the criteria to reside at ``t``) and
    ``ctr_recorded``: spells in hospital at any time since ``since`` with a criteria-to-reside end
    time, so that a site whose data never records it says "not available" rather than 0."""
    return store.query(
        "SELECT site_code,"
        " sum(CASE WHEN discharge_time IS NULL OR discharge_time > :t THEN 1 ELSE 0 END) AS in_bed,"
        " sum(CASE WHEN (discharge_time IS NULL OR discharge_time > :t) AND criteria_to_reside_end_time <= :t"
        " THEN 1 ELSE 0 END) AS no_criteria_to_reside,"
        " count(criteria_to_reside_end_time) AS ctr_recorded"
        " FROM spells WHERE admission_time <= :t AND (discharge_time IS NULL OR discharge_time >= :since)"
        " GROUP BY site_code",
        {"t": t, "since": since},
    )


def calls_111_handling_periods(store: Store, org_code: str, start: datetime, end: datetime) -> list[Row]:
    """An NHS 111 provider's call handling periods starting in ``[start, end)``: ``(h, offered,
    answered, abandoned, in_60)`` rows, one a period (the telephony counts, not the dispositions)."""
    return store.query(
        "SELECT period_start AS h, calls_offered AS offered, calls_answered AS answered,"
        " calls_abandoned AS abandoned, answered_within_60s AS in_60 FROM calls_111_handling"
        " WHERE org_code = :org AND period_start >= :start AND period_start < :end",
        {"org": org_code, "start": start, "end": end},
    )


def calls_111_by_hour(store: Store, org_code: str, start: datetime, end: datetime) -> list[Row]:
    """An NHS 111 provider's calls answered in ``[start, end)`` as ``(k, h, n)`` rows: disposition,
    UTC hour, count; plus ``booked:<disposition>`` rows counting calls with a booked time slot."""
    return store.query(
        "SELECT disposition AS k, date_trunc('hour', call_time) AS h, count(*) AS n FROM calls_111"
        " WHERE org_code = :org AND call_time >= :start AND call_time < :end"
        " GROUP BY disposition, date_trunc('hour', call_time)"
        " UNION ALL SELECT 'booked:' || disposition, date_trunc('hour', call_time), count(*) FROM calls_111"
        " WHERE org_code = :org AND call_time >= :start AND call_time < :end AND booked_slot"
        " GROUP BY disposition, date_trunc('hour', call_time)",
        {"org": org_code, "start": start, "end": end},
    )
