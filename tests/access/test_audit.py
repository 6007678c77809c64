"""The audit trail on both engines: written with the change, chained, tamper-evident, exported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kill_harness import finish_change, kill_mid_change
from uec.access import User, audit
from uec.access.accounts import add_user, get_user, set_roles
from uec.store import Store

UEC = [sys.executable, "-m", "uec"]


def test_an_entry_commits_with_its_change_or_not_at_all(org_store: Store) -> None:
    actor = User("cat", "Cat", "QXX", frozenset({"coordinator"}))
    with org_store.write() as w:
        e = audit.record(w, actor=actor, action="escalation.declare", object_type="site", object_id="RAA01",
                         before={"level": 2}, after={"level": 3}, request_id="req-12345678")
    assert (e.id, e.prev_hash, e.organisation) == (1, audit.GENESIS, "QXX")
    with pytest.raises(RuntimeError), org_store.write() as w:
        audit.record(w, actor=actor, action="escalation.declare", object_type="site", object_id="RAA01",
                     before={"level": 3}, after={"level": 4}, request_id=None)
        raise RuntimeError("the change failed after its entry was written")
    [stored] = audit.entries(org_store)
    assert stored == e
    assert stored.as_dict()["after"] == {"level": 3} and stored.request_id == "req-12345678"


def _tamper(store: Store, sql: str) -> None:
    with store.write() as w:
        w.execute(sql)


def _three_entries(store: Store) -> None:
    for i in range(3):
        with store.write() as w:
            audit.record(w, actor=None, actor_label="cli:test", action="thing.change", object_type="thing",
                         object_id=str(i), before=None, after={"n": i, "text": "é ünïcode"}, request_id=None)


def test_verify_finds_an_edited_entry(org_store: Store) -> None:
    _three_entries(org_store)
    good = audit.verify(org_store)
    assert good.ok and good.checked == 3 and good.head == audit.entries(org_store)[0].hash
    _tamper(org_store, """UPDATE audit_log SET after_json = '{"n":99}' WHERE id = 2""")
    bad = audit.verify(org_store)
    assert not bad.ok
    assert bad.problems == ("entry 2: content does not match its hash (edited?)",)


def test_verify_finds_a_deleted_entry_and_a_rewritten_chain(org_store: Store) -> None:
    _three_entries(org_store)
    _tamper(org_store, "DELETE FROM audit_log WHERE id = 2")
    assert audit.verify(org_store).problems == (
        "entry 2 missing (deleted?)",
        "entry 3: does not follow the entry before it (prev_hash differs)",
    )


def test_cli_verify_and_export(org_store: Store, tmp_path: Path) -> None:
    _three_entries(org_store)
    r = subprocess.run([*UEC, "audit", "verify", "--store", org_store.url, "--json"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout.splitlines()[-1]) | {"head": "", "trails": {}} == {
        "ok": True, "checked": 3, "head": "", "problems": [], "trails": {}}
    out = tmp_path / "audit.csv"
    r = subprocess.run([*UEC, "audit", "export", "--store", org_store.url, "-o", str(out)], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    lines = out.read_text().splitlines()
    assert lines[0] == ",".join(audit.COLUMNS) and len(lines) == 4
    r = subprocess.run([*UEC, "audit", "export", "--store", org_store.url, "--format", "json"], capture_output=True,
                       text=True)
    assert [e["after"]["n"] for e in json.loads(r.stdout)] == [0, 1, 2]
    _tamper(org_store, "UPDATE audit_log SET actor = 'someone else' WHERE id = 1")
    r = subprocess.run([*UEC, "audit", "verify", "--store", org_store.url], capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines()[-1] == (
        "error: the audit trail fails verification: 1 problem(s), first: entry 1: content does not match its hash "
        "(edited?)"
    )


SET_ROLES = ("from uec.access.accounts import set_roles; "
             "set_roles(store, 'sam', ['coordinator'], actor_label='cli:test')")


def test_killed_mid_change_leaves_neither_change_nor_entry(org_store: Store, tmp_path: Path) -> None:
    add_user(org_store, "sam", display_name="Sam", org_code="RAA", roles=["viewer"])
    kill_mid_change(org_store, tmp_path, SET_ROLES)
    # The roles did not change, and there is no entry saying they did.
    assert get_user(org_store, "sam").roles == {"viewer"}  # type: ignore[union-attr]
    assert [e.action for e in audit.entries(org_store)] == ["user.add"]
    assert audit.verify(org_store).ok
    # The same change left to finish commits both, and the chain goes on from where it was.
    finish_change(org_store, tmp_path, SET_ROLES)
    assert get_user(org_store, "sam").roles == {"coordinator"}  # type: ignore[union-attr]
    assert [e.action for e in audit.entries(org_store)] == ["user.roles", "user.add"]
    assert audit.verify(org_store).ok
    set_roles(org_store, "sam", ["viewer"])
    assert audit.verify(org_store).checked == 3


def test_concurrent_changes_of_one_process_all_commit_and_chain(org_store: Store) -> None:
    import threading

    for i in range(4):
        add_user(org_store, f"u{i}", display_name="U", org_code="RAA", roles=["viewer"])
    errors: list[str] = []

    def work(i: int) -> None:
        for k in range(4):
            try:
                set_roles(org_store, f"u{i}", ["analyst" if k % 2 else "viewer"])
            except Exception as exc:  # collected: the assertion below names them
                errors.append(repr(exc))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    check = audit.verify(org_store)
    assert check.ok and check.checked == 4 + 16


def test_audit_csv_neutralises_formulas_json_and_the_chain_keep_exact_values(
    duck_store: Store, tmp_path: Path
) -> None:
    import csv

    from fastapi.testclient import TestClient

    from uec.access.tokens import create_token
    from uec.web import create_app

    formula = '=HYPERLINK("http://evil.example","x")'
    with duck_store.write() as w:
        audit.record(w, actor=None, actor_label="cli:test", action="thing.change", object_type="thing",
                     object_id=formula, before=None, after={"n": -5}, request_id="@SUM(A1)")
    _, token = create_token(duck_store, "audit-reader", role="admin", org_code="QXX", days=1)

    def cells(text: str) -> dict[str, str]:
        rows = list(csv.DictReader(text.splitlines()))
        return next(r for r in rows if r["action"] == "thing.change")

    with TestClient(create_app(duck_store.url)) as c:
        web = c.get("/audit.csv", headers={"Authorization": f"Bearer {token}"})
        as_json = c.get("/audit.json", headers={"Authorization": f"Bearer {token}"}).json()
    r = subprocess.run([*UEC, "audit", "export", "--store", duck_store.url], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "audit.csv"
    r2 = subprocess.run([*UEC, "export", "audit", "--store", duck_store.url, "-o", str(out)], capture_output=True,
                        text=True)
    assert r2.returncode == 0, r2.stderr
    for text in (web.text, r.stdout, out.read_text()):
        row = cells(text)
        assert (row["object_id"], row["request_id"]) == ("'" + formula, "'@SUM(A1)")
    # The JSON and the stored chain keep the value exactly; the CSV is only a view of it.
    entry = next(e for e in as_json["entries"] if e["action"] == "thing.change")
    assert (entry["object_id"], entry["request_id"]) == (formula, "@SUM(A1)") and as_json["verified"] is True
    assert audit.verify(duck_store).ok


SUBMIT = ("from uec.jobs import submit; submit(store, 'scenario_run', {'scenario': {'name': 'more-crews', "
          "'changes': {'extra_crews': 5}}, 'reps': 1, 'days': 1, 'seed': 3}, owner='ann', actor='cli:test')")


def test_killed_mid_job_submit_leaves_neither_job_nor_entry(org_store: Store, tmp_path: Path) -> None:
    """On the embedded store jobs live in a companion file, audited in that file's own trail
    (docs/decisions/0006-audited-jobs.md); on PostgreSQL in the store. Either way: both or neither."""
    from uec.jobs import list_jobs
    from uec.jobs.table import jobs_store

    kill_mid_change(org_store, tmp_path, SUBMIT)
    trail = jobs_store(org_store)
    assert list_jobs(org_store) == []
    assert [e.action for e in audit.entries(trail)] == []
    assert all(v.ok for v in audit.verify_all(org_store).values())
    finish_change(org_store, tmp_path, SUBMIT)
    [job] = list_jobs(org_store)
    [entry] = [e for e in audit.entries(trail) if e.action == "job.submit"]
    assert (entry.object_id, entry.actor, json.loads(entry.after or "{}")["owner"]) == (job.id, "cli:test", "ann")
    trails = audit.verify_all(org_store)
    assert all(v.ok for v in trails.values())
    assert set(trails) == ({"store", "jobs"} if org_store.engine == "duckdb" else {"store"})
