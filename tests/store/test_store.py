"""The query layer behaves the same on both engines."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from uec.contract import tables
from uec.errors import UecError
from uec.store import Store, open_store


def test_schema_has_every_contract_table(store: Store) -> None:
    assert set(store.counts()) == {t.name for t in tables()}
    assert all(n == 0 for n in store.counts().values())
    # Opening again is harmless (the schema is created only where missing).
    assert open_store(store.url).counts() == store.counts()


def test_named_parameters_and_percent_signs(store: Store) -> None:
    with store.write() as w:
        w.append("returns", pa.table({
            "org_code": ["DEMO-A", "DEMO-B"], "period_start": pa.array([datetime(2024, 4, 1).date()] * 2, pa.date32()),
            "period_length": ["month", "month"], "metric_code": ["pct_4h", "x"], "value": [0.5, 2.0],
            "source": ["s", "s"],
        }))
    rows = store.query("SELECT org_code FROM returns WHERE metric_code LIKE 'pct%' AND value < :v", {"v": 1})
    assert rows == [{"org_code": "DEMO-A"}]
    assert store.query("SELECT count(*) AS n FROM returns WHERE org_code = :o", {"o": "DEMO-B"}) == [{"n": 1}]
    # '::' casts are not parameters.
    assert store.query("SELECT CAST(:v AS VARCHAR) AS a, 1::INTEGER AS b", {"v": 5}) == [{"a": "5", "b": 1}]


def test_instants_round_trip_in_utc(store: Store) -> None:
    t = datetime(2024, 10, 27, 1, 30, tzinfo=UTC)
    with store.write() as w:
        w.append("ucr_referrals", pa.table({
            "referral_id": ["R1"], "org_code": ["RYX"],
            "referral_time": pa.array([t], pa.timestamp("us", tz="UTC")),
        }))
    got = store.query("SELECT referral_time FROM ucr_referrals")[0]["referral_time"]
    assert got == t
    assert store.query_arrow("SELECT referral_id FROM ucr_referrals").column("referral_id").to_pylist() == ["R1"]


def test_a_failed_write_leaves_nothing(store: Store) -> None:
    with pytest.raises(RuntimeError), store.write() as w:
        w.append("ucr_referrals", pa.table({"referral_id": ["R1"], "org_code": ["RYX"],
                                            "referral_time": pa.array([datetime(2024, 1, 1, tzinfo=UTC)],
                                                                      pa.timestamp("us", tz="UTC"))}))
        raise RuntimeError("boom")
    assert store.counts()["ucr_referrals"] == 0


def test_store_urls(tmp_path: Path) -> None:
    assert open_store(f"duckdb:///{tmp_path}/a.duckdb").engine == "duckdb"
    assert (tmp_path / "a.duckdb").exists()
    with pytest.raises(UecError, match="is a folder"):
        open_store(str(tmp_path))
    with pytest.raises(UecError, match="unknown store URL 'sqlite:///x'"):
        open_store("sqlite:///x")
    with pytest.raises(UecError, match=r"cannot open store postgresql://u:\*\*\*@127\.0\.0\.1:1/x"):
        open_store("postgresql://u:secret@127.0.0.1:1/x")


def test_environment_variable_names_the_default_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UEC_STORE", str(tmp_path / "env.duckdb"))
    assert open_store().url == str(tmp_path / "env.duckdb")


def test_reading_shares_one_connection_and_releases_it(store: Store) -> None:
    opened: list[object] = []
    real = store._open_reader

    def counting() -> object:
        con = real()
        opened.append(con)
        return con

    store._open_reader = counting  # type: ignore[method-assign]
    with store.reading():
        with store.reading():  # nested blocks reuse the outer connection
            assert store.query("SELECT count(*) AS n FROM attendances") == [{"n": 0}]
        assert store.query_arrow("SELECT count(*) AS n FROM spells").column("n").to_pylist() == [0]
        assert store._held() is opened[0]
    assert len(opened) == 1
    assert store._held() is None
    # Once the block ends a writer gets in (on DuckDB the held read connection would have kept it out).
    with store.write() as w:
        w.execute("DELETE FROM returns")
    assert store.query_arrow("SELECT org_code FROM returns").num_rows == 0
