"""``uec escalation declare|actions|action|subscribe|notify`` and the action cards as data."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from loop_helpers import build, webhook_receiver

from uec.access import audit
from uec.errors import UecError
from uec.escalation import declared, notify, tracked
from uec.escalation.tracked import _parse, load_cards
from uec.store import open_store

UEC = [sys.executable, "-m", "uec", "escalation"]
AT = "2024-07-10T14:00"


def uec(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*UEC, *args], capture_output=True, text=True, timeout=300)


def test_declare_list_and_close_actions_on_the_command_line(tmp_path: Path) -> None:
    store = build(open_store(str(tmp_path / "uec.duckdb")))
    url = store.url
    r = uec("declare", "A1", "3", "--as", "sam", "--at", AT, "--store", url, "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert (out["declaration"]["level"], out["declaration"]["declared_by"]) == (3, "sam")
    # Errors: one `error:` line, status 2.
    r = uec("declare", "A1", "4", "--as", "sam", "--at", AT, "--store", url)
    assert r.returncode == 2 and r.stderr.strip().splitlines()[-1] == (
        "error: a reason is required: the declared level (OPEL 4) differs from the calculated one (OPEL 3)")
    r = uec("declare", "A1", "3", "--as", "tess", "--at", AT, "--store", url)
    assert r.returncode == 2 and r.stderr.strip().splitlines()[-1] == "error: tess may not declare escalation for A1"
    r = uec("declare", "A1", "7", "--as", "sam", "--store", url)
    assert r.returncode == 2 and "a level is 1, 2, 3 or 4" in r.stderr
    r = uec("actions", "--org", "A1", "--store", url, "--json")
    acts = json.loads(r.stdout.strip().splitlines()[-1])
    assert acts and {a["owner_org"] for a in acts} == {"A1"} and {a["state"] for a in acts} == {"open"}
    r = uec("action", "done", acts[0]["id"], "--note", "huddle held", "--as", "sam", "--store", url)
    assert r.returncode == 0 and "done" in r.stdout
    r = uec("action", "not-applicable", acts[1]["id"], "--reason", "no SDEC here", "--store", url)
    assert r.returncode == 0
    assert audit.entries(store)[0].actor.startswith("cli")
    r = uec("action", "done", "nope", "--note", "x", "--store", url)
    assert r.returncode == 2 and r.stderr.strip().splitlines()[-1].startswith("error: no action 'nope'")
    r = uec("actions", "--store", url)
    assert r.returncode == 0 and "OPEL" in r.stdout
    # The system, by the command line without --as (audited as cli:<user>).
    r = uec("declare", "system", "3", "--reason", "system call", "--at", AT, "--store", url)
    assert r.returncode == 0 and declared.current_declarations(store)["ICB"].level == 3


def test_subscribe_and_notify_commands(tmp_path: Path) -> None:
    store = build(open_store(str(tmp_path / "uec.duckdb")))
    with webhook_receiver() as (hook, received):
        r = uec("subscribe", "cory", "--webhook", hook, "--store", store.url)
        assert r.returncode == 0 and "the whole system" in r.stdout
        r = uec("subscribe", "cory", "--store", store.url)
        assert r.returncode == 2 and "exactly one of --email and --webhook" in r.stderr
        assert uec("notify", "--at", "2024-06-10T14:00", "--store", store.url).returncode == 0
        r = uec("notify", "--at", AT, "--store", store.url)
        assert r.returncode == 0 and "calculated level change" in r.stdout
        assert {x["event"] for x in received} == {"calculated_level_change"}
        assert [s.channel for s in notify.subscriptions(store)] == ["webhook"]


def test_action_cards_are_data_with_their_reasoning() -> None:
    cards = load_cards()
    assert cards.framework == "opel-2024-26" and cards.verified is False and "placeholders" in cards.reasoning
    for group in ("acute", "community", "mental_health", "nhs111", "system"):
        for level in (2, 3, 4):
            assert cards.for_level(group, level), (group, level)
    assert {c.role for c in cards.for_level("system", 3)} == {"ics", "region"}
    ids = [c.id for g in cards.cards.values() for lv in g.values() for cs in lv.values() for c in cs]
    assert len(ids) == len(set(ids))
    with pytest.raises(UecError, match="unknown role 'ward'"):
        _parse({"framework": "x", "verified": True, "cards": {"acute": {3: {"ward": []}}}})
    with pytest.raises(UecError, match="reasoning"):
        _parse({"framework": "x", "verified": False, "cards": {}})
    assert tracked.ROLE_OWNERS["provider"] == "site_manager"
