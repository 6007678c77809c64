"""Area totals over returns (issue 14 item 2) and periods made from shorter returns (item 5), on both stores.

The Devon case is the issue's own: the real monthly A&E return of NHS Devon ICB's trusts, in which one
trust's January 2022 row (here Royal Devon, RH8) is quarantined. The ICB's total must leave RH8 out
and name it, not silently report the others as the ICB. University Hospitals Plymouth (RK9) sends
attendances but no count over 4 hours in this file, so it is never a member of a 4-hour total.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from uec.cli import app
from uec.ingest import ingest
from uec.standards import compute
from uec.store import Store

DATA = Path(__file__).parents[1] / "data"
ODS = DATA / "ods"
RETURNS = DATA / "returns"
DEVON = ("RA9", "RBZ", "RH8")  # the trusts that send the 4-hour count
JAN = dt.date(2022, 1, 1)


def _devon_file(tmp_path: Path, *, quarantine_rh8_january: bool) -> tuple[Path, list[dict[str, str]]]:
    """The real all-types A&E rows of Devon's trusts, 2021-11..2022-04, with RH8's January row spoilt
    (a date that is not the first of a month) when asked, so that the load quarantines it."""
    with gzip.open(RETURNS / "england_trust_accidents_emergency.csv.gz", "rt", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        fields = list(reader.fieldnames or [])
        rows = [r for r in reader
                if r["nhs_trust22_code"] in (*DEVON, "RK9") and "2021-11-01" <= r["date"] <= "2022-04-01"]
    if quarantine_rh8_january:
        for r in rows:
            if r["nhs_trust22_code"] == "RH8" and r["date"] == "2022-01-01":
                r["date"] = "2022-01-15"
    path = tmp_path / "devon_ae.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)
    return path, rows


def _attendances(rows: list[dict[str, str]], month: str, trusts: tuple[str, ...]) -> float:
    return sum(float(r["total_attendances"]) for r in rows if r["date"] == month and r["nhs_trust22_code"] in trusts)


def test_an_ics_total_with_a_missing_member_names_it(store: Store, tmp_path: Path) -> None:
    ingest(store, "ods-trusts", ODS / "etr.csv")
    path, rows = _devon_file(tmp_path, quarantine_rh8_january=True)
    load = ingest(store, "ae-monthly", path)
    assert load.rows_quarantined == 1
    res = compute(store, "ed-4hr", org="QJK", period="month", start=dt.date(2021, 11, 1), end=dt.date(2022, 5, 1))
    by_month = {r.period_start: r for r in res.rows}
    # January adds up the two trusts that have a row, and says RH8 is missing.
    assert by_month[JAN].code == "QJK"
    assert by_month[JAN].denominator == _attendances(rows, "2022-01-01", ("RA9", "RBZ"))
    jan = next(c for c in res.members if c.period_start == JAN)
    assert (jan.basis, jan.included, jan.missing) == ("members", ("RA9", "RBZ"), ("RH8",))
    rh8 = "RH8 (ROYAL DEVON UNIVERSITY HEALTHCARE NHS FOUNDATION TRUST)"
    assert any("2022-01-01" in n and f"missing {rh8}" in n for n in res.notes)
    # December is whole: all four, nothing missing, no note.
    dec = next(c for c in res.members if c.period_start == dt.date(2021, 12, 1))
    assert dec.complete and dec.included == DEVON
    assert by_month[dt.date(2021, 12, 1)].denominator == _attendances(rows, "2021-12-01", DEVON)
    assert not any("2021-12-01" in n for n in res.notes)
    # RBZ closed on 31 March 2022 (merged into RH8): it is not missing from April.
    apr = next(c for c in res.members if c.period_start == dt.date(2022, 4, 1))
    assert apr.complete and "RBZ" not in apr.included + apr.missing
    # The whole store's total says the same, and so does the JSON.
    ics = compute(store, "ed-4hr", period="month", start=JAN, end=dt.date(2022, 2, 1))
    assert ics.members[0].missing == ("RH8",)
    assert ics.as_dict()["members"][0] == {
        "code": None, "period_start": "2022-01-01", "basis": "members", "included": ["RA9", "RBZ"], "missing": ["RH8"],
        "partial": {}, "incomplete": [], "complete": False}


def test_the_cli_names_the_missing_member(store_url: str, tmp_path: Path) -> None:
    from uec.store import open_store

    store = open_store(store_url)
    ingest(store, "ods-trusts", ODS / "etr.csv")
    ingest(store, "ae-monthly", _devon_file(tmp_path, quarantine_rh8_january=True)[0])
    runner = CliRunner()
    args = ["standards", "ed-4hr", "--org", "QJK", "--from", "2022-01", "--to", "2022-01", "--store", store_url]
    shown = runner.invoke(app, args)
    assert shown.exit_code == 0, shown.output
    assert "missing RH8" in " ".join(shown.output.split())
    as_json = runner.invoke(app, [*args, "--json"])
    got = json.loads(as_json.output.strip().splitlines()[-1])
    assert got["members"][0]["missing"] == ["RH8"]
    assert got["members"][0]["included"] == ["RA9", "RBZ"]


def test_an_area_uses_its_own_row_where_it_has_one(store: Store) -> None:
    ingest(store, "ambsys", RETURNS / "ambsys_2017-08_to_2021-01.csv.gz")
    month = {"period": "month", "start": dt.date(2019, 12, 1), "end": dt.date(2020, 1, 1)}
    (eng,) = compute(store, "amb-c1-mean", org="Eng", **month).rows  # type: ignore[arg-type]
    eng_res = compute(store, "amb-c1-mean", org="Eng", **month)  # type: ignore[arg-type]
    assert eng_res.members[0].basis == "own row"
    assert eng_res.notes == ("Eng: its own return in every period, not the sum of its members",)
    # With no hierarchy loaded the whole store's total adds up the ambulance trusts only, not England,
    # the regions and the trusts (three times the incidents, as before).
    ics = compute(store, "amb-c1-mean", **month)  # type: ignore[arg-type]
    (row,) = ics.rows
    assert row.denominator == eng.denominator == 70232
    assert row.value == pytest.approx(eng.value)
    assert not {"Eng", "Y58", "Y56"} & set(ics.members[0].included)
    assert {"RYF", "RRU", "RX9"} <= set(ics.members[0].included)
    # A region's total is its own row too.
    (y58,) = compute(store, "amb-c1-mean", org="Y58", **month).rows  # type: ignore[arg-type]
    assert y58.code == "Y58"


def test_a_region_adds_up_its_icbs_trusts(store: Store, tmp_path: Path) -> None:
    ingest(store, "org-hierarchy", ODS / "hierarchy.csv")
    ingest(store, "ods-trusts", ODS / "etr.csv")
    path, rows = _devon_file(tmp_path, quarantine_rh8_january=False)
    ingest(store, "ae-monthly", path)
    res = compute(store, "ed-4hr", org="Y58", period="month", start=JAN, end=dt.date(2022, 2, 1))
    (row,) = res.rows
    assert row.denominator == _attendances(rows, "2022-01-01", DEVON)
    # REF (Cornwall) sends no return in this file and RK9 no 4-hour count: neither is missing.
    assert res.members[0].complete and res.members[0].included == DEVON


def test_a_quarter_from_monthly_returns_says_when_it_is_incomplete(store: Store, tmp_path: Path) -> None:
    ingest(store, "ods-trusts", ODS / "etr.csv")
    path, rows = _devon_file(tmp_path, quarantine_rh8_january=False)
    ingest(store, "ae-monthly", path)
    res = compute(store, "ed-4hr", org="QJK", period="quarter", start=dt.date(2022, 1, 1), end=dt.date(2022, 7, 1))
    q1, q2 = res.rows
    months = ("2022-01-01", "2022-02-01", "2022-03-01")
    assert q1.denominator == sum(_attendances(rows, m, DEVON) for m in months)
    by_quarter = {c.period_start: c for c in res.members}
    assert by_quarter[dt.date(2022, 1, 1)].complete
    # The file stops at April: the April-June quarter is made of one month and says so.
    assert q2.denominator == _attendances(rows, "2022-04-01", DEVON)
    assert by_quarter[dt.date(2022, 4, 1)].incomplete == (dt.date(2022, 5, 1), dt.date(2022, 6, 1))
    assert any("incomplete: no return for 2022-05-01, 2022-06-01" in n for n in res.notes)
    # A financial year from the same months.
    (fy,) = compute(store, "ed-4hr", org="QJK", period="fy", start=dt.date(2021, 4, 1), end=dt.date(2022, 4, 1)).rows
    assert fy.denominator == sum(_attendances(rows, m, DEVON) for m in ("2021-11-01", "2021-12-01", *months))


def test_a_member_missing_a_month_of_a_quarter_is_named(store: Store, tmp_path: Path) -> None:
    ingest(store, "ods-trusts", ODS / "etr.csv")
    ingest(store, "ae-monthly", _devon_file(tmp_path, quarantine_rh8_january=True)[0])
    res = compute(store, "ed-4hr", org="QJK", period="quarter", start=dt.date(2022, 1, 1), end=dt.date(2022, 4, 1))
    (cov,) = res.members
    assert dict(cov.partial) == {"RH8": (JAN,)}
    assert "RH8 (ROYAL DEVON UNIVERSITY HEALTHCARE NHS FOUNDATION TRUST) lacks 2022-01-01" in res.notes[-1]


def test_an_unknown_organisation_is_one_line(store: Store) -> None:
    from uec.errors import UecError

    ingest(store, "ods-trusts", ODS / "etr.csv")
    with pytest.raises(UecError, match="unknown organisation 'QXX'"):
        compute(store, "ed-4hr", org="QXX")
    # An ICB named only as its trusts' parent is known.
    assert compute(store, "ed-4hr", org="QJK").rows == ()


def test_a_trusts_quarter_says_which_months_it_lacks(store: Store) -> None:
    # The real file: Torbay (RA9) sent no return for May, June or July 2021.
    ingest(store, "ae-monthly", RETURNS / "england_trust_accidents_emergency.csv.gz")
    res = compute(store, "ed-4hr", org="RA9", period="quarter", start=dt.date(2021, 4, 1), end=dt.date(2021, 10, 1))
    assert [r.period_start for r in res.rows] == [dt.date(2021, 4, 1), dt.date(2021, 7, 1)]
    assert res.notes == (
        "RA9, period from 2021-04-01: incomplete: no return for 2021-05-01, 2021-06-01",
        "RA9, period from 2021-07-01: incomplete: no return for 2021-07-01",
    )
    assert res.members[0].basis == "own row"
