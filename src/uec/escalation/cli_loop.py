"""``uec escalation declare|actions|action|subscribe|notify``: the escalation loop on the command line.

Registered on :data:`uec.escalation.cli.app`. Changes are audited as the user named by ``--as``
(who must hold the permission), or as ``cli:<operating-system user>`` without it. Every error is one
``error:`` line and exit status 2.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
from typing import Annotated

import typer
from rich.table import Table

from uec.access.accounts import get_user
from uec.access.user import User
from uec.errors import UecError
from uec.escalation import declared, notify, tracked
from uec.escalation.cli import JsonOpt, StoreOpt, app, out, parse_instant
from uec.store import Store, open_store

__all__ = ["action_app"]

action_app = typer.Typer(help="Mark a tracked action done or not applicable.", no_args_is_help=True)
app.add_typer(action_app, name="action")

AsOpt = Annotated[str | None, typer.Option("--as", help="Act as this user (checked against their permissions).")]


def _cli_label() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # a container with an unnamed uid
        return "cli"


def _as(store: Store, username: str | None) -> User | None:
    if username is None:
        return None
    rec = get_user(store, username)
    if rec is None or rec.disabled:
        raise UecError(f"no active user {username!r}; `uec users list` lists them")
    return rec.user


@app.command("declare")
def declare_command(
    org: Annotated[str, typer.Argument(help="The organisation's ODS code, or `system` for the ICS as a whole.")],
    level: Annotated[int, typer.Argument(help="The level declared: 1, 2, 3 or 4.")],
    reason: Annotated[str | None, typer.Option("--reason", help="Why (required when it differs from the "
                                                                 "calculated level).")] = None,
    as_user: AsOpt = None,
    at: Annotated[str | None, typer.Option("--at", help="The instant whose calculated level is compared "
                                                         "(default now).")] = None,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Declare an organisation's (or the system's) OPEL level; opens or closes its tracked actions."""
    st = open_store(store)
    actor = _as(st, as_user)
    done = declared.declare(st, org, level, reason=reason, actor=actor,
                            actor_label=None if actor else _cli_label(),
                            assessed_at=parse_instant(at) if at else None)
    d = done.declaration
    if as_json:
        print(json.dumps({"declaration": d.as_dict(), "opened": [a.as_dict() for a in done.opened],
                          "closed": done.closed, "notifications": done.notifications}))
        return
    out.print(f"{d.object_code}: declared OPEL {d.level} (calculated "
              f"{'no level' if d.calculated_level is None else f'OPEL {d.calculated_level}'}); "
              f"{len(done.opened)} action(s) opened, {done.closed} closed, {done.notifications} notification(s) sent")


@app.command("actions")
def actions_command(
    org: Annotated[str | None, typer.Option("--org", help="Only actions owned by this organisation.")] = None,
    state: Annotated[str | None, typer.Option("--state", help="open, done, not_applicable or closed.")] = None,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Tracked actions, newest first; overdue ones are marked."""
    now = dt.datetime.now(dt.UTC)
    rows = tracked.list_actions(open_store(store), owner_org=org, state=state)
    if as_json:
        print(json.dumps([a.as_dict(now) for a in rows]))
        return
    t = Table("id", "for", "OPEL", "action", "owner", "due (UTC)", "state")
    for a in rows:
        st = "OVERDUE" if a.overdue(now) else a.state
        t.add_row(a.id, a.object_code, str(a.level), a.title, f"{a.owner_org} {a.owner_role}",
                  f"{a.due_at:%Y-%m-%d %H:%M}", st)
    out.print(t)


def _resolve(action_id: str, state: str, note: str, as_user: str | None, store: str | None) -> None:
    st = open_store(store)
    actor = _as(st, as_user)
    a = tracked.resolve(st, action_id, state, note, actor=actor, actor_label=None if actor else _cli_label())
    out.print(f"action {a.id} ({a.title}): {a.state}")


@action_app.command("done")
def action_done(
    action_id: Annotated[str, typer.Argument(help="The action's id (`uec escalation actions`).")],
    note: Annotated[str, typer.Option("--note", help="What was done.")],
    as_user: AsOpt = None,
    store: StoreOpt = None,
) -> None:
    """Mark an open action done, with a note."""
    _resolve(action_id, "done", note, as_user, store)


@action_app.command("not-applicable")
def action_not_applicable(
    action_id: Annotated[str, typer.Argument(help="The action's id (`uec escalation actions`).")],
    reason: Annotated[str, typer.Option("--reason", help="Why it does not apply.")],
    as_user: AsOpt = None,
    store: StoreOpt = None,
) -> None:
    """Mark an open action not applicable, with the reason."""
    _resolve(action_id, "not_applicable", reason, as_user, store)


@app.command("subscribe")
def subscribe_command(
    username: Annotated[str, typer.Argument(help="Who is notified.")],
    org: Annotated[str | None, typer.Option("--org", help="This organisation's events (default: the whole "
                                                           "system's).")] = None,
    email: Annotated[str | None, typer.Option("--email", help="Send email to this address.")] = None,
    webhook: Annotated[str | None, typer.Option("--webhook", help="POST JSON to this URL.")] = None,
    store: StoreOpt = None,
) -> None:
    """Subscribe someone to level changes and overdue actions, by email or webhook."""
    if (email is None) == (webhook is None):
        raise UecError("give exactly one of --email and --webhook")
    sub = notify.subscribe(open_store(store), username, org, "email" if email else "webhook", email or webhook or "",
                           actor=_cli_label())
    out.print(f"subscription {sub.id}: {username}, {org or 'the whole system'}, by {sub.channel}")


@app.command("notify")
def notify_command(
    at: Annotated[str | None, typer.Option("--at", help="Observe calculated levels at this instant "
                                                         "(default now).")] = None,
    store: StoreOpt = None,
) -> None:
    """Observe calculated levels and parameter bands, notify overdue actions, send what is pending (each refresh)."""
    st = open_store(store)
    from uec.escalation.thresholds import observe_parameters

    # A level change first: within the cool-down, a parameter crossing of the same organisation is
    # then recorded as suppressed rather than sent ahead of it.
    changes = declared.observe(st, parse_instant(at) if at else None)
    rises = observe_parameters(st, parse_instant(at) if at else None)
    late = declared.check_overdue(st)
    sent, failed = notify.send_pending(st)
    out.print(f"{len(changes)} calculated level change(s), {len(rises)} parameter(s) into a higher band, "
              f"{late} overdue action(s); "
              f"{sent} notification(s) sent, {failed} failed")
