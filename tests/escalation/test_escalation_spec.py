"""Spec tests: OPEL parameters, points, scores, levels, pillars and the ICS worked out by hand, on both stores.

The fixture ICS is in ``escalation_fixtures.py``; the instant is 2024-07-10 14:00 Europe/London.
Thresholds, points (OPEL 1-4: 0, 1, 2, 3), bands (25, 50, 75) and the mean aggregation are the
national framework file's.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from escalation_fixtures import AT, events, reference, returns

from uec.escalation import Score, Status, history, status
from uec.store import Store


def by_code(s: Status) -> dict[tuple[str, str], Score]:
    return {(sc.kind, sc.code): sc for sc in s.all()}


def values(sc: Score) -> dict[str, tuple[Any, ...]]:
    # Any: the expected tuples hold pytest.approx, which compares equal to a number.
    return {a.parameter_id: (a.value, a.source, a.level, a.points) for a in sc.parameters}


@pytest.fixture
def spec_store(store: Store) -> Store:
    reference(store)
    events(store)
    returns(store)
    return store


def test_events_path_site_h1(spec_store: Store) -> None:
    """Site H1 from events alone.

    - handover since midnight: i1 10, i2 40, i3 25 min (i4 after the instant, i5 before midnight):
      mean 25 -> at or above 15 -> OPEL 2, 1 point
    - 4 hours since midnight (departures 00:00-14:00, H1 type 1): a1 2 h ok, a2 5 h, a3 3 h ok, a4 5 h
      (arrived yesterday, left at 01:00) -> 2/4 = 50% -> at or below 60% -> OPEL 4, 3 points
    - time to treatment (seen since midnight): a7 20, a1 30, a6 60, a2 90, a3 120 (a8 seen after) ->
      median 60 -> OPEL 2 (at or above 60), 1 point
    - in the department at 14:00: a6 (13 h, DTA 05:00), a7 (DTA 13:30), a8, a10 (DTA after 14:00);
      a9 arrived 3 days ago (beyond the 48 h look-back) -> 4 present, 1 over 12 h = 25% -> OPEL 4, 3 points;
      2 referred = 50% -> OPEL 4, 3 points
    - beds, latest census at or before 14:00 is 08:00 today: (94 + 5) / (100 + 5) = 94.3% -> OPEL 2, 1 point;
      escalation 5 / 105 = 4.8% -> OPEL 3, 2 points
    - in bed at 14:00, adults: s1 (NCTR), s2 (NCTR since 13:00, leaves 15:00), s3; s4 left, s5 a child,
      s6 not yet admitted -> 2/3 = 66.7% -> OPEL 4, 3 points
    - majors and resus: no data (no ED area snapshots, no return)
    Score: 1+3+1+3+3+1+2+3 = 17 of 8 x 3 = 24 -> 70.8 -> OPEL 3.
    """
    h1 = by_code(status(spec_store, AT))[("site", "H1")]
    v = values(h1)
    assert v["acute-handover-mean"] == (pytest.approx(25), "events", 2, 1)
    assert v["acute-4hr"] == (pytest.approx(0.5), "events", 4, 3)
    assert v["acute-time-to-treatment"] == (pytest.approx(60), "events", 2, 1)
    assert v["acute-12hr-in-department"] == (pytest.approx(0.25), "events", 4, 3)
    assert v["acute-referred-in-department"] == (pytest.approx(0.5), "events", 4, 3)
    assert v["acute-ga-occupancy"] == (pytest.approx(99 / 105), "events", 2, 1)
    assert v["acute-escalation-beds"] == (pytest.approx(5 / 105), "events", 3, 2)
    assert v["acute-no-criteria-to-reside"] == (pytest.approx(2 / 3), "events", 4, 3)
    assert v["acute-majors-resus-occupancy"] == (None, None, None, None)
    majors = next(a for a in h1.parameters if a.parameter_id == "acute-majors-resus-occupancy")
    assert majors.note is not None and majors.note.startswith("no data: no events for this measure")
    assert (h1.score, h1.level) == (70.8, 3)
    crossed = next(a for a in h1.parameters if a.parameter_id == "acute-escalation-beds").crossed
    assert crossed == ((2, 0.01), (3, 0.03))
    assert h1.why().startswith("score 70.8 = 17/24 points: acute-4hr 50.0% (OPEL 4, 3 pts)")


def test_events_and_returns_organisations(spec_store: Store) -> None:
    """Organisations, events first and returns where events give nothing.

    - A1 = H1 plus UTC U1: 4 hours (2 + a5) / (4 + 1) = 60% -> at or below 60% -> still OPEL 4; every
      other value as H1's (U1 has no handovers, beds or type 1 patients); A1's own return of a 99-minute
      handover is ignored because events give 25 -> 17/24 -> 70.8, OPEL 3.
    - A2 = H2: handover i6 10 min -> OPEL 1, 0; beds 150/200 = 75% -> OPEL 1, 0; escalation 0/200 -> OPEL 1, 0;
      no 4-hour events, so its return 65% -> OPEL 3, 2 points -> 2/12 -> 16.7, OPEL 1.
    - A3 (returns only, today's): handover 50 OPEL 4 (3), 4 h 75% OPEL 2 (1), majors 110% OPEL 3 (2),
      treatment 100 min OPEL 2 (1), 12 h 2% OPEL 1 (0), referred 35% OPEL 3 (2), occupancy 99% OPEL 4 (3),
      escalation 0% OPEL 1 (0), NCTR 22% OPEL 2 (1) -> 13/27 = 48.1 -> OPEL 2.
    - MH1 (in no table but the returns; yesterday's return, today's not in; the 07-07 return is too
      old): occupancy 97% OPEL 3 (2), out of area 6 OPEL 3 (2), ED waits 0 OPEL 1 (0) -> 4/9 = 44.4 -> OPEL 2.
    - C1: UCR seen since midnight r1 1 h ok, r2 3 h, r3 1.5 h ok (r4 after) -> 2/3 = 66.7% -> OPEL 2 (1);
      community beds no data; virtual wards not available -> 1/3 = 33.3 -> OPEL 2.
    """
    s = by_code(status(spec_store, AT))
    a1, a2, a3, mh1, c1 = (s[("org", c)] for c in ("A1", "A2", "A3", "MH1", "C1"))
    assert values(a1)["acute-4hr"] == (pytest.approx(0.6), "events", 4, 3)
    assert values(a1)["acute-handover-mean"][:2] == (pytest.approx(25), "events")
    assert (a1.score, a1.level) == (70.8, 3)
    assert values(a2)["acute-4hr"] == (0.65, "returns", 3, 2)
    assert values(a2)["acute-handover-mean"] == (pytest.approx(10), "events", 1, 0)
    assert (a2.score, a2.level) == (16.7, 1)
    assert {k: v[2] for k, v in values(a3).items()} == {
        "acute-handover-mean": 4, "acute-4hr": 2, "acute-majors-resus-occupancy": 3, "acute-time-to-treatment": 2,
        "acute-12hr-in-department": 1, "acute-referred-in-department": 3, "acute-ga-occupancy": 4,
        "acute-escalation-beds": 1, "acute-no-criteria-to-reside": 2,
    }
    assert all(v[1] == "returns" for v in values(a3).values())
    assert (a3.score, a3.level) == (48.1, 2)
    assert mh1.provider_type == "mental_health"
    assert values(mh1)["mh-ed-waits-12hr"] == (0, "returns", 1, 0)
    assert (mh1.score, mh1.level) == (44.4, 2)
    assert values(c1)["chs-ucr-2hr"] == (pytest.approx(2 / 3), "events", 2, 1)
    assert values(c1)["chs-community-bed-occupancy"][0] is None
    assert (c1.score, c1.level) == (33.3, 2)
    # A return sent for a site counts for the site, not its trust: H2's majors 90% -> OPEL 2, 1 point;
    # with handover, occupancy and escalation beds at OPEL 1 that is 1/12 -> 8.3, OPEL 1.
    h2 = s[("site", "H2")]
    assert values(h2)["acute-majors-resus-occupancy"] == (0.9, "returns", 2, 1)
    assert values(a2)["acute-majors-resus-occupancy"][0] is None
    assert (h2.score, h2.level) == (8.3, 1)


def test_pillars_and_ics(spec_store: Store) -> None:
    """Pillars are the mean of their organisations, the ICS the mean of the pillars with a score.

    acute (70.8 + 16.7 + 48.1) / 3 = 45.2 -> OPEL 2; community 33.3 -> OPEL 2; mental health 44.4 -> OPEL 2;
    NHS 111 has no organisation -> no score. ICS (45.2 + 33.3 + 44.4) / 3 = 40.97 -> 41.0 -> OPEL 2, code ICB.
    """
    s = by_code(status(spec_store, AT))
    assert (s[("pillar", "acute")].score, s[("pillar", "acute")].level) == (45.2, 2)
    assert (s[("pillar", "community")].score, s[("pillar", "mental_health")].score) == (33.3, 44.4)
    assert s[("pillar", "nhs111")].score is None
    ics = s[("ics", "ICB")]
    assert (ics.score, ics.level) == (41.0, 2)
    assert ics.why() == "score 41.0 = mean of 3 pillars: acute 45, community 33, mental_health 44"


def test_returns_alone_on_an_empty_event_store(store: Store) -> None:
    """An ICS that only sends returns: A3's nine parameters give 48.1 (as above); the ICS is its pillar's."""
    from escalation_fixtures import A3_RETURNS, opel_return, put_rows

    put_rows(store, "returns", [opel_return("A3", "2024-07-10", m, v) for m, v in A3_RETURNS.items()])
    s = by_code(status(store, AT))
    assert s[("org", "A3")].provider_type == "acute"
    assert (s[("org", "A3")].score, s[("ics", "ICS")].score, s[("ics", "ICS")].level) == (48.1, 48.1, 2)


def test_org_filter_and_history_agree_with_status(spec_store: Store) -> None:
    """15-minute history of the day holds 96 instants; its 14:00 row equals status at 14:00."""
    day = history(spec_store, dt.date(2024, 7, 10), dt.date(2024, 7, 11), "15min", org="A1")
    assert len(day) == 96
    at_two = next(s for s in day if s.at == AT.astimezone(dt.UTC))
    assert [sc.code for sc in at_two.organisations] == ["A1"]
    assert [sc.code for sc in at_two.sites] == ["H1"]
    assert at_two.organisations[0].score == 70.8
    # At 00:00 nothing has happened since midnight; beds (yesterday's census) and NCTR still count.
    first = by_code(day[0])[("site", "H1")]
    assert values(first)["acute-4hr"][0] is None and values(first)["acute-ga-occupancy"][0] == pytest.approx(0.8)
    daily = history(spec_store, dt.date(2024, 7, 9), dt.date(2024, 7, 11), "1d", time_of_day=dt.time(14))
    assert [by_code(s)[("org", "A1")].score for s in daily][1] == 70.8


def test_since_midnight_is_local_midnight_on_a_clock_change_day(store: Store) -> None:
    """On 27 October 2024 the clocks go back at 02:00 BST; local midnight is 2024-10-26 23:00 UTC.

    Handovers completed at 22:50 UTC (23:50 BST on the 26th: yesterday), 23:30 UTC (00:30 BST:
    today, 20 min) and 01:30 UTC (01:30 GMT, after the change: today, 40 min). At 14:00 GMT the mean
    since midnight is (20 + 40) / 2 = 30 min -> OPEL 3 (at or above 30).
    """
    from escalation_fixtures import put_rows

    reference(store)
    utc = dt.UTC

    def inc(iid: str, handover: dt.datetime, minutes: int) -> dict[str, object]:
        arrival = handover - dt.timedelta(minutes=minutes)
        return {"incident_id": iid, "org_code": "AMB", "call_time": arrival - dt.timedelta(hours=1),
                "category": "C2", "outcome": "conveyed_ed", "destination_site": "H1",
                "hospital_arrival_time": arrival, "handover_time": handover}

    put_rows(store, "ambulance_incidents", [
        inc("y", dt.datetime(2024, 10, 26, 22, 50, tzinfo=utc), 90),
        inc("t1", dt.datetime(2024, 10, 26, 23, 30, tzinfo=utc), 20),
        inc("t2", dt.datetime(2024, 10, 27, 1, 30, tzinfo=utc), 40),
    ])
    h1 = by_code(status(store, dt.datetime(2024, 10, 27, 14, 0, tzinfo=utc)))[("site", "H1")]
    assert values(h1)["acute-handover-mean"] == (pytest.approx(30), "events", 3, 2)
    assert (h1.score, h1.level) == (66.7, 3)


def test_parameters_agree_with_the_standards_engine(spec_store: Store) -> None:
    """Where a census parameter and a standard measure the same thing at the same moment, they agree.

    The engine's ``beds-no-criteria-to-reside`` counts at each local midnight; at 2024-07-10 00:00 H1 has
    s1 (no criteria since 07-09), s3 and s2 (criteria until 13:00) in bed: 1/3. H2's only census on the
    10th is 08:00 (150 of 200), so ``beds-ga-occupancy`` for the day equals the parameter at 14:00.
    """
    from escalation_fixtures import t

    from uec.standards import compute

    day = (dt.date(2024, 7, 10), dt.date(2024, 7, 11))
    nctr = compute(spec_store, "beds-no-criteria-to-reside", period="day", start=day[0], end=day[1], site="H1")
    at_midnight = by_code(status(spec_store, t("2024-07-10 00:00")))[("site", "H1")]
    assert values(at_midnight)["acute-no-criteria-to-reside"][0] == pytest.approx(nctr.rows[0].value) == 1 / 3
    occ = compute(spec_store, "beds-ga-occupancy", period="day", start=day[0], end=day[1], site="H2")
    h2 = by_code(status(spec_store, AT))[("site", "H2")]
    assert values(h2)["acute-ga-occupancy"][0] == pytest.approx(occ.rows[0].value) == 0.75
