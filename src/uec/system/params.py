"""The whole-system model's parameters: one typed, frozen object, defaulting to the demo ICS.

Every number says where it comes from. *Levels* (attendances, incidents, admissions per head,
beds, category mix, conveyance) come from the demo ICS's ``calibration.yaml`` (published England
figures scaled to 1.2 million people) and its reference map (sites, cubicles, chairs, crews,
packages); *shapes* (hourly and weekday profiles, mixes by age) from the demo's model-shape
assumptions (``uec.ics.params``). Queueing capacities that no published figure gives (ED
decision makers, ED spaces for handover and admitted patients, discharge teams) are assumptions,
set so the baseline reproduces the demo's calibration targets roughly (see
``docs/simulation.md``, "Whole-system model").

>>> p = demo_params()
>>> [s.code for s in p.sites]
['DEMO-A01', 'DEMO-B01', 'DEMO-C01']
>>> round(p.incidents_per_day)
509
>>> p.sites[0].core_beds
779
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from uec.ics import params as D
from uec.ics import reference as R
from uec.ics.params import calibration

__all__ = ["AGE_GROUPS", "CATEGORIES", "SiteParams", "SystemParams", "UtcParams", "demo_params"]

#: Age groups the model's patient classes carry (the contract's six bands are drawn within them).
AGE_GROUPS = ("0-17", "18-64", "65-84", "85+")
#: Ambulance response categories with a face-to-face response.
CATEGORIES = ("C1", "C2", "C3", "C4")

_MONTH = 30.4375  # days in the calibration's "per month"


def _groups(bands: tuple[float, ...]) -> tuple[float, ...]:
    """Six age-band shares folded into the model's four age groups."""
    return (bands[0] + bands[1], bands[2], bands[3] + bands[4], bands[5])


def _freeze(m: Mapping[str, int]) -> Mapping[str, int]:
    # A plain dict (a mapping proxy cannot be pickled for process pools and Dask workers); the
    # params are never changed in place: scenarios make new ones with dataclasses.replace.
    return dict(m)


@dataclass(frozen=True)
class SiteParams:
    """One acute hospital: its ED, SDEC, G&A beds and discharge team.

    Staffing patterns map ``"HH:MM"`` to people on shift from that time (repeating daily).
    """

    code: str
    org_code: str
    name: str
    population: int
    #: Share of the ICS's ED walk-ins, ambulance conveyances and 111 referrals (by catchment).
    share: float
    ed_cubicles: int
    #: ED spaces that ambulance handovers and admitted patients waiting for a bed compete for.
    ed_spaces: int
    sdec_chairs: int
    core_beds: int
    escalation_beds: int
    triage_nurses: Mapping[str, int]
    decision_makers: Mapping[str, int]
    minors_clinicians: Mapping[str, int]
    #: Discharge team places, weekdays and weekends (08:00-20:00; none at night).
    discharge_weekday: int
    discharge_weekend: int


@dataclass(frozen=True)
class UtcParams:
    """An urgent treatment centre and the acute site whose ED takes its overflow."""

    code: str
    name: str
    acute_site: str
    cubicles: int
    clinicians: Mapping[str, int]


