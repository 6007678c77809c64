"""Ingest of files in the contract's own columns, on both stores."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from uec.errors import UecError
from uec.ingest import ingest
from uec.store import Store

HEADER = "attendance_id,site_code,service_type,arrival_time,departure_time,acuity,arrival_mode\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def quarantine(store: Store) -> dict[int, str]:
    return {int(r["row_number"]): r["reason"] for r in store.query(
        "SELECT row_number, reason FROM quarantine WHERE row_number IS NOT NULL")}


def test_good_and_bad_rows_are_all_accounted_for(store: Store, tmp_path: Path) -> None:
    f = write(tmp_path, "a.csv", HEADER + (
        "A1,DEMO-A01,ed_type1,2024-06-01T10:00:00Z,2024-06-01T13:00:00Z,3,walk_in\n"
        "A2,DEMO-A01,ed_type9,2024-06-01T10:00:00Z,2024-06-01T13:00:00Z,3,walk_in\n"
        "A3,,ed_type1,2024-06-01T10:00:00Z,2024-06-01T09:00:00Z,0,walk_in\n"
        "A4,DEMO-A01,utc,not a time,,2,ambulance\n"
        "A1,DEMO-B01,utc,2024-06-02T10:00:00Z,,2,ambulance\n"
        "A5,DEMO-A01,sdec,2024-06-01T10:00:00Z,,two,other\n"
    ))
    r = ingest(store, "attendances", f)
    assert (r.rows_in, r.rows_loaded, r.rows_quarantined) == (6, 1, 5)
    assert r.rows_in == r.rows_loaded + r.rows_quarantined
    reasons = quarantine(store)
    assert reasons[2] == "service_type: 'ed_type9' is not one of ed_type1, ed_type2, ed_type3, ed_type4, utc, sdec"
    assert "site_code is missing" in reasons[3]
    assert "departure_time is before arrival_time" in reasons[3]
    assert "acuity: 0 is below the minimum 1" in reasons[3]
    assert reasons[4].startswith("arrival_time: 'not a time' is not a date and time")
    assert reasons[5] == "duplicate of row 1 in this file (same attendance_id)"
    assert reasons[6] == "acuity: 'two' is not a valid integer"
    # The raw row is kept, so nothing the user sent is lost.
    raw = store.query("SELECT raw FROM quarantine WHERE row_number = 6")[0]["raw"]
    assert '"acuity":"two"' in raw
    assert store.counts()["attendances"] == 1
    loads = store.query("SELECT rows_in, rows_loaded, rows_quarantined FROM loads")
    assert loads == [{"rows_in": 6, "rows_loaded": 1, "rows_quarantined": 5}]


def test_reingesting_the_same_file_adds_nothing(store: Store, tmp_path: Path) -> None:
    f = write(tmp_path, "a.csv", HEADER + "A1,DEMO-A01,ed_type1,2024-06-01T10:00:00Z,,3,walk_in\nX,,,,,,\n")
    first = ingest(store, "attendances", f)
    again = ingest(store, "attendances", f)
    assert first.load_id == 1 and first.rows_loaded == 1 and first.rows_quarantined == 1
    assert again.already_loaded == 1 and again.rows_loaded == 0 and again.rows_quarantined == 0
    assert store.counts()["attendances"] == 1
    assert store.query("SELECT count(*) AS n FROM quarantine")[0]["n"] == 1
    assert store.query("SELECT count(*) AS n FROM loads")[0]["n"] == 1


def test_a_key_already_in_the_store_is_quarantined_not_doubled(store: Store, tmp_path: Path) -> None:
    first = HEADER + "A1,DEMO-A01,ed_type1,2024-06-01T10:00:00Z,,3,walk_in\n"
    ingest(store, "attendances", write(tmp_path, "a.csv", first))
    r = ingest(store, "attendances", write(tmp_path, "b.csv", HEADER + (
        "A1,DEMO-A01,ed_type1,2024-06-01T10:00:00Z,,3,walk_in\n"
        "A2,DEMO-A01,ed_type1,2024-06-01T11:00:00Z,,3,walk_in\n")))
    assert (r.rows_in, r.rows_loaded, r.rows_quarantined) == (2, 1, 1)
    assert store.counts()["attendances"] == 2
    assert store.query("SELECT reason FROM quarantine")[0]["reason"] == "already in the store (same attendance_id)"


def test_clock_changes(store: Store, tmp_path: Path) -> None:
    # 2024: clocks go forward 31 March 01:00 GMT, back 27 October 02:00 BST.
    f = write(tmp_path, "dst.csv", HEADER + (
        "D1,DEMO-A01,ed_type1,2024-03-31 00:30,,3,walk_in\n"            # GMT, before the change
        "D2,DEMO-A01,ed_type1,2024-03-31 01:30,,3,walk_in\n"            # never happens
        "D3,DEMO-A01,ed_type1,2024-03-31 02:30,,3,walk_in\n"            # BST
        "D4,DEMO-A01,ed_type1,2024-10-27 01:30,,3,walk_in\n"            # happens twice
        "D5,DEMO-A01,ed_type1,2024-10-27T01:30:00+01:00,,3,walk_in\n"   # the first 01:30
        "D6,DEMO-A01,ed_type1,2024-10-27T01:30:00+00:00,,3,walk_in\n"   # the second 01:30
        "D7,DEMO-A01,ed_type1,2024-10-27 02:30,,3,walk_in\n"            # GMT again
        "D8,DEMO-A01,ed_type1,2024-07-01T12:00:00Z,,3,walk_in\n"
    ))
    r = ingest(store, "attendances", f)
    assert (r.rows_loaded, r.rows_quarantined) == (6, 2)
    got = {row["attendance_id"]: row["arrival_time"].astimezone(UTC) for row in store.query(
        "SELECT attendance_id, arrival_time FROM attendances")}
    assert got == {
        "D1": datetime(2024, 3, 31, 0, 30, tzinfo=UTC),
        "D3": datetime(2024, 3, 31, 1, 30, tzinfo=UTC),
        "D5": datetime(2024, 10, 27, 0, 30, tzinfo=UTC),
        "D6": datetime(2024, 10, 27, 1, 30, tzinfo=UTC),
        "D7": datetime(2024, 10, 27, 2, 30, tzinfo=UTC),
        "D8": datetime(2024, 7, 1, 12, 0, tzinfo=UTC),
    }
    reasons = quarantine(store)
    assert "does not exist (the clocks go forward)" in reasons[2]
    assert "happens twice when the clocks go back" in reasons[4]


def test_parquet_with_typed_columns(store: Store, tmp_path: Path) -> None:
    t = pa.table({
        "org_code": ["DEMO-A", "DEMO-A", None],
        "period_start": pa.array([datetime(2024, 4, 1).date(), datetime(2024, 5, 1).date(), None], pa.date32()),
        "period_length": ["month", "month", "month"],
        "metric_code": ["m", "m", "m"],
        "value": [1.5, 2.5, 3.0],
        "source": ["test", "test", "test"],
    })
    pq.write_table(t, tmp_path / "r.parquet")
    r = ingest(store, "returns", tmp_path / "r.parquet")
    assert (r.rows_in, r.rows_loaded, r.rows_quarantined) == (3, 2, 1)
    assert store.query("SELECT sum(value) AS v FROM returns")[0]["v"] == pytest.approx(4.0)
    assert "org_code is missing" in quarantine(store)[3]


def test_ragged_lines_are_quarantined_with_their_text(store: Store, tmp_path: Path) -> None:
    f = write(tmp_path, "a.csv",
              HEADER + "A1,DEMO-A01,ed_type1,2024-06-01T10:00:00Z,,3,walk_in\nA2,DEMO-A01,extra,,,,,,\n")
    r = ingest(store, "attendances", f)
    assert (r.rows_in, r.rows_loaded, r.rows_quarantined) == (2, 1, 1)
    row = store.query("SELECT reason, raw FROM quarantine")[0]
    assert row["reason"] == "line has 9 fields; the header has 7"
    assert row["raw"] == "A2,DEMO-A01,extra,,,,,,"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nope,cols\n1,2\n", "does not have the attendances columns: missing required column(s) attendance_id"),
        ("", "is empty"),
    ],
)
def test_wrong_files_are_refused_whole_and_change_nothing(
    store: Store, tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(UecError, match=message.replace("(", r"\(").replace(")", r"\)")):
        ingest(store, "attendances", write(tmp_path, "bad.csv", text))
    assert store.query("SELECT count(*) AS n FROM loads")[0]["n"] == 0


def test_unknown_kind_and_missing_file(store: Store, tmp_path: Path) -> None:
    with pytest.raises(UecError, match="unknown kind 'beds'"):
        ingest(store, "beds", tmp_path / "x.csv")
    with pytest.raises(UecError, match="no such file"):
        ingest(store, "attendances", tmp_path / "x.csv")
    with pytest.raises(UecError, match="cannot tell the format"):
        ingest(store, "attendances", write(tmp_path, "x.xlsx", "a"))
