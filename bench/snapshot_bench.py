"""What read snapshots cost on the embedded store (docs/decisions/0002-serving-model.md).

On a copy of a demo store: the time to copy the store file (what every committed write adds to
publish a snapshot), the time of a small committed write with its checkpoint and publish, and the
time of one small query through a fresh store handle (a new web request's first query), which
reads the open snapshot instead of opening the DuckDB file.

Peer: ``cp`` of the same file (the floor for a publish on a filesystem without reflinks).

Run: ``.venv/bin/python bench/snapshot_bench.py --store /tmp/demo.duckdb`` (built with ``uec demo``
when missing). The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from uec.store import open_store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", default="/tmp/uec-bench/demo.duckdb", help="A demo store (built when missing).")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    demo = Path(args.store)
    if not demo.exists():
        demo.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "uec", "demo", "--store", str(demo)], check=True,
                       stdout=subprocess.DEVNULL)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "uec.duckdb"
        shutil.copyfile(demo, path)
        cp = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            subprocess.run(["cp", str(path), str(Path(tmp) / "copy.duckdb")], check=True)
            cp.append(time.perf_counter() - t0)
        store = open_store(str(path))
        store.query("SELECT 1 AS one")  # publishes the first snapshot
        writes = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            with store.write() as w:
                w.execute("DELETE FROM returns WHERE false")
            writes.append(time.perf_counter() - t0)
        reads = []
        for _ in range(200):
            t0 = time.perf_counter()
            open_store(str(path)).query("SELECT count(*) AS n FROM sites")
            reads.append(time.perf_counter() - t0)
        size_mb = path.stat().st_size / 1e6
    out = {
        "store_mb": round(size_mb, 1),
        "cp_seconds_median": round(statistics.median(cp), 3),
        "write_and_publish_seconds_median": round(statistics.median(writes), 3),
        "small_query_fresh_handle_ms_median": round(statistics.median(reads) * 1000, 2),
    }
    print(f"store {out['store_mb']} MB: cp {out['cp_seconds_median']} s; a small write with checkpoint and "
          f"publish {out['write_and_publish_seconds_median']} s; a small query on a fresh handle "
          f"{out['small_query_fresh_handle_ms_median']} ms (medians)")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
