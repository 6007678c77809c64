"""Where one warm request of each `bench/web_load.py` page spends its time, in-process (pyinstrument).

The app is built as `uec serve` builds it and asked through its whole middleware stack (sessions,
CSRF, security headers, gzip) by a signed-in viewer with an API token, as the load bench's clients
are. Each page is asked ``--warm`` times first (filling the caches), then timed ``--repeat`` times;
the last ``--profiled`` requests are profiled and its tree printed (or written as HTML with ``--html DIR``). Sync routes
and dependencies run inline instead of in the thread pool, so the profiler (which follows one
thread) sees them.

Run: ``PYTHONPATH=src .venv/bin/python bench/web_profile.py --store /tmp/demo.duckdb`` (pyinstrument is
a development tool: ``pip install pyinstrument``). The store is copied, not changed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from web_load import PAGES


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", required=True, help="A demo store (copied).")
    parser.add_argument("--warm", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--profiled", type=int, default=1, help="Requests profiled together (default 1).")
    parser.add_argument("--html", help="Write each page's profile as HTML into this folder.")
    parser.add_argument("--pages", default=",".join(PAGES))
    args = parser.parse_args()
    import fastapi.dependencies.utils
    import fastapi.routing
    from pyinstrument import Profiler

    from uec.access.tokens import create_token
    from uec.ics.reference import ICB
    from uec.store import open_store
    from uec.web import create_app

    async def inline(func, *a, **kw):  # type: ignore[no-untyped-def]
        return func(*a, **kw)

    fastapi.routing.run_in_threadpool = inline  # type: ignore[assignment]
    fastapi.dependencies.utils.run_in_threadpool = inline  # type: ignore[assignment]

    with tempfile.TemporaryDirectory() as tmp:
        store = str(Path(tmp) / "uec.duckdb")
        shutil.copyfile(args.store, store)
        token = create_token(open_store(store), "profile", role="viewer", org_code=ICB, days=1)[1]
        os.environ["UEC_CACHE_DIR"] = str(Path(tmp) / "cache")
        app = create_app(store)

        async def run() -> None:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test",
                                         headers={"Authorization": f"Bearer {token}",
                                                  "Accept-Encoding": "gzip"}) as client:
                for name in args.pages.split(","):
                    path = PAGES[name]
                    for _ in range(args.warm):
                        assert (await client.get(path)).status_code == 200, path
                    times = []
                    for _ in range(args.repeat):
                        t0 = time.perf_counter()
                        await client.get(path)
                        times.append((time.perf_counter() - t0) * 1000)
                    profiler = Profiler(interval=0.0002, async_mode="enabled")
                    with profiler:
                        for _ in range(args.profiled):
                            r = await client.get(path)
                    print(f"\n=== {name} {path}: {len(r.content):,} bytes, warm median "
                          f"{statistics.median(times):.1f} ms, min {min(times):.1f} ms over {args.repeat}")
                    if args.html:
                        Path(args.html).mkdir(parents=True, exist_ok=True)
                        Path(args.html, f"{name}.html").write_text(profiler.output_html())
                    print(profiler.output_text(unicode=False, color=False, show_all=False))

        asyncio.run(run())

if __name__ == "__main__":
    main()
