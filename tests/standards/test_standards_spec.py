"""Spec tests: every standard in the catalogue against answers worked out by hand, on both engines.

The rows are in ``standards_fixtures.py`` with the working beside them; the expected values below
restate the arithmetic. A standard added to the catalogue without a hand-computed answer here fails
``test_every_standard_has_a_hand_computed_answer``.
"""

from __future__ import annotations

import datetime as dt

import pytest
from standards_fixtures import APRIL, load_spec_ics, put_rows, returns_rows

from uec.standards import catalogue, compute_many
from uec.store import Store

# ICS-level April 2024 values from events: (numerator, denominator, value). None = not checked.
EVENTS: dict[str, tuple[float | None, float | None, float]] = {
    # A&E types with a departure: a1 3h, a2 5h, a3 13h20, a4 4h, a5 1h, a6 4h10, a7 1h30 -> 4 within 4 h
    "ed-4hr": (4, 7, 4 / 7),
    # type 1 with a departure: a1, a2, a3, a4, a7 -> a1, a4, a7 within 4 h
    "ed-4hr-type1": (3, 5, 3 / 5),
    # of those five only a3 is over 12 h
    "ed-12hr-arrival": (1, 5, 1 / 5),
    # all A&E types with a departure (a1-a7): only a3 (13 h 20) is over 12 h
    "ed-12hr-arrival-all": (1, 7, 1 / 7),
    # DTA to departure: a1 2 h, a3 12 h 50, a4 2 h 20 -> one over 4 h
    "ed-4hr-dta": (1, 3, 1 / 3),
    # DTA to departure: a1 2 h, a3 12 h 50, a4 2 h 20
    "ed-12hr-dta": (1, None, 1),
    # assessed: a1 10, a2 20, a3 15, a4 16, a7 5, a8 30 minutes -> 3 of 6 within 15
    "ed-initial-assessment-15": (3, 6, 0.5),
    # admitted type 1 with a ready time: a1 waits 80, a3 100, a4 40 minutes
    "ed-clinically-ready-1hr": (2, 3, 2 / 3),
    # admitted type 1: 180 + 800 + 240 minutes
    "ed-mean-time-admitted": (1220, 3, 1220 / 3),
    # not admitted type 1: a2 300, a7 90
    "ed-mean-time-non-admitted": (390, 2, 195),
    # 60, 90, 180, 240, 250, 300, 800 -> 240
    "ed-median-time": (None, 7, 240),
    # mental health: a3 13 h 20 (over 12), a7 1 h 30
    "ed-mh-12hr": (1, None, 1),
    # a1-a8 (a9 is SDEC) over 10,000 + 30,000 people, per 1,000
    "ed-attendances-per-1000": (8, 40_000, 0.2),
    # from 111: a5 booked, a6 not, a7 booked
    "ed-111-booked": (2, 3, 2 / 3),
    # category 1 on scene at 6, 10, 20 minutes
    "amb-c1-mean": (36, 3, 12),
    # percentile_cont(0.9) of 6, 10, 20: 10 + 0.8 * 10
    "amb-c1-p90": (None, 3, 18),
    # category 2: 15, 45, 25
    "amb-c2-mean": (85, 3, 85 / 3),
    # 15, 25, 45: 25 + 0.8 * 20
    "amb-c2-p90": (None, 3, 41),
    # category 3 with a response: only i6 at 100 (i8 was hear and treat)
    "amb-c3-p90": (None, 1, 100),
    "amb-c4-p90": (None, 1, 200),
    # handovers 10, 20, 35, 50, 70 minutes
    "amb-handover-15": (1, 5, 0.2),
    "amb-handover-30": (2, 5, 0.4),
    "amb-handover-45": (3, 5, 0.6),
    "amb-handover-60": (4, 5, 0.8),
    # handovers over 30 minutes: 35, 50, 70; over 60: 70; over the 30 days of April
    "amb-handover-delays-30": (3, 30, 0.1),
    "amb-handover-delays-60": (1, 30, 1 / 30),
    # beyond 15: 0 + 5 + 20 + 35 + 55 = 115 minutes; beyond 60: 10 minutes
    "amb-hours-lost-15": (115 / 60, None, 115 / 60),
    "amb-hours-lost-60": (10 / 60, None, 10 / 60),
    # 10 incidents: i8, i9 hear and treat; i2, i7 see and treat; i1, i3, i4, i6, i10 to ED
    "amb-hear-and-treat": (2, 10, 0.2),
    "amb-see-and-treat": (2, 10, 0.2),
    "amb-conveyance-ed": (5, 10, 0.5),
    # G&A + escalation occupied 90+10+95+18+170+0 over open 100+10+100+20+200+0
    "beds-ga-occupancy": (383, 430, 383 / 430),
    # critical care: S1 5 occupied of 10 open
    "beds-critical-care-occupancy": (5, 10, 0.5),
    # escalation beds open 10 + 20 + 0 over 2 snapshot times
    "beds-escalation-open": (30, 2, 15),
    # adult spell-censuses: sp1 5, sp2 3, sp3 30, sp5 6, sp7 8 = 52; 30 censuses in April
    # 7+ days: sp1 5, sp3 30, sp7 1 = 36; 14+: sp1 2, sp3 30 = 32; 21+: sp3 30
    "beds-los7-count": (36, 30, 36 / 30),
    "beds-los7-pct": (36, 52, 36 / 52),
    "beds-los14-count": (32, 30, 32 / 30),
    "beds-los14-pct": (32, 52, 32 / 52),
    "beds-los21-count": (30, 30, 1.0),
    "beds-los21-pct": (30, 52, 30 / 52),
    # no criteria to reside: sp1 at 2 censuses, sp3 at 10
    "beds-no-criteria-to-reside": (12, 52, 12 / 52),
    # the same 12 spell-censuses over the 30 censuses of April
    "beds-no-criteria-to-reside-count": (12, 30, 0.4),
    # discharges with a pathway: sp1 P0, sp2 P1, sp4 P2, sp5 P0, sp7 P3
    "flow-discharge-p0": (2, 5, 0.4),
    "flow-discharge-p1": (1, 5, 0.2),
    "flow-discharge-p2": (1, 5, 0.2),
    "flow-discharge-p3": (1, 5, 0.2),
    # weekend: sp2 Sat, sp5 Sun, sp7 Sun over 8 weekend days; weekday: sp1, sp4, sp6 over 22 weekdays
    "flow-weekend-discharges": (3 / 8, 3 / 22, 2.75),
    # SDEC: 12 + 15.5 + 4 hours over 3 services
    "flow-sdec-hours": (31.5, 3, 10.5),
    # visits at 90, 121 and 120 minutes (u4 never visited)
    "flow-ucr-2hr": (2, 3, 2 / 3),
}

