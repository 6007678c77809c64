"""The demo's generator: patient-level urgent care for a whole ICS, vectorised with NumPy.

The order of work follows cause and effect, with one deliberate shortcut to break a loop. Waits
depend on how full the hospital is, and how full it is depends on when patients were admitted,
which depends on the waits. So the generator first places admissions *provisionally* (arrival plus
a typical stay in the ED), measures bed occupancy hour by hour from those, and then lets that
occupancy drive ambulance response times, handover delays and ED waits. The final spells start
when patients really leave the ED, and the bed census is counted from those final spells, so every
number in the store is consistent with every other; only the *pressure* felt by the waits comes
from the provisional pass.

All randomness is drawn from one generator per component, spawned from ``SeedSequence(seed)``,
and each component draws everything it needs up front: a change to one part leaves the random
numbers of the others untouched.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.special import gammaincinv

from uec.demo._calendar import DAY, HOUR, Calendar, make_calendar, monthly_curve
from uec.ics import params as P
from uec.ics import reference as R
from uec.ics.population import PersonSampler, Population, make_population, samplers

I64 = npt.NDArray[np.int64]
I8 = npt.NDArray[np.int8]
F64 = npt.NDArray[np.float64]
BOOL = npt.NDArray[np.bool_]

NULL = np.iinfo(np.int64).min  # a missing instant
WARMUP_DAYS = 63  # long enough for the wards to fill before the first written day
MINUTE = 60

STREAMS = ("population", "system", "nhs111", "ambulance", "ed", "utc", "sdec", "clinical",
           "ed_times", "spells", "admissions", "ucr")

# Site index used throughout: the three acute sites, then the two UTCs.
SITE_CODES = tuple(a[2] for a in R.ACUTE) + tuple(u[0] for u in R.UTCS)
N_ACUTE = len(R.ACUTE)
UTC_CATCHMENT = tuple(u[2] for u in R.UTCS)
SERVICE_ED, SERVICE_UTC, SERVICE_SDEC = 0, 1, 2
MODE_AMBULANCE, MODE_WALK_IN, MODE_OTHER = 0, 1, 2

# Attendance disposal codes, in the contract's order.
DISPOSALS = ("admitted", "discharged", "referred", "transferred", "left_before_treatment", "died", "other")
D_ADMITTED, D_DISCHARGED, D_REFERRED, D_TRANSFERRED, D_LEFT, D_DIED, D_OTHER = range(7)
OUTCOMES = ("hear_and_treat", "see_and_treat", "conveyed_ed", "conveyed_other")
O_HT, O_ST, O_ED, O_OTHER = range(4)
CATEGORIES = ("C1", "C2", "C3", "C4", "C5")
METHODS = ("emergency", "elective", "other")
SPECIALTIES = ("medicine", "surgery", "elderly_care", "paediatrics", "other")
DESTINATIONS = ("usual_residence", "care_home", "community_bed", "other_hospital", "died", "other")

Progress = Callable[[str, float], None]


def _ln(z: F64, median: float | F64, sd: float) -> F64:
    """Lognormal values from pre-drawn standard normals (so scaling never re-draws)."""
    out: F64 = median * np.exp(sd * z)
    return out


def _norm(profile: tuple[float, ...]) -> F64:
    p = np.asarray(profile, np.float64)
    out: F64 = p * (p.size / p.sum())
    return out


def _streams(seed: int) -> dict[str, np.random.Generator]:
    children = np.random.SeedSequence(seed).spawn(len(STREAMS))
    return {name: np.random.Generator(np.random.PCG64(child)) for name, child in zip(STREAMS, children, strict=True)}


@dataclass
class World:
    """Everything the components share: calendar, people, seasonality and calibration levels."""

    cal: Calendar
    pop: Population
    smp: dict[str, PersonSampler]
    rng: dict[str, np.random.Generator]
    calib: dict[str, Any]
    shock: F64  # shared log-scale day shock
    core_beds: I64
    escalation_beds: I64
    ics_population: int

    def per_day(self, per_1000_month: float) -> float:
        return per_1000_month * self.ics_population / 1000 / 30.4375

    def season(self, name: str) -> F64:
        return monthly_curve(self.calib["seasonality"][name]["month"], self.cal.day_month_pos)

    def effective_weekday(self) -> I8:
        """Weekday, with bank holidays counted as Sundays (services run a Sunday timetable)."""
        wd = self.cal.day_weekday.copy()
        wd[self.cal.day_bank_holiday] = 6
        return wd

    def hourly_events(self, rng: np.random.Generator, per_day: F64, profile: F64) -> I64:
        """Poisson arrivals per UTC hour; ``per_day`` is per local day, ``profile`` per grid hour.

        Returns the event times in seconds. A local day of 23 or 25 hours simply has one hour
        fewer or more: the profile is by local hour, so no hour is squeezed or stretched.
        """
        lam = per_day[self.cal.hour_day] * profile / 24.0
        counts = rng.poisson(lam)
        hours = np.repeat(np.arange(self.cal.n_hours), counts)
        out: I64 = self.cal.hour_start[hours] + np.floor(rng.random(hours.size) * HOUR).astype(np.int64)
        return out

    def profile(self, weekday: tuple[float, ...], weekend: tuple[float, ...] | None = None) -> F64:
        """A per-grid-hour profile from local-hour weights (a second set for weekends/bank holidays)."""
        p = _norm(weekday)[self.cal.hour_local]
        if weekend is not None:
            wknd = self.effective_weekday()[self.cal.hour_day] >= 5
            p = np.where(wknd, _norm(weekend)[self.cal.hour_local], p)
        return p

    def noise(self, rng: np.random.Generator, share: float = 1.0) -> F64:
        """Day factor: the shared system shock (partly) plus independent noise for this stream."""
        out: F64 = np.exp(share * self.shock + rng.normal(0.0, P.STREAM_SD, self.cal.n_days))
        return out


def _system_shock(rng: np.random.Generator, n: int) -> F64:
    e = rng.normal(0.0, P.SYSTEM_SD, n)
    s = np.empty(n)
    s[0] = e[0] / np.sqrt(1 - P.SYSTEM_AR**2)
    for i in range(1, n):
        s[i] = P.SYSTEM_AR * s[i - 1] + e[i]
    return s


def make_world(seed: int, end: dt.date, days: int) -> World:
    calib = P.calibration()
    cal = make_calendar(end, days, WARMUP_DAYS)
    rng = _streams(seed)
    pop = make_population(rng["population"], [a[4] for a in R.ACUTE])
    core = np.array(R.core_beds(calib["targets"]["g_and_a_beds_per_1000"]["value"]), np.int64)
    esc = np.array(R.escalation_beds(list(core), calib["assumptions"]["escalation_beds_share_of_core"]["value"]),
                   np.int64)
    return World(cal=cal, pop=pop, smp=samplers(pop), rng=rng, calib=calib,
                 shock=_system_shock(rng["system"], cal.n_days), core_beds=core, escalation_beds=esc,
                 ics_population=pop.size)


# --- NHS 111 ----------------------------------------------------------------------------------------


@dataclass
class Calls:
    time: I64
    person: I64
    disposition: I8
    booked: BOOL
    attend_u: F64  # chance draws for whether (and when) the caller goes where sent
    attend_z: F64
    slot_u: F64


def expected_111(w: World) -> F64:
    """Expected NHS 111 calls on each day (before day-to-day noise).

    The components fed by 111 (ambulances, ED and UTC referrals) subtract this expectation from
    their own totals, so each service keeps its published weekly shape even though 111 itself is
    busiest at weekends.
    """
    per_day = w.per_day(w.calib["assumptions"]["nhs111_calls_per_1000_month"]["value"])
    wd = _norm(P.WEEKDAY["nhs111"])[w.effective_weekday()]
    # 111 follows the ambulance winter curve: both are driven by the same illness in the community.
    daily: F64 = per_day * wd * w.season("ambulance_incidents") * np.where(w.cal.day_new_year, 1.3, 1.0)
    return daily


def _shut_share() -> float:
    """Share of 111 calls made when the UTCs are shut (their referrals go to the ED)."""
    prof = _norm(P.HOURLY["nhs111_weekday"])
    return float(prof[[21, 22, 23, 0, 1, 2, 3, 4, 5, 6]].sum() / 24.0)


def gen_111(w: World) -> Calls:
    rng = w.rng["nhs111"]
    daily = expected_111(w) * w.noise(rng, 0.7)
    t = w.hourly_events(rng, daily, w.profile(P.HOURLY["nhs111_weekday"], P.HOURLY["nhs111_weekend"]))
    n = t.size
    share = np.array([a[4] for a in R.ACUTE], np.float64)
    catch = rng.choice(N_ACUTE, size=n, p=share / share.sum())
    person = w.smp["nhs111"].sample(rng, catch)
    disp = rng.choice(len(P.DISPOSITIONS), size=n, p=np.array(P.DISPOSITION_P) / sum(P.DISPOSITION_P)).astype(np.int8)
    booked_p = np.array([P.BOOKED_P.get(d, 0.0) for d in P.DISPOSITIONS])
    booked = rng.random(n) < booked_p[disp]
    return Calls(time=t, person=person, disposition=disp, booked=booked, attend_u=rng.random(n),
                 attend_z=rng.standard_normal(n), slot_u=rng.random(n))


# --- Ambulance demand -------------------------------------------------------------------------------


@dataclass
class Incidents:
    call: I64
    person: I64
    category: I8  # 0..4 = C1..C5
    outcome: I8
    dest: I8  # acute site index, -1 for none
    to_sdec: BOOL  # a "conveyed elsewhere" patient taken to the SDEC of their own site
    # Pre-drawn randomness for the timeline.
    g_resp: F64  # response time as a Gamma(shape) draw per unit mean, set by category
    u_alloc: F64
    z_scene: F64
    z_travel: F64
    z_handover: F64
    z_clear: F64
    u_sdec: F64
    # Filled in by ambulance_times().
    alloc: I64 = field(default_factory=lambda: np.empty(0, np.int64))
    on_scene: I64 = field(default_factory=lambda: np.empty(0, np.int64))
    hospital: I64 = field(default_factory=lambda: np.empty(0, np.int64))
    handover: I64 = field(default_factory=lambda: np.empty(0, np.int64))
    clear: I64 = field(default_factory=lambda: np.empty(0, np.int64))


def _gamma_shape(ratio: float) -> float:
    """Gamma shape whose 90th centile is ``ratio`` times its mean (AmbSYS gives both)."""
    lo, hi = 0.05, 200.0
    for _ in range(80):
        mid = (lo * hi) ** 0.5
        if float(gammaincinv(mid, 0.9)) / mid > ratio:
            lo = mid
        else:
            hi = mid
    return float((lo * hi) ** 0.5)


def gen_ambulance(w: World, calls: Calls) -> Incidents:
    rng = w.rng["ambulance"]
    t = w.calib["targets"]
    src = w.calib["sources"]["swast_2014_19"]
    # All incidents follow SWAST's weekly and bank-holiday pattern and AmbSYS's monthly one; the
    # 999 calls made directly are what is left once the expected 111 referrals are counted.
    total = w.per_day(t["ambulance_incidents_per_1000_month"]["value"])
    wd = np.array(src["weekday_ratio"]) / np.mean(src["weekday_ratio"])
    day_total = total * wd[w.cal.day_weekday] * w.season("ambulance_incidents")
    day_total = np.where(w.cal.day_bank_holiday, day_total * src["bank_holiday_ratio"], day_total)
    day_total = np.where(w.cal.day_new_year, day_total * src["new_years_day_ratio"] / src["bank_holiday_ratio"],
                         day_total)
    via_111 = expected_111(w) * P.DISPOSITION_P[P.DISPOSITIONS.index("ambulance_999")]
    day = np.maximum(day_total - via_111, 0.2 * day_total)
    prof = w.profile(P.HOURLY["ambulance"])
    times: list[I64] = []
    catches: list[I64] = []
    share = np.array([a[4] for a in R.ACUTE], np.float64)
    share /= share.sum()
    for c in range(N_ACUTE):
        tc = w.hourly_events(rng, share[c] * day * w.noise(rng), prof)
        times.append(tc)
        catches.append(np.full(tc.size, c, np.int64))
    from111 = calls.disposition == P.DISPOSITIONS.index("ambulance_999")
    times.append(calls.time[from111] + (2 * MINUTE + rng.random(int(from111.sum())) * 10 * MINUTE).astype(np.int64))
    catches.append(w.pop.catchment[calls.person[from111]].astype(np.int64))
    call = np.concatenate(times)
    catch = np.concatenate(catches)
    n111 = int(from111.sum())
    is111 = np.concatenate([np.zeros(call.size - n111, np.bool_), np.ones(n111, np.bool_)])
    person = np.concatenate([w.smp["ambulance"].sample(rng, catch[~is111]), calls.person[from111]])
    n = call.size

    ht_share = t["ambulance_hear_and_treat_share"]["value"]
    cat_share = np.array([t[f"ambulance_c{i}_share"]["value"] for i in range(1, 5)])
    category = rng.choice(4, size=n, p=cat_share / cat_share.sum()).astype(np.int8)
    hear = rng.random(n) < ht_share
    category[hear] = 4  # C5: hear and treat, no vehicle sent
    conv = rng.random(n) < np.array((*P.CATEGORY_CONVEYED, 0.0))[category]
    to_ed = rng.random(n) < P.CONVEYED_TO_ED
    outcome = np.where(hear, O_HT, np.where(conv & to_ed, O_ED, np.where(conv, O_OTHER, O_ST))).astype(np.int8)
    # Most go to their own acute site; the rest to one of the other two (diverts, specialist care).
    own = rng.random(n) < P.OWN_CATCHMENT
    other = (catch + 1 + rng.integers(0, N_ACUTE - 1, n)) % N_ACUTE
    dest = np.where(own, catch, other)
    dest = np.where(outcome == O_ED, dest, np.where(outcome == O_OTHER, catch, -1)).astype(np.int8)

    # Response time per unit mean: Gamma with the shape that gives AmbSYS's 90th centile / mean.
    resp = np.empty(n)
    for i in range(5):
        m = category == i
        if i < 4:
            c = w.calib["sources"]["ambsys_2019"][f"c{i + 1}"]
            k = _gamma_shape(c["p90_s"] / c["mean_s"])
            resp[m] = rng.gamma(k, 1.0 / k, int(m.sum()))
        else:
            resp[m] = 0.0
    order = np.argsort(call, kind="stable")

    def o(a: npt.NDArray[Any]) -> npt.NDArray[Any]:
        return a[order]

    return Incidents(
        call=o(call), person=o(person), category=o(category), outcome=o(outcome), dest=o(dest),
        to_sdec=np.zeros(n, np.bool_),
        g_resp=o(resp), u_alloc=rng.random(n)[order], z_scene=rng.standard_normal(n)[order],
        z_travel=rng.standard_normal(n)[order], z_handover=rng.standard_normal(n)[order],
        z_clear=rng.standard_normal(n)[order], u_sdec=rng.random(n)[order],
    )


# --- Attendances: who arrives where ---------------------------------------------------------------


@dataclass
class Attendances:
    site: I8
    service: I8
    arrival: I64
    mode: I8
    person: I64
    by111: BOOL
    booked: BOOL
    incident: I64  # index into Incidents, -1 if none
    sex: I8 = field(default_factory=lambda: np.empty(0, np.int8))
    ethnic: I8 = field(default_factory=lambda: np.empty(0, np.int8))
    acuity: I8 = field(default_factory=lambda: np.empty(0, np.int8))
    mental: BOOL = field(default_factory=lambda: np.empty(0, np.bool_))
    disposal: I8 = field(default_factory=lambda: np.empty(0, np.int8))
    z: F64 = field(default_factory=lambda: np.empty((0, 8)))  # standard normals for the clock
    initial: I64 = field(default_factory=lambda: np.empty(0, np.int64))
    seen: I64 = field(default_factory=lambda: np.empty(0, np.int64))
    dta: I64 = field(default_factory=lambda: np.empty(0, np.int64))
    ready: I64 = field(default_factory=lambda: np.empty(0, np.int64))
    departure: I64 = field(default_factory=lambda: np.empty(0, np.int64))

    @property
    def size(self) -> int:
        return int(self.arrival.size)


def _open(w: World, t: I64, opens: float, last: float) -> BOOL:
    h = w.cal.local_hour(t)
    out: BOOL = (h >= opens) & (h < last)
    return out


def gen_attendance_demand(w: World, calls: Calls, inc: Incidents) -> Attendances:
    """Everyone who arrives at an ED, UTC or SDEC, with the route that brought them.

    Ambulance patients get a provisional arrival (call + 75 min) until response times are known.
    """
    rng_ed, rng_utc, rng_sdec = w.rng["ed"], w.rng["utc"], w.rng["sdec"]
    t = w.calib["targets"]
    parts: list[dict[str, npt.NDArray[Any]]] = []

    def part(site: npt.ArrayLike, service: int, arrival: I64, mode: npt.ArrayLike, person: I64,
             by111: bool, booked: npt.ArrayLike, incident: npt.ArrayLike) -> None:
        n = arrival.size
        parts.append({
            "site": np.broadcast_to(np.asarray(site, np.int8), (n,)).copy(),
            "service": np.full(n, service, np.int8),
            "arrival": arrival,
            "mode": np.broadcast_to(np.asarray(mode, np.int8), (n,)).copy(),
            "person": person,
            "by111": np.full(n, by111, np.bool_),
            "booked": np.broadcast_to(np.asarray(booked, np.bool_), (n,)).copy(),
            "incident": np.broadcast_to(np.asarray(incident, np.int64), (n,)).copy(),
        })

    # Ambulance conveyances to ED (arrival provisional).
    amb = np.flatnonzero(inc.outcome == O_ED)
    part(inc.dest[amb], SERVICE_ED, inc.call[amb] + 75 * MINUTE, MODE_AMBULANCE, inc.person[amb], False, False, amb)

    # NHS 111 referrals that turn up. A caller sent to a UTC or SDEC that is shut goes to the ED,
    # unless they were booked in, in which case they come when it opens.
    d = calls.disposition
    delay = _ln(calls.attend_z, 70.0 * MINUTE, 0.5).astype(np.int64)
    arrive = calls.time + delay
    catch = w.pop.catchment[calls.person].astype(np.int64)
    go = calls.attend_u < np.array([P.ATTEND_P.get(x, 0.0) for x in P.DISPOSITIONS])[d]
    to_ed = go & (d == P.DISPOSITIONS.index("ed"))
    to_utc = go & (d == P.DISPOSITIONS.index("utc"))
    to_sdec = go & (d == P.DISPOSITIONS.index("sdec"))
    # The city catchment (1) has no UTC of its own and uses either.
    utc_of = np.where(catch == UTC_CATCHMENT[0], N_ACUTE,
                      np.where(catch == UTC_CATCHMENT[1], N_ACUTE + 1, N_ACUTE + (calls.slot_u < 0.5)))
    utc_open = _open(w, arrive, 8.0, 21.5)
    sdec_open = _open(w, arrive, 8.0, 19.0)
    booked = calls.booked
    next_morning = w.cal.to_utc(w.cal.local_day(arrive) + 1, (8.0 + 2.0 * calls.slot_u) * HOUR)
    utc_booked_late = to_utc & ~utc_open & booked
    arrive = np.where(utc_booked_late, next_morning, arrive)
    utc_ok = to_utc & (utc_open | booked)
    sdec_ok = to_sdec & sdec_open
    ed_go = to_ed | (to_utc & ~utc_ok) | (to_sdec & ~sdec_ok)
    ed_booked = to_ed & booked
    mode_111 = np.where(calls.slot_u < 0.8, MODE_WALK_IN, MODE_OTHER)
    part(catch[ed_go], SERVICE_ED, arrive[ed_go], mode_111[ed_go], calls.person[ed_go], True, ed_booked[ed_go], -1)
    part(utc_of[utc_ok], SERVICE_UTC, arrive[utc_ok], mode_111[utc_ok], calls.person[utc_ok], True,
         booked[utc_ok], -1)
    part(catch[sdec_ok], SERVICE_SDEC, arrive[sdec_ok], mode_111[sdec_ok], calls.person[sdec_ok], True,
         booked[sdec_ok], -1)

    # Walk-ins to the EDs: whatever each day's expected total leaves once the expected ambulance
    # conveyances and 111 referrals are counted, so the ED keeps its own weekly shape (Monday
    # peak) although 111 peaks at weekends and ambulances a little too.
    shut = _shut_share()
    e111 = expected_111(w)
    exp_111_ed = e111 * (P.DISPOSITION_P[0] * P.ATTEND_P["ed"]
                         + P.DISPOSITION_P[1] * P.ATTEND_P["utc"] * shut * 0.45
                         + P.DISPOSITION_P[2] * P.ATTEND_P["sdec"] * (shut + 0.1))
    src = w.calib["sources"]["swast_2014_19"]
    amb_wd = np.array(src["weekday_ratio"]) / np.mean(src["weekday_ratio"])
    amb_ed_day = w.per_day(t["ambulance_incidents_per_1000_month"]["value"]) * t["ambulance_conveyed_ed_share"]["value"]
    exp_amb_ed = (amb_ed_day
                  * amb_wd[w.cal.day_weekday] * w.season("ambulance_incidents")
                  * np.where(w.cal.day_bank_holiday, src["bank_holiday_ratio"], 1.0))
    ed_total = w.per_day(t["ed_type1_attendances_per_1000_month"]["value"])
    wd = _norm(P.WEEKDAY["ed"])[w.effective_weekday()]
    after = np.isin(np.arange(w.cal.n_days), np.flatnonzero(w.cal.day_after_bank_holiday))
    wd = np.where(after & (w.cal.day_weekday != 0), np.maximum(wd, P.ED_AFTER_BANK_HOLIDAY), wd)
    xmas = np.array([(w.cal.first_day + dt.timedelta(days=i)).strftime("%m-%d") == "12-25"
                     for i in range(w.cal.n_days)])
    ed_day = ed_total * wd * w.season("ed_type1_attendances") * np.where(xmas, P.ED_CHRISTMAS_DAY, 1.0)
    walk_day = np.maximum(ed_day - exp_amb_ed - exp_111_ed, 0.2 * ed_day)
    share = np.array([a[4] for a in R.ACUTE], np.float64)
    share /= share.sum()
    prof = w.profile(P.HOURLY["ed"])
    for c in range(N_ACUTE):
        tc = w.hourly_events(rng_ed, walk_day * share[c] * w.noise(rng_ed), prof)
        mode = np.where(rng_ed.random(tc.size) < 0.88, MODE_WALK_IN, MODE_OTHER)
        part(np.full(tc.size, c), SERVICE_ED, tc, mode, w.smp["ed"].sample(rng_ed, np.full(tc.size, c)), False,
             False, -1)

    # UTC walk-ins, split between the two centres, after the expected 111 referrals.
    utc_total = w.per_day(t["minor_attendances_per_1000_month"]["value"])
    utc_day = utc_total * _norm(P.WEEKDAY["utc"])[w.effective_weekday()] * w.season("minor_attendances")
    utc_walk = np.maximum(utc_day - e111 * P.DISPOSITION_P[1] * P.ATTEND_P["utc"] * (1 - shut * 0.45), 0.2 * utc_day)
    prof_utc = w.profile(P.HOURLY["utc"])
    for k, s in enumerate((0.55, 0.45)):
        tc = w.hourly_events(rng_utc, utc_walk * s * w.noise(rng_utc, 0.5), prof_utc)
        # Residents of the UTC's own catchment mostly, some from the city catchment.
        home = np.where(rng_utc.random(tc.size) < 0.8, UTC_CATCHMENT[k], 1)
        mode = np.where(rng_utc.random(tc.size) < 0.93, MODE_WALK_IN, MODE_OTHER)
        part(np.full(tc.size, N_ACUTE + k), SERVICE_UTC, tc, mode, w.smp["utc"].sample(rng_utc, home), False,
             False, -1)

    # SDEC: GP and ED-streamed referrals (the ambulance and 111 routes are added elsewhere).
    sdec_site = w.calib["assumptions"]["sdec_attendances_per_day_per_site"]["value"]
    wd_sdec = _norm(P.WEEKDAY["sdec"])[w.effective_weekday()]
    prof_sdec = w.profile(P.HOURLY["sdec"])
    for c in range(N_ACUTE):
        per = sdec_site * share[c] * N_ACUTE * 0.85
        tc = w.hourly_events(rng_sdec, per * wd_sdec * w.season("ed_type1_admissions") * w.noise(rng_sdec, 0.5),
                             prof_sdec)
        mode = np.where(rng_sdec.random(tc.size) < 0.85, MODE_WALK_IN, MODE_OTHER)
        part(np.full(tc.size, c), SERVICE_SDEC, tc, mode, w.smp["sdec"].sample(rng_sdec, np.full(tc.size, c)),
             False, False, -1)

    # Ambulance "conveyed elsewhere" patients: some to SDEC at their own site when it is open.
    # (Whether SDEC is open is judged on the provisional arrival; the final one moves a little.)
    oth = np.flatnonzero(inc.outcome == O_OTHER)
    prov = inc.call[oth] + 75 * MINUTE
    take = (inc.u_sdec[oth] < 0.5) & _open(w, prov, 8.0, 18.0)
    sd = oth[take]
    inc.to_sdec[sd] = True
    part(inc.dest[sd], SERVICE_SDEC, prov[take], MODE_AMBULANCE, inc.person[sd], False, False, sd)
    inc.dest[oth[~take]] = -1

    cat = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    return Attendances(site=cat["site"], service=cat["service"], arrival=cat["arrival"], mode=cat["mode"],
                       person=cat["person"], by111=cat["by111"], booked=cat["booked"], incident=cat["incident"])


def gen_clinical(w: World, att: Attendances) -> None:
    """Acuity, mental-health flag, recorded sex and ethnicity, and what happens to each patient."""
    rng = w.rng["clinical"]
    n = att.size
    age = w.pop.age[att.person]
    # Record-level sex and ethnicity: the person's, unless not recorded this time.
    u = rng.random(n)
    att.sex = np.where(u < P.SEX_UNKNOWN, 3, np.where(u < P.SEX_UNKNOWN + P.SEX_OTHER, 2,
                                                         w.pop.sex[att.person])).astype(np.int8)
    att.ethnic = np.where(rng.random(n) < P.ETHNIC_NOT_STATED, 5, w.pop.ethnic[att.person]).astype(np.int8)

    def pick(probs: tuple[float, ...], m: BOOL) -> None:
        p = np.array(probs) / sum(probs)
        acuity[m] = rng.choice(5, size=int(m.sum()), p=p) + 1

    acuity = np.zeros(n, np.int8)
    ed = att.service == SERVICE_ED
    pick(P.ACUITY_AMBULANCE, ed & (att.mode == MODE_AMBULANCE))
    pick(P.ACUITY_WALK_IN, ed & (att.mode != MODE_AMBULANCE))
    pick(P.ACUITY_UTC, att.service == SERVICE_UTC)
    pick(P.ACUITY_SDEC, att.service == SERVICE_SDEC)
    att.acuity = acuity

    # Mental-health presentations: mostly working-age adults in the ED, more at night.
    h = w.cal.local_hour(att.arrival)
    mh_age = np.array([0.1, 0.9, 1.45, 0.45, 0.35, 0.3])[age]
    night = np.where((h >= 20) | (h < 6), 1.6, 0.85)
    svc = np.array([1.0, 0.2, 0.0])[att.service]
    att.mental = rng.random(n) < P.MENTAL_HEALTH_P * mh_age * night * svc

    # Admission from the ED: relative risk by acuity, age and route, scaled month by month so that
    # admissions follow the published monthly shape of type 1 admissions (which peaks in winter
    # more than attendances do) at the published admission share.
    rel = (np.array(P.ADMIT_BY_ACUITY)[np.clip(acuity - 1, 0, 4)] * np.array(P.ADMIT_AGE)[age]
           * np.where(att.mode == MODE_AMBULANCE, P.ADMIT_AMBULANCE, 1.0)
           * np.where(att.mental, P.ADMIT_MENTAL_HEALTH, 1.0))
    day = np.clip(w.cal.local_day(att.arrival), 0, w.cal.n_days - 1)
    t = w.calib["targets"]
    share = t["ed_type1_admission_share"]["value"]
    expected = w.per_day(t["ed_type1_attendances_per_1000_month"]["value"]) * share * w.season("ed_type1_admissions")
    month = w.cal.day_month[day]
    scale = np.zeros(13)
    for mo in np.unique(month[ed]):
        in_m = ed & (month == mo)
        want = expected[w.cal.day_month == mo].sum()
        r = rel[in_m]
        k = want / r.sum()
        # A few fixed-point steps find the scale despite the cap at 97%.
        for _ in range(5):
            k *= want / max(np.clip(k * r, 0.0, 0.97).sum(), 1e-9)
        scale[mo] = k
    p_admit = np.clip(scale[month] * rel, 0.0, 0.97)
    ua, ud = rng.random(n), rng.random(n)
    disposal = np.full(n, D_DISCHARGED, np.int8)
    # Everyone not admitted: discharged, referred on, transferred, left, died, other.
    other_p = np.array([0.0, 0.70, 0.16, 0.02, 0.0, 0.0, 0.05])
    cum = np.cumsum(other_p / other_p.sum())
    rest = np.searchsorted(cum, ud, side="right").astype(np.int8)
    disposal[:] = np.minimum(rest, D_OTHER)
    admit_ed = ed & (ua < p_admit)
    disposal[admit_ed] = D_ADMITTED
    left = ed & ~admit_ed & (acuity >= 3) & (rng.random(n) < P.LEFT_EARLY_P * np.where(acuity >= 4, 1.5, 0.5))
    disposal[left] = D_LEFT
    died = ed & (acuity == 1) & (rng.random(n) < 0.03)
    disposal[died] = D_DIED
    utc = att.service == SERVICE_UTC
    uu = rng.random(n)
    disposal[utc & (uu < P.UTC_ADMITTED)] = D_ADMITTED
    disposal[utc & (uu >= P.UTC_ADMITTED) & (uu < 0.04)] = D_TRANSFERRED
    disposal[utc & (uu >= 0.04) & (uu < 0.07)] = D_LEFT
    sdec = att.service == SERVICE_SDEC
    disposal[sdec & (disposal == D_LEFT)] = D_DISCHARGED
    disposal[sdec & (ua < P.SDEC_ADMITTED)] = D_ADMITTED
    att.disposal = disposal
    att.z = w.rng["ed_times"].standard_normal((n, 8))


# --- Inpatient spells -------------------------------------------------------------------------------


@dataclass
class Spells:
    site: I8
    admission: I64
    method: I8
    specialty: I8
    attendance: I64  # index into Attendances, -1 if none
    person: I64
    sex: I8
    ethnic: I8
    kind: I8  # 0 stays, 1 same day, 2 dies, 3 transferred out, 4 elective
    pathway: I8  # 0..3, -1 if none
    destination: I8
    draws: F64  # (n, 11) uniforms and normals for the schedule
    ctr: I64 = field(default_factory=lambda: np.empty(0, np.int64))
    discharge: I64 = field(default_factory=lambda: np.empty(0, np.int64))

    @property
    def size(self) -> int:
        return int(self.admission.size)


K_STAY, K_SAME_DAY, K_DIES, K_TRANSFER, K_ELECTIVE = range(5)


def gen_spells(w: World, att: Attendances, provisional: I64) -> Spells:
    """Spells for admitted attendances plus direct and elective admissions, and their fates.

    ``provisional`` holds a provisional admission time for each admitted attendance; the
    schedule draws are made now and reused when the real admission time is known.
    """
    rng = w.rng["spells"]
    rng_adm = w.rng["admissions"]
    admitted = np.flatnonzero(att.disposal == D_ADMITTED)
    # UTC patients are admitted at the acute site of their catchment.
    site_e = np.where(att.site[admitted] >= N_ACUTE,
                      np.array(UTC_CATCHMENT)[np.clip(att.site[admitted] - N_ACUTE, 0, 1)], att.site[admitted])

    # Direct emergency admissions (GP to the assessment unit) during the working day.
    direct_day = w.calib["assumptions"]["direct_emergency_admissions_per_day"]["value"]
    share = np.array([a[4] for a in R.ACUTE], np.float64)
    share /= share.sum()
    wd = _norm(P.WEEKDAY["direct"])[w.effective_weekday()]
    prof = w.profile(P.HOURLY["direct"])
    d_t, d_site = [], []
    for c in range(N_ACUTE):
        tc = w.hourly_events(rng_adm, direct_day * share[c] * wd * w.season("ed_type1_admissions"), prof)
        d_t.append(tc)
        d_site.append(np.full(tc.size, c, np.int8))
    dt_ = np.concatenate(d_t)
    ds_ = np.concatenate(d_site)
    d_person = w.smp["direct"].sample(rng_adm, ds_)

    # Electives: weekdays that are not bank holidays, admitted 07:00-10:00 local.
    el_day = w.calib["assumptions"]["elective_admissions_per_weekday"]["value"]
    working = (w.cal.day_weekday < 5) & ~w.cal.day_bank_holiday
    # Lists thin out between Christmas and New Year.
    md = np.array([(w.cal.first_day + dt.timedelta(days=i)).strftime("%m-%d") for i in range(w.cal.n_days)])
    quiet = (md >= "12-24") | (md <= "01-02")
    e_t, e_site = [], []
    for c in range(N_ACUTE):
        counts = rng_adm.poisson(el_day * share[c] * working * np.where(quiet, 0.3, 1.0))
        days = np.repeat(np.arange(w.cal.n_days), counts)
        e_t.append(w.cal.to_utc(days, (7.0 + 3.0 * rng_adm.random(days.size)) * HOUR))
        e_site.append(np.full(days.size, c, np.int8))
    et_ = np.concatenate(e_t)
    es_ = np.concatenate(e_site)
    e_person = w.smp["elective"].sample(rng_adm, es_)

    n_a, n_d, n_e = admitted.size, dt_.size, et_.size
    n = n_a + n_d + n_e
    site = np.concatenate([site_e.astype(np.int8), ds_, es_])
    admission = np.concatenate([provisional, dt_, et_])
    person = np.concatenate([att.person[admitted], d_person, e_person])
    attendance = np.concatenate([admitted, np.full(n_d + n_e, -1, np.int64)])
    u_other = rng_adm.random(n_d)
    method = np.concatenate([np.zeros(n_a, np.int8), np.where(u_other < 0.1, 2, 0).astype(np.int8),
                             np.ones(n_e, np.int8)])
    u_sex = rng_adm.random(n_d + n_e)
    sex_de = np.where(u_sex < P.SEX_UNKNOWN, 3, w.pop.sex[person[n_a:]]).astype(np.int8)
    eth_de = np.where(rng_adm.random(n_d + n_e) < P.ETHNIC_NOT_STATED, 5, w.pop.ethnic[person[n_a:]]).astype(np.int8)
    sex = np.concatenate([att.sex[admitted], sex_de])
    ethnic = np.concatenate([att.ethnic[admitted], eth_de])

    age = w.pop.age[person]
    u = rng.random((n, 6))
    elective = method == 1
    same_day = ~elective & (u[:, 0] < np.array(P.SAME_DAY)[age])
    dies = ~elective & ~same_day & (u[:, 1] < np.array(P.DIED_P)[age])
    transfer = ~elective & ~same_day & ~dies & (u[:, 2] < P.TRANSFER_P)
    kind = np.full(n, K_STAY, np.int8)
    kind[same_day] = K_SAME_DAY
    kind[dies] = K_DIES
    kind[transfer] = K_TRANSFER
    kind[elective] = K_ELECTIVE

    pp = np.array(P.PATHWAY_P)[age]  # (n, 3)
    cum = np.cumsum(pp, axis=1)
    pathway = np.where(u[:, 3] < cum[:, 0], 1, np.where(u[:, 3] < cum[:, 1], 2, np.where(u[:, 3] < cum[:, 2], 3, 0)))
    ep = np.cumsum(P.ELECTIVE_PATHWAY)
    pathway_el = np.searchsorted(ep, u[:, 3] * ep[-1], side="right")
    pathway = np.where(elective, pathway_el, pathway)
    pathway = np.where(kind == K_SAME_DAY, 0, pathway)
    pathway = np.where((kind == K_DIES) | (kind == K_TRANSFER), -1, pathway).astype(np.int8)
    dest = np.select(
        [kind == K_DIES, kind == K_TRANSFER, pathway == 3, pathway == 2, (pathway <= 1) & (u[:, 4] < 0.03)],
        [4, 3, 1, 2, 5], default=0).astype(np.int8)

    # Specialty group: children to paediatrics, electives mostly surgery, older emergencies to
    # elderly care.
    us = u[:, 5]
    spec = np.where(age <= 1, 3,
                    np.where(elective, np.where(us < 0.75, 1, np.where(us < 0.9, 0, 4)),
                             np.where(age >= 4, np.where(us < 0.6, 2, np.where(us < 0.85, 0, 1)),
                                      np.where(us < 0.6, 0, np.where(us < 0.9, 1, 4))))).astype(np.int8)
    draws = np.column_stack([rng.random((n, 6)), rng.standard_normal((n, 5))])
    return Spells(site=site, admission=admission, method=method, specialty=spec, attendance=attendance,
                  person=person, sex=sex, ethnic=ethnic, kind=kind, pathway=pathway, destination=dest,
                  draws=draws)


def schedule(w: World, sp: Spells, admission: I64) -> tuple[I64, I64]:
    """Criteria-to-reside end and discharge for each spell admitted at ``admission``.

    Decisions happen on ward rounds and discharges in the afternoon, by the local clock; patients
    waiting for pathway 1-3 support wait longer, longer still in winter, and fewer leave at weekends.
    """
    cal = w.cal
    u = sp.draws[:, :6]
    z = sp.draws[:, 6:]
    age = w.pop.age[sp.person]
    kind = sp.kind
    n = sp.size
    ctr = np.full(n, NULL, np.int64)
    dis = np.empty(n, np.int64)

    same = kind == K_SAME_DAY
    ctr_same = admission + _ln(z[:, 0], 5.0 * HOUR, 0.5).astype(np.int64)
    dis_same = ctr_same + _ln(z[:, 1], 1.5 * HOUR, 0.6).astype(np.int64)

    elective = kind == K_ELECTIVE
    med = np.where(elective, P.ELECTIVE_CTR[0], np.array(P.CTR_MEDIAN_DAYS)[age])
    sd = np.where(elective, P.ELECTIVE_CTR[1], P.CTR_SD)
    ctr_days = med * np.exp(sd * z[:, 0])
    ctr_day = cal.local_day(admission + (ctr_days * DAY).astype(np.int64))
    ctr_long = cal.to_utc(ctr_day, (9.0 + 5.0 * u[:, 0]) * HOUR)
    ctr_long = np.maximum(ctr_long, admission + 3 * HOUR)
    ctr_day = cal.local_day(ctr_long)

    # Pathway 0: home the same afternoon, or the next day.
    dis_hour = (10.0 + 7.0 * u[:, 1]) * HOUR
    gap = _ln(z[:, 1], 4.0 * HOUR, 0.5).astype(np.int64)
    same_aft = ctr_long + gap
    stay_over = (u[:, 2] < P.P0_NEXT_DAY) | (cal.local_day(same_aft) != ctr_day) | (cal.local_hour(same_aft) > 20.0)
    p0_day = np.where(stay_over, ctr_day + 1, ctr_day)

    # Pathways 1-3: wait for the package, bed or placement; winter makes it worse.
    season = w.season("ed_type1_admissions")
    f = 1.0 + P.DELAY_WINTER * (season[np.clip(ctr_day, 0, cal.n_days - 1)] - 1.0)
    pw = np.clip(sp.pathway, 1, 3) - 1
    dmed = np.array([d[0] for d in P.PATHWAY_DELAY])[pw]
    dsd = np.array([d[1] for d in P.PATHWAY_DELAY])[pw]
    delay = dmed * np.exp(dsd * z[:, 2]) * f
    p13_day = cal.local_day(ctr_long + (delay * DAY).astype(np.int64))

    supported = sp.pathway >= 1
    day = np.where(supported, p13_day, p0_day)
    # Weekend discharges are fewer: a share wait for Monday's discharge team.
    wk = ((cal.first_day.toordinal() - dt.date(1970, 1, 5).toordinal()) + day) % 7
    defer_p = np.where(supported, P.WEEKEND_DEFER[1], P.WEEKEND_DEFER[0])
    for k in (3, 4):
        move = (wk >= 5) & (u[:, k] < defer_p)
        day = day + move
        wk = (wk + move) % 7
    moved = day != np.where(supported, p13_day, p0_day)
    dis_long = cal.to_utc(day, dis_hour)
    use_same_aft = ~supported & ~stay_over & ~moved
    dis_long = np.where(use_same_aft, same_aft, dis_long)
    dis_long = np.maximum(dis_long, ctr_long + HOUR)

    dies = kind == K_DIES
    dis_dies = admission + (_ln(z[:, 3], 5.0, 0.9) * DAY).astype(np.int64)
    transfer = kind == K_TRANSFER
    dis_tr = ctr_long + (_ln(z[:, 4], 0.5, 0.6) * DAY).astype(np.int64)

    ctr = np.where(same, ctr_same, np.where(dies, NULL, ctr_long))
    dis = np.where(same, dis_same, np.where(dies, dis_dies, np.where(transfer, dis_tr, dis_long)))
    return ctr, dis


def occupancy(w: World, site: I8, admission: I64, discharge: I64) -> F64:
    """Patients in bed at the start of every grid hour, per acute site: shape (sites, hours)."""
    cal = w.cal
    h = cal.n_hours
    ka = np.clip(-((cal.t0 - admission) // HOUR), 0, h)  # first hour start at or after admission
    kd = np.clip(-((cal.t0 - discharge) // HOUR), 0, h)
    out = np.zeros((N_ACUTE, h + 1))
    for s in range(N_ACUTE):
        m = site == s
        out[s] = np.bincount(ka[m], minlength=h + 1) - np.bincount(kd[m], minlength=h + 1)
    occ: F64 = np.cumsum(out, axis=1)[:, :h]
    return occ


# --- Timelines ---------------------------------------------------------------------------------------


def ambulance_times(w: World, inc: Incidents, bed_ratio: F64) -> None:
    """Allocation, arrival on scene, at hospital and clear, with response times under pressure."""
    cal = w.cal
    n = inc.call.size
    # Day pressure: system occupancy against its own 4-week running level (the seasonal part of
    # response times is in AmbSYS's monthly curve already).
    hour_occ = bed_ratio.mean(axis=0)
    day_occ = np.bincount(cal.hour_day, weights=hour_occ, minlength=cal.n_days) / np.bincount(
        cal.hour_day, minlength=cal.n_days)
    kernel = np.ones(29) / 29
    padded = np.concatenate([np.full(14, day_occ[:14].mean()), day_occ, np.full(14, day_occ[-14:].mean())])
    trend = np.convolve(padded, kernel, mode="valid")
    z = day_occ - trend
    day = np.clip(cal.local_day(inc.call), 0, cal.n_days - 1)
    prof = _norm(P.HOURLY["ambulance"])
    hour_f = (prof / prof.mean()) ** 0.3
    hour_f /= (hour_f * prof).sum() / prof.sum()
    hour = cal.local_hour(inc.call).astype(np.int64)
    curves = [w.season("ambulance_response_c1"), w.season("ambulance_response_c2"),
              w.season("ambulance_response_c3"), w.season("ambulance_response_c3")]
    mean = np.array([w.calib["targets"][f"ambulance_c{i}_mean_s"]["value"] for i in range(1, 5)] + [0.0])
    cat = inc.category.astype(np.int64)
    month = np.ones(n)
    for i in range(4):
        m = cat == i
        month[m] = curves[i][day[m]]
    resp = mean[cat] * inc.g_resp * month * np.exp(P.BETA_RESPONSE * z[day]) * hour_f[hour]
    resp = np.maximum(resp, 30.0)
    f2f = inc.outcome != O_HT
    on_scene = np.where(f2f, inc.call + resp.astype(np.int64), NULL)
    frac = np.where(cat == 0, 0.05 + 0.25 * inc.u_alloc, 0.1 + 0.5 * inc.u_alloc)
    alloc = np.where(f2f, inc.call + (resp * frac).astype(np.int64), NULL)
    conveyed = (inc.outcome == O_ED) | (inc.outcome == O_OTHER)
    scene = np.where(conveyed, _ln(inc.z_scene, 38.0 * MINUTE, 0.35), _ln(inc.z_scene, 55.0 * MINUTE, 0.4))
    travel = _ln(inc.z_travel, 18.0 * MINUTE, 0.4)
    catch = w.pop.catchment[inc.person]
    travel = np.where((inc.dest >= 0) & (inc.dest != catch), travel * 1.6, travel)
    hospital = np.where(conveyed, on_scene + (scene + travel).astype(np.int64), NULL)
    inc.alloc, inc.on_scene, inc.hospital = alloc, on_scene, hospital
    # Handover and clear are set in ed_times(), once ED crowding is known; see-and-treat crews
    # clear when they leave the scene.
    inc.handover = np.full(n, NULL, np.int64)
    inc.clear = np.where(f2f & ~conveyed, on_scene + scene.astype(np.int64), NULL)


def _hour_index(w: World, t: I64) -> I64:
    out: I64 = np.clip((t - w.cal.t0) // HOUR, 0, w.cal.n_hours - 1)
    return out


def _census(w: World, site: I8, start: I64, end: I64, n_sites: int) -> F64:
    h = w.cal.n_hours
    ka = np.clip(-((w.cal.t0 - start) // HOUR), 0, h)
    kd = np.clip(-((w.cal.t0 - end) // HOUR), 0, h)
    out = np.zeros((n_sites, h + 1))
    for s in range(n_sites):
        m = site == s
        out[s] = np.bincount(ka[m], minlength=h + 1) - np.bincount(kd[m], minlength=h + 1)
    res: F64 = np.cumsum(out, axis=1)[:, :h]
    return res


def ed_times(w: World, att: Attendances, inc: Incidents, bed_ratio: F64) -> None:
    """Every attendance's clock: initial assessment, seen, decision to admit, ready, departure.

    Type 1 waits stretch with crowding in the department (patients present against its places)
    and admitted patients wait for a bed longer when the wards are fuller.
    """
    z = att.z
    n = att.size
    m = MINUTE * P.ED_SCALE
    utc = att.service == SERVICE_UTC
    amb = att.incident >= 0
    arrival = att.arrival.copy()
    arrival[amb] = inc.hospital[att.incident[amb]]
    att.arrival = arrival
    # A crew bound for SDEC that arrives after it has shut takes the patient to the ED instead.
    late = (att.service == SERVICE_SDEC) & amb & ~_open(w, arrival, 8.0, 20.0)
    att.service[late] = SERVICE_ED
    inc.outcome[att.incident[late]] = O_ED
    inc.to_sdec[att.incident[late]] = False
    ed = att.service == SERVICE_ED
    sdec = att.service == SERVICE_SDEC
    acuity = np.clip(att.acuity.astype(np.int64) - 1, 0, 4)
    admitted = att.disposal == D_ADMITTED
    left = att.disposal == D_LEFT
    mh = np.where(att.mental, P.MENTAL_HEALTH_SLOW, 1.0)

    # Baseline (uncrowded) durations in seconds.
    seen_w = _ln(z[:, 0], np.array(P.SEEN_BY_ACUITY)[acuity] * m, P.SEEN_SD)
    treat = _ln(z[:, 1], P.TREAT[0] * m, P.TREAT[1]) * mh
    to_dep = _ln(z[:, 2], P.TO_DEPART[0] * m, P.TO_DEPART[1])
    to_dta = _ln(z[:, 3], P.TO_DTA[0] * m, P.TO_DTA[1])
    to_ready = _ln(z[:, 4], P.DTA_TO_READY[0] * m, P.DTA_TO_READY[1])
    trolley = _ln(z[:, 5], P.TROLLEY[0] * m, P.TROLLEY[1]) * mh
    triage = _ln(z[:, 6], P.TRIAGE[0] * MINUTE, P.TRIAGE[1])
    gone = _ln(z[:, 7], P.LEFT_EARLY_AFTER[0] * MINUTE, P.LEFT_EARLY_AFTER[1])
    # Trolley waits depend on how full that site's wards are when the patient is ready to go.
    site_a = np.clip(att.site.astype(np.int64), 0, N_ACUTE - 1)
    ready_guess = arrival + (seen_w + to_dta + to_ready).astype(np.int64)
    occ = bed_ratio[site_a, _hour_index(w, ready_guess)]
    bed_f = np.clip(np.exp(P.BED_GAMMA * (occ - 0.92)), 0.4, 8.0)
    trolley = trolley * bed_f
    # UTC and SDEC durations (uncrowded), from the same pre-drawn normals.
    u_seen_w = _ln(z[:, 0], 35.0 * MINUTE, 0.7)
    u_treat = _ln(z[:, 1], 30.0 * MINUTE, 0.6)
    u_to_dep = _ln(z[:, 2], 5.0 * MINUTE, 0.6)
    u_to_dta = _ln(z[:, 3], 40.0 * MINUTE, 0.5)
    u_to_dep_adm = 10 * MINUTE + _ln(z[:, 5], 40.0 * MINUTE, 0.6)
    s_seen_w = _ln(z[:, 0], 40.0 * MINUTE, 0.7)
    s_treat = _ln(z[:, 1], 180.0 * MINUTE, 0.5)
    s_to_dep = _ln(z[:, 2], 20.0 * MINUTE, 0.6)
    s_to_dta = _ln(z[:, 3], 150.0 * MINUTE, 0.5)
    s_to_ready = _ln(z[:, 4], 15.0 * MINUTE, 0.6)
    s_trolley = _ln(z[:, 5], 60.0 * MINUTE, 0.8) * np.sqrt(bed_f)
    base_los = np.select(
        [ed & admitted, ed & left, ed, utc & admitted, utc & left, utc, admitted],
        [seen_w + to_dta + to_ready + trolley, gone, seen_w + treat + to_dep, u_seen_w + u_to_dta + u_to_dep_adm,
         gone * 0.5, u_seen_w + u_treat + u_to_dep, s_seen_w + s_to_dta + s_to_ready + s_trolley],
        s_seen_w + s_treat + s_to_dep)

    # Crowding: patients present (on the uncrowded clock) per place, at the arrival hour.
    # Units: the sites' EDs and UTCs by site index, then the SDECs (which crowd separately).
    places = np.array([a[5] for a in R.ACUTE] + [u[3] for u in R.UTCS] + [a[6] for a in R.ACUTE],
                      np.float64) * P.ED_PLACES_PER_CUBICLE
    unit = np.where(sdec, len(SITE_CODES) + att.site, att.site).astype(np.int8)
    census = _census(w, unit, arrival, arrival + base_los.astype(np.int64), places.size)
    hk = _hour_index(w, arrival)
    ratio = census[unit.astype(np.int64), hk] / places[unit.astype(np.int64)]
    crowd = np.clip(np.exp(P.CROWDING_ALPHA * (ratio - 1.0)), 0.5, 3.0)
    # Ambulance handover: waits for a cubicle, longer when the department is full and the wards too.
    hand_delay = P.HANDOVER_FIXED * MINUTE + _ln(inc.z_handover, P.HANDOVER[0] * MINUTE, P.HANDOVER[1])
    a_idx = att.incident[amb]
    handover = inc.handover.copy()
    # Resuscitation patients go straight in; the rest queue.
    urgency = np.array(P.HANDOVER_BY_ACUITY)[acuity[amb]]
    handover_att = inc.hospital[a_idx] + (hand_delay[a_idx] * urgency * crowd[amb] ** P.HANDOVER_CROWDING
                                          * np.sqrt(bed_f[amb])).astype(np.int64)
    handover[a_idx] = handover_att
    # Conveyed elsewhere without an attendance here: handed over quickly somewhere else.
    other = (inc.outcome == O_OTHER) & ~inc.to_sdec
    handover[other] = inc.hospital[other] + (hand_delay[other] * 0.6).astype(np.int64)
    inc.handover = handover
    conveyed = inc.hospital != NULL
    inc.clear = np.where(conveyed, handover + _ln(inc.z_clear, 15.0 * MINUTE, 0.4).astype(np.int64), inc.clear)

    # Type 1 clocks.
    t_hand = np.full(n, NULL, np.int64)
    t_hand[amb] = handover_att
    initial = np.where(amb, np.maximum(arrival, t_hand) + (triage * 0.3).astype(np.int64),
                       arrival + (triage * np.sqrt(crowd)).astype(np.int64))
    seen = np.maximum(arrival + (seen_w * crowd).astype(np.int64), initial + MINUTE)
    dta = seen + (to_dta * np.sqrt(crowd)).astype(np.int64)
    ready_adm = dta + to_ready.astype(np.int64)
    dep_adm = ready_adm + trolley.astype(np.int64)
    ready_dis = seen + (treat * crowd**0.3).astype(np.int64)
    dep_dis = ready_dis + to_dep.astype(np.int64)
    dep_left = np.maximum(arrival + (gone * crowd).astype(np.int64), initial)

    # UTC and SDEC clocks: the UTC feels its own crowding in the wait to be seen.
    u_seen = np.maximum(arrival + (u_seen_w * np.sqrt(crowd)).astype(np.int64),
                        arrival + (triage * 0.7).astype(np.int64) + MINUTE)
    u_ready = u_seen + u_treat.astype(np.int64)
    u_dep = u_ready + u_to_dep.astype(np.int64)
    u_dta = u_seen + u_to_dta.astype(np.int64)
    u_dep_adm = u_dta + u_to_dep_adm.astype(np.int64)
    s_seen = arrival + s_seen_w.astype(np.int64)
    s_dta = s_seen + s_to_dta.astype(np.int64)
    s_ready = s_seen + s_treat.astype(np.int64)
    s_dep = s_ready + s_to_dep.astype(np.int64)
    s_ready_adm = s_dta + s_to_ready.astype(np.int64)
    s_dep_adm = s_ready_adm + s_trolley.astype(np.int64)

    is_adm = admitted
    att.initial = np.select([ed, utc], [initial, arrival + (triage * 0.7).astype(np.int64)],
                            arrival + (triage * 1.2).astype(np.int64))
    seen_all = np.select([ed, utc], [seen, u_seen], s_seen)
    att.seen = np.where(left, NULL, seen_all)
    att.dta = np.where(is_adm, np.select([ed, utc], [dta, u_dta], s_dta), NULL)
    ready_all = np.select([ed & is_adm, ed, utc & is_adm, utc, is_adm], [ready_adm, ready_dis, u_dta + 10 * MINUTE,
                                                                        u_ready, s_ready_adm], s_ready)
    att.ready = np.where(left, NULL, ready_all)
    dep = np.select([ed & is_adm, ed & left, ed, utc & is_adm, utc & left, utc, is_adm],
                    [dep_adm, dep_left, dep_dis, u_dep_adm, arrival + (gone * 0.5).astype(np.int64), u_dep,
                     s_dep_adm], s_dep)
    att.departure = np.maximum(dep, np.where(att.ready != NULL, att.ready, arrival))
    # Initial assessment comes before being seen, and before leaving for those who walk out.
    att.initial = np.minimum(att.initial, np.where(att.seen != NULL, att.seen, att.departure))


# --- Urgent community response -----------------------------------------------------------------------


@dataclass
class Ucr:
    referral: I64
    visit: I64
    source: I8
    person: I64


def gen_ucr(w: World, inc: Incidents, calls: Calls) -> Ucr:
    rng = w.rng["ucr"]
    cal = w.cal
    total = w.per_day(w.calib["assumptions"]["ucr_referrals_per_1000_month"]["value"])
    sp = np.array(P.UCR_SOURCE_P) / sum(P.UCR_SOURCE_P)
    # Ambulance crews refer older people they see and treat at home; 111 refers some older callers.
    old_inc = (inc.outcome == O_ST) & (w.pop.age[inc.person] >= 3)
    p_amb = min(1.0, total * sp[0] * cal.n_days / max(int(old_inc.sum()), 1))
    amb = np.flatnonzero(old_inc & (rng.random(inc.call.size) < p_amb))
    old_call = (calls.disposition == P.DISPOSITIONS.index("other")) & (w.pop.age[calls.person] >= 3)
    p_111 = min(1.0, total * sp[1] * cal.n_days / max(int(old_call.sum()), 1))
    c111 = np.flatnonzero(old_call & (rng.random(calls.time.size) < p_111))
    rest = total * (1 - sp[0] - sp[1])
    wd = _norm(P.WEEKDAY["ucr"])[w.effective_weekday()]
    t_rest = w.hourly_events(rng, rest * wd * w.season("ed_type1_admissions") * w.noise(rng, 0.5),
                             w.profile(P.HOURLY["ucr"]))
    src_rest = rng.choice(np.arange(2, len(sp)), size=t_rest.size, p=sp[2:] / sp[2:].sum())
    share = np.array([a[4] for a in R.ACUTE], np.float64)
    catch = rng.choice(N_ACUTE, size=t_rest.size, p=share / share.sum())
    person_rest = w.smp["ucr"].sample(rng, catch)

    referral = np.concatenate([inc.clear[amb], calls.time[c111] + 20 * MINUTE, t_rest])
    source = np.concatenate([np.zeros(amb.size, np.int8), np.ones(c111.size, np.int8), src_rest.astype(np.int8)])
    person = np.concatenate([inc.person[amb], calls.person[c111], person_rest])
    n = referral.size
    # First visit: within operating hours a team goes out in about an hour, slower when many
    # referrals land in the same hour; out of hours the visit waits for the morning.
    h = cal.local_hour(referral)
    in_hours = (h >= 8.0) & (h < 19.5)
    hk = _hour_index(w, referral)
    load = np.bincount(hk, minlength=cal.n_hours)[hk]
    teams = 6.0
    load_f = np.clip(1.0 + 0.25 * (load / teams * 2.0 - 1.0), 0.8, 2.0)
    z = rng.standard_normal(n)
    visit_in = referral + (_ln(z, P.UCR_VISIT[0] * MINUTE, P.UCR_VISIT[1]) * load_f).astype(np.int64)
    rday = cal.local_day(referral) + (h >= 19.5)
    morning = cal.to_utc(rday, 8.0 * HOUR) + _ln(z, 60.0 * MINUTE, 0.6).astype(np.int64)
    visit = np.where(in_hours, visit_in, np.maximum(morning, referral + 30 * MINUTE))
    visit = np.where(rng.random(n) < P.UCR_NO_VISIT, NULL, visit)
    order = np.argsort(referral, kind="stable")
    return Ucr(referral=referral[order], visit=visit[order], source=source[order], person=person[order])


# --- Whole run ---------------------------------------------------------------------------------------


@dataclass
class Generated:
    world: World
    calls: Calls
    incidents: Incidents
    attendances: Attendances
    spells: Spells
    ucr: Ucr
    bed_census: I64  # (sites, written days) patients in bed at 08:00
    bed_times: I64  # the 08:00 instants


def generate(seed: int, end: dt.date, days: int, progress: Progress) -> Generated:
    progress("people", 0.0)
    w = make_world(seed, end, days)
    progress("NHS 111 calls", 0.05)
    calls = gen_111(w)
    progress("ambulance incidents", 0.10)
    inc = gen_ambulance(w, calls)
    progress("attendances", 0.15)
    att = gen_attendance_demand(w, calls, inc)
    gen_clinical(w, att)
    progress("inpatient spells", 0.25)
    admitted = att.disposal == D_ADMITTED
    provisional = att.arrival[admitted] + np.where(att.service[admitted] == SERVICE_ED, 5 * HOUR, 4 * HOUR)
    sp = gen_spells(w, att, provisional)
    _, dis = schedule(w, sp, sp.admission)
    bed_ratio = occupancy(w, sp.site, sp.admission, dis) / w.core_beds[:, None]
    progress("waits and handovers", 0.35)
    ambulance_times(w, inc, bed_ratio)
    ed_times(w, att, inc, bed_ratio)
    progress("bed states", 0.45)
    n_a = int(admitted.sum())
    final = sp.admission.copy()
    a_idx = sp.attendance[:n_a]
    transfer_in = np.where(att.service[a_idx] == SERVICE_UTC, 45 * MINUTE, 0)
    final[:n_a] = att.departure[a_idx] + transfer_in
    sp.admission = final
    sp.ctr, sp.discharge = schedule(w, sp, final)
    cal = w.cal
    written = np.arange(cal.first_written, cal.n_days)
    bed_times = cal.to_utc(written, np.full(written.size, 8.0 * HOUR))
    census = np.zeros((N_ACUTE, written.size), np.int64)
    for s in range(N_ACUTE):
        m = sp.site == s
        a = np.sort(sp.admission[m])
        d = np.sort(sp.discharge[m])
        census[s] = np.searchsorted(a, bed_times, side="right") - np.searchsorted(d, bed_times, side="right")
    progress("urgent community response", 0.5)
    ucr = gen_ucr(w, inc, calls)
    return Generated(world=w, calls=calls, incidents=inc, attendances=att, spells=sp, ucr=ucr,
                     bed_census=census, bed_times=bed_times)
