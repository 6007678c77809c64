"""Demo stores built once per test session and shared by the demo test modules (read only).

Not a conftest.py: the suite runs with ``--doctest-modules`` and no ``__init__.py`` files, so
every conftest.py would be imported as the same module ``conftest``. Each test module declares
its own fixture that calls these builders; the cache below makes it one build per session.

``autumn`` is 60 days around the October 2024 clock change; ``year`` is the year to
30 June 2025, used for calibration and seasonality.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from uec.demo import DemoSummary, build_demo
from uec.store import Store, open_store


@dataclass(frozen=True)
class Built:
    store: Store
    summary: DemoSummary
    progress: list[tuple[str, float]]


_BUILT: dict[str, Built] = {}


def _built(name: str, factory: pytest.TempPathFactory, days: int, end: dt.date) -> Built:
    if name not in _BUILT:
        store = open_store(str(factory.mktemp(name) / "uec.duckdb"))
        seen: list[tuple[str, float]] = []
        summary = build_demo(store, seed=42, days=days, end=end, progress=lambda s, f: seen.append((s, f)))
        _BUILT[name] = Built(store, summary, seen)
    return _BUILT[name]


def autumn(factory: pytest.TempPathFactory) -> Built:
    return _built("demo_autumn", factory, days=60, end=dt.date(2024, 11, 24))


def year(factory: pytest.TempPathFactory) -> Built:
    return _built("demo_year", factory, days=365, end=dt.date(2025, 6, 30))