# Values from the hand-made returns (April 2024; KH03 for the quarter from January 2024).
RETURNS: dict[str, float] = {
    "ed-4hr": (200 - 25) / 200,
    "ed-4hr-type1": 0.8,
    "amb-c1-mean": 4200 / 10 / 60,
    "amb-c1-p90": 15,
    "amb-c2-mean": 36000 / 20 / 60,
    "amb-c2-p90": 40,
    "amb-c3-p90": 120,
    "amb-c4-p90": 180,
    "amb-hear-and-treat": 0.1,
    "amb-see-and-treat": 0.3,
    "amb-conveyance-ed": 0.5,
    "beds-ga-occupancy": 0.9,
    # monthly A&E: 3 twelve-hour trolley waits; 30 of 100 emergency admissions over 4 hours from DTA
    "ed-12hr-dta": 3,
    "ed-4hr-dta": 0.3,
    # Wales: 45 of 50 within 12 hours
    "ed-12hr-arrival-all": 0.1,
    # sitrep, 1 and 2 April: 1 + 2 diverts
    "ed-diverts": 3,
    # arrivals 200; 30-60 min 10 + 20, over 60 5 + 5
    "amb-handover-30": (200 - 30 - 10) / 200,
    "amb-handover-60": (200 - 10) / 200,
    # per sitrep day: (10 + 20 + 5 + 5) / 2 and (5 + 5) / 2
    "amb-handover-delays-30": 20,
    "amb-handover-delays-60": 5,
    # adult G&A 200 / 220, paediatric 16 / 20, adult critical care 18 / 20
    "beds-adult-ga-occupancy": 200 / 220,
    "beds-paed-ga-occupancy": 0.8,
    "beds-critical-care-occupancy": 0.9,
    # escalation beds 4 and 6: 5 a day; long stays a day over adult occupied a day (100)
    "beds-escalation-open": 5,
    "beds-los7-count": 50,
    "beds-los7-pct": 0.5,
    "beds-los14-count": 25,
    "beds-los14-pct": 0.25,
    "beds-los21-count": 10,
    "beds-los21-pct": 0.1,
    # not meeting the criteria to reside 20 and 30: 25 a day, of 100 adult beds occupied a day
    "beds-no-criteria-to-reside-count": 25,
    "beds-no-criteria-to-reside": 0.25,
    # of them 10 + 10 discharged, 4 + 6 by 17:00
    "flow-ctr-discharged": 20 / 50,
    "flow-discharged-by-1700": 0.5,
    # pathways 10, 6, 2, 2
    "flow-discharge-p0": 0.5,
    "flow-discharge-p1": 0.3,
    "flow-discharge-p2": 0.1,
    "flow-discharge-p3": 0.1,
    # delays (patients a day): capacity 10, hub 2, hospital 3, interface 4, wellbeing 1
    "flow-delays": 20,
    "flow-delays-capacity": 0.5,
    "flow-delays-hub": 0.1,
    "flow-delays-hospital": 0.15,
    "flow-delays-interface": 0.2,
    "flow-delays-wellbeing": 0.05,
}


