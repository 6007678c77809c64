"""Notifications of parameters crossing thresholds: a parameter entering a higher threshold band.

Each refresh (``uec escalation notify``) computes every organisation's parameters and compares
each parameter's level with the last one observed (``escalation_parameter_levels``). A rise
notifies the organisation's subscribers once (the key is the organisation, parameter, level and
instant, so a repeated refresh of the same instant does not notify again) under the existing
cool-down of :func:`uec.escalation.notify.enqueue`. A fall, or the first observation of a
parameter, is recorded without a message: subscribers asked to hear of pressure rising.

>>> import datetime as dt, tempfile, os
>>> from uec.store import open_store
>>> store = open_store(os.path.join(tempfile.mkdtemp(), "uec.duckdb"))
>>> observe_parameters(store, dt.datetime(2024, 7, 10, 12, tzinfo=dt.UTC))
[]
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from uec.config import Settings, get_settings
from uec.escalation import notify, queries
from uec.escalation.framework import Framework, load_framework
from uec.escalation.levels import Assessment, status
from uec.escalation.schema import ensure_escalation_schema, ensure_in
from uec.store import Store

__all__ = ["Crossing", "observe_parameters"]


@dataclass(frozen=True)
class Crossing:
    """A parameter of an organisation that entered a higher threshold band."""

    object_code: str
    parameter_id: str
    before: int | None
    level: int
    value: float | None


def _fmt(value: float | None, unit: str) -> str:
    """A value in its unit, for a message.

    >>> _fmt(0.655, "proportion"), _fmt(25, "minutes"), _fmt(None, "count")
    ('65.5%', '25.0 minutes', 'no value')
    """
    if value is None:
        return "no value"
    if unit == "proportion":
        return f"{100 * value:.1f}%"
    return f"{value:.1f} {unit}" if unit == "minutes" else f"{value:g}"


def observe_parameters(store: Store, at: dt.datetime | None = None, *, framework: Framework | None = None,
                       settings: Settings | None = None) -> list[Crossing]:
    """Record each organisation's parameter levels at ``at`` (default now) where they changed, and
    notify every rise into a higher band; returns the rises. Sending is left to the caller
    (:func:`uec.escalation.notify.send_pending`), as for the other events of a refresh."""
    fw = framework or load_framework()
    settings = settings or get_settings()
    now = dt.datetime.now(dt.UTC)
    s = status(store, at or now, framework=fw)
    ensure_escalation_schema(store)
    rises: list[Crossing] = []
    with store.write() as w:
        ensure_in(w)
        last = queries.last_parameter_levels(w)
        for org in s.organisations:
            risen: list[Assessment] = []
            for a in org.parameters:
                key = (org.code, a.parameter_id)
                if a.level is None and key not in last:
                    continue  # never had a value: nothing to record
                if key in last and last[key] == a.level:
                    continue
                queries.record_parameter_level(w, object_code=org.code, parameter_id=a.parameter_id, level=a.level,
                                               value=a.value, assessed_at=s.at, observed_at=now)
                if key in last and a.level is not None and a.level > (last[key] or 1):
                    risen.append(a)
            # The highest band first: inside the cool-down only the first message of an organisation
            # is sent, so it should be the one that matters most.
            for a in sorted(risen, key=lambda a: -(a.level or 0)):
                assert a.level is not None
                before = last[(org.code, a.parameter_id)] or 1
                rises.append(Crossing(org.code, a.parameter_id, before, a.level, a.value))
                threshold = dict(a.crossed).get(a.level)
                crossed = f" (threshold {_fmt(threshold, a.unit)})" if threshold is not None else ""
                notify.enqueue(
                    w, event="parameter_threshold_crossed", object_code=org.code,
                    key=f"parameter:{org.code}:{a.parameter_id}:{a.level}:{s.at.isoformat()}",
                    subject=f"{org.code} {a.parameter_id} entered OPEL {a.level} (was OPEL {before})",
                    body=f"{org.code}: {a.title} is {_fmt(a.value, a.unit)} at {s.at:%Y-%m-%d %H:%M} UTC, "
                         f"in the OPEL {a.level} band{crossed}; it was OPEL {before}. The organisation is calculated "
                         f"{'no level' if org.level is None else f'OPEL {org.level}'}: {org.why()}",
                    now=now, settings=settings)
    return rises
