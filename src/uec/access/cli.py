"""``uec users``, ``uec tokens`` and ``uec audit``: people, API tokens and the audit trail.

Changes made here are audited as ``cli:<operating-system user>``. Passwords are read without echo
(or from standard input with ``--password-stdin``); a token's secret is printed once, when it is
created, and never logged.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table as RichTable

from uec.errors import UecError
from uec.store import Store, open_store

__all__ = ["audit_app", "tokens_app", "users_app"]

users_app = typer.Typer(help="People: add users, give roles, disable, set passwords, demo users.", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens for machine feeds: create, list, revoke.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail: list, verify the hash chain, export.", no_args_is_help=True)

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

StoreOpt = Annotated[
    str | None,
    typer.Option(
        "--store", help="Store: a DuckDB file path or postgresql://… URL (default: $UEC_STORE or data/uec.duckdb)."
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object as the last line.")]
TrailOpt = Annotated[str, typer.Option(
    "--trail", help="Which trail: store (the default) or, on the embedded store, jobs (job submissions and "
                    "cancellations, kept with the jobs in <store>.jobs.duckdb).")]
PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from standard input (for scripts).")
]


def _actor() -> str:
    from uec.access.audit import cli_actor

    return cli_actor()


def _emit(obj: dict[str, Any]) -> None:
    print(json.dumps(obj, default=str))


def _store(store: str | None) -> Store:
    return open_store(store)


def _trail(store: str | None, trail: str) -> Store:
    from uec.access import audit

    found = dict(audit.trails(_store(store)))
    if trail not in found:
        raise UecError(f"no audit trail {trail!r} in this store; trails: {', '.join(found)}")
    return found[trail]


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        value = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        value = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        raise UecError("no terminal to ask for the password: pass --password-stdin and write it to standard input")
    if not value:
        raise UecError("the password is empty")
    return value


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="Sign-in name (lower case).")],
    org: Annotated[str, typer.Option("--org", help="Organisation code (ODS) the user belongs to.")],
    role: Annotated[list[str], typer.Option("--role", help="A role (repeat for several): viewer, analyst, "
                                            "site_manager, coordinator, admin.")],
    name: Annotated[str | None, typer.Option("--name", help="Display name (default: the username).")] = None,
    email: Annotated[str | None, typer.Option("--email", help="Email address.")] = None,
    sso_only: Annotated[bool, typer.Option("--sso-only", help="No password: signs in by single sign-on only.")] = False,
    password_stdin: PasswordStdin = False,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Add a user of an organisation with one or more roles."""
    from uec.access.accounts import add_user

    password = None if sso_only else _read_password(password_stdin)
    rec = add_user(_store(store), username, display_name=name or username, org_code=org, roles=role,
                   password=password, email=email, actor_label=_actor())
    out.print(f"added {rec.username} ({rec.org_code}) with roles {', '.join(sorted(rec.roles))}")
    if as_json:
        _emit(rec.public())


