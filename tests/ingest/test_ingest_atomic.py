"""A load is all or nothing, even when the process is killed; reads go on while it runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyarrow.parquet as pq

from uec.store import open_store

sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))
from ingest_bench import make_attendances

UEC = [sys.executable, "-m", "uec"]


def test_killing_a_load_leaves_the_store_as_it_was(store_url: str, tmp_path: Path) -> None:
    pq.write_table(make_attendances(500, seed=1), tmp_path / "first.parquet")
    pq.write_table(make_attendances(20_000, seed=2).slice(500), tmp_path / "second.parquet")
    store = open_store(store_url)
    from uec.ingest import ingest

    ingest(store, "attendances", tmp_path / "first.parquet")
    before = (store.counts()["attendances"], store.query("SELECT count(*) AS n FROM loads")[0]["n"])
    env = {**os.environ, "UEC_TEST_PAUSE_BEFORE_COMMIT": "30"}
    proc = subprocess.Popen(
        [*UEC, "ingest", "attendances", str(tmp_path / "second.parquet"), "--store", store_url, "--json"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    # Wait until the load is inside its transaction (it reports "pausing before commit"), then kill it hard.
    assert proc.stderr is not None
    deadline = time.monotonic() + 60
    seen = ""
    while "pausing before commit" not in seen and time.monotonic() < deadline:
        seen += proc.stderr.read(1)
    assert "pausing before commit" in seen, seen
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    after = (store.counts()["attendances"], store.query("SELECT count(*) AS n FROM loads")[0]["n"])
    assert after == before == (500, 1)
    assert store.query("SELECT count(*) AS n FROM quarantine")[0]["n"] == 0


def test_reads_keep_working_while_a_load_runs(store_url: str, tmp_path: Path) -> None:
    n = 200_000
    pq.write_table(make_attendances(n, seed=3), tmp_path / "big.parquet")
    store = open_store(store_url)
    seen: list[int] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def reader() -> None:
        while not done.is_set():
            try:
                seen.append(int(store.query("SELECT count(*) AS n FROM attendances")[0]["n"]))
            except BaseException as exc:
                errors.append(exc)
                return
            time.sleep(0.02)

    t = threading.Thread(target=reader)
    t.start()
    result = subprocess.run(
        [*UEC, "ingest", "attendances", str(tmp_path / "big.parquet"), "--store", store_url, "--json"],
        capture_output=True, text=True, timeout=300,
    )
    time.sleep(0.2)
    done.set()
    t.join()
    assert result.returncode == 0, result.stderr
    assert not errors, errors
    # Every read saw the store before or after the load, never half of it.
    assert set(seen) <= {0, n}
    assert seen[-1] == n
    assert len(seen) > 5
