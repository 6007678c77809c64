"""Action cards (data) and tracked actions (state in the store).

The cards (``actions/opel-2024-26.yaml``) list, for each provider type and for the system, each
level's actions by role: ``provider`` (the organisation whose level it is), ``ics`` (the system
coordination centre) and ``region`` (the NHS England region, told by the coordinator). When a level
rises, :func:`open_for_rise` turns the cards of every level climbed into tracked actions, with an
owner organisation and role and a due time, inside the caller's transaction; :func:`close_for_step_down`
closes the open ones above the new level with a note. People mark them done (with a note) or not
applicable (with the reason): :func:`resolve`.

>>> cards = load_cards()
>>> [c.id for c in cards.for_level("acute", 3, "provider")][:2]
['acute-3-capacity', 'acute-3-handover']
>>> cards.verified
False
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

from uec.access import audit
from uec.access.permissions import allowed
from uec.access.user import User
from uec.errors import UecError
from uec.escalation import queries
from uec.escalation.schema import ensure_escalation_schema, ensure_in
from uec.store import Store, StoreWriter

__all__ = [
    "ROLE_OWNERS",
    "Card",
    "Cards",
    "TrackedAction",
    "close_for_step_down",
    "get_action",
    "list_actions",
    "load_cards",
    "open_for_rise",
    "resolve",
]

#: Which role of which organisation owns a card's role: the provider's site manager, or the ICS's
#: coordinator (who also tells the region).
ROLE_OWNERS = {"provider": "site_manager", "ics": "coordinator", "region": "coordinator"}

#: The card group of a system (ICS overall) level.
SYSTEM = "system"


@dataclass(frozen=True)
class Card:
    """One action of one level for one role."""

    id: str
    title: str
    role: str
    due_minutes: int
    #: The whole-system scenario change the action makes (``uec.system.parse_scenario``'s
    #: vocabulary), so it can be tried before it is taken; empty when it makes none the model has.
    scenario: tuple[tuple[str, Any], ...] = ()

    @property
    def changes(self) -> dict[str, Any]:
        """The card's scenario changes as a mapping (empty when it names none)."""
        return dict(self.scenario)


@dataclass(frozen=True)
class Cards:
    """A framework's action cards: group (provider type or ``system``) -> level -> role -> cards."""

    framework: str
    verified: bool
    source: dict[str, Any]
    reasoning: str
    cards: dict[str, dict[int, dict[str, tuple[Card, ...]]]]

    def for_level(self, group: str, level: int, role: str | None = None) -> tuple[Card, ...]:
        """The cards of one level of a group (every role, or one)."""
        by_role = self.cards.get(group, {}).get(level, {})
        return tuple(c for r, cs in by_role.items() if role in (None, r) for c in cs)

    def card(self, card_id: str) -> Card | None:
        """The card with that id, or ``None``.

        >>> load_cards().card("acute-3-capacity").changes["extra_escalation_beds"]
        20
        """
        return next((c for levels in self.cards.values() for roles in levels.values() for cs in roles.values()
                     for c in cs if c.id == card_id), None)


