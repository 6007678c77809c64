"""Spec tests for the parameters computed from the contract's ED area snapshots, specialty referrals,
NHS 111 call handling and capacity snapshots, worked out by hand, on both stores.

The instant is 2024-07-10 14:00 Europe/London; "since midnight" starts at 00:00 local that day.
Thresholds and points are the national framework file's (OPEL 2, 3, 4 bands; 0-3 points).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from escalation_fixtures import AT, put_rows, t

from uec.escalation import Score, status
from uec.store import Store


def _snap(site: str, at: str, area: str, spaces: int, patients: int) -> dict[str, Any]:
    return {"site_code": site, "snapshot_time": t(at), "area": area, "spaces": spaces, "patients": patients}


def _att(aid: str, site: str, arrival: str, departure: str | None = None, dta: str | None = None) -> dict[str, Any]:
    return {"attendance_id": aid, "site_code": site, "service_type": "ed_type1", "arrival_time": t(arrival),
            "departure_time": t(departure) if departure else None, "decision_to_admit_time": t(dta) if dta else None}


def _ref(rid: str, aid: str, site: str, request: str) -> dict[str, Any]:
    return {"referral_id": rid, "attendance_id": aid, "site_code": site, "request_time": t(request),
            "specialty_group": "medicine"}


def _calls(start: str, end: str, offered: int, answered: int, abandoned: int, in_60s: int) -> dict[str, Any]:
    return {"org_code": "N1", "period_start": t(start), "period_end": t(end), "calls_offered": offered,
            "calls_answered": answered, "calls_abandoned": abandoned, "answered_within_60s": in_60s}


def _cap(org: str, at: str, service: str, capacity: int, occupied: int, out: int | None = None) -> dict[str, Any]:
    return {"org_code": org, "snapshot_time": t(at), "service": service, "capacity": capacity,
            "occupied": occupied, "out_of_area": out}


@pytest.fixture
def area_store(store: Store) -> Store:
    put_rows(store, "organisations", [
        {"org_code": "A1", "name": "Acute one", "org_type": "acute_trust"},
        {"org_code": "C1", "name": "Community one", "org_type": "community_provider"},
        {"org_code": "C2", "name": "Community two (bed states)", "org_type": "community_provider"},
        {"org_code": "N1", "name": "NHS 111 one", "org_type": "nhs111_provider"},
        {"org_code": "M1", "name": "Mental health one", "org_type": "mental_health_provider"},
        {"org_code": "ICB", "name": "The ICB", "org_type": "ics"},
    ])
    put_rows(store, "sites", [
        {"site_code": "H1", "org_code": "A1", "name": "Hospital one", "site_type": "acute_hospital"},
        {"site_code": "H2", "org_code": "A1", "name": "Hospital two", "site_type": "acute_hospital"},
        {"site_code": "H3", "org_code": "A1", "name": "Hospital three", "site_type": "acute_hospital"},
        {"site_code": "CH2", "org_code": "C2", "name": "Community hospital", "site_type": "community_hospital"},
    ])
    put_rows(store, "ed_area_states", [
        _snap("H1", "2024-07-10 12:00", "majors", 20, 30),  # superseded by 13:00
        _snap("H1", "2024-07-10 13:00", "resus", 4, 5),
        _snap("H1", "2024-07-10 13:00", "majors", 20, 18),
        _snap("H1", "2024-07-10 13:00", "minors", 10, 12),
        _snap("H1", "2024-07-10 13:00", "paediatrics", 6, 3),
        _snap("H1", "2024-07-10 14:30", "majors", 20, 40),  # after the instant
        _snap("H2", "2024-07-10 13:30", "resus", 2, 3),
        _snap("H2", "2024-07-10 13:30", "majors", 10, 9),
        _snap("H3", "2024-07-10 09:00", "majors", 10, 20),  # more than 4 hours old
    ])
    put_rows(store, "attendances", [
        _att("b1", "H1", "2024-07-10 10:00"),
        _att("b2", "H1", "2024-07-10 11:00"),
        _att("b3", "H1", "2024-07-10 12:00"),
        _att("b4", "H1", "2024-07-10 09:00", "2024-07-10 13:00"),
        _att("c1", "H2", "2024-07-10 10:00", dta="2024-07-10 13:00"),
        _att("c2", "H2", "2024-07-10 11:00"),
    ])
    put_rows(store, "specialty_referrals", [
        _ref("r1", "b1", "H1", "2024-07-10 12:00"),
        _ref("r2", "b2", "H1", "2024-07-10 14:30"),  # after the instant
        _ref("r4", "b4", "H1", "2024-07-10 11:00"),  # b4 has left
    ])
    put_rows(store, "calls_111_handling", [
        _calls("2024-07-09 23:00", "2024-07-10 00:00", 100, 50, 50, 10),  # before midnight
        _calls("2024-07-10 00:00", "2024-07-10 06:00", 200, 190, 8, 170),
        _calls("2024-07-10 06:00", "2024-07-10 12:00", 400, 380, 15, 300),
        _calls("2024-07-10 12:00", "2024-07-10 14:00", 100, 90, 7, 60),
        _calls("2024-07-10 13:30", "2024-07-10 14:30", 50, 10, 40, 0),  # not over by the instant
    ])
    put_rows(store, "capacity_states", [
        _cap("C1", "2024-07-10 08:00", "community_beds", 40, 30),  # superseded by 13:00
        _cap("C1", "2024-07-10 13:00", "community_beds", 40, 38),
        _cap("C1", "2024-07-10 08:00", "virtual_ward", 50, 42),
        _cap("M1", "2024-07-10 08:00", "mh_adult_acute_beds", 100, 97, 4),
        _cap("M1", "2024-07-10 08:00", "mh_older_adult_beds", 30, 25, 2),
        _cap("M1", "2024-07-07 08:00", "mh_picu_beds", 10, 10, 10),  # beyond the 48-hour look-back
    ])
    put_rows(store, "bed_states", [
        {"site_code": "CH2", "snapshot_time": t("2024-07-10 08:00"), "bed_type": "community",
         "beds_open": 20, "beds_occupied": 17},
    ])
    return store


def _scores(store: Store) -> dict[tuple[str, str], Score]:
    return {(sc.kind, sc.code): sc for sc in status(store, AT).all()}


def _value(sc: Score, pid: str) -> tuple[Any, ...]:
    a = next(a for a in sc.parameters if a.parameter_id == pid)
    return (a.value, a.source, a.level, a.points)


def test_majors_and_resus_occupancy_from_area_snapshots(area_store: Store) -> None:
    """H1's latest snapshot by 14:00 is 13:00: (5 + 18) / (4 + 20) = 23/24 = 95.8% -> OPEL 2 (>= 85%).
    H2 at 13:30: (3 + 9) / (2 + 10) = 100% -> OPEL 3. H3's 09:00 snapshot is over 4 hours old: no
    value. Trust A1 adds its sites: (23 + 12) / (24 + 12) = 35/36 -> OPEL 2. Minors and paediatrics
    do not count; the 14:30 snapshot is after the instant."""
    s = _scores(area_store)
    pid = "acute-majors-resus-occupancy"
    assert _value(s[("site", "H1")], pid) == (pytest.approx(23 / 24), "events", 2, 1)
    assert _value(s[("site", "H2")], pid) == (pytest.approx(1.0), "events", 3, 2)
    assert _value(s[("site", "H3")], pid)[0] is None
    assert _value(s[("org", "A1")], pid) == (pytest.approx(35 / 36), "events", 2, 1)


def test_referred_to_a_specialty(area_store: Store) -> None:
    """H1 at 14:00: b1, b2, b3 present (b4 left at 13:00); b1 referred at 12:00, b2 only at 14:30 ->
    1/3 = 33.3% -> OPEL 3 (>= 30%). H2 sends no referrals, so its decisions to admit stand in:
    c1 (DTA 13:00) of c1, c2 -> 50% -> OPEL 4. Trust A1 counts the sites that send referrals: 1/3."""
    s = _scores(area_store)
    pid = "acute-referred-in-department"
    assert _value(s[("site", "H1")], pid) == (pytest.approx(1 / 3), "events", 3, 2)
    assert _value(s[("site", "H2")], pid) == (pytest.approx(0.5), "events", 4, 3)
    assert _value(s[("org", "A1")], pid) == (pytest.approx(1 / 3), "events", 3, 2)


def test_nhs111_call_handling_since_midnight(area_store: Store) -> None:
    """Periods wholly in [00:00, 14:00]: 00-06, 06-12, 12-14 (23-00 is yesterday, 13:30-14:30 not over).
    Abandoned (8 + 15 + 7) / (200 + 400 + 100) = 30/700 = 4.3% -> OPEL 2 (>= 3%), 1 point.
    Within 60 s (170 + 300 + 60) / (190 + 380 + 90) = 530/660 = 80.3% -> OPEL 2 (<= 90%), 1 point.
    The clinical queue has no data: 2 of 6 points -> 33.3 -> OPEL 2."""
    n1 = _scores(area_store)[("org", "N1")]
    assert _value(n1, "nhs111-abandoned") == (pytest.approx(30 / 700), "events", 2, 1)
    assert _value(n1, "nhs111-answered-60s") == (pytest.approx(530 / 660), "events", 2, 1)
    assert (n1.score, n1.level) == (33.3, 2)


def test_community_virtual_ward_and_mental_health_capacity(area_store: Store) -> None:
    """C1: community beds at 13:00 38/40 = 95% -> OPEL 3 (2 points); virtual ward 42/50 = 84% -> OPEL 2
    (1 point); no UCR referrals -> 3 of 6 points = 50.0 -> OPEL 3.
    C2 sends no capacity snapshot: its community hospital's bed state stands in, 17/20 = 85% -> OPEL 1.
    M1: adult acute beds 97/100 = 97% -> OPEL 3 (2 points); out of area 4 + 2 = 6 (the PICU snapshot is
    over 48 hours old) -> OPEL 3 (2 points); ED waits have no data -> 4 of 6 = 66.7 -> OPEL 3."""
    s = _scores(area_store)
    c1, c2, m1 = s[("org", "C1")], s[("org", "C2")], s[("org", "M1")]
    assert _value(c1, "chs-community-bed-occupancy") == (pytest.approx(0.95), "events", 3, 2)
    assert _value(c1, "chs-virtual-ward-occupancy") == (pytest.approx(0.84), "events", 2, 1)
    assert (c1.score, c1.level) == (50.0, 3)
    assert _value(c2, "chs-community-bed-occupancy") == (pytest.approx(0.85), "events", 1, 0)
    assert m1.provider_type == "mental_health"
    assert _value(m1, "mh-adult-bed-occupancy") == (pytest.approx(0.97), "events", 3, 2)
    assert _value(m1, "mh-out-of-area-placements") == (pytest.approx(6), "events", 3, 2)
    assert (m1.score, m1.level) == (66.7, 3)


def test_a_day_of_levels_uses_each_instants_own_snapshot(area_store: Store) -> None:
    """At 12:30 H1's latest snapshot is 12:00 (majors 30/20 alone -> 150% -> OPEL 4); at 14:00 it is 13:00."""
    from uec.escalation.levels import status_many

    h = status_many(area_store, [AT - dt.timedelta(minutes=90), AT])
    first, second = ({(sc.kind, sc.code): sc for sc in st.all()} for st in h)
    assert _value(first[("site", "H1")], "acute-majors-resus-occupancy")[::2] == (pytest.approx(1.5), 4)
    assert _value(second[("site", "H1")], "acute-majors-resus-occupancy")[::2] == (pytest.approx(23 / 24), 2)
