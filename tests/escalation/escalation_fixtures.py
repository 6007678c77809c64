"""A small hand-made ICS for the escalation spec tests; the working is in test_escalation_spec.py.

The instant is 2024-07-10 14:00 Europe/London (13:00 UTC); "since midnight" starts at 2024-07-10
00:00 local (2024-07-09 23:00 UTC). Times below are local unless they carry an offset.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa

from uec.contract import table
from uec.store import Store

LONDON = ZoneInfo("Europe/London")
AT = dt.datetime(2024, 7, 10, 14, 0, tzinfo=LONDON)


def t(local: str) -> dt.datetime:
    """A local time 'YYYY-MM-DD HH:MM' as an aware instant."""
    return dt.datetime.fromisoformat(local).replace(tzinfo=LONDON)


def put_rows(store: Store, name: str, rows: list[dict[str, Any]]) -> None:
    schema = table(name).arrow_schema()
    data = pa.table({f.name: pa.array([r.get(f.name) for r in rows], f.type) for f in schema})
    with store.write() as w:
        w.append(name, data)


def reference(store: Store) -> None:
    put_rows(store, "organisations", [
        {"org_code": "A1", "name": "Acute one", "org_type": "acute_trust"},
        {"org_code": "A2", "name": "Acute two", "org_type": "acute_trust"},
        {"org_code": "A3", "name": "Acute three (returns only)", "org_type": "acute_trust"},
        {"org_code": "C1", "name": "Community one", "org_type": "community_provider"},
        {"org_code": "AMB", "name": "Ambulance", "org_type": "ambulance_trust"},
        {"org_code": "ICB", "name": "The ICB", "org_type": "ics"},
    ])
    put_rows(store, "sites", [
        {"site_code": "H1", "org_code": "A1", "name": "Hospital one", "site_type": "acute_hospital"},
        {"site_code": "U1", "org_code": "A1", "name": "UTC one", "site_type": "utc_site"},
        {"site_code": "H2", "org_code": "A2", "name": "Hospital two", "site_type": "acute_hospital"},
    ])


def _inc(iid: str, site: str, arrival: str, handover: str) -> dict[str, Any]:
    return {"incident_id": iid, "org_code": "AMB", "call_time": t(arrival) - dt.timedelta(hours=1),
            "category": "C2", "outcome": "conveyed_ed", "destination_site": site,
            "hospital_arrival_time": t(arrival), "handover_time": t(handover)}


def _att(aid: str, site: str, stype: str, arrival: str, departure: str | None, **kw: str) -> dict[str, Any]:
    row: dict[str, Any] = {"attendance_id": aid, "site_code": site, "service_type": stype,
                           "arrival_time": t(arrival), "departure_time": t(departure) if departure else None}
    for k, v in kw.items():
        row[k] = t(v)
    return row


def events(store: Store) -> None:
    """The events path: H1 (trust A1, with UTC U1), H2 (trust A2), community provider C1."""
    put_rows(store, "ambulance_incidents", [
        _inc("i1", "H1", "2024-07-10 08:00", "2024-07-10 08:10"),  # 10 min
        _inc("i2", "H1", "2024-07-10 09:00", "2024-07-10 09:40"),  # 40 min
        _inc("i3", "H1", "2024-07-10 10:00", "2024-07-10 10:25"),  # 25 min
        _inc("i4", "H1", "2024-07-10 14:10", "2024-07-10 14:30"),  # handed over after the instant
        _inc("i5", "H1", "2024-07-09 23:30", "2024-07-09 23:50"),  # before midnight
        _inc("i6", "H2", "2024-07-10 11:00", "2024-07-10 11:10"),  # 10 min
    ])
    put_rows(store, "attendances", [
        _att("a1", "H1", "ed_type1", "2024-07-10 01:00", "2024-07-10 03:00", seen_time="2024-07-10 01:30"),
        _att("a2", "H1", "ed_type1", "2024-07-10 02:00", "2024-07-10 07:00", seen_time="2024-07-10 03:30"),
        _att("a3", "H1", "ed_type1", "2024-07-10 08:00", "2024-07-10 11:00", seen_time="2024-07-10 10:00"),
        _att("a4", "H1", "ed_type1", "2024-07-09 20:00", "2024-07-10 01:00"),
        _att("a5", "U1", "utc", "2024-07-10 09:00", "2024-07-10 10:00"),
        _att("a6", "H1", "ed_type1", "2024-07-10 01:00", None, seen_time="2024-07-10 02:00",
             decision_to_admit_time="2024-07-10 05:00"),
        _att("a7", "H1", "ed_type1", "2024-07-10 12:00", "2024-07-10 15:00", seen_time="2024-07-10 12:20",
             decision_to_admit_time="2024-07-10 13:30"),
        _att("a8", "H1", "ed_type1", "2024-07-10 13:00", "2024-07-10 16:00", seen_time="2024-07-10 14:30"),
        _att("a9", "H1", "ed_type1", "2024-07-07 10:00", None),
        _att("a10", "H1", "ed_type1", "2024-07-10 13:30", None, decision_to_admit_time="2024-07-10 14:30"),
    ])
    def beds(site: str, when: str, bed_type: str, open_: int, occupied: int) -> dict[str, Any]:
        return {"site_code": site, "snapshot_time": t(when), "bed_type": bed_type, "beds_open": open_,
                "beds_occupied": occupied}

    put_rows(store, "bed_states", [
        beds("H1", "2024-07-09 08:00", "g_and_a", 100, 80),
        beds("H1", "2024-07-10 08:00", "g_and_a", 100, 94),
        beds("H1", "2024-07-10 08:00", "g_and_a_escalation", 5, 5),
        beds("H1", "2024-07-10 16:00", "g_and_a", 100, 100),
        beds("H2", "2024-07-10 08:00", "g_and_a", 200, 150),
    ])
    spell = {"admission_method": "emergency", "age_band": "65-74"}
    put_rows(store, "spells", [
        {"spell_id": "s1", "site_code": "H1", "admission_time": t("2024-07-01 10:00"),
         "criteria_to_reside_end_time": t("2024-07-09 10:00"), **spell},
        {"spell_id": "s2", "site_code": "H1", "admission_time": t("2024-07-05 10:00"),
         "criteria_to_reside_end_time": t("2024-07-10 13:00"), "discharge_time": t("2024-07-10 15:00"), **spell},
        {"spell_id": "s3", "site_code": "H1", "admission_time": t("2024-07-08 10:00"), **spell},
        {"spell_id": "s4", "site_code": "H1", "admission_time": t("2024-07-02 10:00"),
         "criteria_to_reside_end_time": t("2024-07-08 10:00"), "discharge_time": t("2024-07-09 10:00"), **spell},
        {"spell_id": "s5", "site_code": "H1", "admission_time": t("2024-07-08 10:00"), "age_band": "5-17",
         "criteria_to_reside_end_time": t("2024-07-09 10:00")},
        {"spell_id": "s6", "site_code": "H1", "admission_time": t("2024-07-10 15:00"), **spell},
    ])
    def ucr(rid: str, referral: str, visit: str) -> dict[str, Any]:
        return {"referral_id": rid, "org_code": "C1", "referral_time": t(referral), "first_visit_time": t(visit)}

    put_rows(store, "ucr_referrals", [
        ucr("r1", "2024-07-10 08:00", "2024-07-10 09:00"),
        ucr("r2", "2024-07-10 09:00", "2024-07-10 12:00"),
        ucr("r3", "2024-07-10 10:00", "2024-07-10 11:30"),
        ucr("r4", "2024-07-10 13:00", "2024-07-10 15:00"),
    ])


def opel_return(org: str, day: str, metric: str, value: float) -> dict[str, Any]:
    return {"org_code": org, "period_start": dt.date.fromisoformat(day), "period_length": "day",
            "metric_code": metric, "value": value, "source": "opel"}


A3_RETURNS = {
    "opel_acute_handover_mean_minutes": 50,
    "opel_acute_4hr_performance": 0.75,
    "opel_acute_majors_resus_occupancy": 1.1,
    "opel_acute_time_to_treatment_median_minutes": 100,
    "opel_acute_12hr_in_department": 0.02,
    "opel_acute_referred_in_department": 0.35,
    "opel_acute_ga_occupancy": 0.99,
    "opel_acute_escalation_beds_share": 0.0,
    "opel_acute_no_criteria_to_reside": 0.22,
}


def returns(store: Store) -> None:
    """The returns path: A3 and MH1 send only OPEL returns; A2 fills a gap; A1's return is overruled."""
    rows = [opel_return("A3", "2024-07-10", m, v) for m, v in A3_RETURNS.items()]
    rows += [
        # MH1 is in no table but the returns; it sent yesterday's (today's is not in yet).
        opel_return("MH1", "2024-07-09", "opel_mh_adult_bed_occupancy", 0.97),
        opel_return("MH1", "2024-07-09", "opel_mh_out_of_area_placements", 6),
        opel_return("MH1", "2024-07-09", "opel_mh_ed_waits_12hr", 0),
        opel_return("MH1", "2024-07-07", "opel_mh_ed_waits_12hr", 10),  # too old to use
        opel_return("A2", "2024-07-10", "opel_acute_4hr_performance", 0.65),
        opel_return("A1", "2024-07-10", "opel_acute_handover_mean_minutes", 99),  # events win
        opel_return("H2", "2024-07-10", "opel_acute_majors_resus_occupancy", 0.9),  # a site's own return
    ]
    put_rows(store, "returns", rows)
