"""Long commands show progress and time left on a terminal's stderr, and not with --quiet or --json.

Run in a pseudo-terminal: rich draws a progress bar only where a person is watching.
"""

from __future__ import annotations

import datetime as dt
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest

import uec

SRC = Path(uec.__file__).resolve().parents[1]


def on_a_terminal(args: list[str], cwd: Path) -> tuple[int, str]:
    """Exit status and what ``python -m uec ARGS`` wrote to stderr, stderr being a terminal."""
    leader, follower = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(SRC), "COLUMNS": "120", "TERM": "xterm", "OPENBLAS_NUM_THREADS": "1"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen([sys.executable, "-m", "uec", *args], cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                            stderr=follower, stdin=subprocess.DEVNULL)
    os.close(follower)
    seen = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 120)
        if not ready:
            proc.kill()
            pytest.fail("no output for two minutes")
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the follower side closed: the command ended
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    return proc.wait(timeout=60), seen.decode("utf-8", errors="replace")


@pytest.fixture
def series(tmp_path: Path) -> Path:
    start = dt.date(2024, 1, 1)
    rows = [f"{start + dt.timedelta(days=i)},{100 + (i % 7) * 5}" for i in range(140)]
    path = tmp_path / "series.csv"
    path.write_text("ds,y\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_backtest_shows_progress_and_time_left_unless_quiet(series: Path, tmp_path: Path) -> None:
    args = ["forecast", "backtest", str(series), "--freq", "daily", "--horizon", "7", "--every", "7",
            "--test-from", "2024-03-01", "--test-to", "2024-05-01", "--model", "snaive"]
    code, err = on_a_terminal(args, tmp_path)
    assert code == 0, err
    assert "backtest" in err and "left" in err  # the bar: its title, origins done and the time left
    code, err = on_a_terminal([*args, "--quiet"], tmp_path)
    assert code == 0 and "left" not in err, err
    code, err = on_a_terminal([*args, "--json"], tmp_path)
    assert code == 0 and "left" not in err, err


def test_backtest_of_a_returns_series_shows_progress_and_time_left(tmp_path: Path) -> None:
    # Issue 14 item 7: a backtest on a published return (here the daily sitrep's handover delays,
    # the real file) shows its progress and the time left like any other.
    from uec.ingest import ingest
    from uec.store import open_store

    path = tmp_path / "returns.duckdb"
    ingest(open_store(str(path)), "uec-sitrep",
           Path(__file__).resolve().parents[1] / "data" / "returns" / "handover_delays_england_and_6_trusts.csv.gz")
    args = ["forecast", "backtest", "--series", "returns/day/uec_sitrep/RRK/sitrep_handover_over_60",
            "--store", str(path), "--horizon", "7", "--every", "7", "--test-from", "2023-01-02",
            "--test-to", "2023-03-06", "--model", "snaive"]
    code, err = on_a_terminal(args, tmp_path)
    assert code == 0, err
    assert "backtest" in err and "left" in err
    assert "gaps left as gaps (not zero)" in err  # the summers between winters are not zeros
