"""`uec serve` uses every core and brings its job worker, and stops them all on Ctrl+C."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest


def _children(pid: int) -> dict[int, str]:
    """Child processes of ``pid`` and their command lines, from /proc."""
    out: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == pid:
                out[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError, IndexError):
            continue
    return out


# A server started from a terminal has Python's Ctrl+C handler. A test run started in the background
# (`.ci/run &`, nohup, some CI runners) inherits SIGINT *ignored*, and Python then keeps ignoring it,
# as it should for a background job: the Ctrl+C tests would test nothing and hang. So each server is
# started through a small exec that puts SIGINT back to its default first (same pid), in its own
# session, so that a test that fails can kill it with every process it started.
_AS_FROM_A_TERMINAL = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])"
)


def _start(args: list[str], cwd: Path, **kwargs: Any) -> subprocess.Popen[Any]:
    """``python ARGS`` as if started from a terminal, in a new session (see above)."""
    return subprocess.Popen([sys.executable, "-c", _AS_FROM_A_TERMINAL, *args], cwd=cwd, start_new_session=True,
                            **kwargs)


def _kill_all(server: subprocess.Popen[Any]) -> None:
    """Kill the server and everything in its session (its web processes and worker too)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGKILL)
    server.wait(timeout=30)


def test_serve_runs_several_web_processes_and_a_worker(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    store = str(tmp_path / "uec.duckdb")
    server = _start(["-m", "uec", "serve", "--store", store, "--port", str(port), "--workers", "2"], tmp_path,
                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, "the server did not come up"
            time.sleep(0.3)
        answers = [httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=30).status_code for _ in range(20)]
        assert set(answers) == {200}
        kids = _children(server.pid)
        workers = [c for c in kids.values() if " worker " in c and "--parent-pid" in c]
        assert len(workers) == 1, kids
        # Uvicorn's web processes are children of its supervisor (multiprocessing spawn).
        web = [p for p, c in kids.items() if "spawn_main" in c]
        assert len(web) == 2, kids
        everyone = [*kids, server.pid]
    finally:
        server.send_signal(signal.SIGINT)  # Ctrl+C
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            _kill_all(server)
            raise
    deadline = time.monotonic() + 30
    while any(_alive(p) for p in everyone) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [p for p in everyone if _alive(p)], "a child outlived the server"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    # A zombie (exited, not yet reaped by its parent) is not running.
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


# 0.1 and 0.3 s land in the interpreter's start-up and imports: a Ctrl+C at 0.3 s was once ignored
# for over 60 s in CI, its KeyboardInterrupt swallowed by pydantic-core (see uec.interrupts).
@pytest.mark.parametrize("delay", [0.1, 0.3, 1.0, 2.0, 3.5])
def test_ctrl_c_during_start_up_stops_everything(tmp_path: Path, delay: float) -> None:
    """A Ctrl+C at any moment of start-up stops the server, its web processes and its worker."""
    store = str(tmp_path / "uec.duckdb")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = _start(["-m", "uec", "serve", "--store", store, "--port", str(port), "--workers", "2"], tmp_path,
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seen: set[int] = set()
    deadline = time.monotonic() + delay
    while time.monotonic() < deadline and server.poll() is None:
        seen |= set(_children(server.pid))
        time.sleep(0.05)
    seen |= set(_children(server.pid))
    server.send_signal(signal.SIGINT)
    try:
        server.wait(timeout=60)
    except subprocess.TimeoutExpired:
        _kill_all(server)
        raise AssertionError(f"`uec serve` ignored a Ctrl+C {delay} s into its start-up") from None
    stop = time.monotonic() + 30
    while any(_alive(p) for p in seen) and time.monotonic() < stop:
        time.sleep(0.2)
    assert not [p for p in seen if _alive(p)], f"a child outlived a Ctrl+C {delay} s into start-up"


def test_a_swallowed_ctrl_c_still_stops_serve(tmp_path: Path) -> None:
    """A Ctrl+C whose KeyboardInterrupt something swallowed during start-up still stops `uec serve`
    before it starts any process. Deterministic stand-in for the race above: py-spy showed the server
    running on in uvicorn's supervisor after pydantic-core printed "Exception ignored in:
    'SecretStr' ... KeyboardInterrupt" while ``uec.config`` was imported."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    script = (
        "import signal\n"
        "from uec import interrupts\n"
        "interrupts.install()\n"
        "try:\n"
        "    signal.raise_signal(signal.SIGINT)\n"
        "except KeyboardInterrupt:\n"
        "    pass  # swallowed, as pydantic-core did\n"
        "from uec.cli import main\n"
        f"main(['serve', '--store', {str(tmp_path / 'uec.duckdb')!r}, '--port', '{port}', '--workers', '2'])\n"
    )
    server = _start(["-c", script], tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _, errors = server.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        _kill_all(server)  # its web processes would otherwise hold the pipe open for ever
        raise AssertionError("`uec serve` ran on after a swallowed Ctrl+C") from None
    assert server.returncode == 130, errors
    assert "UEC Resilience on" not in errors  # stopped before starting the web processes or the worker
