"""Declared levels, tracked actions and notifications, on both stores.

The store is the spec's hand-made ICS (``escalation_fixtures``): at 2024-07-10 14:00 acute trust A1
is calculated at OPEL 3 (score 70.8), A2 at OPEL 1, the ICS (ICB) at OPEL 2.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import escalation_fixtures as fx
import pytest
from loop_helpers import build, smtp_server, webhook_receiver

from kill_harness import finish_change, kill_mid_change
from uec.access import audit
from uec.access.accounts import get_user
from uec.access.user import User
from uec.config import get_settings
from uec.errors import UecError
from uec.escalation import declared, notify, tracked
from uec.store import Store


@pytest.fixture(autouse=True)
def fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("UEC_NOTIFY_COOLDOWN_MINUTES", "30")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def ics(store: Store) -> Store:
    return build(store)


def person(store: Store, name: str) -> User:
    rec = get_user(store, name)
    assert rec is not None
    return rec.user


def test_site_manager_declares_and_the_rise_opens_the_levels_actions(ics: Store) -> None:
    sam = person(ics, "sam")
    done = declared.declare(ics, "A1", 3, actor=sam, assessed_at=fx.AT)
    d = done.declaration
    assert (d.object_code, d.level, d.previous_level, d.calculated_level, d.calculated_score, d.reason) == (
        "A1", 3, None, 3, 70.8, None)
    # From no declaration (OPEL 1) to OPEL 3: the acute cards of levels 2 and 3, provider and ICS roles.
    cards = tracked.load_cards()
    expected = {c.id for lv in (2, 3) for c in cards.for_level("acute", lv)}
    assert {a.card_id for a in done.opened} == expected
    owners = {a.card_id: (a.owner_org, a.owner_role) for a in done.opened}
    assert owners["acute-3-handover"] == ("A1", "site_manager")
    assert owners["acute-3-ics-mutual-aid"] == ("ICB", "coordinator")
    handover = next(a for a in done.opened if a.card_id == "acute-3-handover")
    assert handover.due_at - handover.created_at == dt.timedelta(minutes=60)
    # Stored, and audited in the same change.
    assert declared.current_declarations(ics)["A1"].level == 3
    assert len(tracked.list_actions(ics, object_code="A1", state="open")) == len(expected)
    e = audit.entries(ics)[0]
    assert (e.action, e.actor, e.object_id) == ("escalation.declare", "sam", "A1")
    assert audit.verify(ics).ok


def test_a_declaration_that_differs_needs_a_reason_and_stepping_down_closes_actions(ics: Store) -> None:
    sam = person(ics, "sam")
    with pytest.raises(UecError, match=r"a reason is required: the declared level \(OPEL 4\) differs from the "
                                        r"calculated one \(OPEL 3\)"):
        declared.declare(ics, "A1", 4, actor=sam, assessed_at=fx.AT)
    assert declared.declarations(ics) == []
    declared.declare(ics, "A1", 4, reason="two wards closed for infection", actor=sam, assessed_at=fx.AT)
    opened = tracked.list_actions(ics, object_code="A1", state="open")
    assert {a.level for a in opened} == {2, 3, 4}
    down = declared.declare(ics, "A1", 2, reason="wards reopened", actor=sam, assessed_at=fx.AT)
    assert down.closed == len([a for a in opened if a.level > 2]) and down.opened == ()
    closed = tracked.list_actions(ics, object_code="A1", state="closed")
    assert {a.level for a in closed} == {3, 4}
    assert all(a.note == "stood down: level stepped down to OPEL 2" and a.closed_by == "sam" for a in closed)
    assert {a.level for a in tracked.list_actions(ics, object_code="A1", state="open")} == {2}
    assert [d.level for d in declared.declarations(ics, "A1")] == [2, 4]


def test_who_may_declare(ics: Store) -> None:
    tess, cory = person(ics, "tess"), person(ics, "cory")
    with pytest.raises(UecError, match="tess may not declare escalation for A1"):
        declared.declare(ics, "A1", 3, actor=tess, assessed_at=fx.AT)
    with pytest.raises(UecError, match="tess may not declare escalation for the system"):
        declared.declare(ics, "system", 2, actor=tess, assessed_at=fx.AT)
    # The coordinator declares for the system (the ICS is calculated at OPEL 2) and for any trust.
    sys_done = declared.declare(ics, "system", 3, reason="pressure across the patch", actor=cory,
                                assessed_at=fx.AT)
    assert (sys_done.declaration.scope, sys_done.declaration.object_code) == ("system", "ICB")
    assert {a.card_id for a in sys_done.opened} >= {"system-3-all-actions", "system-3-region"}
    assert all(a.owner_org == "ICB" for a in sys_done.opened)
    declared.declare(ics, "A2", 1, actor=cory, assessed_at=fx.AT)
    assert set(declared.current_declarations(ics)) == {"ICB", "A2"}
    with pytest.raises(UecError, match="unknown organisation 'ZZZ'"):
        declared.declare(ics, "ZZZ", 2, reason="x", actor=cory, assessed_at=fx.AT)


def test_actions_are_marked_done_or_not_applicable_audited(ics: Store) -> None:
    sam, tess = person(ics, "sam"), person(ics, "tess")
    opened = declared.declare(ics, "A1", 3, actor=sam, assessed_at=fx.AT).opened
    own = [a for a in opened if a.owner_org == "A1"]
    ics_owned = next(a for a in opened if a.owner_org == "ICB")
    done = tracked.resolve(ics, own[0].id, "done", "huddle held at 14:10", actor=sam)
    assert (done.state, done.note, done.closed_by) == ("done", "huddle held at 14:10", "sam")
    na = tracked.resolve(ics, own[1].id, "not_applicable", "no SDEC on this site", actor=sam)
    assert na.state == "not_applicable"
    with pytest.raises(UecError, match="already done"):
        tracked.resolve(ics, own[0].id, "done", "again", actor=sam)
    with pytest.raises(UecError, match="say what was done"):
        tracked.resolve(ics, own[2].id, "done", "  ", actor=sam)
    with pytest.raises(UecError, match="sam may not manage actions owned by ICB"):
        tracked.resolve(ics, ics_owned.id, "done", "not mine", actor=sam)
    with pytest.raises(UecError, match="tess may not manage actions owned by A1"):
        tracked.resolve(ics, own[2].id, "done", "not mine", actor=tess)
    actions = [e.action for e in audit.entries(ics)[:2]]
    assert actions == ["escalation.action.not_applicable", "escalation.action.done"]


def test_overdue_actions_stand_out_and_notify_once(ics: Store) -> None:
    sam = person(ics, "sam")
    with webhook_receiver() as (url, received):
        notify.subscribe(ics, "sam", "A1", "webhook", url)
        opened = declared.declare(ics, "A1", 3, actor=sam, assessed_at=fx.AT).opened
        assert [r["event"] for r in received] == ["declared_level_change"]
        later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=61)
        late = [a for a in tracked.list_actions(ics, state="open") if a.overdue(later)]
        assert {a.card_id for a in late} == {a.card_id for a in opened if a.due_at < later}
        assert declared.check_overdue(ics, later) == len(late)
        # The first is sent (the declaration's message was an hour before, past the cool-down); the
        # rest fall inside the first's cool-down: recorded, not sent.
        assert [r["event"] for r in received] == ["declared_level_change", "action_overdue"]
        states = sorted(n.state for n in notify.notifications(ics) if n.event == "action_overdue")
        assert len(late) > 1 and states == ["sent"] + ["suppressed"] * (len(late) - 1)
        # Asked again: no new rows (one per change).
        declared.check_overdue(ics, later)
        assert len([n for n in notify.notifications(ics) if n.event == "action_overdue"]) == len(late)


def test_email_to_a_real_smtp_server_and_webhook_to_a_real_receiver(ics: Store, monkeypatch: pytest.MonkeyPatch
                                                                    ) -> None:
    with smtp_server() as inbox, webhook_receiver() as (url, received):
        monkeypatch.setenv("UEC_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("UEC_SMTP_PORT", str(inbox.port))
        monkeypatch.setenv("UEC_SMTP_FROM", "opel@test.nhs.uk")
        get_settings.cache_clear()
        notify.subscribe(ics, "cory", None, "email", "cory@test.nhs.uk")
        notify.subscribe(ics, "sam", "A1", "webhook", url)
        notify.subscribe(ics, "tess", "A2", "email", "tess@test.nhs.uk")
        declared.declare(ics, "A1", 3, actor=person(ics, "sam"), assessed_at=fx.AT)
        assert [(m["To"], m["Subject"]) for m in inbox.messages] == [
            ("cory@test.nhs.uk", "A1 declared OPEL 3 (was no level)")]
        assert inbox.messages[0]["From"] == "opel@test.nhs.uk"
        assert "sam declared A1 at OPEL 3" in str(inbox.messages[0].get_payload())
        assert [(r["event"], r["object"]) for r in received] == [("declared_level_change", "A1")]
        assert {n.state for n in notify.notifications(ics)} == {"sent"}
        # A second change inside the cool-down is recorded but not sent (no storm).
        declared.declare(ics, "A1", 2, reason="easing", actor=person(ics, "sam"), assessed_at=fx.AT)
        assert len(inbox.messages) == 1 and len(received) == 1
        assert [n.state for n in notify.notifications(ics)][-2:] == ["suppressed", "suppressed"]


def test_a_failed_send_is_recorded_without_the_address(ics: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UEC_SMTP_PORT", "9")  # nothing listens on the discard port
    get_settings.cache_clear()
    notify.subscribe(ics, "cory", None, "email", "cory@test.nhs.uk")
    declared.declare(ics, "A1", 3, actor=person(ics, "sam"), assessed_at=fx.AT)
    (n,) = notify.notifications(ics)
    assert n.state == "failed" and n.error == "ConnectionRefusedError"


def test_calculated_level_changes_are_observed_and_notified(ics: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UEC_ESCALATION_ACTIONS_ON_CALCULATED", "true")
    get_settings.cache_clear()
    with webhook_receiver() as (url, received):
        notify.subscribe(ics, "cory", None, "webhook", url)
        # The first look records every level; nothing to compare with, so no message.
        assert declared.observe(ics, fx.AT - dt.timedelta(days=30)) == []
        assert received == []
        # A month later A1 (no data then) is at OPEL 3: a change, notified, its rise's actions opened.
        changes = dict((c, (b, a)) for c, b, a in declared.observe(ics, fx.AT))
        assert changes["A1"] == (None, 3)
        assert ("calculated_level_change", "A1") in [(r["event"], r["object"]) for r in received]
        calc = tracked.list_actions(ics, object_code="A1")
        assert calc and {a.origin for a in calc} == {"calculated"}
        # Observed again at the same instant: no change, no message.
        n = len(received)
        assert declared.observe(ics, fx.AT) == [] and len(received) == n


# The declaration runs in its own process (tests/kill_harness.py), pauses once everything is
# written (the audit entry last) and before the commit, and is killed there with SIGKILL.
DECLARE = ("import datetime as dt; from zoneinfo import ZoneInfo; "
           "from uec.access.accounts import get_user; from uec.escalation import declared; "
           "declared.declare(store, 'A1', 3, actor=get_user(store, 'sam').user, "
           "assessed_at=dt.datetime(2024, 7, 10, 14, 0, tzinfo=ZoneInfo('Europe/London')))")


def _counts(store: Store) -> tuple[int, int, int]:
    return (len(declared.declarations(store)), len(tracked.list_actions(store)),
            sum(e.action == "escalation.declare" for e in audit.entries(store)))


def test_killed_mid_declaration_leaves_all_or_nothing(ics: Store, tmp_path: Path) -> None:
    declared.declarations(ics)  # the tables exist before the child process starts
    kill_mid_change(ics, tmp_path, DECLARE, wait=120)
    assert _counts(ics) == (0, 0, 0)
    assert audit.verify(ics).ok
    finish_change(ics, tmp_path, DECLARE, wait=180)
    n_actions = len(tracked.load_cards().for_level("acute", 2)) + len(tracked.load_cards().for_level("acute", 3))
    assert _counts(ics) == (1, n_actions, 1)
    assert audit.verify(ics).ok
