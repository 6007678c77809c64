"""The command line as a user meets it: real processes, exit codes, one-line errors, --json."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from uec.store import open_store

UEC = [sys.executable, "-m", "uec"]
GOOD = (
    "attendance_id,site_code,service_type,arrival_time,departure_time,acuity,arrival_mode\n"
    "A1,DEMO-A01,ed_type1,2024-06-01T10:00:00Z,2024-06-01T13:00:00Z,3,walk_in\n"
    "A2,DEMO-A01,utc,2024-06-01T11:00:00+01:00,,5,other\n"
    "A3,DEMO-A01,utc,2024-06-01T11:00:00+01:00,,6,other\n"
)


def uec(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*UEC, *args], capture_output=True, text=True, timeout=120)


def last_json(text: str) -> dict[str, object]:
    obj: dict[str, object] = json.loads(text.strip().splitlines()[-1])
    return obj


def test_ingest_status_quarantine_export_round_trip(store_url: str, tmp_path: Path) -> None:
    f = tmp_path / "a.csv"
    f.write_text(GOOD)
    r = uec("ingest", "attendances", str(f), "--store", store_url, "--json")
    assert r.returncode == 0, r.stderr
    assert "rows in: 3" in r.stdout and "loaded: 2" in r.stdout and "quarantined: 1" in r.stdout
    assert last_json(r.stdout) | {"seconds": 0} == {
        "kind": "attendances", "table": "attendances", "file": str(f), "rows_in": 3, "rows_loaded": 2,
        "rows_quarantined": 1, "load_id": 1, "already_loaded": None, "seconds": 0,
        "unchecked": ["site_code was not checked against sites: the store has no sites yet"], "rows_revised": 0,
    }
    assert "note: site_code was not checked against sites" in r.stdout
    again = uec("ingest", "attendances", str(f), "--store", store_url, "--json")
    assert "already loaded as load 1; nothing added" in again.stdout
    assert last_json(again.stdout)["rows_loaded"] == 0

    status = last_json(uec("status", "--store", store_url, "--json").stdout)
    assert status["tables"] == {
        "organisations": 0, "org_hierarchy": 0, "sites": 0, "services": 0, "calls_111": 0, "ambulance_incidents": 0,
        "attendances": 2, "spells": 0, "bed_states": 0, "ucr_referrals": 0, "returns": 0,
        "ed_area_states": 0, "specialty_referrals": 0, "calls_111_handling": 0, "capacity_states": 0,
    }
    assert status["loads"] == 1 and status["quarantined"] == 1

    q = last_json(uec("quarantine", "--store", store_url, "--json").stdout)
    assert q["total"] == 1
    assert q["rows"][0]["reason"] == "acuity: 6 is above the maximum 5"  # type: ignore[index]

    for fmt in ("csv", "parquet"):
        out = tmp_path / f"export.{fmt}"
        e = uec("export", "attendances", "--format", fmt, "--output", str(out), "--store", store_url, "--json")
        assert e.returncode == 0, e.stderr
        assert last_json(e.stdout)["rows"] == 2
        # What we export, we can load again unchanged into a fresh store.
        fresh = str(tmp_path / f"fresh_{fmt}.duckdb")
        back = last_json(uec("ingest", "attendances", str(out), "--store", fresh, "--json").stdout)
        assert (back["rows_loaded"], back["rows_quarantined"]) == (2, 0)
        a = open_store(store_url).query("SELECT * FROM attendances ORDER BY attendance_id")
        b = open_store(fresh).query("SELECT * FROM attendances ORDER BY attendance_id")
        assert [{k: v for k, v in row.items() if k != "load_id"} for row in a] == [
            {k: v for k, v in row.items() if k != "load_id"} for row in b]
    assert pq.read_table(tmp_path / "export.parquet").num_rows == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ingest", "beds", "x.csv"], "error: unknown kind 'beds'; choose one of:"),
        (["ingest", "attendances", "missing.csv"], "error: no such file: missing.csv"),
        (["ingest", "attendances", "wrong.csv"], "error: wrong.csv does not have the attendances columns"),
        (["ingest", "attendances", "binary.csv"], "error: cannot read binary.csv"),
        (["status", "--store", "mysql://localhost/x"], "error: unknown store URL 'mysql://localhost/x'"),
        (["status", "--store", "postgresql://nobody@127.0.0.1:1/x"],
         "error: cannot open store postgresql://nobody@127.0.0.1:1/x"),
        (["ping", "--url", "http://127.0.0.1:9"],
         "error: no UEC server answers at http://127.0.0.1:9: start one with `uec serve`"),
        (["export", "nothing", "--output", "x.csv"], "error: unknown kind 'nothing'"),
        (["demo", "--end", "someday"], "error: --end 'someday' is not a date; use YYYY-MM-DD"),
    ],
)
def test_user_errors_are_one_line_and_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            args: list[str], message: str) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "wrong.csv").write_text("a,b\n1,2\n")
    (tmp_path / "binary.csv").write_bytes(bytes(range(256)) * 4)
    r = subprocess.run([*UEC, *args, *([] if "--store" in args or args[0] == "ping" else
                                        ["--store", str(tmp_path / "s.duckdb")])],
                       capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith(message), lines[0]
    assert "Traceback" not in r.stderr


def test_docs_contract_prints_the_reference() -> None:
    r = uec("docs", "contract")
    assert r.returncode == 0
    assert r.stdout.startswith("# Event contract reference")


def test_demo_builds_once_and_status_shows_local_times(tmp_path: Path) -> None:
    db = str(tmp_path / "demo.duckdb")
    r = uec("demo", "--days", "3", "--end", "2024-10-28", "--seed", "7", "--store", db, "--json")
    assert r.returncode == 0, r.stderr
    summary = last_json(r.stdout)
    rows = summary["rows"]
    assert isinstance(rows, dict) and rows["attendances"] > 1000
    status = uec("status", "--store", db)
    # 2024-10-28 is after the clocks went back: the last events are shown in GMT.
    assert "2024-10-28 23:" in status.stdout and "GMT" in status.stdout
    again = uec("demo", "--days", "3", "--store", db)
    assert again.returncode == 2
    assert again.stderr.strip().splitlines() == [
        f"error: store {db} already holds data; give an empty --store for the demo"]


def test_docs_standards_prints_the_committed_catalogue_page() -> None:
    from uec.cli import app

    result = CliRunner().invoke(app, ["docs", "standards"])
    assert result.exit_code == 0
    committed = (Path(__file__).parents[2] / "docs" / "reference" / "standards.md").read_text(encoding="utf-8")
    assert result.output == committed
