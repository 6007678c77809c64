"""Nothing is silently changed or merged on ingest (issue 11 item 4), on both stores.

Each test is one way a careful outsider got a wrong value into the store: it must now be refused or
quarantined with its reason, and rows in must still equal rows loaded plus rows quarantined.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from uec.errors import UecError
from uec.ingest import ingest
from uec.ingest.formats import count_records
from uec.store import Store

HEADER = "attendance_id,site_code,service_type,arrival_time,departure_time,acuity,arrival_mode\n"
GOOD = "A1,DEMO-A01,ed_type1,2024-06-01T10:00:00Z,2024-06-01T13:00:00Z,3,walk_in\n"
SITES = (
    "site_code,org_code,name,site_type\n"
    "DEMO-A01,DEMO-A,Royal Example,acute_hospital\n"
)
DATA = Path(__file__).parents[1] / "data" / "ingest"


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def reasons(store: Store) -> dict[int, str]:
    return {int(r["row_number"]): r["reason"] for r in store.query(
        "SELECT row_number, reason FROM quarantine WHERE row_number IS NOT NULL")}


def balanced(store: Store) -> bool:
    return all(r["rows_in"] == r["rows_loaded"] + r["rows_quarantined"]
               for r in store.query("SELECT rows_in, rows_loaded, rows_quarantined FROM loads"))


def test_unbalanced_quote_refuses_the_file_instead_of_merging_records(store: Store, tmp_path: Path) -> None:
    # The parser would read lines 3-5 as one record whose site_code holds two newlines.
    f = write(tmp_path, "a.csv", HEADER + GOOD
              + 'A2,"DEMO-A01,ed_type1,2024-06-01T10:00:00Z,,3,walk_in\n'
              + "A3,DEMO-A01,ed_type1,2024-06-01T10:00:00Z,,3,walk_in\n"
              + 'A4,DEMO-A01",ed_type1,2024-06-01T10:00:00Z,,3,walk_in\n')
    with pytest.raises(UecError, match=r"has 4 data lines but the CSV reader found 2 records \(a quote opened and "
                                       r"not closed on line 3, 5\)"):
        ingest(store, "attendances", f)
    assert store.query("SELECT count(*) AS n FROM loads")[0]["n"] == 0
    assert store.counts()["attendances"] == 0


def test_rows_in_counts_physical_lines() -> None:
    assert count_records(b"h\n1\n\n\n2\r\n\r\n3") == 3
    assert count_records(b"h\n") == 0


def test_an_integer_with_a_fraction_is_quarantined_not_rounded(store: Store, tmp_path: Path) -> None:
    f = write(tmp_path, "a.csv", HEADER + GOOD
              + "A2,DEMO-A01,ed_type1,2024-06-01T10:00:00Z,,2.5,walk_in\n"
              + "A3,DEMO-A01,ed_type1,2024-06-01T10:00:00Z,,4.0,walk_in\n"
              + "A4,DEMO-A01,ed_type1,2024-06-01T10:00:00Z,,99999999999999999999,walk_in\n")
    r = ingest(store, "attendances", f)
    assert (r.rows_in, r.rows_loaded, r.rows_quarantined) == (4, 2, 2)
    got = reasons(store)
    assert got[2] == "acuity: 2.5 is not a whole number"
    assert got[4] == "acuity: '99999999999999999999' is not a valid integer"
    assert {x["attendance_id"]: x["acuity"] for x in store.query("SELECT attendance_id, acuity FROM attendances")} \
        == {"A1": 3, "A3": 4}


def test_a_float_parquet_column_is_not_rounded_either(store: Store, tmp_path: Path) -> None:
    t = pa.table({"attendance_id": ["A1", "A2"], "site_code": ["DEMO-A01"] * 2, "service_type": ["utc"] * 2,
                  "arrival_time": ["2024-06-01T10:00:00Z"] * 2, "acuity": pa.array([3.0, 2.5], pa.float64())})
    pq.write_table(t, tmp_path / "a.parquet")
    r = ingest(store, "attendances", tmp_path / "a.parquet")
    assert (r.rows_loaded, r.rows_quarantined) == (1, 1)
    assert reasons(store)[2] == "acuity: 2.5 is not a whole number"


@pytest.mark.parametrize(
    ("site", "why"),
    [
        ("DEMO-A01/X", "site_code: 'DEMO-A01/X' is not a valid code: 1-16 letters, digits, _ or -"),
        ("X" * 1_000_000, "(it has 1000000 characters)"),
        ("DEMO-A\x0001", "site_code: 'DEMO-A?01' is not a valid code"),
        ("-DEMO-A", "is not a valid code"),
        ("DEMO-A 01", "is not a valid code"),
    ],
)
def test_codes_are_limited_in_length_and_characters(store: Store, tmp_path: Path, site: str, why: str) -> None:
    f = write(tmp_path, "a.csv", HEADER + GOOD + f"A2,{site},ed_type1,2024-06-01T10:00:00Z,,3,walk_in\n")
    r = ingest(store, "attendances", f)
    assert (r.rows_loaded, r.rows_quarantined) == (1, 1)
    assert why in reasons(store)[2]
    assert len(reasons(store)[2]) < 300  # the reason quotes at most 40 characters of the value


def test_text_with_control_characters_is_quarantined(store: Store, tmp_path: Path) -> None:
    f = write(tmp_path, "s.csv", SITES + "DEMO-B01,DEMO-B,Bad\x01Name,acute_hospital\n")
    r = ingest(store, "sites", f)
    assert (r.rows_loaded, r.rows_quarantined) == (1, 1)
    assert "name: 'Bad?Name' is not a valid text" in reasons(store)[2]


def test_a_site_not_in_sites_is_quarantined_once_sites_are_loaded(store: Store, tmp_path: Path) -> None:
    # Before any site is loaded the check cannot be made, and the load says so.
    first = ingest(store, "attendances", write(tmp_path, "a.csv", HEADER + GOOD))
    assert first.unchecked == ("site_code was not checked against sites: the store has no sites yet",)
    ingest(store, "sites", write(tmp_path, "s.csv", SITES))
    f = write(tmp_path, "b.csv", HEADER
              + "B1,DEMO-A01,ed_type1,2024-06-01T10:00:00Z,,3,walk_in\n"
              + "B2,RZZ99,ed_type1,2024-06-01T10:00:00Z,,3,walk_in\n")
    r = ingest(store, "attendances", f)
    assert (r.rows_loaded, r.rows_quarantined, r.unchecked) == (1, 1, ())
    assert reasons(store)[2] == "site_code: 'RZZ99' is not in sites (load it there first)"
    assert balanced(store)


@pytest.mark.parametrize(
    ("instant", "why"),
    [
        ("2024-06-01T10:00:00+25:00", "arrival_time: the offset of '2024-06-01T10:00:00+25:00' is beyond ±14:00"),
        ("2024-06-01T10:00:00-1430", "is beyond ±14:00"),
        ("0001-01-01T00:00:00Z", "arrival_time: 0001-01-01 is outside 1990-"),
        ("1989-12-31T12:00:00Z", "arrival_time: 1989-12-31 is outside 1990-"),
        (f"{datetime.now(UTC).year + 2}-01-01T00:30:00Z", "is outside 1990-"),
    ],
)
def test_implausible_instants_are_quarantined(store: Store, tmp_path: Path, instant: str, why: str) -> None:
    f = write(tmp_path, "a.csv", HEADER + GOOD + f"A2,DEMO-A01,ed_type1,{instant},,3,walk_in\n")
    r = ingest(store, "attendances", f)
    assert (r.rows_loaded, r.rows_quarantined) == (1, 1)
    assert why in reasons(store)[2]


def test_offsets_up_to_14_hours_and_next_year_are_accepted(store: Store, tmp_path: Path) -> None:
    year = datetime.now(UTC).year + 1
    f = write(tmp_path, "a.csv", HEADER
              + "A1,DEMO-A01,ed_type1,2024-06-01T10:00:00+14:00,,3,walk_in\n"
              + "A2,DEMO-A01,ed_type1,2024-06-01T10:00:00-12:00,,3,walk_in\n"
              + f"A3,DEMO-A01,ed_type1,{year}-12-31T10:00:00Z,,3,walk_in\n"
              + "A4,DEMO-A01,ed_type1,1990-01-01T00:00:00Z,,3,walk_in\n")
    r = ingest(store, "attendances", f)
    assert (r.rows_loaded, r.rows_quarantined) == (4, 0), store.query("SELECT reason FROM quarantine")


def test_a_typed_parquet_instant_out_of_range_is_quarantined(store: Store, tmp_path: Path) -> None:
    t = pa.table({"attendance_id": ["A1", "A2"], "site_code": ["DEMO-A01"] * 2, "service_type": ["utc"] * 2,
                  "arrival_time": pa.array([datetime(2024, 6, 1, tzinfo=UTC), datetime(1900, 1, 1, tzinfo=UTC)],
                                           pa.timestamp("us", tz="UTC"))})
    pq.write_table(t, tmp_path / "a.parquet")
    r = ingest(store, "attendances", tmp_path / "a.parquet")
    assert (r.rows_loaded, r.rows_quarantined) == (1, 1)
    assert reasons(store)[2] == "arrival_time: 1900-01-01 is outside 1990-" + str(datetime.now(UTC).year + 1)


def test_parquet_with_int64_instants_is_quarantined_row_by_row(store: Store, tmp_path: Path) -> None:
    t = pa.table({"attendance_id": ["A1"], "site_code": ["DEMO-A01"], "service_type": ["utc"],
                  "arrival_time": pa.array([1717236000], pa.int64())})
    pq.write_table(t, tmp_path / "a.parquet")
    r = ingest(store, "attendances", tmp_path / "a.parquet")
    assert (r.rows_in, r.rows_loaded, r.rows_quarantined) == (1, 0, 1)
    assert reasons(store)[1].startswith("arrival_time: '1717236000' is not a date and time")


def test_a_hes_file_with_only_its_required_columns_loads(store: Store, tmp_path: Path) -> None:
    f = write(tmp_path, "hes.csv", "AEKEY,PROCODE3,AEDEPTTYPE,ARRIVALDATE,ARRIVALTIME\nK1,DEMO-A,01,2024-06-12,1016\n")
    r = ingest(store, "hes-ae", f)
    assert (r.rows_in, r.rows_loaded, r.rows_quarantined) == (1, 1, 0)


def test_quarantine_keeps_no_hes_field_outside_the_contract(store: Store, tmp_path: Path) -> None:
    header = (DATA / "artificial_hes_ae_0708.csv").read_text().splitlines()[0].split(",")
    personal = {"NHSNO": "9434765919", "HOMEADD": "LS1 4AP", "DOB": "1950-07-01"}
    header += [c for c in personal if c not in header]
    bad = {"AEKEY": "K9", "AEDEPTTYPE": "77", "ARRIVALDATE": "2024-06-12", "ARRIVALTIME": "1016",
           "PROCODE3": "DEMO-A", "PSEUDO_HESID": "TESTabc", **personal}
    lines = [",".join(header), ",".join(bad.get(h, "") for h in header), "K10,too,few"]
    f = write(tmp_path, "hes.csv", "\n".join(lines) + "\n")
    r = ingest(store, "hes-ae", f)
    assert (r.rows_in, r.rows_quarantined) == (2, 2)
    raws = [x["raw"] for x in store.query("SELECT raw FROM quarantine ORDER BY row_number")]
    for raw in raws:
        for value in (*personal.values(), "1950"):
            assert value not in raw
    kept = json.loads(raws[0])
    assert kept["contract"][0]["attendance_id"] == "K9" and kept["contract"][0]["patient_key"] == "TESTabc"
    assert len(kept["raw_sha256"]) == 64
    assert all(len(json.loads(raw)["raw_sha256"]) == 64 for raw in raws)


def test_quarantine_purge_deletes_only_rows_past_retention(store: Store, tmp_path: Path) -> None:
    from uec.ingest import purge_quarantine

    ingest(store, "attendances", write(tmp_path, "a.csv", HEADER + "X1,,,,,,\n"))
    ingest(store, "attendances", write(tmp_path, "b.csv", HEADER + "X2,,,,,,\n"))
    with store.write() as w:  # make the first load 100 days old
        w.execute("UPDATE loads SET loaded_at = loaded_at - INTERVAL '100 days' WHERE load_id = 1")
    assert purge_quarantine(store, 120) == 0
    assert purge_quarantine(store) == 1  # the default retention, 90 days
    assert [r["load_id"] for r in store.query("SELECT load_id FROM quarantine")] == [2]
    # The load keeps its counts; a new load also purges what is past retention.
    assert store.query("SELECT rows_quarantined FROM loads WHERE load_id = 1")[0]["rows_quarantined"] == 1
    with pytest.raises(UecError, match="0 or more days"):
        purge_quarantine(store, -1)
