"""Web load benchmark: 50 concurrent clients on loopback against `uec serve` over a demo store.

Two phases, each printing requests per second and p50/p95/p99 latency per page:

1. **warm**: after one warm-up pass, ``--clients`` clients (raw asyncio streams, one connection each)
   request the overview ``/``, the standards matrix ``/standards``, one standard's page and one
   API endpoint in turn for ``--seconds`` seconds;
2. **during a load**: the same, while ``uec ingest`` loads ``--ingest-rows`` attendances (made as
   bench/ingest_bench.py makes them) into the same store in another process; the phase lasts until
   the load ends (at most ``--max-ingest-seconds``).

Every client is signed in, as a viewer with its own API token (aggregate pages need sign-in).

Goals (issue 11): p95 < 100 ms warm on a 2-core machine; no page's p95 above 1 s while a 1M-row
load runs. The clients run on the same machine as the server, so they take CPU from it: the
figures are a floor for what a separate client machine would see.

Run: ``.venv/bin/python bench/web_load.py --store /tmp/demo.duckdb`` (the store is built with
``uec demo`` when missing, and copied so the load does not change it). The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).parent))
from ingest_bench import make_attendances

UEC = [sys.executable, "-m", "uec"]
PAGES = {
    "overview": "/",
    "standards": "/standards",
    "standard": "/standards/ed-4hr",
    "api": "/api/overview",
}


def _run(coro: Any) -> Any:
    """Run the clients on uvloop when it is installed (it costs the client less CPU), else asyncio."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _loadavg() -> str:
    """The machine's 1-minute load average (the bench shares the machine with whatever else runs)."""
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def _wait_up(base: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/api/health", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"the server at {base} did not come up in {timeout:.0f} s")


#: One API token per client, so every client is a signed-in viewer (aggregate pages need sign-in).
TOKENS: list[str] = []


def _sign_in_clients(store: str, n: int) -> None:
    """Give each of ``n`` clients its own viewer's API token on the demo ICB (written before serving)."""
    from uec.access.tokens import create_token
    from uec.ics.reference import ICB
    from uec.store import open_store

    s = open_store(store)
    TOKENS.clear()
    for i in range(n):
        TOKENS.append(create_token(s, f"web-load-{i}", role="viewer", org_code=ICB, days=1)[1])


def _headers(offset: int = 0) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[offset % len(TOKENS)]}"} if TOKENS else {}


class _Connection:
    """One keep-alive HTTP/1.1 connection, spoken directly over asyncio streams.

    httpx costs the client several milliseconds of CPU per request once 50 clients share one event
    loop, and the clients run on the server's machine: the client, not the server, set the pace. This
    sends what a browser sends (``Accept-Encoding: gzip``, the sign-in) and reads the answer whole
    (by ``Content-Length`` or chunks) without decoding it; the status is checked, the body counted.
    """

    def __init__(self, base: str, headers: dict[str, str]) -> None:
        url = httpx.URL(base)
        self.host, self.port = url.host, url.port or 80
        self.extra = "".join(f"{k}: {v}\r\n" for k, v in {**headers, "Accept-Encoding": "gzip"}.items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> tuple[int, int, bool]:
        """Status, body size and whether the answer is from before the latest load (``X-Data-As-Of``)
        of ``GET path``, reconnecting if the server closed the connection."""
        for attempt in range(2):
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            assert self.reader is not None
            try:
                self.writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{self.extra}\r\n".encode())
                head = await self.reader.readuntil(b"\r\n\r\n")
            except (ConnectionError, asyncio.IncompleteReadError):
                await self.close()
                if attempt:
                    raise
                continue
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split()[1])
            fields = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
            if "content-length" in fields:
                size = int(fields["content-length"])
                await self.reader.readexactly(size)
            elif fields.get("transfer-encoding", "").lower() == "chunked":
                size = 0
                while True:
                    n = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                    await self.reader.readexactly(n + 2)
                    size += n
                    if n == 0:
                        break
            else:
                size = len(await self.reader.read())
                await self.close()
            if fields.get("connection", "").lower() == "close":
                await self.close()
            return status, size, "x-data-as-of" in fields
        raise ConnectionError("the server closed the connection twice")

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


async def _client(base: str, until: float, stop: asyncio.Event, lat: dict[str, list[float]],
                  errors: dict[str, int], offset: int, stale: dict[str, int]) -> None:
    names = list(PAGES)
    conn = _Connection(base, _headers(offset))
    i = offset
    try:
        # Bounded: ends at the deadline or when told to stop.
        while time.monotonic() < until and not stop.is_set():
            name = names[i % len(names)]
            i += 1
            t0 = time.perf_counter()
            try:
                status, _, was_stale = await asyncio.wait_for(conn.get(PAGES[name]), timeout=120)
                ok = status == 200
                stale[name] += was_stale
            except (TimeoutError, OSError, ValueError, asyncio.IncompleteReadError):
                await conn.close()
                ok = False
            elapsed = time.perf_counter() - t0
            if ok:
                lat[name].append(elapsed)
            else:
                errors[name] += 1
    finally:
        await conn.close()


