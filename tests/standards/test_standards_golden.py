"""Golden tests: the engine reproduces published national figures from real data.

The data are small extracts in ``tests/data/standards`` (see its README for sources and licences);
the tests never read the shared data folder. Each runs on both engines.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from standards_fixtures import put_rows

from uec.ingest import ingest
from uec.standards import compute, compute_many
from uec.store import Store

DATA = Path(__file__).parents[1] / "data" / "standards"


def _month(row: dict[str, str]) -> dt.date:
    return dt.date(int(row["Year"]), int(row["Month"]), 1)


def test_england_4hr_from_the_monthly_ae_return(store: Store) -> None:
    result = ingest(store, "ae-attendances", DATA / "ae_attendances_golden.csv")
    assert result.rows_quarantined == 0
    (all_types, type1) = compute_many(store, ["ed-4hr", "ed-4hr-type1"], period="month")
    got = {r.period_start: r for r in all_types.rows}
    assert {d: round(r.value or 0, 4) for d, r in got.items()} == {
        dt.date(2016, 4, 1): 0.9004, dt.date(2017, 3, 1): 0.9001,
        dt.date(2018, 12, 1): 0.8645, dt.date(2019, 3, 1): 0.8660,
    }
    march = got[dt.date(2019, 3, 1)]
    assert march.denominator is not None
    assert (march.source, march.denominator, march.denominator - (march.numerator or 0)) == (
        "returns", 2_167_550, 290_359)
    assert march.target is not None and march.target.value == 0.95 and march.met is False
    t1 = {r.period_start: r for r in type1.rows}[dt.date(2019, 3, 1)]
    assert t1.denominator is not None
    assert round(t1.value or 0, 4) == 0.7949
    assert (t1.denominator, t1.denominator - (t1.numerator or 0)) == (1_373_060, 281_666)


def test_ambsys_means_recomputed_from_totals_and_counts(store: Store) -> None:
    ingest(store, "ambsys", DATA / "ambsys_england.csv")
    with (DATA / "ambsys_england.csv").open(encoding="utf-8") as f:
        published = {_month(r): r for r in csv.DictReader(f)}
    results = {r.standard.id: {row.period_start: row for row in r.rows}
               for r in compute_many(store, ["amb-c1-mean", "amb-c2-mean", "amb-c1-p90", "amb-c2-p90",
                                             "amb-c3-p90", "amb-c4-p90"], org="Eng", period="month")}
    checked = 0
    for month, pub in published.items():
        for sid, total, count, mean in (("amb-c1-mean", "A24", "A8", "A25"), ("amb-c2-mean", "A30", "A10", "A31")):
            if "." in (pub[total], pub[count], pub[mean]):
                continue
            row = results[sid][month]
            # the published mean is whole seconds: our total / count must round to it
            assert abs(60 * (row.value or 0) - int(pub[mean])) <= 0.5 + 1e-9, (sid, month)
            assert row.denominator == int(pub[count])
            checked += 1
        for sid, field in (("amb-c1-p90", "A26"), ("amb-c2-p90", "A32"), ("amb-c3-p90", "A35"), ("amb-c4-p90", "A38")):
            if pub[field] != ".":
                row = results[sid][month]
                assert 60 * (row.value or 0) == pytest.approx(int(pub[field])) and not row.approximate
    assert checked >= 80
    dec = dt.date(2019, 12, 1)
    assert round(60 * (results["amb-c1-mean"][dec].value or 0)) == 455
    assert round(60 * (results["amb-c1-p90"][dec].value or 0)) == 798
    assert round(60 * (results["amb-c2-mean"][dec].value or 0)) == 1688
    assert round(60 * (results["amb-c2-p90"][dec].value or 0)) == 3537
    assert results["amb-c2-mean"][dec].met is False and results["amb-c1-p90"][dec].met is True


def test_ambsys_financial_year_combines_totals_and_flags_centiles(store: Store) -> None:
    ingest(store, "ambsys", DATA / "ambsys_england.csv")
    with (DATA / "ambsys_england.csv").open(encoding="utf-8") as f:
        months = [r for r in csv.DictReader(f) if dt.date(2018, 4, 1) <= _month(r) < dt.date(2019, 4, 1)]
    mean = compute(store, "amb-c1-mean", org="Eng", period="fy", start=dt.date(2018, 4, 1), end=dt.date(2019, 4, 1))
    (row,) = mean.rows
    expected = sum(int(r["A24"]) for r in months) / sum(int(r["A8"]) for r in months) / 60
    assert row.value == pytest.approx(expected) and not row.approximate
    (p90,) = compute(store, "amb-c1-p90", org="Eng", period="fy", start=dt.date(2018, 4, 1),
                     end=dt.date(2019, 4, 1)).rows
    assert p90.approximate


def test_ambsys_outcome_codes_add_up(store: Store) -> None:
    # Our reading of the outcome fields: hear and treat + conveyed to ED + conveyed elsewhere + see
    # and treat = all incidents, in every full month.
    ingest(store, "ambsys", DATA / "ambsys_england.csv")
    res = compute_many(store, ["amb-hear-and-treat", "amb-see-and-treat", "amb-conveyance-ed"], org="Eng",
                       start=dt.date(2017, 10, 1), end=dt.date(2021, 2, 1))
    by_month: dict[dt.date | dt.datetime, float] = {}
    for r in res:
        for row in r.rows:
            by_month[row.period_start] = by_month.get(row.period_start, 0) + (row.value or 0)
    with (DATA / "ambsys_england.csv").open(encoding="utf-8") as f:
        elsewhere = {
            _month(r): int(r["A54"]) / int(r["A7"]) for r in csv.DictReader(f) if _month(r) >= dt.date(2017, 10, 1)
        }
    assert len(by_month) == 40
    for month, share in by_month.items():
        assert share + elsewhere[month] == pytest.approx(1.0)


def test_kh03_occupancy_matches_the_published_rate(store: Store) -> None:
    ingest(store, "kh03", DATA / "kh03_england_quarterly.csv")
    with (DATA / "kh03_england_quarterly.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    (res,) = compute_many(store, ["beds-ga-occupancy"], org="Eng", period="quarter")
    got = {r.period_start: r.value for r in res.rows}
    assert len(got) == len(rows) == 48
    for r in rows:
        year, q = int(r["fin_year"][:4]), r["quarter"]
        start = dt.date(year + (q == "Q4"), {"Q1": 4, "Q2": 7, "Q3": 10, "Q4": 1}[q], 1)
        assert got[start] == pytest.approx(float(r["occupancy_general_acute"]), abs=0.01), start
    assert round(got[dt.date(2022, 1, 1)] or 0, 3) == 0.893


def test_mimic_ed_length_of_stay(store: Store) -> None:
    with (DATA / "mimic_ed_transfers.csv").open(encoding="utf-8") as f:
        transfers = list(csv.DictReader(f))

    def instant(text: str) -> dt.datetime:
        return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)

    put_rows(store, "attendances", [
        {"attendance_id": r["transfer_id"], "site_code": "MIMIC", "service_type": "ed_type1",
         "arrival_time": instant(r["intime"]), "departure_time": instant(r["outtime"]),
         "patient_key": r["subject_id"]}
        for r in transfers
    ])
    span = {"period": "range", "start": dt.date(2110, 1, 1), "end": dt.date(2202, 1, 1)}
    (median,) = compute(store, "ed-median-time", **span).rows  # type: ignore[arg-type]
    assert median.denominator == 236
    assert round((median.value or 0) / 60, 2) == 5.74
    (four,) = compute(store, "ed-4hr-type1", **span).rows  # type: ignore[arg-type]
    assert round(1 - (four.value or 0), 3) == 0.742
