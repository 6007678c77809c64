"""Engine behaviour: events versus returns, breakdowns, levels, targets in force, and user errors."""

from __future__ import annotations

import datetime as dt

import pytest
from standards_fixtures import APRIL, load_spec_ics, put_rows, reference_rows

from uec.errors import UecError
from uec.standards import BREAKDOWNS, catalogue, compute, compute_many
from uec.standards.periods import GRAINS
from uec.store import Store

MARCH = dt.date(2024, 3, 1)


def _ae(org: str, start: dt.date, attendances: int, breaches: int) -> list[dict[str, object]]:
    return [
        {"org_code": org, "period_start": start, "period_length": "month", "metric_code": "ae_attendances_type1",
         "value": attendances, "source": "ae_monthly"},
        {"org_code": org, "period_start": start, "period_length": "month", "metric_code": "ae_breaches_type1",
         "value": breaches, "source": "ae_monthly"},
    ]


def test_events_where_present_returns_otherwise(store: Store) -> None:
    load_spec_ics(store)
    put_rows(store, "returns", _ae("O1", MARCH, 1000, 100) + _ae("O1", APRIL[0], 1000, 500))
    res = compute(store, "ed-4hr-type1", org="O1", start=MARCH, end=APRIL[1])
    # March has no O1 attendances: from the return (900/1000); April from events (a1..a4: 2 of 4)
    assert [(r.period_start, r.source, r.value) for r in res.rows] == [
        (MARCH, "returns", 0.9), (APRIL[0], "events", 0.5)]
    forced = compute(store, "ed-4hr-type1", org="O1", start=MARCH, end=APRIL[1], source="returns")
    assert [(r.source, r.value) for r in forced.rows] == [("returns", 0.9), ("returns", 0.5)]
    events_only = compute(store, "ed-4hr-type1", org="O1", start=MARCH, end=APRIL[1], source="events")
    assert [r.period_start for r in events_only.rows] == [APRIL[0]]


def test_ics_returns_add_up_known_providers_only(store: Store) -> None:
    reference_rows(store)
    put_rows(store, "returns", _ae("O1", MARCH, 100, 10) + _ae("O2", MARCH, 100, 30) + _ae("XYZ", MARCH, 100, 100))
    (row,) = compute(store, "ed-4hr-type1", start=MARCH, end=APRIL[0]).rows
    assert (row.numerator, row.denominator) == (160, 200)


def test_breakdown_by_imd_decile(store: Store) -> None:
    load_spec_ics(store)
    res = compute(store, "ed-4hr", breakdown="imd_decile", start=APRIL[0], end=APRIL[1])
    # imd 1: a1 in, a2 out; imd 2: a3 out, a4 in; imd 5: a7 in; not recorded: a5 in, a6 out
    assert [(r.group, r.numerator, r.denominator) for r in res.rows] == [
        ("1", 1, 2), ("2", 1, 2), ("5", 1, 1), (None, 1, 2)]
    assert all(r.breakdown == "imd_decile" for r in res.rows)


def test_breakdowns_that_do_not_exist_are_explained(store: Store) -> None:
    load_spec_ics(store)
    with pytest.raises(UecError, match="no breakdown by imd_decile"):
        compute(store, "ed-attendances-per-1000", breakdown="imd_decile", start=APRIL[0], end=APRIL[1])
    (res,) = compute_many(store, ["flow-ucr-2hr"], breakdown="sex", start=APRIL[0], end=APRIL[1])
    assert res.rows == () and "no breakdown by sex" in res.notes[0]


def test_scope_a_standard_cannot_reach(store: Store) -> None:
    load_spec_ics(store)
    with pytest.raises(UecError, match="ucr_referrals has no site column"):
        compute(store, "flow-ucr-2hr", site="S1", start=APRIL[0], end=APRIL[1])
    with pytest.raises(UecError, match="ambulance_incidents has no site column"):
        compute(store, "amb-c1-mean", site="S1", start=APRIL[0], end=APRIL[1])
    with pytest.raises(UecError, match="whole days"):
        compute(store, "beds-los7-count", period="hour", start=APRIL[0], end=APRIL[1])


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"site": "RXX"}, "unknown site 'RXX'"),
    ({"org": "NOPE"}, "unknown organisation 'NOPE'"),
    ({"site": "S1", "org": "O1"}, "not both"),
    ({"period": "fortnight"}, "unknown period 'fortnight'"),
    ({"breakdown": "postcode"}, "unknown breakdown 'postcode'"),
    ({"source": "sitrep"}, "unknown source 'sitrep'"),
    ({"start": APRIL[1], "end": APRIL[0]}, "--to must be after --from"),
])
def test_user_errors_are_one_line(store: Store, kwargs: dict[str, object], message: str) -> None:
    reference_rows(store)
    with pytest.raises(UecError, match=message) as info:
        compute(store, "ed-4hr", **kwargs)  # type: ignore[arg-type]
    assert "\n" not in str(info.value)
    with pytest.raises(UecError, match="unknown standard 'ed-5hr'"):
        compute(store, "ed-5hr")


def test_target_in_force_on_each_period(store: Store) -> None:
    put_rows(store, "returns", _ae("O1", dt.date(2019, 3, 1), 100, 10) + _ae("O1", MARCH, 100, 23)
             + _ae("O1", APRIL[0], 100, 23))
    put_rows(store, "returns", [
        {**r, "metric_code": r["metric_code"].replace("type1", "type2")}  # type: ignore[attr-defined]
        for r in _ae("O1", dt.date(2019, 3, 1), 0, 0) + _ae("O1", MARCH, 0, 0) + _ae("O1", APRIL[0], 0, 0)
    ])
    rows = compute(store, "ed-4hr", org="O1").rows
    assert [(r.period_start, r.target and r.target.value, r.met) for r in rows] == [
        (dt.date(2019, 3, 1), 0.95, False),  # 90% against the constitutional 95%
        (MARCH, 0.76, True),  # 77% against 76% by March 2024
        (APRIL[0], 0.78, False),  # 77% against 78% in 2024/25
    ]


def test_range_defaults_to_the_data(store: Store) -> None:
    load_spec_ics(store)
    res = compute(store, "ed-4hr-type1")
    assert (res.query.start, res.query.end) == (dt.date(2024, 4, 2), dt.date(2024, 5, 2))
    assert [r.period_start for r in res.rows] == [APRIL[0], dt.date(2024, 5, 1)]


def test_whole_catalogue_runs_at_every_grain_level_and_breakdown(store: Store) -> None:
    # Every recipe's SQL, on this engine, at every grain and level: no errors, and each standard
    # either has rows or says why not.
    load_spec_ics(store)
    runs: list[dict[str, object]] = [{"period": g} for g in GRAINS]
    runs += [{"level": "site"}, {"level": "org"}, {"org": "O1", "level": "site"}, {"site": "S3"}]
    runs += [{"breakdown": b} for b in BREAKDOWNS]
    for kwargs in runs:
        results = compute_many(store, start=APRIL[0], end=dt.date(2024, 4, 8), **kwargs)  # type: ignore[arg-type]
        assert [r.standard.id for r in results] == list(catalogue().ids)
        for r in results:
            assert r.rows or r.notes, (kwargs, r.standard.id)
