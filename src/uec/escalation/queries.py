"""Every SQL statement of the escalation capability: OPEL parameters at instants, from events and
returns; and the loop's rows (declared and observed calculated levels, tracked actions,
notification subscriptions and the outbox). The tables' DDL is in :mod:`uec.escalation.schema`.

One home for SQL: each function writes portable SQL (it runs unchanged on DuckDB and PostgreSQL;
the spec tests run it on both) and returns plain rows. Every query takes a *list* of instants and
answers for all of them at once, so a day of 15-minute steps or a year of daily levels is a handful
of queries rather than thousands.

Instants arrive as a small derived table ``instants(i, at, midnight, lookback)``: ``at`` the
instant (UTC), ``midnight`` the local (Europe/London) midnight that starts its day, ``lookback`` 48
hours before it. "Since midnight" measures take events in ``[midnight, at)``; "at the instant"
measures take what was true at ``at`` as far as the store knew it (a departure or handover after
``at`` had not happened yet).

Where a catalogue standard defines the same thing, its recipe's SQL (``where``, numerator) is
used here verbatim, so a parameter and its standard cannot drift apart.

>>> sorted(MEASURES)[:3]
['community_bed_occupancy', 'community_capacity_occupancy', 'escalation_beds_share']
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from uec.standards import catalogue
from uec.store import Store, StoreWriter

__all__ = [
    "MEASURES",
    "Instant",
    "Measure",
    "action_row",
    "action_rows",
    "arrivals_between",
    "claim_pending_notifications",
    "claimed_notification_rows",
    "close_open_actions_above",
    "count_notifications_with_key",
    "count_open_actions_above",
    "count_recent_notifications",
    "deactivate_subscription",
    "declaration_rows",
    "event_rows",
    "first_ics_code",
    "insert_action",
    "insert_calculated",
    "insert_declaration",
    "insert_notification",
    "insert_subscription",
    "last_calculated_rows",
    "last_declared_level",
    "last_parameter_levels",
    "loop_stamp",
    "matching_subscription_rows",
    "notification_rows",
    "opel_return_orgs",
    "org_name",
    "org_rows",
    "org_type",
    "record_parameter_level",
    "returns_rows",
    "set_action_state",
    "set_notification_state",
    "site_codes_of",
    "site_rows",
    "subscription_rows",
]

#: A store or a writer's transaction: reads inside a write see the transaction's own rows.
Reader = Store | StoreWriter

#: How far back an "at the instant" measure looks for a bed census or an open attendance: an
#: attendance with no departure that arrived more than 48 hours before is a missing departure, not a
#: patient still in the department, and a census older than 48 hours no longer describes the beds.
LOOKBACK = dt.timedelta(hours=48)
#: How far back an ED area snapshot still describes the department: the boards they come from
#: refresh every few minutes and feeds send them at least hourly, so an older one is a feed that
#: stopped, not the department now (this project's choice, not a national rule).
ED_AREA_LOOKBACK = dt.timedelta(hours=4)

ED_TYPES_IN_DEPARTMENT = "('ed_type1', 'ed_type2')"


@dataclass(frozen=True)
class Instant:
    """An instant (UTC) and the local midnight that starts its day."""

    at: dt.datetime
    midnight: dt.datetime


@dataclass(frozen=True)
class Measure:
    """A parameter's value from events: ``numerator / denominator`` of one query's output columns.

    ``statistic`` ``median`` is taken in SQL for each unit (medians do not add up across sites).
    """

    query: str
    grain: Literal["site", "org"]
    numerator: str
    denominator: str
    statistic: Literal["ratio", "median"] = "ratio"


MEASURES: dict[str, Measure] = {
    "handover_mean": Measure("handover", "site", "minutes", "handovers"),
    "four_hour": Measure("four_hour", "site", "within_4h", "departed"),
    "in_department_over_12h": Measure("in_department", "site", "over_12h", "present"),
    "in_department_referred": Measure("in_department", "site", "referred", "present"),
    "time_to_treatment_median": Measure("time_to_treatment", "site", "median_minutes", "seen", "median"),
    "ga_occupancy": Measure("beds", "site", "ga_occupied", "ga_open"),
    "escalation_beds_share": Measure("beds", "site", "escalation_open", "ga_open"),
    "community_bed_occupancy": Measure("beds", "site", "community_occupied", "community_open"),
    "no_criteria_to_reside": Measure("nctr", "site", "no_criteria", "in_bed"),
    "ucr_2hr": Measure("ucr", "org", "within_2h", "seen"),
    # From the contract's ED area snapshots, specialty referrals, 111 call handling and capacity
    # snapshots (issue 13 item 2).
    "majors_resus_occupancy": Measure("ed_areas", "site", "majors_resus_patients", "majors_resus_spaces"),
    "in_department_referred_to_specialty": Measure("referred", "site", "referred", "present"),
    "nhs111_abandoned": Measure("calls_111", "org", "abandoned", "offered"),
    "nhs111_answered_60s": Measure("calls_111", "org", "within_60s", "answered"),
    "community_capacity_occupancy": Measure("capacity", "org", "community_occupied", "community_capacity"),
    "virtual_ward_occupancy": Measure("capacity", "org", "vw_occupied", "vw_capacity"),
    "mh_adult_bed_occupancy": Measure("capacity", "org", "mh_adult_occupied", "mh_adult_capacity"),
    "mh_out_of_area": Measure("capacity", "org", "out_of_area", "mh_reported"),
}


def _instants_sql(instants: Sequence[Instant]) -> tuple[str, dict[str, Any]]:
    parts = []
    params: dict[str, Any] = {}
    for k, inst in enumerate(instants):
        parts.append(
            f"SELECT {k} AS i, CAST(:at{k} AS TIMESTAMP WITH TIME ZONE) AS at, "
            f"CAST(:mid{k} AS TIMESTAMP WITH TIME ZONE) AS midnight, "
            f"CAST(:lo{k} AS TIMESTAMP WITH TIME ZONE) AS lookback, "
            f"CAST(:ed{k} AS TIMESTAMP WITH TIME ZONE) AS area_lookback"
        )
        params[f"at{k}"] = inst.at
        params[f"mid{k}"] = inst.midnight
        params[f"lo{k}"] = inst.at - LOOKBACK
        params[f"ed{k}"] = inst.at - ED_AREA_LOOKBACK
    # Bounds over all the instants, so each table is cut to the range before the join (neither
    # engine can use the per-instant conditions to skip rows; both can use these).
    params["lo_all"] = min(min(i.midnight, i.at - LOOKBACK) for i in instants)
    params["hi_all"] = max(i.at for i in instants) + dt.timedelta(microseconds=1)
    return " UNION ALL ".join(parts), params


@cache
def _recipe(standard: str) -> tuple[str, str]:
    """(where, numerator) SQL of a catalogue standard's first events recipe."""
    r = catalogue().get(standard).events[0]
    assert r.numerator is not None and r.numerator.agg == "sum"
    return r.where or "TRUE", r.numerator.expr


