"""Fixtures shared by the whole suite.

``store`` runs a test on both engines: an embedded DuckDB file and a fresh database on the real
PostgreSQL server that ``scripts/test`` starts (its URL in ``UEC_TEST_POSTGRES_URL``). Without that
server the PostgreSQL half fails rather than skips: a skipped engine would hide a broken store.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from uec.store import Store, open_store

DATA = Path(__file__).parent / "data"


def postgres_admin_url() -> str:
    url = os.environ.get("UEC_TEST_POSTGRES_URL")
    if not url:
        pytest.fail("UEC_TEST_POSTGRES_URL is not set: run the suite with scripts/test, which starts PostgreSQL")
    return url


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL to a new, empty PostgreSQL database, dropped after the test."""
    import psycopg

    admin = postgres_admin_url()
    name = f"uec_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name}")
    base = admin.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as con:
            con.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=["duckdb", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of an empty store, once per engine."""
    if request.param == "duckdb":
        return str(tmp_path / "uec.duckdb")
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def store(store_url: str) -> Store:
    """An empty store, once per engine."""
    return open_store(store_url)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Load ``conftest.py`` files as plugins only; never collect them again as doctest modules.

    Several test folders have their own ``conftest.py`` (none is a package), and ``--doctest-modules``
    would import each as a module named ``conftest``, which clash.
    """
    return True if collection_path.name == "conftest.py" else None