def test_every_standard_has_a_hand_computed_answer() -> None:
    cat = catalogue()
    assert set(EVENTS) == {s.id for s in cat.standards if s.events}
    assert set(RETURNS) == {s.id for s in cat.standards if s.returns}


def test_every_standard_from_events(store: Store) -> None:
    load_spec_ics(store)
    results = {r.standard.id: r for r in compute_many(store, list(EVENTS), period="month", start=APRIL[0],
                                                        end=APRIL[1], source="events")}
    for sid, (num, den, value) in EVENTS.items():
        rows = results[sid].rows
        assert len(rows) == 1, (sid, rows, results[sid].notes)
        row = rows[0]
        assert (row.code, row.period_start, row.source) == (None, dt.date(2024, 4, 1), "events"), sid
        assert row.value == pytest.approx(value), sid
        if num is not None:
            assert row.numerator == pytest.approx(num), sid
        if den is not None:
            assert row.denominator == pytest.approx(den), sid


def test_every_standard_from_returns(store: Store) -> None:
    put_rows(store, "returns", returns_rows())
    for sid, value in RETURNS.items():
        results = compute_many(store, [sid], period="quarter" if sid == "beds-ga-occupancy" else "month",
                               start=dt.date(2024, 1, 1), end=APRIL[1], source="returns")
        (row,) = results[0].rows
        assert row.source == "returns"
        assert row.value == pytest.approx(value), sid
        assert not row.approximate


def test_site_level_values(store: Store) -> None:
    load_spec_ics(store)
    out = {
        r.standard.id: {(row.code, None if row.value is None else round(row.value, 6)) for row in r.rows}
        for r in compute_many(store, ["ed-4hr", "amb-handover-15", "beds-escalation-open", "flow-sdec-hours",
                                      "ed-attendances-per-1000"],
                              level="site", start=APRIL[0], end=APRIL[1])
    }
    # S1: a1, a2, a3, a4, a5 -> a1, a4, a5 within 4 h; S2: a6 over; S3: a7 within (a8 has not left)
    assert out["ed-4hr"] == {("S1", 0.6), ("S2", 0.0), ("S3", 1.0)}
    # S1 handovers 10, 20, 50; S3 35, 70
    assert out["amb-handover-15"] == {("S1", round(1 / 3, 6)), ("S3", 0.0)}
    # S1 escalation 10 and 20 over 2 snapshots; S3 0 over 1
    assert out["beds-escalation-open"] == {("S1", 15.0), ("S3", 0.0)}
    assert out["flow-sdec-hours"] == {("S1", 12.0), ("S2", 4.0), ("S3", 15.5)}
    # S1: a1-a5 over 10,000; S2 has no population; S3: a7, a8 over 30,000
    assert out["ed-attendances-per-1000"] == {("S1", 0.5), ("S2", None), ("S3", round(2 / 30, 6))}


def test_org_level_maps_sites_to_their_trust(store: Store) -> None:
    load_spec_ics(store)
    (res,) = compute_many(store, ["ed-4hr"], level="org", start=APRIL[0], end=APRIL[1])
    # O1 runs S1 and S2: a1..a6 -> a1, a4, a5 within; O2 runs S3: a7 within
    assert {(r.code, r.numerator, r.denominator) for r in res.rows} == {("O1", 3, 6), ("O2", 1, 1)}
    (amb,) = compute_many(store, ["amb-c1-mean"], level="org", start=APRIL[0], end=APRIL[1])
    assert [(r.code, r.value) for r in amb.rows] == [("AMB", 12.0)]
