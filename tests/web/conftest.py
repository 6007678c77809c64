"""Fixtures for the web tests: the hand-made store of ``web_fixture.py`` and clients over it.

Reuse them from another folder by importing ``web_fixture`` (the data and ``build_web_store``); the
fixtures here are found by pytest for every test under ``tests/web``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from web_fixture import build_web_store, signed_in

from uec.store import open_store
from uec.web import create_app


@pytest.fixture(scope="session", autouse=True)
def answer_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The web's cache of computed answers in a folder of the test session, not the working directory's."""
    path = tmp_path_factory.mktemp("answer-cache")
    old = os.environ.get("UEC_CACHE_DIR")
    os.environ["UEC_CACHE_DIR"] = str(path)
    yield path
    if old is None:
        os.environ.pop("UEC_CACHE_DIR", None)
    else:
        os.environ["UEC_CACHE_DIR"] = old


@pytest.fixture(scope="session")
def web_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A store holding the fixture. Shared by the session: tests must not write to it."""
    return str(build_web_store(tmp_path_factory.mktemp("web") / "uec.duckdb"))


@pytest.fixture
def empty_store(tmp_path: Path) -> str:
    """A store with the schema and no rows."""
    path = tmp_path / "empty.duckdb"
    open_store(str(path))
    return str(path)


@pytest.fixture(scope="session")
def web_client(web_store: str) -> Iterator[TestClient]:
    """A test client for the app over :func:`web_store`."""
    with TestClient(signed_in(create_app(web_store))) as client:
        yield client
