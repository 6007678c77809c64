"""Estimate the whole-system model's demand and flow parameters from the event tables in a store.

:func:`estimate_params` starts from a base (the demo ICS by default) and replaces what the store's
events can tell: volumes (111 calls, 999 incidents, type 1 ED, UTC and SDEC attendances, GP direct
and elective admissions) per day, 111 dispositions, hear and treat, the category mix and who is
conveyed, each acute site's share of ED attendances, age mixes, the ED admission rate, time to the
end of the criteria to reside by age group (median of stays past the same day, and the same-day
share), discharge pathway shares by age group, and beds open at the latest census. Capacities that
events cannot show (crews, clinicians, ED spaces, pathway places) stay as in the base: that is
what a scenario changes.

Sites and services must be the base's (the demo ICS's codes); a store whose sites differ is a
one-line error, since the model's network is built from the base's sites.

>>> import tempfile, os
>>> from uec.store import open_store
>>> with tempfile.TemporaryDirectory() as d:
...     estimate_params(open_store(os.path.join(d, "uec.duckdb")))
Traceback (most recent call last):
...
uec.errors.UecError: the store holds no ambulance incidents or attendances to estimate from; load some first
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from uec.errors import UecError
from uec.store import Store
from uec.system.params import AGE_GROUPS, CATEGORIES, SystemParams, demo_params

__all__ = ["estimate_params"]

_GROUP_SQL = """CASE WHEN age_band IN ('0-4', '5-17') THEN 0 WHEN age_band = '18-64' THEN 1
    WHEN age_band IN ('65-74', '75-84') THEN 2 WHEN age_band = '85+' THEN 3 ELSE -1 END"""


def _span_days(store: Store, start: dt.datetime | None, end: dt.datetime | None) -> tuple[dt.datetime, dt.datetime]:
    rows = store.query(
        "SELECT min(t) AS lo, max(t) AS hi FROM ("
        " SELECT call_time AS t FROM ambulance_incidents UNION ALL SELECT arrival_time FROM attendances) x")
    lo, hi = rows[0]["lo"], rows[0]["hi"]
    if lo is None:
        raise UecError("the store holds no ambulance incidents or attendances to estimate from; load some first")
    lo = start or lo
    hi = end or hi
    if hi <= lo:
        raise UecError("the estimation period is empty: its end is not after its start")
    return lo, hi


def _count(store: Store, sql: str, lo: dt.datetime, hi: dt.datetime) -> list[dict[str, Any]]:
    return store.query(sql, {"lo": lo, "hi": hi})


def estimate_params(  # noqa: C901 - one estimate per parameter group, in sequence
        store: Store, start: dt.datetime | None = None, end: dt.datetime | None = None,
        base: SystemParams | None = None) -> SystemParams:
    """Parameters with demand and flow estimated from ``store``'s events in ``[start, end)``.

    The period defaults to the span of the store's incidents and attendances. See the module
    documentation for what is estimated and what is kept from ``base`` (default: the demo ICS).
    """
    p = base or demo_params()
    lo, hi = _span_days(store, start, end)
    days = (hi - lo).total_seconds() / 86400.0
    if days < 1.0:
        raise UecError(f"the store's events span {days * 24:.1f} hours; at least a day is needed to estimate rates")
    changes: dict[str, Any] = {}

    # NHS 111.
    calls = _count(store, "SELECT disposition, count(*) AS n FROM calls_111 WHERE call_time >= :lo AND call_time < :hi"
                          " GROUP BY disposition", lo, hi)
    total_calls = sum(int(r["n"]) for r in calls)
    if total_calls:
        by = {r["disposition"]: int(r["n"]) for r in calls}
        changes["calls_111_per_day"] = total_calls / days
        changes["disposition_p"] = tuple(by.get(d, 0) / total_calls for d in p.dispositions)

    # 999.
    inc = _count(store, "SELECT category, outcome, count(*) AS n FROM ambulance_incidents"
                        " WHERE call_time >= :lo AND call_time < :hi GROUP BY category, outcome", lo, hi)
    total_inc = sum(int(r["n"]) for r in inc)
    if total_inc:
        changes["incidents_per_day"] = total_inc / days
        hear = sum(int(r["n"]) for r in inc if r["outcome"] == "hear_and_treat")
        changes["hear_and_treat"] = hear / total_inc
        f2f = {c: sum(int(r["n"]) for r in inc if r["category"] == c and r["outcome"] != "hear_and_treat")
               for c in CATEGORIES}
        n_f2f = sum(f2f.values())
        if n_f2f:
            changes["category_mix"] = tuple(f2f[c] / n_f2f for c in CATEGORIES)
            conveyed = []
            for c in CATEGORIES:
                conv = sum(int(r["n"]) for r in inc if r["category"] == c and r["outcome"] in ("conveyed_ed",
                                                                                               "conveyed_other"))
                conveyed.append(conv / f2f[c] if f2f[c] else p.conveyed[CATEGORIES.index(c)])
            changes["conveyed"] = tuple(conveyed)
            to_ed = sum(int(r["n"]) for r in inc if r["outcome"] == "conveyed_ed")
            to_other = sum(int(r["n"]) for r in inc if r["outcome"] == "conveyed_other")
            if to_ed + to_other:
                changes["conveyed_to_ed"] = to_ed / (to_ed + to_other)

    # Attendances.
    att = _count(store, f"SELECT site_code, service_type, {_GROUP_SQL} AS g, arrival_mode,"
                        " sum(CASE WHEN disposal = 'admitted' THEN 1 ELSE 0 END) AS admitted, count(*) AS n"
                        " FROM attendances WHERE arrival_time >= :lo AND arrival_time < :hi"
                        " GROUP BY site_code, service_type, g, arrival_mode", lo, hi)
    sites = {s.code for s in p.sites}
    ed = [r for r in att if r["service_type"] == "ed_type1"]
    unknown = sorted({str(r["site_code"]) for r in ed} - sites)
    if unknown:
        raise UecError(f"the store's EDs ({', '.join(unknown)}) are not the model's sites "
                       f"({', '.join(sorted(sites))}); estimation needs the same sites")
    n_ed = sum(int(r["n"]) for r in ed)
    if n_ed:
        changes["ed_attendances_per_day"] = n_ed / days
        by_site = {c: sum(int(r["n"]) for r in ed if r["site_code"] == c) for c in sites}
        walk = [r for r in ed if r["arrival_mode"] != "ambulance"]
        n_walk = sum(int(r["n"]) for r in walk)
        if n_walk and _mix(walk):
            changes["age_ed"] = _mix(walk)
        share = {c: by_site[c] / n_ed for c in sites}
        changes["sites"] = tuple(dataclasses.replace(s, share=share[s.code]) for s in p.sites)
        # ED admissions: scale the admission chances so the overall share matches.
        admitted = sum(int(r["admitted"]) for r in ed) / n_ed
        modelled = 0.299  # the demo's type 1 admission share, which the base's chances give
        f = admitted / modelled
        changes["admit_majors"] = tuple(min(0.95, a * f) for a in p.admit_majors)
        changes["admit_resus"] = min(0.95, p.admit_resus * f)
        changes["admit_minors"] = min(0.95, p.admit_minors * f)
    n_utc = sum(int(r["n"]) for r in att if r["service_type"] == "utc")
    if n_utc:
        changes["utc_per_day"] = n_utc / days
    n_sdec = sum(int(r["n"]) for r in att if r["service_type"] == "sdec")
    if n_sdec:
        changes["sdec_per_day"] = n_sdec / days / len(p.sites)
    amb = _count(store, f"SELECT {_GROUP_SQL} AS g, count(*) AS n FROM ambulance_incidents"
                        " WHERE call_time >= :lo AND call_time < :hi AND outcome = 'conveyed_ed' GROUP BY g", lo, hi)
    if _mix(amb):
        changes["age_ambulance"] = _mix(amb)

    # Spells: time to the end of the criteria to reside, same-day share and pathways, by age group.
    # Stays still running at the end of the period are censored there (Kaplan-Meier), not dropped:
    # dropping them would keep the short stays and bias the medians down.
    spells = _count(store, f"SELECT {_GROUP_SQL} AS g, admission_method,"
                           " EXTRACT(EPOCH FROM criteria_to_reside_end_time) - EXTRACT(EPOCH FROM admission_time) AS s,"
                           " EXTRACT(EPOCH FROM CAST(:hi AS TIMESTAMP WITH TIME ZONE))"
                           " - EXTRACT(EPOCH FROM admission_time) AS c,"
                           " discharge_pathway FROM spells WHERE admission_time >= :lo AND admission_time < :hi",
                    lo, hi)
    emergency = [r for r in spells if r["admission_method"] != "elective"]
    same_day, medians, pathways = list(p.same_day), list(p.ctr_median_days), [list(x) for x in p.pathway_p]
    for g in range(len(AGE_GROUPS)):
        mine = [r for r in emergency if int(r["g"]) == g]
        if len(mine) < 30:
            continue  # too few to say; keep the base
        obs = [(min(float(r["s"]), float(r["c"])) / 86400.0, r["s"] is not None and float(r["s"]) <= float(r["c"]))
               if r["s"] is not None else (float(r["c"]) / 86400.0, False) for r in mine]
        short = sum(1 for t, ended in obs if ended and t <= 0.5)
        same_day[g] = short / len(obs)
        median = _km_median([(t, e) for t, e in obs if t > 0.5])
        if median is not None:
            medians[g] = median
        paths = [r["discharge_pathway"] for r in mine if r["discharge_pathway"] is not None
                 and r["s"] is not None and float(r["s"]) / 86400.0 > 0.5]
        if len(paths) >= 30:
            pathways[g] = [sum(1 for x in paths if int(x) == k) / len(paths) for k in (1, 2, 3)]
    changes["same_day"] = tuple(same_day)
    changes["ctr_median_days"] = tuple(medians)
    changes["pathway_p"] = tuple((a, b, c) for a, b, c in pathways)
    direct = _count(store, "SELECT admission_method, count(*) AS n FROM spells s"
                           " WHERE admission_time >= :lo AND admission_time < :hi AND attendance_id IS NULL"
                           " GROUP BY admission_method", lo, hi)
    for r in direct:
        # Spells without an attendance: electives, and GP direct admissions (plus a few whose
        # attendance fell before the period).
        if r["admission_method"] == "elective":
            changes["elective_per_weekday"] = int(r["n"]) / (days * 5 / 7)
        elif r["admission_method"] == "emergency":
            changes["direct_per_day"] = int(r["n"]) / days

    # Beds open at the latest census per site.
    beds = store.query("SELECT site_code, bed_type, beds_open FROM bed_states b WHERE snapshot_time ="
                       " (SELECT max(snapshot_time) FROM bed_states c WHERE c.site_code = b.site_code)")
    if beds:
        current = changes.get("sites", p.sites)
        open_ = {(r["site_code"], r["bed_type"]): int(r["beds_open"]) for r in beds}
        changes["sites"] = tuple(dataclasses.replace(
            s, core_beds=open_.get((s.code, "g_and_a"), s.core_beds)) for s in current)
    return dataclasses.replace(p, **changes)


def _km_median(obs: list[tuple[float, bool]]) -> float | None:
    """The Kaplan-Meier median of ``(time, ended)`` observations (``None`` if survival stays above 1/2).

    >>> _km_median([(1.0, True), (2.0, True), (3.0, False), (4.0, True)])  # survival 3/4, then 1/2
    2.0
    """
    surv = 1.0
    at_risk = len(obs)
    for t, ended in sorted(obs):
        if ended:
            surv *= 1.0 - 1.0 / at_risk
            if surv <= 0.5:
                return t
        at_risk -= 1
    return None


def _mix(rows: list[dict[str, Any]]) -> tuple[float, ...]:
    """Shares of the four age groups (rows with an unknown age are left out)."""
    counts = [sum(int(r["n"]) for r in rows if int(r["g"]) == g) for g in range(len(AGE_GROUPS))]
    total = sum(counts)
    return tuple(c / total for c in counts) if total else ()
