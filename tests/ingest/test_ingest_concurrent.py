"""Two loads at once both succeed (issue 11 item 5): load ids come from a sequence, not max + 1.

Real processes against the real server: each load pauses inside its open transaction, so the two
transactions overlap; with ids computed as max + 1 both took the same id and one failed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from uec.store import open_store

UEC = [sys.executable, "-m", "uec"]
HEADER = "attendance_id,site_code,service_type,arrival_time,departure_time,acuity,arrival_mode\n"


def test_two_loads_at_once_both_succeed(store_url: str, tmp_path: Path) -> None:
    store = open_store(store_url)
    files = []
    for name in ("a", "b"):
        f = tmp_path / f"{name}.csv"
        f.write_text(HEADER + "".join(
            f"{name.upper()}{i},DEMO-A01,ed_type1,2024-06-01T10:00:00Z,,3,walk_in\n" for i in range(200)))
        files.append(f)
    env = {**os.environ, "UEC_TEST_PAUSE_BEFORE_COMMIT": "2"}
    procs = [
        subprocess.Popen([*UEC, "ingest", "attendances", str(f), "--store", store_url, "--json"],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for f in files
    ]
    results = [p.communicate(timeout=120) for p in procs]
    for p, (_out, err) in zip(procs, results, strict=True):
        assert p.returncode == 0, err
    ids = sorted(int(json.loads(out.strip().splitlines()[-1])["load_id"]) for out, _ in results)
    assert ids == [1, 2]
    assert store.counts()["attendances"] == 400
    assert [r["load_id"] for r in store.query("SELECT load_id FROM loads ORDER BY load_id")] == [1, 2]


def test_a_store_made_before_the_sequence_continues_its_ids(tmp_path: Path) -> None:
    from uec.ingest import ingest

    url = str(tmp_path / "old.duckdb")
    store = open_store(url)
    f = tmp_path / "a.csv"
    f.write_text(HEADER + "A1,DEMO-A01,ed_type1,2024-06-01T10:00:00Z,,3,walk_in\n")
    ingest(store, "attendances", f)
    with store.write() as w:  # as an older version left it: ids up to 3 and no sequence
        w.execute("UPDATE loads SET load_id = 3")
        w.execute("DROP SEQUENCE load_ids")
    f.write_text(HEADER + "A2,DEMO-A01,ed_type1,2024-06-01T10:00:00Z,,3,walk_in\n")
    assert ingest(store, "attendances", f).load_id == 4