@users_app.command("list")
def users_list(
    org: Annotated[str | None, typer.Option("--org", help="Only users of this organisation.")] = None,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Every user: organisation, roles, whether disabled or locked, last sign-in."""
    from uec.access.accounts import list_users

    users = list_users(_store(store), org)
    t = RichTable(title=f"Users: {len(users)}")
    for c in ("username", "name", "organisation", "roles", "sign-in", "state", "last sign-in"):
        t.add_column(c)
    for u in users:
        state = "disabled" if u.disabled else ("locked" if u.locked_until else "active")
        how = "password" if u.has_password else ("SSO" if u.oidc_subject else "none")
        t.add_row(u.username, u.display_name, u.org_code, ", ".join(sorted(u.roles)), how, state,
                  u.last_sign_in.isoformat(timespec="minutes") if u.last_sign_in else "")
    out.print(t)
    if as_json:
        _emit({"users": [{**u.public(), "last_sign_in": u.last_sign_in} for u in users]})


@users_app.command("roles")
def users_roles(
    username: Annotated[str, typer.Argument(help="The user.")],
    roles: Annotated[list[str], typer.Argument(help="The roles the user holds from now on.")],
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Replace a user's roles."""
    from uec.access.accounts import set_roles

    rec = set_roles(_store(store), username, roles, actor_label=_actor())
    out.print(f"{rec.username} now holds: {', '.join(sorted(rec.roles))}")
    if as_json:
        _emit(rec.public())


@users_app.command("disable")
def users_disable(
    username: Annotated[str, typer.Argument(help="The user.")],
    enable: Annotated[bool, typer.Option("--enable", help="Enable the account again instead.")] = False,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Disable an account (its sessions stop working at once), or --enable it again."""
    from uec.access.accounts import set_disabled

    rec = set_disabled(_store(store), username, not enable, actor_label=_actor())
    out.print(f"{rec.username} is {'disabled' if rec.disabled else 'enabled'}")
    if as_json:
        _emit(rec.public())


@users_app.command("passwd")
def users_passwd(
    username: Annotated[str, typer.Argument(help="The user.")],
    password_stdin: PasswordStdin = False,
    store: StoreOpt = None,
) -> None:
    """Set a user's password (and unlock the account)."""
    from uec.access.accounts import set_password

    rec = set_password(_store(store), username, _read_password(password_stdin), actor_label=_actor())
    out.print(f"password of {rec.username} changed")


@users_app.command("demo")
def users_demo(
    url: Annotated[str, typer.Option(help="Where the web app will be, for the instructions.")] = "http://127.0.0.1:8000",
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create the demo users (one per role, a site manager per organisation) and say how to sign in."""
    from uec.access.demo import DEMO_PASSWORD, demo_users, sign_in_help

    users = demo_users(_store(store))
    out.print(sign_in_help(users, url))
    if as_json:
        _emit({"password": DEMO_PASSWORD, "users": [vars(u) for u in users]})


@tokens_app.command("create")
def tokens_create(
    name: Annotated[str, typer.Argument(help="What uses the token, e.g. bed-feed.")],
    role: Annotated[str, typer.Option("--role", help="The one role the token acts with.")],
    org: Annotated[str, typer.Option("--org", help="The organisation the token acts for.")],
    days: Annotated[int, typer.Option("--days", help="Days until it expires (at most 366).")] = 90,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create an API token. The token is printed once, now: store it in the feed's secret store."""
    from uec.access.tokens import create_token

    info, secret = create_token(_store(store), name, role=role, org_code=org, days=days, actor_label=_actor())
    err.print(f"token {info.token_id} ({info.name}, role {info.role}, {info.org_code}) expires "
              f"{info.expires_at:%Y-%m-%d}. It is shown only now; send it as 'Authorization: Bearer <token>'.")
    if as_json:
        _emit({**info.public(), "token": secret})
    else:
        print(secret)


@tokens_app.command("list")
def tokens_list(store: StoreOpt = None, as_json: JsonOpt = False) -> None:
    """Every token (never its secret): role, organisation, expiry, state."""
    from uec.access.tokens import list_tokens

    tokens = list_tokens(_store(store))
    t = RichTable(title=f"API tokens: {len(tokens)}")
    for c in ("id", "name", "role", "organisation", "created by", "expires", "state"):
        t.add_column(c, no_wrap=c == "id")
    for k in tokens:
        t.add_row(k.token_id, k.name, k.role, k.org_code, k.created_by, f"{k.expires_at:%Y-%m-%d}", k.state)
    out.print(t)
    if as_json:
        _emit({"tokens": [{**k.public(), "state": k.state} for k in tokens]})


@tokens_app.command("revoke")
def tokens_revoke(
    token_id: Annotated[str, typer.Argument(help="The token's id (from `uec tokens list`).")],
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Revoke a token: its next request is refused."""
    from uec.access.tokens import revoke_token

    info = revoke_token(_store(store), token_id, actor_label=_actor())
    out.print(f"token {info.token_id} ({info.name}) revoked")
    if as_json:
        _emit(info.public())


@audit_app.command("list")
def audit_list(
    limit: Annotated[int, typer.Option(help="Show at most this many entries.", min=1)] = 20,
    actor: Annotated[str | None, typer.Option(help="Only entries by this actor.")] = None,
    trail: TrailOpt = "store",
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The newest entries of the audit trail."""
    from uec.access import audit

    rows = audit.entries(_trail(store, trail), limit=limit, actor=actor)
    t = RichTable(title="Audit trail (newest first)")
    for c in ("id", "at (UTC)", "actor", "org", "action", "object", "after"):
        t.add_column(c, overflow="fold")
    for e in rows:
        t.add_row(str(e.id), f"{e.at:%Y-%m-%d %H:%M:%S}", e.actor, e.organisation or "", e.action,
                  f"{e.object_type} {e.object_id}", (e.after or "")[:120])
    out.print(t)
    if as_json:
        _emit({"entries": [e.as_dict() for e in rows]})


@audit_app.command("verify")
def audit_verify(store: StoreOpt = None, as_json: JsonOpt = False) -> None:
    """Recompute the hash chain of every trail; an edited or deleted entry is an error (exit 2).

    Keep the head hashes it prints somewhere else: a trail cut short at the end verifies, but its
    head will differ. The embedded store has a second trail, ``jobs``, beside its jobs.
    """
    from uec.access import audit

    results = audit.verify_all(_store(store))
    result = results["store"]
    problems = [p if name == "store" else f"{name} trail: {p}" for name, r in results.items() for p in r.problems]
    for p in problems:
        err.print(p)
    if not problems:
        for name, r in results.items():
            what = "audit trail" if name == "store" else f"audit trail {name}"
            out.print(f"{what} verified: {r.checked:,} entries, head {r.head}")
    if as_json:  # the last line of standard output, as for every command
        _emit({"ok": not problems, "checked": result.checked, "head": result.head,
               "problems": problems,
               "trails": {name: {"ok": r.ok, "checked": r.checked, "head": r.head} for name, r in results.items()}})
    if problems:
        raise UecError(f"the audit trail fails verification: {len(problems)} problem(s), first: {problems[0]}")


class AuditFormat(StrEnum):
    csv = "csv"
    json = "json"


@audit_app.command("export")
def audit_export(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: standard output).")
    ] = None,
    fmt: Annotated[AuditFormat, typer.Option("--format", help="csv or json.")] = AuditFormat.csv,
    trail: TrailOpt = "store",
    store: StoreOpt = None,
) -> None:
    """Write the whole audit trail, oldest first, as CSV or JSON (one object per entry)."""
    from uec.access import audit

    rows = audit.entries(_trail(store, trail), newest_first=False)
    text = audit.to_csv(rows) if fmt is AuditFormat.csv else json.dumps([e.as_dict() for e in rows], indent=1) + "\n"
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UecError(f"cannot write {output}: {exc.strerror}") from None
    err.print(f"wrote {len(rows):,} audit entries to {output}")
