"""Ingest benchmark: 1 million attendance rows into the embedded store, from Parquet and from CSV.

Peer: a bare DuckDB load of the same file into a DuckDB file (``CREATE TABLE AS SELECT * FROM
read_parquet/read_csv``), which does no validation, quarantine or bookkeeping. We print rows per
second for both and the ratio (ours / bare, time): the price of checking every row.

Targets (issue 2): >= 500k rows/s from Parquet and >= 200k rows/s from CSV on a 2-core machine.

Run: ``.venv/bin/python bench/ingest_bench.py [--rows N]``. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from uec.ingest import ingest
from uec.store import open_store


def make_attendances(n: int, seed: int = 1) -> pa.Table:
    """A contract-valid attendances table of ``n`` rows (times as UTC instants)."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2024-01-01T00:00:00", "us")
    arrival = start + rng.integers(0, 365 * 86_400, n).astype("timedelta64[s]")
    stay = rng.gamma(2.0, 100.0, n).astype("int64") + 10
    assess = rng.integers(0, 30, n)
    return pa.table({
        "attendance_id": pa.array([f"A{i:08d}" for i in range(n)]),
        "site_code": pa.array(rng.choice(["DEMO-A01", "DEMO-B01", "DEMO-C01", "RXD01", "RXD02"], n)),
        "service_type": pa.array(rng.choice(["ed_type1", "utc", "sdec"], n, p=[0.6, 0.3, 0.1])),
        "arrival_time": pa.array(arrival, pa.timestamp("us", tz="UTC")),
        "arrival_mode": pa.array(rng.choice(["ambulance", "walk_in", "other"], n, p=[0.25, 0.7, 0.05])),
        "acuity": pa.array(rng.integers(1, 6, n)),
        "initial_assessment_time": pa.array(arrival + assess.astype("timedelta64[m]"), pa.timestamp("us", tz="UTC")),
        "departure_time": pa.array(arrival + stay.astype("timedelta64[m]"), pa.timestamp("us", tz="UTC")),
        "disposal": pa.array(rng.choice(["admitted", "discharged", "referred"], n, p=[0.25, 0.65, 0.1])),
        "age_band": pa.array(rng.choice(["0-4", "5-17", "18-64", "65-74", "75-84", "85+"], n)),
        "sex": pa.array(rng.choice(["female", "male"], n)),
        "imd_decile": pa.array(rng.integers(1, 11, n)),
        "mental_health": pa.array(rng.random(n) < 0.03),
        "patient_key": pa.array([f"P{i % 400_000:07d}" for i in range(n)]),
    })


def bare(path: Path, reader: str, db: Path) -> float:
    t0 = time.perf_counter()
    con = duckdb.connect(str(db))
    con.execute(f"CREATE TABLE t AS SELECT * FROM {reader}('{path}')")
    con.close()
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        data = make_attendances(args.rows)
        pq.write_table(data, d / "att.parquet")
        pacsv.write_csv(data, d / "att.csv")
        out: dict[str, float | int] = {"rows": args.rows}
        for fmt, reader in (("parquet", "read_parquet"), ("csv", "read_csv")):
            store = open_store(str(d / f"{fmt}.duckdb"))
            t0 = time.perf_counter()
            result = ingest(store, "attendances", d / f"att.{fmt}")
            ours = time.perf_counter() - t0
            assert result.rows_loaded == args.rows, result
            peer = bare(d / f"att.{fmt}", reader, d / f"bare_{fmt}.duckdb")
            out[f"{fmt}_rows_per_second"] = round(args.rows / ours)
            out[f"{fmt}_bare_duckdb_rows_per_second"] = round(args.rows / peer)
            out[f"{fmt}_time_ratio_vs_bare_duckdb"] = round(ours / peer, 2)
            print(f"{fmt:8s} ours {ours:6.2f} s ({args.rows / ours:,.0f} rows/s)   "
                  f"bare duckdb {peer:6.2f} s ({args.rows / peer:,.0f} rows/s)   ratio {ours / peer:.2f}x")
        print(json.dumps(out))


if __name__ == "__main__":
    main()