def _minutes(col: str) -> str:
    """Minutes after midnight of an ``HH:MM`` text column (a service's opening or closing time)."""
    return f"(CAST(substr({col}, 1, 2) AS INTEGER) * 60 + CAST(substr({col}, 4, 2) AS INTEGER))"


_LOCAL_MINUTE = (
    "(EXTRACT(HOUR FROM ({t} AT TIME ZONE 'Europe/London')) * 60 "
    "+ EXTRACT(MINUTE FROM ({t} AT TIME ZONE 'Europe/London')))"
)

#: Is service ``sv`` open at instant ``{t}`` (local time of day)? Empty hours mean 24 hours; a
#: closing time at or before the opening time runs past midnight.
_OPEN_AT = (
    "sv.opens IS NULL OR sv.opens = '' OR sv.closes IS NULL OR sv.closes = '' OR "
    f"({_minutes('sv.opens')} < {_minutes('sv.closes')} AND {_LOCAL_MINUTE} >= {_minutes('sv.opens')} "
    f"AND {_LOCAL_MINUTE} < {_minutes('sv.closes')}) OR "
    f"({_minutes('sv.opens')} >= {_minutes('sv.closes')} AND ({_LOCAL_MINUTE} >= {_minutes('sv.opens')} "
    f"OR {_LOCAL_MINUTE} < {_minutes('sv.closes')}))"
)


