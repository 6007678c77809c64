"""Helpers of the access tests: organisations, a live uvicorn server, a real OpenID provider.

Its own module name (not ``conftest``) so that test files can import it: test folders are not
packages here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from uec.access.accounts import add_organisation
from uec.store import Store

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
PROVIDER_SCRIPT = HERE / "oidc_provider.mjs"

ORGANISATIONS = [
    ("QXX", "Test Integrated Care Board", "ics", None),
    ("RAA", "Riverside Hospitals NHS Trust", "acute_trust", "QXX"),
    ("RBB", "Brookside Hospitals NHS Trust", "acute_trust", "QXX"),
]


def sent_to_sign_in(response: Any, next_path: str) -> bool:
    """Whether a page request was answered by sending the browser to sign in (303), to come back
    to ``next_path`` afterwards. ``response`` is an httpx (or TestClient) response, not followed."""
    from uec.access.web import sign_in_url

    return bool(response.status_code == 303 and response.headers["location"] == sign_in_url(next_path))


def add_organisations(store: Store) -> None:
    """An ICB and two acute trusts."""
    for code, name, kind, ics in ORGANISATIONS:
        add_organisation(store, code, name, kind, ics)


@contextmanager
def oidc_provider(
    redirect_uri: str, users: dict[str, Any], post_logout_uri: str | None = None
) -> Iterator[dict[str, str]]:
    """A real OpenID provider on a loopback port; yields its issuer and the client's credentials."""
    node = shutil.which("node")
    assert node, "node is missing: install Node.js (scripts/setup does)"
    assert (REPO / "node_modules" / "oidc-provider").is_dir(), "oidc-provider is missing: run `npm ci`"
    client = {"client_id": "uec-resilience", "client_secret": "test-client-secret-not-real"}
    config = {"port": 0, "redirect_uris": [redirect_uri], "users": users, **client,
              "post_logout_redirect_uris": [post_logout_uri] if post_logout_uri else []}
    proc = subprocess.Popen(
        [node, str(PROVIDER_SCRIPT), json.dumps(config)], cwd=REPO, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env={**os.environ, "NODE_ENV": "test"},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        problem = proc.stderr.read() if proc.stderr and not line else ""
        assert line.startswith("ready "), f"the OpenID provider did not start: {line!r} {problem}"
        yield {"issuer": line.split()[1], **client}
    finally:
        proc.terminate()
        proc.wait(timeout=10)
