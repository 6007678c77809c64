"""Notifications of parameters entering a higher threshold band, on both stores, to a real webhook
receiver and a real SMTP server.

The spec ICS (``escalation_fixtures``): at 09:00 A1's mean handover is 10 minutes (i1 only, OPEL 1)
and 12-hour waits 0 of 2 present (OPEL 1); at 14:00 the handover mean is 25 minutes (OPEL 2) and 1 of
4 present has waited over 12 hours (a9, 25%: at or above the OPEL 4 threshold of 20%).
"""

from __future__ import annotations

from collections.abc import Iterator

import escalation_fixtures as fx
import pytest
from loop_helpers import build, smtp_server, webhook_receiver

from uec.config import get_settings
from uec.escalation import notify
from uec.escalation.thresholds import observe_parameters
from uec.store import Store


@pytest.fixture(autouse=True)
def fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("UEC_NOTIFY_COOLDOWN_MINUTES", "30")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_a_parameter_entering_a_higher_band_is_notified_once(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    ics = build(store)
    with smtp_server() as inbox, webhook_receiver() as (url, received):
        monkeypatch.setenv("UEC_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("UEC_SMTP_PORT", str(inbox.port))
        get_settings.cache_clear()
        notify.subscribe(ics, "sam", "A1", "webhook", url)
        notify.subscribe(ics, "tess", "A2", "email", "tess@test.nhs.uk")
        notify.subscribe(ics, "cory", None, "email", "cory@test.nhs.uk")
        # The first look records each parameter's band; nothing to compare with, so no message.
        assert observe_parameters(ics, fx.AT.replace(hour=9)) == []
        rises = {(c.object_code, c.parameter_id): (c.before, c.level) for c in observe_parameters(ics, fx.AT)}
        assert rises == {("A1", "acute-12hr-in-department"): (1, 4), ("A1", "acute-handover-mean"): (1, 2)}
        notify.send_pending(ics)
        # One message per subscriber of A1 (and the whole system): the highest band first; the
        # second crossing falls inside the cool-down and is recorded as suppressed, not sent.
        assert [(r["event"], r["object"], r["subject"]) for r in received] == [
            ("parameter_threshold_crossed", "A1", "A1 acute-12hr-in-department entered OPEL 4 (was OPEL 1)")]
        assert "25.0%" in received[0]["body"] and "threshold 20.0%" in received[0]["body"]
        assert [m["To"] for m in inbox.messages] == ["cory@test.nhs.uk"]
        states = sorted((n.subject.split()[1], n.state) for n in notify.notifications(ics))
        assert states == [("acute-12hr-in-department", "sent"), ("acute-12hr-in-department", "sent"),
                          ("acute-handover-mean", "suppressed"), ("acute-handover-mean", "suppressed")]
        # The same instant again: no change, no message; a fall is recorded without one.
        assert observe_parameters(ics, fx.AT) == []
        assert observe_parameters(ics, fx.AT.replace(hour=9)) == []  # back to OPEL 1: recorded, not notified
        assert len(received) == 1 and len(inbox.messages) == 1