def _queries() -> dict[str, str]:
    """Each query's body over the ``instants`` table; ``{unit}`` is the grouping the caller picks."""
    ho_where, _ = _recipe("amb-handover-15")
    ed_where, ed_num = _recipe("ed-4hr")
    nctr_where, nctr_num = _recipe("beds-no-criteria-to-reside")
    _, ucr_num = _recipe("flow-ucr-2hr")
    return {
        # Handovers completed since midnight; the receiving site owns them (amb-handover-15's rows).
        "handover": f"""
            SELECT x.i, {{unit}} AS unit,
                   sum((EXTRACT(EPOCH FROM x.handover_time) - EXTRACT(EPOCH FROM x.hospital_arrival_time)) / 60.0)
                       AS minutes,
                   count(*) AS handovers
            FROM (SELECT e.*, i.i FROM ambulance_incidents e
                  JOIN instants i ON e.handover_time >= i.midnight AND e.handover_time < i.at
                  WHERE e.handover_time >= :lo_all AND e.handover_time < :hi_all) x
            LEFT JOIN sites st ON st.site_code = x.destination_site
            WHERE ({ho_where}) AND x.hospital_arrival_time IS NOT NULL AND x.destination_site IS NOT NULL
            GROUP BY 1, 2""",
        # Attendances that left since midnight, judged by ed-4hr's own recipe.
        "four_hour": f"""
            SELECT x.i, {{unit}} AS unit, sum({ed_num}) AS within_4h, count(*) AS departed
            FROM (SELECT e.*, i.i FROM attendances e
                  JOIN instants i ON e.departure_time >= i.midnight AND e.departure_time < i.at
                  WHERE e.departure_time >= :lo_all AND e.departure_time < :hi_all) x
            LEFT JOIN sites st ON st.site_code = x.site_code
            WHERE ({ed_where})
            GROUP BY 1, 2""",
        # Patients in an ED at the instant: arrived by then and not yet left.
        "in_department": f"""
            SELECT x.i, {{unit}} AS unit, count(*) AS present,
                   sum(CASE WHEN EXTRACT(EPOCH FROM x.at) - EXTRACT(EPOCH FROM x.arrival_time) > 43200
                       THEN 1 ELSE 0 END) AS over_12h,
                   sum(CASE WHEN x.decision_to_admit_time <= x.at THEN 1 ELSE 0 END) AS referred
            FROM (SELECT e.*, i.i, i.at FROM attendances e
                  JOIN instants i ON e.arrival_time <= i.at AND e.arrival_time > i.lookback
                  WHERE e.arrival_time >= :lo_all AND e.arrival_time < :hi_all) x
            LEFT JOIN sites st ON st.site_code = x.site_code
            WHERE x.service_type IN {ED_TYPES_IN_DEPARTMENT} AND (x.departure_time IS NULL OR x.departure_time > x.at)
            GROUP BY 1, 2""",
        # Seen by a decision-making clinician since midnight: the median wait from arrival.
        "time_to_treatment": f"""
            SELECT x.i, {{unit}} AS unit,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY
                       (EXTRACT(EPOCH FROM x.seen_time) - EXTRACT(EPOCH FROM x.arrival_time)) / 60.0) AS median_minutes,
                   count(*) AS seen
            FROM (SELECT e.*, i.i FROM attendances e
                  JOIN instants i ON e.seen_time >= i.midnight AND e.seen_time < i.at
                  WHERE e.seen_time >= :lo_all AND e.seen_time < :hi_all) x
            LEFT JOIN sites st ON st.site_code = x.site_code
            WHERE x.service_type IN {ED_TYPES_IN_DEPARTMENT}
            GROUP BY 1, 2""",
        # The latest bed-state census of each site at or before the instant (within the lookback).
        "beds": """
            SELECT x.i, {unit} AS unit,
                   sum(CASE WHEN x.bed_type IN ('g_and_a', 'g_and_a_escalation') THEN x.beds_occupied ELSE 0 END)
                       AS ga_occupied,
                   sum(CASE WHEN x.bed_type IN ('g_and_a', 'g_and_a_escalation') THEN x.beds_open ELSE 0 END)
                       AS ga_open,
                   sum(CASE WHEN x.bed_type = 'g_and_a_escalation' THEN x.beds_open ELSE 0 END) AS escalation_open,
                   sum(CASE WHEN x.bed_type = 'community' THEN x.beds_occupied ELSE 0 END) AS community_occupied,
                   sum(CASE WHEN x.bed_type = 'community' THEN x.beds_open ELSE 0 END) AS community_open
            FROM (SELECT b.*, l.i FROM bed_states b
                  JOIN (SELECT i.i, b2.site_code, max(b2.snapshot_time) AS latest
                        FROM bed_states b2 JOIN instants i
                          ON b2.snapshot_time <= i.at AND b2.snapshot_time > i.lookback
                        WHERE b2.snapshot_time >= :lo_all AND b2.snapshot_time < :hi_all
                        GROUP BY i.i, b2.site_code) l
                    ON b.site_code = l.site_code AND b.snapshot_time = l.latest) x
            LEFT JOIN sites st ON st.site_code = x.site_code
            GROUP BY 1, 2""",
        # Adult inpatients in a bed at the instant, judged by beds-no-criteria-to-reside's recipe
        # with the instant as its census time.
        "nctr": f"""
            SELECT x.i, {{unit}} AS unit, sum({nctr_num}) AS no_criteria, count(*) AS in_bed
            FROM (SELECT e.*, i.i, i.at AS census_time FROM spells e
                  JOIN instants i ON e.admission_time <= i.at
                  WHERE e.admission_time < :hi_all AND (e.discharge_time IS NULL OR e.discharge_time > :lo_all)) x
            LEFT JOIN sites st ON st.site_code = x.site_code
            WHERE (x.discharge_time IS NULL OR x.discharge_time > x.census_time) AND ({nctr_where})
            GROUP BY 1, 2""",
        # Urgent community response: referrals whose 2-hour clock has run out by the instant (received
        # in the 24 hours before the instant less 2 hours), each met if first seen within 2 hours
        # (flow-ucr-2hr's numerator; one not seen by then is a breach). Only referrals received while
        # the organisation's UCR service is open count: a service open 08:00-20:00 cannot answer a
        # 03:00 referral in 2 hours, and counting those made the pillar OPEL 4 on ~40% of demo days
        # at noon. An organisation with no UCR service listed, or one open 24 hours, counts them all.
        "ucr": f"""
            SELECT x.i, x.org_code AS unit, sum({ucr_num}) AS within_2h, count(*) AS seen
            FROM (SELECT e.*, i.i FROM ucr_referrals e
                  JOIN instants i ON e.referral_time >= i.at - INTERVAL '26 hours'
                                 AND e.referral_time <= i.at - INTERVAL '2 hours'
                  WHERE e.referral_time >= :lo_all AND e.referral_time < :hi_all) x
            WHERE NOT EXISTS (SELECT 1 FROM services sv JOIN sites ss ON ss.site_code = sv.site_code
                              WHERE ss.org_code = x.org_code AND sv.service_type = 'ucr'
                                AND sv.opens IS NOT NULL AND sv.opens <> '')
               OR EXISTS (SELECT 1 FROM services sv JOIN sites ss ON ss.site_code = sv.site_code
                          WHERE ss.org_code = x.org_code AND sv.service_type = 'ucr'
                            AND ({_OPEN_AT.format(t="x.referral_time")}))
            GROUP BY 1, 2""",
        # ED area snapshots: the latest of each site at or before the instant, within
        # ED_AREA_LOOKBACK (the instants' area_lookback, a column so that the range join is fast).
        "ed_areas": """
            SELECT x.i, {unit} AS unit,
                   sum(CASE WHEN x.area IN ('resus', 'majors') THEN x.patients ELSE 0 END) AS majors_resus_patients,
                   sum(CASE WHEN x.area IN ('resus', 'majors') THEN x.spaces ELSE 0 END) AS majors_resus_spaces
            FROM (SELECT a.*, l.i FROM ed_area_states a
                  JOIN (SELECT i.i, a2.site_code, max(a2.snapshot_time) AS latest
                        FROM ed_area_states a2 JOIN instants i
                          ON a2.snapshot_time <= i.at AND a2.snapshot_time > i.area_lookback
                        WHERE a2.snapshot_time >= :lo_all AND a2.snapshot_time < :hi_all
                        GROUP BY i.i, a2.site_code) l
                    ON a.site_code = l.site_code AND a.snapshot_time = l.latest) x
            LEFT JOIN sites st ON st.site_code = x.site_code
            GROUP BY 1, 2""",
        # Patients in a type 1 or 2 ED at the instant and, of them, those already referred to a
        # specialty (a referral requested by then). Only sites that send specialty referrals are
        # answered (any referral in the range): elsewhere the decision to admit stands in for it.
        "referred": f"""
            SELECT x.i, {{unit}} AS unit, count(*) AS present,
                   sum(CASE WHEN r.first_request <= x.at THEN 1 ELSE 0 END) AS referred
            FROM (SELECT e.*, i.i, i.at FROM attendances e
                  JOIN instants i ON e.arrival_time <= i.at AND e.arrival_time > i.lookback
                  WHERE e.arrival_time >= :lo_all AND e.arrival_time < :hi_all) x
            LEFT JOIN (SELECT attendance_id, min(request_time) AS first_request FROM specialty_referrals
                       WHERE request_time >= :lo_all AND request_time < :hi_all GROUP BY attendance_id) r
              ON r.attendance_id = x.attendance_id
            LEFT JOIN sites st ON st.site_code = x.site_code
            WHERE x.service_type IN {ED_TYPES_IN_DEPARTMENT} AND (x.departure_time IS NULL OR x.departure_time > x.at)
              AND x.site_code IN (SELECT DISTINCT site_code FROM specialty_referrals
                                  WHERE request_time >= :lo_all AND request_time < :hi_all)
            GROUP BY 1, 2""",
        # NHS 111 call handling in the periods that lie wholly in [midnight, instant].
        "calls_111": """
            SELECT x.i, x.org_code AS unit, sum(x.calls_offered) AS offered, sum(x.calls_answered) AS answered,
                   sum(x.calls_abandoned) AS abandoned, sum(x.answered_within_60s) AS within_60s
            FROM (SELECT c.*, i.i FROM calls_111_handling c
                  JOIN instants i ON c.period_start >= i.midnight AND c.period_end <= i.at
                  WHERE c.period_start >= :lo_all AND c.period_start < :hi_all) x
            GROUP BY 1, 2""",
        # Capacity snapshots: the latest of each organisation and service at or before the instant
        # (within 48 hours). Out-of-area placements count where a mental health service reports them.
        "capacity": """
            SELECT x.i, x.org_code AS unit,
                   sum(CASE WHEN x.service = 'community_beds' THEN x.occupied ELSE 0 END) AS community_occupied,
                   sum(CASE WHEN x.service = 'community_beds' THEN x.capacity ELSE 0 END) AS community_capacity,
                   sum(CASE WHEN x.service = 'virtual_ward' THEN x.occupied ELSE 0 END) AS vw_occupied,
                   sum(CASE WHEN x.service = 'virtual_ward' THEN x.capacity ELSE 0 END) AS vw_capacity,
                   sum(CASE WHEN x.service = 'mh_adult_acute_beds' THEN x.occupied ELSE 0 END) AS mh_adult_occupied,
                   sum(CASE WHEN x.service = 'mh_adult_acute_beds' THEN x.capacity ELSE 0 END) AS mh_adult_capacity,
                   sum(CASE WHEN x.service LIKE 'mh_%' THEN coalesce(x.out_of_area, 0) ELSE 0 END) AS out_of_area,
                   max(CASE WHEN x.service LIKE 'mh_%' AND x.out_of_area IS NOT NULL THEN 1 ELSE 0 END) AS mh_reported
            FROM (SELECT c.*, l.i FROM capacity_states c
                  JOIN (SELECT i.i, c2.org_code, c2.service, max(c2.snapshot_time) AS latest
                        FROM capacity_states c2 JOIN instants i
                          ON c2.snapshot_time <= i.at AND c2.snapshot_time > i.lookback
                        WHERE c2.snapshot_time >= :lo_all AND c2.snapshot_time < :hi_all
                        GROUP BY i.i, c2.org_code, c2.service) l
                    ON c.org_code = l.org_code AND c.service = l.service AND c.snapshot_time = l.latest) x
            GROUP BY 1, 2""",
    }


