"""Real data loaded into the demo store is flagged: a warning, not an error (issue 15)."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from uec.demo import build_demo, is_demo_store, mixed_in_warning
from uec.store import open_store

DATA = Path(__file__).resolve().parents[1] / "data" / "ingest"
DEMO_ROWS = (
    "attendance_id,site_code,service_type,arrival_time,departure_time,acuity,arrival_mode\n"
    "X1,DEMO-A01,ed_type1,2025-01-15T10:00:00Z,2025-01-15T13:00:00Z,3,walk_in\n"
)


@pytest.fixture()
def demo_path(tmp_path: Path) -> str:
    path = str(tmp_path / "demo.duckdb")
    build_demo(open_store(path), days=1, end=dt.date(2025, 1, 15))
    return path


def ingest(kind: str, file: Path, store: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "uec", "ingest", kind, str(file), "--store", store],
                          capture_output=True, text=True, timeout=300)


def test_a_real_return_loaded_into_the_demo_store_warns(demo_path: str) -> None:
    r = ingest("ae-attendances", DATA / "ae_attendances.csv", demo_path)
    assert r.returncode == 0, r.stderr
    warnings = [line for line in r.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1, r.stderr
    assert "holds the demo ICS" in warnings[0] and "uec unload" in warnings[0]
    assert "warning" not in r.stdout  # the result itself is still printed on stdout, as usual
    assert "loaded:" in r.stdout


def test_rows_for_the_demo_s_own_sites_and_other_stores_do_not_warn(demo_path: str, tmp_path: Path) -> None:
    own = tmp_path / "own.csv"
    own.write_text(DEMO_ROWS)
    r = ingest("attendances", own, demo_path)
    assert r.returncode == 0 and "warning" not in r.stderr, r.stderr
    plain = str(tmp_path / "plain.duckdb")
    r = ingest("ae-attendances", DATA / "ae_attendances.csv", plain)
    assert r.returncode == 0 and "warning" not in r.stderr, r.stderr
    assert not is_demo_store(open_store(plain))


def test_the_warning_names_the_codes(demo_path: str, tmp_path: Path) -> None:
    store = open_store(demo_path)
    assert is_demo_store(store)
    ingest("ae-attendances", DATA / "ae_attendances.csv", demo_path)
    load = store.query("SELECT max(load_id) AS n FROM loads WHERE kind <> 'demo'")[0]["n"]
    text = mixed_in_warning(store, "returns", int(load))
    assert text is not None and "AAH" in text and ", ..." in text
    assert mixed_in_warning(store, "returns", int(load) + 100) is None