@dataclass(frozen=True)
class SystemParams:
    """Everything the model needs. Times in minutes unless a name says days; rates per day."""

    sites: tuple[SiteParams, ...]
    utcs: tuple[UtcParams, ...]
    #: First day of the reported window (a Monday keeps weekday profiles simple; any date works).
    start: dt.date = dt.date(2025, 1, 6)
    #: Days simulated before the window so that wards and discharge queues are full when it opens.
    warmup_days: int = 56
    #: Multiplies every arrival rate by ``1 + demand_growth``.
    demand_growth: float = 0.0
    #: An IANA time zone (``"Europe/London"``) whose wall clock opening hours, discharge teams, the
    #: 08:00 census and the reported window (local midnights) follow; ``None``: the UTC clock.
    #: ``uec demo --generator model`` sets it so its events read like a real extract.
    local_time: str | None = None

    # NHS 111: calibration assumption 26 calls per 1,000 a month; dispositions IUC ADC 2019.
    calls_111_per_day: float = 26.0 * 1200 / _MONTH
    call_handlers: Mapping[str, int] = field(
        default_factory=lambda: _freeze({"00:00": 6, "07:00": 10, "09:00": 14, "17:00": 16, "22:00": 9}))
    dispositions: tuple[str, ...] = D.DISPOSITIONS
    disposition_p: tuple[float, ...] = D.DISPOSITION_P
    #: Chance that a caller sent to the ED, UTC or SDEC goes (the demo's ``ATTEND_P``).
    attend_p: Mapping[str, float] = field(default_factory=lambda: dict(D.ATTEND_P))
    booked_p: Mapping[str, float] = field(default_factory=lambda: dict(D.BOOKED_P))

    # 999: AmbSYS 2019, 12.91 incidents per 1,000 a month (A7), hear and treat A17 / A7.
    incidents_per_day: float = 12.91 * 1200 / _MONTH
    hear_and_treat: float = 0.065
    category_mix: tuple[float, ...] = (0.094, 0.623, 0.260, 0.023)
    #: Share conveyed by category (the demo's ``CATEGORY_CONVEYED``), and of those, to an ED (A53 / (A53 + A54)).
    conveyed: tuple[float, ...] = D.CATEGORY_CONVEYED
    conveyed_to_ed: float = D.CONVEYED_TO_ED
    #: Crews on shift by time of day (the demo ICS lists 38 crews; more by day, fewer at night).
    #: Calibrated (issue 4 item 7): 12% more than the first guess (23/29/35/31), which, with the
    #: handover delays of a 90%-occupied system, left crews too busy for category 3 (AmbSYS 2019
    #: C3 mean 70 min); then one more in each period once patients waited in beds for their
    #: assessments (``nctr_ready_days``): fuller wards hold crews at handover longer.
    crews: Mapping[str, int] = field(
        default_factory=lambda: _freeze({"00:00": 27, "07:00": 33, "10:00": 40, "20:00": 36}))
    extra_crews: int = 0
    #: Crews work in dispatch areas (one per acute site's catchment, crews shared by catchment) and
    #: convey to that area's hospital; ``False``: one pool for the whole ICS.
    #: Calibrated: one pool of crews for the ICS cannot give AmbSYS's mix of waits (C2 waits of 10
    #: minutes and C3 of an hour need small pools at high use): crews are based at stations and
    #: respond within their area.
    ambulance_sectors: bool = True
    #: The order crews are sent in, by category (lower first; equal: first come, first served).
    #: Categories 3 and 4 are both non-urgent and taken in turn (strict C3-before-C4 starves C4:
    #: AmbSYS 2019 has C4 only 20% slower than C3 on average).
    crew_priority: tuple[int, ...] = (1, 2, 3, 3)
    #: Travel to scene by category (minutes, mean); AmbSYS mean response minus the wait for a crew.
    #: Calibrated: with dispatch areas, the wait for a crew is about 2-5 min (C1), 10 min (C2) and
    #: an hour (C3-4); travel is AmbSYS 2019's mean response minus those waits. Category 4 waits
    #: as long as category 3 (they are taken in turn), so the 14 minutes by which AmbSYS's C4 mean
    #: exceeds C3's (84 vs 70) is put in its travel (assumption: fewer C4 responses go at once).
    travel: tuple[float, ...] = (5.0, 12.5, 15.0, 24.0)
    #: Rapid response vehicles (a paramedic in a car) on shift by time of day, one pool for the ICS.
    #: They take category 1 only: the first to arrive stops the clock, and a crew is still sent to
    #: convey (the car is released to the next call when the crew is allocated). Assumption: about
    #: one car per 300,000 people by day (ambulance trusts run cars beside crews for category 1;
    #: no national count is published), calibrated so that category 1 meets AmbSYS 2019's mean of
    #: 433 s and 90th centile of 758 s. ``{"00:00": 0}``: no cars, the crew stops the clock.
    rrv: Mapping[str, int] = field(
        default_factory=lambda: _freeze({"00:00": 3, "08:00": 4, "20:00": 3}))
    #: Car travel to scene (minutes, mean; a car is quicker away than a crew and nearer: assumption).
    rrv_travel: float = 7.4
    #: The car's time on scene before the conveying crew is allocated and the car is free
    #: (assumption: a short assessment; in the model the crew is then allocated, so time spent
    #: waiting for it is counted in the crew's queue, not the car's).
    rrv_on_scene: float = 12.0
    on_scene_conveyed: float = 38.0  # demo ICS
    on_scene_not_conveyed: float = 55.0  # demo ICS
    to_hospital: float = 18.0  # demo ICS
    handover_minimum: float = 10.0  # the part of a handover that happens even when a space is free
    #: After handover, until the crew is available (demo ICS mean 15; calibrated to 14, with the
    #: crews above, for AmbSYS 2019's category 3 mean: a crew more is about two minutes less).
    clear: float = 14.0
    hear_and_treat_call: float = 25.0

    # ED (type 1): 23.34 attendances per 1,000 a month in all; walk-ins are what ambulances and
    # 111 do not bring.
    ed_attendances_per_day: float = 23.34 * 1200 / _MONTH
    age_ed: tuple[float, ...] = _groups(D.AGE_MIX["ed"])
    age_ambulance: tuple[float, ...] = _groups(D.AGE_MIX["ambulance"])
    age_111: tuple[float, ...] = _groups(D.AGE_MIX["nhs111"])
    age_sdec: tuple[float, ...] = _groups(D.AGE_MIX["sdec"])
    age_direct: tuple[float, ...] = _groups(D.AGE_MIX["direct"])
    #: Streams after triage (resus, majors, minors, SDEC) for walk-ins and after handover for ambulances.
    stream_walk_in: tuple[float, ...] = (0.01, 0.42, 0.53, 0.04)
    stream_ambulance: tuple[float, ...] = (0.10, 0.85, 0.05, 0.0)
    triage_time: tuple[float, float] = (8.0, 5.0)  # mean, sd (lognormal)
    resus_time: tuple[float, float] = (100.0, 60.0)
    majors_time: tuple[float, float] = (80.0, 55.0)
    minors_time: tuple[float, float] = (35.0, 25.0)
    #: Decision to departure, not admitted. Calibrated from 45 min: with the longer decision to
    #: clinically ready below, it keeps type 1 4-hour performance near FY2018/19's 0.815.
    treat_time: tuple[float, float] = (25.0, 20.0)
    #: Decision to admit to clinically ready (specialty review, bed request), in an ED space.
    #: Calibrated from 30 min: 100 min gives admitted patients a median ED stay of about 3.6 h (the
    #: demo's sanity check, MIMIC-IV's 6.5 h within 3 h) and type 1 4-hour performance near
    #: FY2018/19's 0.815 (0.80) at about 90% bed occupancy.
    ready_time: tuple[float, float] = (100.0, 55.0)
    handover_time: tuple[float, float] = (12.0, 6.0)  # in an ED space, once the crew has handed over
    #: Patients a crew may hand over into a corridor queue when no ED space is free (release to respond).
    #: Calibrated from 4 (assumption): about two corridor places per 10 cubicles, so that a full ED
    #: holds crews for tens of minutes rather than gridlocking the fleet in a bad winter week.
    corridor: int = 8
    minors_patience: tuple[float, float] = (360.0, 240.0)  # walk-ins who leave before being seen
    #: Chance of admission from resus, and from majors by age group (minors: ``admit_minors``).
    #: Calibrated: the first guesses (0.75; 0.12, 0.27, 0.52, 0.62) x 1.05 and x 1.18 gave 0.25 of
    #: type 1 attendances admitted; these give 0.30 (nhsr FY2018/19: 4,690,147 / 15,679,998 = 0.299).
    admit_resus: float = 0.79
    admit_majors: tuple[float, ...] = (0.14, 0.32, 0.61, 0.73)
    admit_minors: float = 0.02
    admit_ambulance_factor: float = 1.25

    # SDEC: calibration assumption 30 a day per site; 20% admitted (demo).
    sdec_per_day: float = 30.0
    sdec_opens: str = "08:00"
    sdec_closes: str = "20:00"
    sdec_time: tuple[float, float] = (240.0, 120.0)
    sdec_admitted: float = D.SDEC_ADMITTED
    # UTC: 12.76 type 3/4 attendances per 1,000 a month.
    utc_per_day: float = 12.76 * 1200 / _MONTH
    utc_opens: str = "08:00"
    utc_closes: str = "22:00"
    utc_time: tuple[float, float] = (30.0, 20.0)

    # Admissions not via A&E (calibration assumptions).
    direct_per_day: float = 40.0
    elective_per_weekday: float = 75.0
    #: Escalation beds open from the first day of ``escalation_months[0]`` to the end of ``[1]``.
    escalation_months: tuple[int, int] = (12, 3)
    #: Time to criteria to reside ending (days): same-day share, lognormal median and log-sd by age group.
    same_day: tuple[float, ...] = (0.50, 0.28, 0.17, 0.10)
    #: Calibrated: the demo's medians folded into the groups (1.33, 2.7, 4.13, 5.1) x 0.93, once
    #: patients stay in the bed after their criteria end while getting ready to leave
    #: (``nctr_ready_days``): the whole stay, and so occupancy, stays near KH03's 0.902.
    ctr_median_days: tuple[float, ...] = (1.24, 2.52, 3.85, 4.76)
    ctr_sd: float = D.CTR_SD
    #: High-acuity (resus) admissions: median time to criteria-to-reside end x this, half the
    #: same-day share (assumption: sicker patients stay longer; the demo ties stays to age only).
    high_acuity_los: float = 1.3
    elective_ctr_median_days: float = D.ELECTIVE_CTR[0]
    #: Pathway 1, 2, 3 chances after a stay past the same day, by age group (demo); the rest P0.
    #: Calibrated (x 1.07, 1.2, 1.25 on the demo's) to the pathway mix P0 0.57, P1 0.30, P2 0.085,
    #: P3 0.045: the model's admissions are younger than the demo's by age band.
    pathway_p: tuple[tuple[float, float, float], ...] = (
        (0.0, 0.0, 0.0), (0.26, 0.042, 0.013), (0.60, 0.18, 0.084), (0.60, 0.29, 0.19))
    elective_pathway_p: tuple[float, float, float] = (0.12, 0.03, 0.0)
    died_p: tuple[float, ...] = (0.002, 0.012, 0.05, 0.10)
    transfer_p: float = D.TRANSFER_P
    # Discharge to assess capacity (demo ICS services) and how long a place is taken (days).
    #: Calibrated from the demo ICS's 320 / 120 / 90: at about 430 discharges a day, pathway 1-3
    #: need about 123, 39 and 19 places a day, held 2.6, 5.2 and 7.2 days (320, 200 and 137 places
    #: busy); with starts only in office hours (below) places stand empty overnight and at weekends,
    #: so these leave a margin of about 15%. Tighter (410 packages, 145 care home beds) the queues
    #: for places run away in some winters and the whole system gridlocks: see docs/demo-ics.md.
    p1_packages: int = 430
    p2_beds: int = 250
    p3_beds: int = 155
    p1_days: float = 2.6
    p2_days: float = 5.2
    p3_days: float = 7.2
    discharge_time: tuple[float, float] = (60.0, 30.0)
    #: Days from criteria-to-reside end until the patient is ready to leave on pathway 0, 1, 2, 3
    #: (mean; lognormal with this coefficient of variation), spent in the bed before the discharge
    #: team or pathway place is sought: assessment of needs, referral, brokerage and choice of
    #: place, medicines to take out, transport. No queue: it is the part of a delay that does not
    #: depend on capacity. 0: straight to the pathway's queue.
    #: Calibrated (assumption) to the 471 a day with no criteria to reside: with queues alone the
    #: model held 340 (and sizing the queues to reach 471 gridlocks the system in some winters).
    #: Checked against the national sitrep's delay reasons (June 2024 - May 2025): 66% of delays
    #: are processes (hospital, care transfer hub, interface, wellbeing), 34% capacity; here 58%
    #: of the bed-days are processes, counting pathway 0's wait for the discharge team as one.
    #: See docs/demo-ics.md.
    nctr_ready_days: tuple[float, float, float, float] = (0.1, 0.45, 0.9, 1.8)
    nctr_ready_cv: float = 1.0
    #: Pathway 1-3 places are started (package of care begun, community or care home bed taken) only
    #: on weekdays between these times (assumption: brokerage and placement teams work office
    #: hours; cf. DHSC "Hospital discharge and community support guidance", 2022). ``None``: any time.
    pathway_start_hours: tuple[str, str] | None = ("10:00", "16:00")

    # Urgent community response: 1.2 referrals per 1,000 a month, 6 teams 08:00-20:00.
    ucr_per_day: float = 1.2 * 1200 / _MONTH
    ucr_teams: int = 6
    ucr_opens: str = "08:00"
    ucr_closes: str = "20:00"
    #: A first visit with travel (calibrated from 75 min to the assumed 0.75 within 2 hours).
    ucr_visit: tuple[float, float] = (85.0, 35.0)
    #: Shares diverted to UCR: of category 3-4 incidents (instead of a crew) and of ED walk-ins aged 65+.
    divert_c34_to_ucr: float = 0.0
    divert_ed_to_ucr: float = 0.0