_SITE_COLUMN = {"handover": "x.destination_site"}
#: Queries whose rows belong to an organisation, not a site.
_ORG_QUERIES = ("ucr", "calls_111", "capacity")


def event_rows(
    store: Store, query: str, instants: Sequence[Instant], unit: Literal["site", "org"],
) -> list[dict[str, Any]]:
    """Rows ``(i, unit, <measure columns>)`` of one query for every instant, by site or organisation.

    >>> import tempfile, os
    >>> from uec.store import open_store
    >>> s = open_store(os.path.join(tempfile.mkdtemp(), "uec.duckdb"))
    >>> at = dt.datetime(2024, 4, 1, 12, tzinfo=dt.UTC)
    >>> event_rows(s, "four_hour", [Instant(at, at.replace(hour=0) - dt.timedelta(hours=1))], "site")
    []
    """
    if not instants:
        return []
    body = _queries()[query]
    if query in _ORG_QUERIES:
        column = "x.org_code"
    elif unit == "site":
        column = _SITE_COLUMN.get(query, "x.site_code")
    else:
        column = "st.org_code"
    inst_sql, params = _instants_sql(instants)
    sql = f"WITH instants AS ({inst_sql}) " + body.format(unit=column)
    return store.query(sql, params)


def site_rows(store: Store) -> list[dict[str, Any]]:
    """Every site with its organisation and type."""
    return store.query("SELECT site_code, org_code, name, site_type FROM sites ORDER BY site_code")


