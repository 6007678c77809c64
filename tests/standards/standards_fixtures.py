"""Helpers for the standards tests: write contract rows, and a small hand-made ICS for April 2024.

Times are written in UTC (``Z``); April 2024 is BST, so local time is one hour ahead. The expected
answers in ``test_standards_spec.py`` are worked out by hand from these rows; the comments beside
each row give the numbers that matter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from uec.contract import table
from uec.store import Store

Rows = Sequence[dict[str, Any]]


def t(text: str) -> dt.datetime:
    """A UTC instant from ISO text ending in Z."""
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def after(start: str, minutes: float) -> dt.datetime:
    return t(start) + dt.timedelta(minutes=minutes)


def put_rows(store: Store, name: str, rows: Rows) -> None:
    """Append dicts to a contract table (missing fields are null)."""
    schema = table(name).arrow_schema()
    data = pa.table({f.name: pa.array([r.get(f.name) for r in rows], f.type) for f in schema})
    with store.write() as w:
        w.append(name, data)


APRIL = (dt.date(2024, 4, 1), dt.date(2024, 5, 1))


def reference_rows(store: Store) -> None:
    put_rows(store, "organisations", [
        {"org_code": "O1", "name": "Trust one", "org_type": "acute_trust"},
        {"org_code": "O2", "name": "Trust two", "org_type": "acute_trust"},
        {"org_code": "AMB", "name": "Ambulance", "org_type": "ambulance_trust"},
        {"org_code": "COM", "name": "Community", "org_type": "community_provider"},
        {"org_code": "ICB", "name": "ICB", "org_type": "ics"},
    ])
    put_rows(store, "sites", [
        {"site_code": "S1", "org_code": "O1", "name": "Hospital 1", "site_type": "acute_hospital",
         "population_served": 10_000},
        {"site_code": "S2", "org_code": "O1", "name": "UTC 2", "site_type": "utc_site"},
        {"site_code": "S3", "org_code": "O2", "name": "Hospital 3", "site_type": "acute_hospital",
         "population_served": 30_000},
    ])


def _att(aid: str, site: str, stype: str, arrival: str, minutes: float | None, **kw: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"attendance_id": aid, "site_code": site, "service_type": stype, "arrival_time": t(arrival)}
    if minutes is not None:
        row["departure_time"] = after(arrival, minutes)
    for key in ("initial_assessment_time", "decision_to_admit_time", "clinically_ready_time"):
        if key in kw:
            kw[key] = after(arrival, kw[key])
    row.update(kw)
    return row


def attendance_rows() -> list[dict[str, Any]]:
    return [
        # 3 h, admitted; DTA +60 (dep - DTA 2 h); ready +100 (waits 80 min); assessed at 10 min
        _att("a1", "S1", "ed_type1", "2024-04-02T08:00Z", 180, disposal="admitted", decision_to_admit_time=60,
             clinically_ready_time=100, initial_assessment_time=10, imd_decile=1, sex="female", age_band="18-64",
             arrival_mode="ambulance", acuity=2, ethnic_group="white"),
        # 5 h, discharged; assessed at 20 min
        _att("a2", "S1", "ed_type1", "2024-04-03T09:00Z", 300, disposal="discharged", initial_assessment_time=20,
             clinically_ready_time=280, imd_decile=1, sex="male", age_band="85+", arrival_mode="walk_in", acuity=3),
        # 13 h 20 min, admitted, mental health; DTA +30 (dep - DTA 12 h 50); ready +700 (waits 100); assessed at 15
        _att("a3", "S1", "ed_type1", "2024-04-04T10:00Z", 800, disposal="admitted", decision_to_admit_time=30,
             clinically_ready_time=700, initial_assessment_time=15, mental_health=True, imd_decile=2, sex="female"),
        # exactly 4 h, admitted; DTA +100; ready +200 (waits 40); assessed at 16
        _att("a4", "S1", "ed_type1", "2024-04-05T11:00Z", 240, disposal="admitted", decision_to_admit_time=100,
             clinically_ready_time=200, initial_assessment_time=16, imd_decile=2, sex="male"),
        # UTC at S1, 1 h, from 111 with a booked slot
        _att("a5", "S1", "utc", "2024-04-06T12:00Z", 60, disposal="discharged", referred_by_111=True,
             booked_slot=True),
        # UTC site S2, 4 h 10, from 111 without a slot
        _att("a6", "S2", "utc", "2024-04-07T13:00Z", 250, disposal="discharged", referred_by_111=True,
             booked_slot=False),
        # S3 type 1, 1 h 30, mental health, from 111 with a slot; assessed at 5
        _att("a7", "S3", "ed_type1", "2024-04-08T14:00Z", 90, disposal="discharged", initial_assessment_time=5,
             referred_by_111=True, booked_slot=True, mental_health=True, imd_decile=5),
        # S3 type 1 still in the department; assessed at 30
        _att("a8", "S3", "ed_type1", "2024-04-09T15:00Z", None, initial_assessment_time=30),
        # SDEC is not an A&E attendance
        _att("a9", "S3", "sdec", "2024-04-10T16:00Z", 120, disposal="discharged"),
        # May: outside the April range
        _att("a10", "S1", "ed_type1", "2024-05-01T10:00Z", 60, disposal="discharged"),
    ]


def _inc(iid: str, cat: str, call: str, scene: float | None, outcome: str, dest: str | None = None,
         arrive: float | None = None, handover: float | None = None) -> dict[str, Any]:
    row: dict[str, Any] = {"incident_id": iid, "org_code": "AMB", "call_time": t(call), "category": cat,
                           "outcome": outcome, "destination_site": dest}
    if scene is not None:
        row["on_scene_time"] = after(call, scene)
    if arrive is not None:
        row["hospital_arrival_time"] = after(call, arrive)
        if handover is not None:
            row["handover_time"] = after(call, arrive + handover)
    return row


def incident_rows() -> list[dict[str, Any]]:
    return [
        _inc("i1", "C1", "2024-04-02T08:00Z", 6, "conveyed_ed", "S1", 40, 10),
        _inc("i2", "C1", "2024-04-03T08:00Z", 10, "see_and_treat"),
        _inc("i3", "C1", "2024-04-04T08:00Z", 20, "conveyed_ed", "S1", 60, 20),
        _inc("i4", "C2", "2024-04-05T08:00Z", 15, "conveyed_ed", "S3", 60, 35),
        _inc("i5", "C2", "2024-04-06T08:00Z", 45, "conveyed_other"),
        _inc("i6", "C3", "2024-04-07T08:00Z", 100, "conveyed_ed", "S1", 160, 50),
        _inc("i7", "C4", "2024-04-08T08:00Z", 200, "see_and_treat"),
        _inc("i8", "C3", "2024-04-09T08:00Z", None, "hear_and_treat"),
        _inc("i9", "C5", "2024-04-10T08:00Z", None, "hear_and_treat"),
        _inc("i10", "C2", "2024-04-11T08:00Z", 25, "conveyed_ed", "S3", 70, 70),
    ]


def bed_state_rows() -> list[dict[str, Any]]:
    def b(site: str, at: str, bed: str, open_: int, occ: int) -> dict[str, Any]:
        return {"site_code": site, "snapshot_time": t(at), "bed_type": bed, "beds_open": open_, "beds_occupied": occ}

    return [
        b("S1", "2024-04-01T07:00Z", "g_and_a", 100, 90),
        b("S1", "2024-04-01T07:00Z", "g_and_a_escalation", 10, 10),
        b("S1", "2024-04-01T07:00Z", "critical_care", 10, 5),
        b("S1", "2024-04-02T07:00Z", "g_and_a", 100, 95),
        b("S1", "2024-04-02T07:00Z", "g_and_a_escalation", 20, 18),
        b("S3", "2024-04-01T07:00Z", "g_and_a", 200, 170),
        b("S3", "2024-04-01T07:00Z", "g_and_a_escalation", 0, 0),
    ]


def spell_rows() -> list[dict[str, Any]]:
    def s(sid: str, site: str, adm: str, dis: str | None, pathway: int | None, age: str = "65-74",
          ctr: str | None = None) -> dict[str, Any]:
        return {"spell_id": sid, "site_code": site, "admission_time": t(adm),
                "discharge_time": t(dis) if dis else None, "discharge_pathway": pathway, "age_band": age,
                "criteria_to_reside_end_time": t(ctr) if ctr else None, "admission_method": "emergency"}

    return [
        # in a bed at the censuses of 1-5 April; 7+ days at all 5, 14+ at 4 and 5 April; no criteria from 3 April
        s("sp1", "S1", "2024-03-20T12:00Z", "2024-04-05T12:00Z", 0, ctr="2024-04-03T12:00Z"),
        # censuses of 11-13 April; discharged Saturday
        s("sp2", "S1", "2024-04-10T10:00Z", "2024-04-13T10:00Z", 1),
        # still in: all 30 April censuses, 21+ days at each; no criteria at the censuses of 21-30 April
        s("sp3", "S3", "2024-03-01T00:00Z", None, None, ctr="2024-04-20T00:00Z"),
        # a child: not in the adult census measures; discharged Thursday on pathway 2
        s("sp4", "S3", "2024-04-01T12:00Z", "2024-04-25T12:00Z", 2, age="5-17"),
        # censuses of 16-21 April; discharged Sunday
        s("sp5", "S1", "2024-04-15T08:00Z", "2024-04-21T09:00Z", 0),
        # same-day stay (no census); discharged Tuesday with no pathway
        s("sp6", "S3", "2024-04-02T08:00Z", "2024-04-02T20:00Z", None),
        # censuses of 21-28 April, 7+ days only at 28 April; discharged Sunday on pathway 3
        s("sp7", "S1", "2024-04-20T08:00Z", "2024-04-28T09:00Z", 3),
    ]


def service_rows() -> list[dict[str, Any]]:
    def sv(sid: str, site: str, stype: str, opens: str | None, closes: str | None) -> dict[str, Any]:
        return {"service_id": sid, "site_code": site, "service_type": stype, "name": sid, "opens": opens,
                "closes": closes}

    return [
        sv("sv1", "S1", "sdec", "08:00", "20:00"),  # 12 h
        sv("sv2", "S3", "sdec", "07:30", "23:00"),  # 15.5 h
        sv("sv3", "S1", "ed_type1", None, None),  # not SDEC
        sv("sv4", "S2", "sdec", "22:00", "02:00"),  # 4 h across midnight
    ]


def ucr_rows() -> list[dict[str, Any]]:
    def u(rid: str, at: str, minutes: float | None) -> dict[str, Any]:
        return {"referral_id": rid, "org_code": "COM", "referral_time": t(at),
                "first_visit_time": after(at, minutes) if minutes is not None else None}

    return [u("u1", "2024-04-02T10:00Z", 90), u("u2", "2024-04-03T10:00Z", 121),
            u("u3", "2024-04-04T10:00Z", 120), u("u4", "2024-04-05T10:00Z", None)]


def load_spec_ics(store: Store) -> None:
    """All the hand-made event and reference rows."""
    reference_rows(store)
    put_rows(store, "attendances", attendance_rows())
    put_rows(store, "ambulance_incidents", incident_rows())
    put_rows(store, "bed_states", bed_state_rows())
    put_rows(store, "spells", spell_rows())
    put_rows(store, "services", service_rows())
    put_rows(store, "ucr_referrals", ucr_rows())


def returns_rows() -> list[dict[str, Any]]:
    """Hand-made aggregate returns for April 2024 (and one KH03 quarter)."""
    def r(org: str, code: str, value: float, source: str, start: dt.date = dt.date(2024, 4, 1),
          length: str = "month") -> dict[str, Any]:
        return {"org_code": org, "period_start": start, "period_length": length, "metric_code": code,
                "value": value, "source": source}

    ae = {"ae_attendances_type1": 100, "ae_breaches_type1": 20, "ae_attendances_type2": 10,
          "ae_breaches_type2": 0, "ae_attendances_type_other": 90, "ae_breaches_type_other": 5}
    amb = {"A7": 100, "A17": 10, "A53": 50, "A55": 30, "A8": 10, "A24": 4200, "A26": 900, "A10": 20,
           "A30": 36000, "A32": 2400, "A11": 5, "A35": 7200, "A12": 2, "A38": 10800}
    rows = [r("R1", k, v, "ae_monthly") for k, v in ae.items()]
    rows += [r("RAMB", f"ambsys_{k}", v, "ambsys") for k, v in amb.items()]
    rows += [r("Eng", "kh03_ga_occupied", 90, "kh03", dt.date(2024, 1, 1), "quarter"),
             r("Eng", "kh03_ga_available", 100, "kh03", dt.date(2024, 1, 1), "quarter")]
    rows += [r("R1", "ae_dta_over_12hours", 3, "ae_monthly"), r("R1", "ae_dta_over_4hours", 30, "ae_monthly"),
             r("R1", "ae_emergency_admissions_all", 100, "ae_monthly"),
             r("W1", "ae_attendances_all", 50, "ae_wales"), r("W1", "ae_within_12h_all", 45, "ae_wales")]
    # Two sitrep days of one trust (1 and 2 April): (first day, second day).
    sitrep = {"sitrep_ambulance_arrivals": (100, 100), "sitrep_handover_30_60": (10, 20),
              "sitrep_handover_over_60": (5, 5), "sitrep_adult_ga_beds_occupied": (90, 110),
              "sitrep_adult_ga_beds_available": (100, 120), "sitrep_paed_ga_beds_occupied": (8, 8),
              "sitrep_paed_ga_beds_available": (10, 10), "sitrep_adult_cc_beds_occupied": (9, 9),
              "sitrep_adult_cc_beds_available": (10, 10), "sitrep_ga_escalation_beds_available": (4, 6),
              "sitrep_los_7plus": (40, 60), "sitrep_los_14plus": (20, 30), "sitrep_los_21plus": (10, 10),
              "sitrep_ae_diverts": (1, 2)}
    discharge = {"discharge_not_meeting_ctr": (20, 30), "discharge_by_1700": (4, 6),
                 "discharge_1701_2359": (6, 4), "discharge_total": (10, 10)}
    for source, codes in (("uec_sitrep", sitrep), ("discharge_sitrep", discharge)):
        for code, values in codes.items():
            rows += [r("R1", code, v, source, dt.date(2024, 4, 1 + i), "day") for i, v in enumerate(values)]
    pathways = {"discharge_pathway_0": 10, "discharge_pathway_1": 6, "discharge_pathway_2": 2, "discharge_pathway_3": 2}
    rows += [r("R1", k, v, "discharge_sitrep", dt.date(2024, 4, 1), "day") for k, v in pathways.items()]
    delays = {"delay_cap_awaiting_restart_existing_social_care": 10,
              "delay_hub_awaiting_confirmation_funding_eligibility": 2,
              "delay_hosp_awaiting_patient_transport_services": 3, "delay_iface_other_home_based_social_care": 4,
              "delay_wellb_ongoing_safeguarding_concern": 1}
    rows += [r("R1", k, v, "discharge_delays") for k, v in delays.items()]
    return rows
