"""Fixtures for the access tests: stores with organisations, a live app, a real OpenID provider.

The provider is the npm package ``oidc-provider`` run by node (``oidc_provider.mjs`` beside this
file), installed by ``npm ci`` from the repository's package.json. No node or no package means the
single sign-on tests fail, never skip.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI

from uec.access.accounts import add_organisation
from uec.config import get_settings
from uec.store import Store, open_store

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
PROVIDER_SCRIPT = HERE / "oidc_provider.mjs"

ORGANISATIONS = [
    ("QXX", "Test Integrated Care Board", "ics", None),
    ("RAA", "Riverside Hospitals NHS Trust", "acute_trust", "QXX"),
    ("RBB", "Brookside Hospitals NHS Trust", "acute_trust", "QXX"),
]


@pytest.fixture(autouse=True)
def access_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """A known session secret and a private state folder; settings re-read for each test."""
    monkeypatch.setenv("UEC_SECRET_KEY", "test-secret-key-for-signing-cookies-0123456789")
    monkeypatch.setenv("UEC_STATE_DIR", str(tmp_path / "state"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def add_organisations(store: Store) -> None:
    for code, name, kind, ics in ORGANISATIONS:
        add_organisation(store, code, name, kind, ics)


@pytest.fixture
def org_store(store: Store) -> Store:
    """An empty store (both engines) holding three organisations: an ICB and two trusts."""
    add_organisations(store)
    return store


@pytest.fixture
def duck_store(tmp_path: Path) -> Store:
    """An embedded store with the organisations (for the web tests, which need one engine)."""
    store = open_store(str(tmp_path / "uec.duckdb"))
    add_organisations(store)
    return store


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def serve(app: FastAPI, port: int | None = None) -> Iterator[str]:
    """``app`` served by uvicorn on a loopback port in a background thread."""
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def oidc_provider(redirect_uri: str, users: dict[str, Any]) -> Iterator[dict[str, str]]:
    """A real OpenID provider on a loopback port; yields its issuer and the client's credentials."""
    node = shutil.which("node")
    assert node, "node is missing: install Node.js (scripts/setup does)"
    assert (REPO / "node_modules" / "oidc-provider").is_dir(), "oidc-provider is missing: run `npm ci`"
    client = {"client_id": "uec-resilience", "client_secret": "test-client-secret-not-real"}
    config = {"port": 0, "redirect_uris": [redirect_uri], "users": users, **client}
    proc = subprocess.Popen(
        [node, str(PROVIDER_SCRIPT), json.dumps(config)], cwd=REPO, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env={**os.environ, "NODE_ENV": "test"},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("ready "), f"the OpenID provider did not start: {line!r} {proc.stderr.read() if proc.stderr else ''}"
        yield {"issuer": line.split()[1], **client}
    finally:
        proc.terminate()
        proc.wait(timeout=10)