def org_rows(store: Store) -> list[dict[str, Any]]:
    """Every organisation with its type."""
    return store.query("SELECT org_code, name, org_type FROM organisations ORDER BY org_code")


def returns_rows(store: Store, metrics: Sequence[str], first: dt.date, last: dt.date) -> list[dict[str, Any]]:
    """Daily OPEL returns (``source = 'opel'``) of the given metrics for local days ``[first, last]``."""
    if not metrics:
        return []
    names = ", ".join(f":m{k}" for k in range(len(metrics)))
    params: dict[str, Any] = {f"m{k}": m for k, m in enumerate(metrics)}
    params.update(first=first, last=last)
    return store.query(
        "SELECT org_code, period_start, metric_code, value FROM returns "
        f"WHERE source = 'opel' AND period_length = 'day' AND metric_code IN ({names}) "
        "AND period_start >= :first AND period_start <= :last",
        params,
    )


def opel_return_orgs(store: Store, metrics: Sequence[str]) -> list[dict[str, Any]]:
    """Each organisation code with OPEL returns of any of ``metrics``, and the first such metric."""
    names = ", ".join(f":m{k}" for k in range(len(metrics)))
    return store.query(
        f"SELECT org_code, min(metric_code) AS metric FROM returns WHERE source = 'opel' "
        f"AND metric_code IN ({names}) GROUP BY org_code ORDER BY org_code",
        {f"m{k}": m for k, m in enumerate(metrics)},
    )


def first_ics_code(store: Store) -> str | None:
    """The code of the (first) ICS in ``organisations``, or ``None``."""
    rows = store.query("SELECT org_code FROM organisations WHERE org_type = 'ics' ORDER BY org_code LIMIT 1")
    return str(rows[0]["org_code"]) if rows else None


# --- organisations -------------------------------------------------------------------------------


def org_type(store: Store, code: str) -> str | None:
    """An organisation's ``org_type``, or ``None`` if the store does not know it."""
    rows = store.query("SELECT org_type FROM organisations WHERE org_code = :c", {"c": code})
    return str(rows[0]["org_type"]) if rows else None


def org_name(store: Store, code: str) -> str | None:
    """An organisation's name, or ``None``."""
    rows = store.query("SELECT name FROM organisations WHERE org_code = :c", {"c": code})
    return str(rows[0]["name"]) if rows else None


