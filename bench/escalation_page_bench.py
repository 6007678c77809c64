"""How long the system page ``/escalation`` (and an organisation's ``/escalation/{org}``) takes warm,
and where a cold rendering spends its time (issue 13's goal: the system page < 300 ms warm).

The app is built as ``uec serve`` builds it and asked through its whole middleware stack by a
signed-in coordinator (an API token), in-process. Each page is asked once cold (the cache empty),
then ``--repeat`` times warm (median and minimum printed). The parts of one cold computation are
timed separately: the parameters, scores and levels at now (``status``), the sources' freshness,
the current declarations, the open actions, what the last projection says of the next 24 hours,
the trend since midnight; and the first request of each new minute, which computes the page again
(the clock is in its key) with the trend since midnight from the cache.

Run: ``PYTHONPATH=src .venv/bin/python bench/escalation_page_bench.py --store data/uec.duckdb``
(the store made by ``scripts/start``; it is copied, not changed).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _ms(fn: Callable[[], Any], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--store", required=True, help="A demo store (copied, with its jobs store if any).")
    ap.add_argument("--org", default=None, help="Also time this organisation's page (default: the first acute trust).")
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    import httpx

    from uec import feeds
    from uec.access.tokens import create_token
    from uec.escalation import declared, tracked
    from uec.escalation.framework import load_framework
    from uec.escalation.levels import status, trend_since_midnight
    from uec.ics.reference import ICB
    from uec.store import open_store
    from uec.web import create_app
    from uec.web.routes import escalation as routes
    from uec.web.routes.escalation_projection import system_ahead

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "uec.duckdb"
        shutil.copyfile(args.store, path)
        jobs = Path(args.store + ".jobs.duckdb")
        if jobs.exists():
            shutil.copyfile(jobs, str(path) + ".jobs.duckdb")
        store = open_store(str(path))
        token = create_token(store, "bench", role="coordinator", org_code=ICB, days=1)[1]
        fw = load_framework()
        now = dt.datetime.now(dt.UTC)
        s = status(store, now, framework=fw)
        org = args.org or next((o.code for o in s.organisations if o.provider_type == "acute"), s.ics.code)
        print("parts of one computation (best of 3, ms):")
        for name, fn in [
            ("status (parameters, scores, levels)", lambda: status(store, now, framework=fw)),
            ("freshness of sources", lambda: feeds.freshness(store, now)),
            ("current declarations", lambda: declared.current_declarations(store)),
            ("open actions", lambda: tracked.list_actions(store, state="open")),
            ("projected next 24 h", lambda: system_ahead(store)),
            ("trend since midnight", lambda: trend_since_midnight(store, now, framework=fw)),
        ]:
            print(f"  {name:40s} {_ms(fn):8.1f}")

        os.environ["UEC_CACHE_DIR"] = str(Path(tmp) / "cache")
        app = create_app(str(path))

        async def run() -> None:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test",
                                         headers={"Authorization": f"Bearer {token}",
                                                  "Accept-Encoding": "gzip"}) as client:
                for page in ("/escalation", f"/escalation/{org}"):
                    t0 = time.perf_counter()
                    r = await client.get(page)
                    cold = (time.perf_counter() - t0) * 1000
                    assert r.status_code == 200, (page, r.status_code)
                    times = []
                    for _ in range(args.repeat):
                        t0 = time.perf_counter()
                        r = await client.get(page)
                        times.append((time.perf_counter() - t0) * 1000)
                        assert r.status_code == 200
                    print(f"{page}: cold {cold:.0f} ms; warm median {statistics.median(times):.1f} ms, "
                          f"min {min(times):.1f} ms over {args.repeat} ({len(r.content):,} bytes gzipped)")
                # The first request of each later minute: the page is computed again (the clock is in
                # its key), the trend since midnight comes from the cache until the next quarter hour.
                minute = routes._minute()
                for k in range(1, 4):
                    routes._minute = lambda k=k: minute + dt.timedelta(minutes=k)  # type: ignore[misc]
                    t0 = time.perf_counter()
                    assert (await client.get("/escalation")).status_code == 200
                    print(f"/escalation, first request of a new minute ({k}): "
                          f"{(time.perf_counter() - t0) * 1000:.0f} ms")

        asyncio.run(run())


if __name__ == "__main__":
    main()
