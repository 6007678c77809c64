"""Every state change made on the command line writes its audit entry, by ``cli:<operating-system user>``.

Each command runs as people run it (``python -m uec``); the entries are read back from the store's
trails (the embedded store keeps job entries beside its jobs: docs/decisions/0006-audited-jobs.md).
"""

from __future__ import annotations

import getpass
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from uec.access import audit
from uec.store import Store, open_store

sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))
from ingest_bench import make_attendances

UEC = [sys.executable, "-m", "uec"]
ME = f"cli:{getpass.getuser()}"
PARAMS = json.dumps({"scenario": {"name": "more-crews", "changes": {"extra_crews": 5}}, "reps": 1, "days": 1})


def uec(*args: str) -> str:
    r = subprocess.run([*UEC, *args], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    return r.stdout


def entries(store: Store) -> dict[str, list[dict[str, Any]]]:
    """Every trail's entries, oldest first, by action."""
    out: dict[str, list[dict[str, Any]]] = {}
    for _, trail in audit.trails(store):
        for e in audit.entries(trail, newest_first=False):
            out.setdefault(e.action, []).append(e.as_dict())
    return out


def test_loads_purges_jobs_and_subscriptions_are_audited(store: Store, tmp_path: Path) -> None:
    rows = make_attendances(50, seed=4)
    pq.write_table(pa.concat_tables([rows, rows.slice(0, 1)]), tmp_path / "a.parquet")  # one duplicate row
    load = json.loads(uec("ingest", "attendances", str(tmp_path / "a.parquet"), "--store", store.url,
                          "--json").splitlines()[-1])
    uec("quarantine", "purge", "--older-than", "0", "--store", store.url)
    job = json.loads(uec("jobs", "submit", "scenario_run", "--params", PARAMS, "--owner", "ann",
                         "--store", store.url, "--json").splitlines()[-1])
    uec("jobs", "cancel", job["id"], "--store", store.url)
    uec("escalation", "subscribe", "sam", "--org", "RAA", "--email", "sam@example.org", "--store", store.url)

    got = entries(store)
    [loaded] = got["ingest.load"]
    assert (loaded["actor"], loaded["object_type"], loaded["object_id"]) == (ME, "load", str(load["load_id"]))
    assert loaded["after"] | {"file": ""} == {"kind": "attendances", "table": "attendances", "file": "",
                                              "rows_in": 51, "rows_loaded": 50, "rows_quarantined": 1,
                                              "quarantine_purged": 0}
    [purged] = got["quarantine.purge"]
    assert (purged["actor"], purged["after"]) == (ME, {"older_than_days": 0, "rows_deleted": 1})
    [submitted], [cancelled] = got["job.submit"], got["job.cancel"]
    assert (submitted["actor"], submitted["object_id"], submitted["after"]["owner"]) == (ME, job["id"], "ann")
    assert (cancelled["object_id"], cancelled["before"], cancelled["after"]["state"]) == (
        job["id"], {"state": "queued"}, "cancelled")
    [subscribed] = got["escalation.subscribe"]
    assert subscribed["actor"] == ME and subscribed["after"]["channel"] == "email"
    assert "sam@example.org" not in json.dumps(got)  # an address is personal: never in the trail
    r = subprocess.run([*UEC, "audit", "verify", "--store", store.url, "--json"], capture_output=True, text=True)
    assert r.returncode == 0 and json.loads(r.stdout.splitlines()[-1])["ok"] is True, r.stderr
    if store.engine == "duckdb":
        listed = uec("audit", "list", "--trail", "jobs", "--store", store.url, "--json")
        assert [e["action"] for e in json.loads(listed.splitlines()[-1])["entries"]] == ["job.cancel", "job.submit"]
        # An edited entry of the jobs trail is found like one of the store's.
        with dict(audit.trails(store))["jobs"].write() as w:
            w.execute("UPDATE audit_log SET actor = 'someone else' WHERE id = 1")
        r = subprocess.run([*UEC, "audit", "verify", "--store", store.url], capture_output=True, text=True)
        assert r.returncode == 2 and r.stderr.strip().splitlines()[-1] == (
            "error: the audit trail fails verification: 1 problem(s), first: jobs trail: entry 1: content does not "
            "match its hash (edited?)")


def test_the_demo_build_and_a_forecast_run_are_audited(tmp_path: Path) -> None:
    url = str(tmp_path / "uec.duckdb")
    uec("demo", "--days", "2", "--generator", "fast", "--store", url)
    days = pa.table({"ds": [f"2025-01-{d:02d}" for d in range(1, 29)], "y": [float(10 + d % 7) for d in range(28)]})
    import pyarrow.csv as pacsv

    pacsv.write_csv(days, tmp_path / "y.csv")
    uec("forecast", "run", "--input", str(tmp_path / "y.csv"), "--freq", "daily", "--model", "snaive", "--store", url)
    got = entries(open_store(url))
    [demo] = got["demo.build"]
    assert demo["actor"] == ME and demo["after"]["days"] == 2 and demo["after"]["rows"]["bed_states"] > 0
    [run] = got["forecast.run"]
    assert (run["actor"], run["object_type"], run["after"]["model"]) == (ME, "forecast_run", "snaive")
    assert all(v.ok for v in audit.verify_all(open_store(url)).values())
