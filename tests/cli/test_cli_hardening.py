"""Issue 11 on the command line: every error one line and exit 2, secrets masked, no formula cells.

The bulk of the error calls run ``uec.cli.main`` in this process (the same code the ``uec`` script
runs, a few seconds faster a call); the rest run real ``uec`` processes.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from live_server import free_port
from uec.cli import main
from uec.store import open_store
from uec.store.base import install_log_masking, mask_secrets, register_secret

UEC = [sys.executable, "-m", "uec"]
HEADER = "attendance_id,site_code,service_type,arrival_time,departure_time,acuity,arrival_mode\n"
PASSWORD = "S3cretPw9"

# Each call the outside probe found ending in "unexpected failure", and every usage error a user can
# make of each command: (arguments, the start of the one error line). ``{s}`` is an empty store.
CALLS: list[tuple[list[str], str]] = [
    (["quarantine", "--limit", "-5"], "error: Invalid value for '--limit'"),
    (["quarantine", "--load", "0"], "error: Invalid value for '--load'"),
    (["quarantine", "purge", "--older-than", "-1"], "error: Invalid value for '--older-than'"),
    (["quarantine", "--nope"], "error: No such option: --nope"),
    (["demo", "--seed", "-1"], "error: Invalid value for '--seed'"),
    (["demo", "--days", "0"], "error: Invalid value for '--days'"),
    (["demo", "--days", "1000000"], "error: Invalid value for '--days'"),
    (["demo", "--end", "0001-01-01"], "error: --end 0001-01-01 must be between 1990"),
    (["demo", "--end", "someday"], "error: --end 'someday' is not a date"),
    (["serve", "--port", "99999"], "error: Invalid value for '--port'"),
    (["serve", "--port", "0"], "error: Invalid value for '--port'"),
    (["serve", "--port", "http"], "error: Invalid value for '--port'"),
    (["serve", "--host", "999.1.1.1", "--port", "8765"], "error: cannot listen on 999.1.1.1:8765"),
    (["standards", "ed-4hr", "--from", "0001-01-01", "--to", "9999-12-31"],
     "error: --from '0001-01-01' is outside 1990-"),
    (["standards", "ed-4hr", "--to", "2999-12-31"], "error: --to '2999-12-31' is outside 1990-"),
    (["standards", "ed-4hr", "--from", "2024-13"], "error: --from '2024-13' is not a period"),
    (["standards", "ed-4hr", "--csv", "/proc/none/x.csv"], "error: cannot write /proc/none/x.csv"),
    (["standards", "nope"], "error: unknown standard 'nope'"),
    (["export", "attendances", "--output", "x.csv", "--format", "xml"], "error: Invalid value for '--format'"),
    (["export", "attendances", "--output", "."], "error: --output . is a folder"),
    (["export", "attendances", "--output", "/proc/none/x.csv"], "error: cannot write /proc/none/x.csv"),
    (["export", "attendances"], "error: Missing option '--output'"),
    (["ingest", "attendances"], "error: Missing argument 'file'"),
    (["ingest", "attendances", "."], "error: . is a folder, not a file"),
    (["ingest", "attendances", "merged.csv"],
     "error: merged.csv: the file has 3 data lines but the CSV reader found 1"),
    (["status", "--json", "extra"], "error: Got unexpected extra argument"),
    (["docs", "contract", "--output", "/proc/none/x.md"], "error: cannot write /proc/none/x.md"),
    (["docs", "nope"], "error: No such command 'nope'"),
    (["ping", "--url", "notaurl"], "error: --url 'notaurl' is not an http:// or https:// URL"),
    (["ping", "--url", "http://127.0.0.1:9"], "error: no UEC server answers at http://127.0.0.1:9"),
    (["forecast", "occupancy", "--days", "0"], "error: the store has no inpatient spells"),
    (["forecast", "backtest", "x.csv", "--freq", "daily"], "error: Missing option"),
    (["simulate", "--reps", "-1"], "error: --reps must be at least 1"),
    (["nosuchcommand"], "error: No such command 'nosuchcommand'"),
]


@pytest.mark.parametrize(("args", "message"), CALLS, ids=[" ".join(a) for a, _ in CALLS])
def test_every_error_is_one_line_and_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "merged.csv").write_text(HEADER + 'A1,"DEMO-A01,utc,2024-06-01T10:00:00Z,,,\nA2\nA3",utc,x,,,\n')
    storeless = args[0] in ("ping", "docs", "nosuchcommand") or args[:2] == ["forecast", "backtest"]
    store = [] if storeless else ["--store", str(tmp_path / "s.duckdb")]
    with pytest.raises(SystemExit) as exit_:
        main([*args, *store])
    captured = capsys.readouterr()
    assert exit_.value.code == 2, captured
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(message), lines[0]


@pytest.mark.parametrize("args", [[], ["docs"], ["forecast"]])
def test_a_group_alone_prints_its_help_and_one_error_line(args: list[str]) -> None:
    r = subprocess.run([*UEC, *args], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert "Usage: uec" in r.stdout
    assert r.stderr.strip().splitlines() == ["error: missing command: choose one of the commands above"]


def test_a_hes_file_with_only_its_required_columns_and_int64_parquet_load(tmp_path: Path) -> None:
    hes = tmp_path / "hes.csv"
    hes.write_text("AEKEY,PROCODE3,AEDEPTTYPE,ARRIVALDATE,ARRIVALTIME\nK1,DEMO-A,01,2024-06-12,1016\n")
    pq.write_table(pa.table({"attendance_id": ["A1"], "site_code": ["DEMO-A01"], "service_type": ["utc"],
                             "arrival_time": pa.array([1717236000], pa.int64())}), tmp_path / "i.parquet")
    db = str(tmp_path / "s.duckdb")
    for kind, f, counts in (("hes-ae", hes, (1, 1, 0)), ("attendances", tmp_path / "i.parquet", (1, 0, 1))):
        r = subprocess.run([*UEC, "ingest", kind, str(f), "--store", db, "--json"],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        got = json.loads(r.stdout.strip().splitlines()[-1])
        assert (got["rows_in"], got["rows_loaded"], got["rows_quarantined"]) == counts


def test_ping_works_without_httpx(tmp_path: Path) -> None:
    """`uec ping` against a real `uec serve`, in a process where httpx cannot be imported."""
    port = free_port()
    db = str(tmp_path / "s.duckdb")
    open_store(db)
    server = subprocess.Popen([*UEC, "serve", "--store", db, "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        blocker = tmp_path / "nohttpx"
        blocker.mkdir()
        (blocker / "httpx.py").write_text("raise ImportError('httpx is a test-only dependency')\n")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(blocker), os.environ.get("PYTHONPATH", "")])}
        deadline = time.monotonic() + 90
        while True:
            r = subprocess.run([*UEC, "ping", "--url", f"http://127.0.0.1:{port}", "--json"],
                               capture_output=True, text=True, timeout=60, env=env)
            if r.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout.strip().splitlines()[-1])["ok"] is True
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)


def test_store_passwords_never_appear(postgres_url: str, tmp_path: Path) -> None:
    """`uec status`, `uec demo`, `uec serve`, `uec ingest` and a driver error, with a password in the URL."""
    url = postgres_url.replace("postgresql://postgres@", f"postgresql://postgres:{PASSWORD}@")
    assert PASSWORD in url
    outputs = []
    f = tmp_path / "a.csv"
    f.write_text(HEADER + "A1,DEMO-A01,ed_type1,2024-06-01T10:00:00Z,,3,walk_in\n")
    for args in (["demo", "--days", "1", "--generator", "fast", "--end", "2024-06-01"], ["status"],
                 ["status", "--json"], ["demo", "--days", "1"], ["ingest", "attendances", str(f), "--json"]):
        r = subprocess.run([*UEC, *args, "--store", url], capture_output=True, text=True, timeout=300)
        outputs.append((args, r.returncode, r.stdout + r.stderr))
    bad_db = url.rsplit("/", 1)[0] + "/no_such_database"
    r = subprocess.run([*UEC, "status", "--store", bad_db], capture_output=True, text=True, timeout=60)
    outputs.append((["status", "bad db"], r.returncode, r.stdout + r.stderr))
    assert [code for _, code, _ in outputs] == [0, 0, 0, 2, 0, 2], outputs
    assert "postgres:***@" in outputs[1][2] and "does not exist" in outputs[-1][2]
    port = free_port()
    server = subprocess.Popen([*UEC, "serve", "--store", url, "--port", str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert server.stderr is not None
        banner = server.stderr.readline()
        # Stop it once it answers: a stop while uvicorn is still starting its processes once took
        # longer than this test waits (seen once under a full suite, not reproduced alone).
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.2)
    finally:
        server.send_signal(signal.SIGINT)
        rest = server.communicate(timeout=30)
    outputs.append((["serve"], 0, banner + "".join(rest)))
    assert "store postgresql://postgres:***@" in banner
    for args, _, text in outputs:
        assert PASSWORD not in text, (args, text)


def test_mask_secrets_masks_urls_keywords_and_registered_passwords() -> None:
    register_secret("pa55-word")
    assert mask_secrets("postgresql://u:pa55-word@h/db") == "postgresql://u:***@h/db"
    assert mask_secrets("FATAL: password pa55-word rejected") == "FATAL: password *** rejected"
    assert mask_secrets("dbname=x password='a b' host=h") == "dbname=x password=*** host=h"
    assert mask_secrets("duckdb:///data/uec.duckdb") == "duckdb:///data/uec.duckdb"


def test_log_records_are_masked(caplog: pytest.LogCaptureFixture) -> None:
    install_log_masking()
    with caplog.at_level(logging.INFO):
        logging.getLogger("uec.test").info("opening %s", f"postgresql://u:{PASSWORD}@h/db")
    assert caplog.messages == ["opening postgresql://u:***@h/db"]


def test_export_csv_has_no_formula_cells_but_numbers_stay_numbers(tmp_path: Path) -> None:
    db = str(tmp_path / "s.duckdb")
    sites = tmp_path / "sites.csv"
    sites.write_text("site_code,org_code,name,site_type,population_served\n"
                     'DEMO-A01,DEMO-A,"=HYPERLINK(""http://x"",""y"")",acute_hospital,100\n'
                     "DEMO-B01,DEMO-B,@SUM(A1),acute_hospital,\n"
                     "DEMO-C01,DEMO-C,-5,acute_hospital,7\n")
    subprocess.run([*UEC, "ingest", "sites", str(sites), "--store", db], check=True, capture_output=True, timeout=120)
    out = tmp_path / "out.csv"
    r = subprocess.run([*UEC, "export", "sites", "--output", str(out), "--store", db], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [x["name"] for x in rows] == ["'=HYPERLINK(\"http://x\",\"y\")", "'@SUM(A1)", "-5"]
    assert [x["population_served"] for x in rows] == ["100", "", "7"]
    for row in rows:
        for value in row.values():
            assert not value or value[0] not in "=+@\t\r" or value.startswith("'")


def test_quarantine_purge_command(tmp_path: Path) -> None:
    db = str(tmp_path / "s.duckdb")
    f = tmp_path / "a.csv"
    f.write_text(HEADER + "X1,,,,,,\n")
    subprocess.run([*UEC, "ingest", "attendances", str(f), "--store", db], check=True, capture_output=True,
                   timeout=120)
    keep = subprocess.run([*UEC, "quarantine", "purge", "--store", db, "--json"], capture_output=True, text=True,
                          timeout=120)
    assert json.loads(keep.stdout.strip().splitlines()[-1]) == {"purged": 0, "older_than_days": 90}
    gone = subprocess.run([*UEC, "quarantine", "purge", "--older-than", "0", "--store", db, "--json"],
                          capture_output=True, text=True, timeout=120)
    assert json.loads(gone.stdout.strip().splitlines()[-1]) == {"purged": 1, "older_than_days": 0}
    listed = subprocess.run([*UEC, "quarantine", "--store", db, "--json"], capture_output=True, text=True,
                            timeout=120)
    assert json.loads(listed.stdout.strip().splitlines()[-1])["total"] == 0
