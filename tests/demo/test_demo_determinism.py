"""Same seed and end date, same data, byte for byte; another seed, other data."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pyarrow as pa
import pytest

from uec.contract import table
from uec.demo import DemoData, build_demo, generate_demo
from uec.ics import params as _params
from uec.store import open_store

END = dt.date(2025, 2, 14)


def _digest(t: pa.Table) -> str:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, t.schema) as writer:
        writer.write_table(t)
    return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()


@pytest.fixture(scope="module")
def seven() -> DemoData:
    return generate_demo(seed=7, days=7, end=END)


def test_same_seed_same_bytes_in_memory(seven: DemoData) -> None:
    again = generate_demo(seed=7, days=7, end=END)
    assert list(seven.tables) == list(again.tables)
    for name in seven.tables:
        assert _digest(seven.tables[name]) == _digest(again.tables[name]), name


def test_other_seed_other_data_same_ics(seven: DemoData) -> None:
    other = generate_demo(seed=8, days=7, end=END)
    for name in ("calls_111", "ambulance_incidents", "attendances", "spells", "bed_states", "ucr_referrals"):
        assert _digest(seven.tables[name]) != _digest(other.tables[name]), name
    # The map of the ICS does not depend on the seed.
    for name in ("organisations", "sites", "services"):
        assert seven.tables[name].equals(other.tables[name]), name


def test_same_seed_same_store_contents(tmp_path: Path) -> None:
    stores = []
    for k in range(2):
        s = open_store(str(tmp_path / f"uec{k}.duckdb"))
        build_demo(s, seed=11, days=7, end=END)
        stores.append(s)
    for name in ("organisations", "sites", "services", "calls_111", "ambulance_incidents", "attendances",
                 "spells", "bed_states", "ucr_referrals"):
        cols = ", ".join(table(name).field_names)
        key = ", ".join(table(name).key)
        got = [s.query_arrow(f"SELECT {cols} FROM {name} ORDER BY {key}") for s in stores]
        assert got[0].num_rows > 0
        # Equal values, not equal bytes: what a reader leaves under a null slot, and how it splits a
        # result into batches, are not part of the data (the in-memory tests above compare bytes).
        assert got[0].equals(got[1]), name


def test_a_component_change_leaves_the_other_streams_alone(seven: DemoData, monkeypatch: pytest.MonkeyPatch) -> None:
    # Each component has its own random stream: changing how urgent community response behaves
    # must not move a single 111 call, ambulance, attendance, spell or bed.
    monkeypatch.setattr(_params, "UCR_VISIT", (90.0, 0.6))
    monkeypatch.setattr(_params, "UCR_SOURCE_P", (0.1, 0.1, 0.4, 0.05, 0.15, 0.1, 0.1))
    b = generate_demo(seed=7, days=7, end=END)
    assert _digest(seven.tables["ucr_referrals"]) != _digest(b.tables["ucr_referrals"])
    for name in ("calls_111", "ambulance_incidents", "attendances", "spells", "bed_states"):
        assert _digest(seven.tables[name]) == _digest(b.tables[name]), name


def test_summary_is_json_ready(tmp_path: Path) -> None:
    s = build_demo(open_store(str(tmp_path / "uec.duckdb")), seed=1, days=3, end=END)
    data = json.loads(json.dumps(s.as_dict(), allow_nan=False))
    assert data["end"] == "2025-02-14" and data["start"] == "2025-02-12"
    assert data["rows"]["bed_states"] == 3 * 2 * 3
    assert len(data["calibration"]) == len(_params.calibration()["targets"])
