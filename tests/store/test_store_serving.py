"""The serving model: reads never wait for a write, and a result saved while pages are read is kept.

On the embedded store a writer holds the DuckDB file exclusively; readers read the snapshot the
last committed write published (docs/decisions/0002-serving-model.md). On PostgreSQL readers and
writers share the database under MVCC. Both engines must behave the same from the outside.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pyarrow.parquet as pq
from fastapi.testclient import TestClient

from uec.ingest import ingest
from uec.jobs import submit
from uec.jobs.worker import run_one
from uec.store import DuckDBStore, open_store
from uec.system import get_run

sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))
from ingest_bench import make_attendances

UEC = [sys.executable, "-m", "uec"]


def test_reads_do_not_wait_for_a_write_held_open_in_another_process(store_url: str, tmp_path: Path) -> None:
    pq.write_table(make_attendances(500, seed=1), tmp_path / "first.parquet")
    pq.write_table(make_attendances(5_000, seed=2).slice(500), tmp_path / "second.parquet")
    store = open_store(store_url)
    ingest(store, "attendances", tmp_path / "first.parquet")
    # A load that stops inside its open transaction for 20 s (the pause hook), in another process.
    proc = subprocess.Popen(
        [*UEC, "ingest", "attendances", str(tmp_path / "second.parquet"), "--store", store_url, "--json"],
        env={**os.environ, "UEC_TEST_PAUSE_BEFORE_COMMIT": "20"}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        seen = ""
        while "pausing before commit" not in seen and proc.poll() is None:
            seen += proc.stderr.read(1)
        assert "pausing before commit" in seen, seen
        # A fresh handle, as a new web request would open, and many reads: each sees the store as it
        # was before the load ...
        reader = open_store(store_url)
        counts = [int(reader.query("SELECT count(*) AS n FROM attendances")[0]["n"]) for _ in range(20)]
        with reader.reading():
            loads = reader.query("SELECT count(*) AS n FROM loads")[0]["n"]
        # ... and all of them finished while the write was still open: none waited for it.
        assert proc.poll() is None, "the reads waited for the load to commit"
        assert set(counts) == {500} and loads == 1
    finally:
        _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    # Once the load has committed, every reader sees it.
    assert open_store(store_url).counts()["attendances"] == 5_000
    assert store.counts()["attendances"] == 5_000


def test_a_scenario_run_finishing_during_continuous_page_reads_is_saved(store_url: str) -> None:
    from uec.access import User
    from uec.web import create_app
    from uec.web.deps import get_current_user

    store = open_store(store_url)
    app = create_app(store_url)
    # The pages need a signed-in reader: every request acts as a viewer.
    viewer = User(username="viewer", display_name="Viewer", org_code="DEMO-ICB", roles=frozenset({"viewer"}))
    app.dependency_overrides[get_current_user] = lambda: viewer
    client = TestClient(app)
    done = threading.Event()
    statuses: list[int] = []
    failures: list[BaseException] = []

    def browse() -> None:
        while not done.is_set():
            for path in ("/", "/api/sites", "/overview.json", "/api/health"):
                try:
                    statuses.append(client.get(path).status_code)
                except BaseException as exc:  # every failure is reported below
                    failures.append(exc)

    readers = [threading.Thread(target=browse) for _ in range(3)]
    for t in readers:
        t.start()
    try:
        job = submit(store, "scenario_run", {"scenario": {"name": "more-beds", "changes": {"extra_beds": 20}},
                                             "reps": 1, "days": 1, "seed": 5})
        # The worker runs in this process, like the old in-process queue whose saves were lost.
        finished = run_one(store)
    finally:
        done.set()
        for t in readers:
            t.join()
    assert not failures, failures[:3]
    assert statuses and set(statuses) == {200}
    assert finished is not None and (finished.state, finished.error) == ("done", None)
    assert get_run(store, job.id).scenario.name == "more-beds"


def test_snapshots_are_published_and_pruned(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "uec.duckdb"))
    assert isinstance(store, DuckDBStore)
    for i in range(5):
        with store.write() as w:
            w.execute("DELETE FROM returns")
        assert store.query("SELECT count(*) AS n FROM returns")[0]["n"] == 0, i
    snaps = sorted(p.name for p in store.snapshots.glob("gen-*.duckdb"))
    assert len(snaps) == 2  # the current one and the one before it
    assert not list(store.snapshots.glob("*.tmp"))


def test_a_live_file_changed_outside_a_write_is_published_for_readers(tmp_path: Path) -> None:
    import duckdb

    path = tmp_path / "uec.duckdb"
    store = open_store(str(path))
    assert store.counts()["attendances"] == 0
    # An older uec or a DuckDB shell writes the live file directly, without publishing.
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE note (n INTEGER)")
    con.execute("INSERT INTO note VALUES (7)")
    con.close()
    assert open_store(str(path)).query("SELECT n FROM note") == [{"n": 7}]
    # A store copied as one file (no snapshots beside it) is readable too.
    copy = tmp_path / "copy" / "uec.duckdb"
    copy.parent.mkdir()
    copy.write_bytes(path.read_bytes())
    assert open_store(str(copy)).query("SELECT n FROM note") == [{"n": 7}]
