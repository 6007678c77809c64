"""The real national layouts: HES A&E extracts and the monthly A&E attendances return."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from uec.ingest import ingest
from uec.store import Store

DATA = Path(__file__).parents[1] / "data" / "ingest"


def test_monthly_ae_return_loads_whole_and_keeps_published_totals(store: Store) -> None:
    r = ingest(store, "ae-attendances", DATA / "ae_attendances.csv")
    assert (r.rows_in, r.rows_loaded, r.rows_quarantined) == (12_765, 12_765, 0)
    totals = {row["measure"]: row["v"] for row in store.query(
        "SELECT split_part(metric_code, '_', 2) AS measure, sum(value) AS v FROM returns GROUP BY 1")}
    # Published with the data set (tests/data/ingest/README.md).
    assert totals == {"attendances": 72_019_402, "breaches": 8_295_237, "admissions": 13_493_280}
    march = store.query(
        "SELECT sum(CASE WHEN metric_code LIKE 'ae_attendances_%' THEN value END) AS att, "
        "sum(CASE WHEN metric_code LIKE 'ae_breaches_%' THEN value END) AS br "
        "FROM returns WHERE period_start = :d", {"d": datetime(2019, 3, 1).date()})[0]
    assert (march["att"], march["br"]) == (2_167_550, 290_359)
    assert round(1 - march["br"] / march["att"], 4) == 0.8660
    type1 = store.query(
        "SELECT sum(value) AS v FROM returns WHERE period_start = :d AND metric_code = 'ae_attendances_type1'",
        {"d": datetime(2019, 3, 1).date()})[0]["v"]
    assert type1 == 1_373_060


def test_monthly_ae_return_quarantines_a_source_row_whole(store: Store, tmp_path: Path) -> None:
    f = tmp_path / "ae.csv"
    f.write_text(
        "period,org_code,type,attendances,breaches,admissions\n"
        "2019-03-01,DEMO-A,1,100,10,20\n"
        "2019-03-01,DEMO-B,1,100,200,20\n"
        "2019-03-15,DEMO-C,9,100,10,many\n"
    )
    r = ingest(store, "ae-attendances", f)
    assert (r.rows_in, r.rows_loaded, r.rows_quarantined) == (3, 1, 2)
    assert store.counts()["returns"] == 3  # three measures of the one good source row
    reasons = {x["row_number"]: x["reason"] for x in store.query("SELECT row_number, reason FROM quarantine")}
    assert reasons[2] == "breaches exceed attendances"
    assert "type: '9' is not one of 1, 2, other" in reasons[3]
    assert "period: 2019-03-15 is not the first day of a month" in reasons[3]
    assert "value: 'many' is not a valid number" in reasons[3]


def test_artificial_hes_ae_sample_is_read_and_every_row_accounted_for(store: Store) -> None:
    r = ingest(store, "hes-ae", DATA / "artificial_hes_ae_0708.csv")
    assert r.rows_in == 1_000
    assert r.rows_in == r.rows_loaded + r.rows_quarantined
    # The artificial sample has department type 99 (not known) on every row: none can be placed.
    assert r.rows_quarantined == 1_000
    reasons = [x["reason"] for x in store.query("SELECT reason FROM quarantine")]
    assert all("AEDEPTTYPE: '99' is not a department type 01-04" in x for x in reasons)


def test_hes_ae_layout_maps_hhmm_times_and_durations(store: Store, tmp_path: Path) -> None:
    header = (DATA / "artificial_hes_ae_0708.csv").read_text().splitlines()[0].split(",")
    rows = []
    for values in (
        # BST: 10:16 local is 09:16 UTC; departure 150 minutes later.
        {"AEKEY": "K1", "AEDEPTTYPE": "01", "ARRIVALDATE": "2024-06-12", "ARRIVALTIME": "1016", "DEPDUR": "150",
         "INITDUR": "5", "AEARRIVALMODE": "1", "AEATTENDDISP": "01", "ARRIVALAGE": "81.0", "SEX": "2",
         "ETHNOS": "M", "PROCODE3": "DEMO-A"},
        # Across the autumn clock change: 00:30 GMT+1 then 180 minutes is 02:30 GMT (not 03:30).
        {"AEKEY": "K2", "AEDEPTTYPE": "03", "ARRIVALDATE": "2024-10-27", "ARRIVALTIME": "30", "DEPDUR": "180",
         "AEARRIVALMODE": "2", "AEATTENDDISP": "03", "ARRIVALAGE": "7002", "SEX": "1", "PROCODE3": "DEMO-B"},
        {"AEKEY": "K3", "AEDEPTTYPE": "01", "ARRIVALDATE": "2024-06-12", "ARRIVALTIME": "2561", "PROCODE3": "DEMO-A"},
    ):
        rows.append(",".join(values.get(h, "") for h in header))
    f = tmp_path / "hes.csv"
    f.write_text(",".join(header) + "\n" + "\n".join(rows) + "\n")
    r = ingest(store, "hes-ae", f)
    assert (r.rows_in, r.rows_loaded, r.rows_quarantined) == (3, 2, 1)
    got = {x["attendance_id"]: x for x in store.query("SELECT * FROM attendances")}
    k1, k2 = got["K1"], got["K2"]
    assert k1["arrival_time"].astimezone(UTC) == datetime(2024, 6, 12, 9, 16, tzinfo=UTC)
    assert k1["departure_time"].astimezone(UTC) == datetime(2024, 6, 12, 11, 46, tzinfo=UTC)
    assert k1["initial_assessment_time"].astimezone(UTC) == datetime(2024, 6, 12, 9, 21, tzinfo=UTC)
    assert (k1["service_type"], k1["arrival_mode"], k1["disposal"], k1["age_band"], k1["sex"], k1["ethnic_group"]) == (
        "ed_type1", "ambulance", "admitted", "75-84", "female", "black")
    assert k2["arrival_time"].astimezone(UTC) == datetime(2024, 10, 26, 23, 30, tzinfo=UTC)
    assert k2["departure_time"].astimezone(UTC) == datetime(2024, 10, 27, 2, 30, tzinfo=UTC)
    assert (k2["service_type"], k2["age_band"], k2["site_code"]) == ("ed_type3", "0-4", "DEMO-B")
    reason = store.query("SELECT reason FROM quarantine")[0]["reason"]
    assert "arrival_time: '2024-06-12 2561' is not a date and time" in reason


def test_hes_file_missing_its_columns_is_refused(store: Store, tmp_path: Path) -> None:
    from uec.errors import UecError

    shutil.copy(DATA / "ae_attendances.csv", tmp_path / "x.csv")
    with pytest.raises(UecError, match="is not a hes-ae file: missing column"):
        ingest(store, "hes-ae", tmp_path / "x.csv")
