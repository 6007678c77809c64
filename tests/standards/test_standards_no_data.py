"""An empty answer says which cause applies (issue 14 item 6), on both stores."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from uec.ingest import ingest
from uec.standards import compute
from uec.store import Store

DATA = Path(__file__).parents[1] / "data" / "standards"


def _note(store: Store, **kw: object) -> str:
    res = compute(store, "beds-ga-occupancy", **kw)  # type: ignore[arg-type]
    assert not res.rows
    (note,) = [n for n in res.notes if n.startswith("no beds-ga-occupancy data")]
    return note.split(": ", 1)[1]


def test_each_cause_of_no_data_is_named(store: Store) -> None:
    assert _note(store, period="quarter").startswith(
        "source not loaded: the store has no bed_states events and no kh03, uec_sitrep returns")
    ingest(store, "kh03", DATA / "kh03_england_quarterly.csv")
    assert _note(store, period="month").startswith(
        "wrong period length: its returns are quarter returns, which cannot make a month; ask for quarter")
    assert _note(store, period="quarter", start=dt.date(2030, 4, 1), end=dt.date(2031, 4, 1)) == (
        "no rows in this range: its returns run from 2010-04-01 to 2022-01-01")
    ingest(store, "ae-attendances", DATA / "ae_attendances_golden.csv")
    assert _note(store, period="quarter", org="RYJ") == (
        "organisation not in its data: no kh03, uec_sitrep returns for RYJ")


def test_ga_occupancy_from_the_monthly_sitrep(store: Store) -> None:
    returns = Path(__file__).parents[1] / "data" / "returns"
    ingest(store, "uec-sitrep-monthly", returns / "england_critical_general_acute_beds.csv.gz")
    (row,) = compute(store, "beds-ga-occupancy", org="R0A", period="month", start=dt.date(2022, 4, 1),
                     end=dt.date(2022, 5, 1)).rows
    # R0A, April 2022: 2,031 of 2,286 G&A beds occupied (published rate 0.889).
    assert (row.numerator, row.denominator, row.source) == (2031, 2286, "returns")
    # Average occupied over average open (0.8885); NHS England averages the daily rates (0.889).
    assert row.value == pytest.approx(0.889, abs=0.001)
