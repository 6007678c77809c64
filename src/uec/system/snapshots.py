"""The contract's snapshot and call-handling tables, derived from a run's patient-level events.

ED area snapshots, specialty referrals, NHS 111 call handling and community, virtual ward and
mental health capacity snapshots are what the OPEL parameters need beyond the patient events. In
the demo ICS (either generator) and in a projection they are *derived from the events the run
wrote*, so they cannot disagree with them: the patients in an ED area at a snapshot are the
attendances in the department then; a referral sits between a patient's treatment and their
decision to admit; the calls answered in a 111 period are the ``calls_111`` rows answered in it;
a virtual ward or mental health bed is taken by a patient the events discharged or saw.

What the events do not say is drawn from one seeded stream, in a fixed order, so the same events
and seed always give the same tables. The demo's numbers here (space per area, staffing, stays)
are assumptions marked ``verified: false`` in their comments, with the reasoning.

>>> import datetime as dt
>>> t0 = dt.datetime(2025, 1, 6, tzinfo=dt.UTC)
>>> hourly_instants(t0, t0 + dt.timedelta(hours=3)).size
3
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from uec.contract import table as contract_table
from uec.ics import reference as R

__all__ = [
    "AREA_SHARE",
    "DERIVED_TABLES",
    "calls_111_handling",
    "capacity_states",
    "derived_tables",
    "ed_area_states",
    "hourly_instants",
    "specialty_referrals",
]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
BOOL = npt.NDArray[np.bool_]

#: The tables this module derives, in the order they are written.
DERIVED_TABLES = ("ed_area_states", "specialty_referrals", "calls_111_handling", "capacity_states")

_US = 1_000_000
_LONDON = ZoneInfo("Europe/London")

#: Share of a type 1 department's cubicles in each area. verified: false - a typical English type 1
#: layout as described in RCEM's ED design guidance (resus a handful of bays, majors the largest
#: area, a separate paediatric area); the exact split varies by trust and was not read from a source.
AREA_SHARE: dict[str, float] = {"resus": 0.12, "majors": 0.55, "minors": 0.20, "paediatrics": 0.13}

#: 111 handling: mean handling time (minutes) and staffing of the rota against the load expected
#: for that hour of the week. verified: false - 9 minutes is the whole-system model's call time;
#: a rota 35% above the expected load (plus one) answers most calls within a minute and falls
#: behind in a surge, as providers do. The queue smooths a period's load over the hour around it.
HANDLE_MINUTES = 9.0
ROTA_FACTOR = 1.35
#: Of callers still waiting after 30 seconds, the share who hang up. verified: false - chosen so
#: that abandonment runs at a few per cent in an ordinary week, near the IUC KPI of under 3%.
ABANDON_AFTER_30S = 0.35

#: Capacity snapshots: the mean occupancy each service runs at and how patients reach it.
#: verified: false - virtual wards ran at about 75-80% occupancy nationally in 2023-24 (NHS England
#: virtual ward statistics); adult acute mental health beds run at 95% or more in England, but the
#: demo's need is a Poisson stock (sd about 7% of the beds) capped at the beds, so 92% already
#: fills them on some days, the rest going out of area; community beds near 90%. Admissions are
#: scaled so that they fill the capacity to that level on average; the day-to-day variation comes
#: from the admissions in the events and the stays.
TARGET_OCCUPANCY = {"community_beds": 0.88, "virtual_ward": 0.76, "mh_adult_acute_beds": 0.92,
                    "mh_older_adult_beds": 0.90}
#: Mental health beds of the demo mental health trust. verified: false - England has about 18,000
#: mental health beds for 57 million people (0.31 per 1,000), of which adult acute are a little over
#: half and older adult about a fifth; scaled to the ICS's 1.2 million people.
MH_BEDS = {"mh_adult_acute_beds": 200, "mh_older_adult_beds": 75}
#: Virtual ward places per 100,000 people. verified: false - about 12,700 places for England in 2024.
VIRTUAL_WARD_PER_100K = 22.0
#: Mean stay in days. verified: false - NHS Benchmarking reports intermediate care beds at about 4
#: weeks, virtual wards at about a week, adult acute mental health at 5 weeks and older adult mental
#: health at about 2 months (rounded; the reports were not read for this project).
MEAN_STAY_DAYS = {"community_beds": 26.0, "virtual_ward": 7.0, "mh_adult_acute_beds": 35.0,
                  "mh_older_adult_beds": 60.0}
#: Spread (sigma of the log) of every stay. verified: false - stays are right-skewed; 0.8 gives a
#: mean about 1.4 times the median.
STAY_SIGMA = 0.8


def _us(col: pa.ChunkedArray | pa.Array) -> F64:
    """Microseconds since the epoch as floats (NaN for null)."""
    arr = pc.cast(col, pa.int64())
    out: F64 = np.asarray(arr.to_numpy(zero_copy_only=False), dtype=np.float64)
    if arr.null_count:
        mask = np.asarray(pc.is_null(arr).to_numpy(zero_copy_only=False), dtype=bool)
        out[mask] = np.nan
    return out


def _texts(col: pa.ChunkedArray | pa.Array) -> npt.NDArray[np.object_]:
    return np.asarray(col.to_numpy(zero_copy_only=False), dtype=object)


def _instants(us: F64) -> pa.Array:
    return pa.array(np.round(us).astype(np.int64), type=pa.timestamp("us", tz="UTC"))


def _table(name: str, columns: Mapping[str, object]) -> pa.Table:
    schema = contract_table(name).arrow_schema()
    n = next((len(v) for v in columns.values() if hasattr(v, "__len__")), 0)
    arrays = [pa.nulls(n, f.type) if columns.get(f.name) is None else pa.array(columns[f.name], type=f.type)
              for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


def hourly_instants(start: dt.datetime, end: dt.datetime, minutes: int = 60) -> I64:
    """Instants (microseconds, UTC) every ``minutes`` from ``start`` (whole UTC hours) up to ``end``."""
    first = int(start.timestamp()) // 3600 * 3600
    if first < start.timestamp():
        first += 3600
    step = minutes * 60
    return np.arange(first, int(end.timestamp()), step, dtype=np.int64) * _US


def _stock(starts: F64, ends: F64, at: I64) -> I64:
    """How many intervals ``[start, end)`` hold each instant ``at`` (NaN end: still open)."""
    s = np.sort(starts[np.isfinite(starts)])
    e = np.sort(np.where(np.isfinite(ends), ends, np.inf)[np.isfinite(starts)])
    out: I64 = (np.searchsorted(s, at, side="right") - np.searchsorted(e, at, side="right")).astype(np.int64)
    return out


# --- ED areas --------------------------------------------------------------------------------------


def _area(att: pa.Table) -> npt.NDArray[np.object_]:
    """Each attendance's area: children in paediatrics, acuity 1 in resus, 2-3 (and ambulance arrivals
    of lower acuity, who come on a trolley) in majors, 4-5 in minors."""
    age = _texts(att["age_band"])
    acuity = np.asarray(att["acuity"].to_numpy(zero_copy_only=False), dtype=np.float64)
    mode = _texts(att["arrival_mode"])
    child = np.isin(age, ["0-4", "5-17"])
    area = np.where(acuity <= 1, "resus", np.where(acuity >= 4, "minors", "majors")).astype(object)
    area[(area == "minors") & (mode == "ambulance")] = "majors"
    area[child] = "paediatrics"
    return area


def ed_area_states(attendances: pa.Table, services: pa.Table, start: dt.datetime, end: dt.datetime) -> pa.Table:
    """Hourly snapshots of each type 1 department's areas: spaces (its cubicles split by
    :data:`AREA_SHARE`) and the patients in each area (attendances from initial assessment, or
    arrival where there is none, to departure; a patient is counted for at most 48 hours after
    arriving, as in the OPEL parameters, where a longer stay is a missing departure)."""
    ed = attendances.filter(pc.is_in(attendances["service_type"], pa.array(["ed_type1", "ed_type2"])))
    cubicles = {str(r["site_code"]): int(r["capacity"] or 0) for r in services.to_pylist()
                if r["service_type"] in ("ed_type1", "ed_type2")}
    at = hourly_instants(start, end)
    sites = _texts(ed["site_code"])
    area = _area(ed)
    arrival = _us(ed["arrival_time"])
    ia = _us(ed["initial_assessment_time"])
    begin = np.where(np.isfinite(ia) & (ia >= arrival), ia, arrival)
    leave = _us(ed["departure_time"])
    leave = np.fmin(leave, arrival + 48 * 3600 * _US)
    cols: dict[str, list[object]] = {"site_code": [], "snapshot_time": [], "area": [], "spaces": [], "patients": []}
    times: list[I64] = []
    for site in sorted(cubicles):
        here = sites == site
        for name, share in AREA_SHARE.items():
            mine = here & (area == name)
            times.append(at)
            cols["site_code"] += [site] * at.size
            cols["area"] += [name] * at.size
            cols["spaces"] += [max(1, round(cubicles[site] * share))] * at.size
            cols["patients"] += _stock(begin[mine], leave[mine], at).tolist()
    snap = np.concatenate(times) if times else np.empty(0, np.int64)
    return _table("ed_area_states", {**cols, "snapshot_time": pa.array(snap, pa.timestamp("us", tz="UTC"))})


# --- specialty referrals ---------------------------------------------------------------------------


def specialty_referrals(attendances: pa.Table, rng: np.random.Generator) -> pa.Table:
    """A referral for every type 1 attendance with a decision to admit, requested between being seen
    and the decision (the specialty's acceptance), and for a tenth of the adults of acuity 1-3
    discharged from majors or resus (seen by a specialty, then sent home). verified: false - the
    tenth is an assumption; RCEM audits find a minority of referred patients discharged."""
    ed = attendances.filter(pc.equal(attendances["service_type"], "ed_type1"))
    n = ed.num_rows
    u = rng.random(n)
    v = rng.random(n)
    w = rng.random(n)
    arrival = _us(ed["arrival_time"])
    seen = _us(ed["seen_time"])
    seen = np.where(np.isfinite(seen), seen, arrival)
    dta = _us(ed["decision_to_admit_time"])
    leave = _us(ed["departure_time"])
    acuity = np.asarray(ed["acuity"].to_numpy(zero_copy_only=False), dtype=np.float64)
    age = _texts(ed["age_band"])
    admitted = np.isfinite(dta) & (dta >= seen)
    sent_home = (~np.isfinite(dta) & np.isfinite(leave) & (leave > seen) & (acuity <= 3)
                 & ~np.isin(age, ["0-4", "5-17"]) & (w < 0.10))
    until = np.where(admitted, dta, leave)
    request = seen + (0.2 + 0.5 * u) * (until - seen)
    assessment = np.where(admitted, dta, request + v * (until - request))
    keep = np.flatnonzero(admitted | sent_home)
    mh = np.asarray(ed["mental_health"].fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)
    specialty = np.where(np.isin(age, ["0-4", "5-17"]), "paediatrics",
                         np.where(mh, "mental_health",
                                  np.where(np.isin(age, ["75-84", "85+"]), "elderly_care",
                                           np.where(v < 0.3, "surgery", "medicine")))).astype(object)
    ids = pc.binary_join_element_wise("F", pc.take(ed["attendance_id"], pa.array(keep)), "")
    return _table("specialty_referrals", {
        "referral_id": ids,
        "attendance_id": pc.take(ed["attendance_id"], pa.array(keep)),
        "site_code": pc.take(ed["site_code"], pa.array(keep)),
        "request_time": _instants(request[keep]),
        "assessment_time": _instants(assessment[keep]),
        "specialty_group": specialty[keep],
    })


# --- NHS 111 call handling -------------------------------------------------------------------------


def _erlang_c(agents: F64, load: F64) -> F64:
    """The Erlang C probability that a caller waits, for ``agents`` servers and ``load`` Erlangs
    (1 where the load reaches the agents).

    >>> round(float(_erlang_c(np.array([2.0]), np.array([1.0]))[0]), 4)
    0.3333
    """
    b = np.ones_like(load)
    top = int(np.max(agents)) if agents.size else 0
    for k in range(1, top + 1):
        nb = load * b / (k + load * b)
        b = np.where(k <= agents, nb, b)
    denom = agents - load * (1 - b)
    out: F64 = np.where(load < agents, agents * b / np.maximum(denom, 1e-12), 1.0)
    return np.clip(out, 0.0, 1.0)


def calls_111_handling(calls: pa.Table, start: dt.datetime, end: dt.datetime, rng: np.random.Generator,
                       minutes: int = 15) -> pa.Table:
    """Call handling per ``minutes`` period for each 111 provider: answered calls are the ``calls_111``
    rows answered in the period; the rota is staffed at :data:`ROTA_FACTOR` times the load expected
    for that hour of the week; Erlang C then gives the share answered within 60 seconds and of those
    waiting past 30 seconds :data:`ABANDON_AFTER_30S` hang up (offered = answered + abandoned)."""
    edges = hourly_instants(start, end + dt.timedelta(minutes=minutes), minutes)
    if edges.size < 2 or calls.num_rows == 0:
        return _table("calls_111_handling", {"org_code": []})
    period_us = minutes * 60 * _US
    out: dict[str, list[object]] = {k: [] for k in ("org_code", "calls_offered", "calls_answered",
                                                    "calls_abandoned", "answered_within_60s")}
    starts: list[I64] = []
    orgs = _texts(calls["org_code"])
    t = _us(calls["call_time"])
    local = [dt.datetime.fromtimestamp(int(e) / _US, dt.UTC).astimezone(_LONDON) for e in edges[:-1]]
    week_slot = np.array([x.weekday() * 24 + x.hour for x in local], dtype=np.int64)
    for org in sorted(set(orgs.tolist())):
        answered = np.histogram(t[orgs == org], bins=edges.astype(np.float64))[0].astype(np.float64)
        expected = np.zeros(168)
        for slot in range(168):
            sel = week_slot == slot
            expected[slot] = answered[sel].mean() if sel.any() else 0.0
        # An hour's smoothing; a span shorter than that (a projection of under an hour) is its own
        # smoothing, since np.convolve's "same" returns the longer of its two inputs.
        k = min(4, answered.size)
        smooth = np.convolve(answered, np.ones(k) / k, mode="same")
        load = smooth / minutes * HANDLE_MINUTES
        agents = np.ceil(expected[week_slot] / minutes * HANDLE_MINUTES * ROTA_FACTOR) + 1
        wait_p = _erlang_c(agents, load)
        slack = np.maximum(agents - load, 0.0)
        # A rota overwhelmed for a while still answers some calls quickly (callers in the queue
        # hang up): the steady-state formula would say none.
        over_60 = np.where(load < agents, wait_p * np.exp(-slack * 1.0 / HANDLE_MINUTES), 0.7)
        over_30 = np.where(load < agents, wait_p * np.exp(-slack * 0.5 / HANDLE_MINUTES), 0.8)
        n_ans = answered.astype(np.int64)
        in_60 = rng.binomial(n_ans, np.clip(1 - over_60, 0.0, 1.0))
        p_ab = np.clip(over_30 * ABANDON_AFTER_30S, 0.0, 0.9)
        abandoned = rng.poisson(answered * p_ab / (1 - p_ab))
        starts.append(edges[:-1])
        out["org_code"] += [org] * answered.size
        out["calls_answered"] += n_ans.tolist()
        out["answered_within_60s"] += in_60.tolist()
        out["calls_abandoned"] += abandoned.tolist()
        out["calls_offered"] += (n_ans + abandoned).tolist()
    s = np.concatenate(starts)
    return _table("calls_111_handling", {
        **out, "period_start": pa.array(s, pa.timestamp("us", tz="UTC")),
        "period_end": pa.array(s + period_us, pa.timestamp("us", tz="UTC")),
    })


# --- community, virtual ward and mental health capacity --------------------------------------------


def _census(start: dt.datetime, end: dt.datetime) -> I64:
    """08:00 Europe/London on each local day in ``[start, end)``."""
    day = start.astimezone(_LONDON).date()
    out = []
    while True:
        at = dt.datetime.combine(day, dt.time(8), tzinfo=_LONDON)
        if at >= end:
            break
        if at >= start:
            out.append(int(at.timestamp()) * _US)
        day += dt.timedelta(days=1)
    return np.array(out, dtype=np.int64)


def _service_stock(admit: F64, service: str, capacity: int, span_days: float, at: I64, rng: np.random.Generator,
                   t0: float) -> I64:
    """Patients in a service at each census. Stays are lognormal with the service's
    :data:`MEAN_STAY_DAYS`; the admissions the events give are thinned, or topped up by admissions
    from elsewhere (GPs, community teams) spread evenly, so that the mean fills ``capacity`` to its
    :data:`TARGET_OCCUPANCY`; the service starts in equilibrium (a Poisson number already in, with
    the rest of their stays) so the first census is not empty."""
    mean_days = MEAN_STAY_DAYS[service]
    rate = TARGET_OCCUPANCY[service] * capacity / mean_days  # admissions a day
    have = admit.size / max(span_days, 1.0)
    if have > rate:
        admit = admit[rng.random(admit.size) < rate / have]
    else:
        extra = int(rng.poisson((rate - have) * span_days))
        admit = np.concatenate([admit, t0 + rng.random(extra) * span_days * 86400 * _US])
    median = mean_days / np.exp(STAY_SIGMA**2 / 2)
    stay = median * np.exp(STAY_SIGMA * rng.standard_normal(admit.size)) * 86400 * _US
    n0 = int(rng.poisson(rate * mean_days)) if rate > 0 else 0
    # Those already in at the start are caught mid-stay: their stays are length-biased (a lognormal's
    # length-biased form is lognormal with its log-mean raised by sigma squared) and a uniform part
    # of each is still to come. Without the bias the service empties for the first months.
    biased = median * np.exp(STAY_SIGMA**2 + STAY_SIGMA * rng.standard_normal(n0))
    left0 = biased * rng.random(n0) * 86400 * _US
    starts = np.concatenate([admit, np.full(n0, t0)])
    ends = np.concatenate([admit + stay, t0 + left0])
    return _stock(starts, ends, at)


def capacity_states(tables: Mapping[str, pa.Table], start: dt.datetime, end: dt.datetime,
                    rng: np.random.Generator) -> pa.Table:
    """The 08:00 census of the community provider's community beds (patients discharged on pathway 2)
    and virtual wards (step-down: a tenth of emergency spells of people 65 and over discharged home on
    pathway 0 or 1; step-up: a fifth of urgent community response referrals), and of the mental health
    trust's adult acute and older adult beds (a fifth of mental health ED attendances, by age); a mental
    health patient beyond the beds is placed out of area. verified: false - the shares are assumptions;
    the rates follow from :data:`TARGET_OCCUPANCY` and :data:`MEAN_STAY_DAYS`."""
    at = _census(start, end)
    t0 = start.timestamp() * _US
    span = (end - start).total_seconds() / 86400
    spells, att, ucr = tables["spells"], tables["attendances"], tables["ucr_referrals"]
    services = tables["services"].to_pylist()
    disch = _us(spells["discharge_time"])
    pathway = np.asarray(spells["discharge_pathway"].to_numpy(zero_copy_only=False), dtype=np.float64)
    emergency = _texts(spells["admission_method"]) == "emergency"
    old = np.isin(_texts(spells["age_band"]), ["65-74", "75-84", "85+"])
    in_window = np.isfinite(disch) & (disch >= t0)
    u = rng.random(spells.num_rows)
    p2 = disch[in_window & (pathway == 2)]
    step_down = disch[in_window & emergency & old & (pathway <= 1) & (u < 0.10)]
    ucr_t = _us(ucr["referral_time"])
    step_up = ucr_t[rng.random(ucr_t.size) < 0.20]
    mh = np.asarray(att["mental_health"].fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)
    mh_leave = _us(att["departure_time"])
    age = _texts(att["age_band"])
    v = rng.random(att.num_rows)
    to_mh = mh & np.isfinite(mh_leave) & (v < 0.20)
    community_beds = sum(int(r["capacity"] or 0) for r in services if r["service_type"] == "community_beds")
    vw = round(VIRTUAL_WARD_PER_100K * R.population_total() / 100_000)
    rows: list[tuple[str, str, int, I64, I64 | None]] = []
    if community_beds:
        # A bed cannot hold two patients: beyond the beds, patients wait elsewhere (in an acute bed).
        occ = _service_stock(p2, "community_beds", community_beds, span, at, rng, t0)
        rows.append((R.COMMUNITY, "community_beds", community_beds, np.minimum(occ, community_beds), None))
    occ = _service_stock(np.concatenate([step_down, step_up]), "virtual_ward", vw, span, at, rng, t0)
    rows.append((R.COMMUNITY, "virtual_ward", vw, occ, None))
    for service, ages in (("mh_adult_acute_beds", ["18-64"]), ("mh_older_adult_beds", ["65-74", "75-84", "85+"])):
        beds = MH_BEDS[service]
        need = _service_stock(mh_leave[to_mh & np.isin(age, ages)], service, beds, span, at, rng, t0)
        rows.append((R.MENTAL_HEALTH, service, beds, np.minimum(need, beds), np.maximum(need - beds, 0)))
    cols: dict[str, list[object]] = {k: [] for k in ("org_code", "service", "capacity", "occupied", "out_of_area")}
    for org, service, cap, occ_, out in rows:
        cols["org_code"] += [org] * at.size
        cols["service"] += [service] * at.size
        cols["capacity"] += [cap] * at.size
        cols["occupied"] += occ_.tolist()
        cols["out_of_area"] += out.tolist() if out is not None else [None] * at.size
    return _table("capacity_states", {**cols, "snapshot_time": pa.array(np.tile(at, len(rows)),
                                                                        pa.timestamp("us", tz="UTC"))})


def derived_tables(tables: Mapping[str, pa.Table], seed: int, start: dt.datetime, end: dt.datetime, *,
                   names: tuple[str, ...] = DERIVED_TABLES) -> dict[str, pa.Table]:
    """The tables ``names`` (default all of :data:`DERIVED_TABLES`) for events in ``[start, end)``.

    A projection asks only for call handling: ED areas and capacity need the patients already
    there when a run starts, which a run from now does not write, and drawn referrals would differ
    between the paired runs of a "try it" comparison.

    >>> import datetime as dt
    >>> from uec.demo import generate_demo
    >>> d = generate_demo(days=2, end=dt.date(2025, 1, 15))
    >>> d.tables["ed_area_states"].num_rows  # 3 sites x 4 areas x 48 hours
    576
    """
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(1313,))))
    out: dict[str, pa.Table] = {}
    if "ed_area_states" in names:
        out["ed_area_states"] = ed_area_states(tables["attendances"], tables["services"], start, end)
    if "specialty_referrals" in names:
        out["specialty_referrals"] = specialty_referrals(tables["attendances"], rng)
    if "calls_111_handling" in names:
        out["calls_111_handling"] = calls_111_handling(tables["calls_111"], start, end, rng)
    if "capacity_states" in names:
        out["capacity_states"] = capacity_states(tables, start, end, rng)
    return out
