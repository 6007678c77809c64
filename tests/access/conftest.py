"""Fixtures for the access tests: stores with organisations (helpers in ``access_helpers.py``).

The OpenID provider is the npm package ``oidc-provider`` run by node (``oidc_provider.mjs`` beside this
file), installed by ``npm ci`` from the repository's package.json. No node or no package means the
single sign-on tests fail, never skip.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from access_helpers import add_organisations

from uec.config import get_settings
from uec.store import Store, open_store


@pytest.fixture(autouse=True)
def access_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """A known session secret and a private state folder; settings re-read for each test."""
    monkeypatch.setenv("UEC_SECRET_KEY", "test-secret-key-for-signing-cookies-0123456789")
    monkeypatch.setenv("UEC_STATE_DIR", str(tmp_path / "state"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


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