def _scaled(pattern: Mapping[str, int], factor: float) -> Mapping[str, int]:
    return _freeze({k: max(1, round(v * factor)) for k, v in pattern.items()})


def demo_params() -> SystemParams:
    """The demo ICS's baseline (sites, beds and volumes from ``uec.demo``).

    >>> demo_params().sites[1].escalation_beds
    36
    """
    cal = calibration()
    beds_per_1000 = float(cal["targets"]["g_and_a_beds_per_1000"]["value"])
    core = R.core_beds(beds_per_1000)
    esc = R.escalation_beds(core, float(cal["assumptions"]["escalation_beds_share_of_core"]["value"]))
    total = R.population_total()
    sites = []
    for i, (trust, _, code, name, pop, cubicles, chairs, _) in enumerate(R.ACUTE):
        f = cubicles / 44.0  # staffing patterns are written for the 44-cubicle site
        sites.append(SiteParams(
            code=code, org_code=trust, name=name, population=pop, share=pop / total,
            ed_cubicles=cubicles, ed_spaces=round(cubicles * 0.3), sdec_chairs=chairs,
            core_beds=core[i], escalation_beds=esc[i],
            triage_nurses=_scaled({"00:00": 2, "08:00": 3, "22:00": 2}, f),
            decision_makers=_scaled({"00:00": 9, "08:00": 14, "10:00": 16, "22:00": 12}, f),
            minors_clinicians=_scaled({"00:00": 2, "08:00": 4, "22:00": 3}, f),
            discharge_weekday=round(10 * core[i] / 779), discharge_weekend=round(5 * core[i] / 779),
        ))
    utcs = tuple(
        UtcParams(code=code, name=name, acute_site=R.ACUTE[acute][2], cubicles=cub,
                  clinicians=_freeze({"08:00": cub, "22:00": 0}))
        for code, name, acute, cub in R.UTCS
    )
    return SystemParams(sites=tuple(sites), utcs=utcs)
