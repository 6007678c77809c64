"""Revised returns replace their values and keep the history; ``--as-of``; ``uec unload`` (both stores)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from uec.contract import tables
from uec.errors import UecError
from uec.ingest import ingest, return_history, unload
from uec.standards import compute
from uec.store import Store

MARCH = dt.date(2019, 3, 1)
HEADER = "period,org_code,type,attendances,breaches,admissions\n"


def _file(tmp_path: Path, name: str, body: str) -> Path:
    f = tmp_path / name
    f.write_text(HEADER + body)
    return f


def _loaded_at(store: Store, load_id: int | None) -> dt.datetime:
    at = store.query("SELECT loaded_at FROM loads WHERE load_id = :l", {"l": load_id})[0]["loaded_at"]
    assert isinstance(at, dt.datetime)
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)


def _four_hour(store: Store, as_of: dt.datetime | None = None) -> float | None:
    res = compute(store, "ed-4hr-type1", org="DEMO-A", period="month", start=MARCH, end=dt.date(2019, 4, 1),
                  as_of=as_of)
    return res.rows[0].value if res.rows else None


def snapshot(store: Store) -> dict[str, tuple[int, str]]:
    """Rows and an order-independent checksum of every table a load touches."""
    out = {}
    for name in [t.name for t in tables()] + ["loads", "quarantine", "returns_history"]:
        rows = sorted(json.dumps(r, sort_keys=True, default=str) for r in store.query(f"SELECT * FROM {name}"))
        out[name] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
    return out


def test_a_revised_return_replaces_its_value_and_as_of_shows_the_old(store: Store, tmp_path: Path) -> None:
    first = ingest(store, "ae-attendances", _file(tmp_path, "feb.csv", "2019-03-01,DEMO-A,1,100,10,20\n"))
    assert _four_hour(store) == pytest.approx(0.9)
    revised = ingest(store, "ae-attendances", _file(tmp_path, "rev.csv", "2019-03-01,DEMO-A,1,100,30,20\n"))
    assert (revised.rows_loaded, revised.rows_quarantined, revised.rows_revised) == (1, 0, 3)
    assert store.counts()["returns"] == 3  # one value per key, the latest
    assert _four_hour(store) == pytest.approx(0.7)
    # What was known then: after the first load, before the revision.
    assert _four_hour(store, as_of=_loaded_at(store, first.load_id)) == pytest.approx(0.9)
    assert _four_hour(store, as_of=_loaded_at(store, revised.load_id)) == pytest.approx(0.7)
    before_any = _loaded_at(store, first.load_id) - dt.timedelta(microseconds=1)
    assert _four_hour(store, as_of=before_any) is None
    note = compute(store, "ed-4hr-type1", org="DEMO-A", period="month", start=MARCH, end=dt.date(2019, 4, 1),
                   as_of=before_any).notes[-1]
    assert "source not loaded by then: none of its returns had been loaded at " in note
    history = return_history(store, "DEMO-A", MARCH, "ae_breaches_type1", "ae_monthly")
    assert [(h["value"], h["load_id"], h["superseded_by"]) for h in history] == [
        (10, first.load_id, revised.load_id), (30, revised.load_id, None)]
    assert history[0]["file_name"].endswith("feb.csv") and history[0]["loaded_at"] is not None


def test_unload_restores_the_store_exactly(store: Store, tmp_path: Path) -> None:
    empty = snapshot(store)
    a = ingest(store, "ae-attendances",
               _file(tmp_path, "a.csv", "2019-03-01,DEMO-A,1,100,10,20\n2019-03-01,DEMO-B,1,50,5,9\n"))
    after_a = snapshot(store)
    # A revision of one key, a new key and a rejected row.
    b = ingest(store, "ae-attendances", _file(
        tmp_path, "b.csv", "2019-03-01,DEMO-A,1,100,30,20\n2019-03-01,DEMO-C,1,70,7,7\n2019-03-01,RXD,9,1,1,1\n"))
    assert (b.rows_revised, b.rows_quarantined) == (3, 1)
    assert snapshot(store) != after_a
    done = unload(store, b.load_id or 0)
    assert (done.rows_removed, done.rows_restored, done.quarantine_removed) == (6, 3, 1)
    assert snapshot(store) == after_a
    assert _four_hour(store) == pytest.approx(0.9)
    unload(store, a.load_id or 0)
    assert snapshot(store) == empty
    # The same file can be loaded again once its load is gone.
    again = ingest(store, "ae-attendances", tmp_path / "a.csv")
    assert again.already_loaded is None and again.rows_loaded == 2


def test_unloading_a_middle_revision_keeps_the_later_one(store: Store, tmp_path: Path) -> None:
    a = ingest(store, "ae-attendances", _file(tmp_path, "a.csv", "2019-03-01,DEMO-A,1,100,10,20\n"))
    b = ingest(store, "ae-attendances", _file(tmp_path, "b.csv", "2019-03-01,DEMO-A,1,100,20,20\n"))
    c = ingest(store, "ae-attendances", _file(tmp_path, "c.csv", "2019-03-01,DEMO-A,1,100,40,20\n"))
    unload(store, b.load_id or 0)
    assert _four_hour(store) == pytest.approx(0.6)
    assert _four_hour(store, as_of=_loaded_at(store, a.load_id)) == pytest.approx(0.9)
    history = return_history(store, "DEMO-A", MARCH, "ae_breaches_type1", "ae_monthly")
    assert [(h["value"], h["superseded_by"]) for h in history] == [(10, c.load_id), (40, None)]
    unload(store, c.load_id or 0)
    assert _four_hour(store) == pytest.approx(0.9)
    assert store.query("SELECT count(*) AS n FROM returns_history")[0]["n"] == 0


def test_unload_of_an_event_load_and_of_an_unknown_load(store: Store, tmp_path: Path) -> None:
    empty = snapshot(store)
    f = tmp_path / "att.csv"
    f.write_text("attendance_id,site_code,service_type,arrival_time\nA1,DEMO-A01,ed_type1,2024-03-01T10:00:00Z\n"
                 "A2,DEMO-A01,ed_type9,2024-03-01T10:00:00Z\n")
    r = ingest(store, "attendances", f)
    assert (r.rows_loaded, r.rows_quarantined) == (1, 1)
    assert unload(store, r.load_id or 0).rows_removed == 1
    assert snapshot(store) == empty
    with pytest.raises(UecError, match="there is no load 999"):
        unload(store, 999)


def test_cli_unload_is_audited_in_the_same_transaction(store_url: str, tmp_path: Path) -> None:
    from uec.cli import app
    from uec.store import open_store

    store = open_store(store_url)
    r = ingest(store, "ae-attendances", _file(tmp_path, "a.csv", "2019-03-01,DEMO-A,1,100,10,20\n"))
    runner = CliRunner()
    res = runner.invoke(app, ["unload", str(r.load_id), "--store", store_url, "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output.strip().splitlines()[-1])["rows_removed"] == 3
    entry = store.query("SELECT action, object_type, object_id, actor FROM audit_log ORDER BY id DESC LIMIT 1")[0]
    assert (entry["action"], entry["object_type"], entry["object_id"]) == ("unload", "load", str(r.load_id))
    assert entry["actor"].startswith("cli")
    again = runner.invoke(app, ["unload", str(r.load_id), "--store", store_url])
    # `main` turns this into one `error:` line and exit 2, as for every UecError.
    assert isinstance(again.exception, UecError) and f"there is no load {r.load_id}" in str(again.exception)