async def _phase(base: str, clients: int, seconds: float, stop: asyncio.Event | None = None) -> dict[str, Any]:
    lat: dict[str, list[float]] = {n: [] for n in PAGES}
    errors = dict.fromkeys(PAGES, 0)
    stop = stop or asyncio.Event()
    loadavg_before = _loadavg()
    t0 = time.monotonic()
    stale = dict.fromkeys(PAGES, 0)
    await asyncio.gather(*(_client(base, t0 + seconds, stop, lat, errors, k, stale) for k in range(clients)))
    wall = time.monotonic() - t0
    out: dict[str, Any] = {"seconds": round(wall, 1), "requests": sum(len(v) for v in lat.values()),
                           "errors": sum(errors.values()), "loadavg_before": loadavg_before,
                           "loadavg_after": _loadavg()}
    out["throughput"] = round(out["requests"] / wall, 1)
    pages = {}
    for name, v in lat.items():
        a = np.array(v) * 1000 if v else np.array([np.nan])
        pages[name] = {"requests": len(v), "per_second": round(len(v) / wall, 1), "errors": errors[name],
                       "stale": stale[name], **{f"p{q}_ms": round(float(np.percentile(a, q)), 1) for q in (50, 95, 99)}}
    out["pages"] = pages
    out["stale"] = sum(stale.values())
    return out


def _print(title: str, r: dict[str, Any]) -> None:
    print(f"\n{title}: {r['requests']} requests in {r['seconds']} s = {r['throughput']} requests/s, "
          f"{r['errors']} errors, {r['stale']} answered from the data before a load (X-Data-As-Of); "
          f"load average {r['loadavg_before']} -> {r['loadavg_after']}")
    print(f"{'page':<10} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7} {'stale':>6}")
    for name, p in r["pages"].items():
        print(f"{name:<10} {p['per_second']:>7} {p['p50_ms']:>8} {p['p95_ms']:>8} {p['p99_ms']:>8} {p['errors']:>7} "
              f"{p['stale']:>6}")


async def _during_ingest(base: str, clients: int, store: str, parquet: Path, cap: float) -> dict[str, Any]:
    proc = await asyncio.create_subprocess_exec(
        *UEC, "ingest", "attendances", str(parquet), "--store", store, "--json",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    stop = asyncio.Event()
    t0 = time.monotonic()

    async def watch() -> tuple[bytes, bytes]:
        out, err = await proc.communicate()
        stop.set()
        return out, err

    watcher = asyncio.create_task(watch())
    result = await _phase(base, clients, cap, stop)
    out, err = await watcher
    result["ingest_seconds"] = round(time.monotonic() - t0, 1)
    result["ingest_exit"] = proc.returncode
    if proc.returncode != 0:
        print(err.decode()[-2000:], file=sys.stderr)
    else:
        result["ingest"] = json.loads(out.decode().strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", default="/tmp/uec-bench/demo.duckdb", help="A demo store (built when missing).")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="Web server processes.")
    parser.add_argument("--ingest-rows", type=int, default=1_000_000)
    parser.add_argument("--max-ingest-seconds", type=float, default=180)
    parser.add_argument("--skip-ingest", action="store_true")
    parser.add_argument("--pages", default=",".join(PAGES),
                        help=f"Which pages, comma-separated (default all: {','.join(PAGES)}).")
    args = parser.parse_args()
    chosen, known = args.pages.split(","), list(PAGES)
    for name in [n for n in known if n not in chosen]:
        del PAGES[name]
    if not PAGES:
        raise SystemExit(f"--pages: choose from {', '.join(known)}")

    demo = Path(args.store)
    if not demo.exists():
        print(f"building the demo store {demo} (once) ...", flush=True)
        demo.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([*UEC, "demo", "--store", str(demo)], check=True, stdout=subprocess.DEVNULL)
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        store = str(d / "uec.duckdb")
        shutil.copyfile(demo, store)
        _sign_in_clients(store, args.clients)
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen([*UEC, "serve", "--store", store, "--port", str(port), "--workers",
                                   str(args.workers), "--no-worker"], stdout=subprocess.DEVNULL, cwd=d)
        try:
            _wait_up(base)
            for path in PAGES.values():  # warm: the first request of each page fills caches
                for _ in range(args.workers * 2):
                    httpx.get(base + path, timeout=300, headers=_headers())
            results: dict[str, Any] = {"clients": args.clients, "workers": args.workers, "cpus": os.cpu_count()}
            results["warm"] = _run(_phase(base, args.clients, args.seconds))
            _print("warm", results["warm"])
            if not args.skip_ingest:
                parquet = d / "attendances.parquet"
                pq.write_table(make_attendances(args.ingest_rows, seed=11), parquet)
                results["during_ingest"] = _run(
                    _during_ingest(base, args.clients, store, parquet, args.max_ingest_seconds))
                r = results["during_ingest"]
                _print(f"during a {args.ingest_rows:,}-row ingest ({r['ingest_seconds']} s, exit {r['ingest_exit']})",
                       r)
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
