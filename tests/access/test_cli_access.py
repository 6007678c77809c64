"""``uec users``, ``uec tokens``, ``uec audit`` and ``uec export audit`` as a user meets them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from uec.access.accounts import authenticate
from uec.access.tokens import token_user
from uec.store import Store

UEC = [sys.executable, "-m", "uec"]


def uec(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*UEC, *args], capture_output=True, text=True, input=stdin, timeout=120)


def test_users_commands(duck_store: Store) -> None:
    s = ("--store", duck_store.url)
    r = uec("users", "add", "sam", "--org", "RAA", "--role", "site_manager", "--role", "viewer",
            "--name", "Sam Smith", "--password-stdin", *s, "--json", stdin="a secret password\n")
    assert r.returncode == 0, r.stderr
    assert "a secret password" not in r.stdout + r.stderr
    assert json.loads(r.stdout.splitlines()[-1])["roles"] == ["site_manager", "viewer"]
    assert authenticate(duck_store, "sam", "a secret password").org_code == "RAA"
    assert uec("users", "roles", "sam", "analyst", *s).returncode == 0
    r = uec("users", "list", *s, "--json")
    [listed] = json.loads(r.stdout.splitlines()[-1])["users"]
    assert (listed["username"], listed["roles"]) == ("sam", ["analyst"])
    assert uec("users", "disable", "sam", *s).stdout.strip() == "sam is disabled"
    assert uec("users", "passwd", "sam", "--password-stdin", *s, stdin="another password\n").returncode == 0
    # Errors a user can make: one line, exit 2.
    for args, message in [
        (("users", "add", "x1", "--org", "ZZZ", "--role", "viewer", "--sso-only"),
         "error: unknown organisation 'ZZZ'; organisations in the store: QXX, RAA, RBB"),
        (("users", "roles", "nobody", "viewer"), "error: no user 'nobody'; see `uec users list`"),
        (("users", "roles", "sam", "emperor"), "error: unknown role emperor; roles are: feed, viewer, analyst, "
                                                "site_manager, coordinator, admin"),
        (("users", "add", "x2", "--org", "RAA", "--role", "viewer"),
         "error: no terminal to ask for the password: pass --password-stdin and write it to standard input"),
    ]:
        r = uec(*args, *s, stdin="")
        assert (r.returncode, r.stderr.strip()) == (2, message), r.stderr


def test_demo_users_command(duck_store: Store) -> None:
    r = uec("users", "demo", "--store", duck_store.url)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == "Sign in at http://127.0.0.1:8000/sign-in with password uec-demo as:"
    assert "site-manager-rbb  (site_manager, Brookside Hospitals NHS Trust)" in r.stdout


def test_tokens_commands(duck_store: Store) -> None:
    s = ("--store", duck_store.url)
    r = uec("tokens", "create", "bed-feed", "--role", "viewer", "--org", "RAA", "--days", "30", *s)
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip()
    user = token_user(duck_store, token)
    assert user is not None and user.roles == {"viewer"}
    assert "shown only now" in r.stderr and token not in r.stderr
    token_id = token.split("_")[1]
    listed = uec("tokens", "list", *s, "--json")
    assert token.split("_", 2)[2] not in listed.stdout  # the secret: all after the id (it may hold "_")
    assert json.loads(listed.stdout.splitlines()[-1])["tokens"][0]["state"] == "active"
    assert uec("tokens", "revoke", token_id, *s).returncode == 0
    assert token_user(duck_store, token) is None
    r = uec("tokens", "create", "x", "--role", "viewer", "--org", "RAA", "--days", "9999", *s)
    assert (r.returncode, r.stderr.strip()) == (2, "error: a token lives 1 to 366 days, not 9999")
    # Neither the token nor its secret is in the audit trail.
    r = uec("audit", "export", "--format", "json", *s)
    assert token.split("_", 2)[2] not in r.stdout
    assert [e["action"] for e in json.loads(r.stdout)] == ["token.create", "token.revoke"]


def test_export_audit(duck_store: Store, tmp_path: Path) -> None:
    uec("users", "add", "ana", "--org", "RAA", "--role", "analyst", "--sso-only", "--store", duck_store.url)
    out = tmp_path / "audit.csv"
    r = uec("export", "audit", "-o", str(out), "--store", duck_store.url)
    assert r.returncode == 0, r.stderr
    lines = out.read_text().splitlines()
    assert lines[0].replace('"', "") == "id,at,actor,organisation,action,object_type,object_id,before,after," \
                                        "request_id,prev_hash,hash"
    assert len(lines) == 2 and '"user.add"' in lines[1]


def test_serve_demo_if_empty_makes_demo_users_and_says_how_to_sign_in(duck_store: Store) -> None:
    from uec.access.accounts import get_user
    from uec.cli import demo_sign_in

    # A store the demo did not make gets no demo accounts.
    assert demo_sign_in(duck_store, False, "http://127.0.0.1:8000") is None
    assert get_user(duck_store, "viewer") is None
    # Just built: the demo users are made, and the help names the sign-in page, the password and each user.
    text = demo_sign_in(duck_store, True, "http://127.0.0.1:8123")
    assert text is not None and text.startswith("Sign in at http://127.0.0.1:8123/sign-in with password uec-demo as:")
    assert "site-manager-raa" in text and "analyst" in text
    viewer = get_user(duck_store, "viewer")
    assert viewer is not None and viewer.user.roles == frozenset({"viewer"})
    assert authenticate(duck_store, "analyst", "uec-demo").roles == frozenset({"analyst"})
    # A later start over the same store says it again, without making anyone twice.
    assert demo_sign_in(duck_store, False, "http://127.0.0.1:8123") == text
