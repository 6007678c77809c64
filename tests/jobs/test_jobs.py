"""Durable jobs: queued in the store, run by `uec worker`, limited, cancellable, never lost.

Every test runs on both engines (the ``store_url`` fixture). The worker runs in a real process
where a test needs one to die; ``UEC_TEST_PAUSE_IN_JOB`` holds a job open so it can be killed or
cancelled mid-run.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from live_server import free_port
from uec.config import get_settings
from uec.errors import UecError
from uec.jobs import JobLimitError, cancel, get_job, list_jobs, submit
from uec.jobs.worker import recover, run_one
from uec.store import open_store
from uec.system import get_run

UEC = [sys.executable, "-m", "uec"]
SCENARIO: dict[str, Any] = {
    "scenario": {"name": "more-crews", "changes": {"extra_crews": 5}}, "reps": 1, "days": 1, "seed": 3,
}


@pytest.fixture
def limits(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("UEC_JOBS_PER_OWNER", "1")
    monkeypatch.setenv("UEC_JOBS_TOTAL", "2")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


def _wait_for(predicate: Any, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "OPENBLAS_NUM_THREADS": "1", **extra}


def test_a_scenario_run_job_runs_and_saves_its_run(store_url: str) -> None:
    store = open_store(store_url)
    job = submit(store, "scenario_run", SCENARIO, owner="analyst")
    assert (job.state, job.owner, job.progress, job.result) == ("queued", "analyst", None, None)
    done = run_one(store)
    assert done is not None and done.id == job.id
    assert (done.state, done.progress, done.error, done.attempts) == ("done", 1.0, None, 1)
    assert done.result == {"run_id": job.id}
    assert get_run(store, job.id).scenario.name == "more-crews"
    assert run_one(store) is None  # the queue is empty
    assert [j.id for j in list_jobs(store, owner="analyst", kind="scenario_run")] == [job.id]
    assert list_jobs(store, owner="someone-else") == []


def test_wrong_params_are_refused_before_anything_is_queued(store_url: str) -> None:
    store = open_store(store_url)
    with pytest.raises(UecError, match="reps must be from 1 to 50"):
        submit(store, "scenario_run", {**SCENARIO, "reps": 51})
    with pytest.raises(UecError, match="unknown change 'extra_unicorns'"):
        submit(store, "scenario_run", {"scenario": {"name": "x", "changes": {"extra_unicorns": 1}}})
    with pytest.raises(UecError, match="unknown job kind 'backup'"):
        submit(store, "backup", {})
    assert list_jobs(store) == []


def test_a_failing_job_is_failed_with_its_reason(store_url: str) -> None:
    store = open_store(store_url)
    job = submit(store, "forecast_refresh", {})
    done = run_one(store)
    assert done is not None and done.id == job.id
    assert done.state == "failed"
    assert done.error is not None and "no series to forecast" in done.error


def test_limits_per_owner_and_for_everyone(store_url: str, limits: None) -> None:
    store = open_store(store_url)
    first = submit(store, "scenario_run", SCENARIO, owner="a")
    with pytest.raises(JobLimitError, match="a already has 1 jobs queued or running") as owner_limit:
        submit(store, "scenario_run", SCENARIO, owner="a")
    assert (owner_limit.value.scope, owner_limit.value.limit) == ("owner", 1)
    submit(store, "scenario_run", SCENARIO, owner="b")
    with pytest.raises(JobLimitError, match="2 jobs are already queued or running") as total_limit:
        submit(store, "scenario_run", SCENARIO, owner="c")
    assert (total_limit.value.scope, total_limit.value.limit) == ("total", 2)
    # A finished (here: cancelled) job no longer counts.
    cancel(store, first.id, by="a")
    assert submit(store, "scenario_run", SCENARIO, owner="a").state == "queued"
    # Limits given by the caller win over the settings.
    assert submit(store, "scenario_run", SCENARIO, owner="c", limits=(1, 3)).state == "queued"


def test_cancelling_a_queued_job_and_a_finished_one(store_url: str) -> None:
    store = open_store(store_url)
    job = submit(store, "scenario_run", SCENARIO)
    cancelled = cancel(store, job.id, by="coordinator")
    assert cancelled.state == "cancelled" and cancelled.finished_at is not None
    assert "cancelled by coordinator" in (cancelled.message or "")
    assert run_one(store) is None  # a worker never runs it
    with pytest.raises(UecError, match="already cancelled"):
        cancel(store, job.id)
    with pytest.raises(UecError, match="no job with id 'nope'"):
        cancel(store, "nope")


def _worker(store_url: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen([*UEC, "worker", "--once", "--store", store_url], env=_env(**env),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def _until_paused(proc: subprocess.Popen[str]) -> None:
    assert proc.stdout is not None
    seen = ""
    deadline = time.monotonic() + 120
    while "pausing in job" not in seen and time.monotonic() < deadline and proc.poll() is None:
        seen += proc.stdout.readline()
    assert "pausing in job" in seen, (seen, proc.stderr.read() if proc.stderr else "")


def test_cancelling_a_running_job_stops_it_at_its_next_step(store_url: str) -> None:
    store = open_store(store_url)
    job = submit(store, "scenario_run", SCENARIO)
    proc = _worker(store_url, UEC_TEST_PAUSE_IN_JOB="60")
    try:
        _until_paused(proc)
        asked = cancel(store, job.id, by="coordinator")
        assert asked.state == "running" and asked.cancel_requested
        assert proc.wait(timeout=60) == 0
    finally:
        proc.kill()
    after = get_job(store, job.id)
    assert after is not None and after.state == "cancelled" and after.finished_at is not None
    with pytest.raises(UecError):
        get_run(store, job.id)  # nothing was saved


def test_a_worker_killed_mid_job_leaves_a_clear_state(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    store = open_store(store_url)
    job = submit(store, "scenario_run", SCENARIO)
    proc = _worker(store_url, UEC_TEST_PAUSE_IN_JOB="60")
    _until_paused(proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    left = get_job(store, job.id)
    assert left is not None and left.state == "running" and left.worker == f"{socket.gethostname()}:{proc.pid}"
    # The next worker to start sees that process is gone and puts the job back with the reason ...
    (requeued,) = recover(store)
    assert requeued.state == "queued" and requeued.worker is None
    assert f"the worker {left.worker} stopped while running it (its process ended)" in (requeued.message or "")
    # ... and after the last allowed attempt, fails it with the reason instead.
    proc = _worker(store_url, UEC_TEST_PAUSE_IN_JOB="60")
    _until_paused(proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    (failed,) = recover(store)
    assert failed.state == "failed" and failed.attempts == 2
    assert "stopped" in (failed.error or "") and "on each of 2 attempts; not tried again" in (failed.error or "")
    assert run_one(store) is None


def test_a_job_survives_a_server_restart(store_url: str, tmp_path: Path) -> None:
    store = open_store(store_url)
    job = submit(store, "scenario_run", SCENARIO, owner="analyst")
    # `uec serve` runs a worker beside the web app; the job starts, then the whole server dies.
    port = free_port()
    server = subprocess.Popen(
        [*UEC, "serve", "--store", store_url, "--port", str(port), "--workers", "1"],
        env=_env(UEC_TEST_PAUSE_IN_JOB="120"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        start_new_session=True, cwd=tmp_path,
    )
    try:
        _wait_for(lambda: (j := get_job(store, job.id)) is not None and j.state == "running", "the job to start")
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=30)
    assert (j := get_job(store, job.id)) is not None and j.state == "running"
    # A worker started afterwards finds the job its dead predecessor left and completes it.
    done = subprocess.run([*UEC, "worker", "--once", "--store", store_url], env=_env(), capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "was left running by a stopped worker: now queued" in done.stderr
    after = get_job(store, job.id)
    assert after is not None and (after.state, after.attempts, after.result) == ("done", 2, {"run_id": job.id})
    assert get_run(store, job.id).scenario.name == "more-crews"


def test_jobs_cli(store_url: str) -> None:
    def uec(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*UEC, *args, "--store", store_url], env=_env(), capture_output=True, text=True,
                              timeout=300)

    queued = uec("jobs", "submit", "forecast_refresh", "--params", "{}", "--owner", "me", "--json")
    assert queued.returncode == 0, queued.stderr
    job_id = queued.stdout.strip().splitlines()[-1].split('"id": "')[1].split('"')[0]
    assert f'"id": "{job_id}"' in uec("jobs", "list", "--json").stdout.splitlines()[-1]
    shown = uec("jobs", "show", job_id, "--json")
    assert '"state": "queued"' in shown.stdout.splitlines()[-1]
    assert "cancelled" in uec("jobs", "cancel", job_id).stdout
    again = uec("jobs", "cancel", job_id)
    assert again.returncode == 2 and again.stderr.startswith("error: job ") and len(again.stderr.splitlines()) == 1
    bad = uec("jobs", "submit", "scenario_run", "--params", "{not json")
    assert bad.returncode == 2 and bad.stderr.startswith("error: --params is not JSON")
    assert uec("worker", "--once").stdout.strip() == "ran 0 jobs"


def test_a_worker_stopped_with_sigterm_puts_its_job_back(store_url: str) -> None:
    store = open_store(store_url)
    job = submit(store, "scenario_run", SCENARIO)
    proc = _worker(store_url, UEC_TEST_PAUSE_IN_JOB="60")
    try:
        _until_paused(proc)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 130
    finally:
        proc.kill()
    back = get_job(store, job.id)
    assert back is not None and (back.state, back.attempts, back.worker) == ("queued", 0, None)
    assert f"the worker {socket.gethostname()}:{proc.pid} was stopped while running it" in (back.message or "")
