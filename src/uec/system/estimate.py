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
from dataclasses import dataclass
from typing import Any

from uec.errors import UecError
from uec.store import Store
from uec.system import queries as Q
from uec.system.params import AGE_GROUPS, CATEGORIES, SystemParams, demo_params

__all__ = ["estimate_params"]

def _span_days(store: Store, start: dt.datetime | None, end: dt.datetime | None) -> tuple[dt.datetime, dt.datetime]:
    lo, hi = Q.event_span(store)
    if lo is None:
        raise UecError("the store holds no ambulance incidents or attendances to estimate from; load some first")
    lo = start or lo
    hi = end or hi
    if hi <= lo:
        raise UecError("the estimation period is empty: its end is not after its start")
    return lo, hi


def estimate_params(store: Store, start: dt.datetime | None = None, end: dt.datetime | None = None,
                    base: SystemParams | None = None) -> SystemParams:
    """Parameters with demand and flow estimated from ``store``'s events in ``[start, end)``.

    The period defaults to the span of the store's incidents and attendances. See the module
    documentation for what is estimated and what is kept from ``base`` (default: the demo ICS).
    One function estimates each part of the system; each returns the parameters it changes.
    """
    p = base or demo_params()
    lo, hi = _span_days(store, start, end)
    days = (hi - lo).total_seconds() / 86400.0
    if days < 1.0:
        raise UecError(f"the store's events span {days * 24:.1f} hours; at least a day is needed to estimate rates")
    period = _Period(lo, hi, days)
    changes: dict[str, Any] = {}
    changes |= _nhs_111(store, p, period)
    changes |= _ambulance(store, p, period)
    changes |= _attendances(store, p, period)
    changes |= _spells(store, p, period)
    # Beds open at the latest census per site (on top of the sites' shares estimated above).
    beds = Q.beds_at_latest_census(store)
    if beds:
        current = changes.get("sites", p.sites)
        open_ = {(r["site_code"], r["bed_type"]): int(r["beds_open"]) for r in beds}
        changes["sites"] = tuple(dataclasses.replace(
            s, core_beds=open_.get((s.code, "g_and_a"), s.core_beds)) for s in current)
    return dataclasses.replace(p, **changes)


@dataclass(frozen=True)
class _Period:
    lo: dt.datetime
    hi: dt.datetime
    days: float


def _nhs_111(store: Store, p: SystemParams, t: _Period) -> dict[str, Any]:
    """Calls a day and the share of each disposition."""
    calls = Q.calls_by_disposition(store, t.lo, t.hi)
    total_calls = sum(int(r["n"]) for r in calls)
    if not total_calls:
        return {}
    by = {r["disposition"]: int(r["n"]) for r in calls}
    return {"calls_111_per_day": total_calls / t.days,
            "disposition_p": tuple(by.get(d, 0) / total_calls for d in p.dispositions)}


def _ambulance(store: Store, p: SystemParams, t: _Period) -> dict[str, Any]:
    """Incidents a day, hear and treat, the category mix, conveyance by category and to an ED."""
    inc = Q.incidents_by_category(store, t.lo, t.hi)
    total_inc = sum(int(r["n"]) for r in inc)
    if not total_inc:
        return {}
    changes: dict[str, Any] = {"incidents_per_day": total_inc / t.days}
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
    return changes


def _attendances(store: Store, p: SystemParams, t: _Period) -> dict[str, Any]:
    """ED, UTC and SDEC attendances a day, each site's share, ages, and ED admission chances."""
    att = Q.attendances_by_site(store, t.lo, t.hi)
    changes: dict[str, Any] = {}
    sites = {s.code for s in p.sites}
    ed = [r for r in att if r["service_type"] == "ed_type1"]
    unknown = sorted({str(r["site_code"]) for r in ed} - sites)
    if unknown:
        raise UecError(f"the store's EDs ({', '.join(unknown)}) are not the model's sites "
                       f"({', '.join(sorted(sites))}); estimation needs the same sites")
    n_ed = sum(int(r["n"]) for r in ed)
    if n_ed:
        changes["ed_attendances_per_day"] = n_ed / t.days
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
        changes["utc_per_day"] = n_utc / t.days
    n_sdec = sum(int(r["n"]) for r in att if r["service_type"] == "sdec")
    if n_sdec:
        changes["sdec_per_day"] = n_sdec / t.days / len(p.sites)
    amb = Q.ambulance_conveyances_by_age(store, t.lo, t.hi)
    if _mix(amb):
        changes["age_ambulance"] = _mix(amb)
    return changes


def _spells(store: Store, p: SystemParams, t: _Period) -> dict[str, Any]:
    """Time to the end of the criteria to reside, same-day share and pathways by age group; direct
    admissions and electives.

    Stays still running at the end of the period are censored there (Kaplan-Meier), not dropped:
    dropping them would keep the short stays and bias the medians down.
    """
    spells = Q.spells_admitted(store, t.lo, t.hi)
    emergency = [r for r in spells if r["admission_method"] != "elective"]
    same_day, medians, pathways = list(p.same_day), list(p.ctr_median_days), [list(x) for x in p.pathway_p]
    for g in range(len(AGE_GROUPS)):
        mine = [r for r in emergency if int(r["g"]) == g]
        if len(mine) < 30:
            continue  # too few to say; keep the base
        obs = [(min(float(r["s"]), float(r["c"])) / 86400.0, r["s"] is not None and float(r["s"]) <= float(r["c"]))
               if r["s"] is not None else (float(r["c"]) / 86400.0, False) for r in mine]
        short = sum(1 for t_, ended in obs if ended and t_ <= 0.5)
        same_day[g] = short / len(obs)
        median = _km_median([(t_, e) for t_, e in obs if t_ > 0.5])
        if median is not None:
            medians[g] = median
        paths = [r["discharge_pathway"] for r in mine if r["discharge_pathway"] is not None
                 and r["s"] is not None and float(r["s"]) / 86400.0 > 0.5]
        if len(paths) >= 30:
            pathways[g] = [sum(1 for x in paths if int(x) == k) / len(paths) for k in (1, 2, 3)]
    changes: dict[str, Any] = {"same_day": tuple(same_day), "ctr_median_days": tuple(medians),
                               "pathway_p": tuple((a, b, c) for a, b, c in pathways)}
    for r in Q.spells_without_attendance(store, t.lo, t.hi):
        # Spells without an attendance: electives, and GP direct admissions (plus a few whose
        # attendance fell before the period).
        if r["admission_method"] == "elective":
            changes["elective_per_weekday"] = int(r["n"]) / (t.days * 5 / 7)
        elif r["admission_method"] == "emergency":
            changes["direct_per_day"] = int(r["n"]) / t.days
    return changes


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
