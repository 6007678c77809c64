"""Declared levels: a person's call on an organisation's (or the system's) OPEL level, beside the
calculated one; and the loop that follows it (tracked actions, notifications).

A ``site_manager`` declares their own organisation's level, a ``coordinator`` any organisation's or
the system's (``uec.access`` permission ``declare_escalation``). A declaration that differs from
the calculated level needs a reason. :func:`declare` writes, in **one** transaction, the
declaration, the tracked actions a rise opens (or the closing of those a step down ends), the
notifications to send and the audit entry: all of them commit or none does. The notifications are
sent after the commit (:func:`uec.escalation.notify.send_pending`).

:func:`observe` does the same for calculated levels (called by ``uec escalation notify`` from a
worker or cron every refresh): it records each change of a calculated level, notifies, and, when
``Settings.escalation_actions_on_calculated`` is on, opens the actions of a rise.
:func:`check_overdue` notifies once for each open action past its due time.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from uec.access import audit
from uec.access.permissions import allowed
from uec.access.user import User
from uec.config import Settings, get_settings
from uec.errors import UecError
from uec.escalation import notify, queries, tracked
from uec.escalation.framework import Framework, load_framework
from uec.escalation.levels import Score, Status, status
from uec.escalation.schema import ensure_escalation_schema, ensure_in
from uec.store import Store

__all__ = [
    "SYSTEM",
    "Declaration",
    "Declared",
    "check_overdue",
    "current_declarations",
    "declarations",
    "declare",
    "loop_version",
    "observe",
    "org_name",
    "provider_type_of",
    "sites_of",
]

#: What the command line and the web call the ICS as a whole.
SYSTEM = "system"

# The contract's organisation types that report OPEL, and their provider type (pillar).
_ORG_TYPES = {"acute_trust": "acute", "community_provider": "community", "mental_health_trust": "mental_health",
              "nhs111_provider": "nhs111"}


@dataclass(frozen=True)
class Declaration:
    """One declared level, as stored."""

    id: str
    scope: str
    object_code: str
    provider_type: str | None
    level: int
    previous_level: int | None
    calculated_level: int | None
    calculated_score: float | None
    calculated_at: dt.datetime | None
    reason: str | None
    declared_by: str
    declared_at: dt.datetime
    framework: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "scope": self.scope, "object": self.object_code, "provider_type": self.provider_type,
            "level": self.level, "previous_level": self.previous_level, "calculated_level": self.calculated_level,
            "calculated_score": self.calculated_score,
            "calculated_at": self.calculated_at.isoformat() if self.calculated_at else None,
            "reason": self.reason, "declared_by": self.declared_by, "declared_at": self.declared_at.isoformat(),
            "framework": self.framework,
        }


@dataclass(frozen=True)
class Declared:
    """What :func:`declare` did: the declaration, the actions it opened and how many it closed."""

    declaration: Declaration
    opened: tuple[tracked.TrackedAction, ...]
    closed: int
    notifications: int


def _utc(v: Any) -> Any:
    return v.astimezone(dt.UTC) if isinstance(v, dt.datetime) else v


def _declaration(r: dict[str, Any]) -> Declaration:
    return Declaration(
        r["id"], r["scope"], r["object_code"], r["provider_type"], int(r["level"]),
        None if r["previous_level"] is None else int(r["previous_level"]),
        None if r["calculated_level"] is None else int(r["calculated_level"]),
        r["calculated_score"], _utc(r["calculated_at"]), r["reason"], r["declared_by"], _utc(r["declared_at"]),
        r["framework"])


def declarations(store: Store, object_code: str | None = None, *, limit: int | None = None) -> list[Declaration]:
    """Declarations, newest first (all, or of one organisation or the ICS's code)."""
    ensure_escalation_schema(store)
    return [_declaration(r) for r in queries.declaration_rows(store, object_code, limit)]


def loop_version(store: Store) -> tuple[str, ...]:
    """A value that changes whenever a declaration is made or a tracked action opens, is resolved or
    closes (the data version does not cover these tables): a page showing them keys its cache on it.

    >>> import tempfile, os
    >>> from uec.store import open_store
    >>> s = open_store(os.path.join(tempfile.mkdtemp(), "uec.duckdb"))
    >>> loop_version(s)[:3]
    ('0', 'None', '0')
    """
    ensure_escalation_schema(store)
    return tuple(str(v) for v in queries.loop_stamp(store).values())


def current_declarations(store: Store) -> dict[str, Declaration]:
    """The latest declaration of each organisation (and of the ICS, under its code)."""
    out: dict[str, Declaration] = {}
    for d in reversed(declarations(store)):
        out[d.object_code] = d
    return out


def provider_type_of(store: Store, org_code: str, s: Status) -> str | None:
    """An organisation's provider type: from its score, else from its type in ``organisations``.

    Raises :class:`UecError` for an organisation the store does not know.
    """
    for o in s.organisations:
        if o.code == org_code:
            return o.provider_type
    org_type = queries.org_type(store, org_code)
    if org_type is None:
        raise UecError(f"unknown organisation {org_code!r}")
    return _ORG_TYPES.get(org_type)


def org_name(store: Store, code: str) -> str | None:
    """An organisation's name from ``organisations``, or ``None``."""
    return queries.org_name(store, code)


def sites_of(store: Store, code: str) -> set[str]:
    """The site codes of an organisation."""
    return queries.site_codes_of(store, code)


def _target(store: Store, code: str, s: Status) -> tuple[str, str, str | None, Score | None]:
    """(scope, object code, provider type, calculated score) of ``code`` (an organisation, or
    ``system`` / the ICS code)."""
    if code in (SYSTEM, s.ics.code):
        return SYSTEM, s.ics.code, None, s.ics
    pt = provider_type_of(store, code, s)
    score = next((o for o in s.organisations if o.code == code), None)
    return "org", code, pt, score


def _level(v: int | None) -> str:
    return "no level" if v is None else f"OPEL {v}"


def declare(  # noqa: PLR0913 - keyword-only facts of one declaration, each named at the call
    store: Store,
    code: str,
    level: int,
    *,
    reason: str | None = None,
    actor: User | None = None,
    actor_label: str | None = None,
    assessed_at: dt.datetime | None = None,
    framework: Framework | None = None,
    request_id: str | None = None,
    settings: Settings | None = None,
    send: bool = True,
) -> Declared:
    """Declare ``code``'s level (an organisation's ODS code, or ``system``); see the module docstring.

    ``assessed_at`` is the instant whose calculated level the declarer was shown (default now).
    ``actor`` ``None`` is the command line or the system, named by ``actor_label``. ``send`` sends
    the notifications right after the commit.
    """
    if level not in (1, 2, 3, 4):
        raise UecError(f"a level is 1, 2, 3 or 4 (OPEL 1 to OPEL 4), not {level}")
    fw = framework or load_framework()
    settings = settings or get_settings()
    now = dt.datetime.now(dt.UTC)
    s = status(store, assessed_at or now, framework=fw)
    scope, object_code, provider_type, calc = _target(store, code, s)
    if actor is not None and not allowed(actor, "declare_escalation", None if scope == SYSTEM else object_code):
        raise UecError(f"{actor.username} may not declare escalation for "
                       f"{'the system' if scope == SYSTEM else object_code}")
    calc_level = calc.level if calc else None
    reason = (reason or "").strip() or None
    if level != calc_level and reason is None:
        raise UecError(f"a reason is required: the declared level (OPEL {level}) differs from the calculated one "
                       f"({_level(calc_level)})")
    by = actor.username if actor is not None else (actor_label or "system")
    ensure_escalation_schema(store)
    with audit.writing(store) as w:
        ensure_in(w)
        previous = queries.last_declared_level(w, object_code)
        d = Declaration(uuid.uuid4().hex[:12], scope, object_code, provider_type, level, previous, calc_level,
                        calc.score if calc else None, (assessed_at or now).astimezone(dt.UTC), reason, by, now, fw.id)
        queries.insert_declaration(w, dict(d.__dict__))
        base = previous or 1
        opened: list[tracked.TrackedAction] = []
        closed = 0
        if level > base:
            opened = tracked.open_for_rise(w, scope=scope, object_code=object_code, provider_type=provider_type,
                                           ics_code=s.ics.code, from_level=base, to_level=level, origin="declared",
                                           declaration_id=d.id, now=now)
        elif level < base:
            closed = tracked.close_for_step_down(w, object_code=object_code, to_level=level, by=by, now=now)
        what = "the system" if scope == SYSTEM else object_code
        subject = f"{what} declared OPEL {level} (was {_level(previous)})"
        body = (f"{by} declared {what} at OPEL {level} at {now:%Y-%m-%d %H:%M} UTC; previously {_level(previous)}; "
                f"calculated {_level(calc_level)}" + (f" (score {calc.score:.1f})" if calc and calc.score is not None
                                                      else "")
                + (f".\nReason: {reason}" if reason else ".")
                + (f"\n{len(opened)} action(s) opened." if opened else "")
                + (f"\n{closed} open action(s) closed." if closed else ""))
        queued = notify.enqueue(w, event="declared_level_change", object_code=object_code, key=f"declaration:{d.id}",
                                subject=subject, body=body, now=now, settings=settings)
        # Last, so a test's pause hook (audit.before_commit_hook) runs once everything is written.
        audit.record(w, actor=actor, actor_label=actor_label, action="escalation.declare",
                     object_type="system" if scope == SYSTEM else "organisation", object_id=object_code,
                     before={"level": previous},
                     after={"level": level, "reason": reason, "calculated_level": calc_level, "declaration": d.id,
                            "actions_opened": len(opened), "actions_closed": closed},
                     request_id=request_id)
    if send:
        notify.send_pending(store, settings)
    return Declared(d, tuple(opened), closed, queued)


def observe(store: Store, at: dt.datetime | None = None, *, framework: Framework | None = None,
            settings: Settings | None = None) -> list[tuple[str, int | None, int | None]]:
    """Record each organisation's and the ICS's calculated level at ``at`` (default now) where it
    changed since the last observation, notify, and (if configured) open a rise's actions.

    Returns the changes as (object code, before, after). The first observation of an object is
    recorded without notifying (there is nothing to compare it with).
    """
    fw = framework or load_framework()
    settings = settings or get_settings()
    now = dt.datetime.now(dt.UTC)
    s = status(store, at or now, framework=fw)
    ensure_escalation_schema(store)
    changes: list[tuple[str, int | None, int | None]] = []
    targets = [(SYSTEM, s.ics), *[("org", o) for o in s.organisations]]
    with audit.writing(store) as w:
        ensure_in(w)
        for scope, sc in targets:
            last = queries.last_calculated_rows(w, sc.code)
            before = None if not last or last[0]["level"] is None else int(last[0]["level"])
            if last and before == sc.level:
                continue
            queries.insert_calculated(w, object_code=sc.code, scope=scope, level=sc.level, score=sc.score,
                                      assessed_at=s.at, observed_at=now)
            if not last:
                continue
            changes.append((sc.code, before, sc.level))
            what = "the system" if scope == SYSTEM else sc.code
            notify.enqueue(w, event="calculated_level_change", object_code=sc.code,
                           key=f"calculated:{sc.code}:{s.at.isoformat()}",
                           subject=f"{what} calculated {_level(sc.level)} (was {_level(before)})",
                           body=f"{what}: calculated level {_level(sc.level)} at {s.at:%Y-%m-%d %H:%M} UTC, "
                                f"was {_level(before)}. Why: {sc.why()}", now=now, settings=settings)
            if settings.escalation_actions_on_calculated and sc.level is not None and sc.level > (before or 1):
                opened = tracked.open_for_rise(w, scope=scope, object_code=sc.code, provider_type=sc.provider_type,
                                               ics_code=s.ics.code, from_level=before or 1, to_level=sc.level,
                                               origin="calculated", declaration_id=None, now=now)
                audit.record(w, actor=None, actor_label="system", action="escalation.calculated_rise",
                             object_type="system" if scope == SYSTEM else "organisation", object_id=sc.code,
                             before={"level": before}, after={"level": sc.level, "actions_opened": len(opened)},
                             request_id=None)
    notify.send_pending(store, settings)
    return changes


def check_overdue(store: Store, now: dt.datetime | None = None, *, settings: Settings | None = None) -> int:
    """Notify once for each open action past its due time; returns how many actions are overdue."""
    now = now or dt.datetime.now(dt.UTC)
    late = [a for a in tracked.list_actions(store, state="open") if a.overdue(now)]
    if late:
        with store.write() as w:
            for a in late:
                notify.enqueue(w, event="action_overdue", object_code=a.object_code, key=f"overdue:{a.id}",
                               subject=f"Overdue: {a.title} ({a.owner_org}, OPEL {a.level})",
                               body=f"The action '{a.title}' owned by {a.owner_org} ({a.owner_role}) was due at "
                                    f"{a.due_at:%Y-%m-%d %H:%M} UTC and is still open.", now=now, settings=settings)
        notify.send_pending(store, settings)
    return len(late)
