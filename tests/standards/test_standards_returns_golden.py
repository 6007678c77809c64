"""Golden tests: 4-hour performance from the newer national layouts reproduces their published figures.

Files in ``tests/data/returns`` (README: sources, licences); both stores.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from uec.ingest import ingest
from uec.standards import compute
from uec.store import Store

DATA = Path(__file__).parents[1] / "data" / "returns"


def _month(store: Store, standard: str, org: str, month: dt.date) -> float | None:
    end = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    rows = compute(store, standard, org=org, period="month", start=month, end=end).rows
    assert len(rows) <= 1
    return rows[0].value if rows else None


def test_england_all_types_layout(store: Store) -> None:
    ingest(store, "ae-monthly", DATA / "england_trust_accidents_emergency.csv.gz")
    # R0A, April 2021: 7,772 of 36,777 over 4 hours; published share over 4 hours 0.21.
    value = _month(store, "ed-4hr", "R0A", dt.date(2021, 4, 1))
    assert value == pytest.approx(1 - 7772 / 36777)
    assert round(1 - (value or 0), 2) == 0.21
    # A trust month whose count over 4 hours is not published has no value (not 100%).
    missing = store.query(
        "SELECT a.org_code, a.period_start FROM returns a WHERE a.metric_code = 'ae_attendances_all' AND NOT EXISTS "
        "(SELECT 1 FROM returns b WHERE b.metric_code = 'ae_breaches_all' AND b.org_code = a.org_code "
        "AND b.period_start = a.period_start) ORDER BY 1, 2 LIMIT 1")[0]
    assert _month(store, "ed-4hr", missing["org_code"], missing["period_start"]) is None


def test_scotland_layout(store: Store) -> None:
    ingest(store, "ae-scotland", DATA / "scotland_ae_attendance.csv.gz")
    # University Hospital Crosshouse (A111H), July 2007: 5,290 of 5,414 within 4 hours (ED only).
    assert _month(store, "ed-4hr-type1", "A111H", dt.date(2007, 7, 1)) == pytest.approx(5290 / 5414)
    # Queen Margaret Hospital (F805H), January 2012: ED 1,908 of 2,253 and MIU 636 of 637 within 4 hours.
    assert _month(store, "ed-4hr", "F805H", dt.date(2012, 1, 1)) == pytest.approx((1908 + 636) / (2253 + 637))
    assert _month(store, "ed-4hr-type1", "F805H", dt.date(2012, 1, 1)) == pytest.approx(1908 / 2253)


def test_wales_layout(store: Store) -> None:
    ingest(store, "ae-wales", DATA / "wales_ae_performance_6_departments.csv.gz")
    # Ysbyty Glan Clwyd, October 2009: published 89.38205% within 4 hours (3,645 of 4,078).
    value = _month(store, "ed-4hr", "7A17A1A1", dt.date(2009, 10, 1))
    assert 100 * (value or 0) == pytest.approx(89.38205, abs=1e-5)
