"""``uec watch DIR``: files dropped into a folder are loaded once, moved atomically, never read half-way."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from feed_helpers import beds_csv, small_ics

from uec.access.audit import entries
from uec.feeds import scan
from uec.store import Store, open_store


@pytest.fixture
def ics(store: Store) -> Store:
    """The small ICS, once per engine."""
    return small_ics(store)


def test_scan_loads_moves_and_explains(ics: Store, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "bed-states_0800.csv").write_bytes(beds_csv(("DEMO-A01", "2026-12-02 08:00", 100, 90),
                                                         ("DEMO-A01", "2026-12-02 08:15", 100, -1)))
    (inbox / "bed-states_0815.csv.part").write_bytes(beds_csv(("DEMO-A01", "2026-12-02 08:30", 100, 91)))
    (inbox / "mystery.csv").write_text("a,b\n1,2\n")
    (inbox / "attendances.csv").write_text("not,the,columns\n1,2,3\n")
    out = {o.name: o for o in scan(ics, inbox, settle=0, actor_label="cli:test")}
    assert {n: o.outcome for n, o in out.items()} == {
        "bed-states_0800.csv": "loaded", "mystery.csv": "rejected", "attendances.csv": "rejected"}
    assert (inbox / "bed-states_0815.csv.part").exists()  # still being written: never read
    result = json.loads((inbox / "loaded" / "bed-states_0800.csv.result.json").read_text())
    assert (result["rows_loaded"], result["rows_quarantined"]) == (1, 1)
    assert "cannot tell the kind" in (inbox / "rejected" / "mystery.csv.reason.txt").read_text()
    assert "missing required column" in (inbox / "rejected" / "attendances.csv.reason.txt").read_text()
    assert sorted(p.name for p in inbox.iterdir() if p.is_file()) == ["bed-states_0815.csv.part"]
    # The writer renames the .part when done; the same bytes sent again are rejected as already loaded.
    os.replace(inbox / "bed-states_0815.csv.part", inbox / "bed-states_0815.csv")
    (inbox / "bed-states_again.csv").write_bytes((inbox / "loaded" / "bed-states_0800.csv").read_bytes())
    again = {o.name: o.outcome for o in scan(ics, inbox, settle=0)}
    assert again == {"bed-states_0815.csv": "loaded", "bed-states_again.csv": "rejected"}
    assert ics.query("SELECT count(*) AS n FROM bed_states")[0]["n"] == 2
    assert {e.actor for e in entries(ics) if e.action in ("watch.load", "ingest.load")} == {"cli:test", "system"}


def test_a_file_still_growing_is_not_read_until_it_settles(ics: Store, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    f = inbox / "bed-states.csv"
    f.write_bytes(beds_csv(("DEMO-A01", "2026-12-02 08:00", 100, 90))[:30])  # half a file, just written
    seen: dict[Path, tuple[int, int, float]] = {}
    assert scan(ics, inbox, settle=0.5, seen=seen) == []
    f.write_bytes(beds_csv(("DEMO-A01", "2026-12-02 08:00", 100, 90)))  # the rest arrives
    assert scan(ics, inbox, settle=0.5, seen=seen) == []  # changed since the last look: wait again
    time.sleep(0.6)
    assert [o.outcome for o in scan(ics, inbox, settle=0.5, seen=seen)] == ["loaded"]


def test_org_restriction_rejects_another_trusts_file(ics: Store, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "bed-states.csv").write_bytes(beds_csv(("DEMO-B01", "2026-12-02 08:00", 90, 80)))
    # The same rows as Parquet are checked too.
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    pq.write_table(pacsv.read_csv(inbox / "bed-states.csv"), inbox / "bed-states_2.parquet")
    out = scan(ics, inbox, org_code="DEMO-A", settle=0)
    assert [o.outcome for o in out] == ["rejected", "rejected"]
    assert all("a site of DEMO-B, not of DEMO-A" in o.detail for o in out)
    assert ics.query("SELECT count(*) AS n FROM bed_states")[0]["n"] == 0


def test_uec_watch_command(tmp_path: Path) -> None:
    small_ics(open_store(str(tmp_path / "uec.duckdb")))
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "bed-states.csv").write_bytes(beds_csv(("DEMO-A01", "2026-12-02 08:00", 100, 90)))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    run = subprocess.run([sys.executable, "-m", "uec", "watch", str(inbox), "--once", "--settle", "0",
                          "--store", str(tmp_path / "uec.duckdb")], capture_output=True, text=True,
                         env=env, check=False)
    assert run.returncode == 0, run.stderr
    assert "bed-states.csv: loaded" in run.stdout and (inbox / "loaded" / "bed-states.csv").exists()
    bad = subprocess.run([sys.executable, "-m", "uec", "watch", str(tmp_path / "nowhere"), "--once",
                          "--store", str(tmp_path / "uec.duckdb")], capture_output=True, text=True,
                         env=env, check=False)
    assert bad.returncode == 2 and bad.stderr.startswith("error: ") and bad.stderr.count("\n") == 1


def test_a_busy_store_leaves_the_file_for_the_next_look(ics: Store, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    from uec.store import StoreBusy

    # The module (uec.feeds re-exports its function of the same name).
    watch_module = importlib.import_module("uec.feeds.watch")

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "bed-states.csv").write_bytes(beds_csv(("DEMO-A01", "2026-12-02 08:00", 100, 90)))
    real = watch_module.load_file

    def busy(*args: object, **kwargs: object) -> None:
        raise StoreBusy("store is busy (another load or run is writing it); try again")

    monkeypatch.setattr(watch_module, "load_file", busy)
    assert scan(ics, inbox, settle=0) == []
    assert (inbox / "bed-states.csv").exists() and not (inbox / "rejected").exists()
    monkeypatch.setattr(watch_module, "load_file", real)
    assert [o.outcome for o in scan(ics, inbox, settle=0)] == ["loaded"]
