"""The web's answer cache: each cached page cold (computed) on one worker, then on a second worker
that shares only the cache folder (as two uvicorn worker processes do), and a request beyond a
limit that must answer at once.

Usage::

    .venv/bin/python bench/web_cache_bench.py --store data/uec.duckdb [--repeat 20]

Build a store first (``uec demo``; ``--generator fast --days 365`` is quicker). Prints one line per
URL: its status, the cold time, the first time on the second worker and the median of ``--repeat``
more requests there, then one JSON line. Times are wall-clock through FastAPI's test client (no
network), so they include routing, the data version query and serialising, not HTTP.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import json
import statistics
import tempfile
import time

from fastapi.testclient import TestClient

from uec.config import Settings
from uec.web import create_app

URLS = (
    "/overview.json",
    "/",
    "/sites/DEMO-A01",  # a demo acute site: the site now, its standards and SPC charts
    "/sites/DEMO-IUC01",  # the demo's NHS 111 provider: its calls
    "/standards.json",
    "/standards",
    "/standards/ed-4hr.json",
    "/occupancy.json",
    "/forecasts.json",
    "/standards.json?from=0001-01-01",
)


def _timed(client: TestClient, url: str) -> tuple[int, float]:
    t = time.perf_counter()
    status = client.get(url).status_code
    return status, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", required=True)
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    settings = Settings().model_copy(update={"store": args.store, "cache_dir": tempfile.mkdtemp(prefix="uec-cache-")})
    first, second = TestClient(create_app(settings=settings)), TestClient(create_app(settings=settings))
    out = []
    print(f"{'URL':36s} {'status':>6s} {'cold ms':>9s} {'2nd worker ms':>14s} {'median ms':>10s}")
    for url in URLS:
        status, cold = _timed(first, url)
        _, shared = _timed(second, url)
        median = statistics.median(_timed(second, url)[1] for _ in range(args.repeat))
        out.append({"url": url, "status": status, "cold_ms": round(cold * 1000), "shared_ms": round(shared * 1000),
                    "warm_median_ms": round(median * 1000)})
        print(f"{url:36s} {status:6d} {cold * 1000:9.0f} {shared * 1000:14.0f} {median * 1000:10.0f}")
    print(json.dumps({"bench": "web_cache", "results": out}))


if __name__ == "__main__":
    main()