def site_codes_of(store: Store, code: str) -> set[str]:
    """The site codes of an organisation."""
    return {str(r["site_code"]) for r in store.query("SELECT site_code FROM sites WHERE org_code = :c", {"c": code})}


def arrivals_between(store: Store, windows: Sequence[tuple[dt.datetime, dt.datetime]],
                     pairs: Sequence[tuple[str, str]]) -> list[int]:
    """Attendances arriving in each ``[lo, hi)`` window at the (site, service type) ``pairs``."""
    if not windows or not pairs:
        return [0] * len(windows)
    params: dict[str, Any] = {}
    cases = []
    for k, (lo, hi) in enumerate(windows):
        params[f"lo{k}"], params[f"hi{k}"] = lo, hi
        cases.append(f"count(*) FILTER (WHERE arrival_time >= :lo{k} AND arrival_time < :hi{k}) AS w{k}")
    where = []
    for k, (site, service) in enumerate(pairs):
        params[f"s{k}"], params[f"t{k}"] = site, service
        where.append(f"(site_code = :s{k} AND service_type = :t{k})")
    row = store.query(f"SELECT {', '.join(cases)} FROM attendances WHERE ({' OR '.join(where)}) "
                      f"AND arrival_time >= :lo_all AND arrival_time < :hi_all",
                      {**params, "lo_all": min(lo for lo, _ in windows), "hi_all": max(hi for _, hi in windows)})[0]
    return [int(row[f"w{k}"]) for k in range(len(windows))]


# --- declared and observed calculated levels -----------------------------------------------------


def loop_stamp(store: Store) -> dict[str, Any]:
    """What changes whenever a declaration is made or a tracked action is opened, resolved or closed:
    counts and latest times of both tables (rows are only ever added or moved out of ``open``, and
    every move sets ``closed_at``). A page that shows declarations and actions keys its cache on it."""
    return store.query(
        "SELECT (SELECT count(*) FROM escalation_declarations) AS declarations, "
        "(SELECT max(declared_at) FROM escalation_declarations) AS last_declared, "
        "(SELECT count(*) FROM escalation_actions) AS actions, "
        "(SELECT count(*) FROM escalation_actions WHERE state = 'open') AS open_actions, "
        "(SELECT count(closed_at) FROM escalation_actions) AS closed_actions, "
        "(SELECT max(created_at) FROM escalation_actions) AS last_opened, "
        "(SELECT max(closed_at) FROM escalation_actions) AS last_closed")[0]



