"""Feed benchmark: one 15-minute batch through ``POST /api/feeds/attendances`` on a demo-sized store.

A coordination centre refreshes every 15 minutes; each trust posts the attendances of the last 15
minutes (tens of rows). Peer: ``uec.ingest.ingest`` of the same rows as a file, which is what the
endpoint calls after parsing the body and checking every row belongs to the sender. We print the
median time of each and the ratio (endpoint / ingest): the price of HTTP, the token check, the
sender check and the audit entry.

Run: ``PYTHONPATH=src .venv/bin/python bench/feed_bench.py --store COPY_OF_A_DEMO_STORE [--rows 40]``
(the store is written to: give a copy). The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

from uec.access.tokens import create_token
from uec.config import get_settings
from uec.ingest import ingest
from uec.store import open_store
from uec.web import create_app


def batch(site: str, n: int, k: int) -> bytes:
    """``n`` attendances of ``site`` arriving in one 15-minute window (batch ``k``), as CSV."""
    start = dt.datetime(2027, 1, 1) + dt.timedelta(minutes=15 * k)
    lines = ["attendance_id,site_code,service_type,arrival_time,departure_time,arrival_mode"]
    for i in range(n):
        at = start + dt.timedelta(seconds=900 * i // n)
        lines.append(f"FEED{k:04d}{i:04d},{site},ed_type1,{at:%Y-%m-%d %H:%M:%S},,other")
    return ("\n".join(lines) + "\n").encode()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--store", required=True)
    ap.add_argument("--rows", type=int, default=40)
    ap.add_argument("--repeat", type=int, default=9)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        os.environ.setdefault("UEC_SECRET_KEY", "bench-secret-key-for-signing-cookies-0123456789")
        os.environ.setdefault("UEC_STATE_DIR", str(Path(d) / "state"))
        get_settings.cache_clear()
        store = open_store(a.store)
        site, org = store.query("SELECT site_code, org_code FROM sites WHERE site_type = 'acute_hospital' "
                                "ORDER BY site_code LIMIT 1")[0].values()
        token = create_token(store, "bench-feed", role="feed", org_code=org)[1]
        client = TestClient(create_app(store.url))
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "text/csv"}
        endpoint, direct = [], []
        for k in range(a.repeat):
            t = time.perf_counter()
            r = client.post("/api/feeds/attendances", content=batch(site, a.rows, 2 * k), headers=headers)
            endpoint.append(time.perf_counter() - t)
            assert r.status_code == 200 and r.json()["rows_loaded"] == a.rows, r.text
            f = Path(d) / f"attendances-{k}.csv"
            f.write_bytes(batch(site, a.rows, 2 * k + 1))
            t = time.perf_counter()
            ingest(store, "attendances", f)
            direct.append(time.perf_counter() - t)
    e, i = statistics.median(endpoint), statistics.median(direct)
    print(f"{a.rows}-row batch: endpoint {1000 * e:.0f} ms, ingest {1000 * i:.0f} ms (median of {a.repeat}); "
          f"ratio {e / i:.2f}")
    print(json.dumps({"rows": a.rows, "endpoint_ms": round(1000 * e, 1), "ingest_ms": round(1000 * i, 1),
                      "ratio": round(e / i, 2)}))


if __name__ == "__main__":
    main()