def _scenario(card: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    """A card's ``scenario:`` changes, checked as a scenario file's are."""
    raw = card.get("scenario")
    if not raw:
        return ()
    from uec.system import parse_scenario

    s = parse_scenario({"name": str(card["id"]), "changes": raw}, f"action card {card['id']}")
    return tuple(s.changes.items())


def cards_with_changes(cards: Cards, group: str) -> list[Card]:
    """The cards of a group (every level and role) that name a scenario change, lowest level first.

    >>> [c.id for c in cards_with_changes(load_cards(), "acute")][:1]
    ['acute-2-discharge']
    """
    return [c for _, roles in sorted(cards.cards.get(group, {}).items()) for cs in roles.values() for c in cs
            if c.scenario]


def _parse(doc: dict[str, Any]) -> Cards:
    table: dict[str, dict[int, dict[str, tuple[Card, ...]]]] = {}
    for group, levels in (doc.get("cards") or {}).items():
        table[group] = {}
        for level, roles in levels.items():
            if int(level) not in (2, 3, 4):
                raise UecError(f"action cards: {group} level {level} is not 2, 3 or 4")
            table[group][int(level)] = {}
            for role, cards in roles.items():
                if role not in ROLE_OWNERS:
                    raise UecError(f"action cards: unknown role {role!r} (roles: {', '.join(ROLE_OWNERS)})")
                table[group][int(level)][role] = tuple(
                    Card(str(c["id"]), str(c["title"]), role, int(c["due_minutes"]), _scenario(c)) for c in cards)
    if "verified" not in doc or (not doc["verified"] and not doc.get("reasoning")):
        raise UecError("action cards: say `verified:` and, when false, the `reasoning`")
    return Cards(str(doc["framework"]), bool(doc["verified"]), dict(doc.get("source") or {}),
                 str(doc.get("reasoning") or ""), table)


@lru_cache(maxsize=8)
def load_cards(path: Path | None = None) -> Cards:
    """The action cards shipped with the package (or those at ``path``, an ICS's own)."""
    if path is None:
        text = files("uec.escalation.actions").joinpath("opel-2024-26.yaml").read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    return _parse(yaml.safe_load(text))


@dataclass(frozen=True)
class TrackedAction:
    """An action someone must take because a level rose."""

    id: str
    object_code: str
    scope: str
    provider_type: str | None
    level: int
    card_id: str
    title: str
    role: str
    owner_org: str
    owner_role: str
    origin: str
    declaration_id: str | None
    created_at: dt.datetime
    due_at: dt.datetime
    state: str
    note: str | None
    closed_by: str | None
    closed_at: dt.datetime | None

    def overdue(self, now: dt.datetime | None = None) -> bool:
        """Still open after its due time."""
        return self.state == "open" and self.due_at < (now or dt.datetime.now(dt.UTC))

    def as_dict(self, now: dt.datetime | None = None) -> dict[str, Any]:
        return {
            "id": self.id, "object": self.object_code, "scope": self.scope, "provider_type": self.provider_type,
            "level": self.level, "card": self.card_id, "title": self.title, "role": self.role,
            "owner_org": self.owner_org, "owner_role": self.owner_role, "origin": self.origin,
            "declaration": self.declaration_id, "created_at": self.created_at.isoformat(),
            "due_at": self.due_at.isoformat(), "state": self.state, "overdue": self.overdue(now),
            "note": self.note, "closed_by": self.closed_by,
            "closed_at": self.closed_at.isoformat() if self.closed_at else None,
        }


def _action(r: dict[str, Any]) -> TrackedAction:
    def utc(v: Any) -> Any:
        return v.astimezone(dt.UTC) if isinstance(v, dt.datetime) else v

    return TrackedAction(
        r["id"], r["object_code"], r["scope"], r["provider_type"], int(r["level"]), r["card_id"], r["title"],
        r["role"], r["owner_org"], r["owner_role"], r["origin"], r["declaration_id"], utc(r["created_at"]),
        utc(r["due_at"]), r["state"], r["note"], r["closed_by"], utc(r["closed_at"]))


def open_for_rise(  # noqa: PLR0913 - keyword-only facts of one rise, each named at the call
        writer: StoreWriter, *, scope: str, object_code: str, provider_type: str | None,
                  ics_code: str, from_level: int, to_level: int, origin: str, declaration_id: str | None,
                  now: dt.datetime, cards: Cards | None = None) -> list[TrackedAction]:
    """Create the tracked actions of every level in ``(from_level, to_level]``, inside ``writer``'s
    transaction. A provider's own cards are owned by it; ICS and region cards by the ICS."""
    cards = cards or load_cards()
    group = SYSTEM if scope == SYSTEM else (provider_type or "")
    made: list[TrackedAction] = []
    for level in range(max(from_level, 1) + 1, to_level + 1):
        for card in cards.for_level(group, level):
            owner = object_code if card.role == "provider" else ics_code
            a = TrackedAction(
                uuid.uuid4().hex[:12], object_code, scope, provider_type, level, card.id, card.title, card.role,
                owner, ROLE_OWNERS[card.role], origin, declaration_id, now,
                now + dt.timedelta(minutes=card.due_minutes), "open", None, None, None)
            queries.insert_action(writer, {k: v for k, v in a.__dict__.items()
                                           if k not in ("note", "closed_by", "closed_at")})
            made.append(a)
    return made


def close_for_step_down(writer: StoreWriter, *, object_code: str, to_level: int, by: str, now: dt.datetime) -> int:
    """Close the open actions of ``object_code`` above ``to_level`` (state ``closed``, with a note);
    returns how many."""
    n = queries.count_open_actions_above(writer, object_code, to_level)
    queries.close_open_actions_above(writer, object_code, to_level,
                                     note=f"stood down: level stepped down to OPEL {to_level}", by=by, at=now)
    return n


def list_actions(store: Store, *, object_code: str | None = None, owner_org: str | None = None,
                 state: str | None = None) -> list[TrackedAction]:
    """Tracked actions, newest first, optionally for one object (the organisation or ICS whose level
    it is), one owner, or one state."""
    ensure_escalation_schema(store)
    filters = {col: val for col, val in (("object_code", object_code), ("owner_org", owner_org), ("state", state))
               if val is not None}
    return [_action(r) for r in queries.action_rows(store, filters)]


def get_action(store: Store, action_id: str) -> TrackedAction | None:
    """One tracked action by id, or ``None``."""
    ensure_escalation_schema(store)
    row = queries.action_row(store, action_id)
    return _action(row) if row else None


def resolve(store: Store, action_id: str, state: str, note: str, *, actor: User | None = None,
            actor_label: str | None = None, request_id: str | None = None) -> TrackedAction:
    """Mark an open action ``done`` (``note`` says what was done) or ``not_applicable`` (``note`` says
    why), audited in the same transaction. ``actor`` must hold ``manage_actions`` for its owner."""
    if state not in ("done", "not_applicable"):
        raise UecError(f"an action is marked done or not_applicable, not {state!r}")
    note = (note or "").strip()
    if not note:
        raise UecError("say what was done (a note)" if state == "done" else "give the reason it does not apply")
    ensure_escalation_schema(store)
    now = dt.datetime.now(dt.UTC)
    by = actor.username if actor is not None else (actor_label or "system")
    with audit.writing(store) as w:
        ensure_in(w)
        row = queries.action_row(w, action_id)
        if not row:
            raise UecError(f"no action {action_id!r}; `uec escalation actions` lists them")
        before = _action(row)
        if actor is not None and not allowed(actor, "manage_actions", before.owner_org):
            raise UecError(f"{actor.username} may not manage actions owned by {before.owner_org}")
        if before.state != "open":
            raise UecError(f"action {action_id} is already {before.state}")
        queries.set_action_state(w, action_id, state=state, note=note, by=by, at=now)
        audit.record(w, actor=actor, actor_label=actor_label, action=f"escalation.action.{state}",
                     object_type="escalation_action", object_id=action_id, before={"state": "open"},
                     after={"state": state, "note": note, "card": before.card_id, "object": before.object_code},
                     request_id=request_id)
    after = get_action(store, action_id)
    assert after is not None
    return after