def declaration_rows(store: Store, object_code: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    """Declarations, newest first (all, or of one object)."""
    where = "WHERE object_code = :o" if object_code else ""
    page = f" LIMIT {int(limit)}" if limit else ""
    return store.query(f"SELECT * FROM escalation_declarations {where} ORDER BY declared_at DESC, id{page}",
                       {"o": object_code} if object_code else None)


def last_declared_level(reader: Reader, object_code: str) -> int | None:
    """The level of an object's latest declaration, or ``None``."""
    rows = reader.query("SELECT level FROM escalation_declarations WHERE object_code = :o "
                        "ORDER BY declared_at DESC, id LIMIT 1", {"o": object_code})
    return int(rows[0]["level"]) if rows else None


def insert_declaration(writer: StoreWriter, row: dict[str, Any]) -> None:
    """Record one declaration (``row`` has every column of ``escalation_declarations``)."""
    writer.execute(
        "INSERT INTO escalation_declarations (id, scope, object_code, provider_type, level, previous_level, "
        "calculated_level, calculated_score, calculated_at, reason, declared_by, declared_at, framework) VALUES "
        "(:id, :scope, :object_code, :provider_type, :level, :previous_level, :calculated_level, "
        ":calculated_score, :calculated_at, :reason, :declared_by, :declared_at, :framework)", row)


def last_calculated_rows(reader: Reader, object_code: str) -> list[dict[str, Any]]:
    """The latest observed calculated level of an object: no row, or one row ``{level}`` (level may be NULL)."""
    return reader.query("SELECT level FROM escalation_calculated WHERE object_code = :o "
                        "ORDER BY observed_at DESC LIMIT 1", {"o": object_code})


def insert_calculated(writer: StoreWriter, *, object_code: str, scope: str, level: int | None,
                      score: float | None, assessed_at: dt.datetime, observed_at: dt.datetime) -> None:
    """Record one observed calculated level."""
    writer.execute("INSERT INTO escalation_calculated (object_code, scope, level, score, assessed_at, observed_at) "
                   "VALUES (:o, :scope, :lv, :score, :at, :now)",
                   {"o": object_code, "scope": scope, "lv": level, "score": score, "at": assessed_at,
                    "now": observed_at})


# --- tracked actions -----------------------------------------------------------------------------


def insert_action(writer: StoreWriter, row: dict[str, Any]) -> None:
    """Record one newly opened tracked action."""
    writer.execute(
        "INSERT INTO escalation_actions (id, object_code, scope, provider_type, level, card_id, title, role, "
        "owner_org, owner_role, origin, declaration_id, created_at, due_at, state) VALUES (:id, :object_code, "
        ":scope, :provider_type, :level, :card_id, :title, :role, :owner_org, :owner_role, :origin, "
        ":declaration_id, :created_at, :due_at, :state)", row)


def count_open_actions_above(reader: Reader, object_code: str, level: int) -> int:
    """How many of an object's actions above ``level`` are open."""
    n = reader.query("SELECT count(*) AS n FROM escalation_actions WHERE object_code = :o AND state = 'open' "
                     "AND level > :lv", {"o": object_code, "lv": level})
    return int(n[0]["n"])


def close_open_actions_above(writer: StoreWriter, object_code: str, level: int, *, note: str, by: str,
                             at: dt.datetime) -> None:
    """Close an object's open actions above ``level`` with a note."""
    writer.execute(
        "UPDATE escalation_actions SET state = 'closed', note = :note, closed_by = :by, closed_at = :at "
        "WHERE object_code = :o AND state = 'open' AND level > :lv",
        {"note": note, "by": by, "at": at, "o": object_code, "lv": level})


#: The columns :func:`action_rows` may filter on.
_ACTION_FILTERS = ("object_code", "owner_org", "state")


def action_rows(store: Store, filters: dict[str, str]) -> list[dict[str, Any]]:
    """Tracked actions, newest first, where each of ``filters`` (``object_code``, ``owner_org`` or ``state``) holds."""
    where, params = [], {}
    for col in _ACTION_FILTERS:
        if col in filters:
            where.append(f"{col} = :{col}")
            params[col] = filters[col]
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    return store.query(f"SELECT * FROM escalation_actions {clause} ORDER BY created_at DESC, level, card_id", params)


def action_row(reader: Reader, action_id: str) -> dict[str, Any] | None:
    """One tracked action's row, or ``None``."""
    rows = reader.query("SELECT * FROM escalation_actions WHERE id = :id", {"id": action_id})
    return rows[0] if rows else None


def set_action_state(writer: StoreWriter, action_id: str, *, state: str, note: str, by: str,
                     at: dt.datetime) -> None:
    """Close one action: its new state, the note, who and when."""
    writer.execute("UPDATE escalation_actions SET state = :s, note = :n, closed_by = :by, closed_at = :at "
                   "WHERE id = :id", {"s": state, "n": note, "by": by, "at": at, "id": action_id})


# --- notifications -------------------------------------------------------------------------------


def insert_subscription(writer: StoreWriter, row: dict[str, Any]) -> None:
    """Record one active subscription (``row``: id, username, scope, object_code, channel, address, at)."""
    writer.execute(
        "INSERT INTO notification_subscriptions (id, username, scope, object_code, channel, address, created_at, "
        "active) VALUES (:id, :username, :scope, :object_code, :channel, :address, :at, TRUE)", row)


def matching_subscription_rows(reader: Reader, system_scope: str, object_code: str) -> list[dict[str, Any]]:
    """``{id, channel}`` of the active subscriptions to the system or to ``object_code``."""
    return reader.query(
        "SELECT id, channel FROM notification_subscriptions WHERE active AND (scope = :system OR object_code = :code) "
        "ORDER BY id", {"system": system_scope, "code": object_code})


def count_notifications_with_key(reader: Reader, subscription_id: str, key: str) -> int:
    """How many notifications a subscription already has for an event key."""
    rows = reader.query("SELECT count(*) AS n FROM notifications WHERE subscription_id = :s AND event_key = :k",
                        {"s": subscription_id, "k": key})
    return int(rows[0]["n"])


def count_recent_notifications(reader: Reader, subscription_id: str, object_code: str, since: dt.datetime) -> int:
    """How many notifications a subscription has had on an object since ``since`` (not suppressed or failed)."""
    rows = reader.query(
        "SELECT count(*) AS n FROM notifications WHERE subscription_id = :s AND object_code = :o "
        "AND state IN ('pending', 'sending', 'sent') AND created_at > :since",
        {"s": subscription_id, "o": object_code, "since": since})
    return int(rows[0]["n"])


def insert_notification(writer: StoreWriter, row: dict[str, Any]) -> None:
    """Record one notification (``row``: id, sub, event, key, obj, channel, subject, body, at, state)."""
    writer.execute(
        "INSERT INTO notifications (id, subscription_id, event, event_key, object_code, channel, subject, body, "
        "created_at, state) VALUES (:id, :sub, :event, :key, :obj, :channel, :subject, :body, :at, :state)", row)


def notification_rows(store: Store, state: str | None = None) -> list[dict[str, Any]]:
    """Every notification, oldest first (optionally only those in ``state``)."""
    where = "WHERE state = :state" if state else ""
    return store.query(f"SELECT * FROM notifications {where} ORDER BY created_at, id",
                       {"state": state} if state else None)


def claim_pending_notifications(writer: StoreWriter, token: str) -> None:
    """Claim every pending notification for one sender (``pending`` -> ``sending``, in one statement)."""
    writer.execute("UPDATE notifications SET state = 'sending', claim = :t WHERE state = 'pending'", {"t": token})


def claimed_notification_rows(store: Store, token: str) -> list[dict[str, Any]]:
    """The notifications a sender claimed, with their subscription's address."""
    return store.query(
        "SELECT n.*, s.address FROM notifications n JOIN notification_subscriptions s ON s.id = n.subscription_id "
        "WHERE n.claim = :t AND n.state = 'sending' ORDER BY n.created_at, n.id", {"t": token})


def set_notification_state(writer: StoreWriter, notification_id: str, *, state: str, at: dt.datetime,
                           error: str | None) -> None:
    """Record how sending one notification went."""
    writer.execute("UPDATE notifications SET state = :s, sent_at = :at, error = :e WHERE id = :id",
                   {"s": state, "at": at, "e": error, "id": notification_id})

# --- the past a projection starts from (uec.escalation.projection) ---------------------------------

#: What each table contributes to a projection's store from the real store: rows whose event was
#: over by the projection's start (``{col} <= :as_of``) within the look-back. Spells are not taken:
#: every patient in a bed at the start is in the simulation and its events. Open attendances and
#: crews still waiting are not taken either: they are in the simulation, which does not write
#: their records (see docs/escalation.md, "Forecast the level").
PAST_TABLES: dict[str, str] = {
    "ambulance_incidents": "handover_time",
    "attendances": "departure_time",
    "bed_states": "snapshot_time",
    "ucr_referrals": "first_visit_time",
    # The last capacity census stands for the next 48 hours (the parameters' look-back), and the
    # 111 periods over by the start count towards "since midnight".
    "capacity_states": "snapshot_time",
    "calls_111_handling": "period_end",
}


def reference_table_rows(store: Store, name: str) -> list[dict[str, Any]]:
    """Every row of a reference table (``organisations``, ``sites`` or ``services``)."""
    assert name in ("organisations", "sites", "services"), name
    return store.query(f"SELECT * FROM {name}")


def past_rows(store: Store, name: str, as_of: dt.datetime) -> list[dict[str, Any]]:
    """Rows of an event table whose event ended in the 48 hours up to ``as_of`` (see :data:`PAST_TABLES`)."""
    col = PAST_TABLES[name]
    return store.query(f"SELECT * FROM {name} WHERE {col} <= :as_of AND {col} > :lo",
                       {"as_of": as_of, "lo": as_of - LOOKBACK})


def opel_return_rows(store: Store, first: dt.date, last: dt.date) -> list[dict[str, Any]]:
    """Every daily OPEL return for local days ``[first, last]`` (all columns)."""
    return store.query("SELECT * FROM returns WHERE source = 'opel' AND period_length = 'day' "
                       "AND period_start >= :first AND period_start <= :last", {"first": first, "last": last})

# --- Parameter threshold crossings (uec.escalation.thresholds) -------------------------------------


def last_parameter_levels(w: StoreWriter) -> dict[tuple[str, str], int | None]:
    """The last observed level of each (object code, parameter id)."""
    rows = w.query(
        "SELECT p.object_code, p.parameter_id, p.level FROM escalation_parameter_levels p "
        "JOIN (SELECT object_code, parameter_id, max(observed_at) AS latest FROM escalation_parameter_levels "
        "      GROUP BY object_code, parameter_id) l "
        "ON l.object_code = p.object_code AND l.parameter_id = p.parameter_id AND l.latest = p.observed_at")
    return {(str(r["object_code"]), str(r["parameter_id"])): None if r["level"] is None else int(r["level"])
            for r in rows}


def record_parameter_level(w: StoreWriter, *, object_code: str, parameter_id: str, level: int | None,
                           value: float | None, assessed_at: dt.datetime, observed_at: dt.datetime) -> None:
    """Record a parameter's level where it changed."""
    w.execute(
        "INSERT INTO escalation_parameter_levels (object_code, parameter_id, level, value, assessed_at, observed_at) "
        "VALUES (:o, :p, :lv, :v, :at, :now)",
        {"o": object_code, "p": parameter_id, "lv": level, "v": value, "at": assessed_at, "now": observed_at})


# --- Subscriptions managed from the web form (uec.escalation.subscriptions) ------------------------


def subscription_rows(store: Store | StoreWriter, *, username: str | None = None,
                      sub_id: str | None = None) -> list[dict[str, Any]]:
    """Active subscriptions, optionally one person's or one id's, oldest first."""
    where, params = ["active"], {}
    if username is not None:
        where.append("username = :u")
        params["u"] = username
    if sub_id is not None:
        where.append("id = :i")
        params["i"] = sub_id
    return store.query(f"SELECT * FROM notification_subscriptions WHERE {' AND '.join(where)} "
                       "ORDER BY created_at, id", params)


def deactivate_subscription(w: StoreWriter, sub_id: str) -> None:
    """Unsubscribe: the row stays (notifications refer to it), inactive."""
    w.execute("UPDATE notification_subscriptions SET active = FALSE WHERE id = :i", {"i": sub_id})
