"""Killing a change between its audit entry and its commit: the harness the audit and escalation
tests share (a bare-name module: ``tests/`` is on ``sys.path`` because ``tests/conftest.py`` is there).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from uec.store import Store

# The change runs in its own process, pauses after its audit entry is written and before the
# transaction commits, and is killed there with SIGKILL: nothing gets to clean up. The change is
# Python run with `store` (the store at argv[1]) in scope.
_CHANGE = textwrap.dedent("""
    import sys, time, pathlib
    from uec.access import audit
    from uec.store import open_store

    marker = pathlib.Path(sys.argv[2])
    def pause():
        if sys.argv[3] == "pause":
            marker.write_text("paused")
            time.sleep(600)
    audit.before_commit_hook = pause
    store = open_store(sys.argv[1])
    exec(sys.argv[4])
    marker.write_text("done")
""")


def _run_change(store: Store, marker: Path, mode: str, change: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", _CHANGE, store.url, str(marker), mode, change])


def kill_mid_change(store: Store, tmp_path: Path, change: str, *, wait: float = 60) -> None:
    """Run ``change`` in a process killed (SIGKILL) after its audit entry is written, before it
    commits; then run it again to the end. The caller checks the store between the two."""
    marker = tmp_path / "marker"
    marker.unlink(missing_ok=True)
    proc = _run_change(store, marker, "pause", change)
    deadline = time.monotonic() + wait
    while not marker.exists():
        assert proc.poll() is None and time.monotonic() < deadline, "the change did not reach its pause"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL


def finish_change(store: Store, tmp_path: Path, change: str, *, wait: float = 120) -> None:
    """Run ``change`` to the end in its own process (after :func:`kill_mid_change`)."""
    marker = tmp_path / "marker"
    marker.unlink(missing_ok=True)
    proc = _run_change(store, marker, "go", change)
    assert proc.wait(timeout=wait) == 0 and marker.read_text() == "done"
