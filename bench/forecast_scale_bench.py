"""How long the production forecast model takes on a realistic number of series.

About 100 synthetic daily demand series of five years each (weekly and annual seasonality, a
gentle trend, bank-holiday dips, Poisson noise, levels from 5 to 800 a day), fitted and forecast
14 days ahead with the model ``uec forecast refresh`` uses by default (``auto``: the choice
among the base models its time budget allows, with calibrated intervals; see
docs/forecasting.md), the series spread over ``--workers`` local processes (default 2, the
machine's cores; 1 is serial). Target: 60 seconds or less.

Usage::

    .venv/bin/python bench/forecast_scale_bench.py [--series 100] [--years 5] [--horizon 14] [--model auto]
        [--workers 2]

Prints progress, the elapsed seconds and whether they are within the target, then one JSON line.
"""

from __future__ import annotations

import os

# One BLAS thread: the models' small matrix products only slow down when threads compete.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import json
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd

from uec.forecast import AutoModel, bank_holidays, make_model

TARGET_SECONDS = 60.0


def synthetic_series(n_series: int, years: int, seed: int = 0) -> pd.DataFrame:
    """Long frame of ``n_series`` daily count series ending 2025-12-31."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range(end="2025-12-31", periods=years * 365, freq="D")
    hol = np.isin(ds.date, list(bank_holidays(range(ds[0].year, ds[-1].year + 1))))
    t = np.arange(len(ds)) / 365.25
    parts = []
    for i in range(n_series):
        level = float(np.exp(rng.uniform(np.log(5), np.log(800))))
        weekly = 1 + rng.uniform(0.05, 0.3) * np.array([1.0, 0.4, 0.1, 0.0, 0.2, -0.6, -0.8])[ds.day_of_week]
        annual = 1 + rng.uniform(0.03, 0.15) * np.cos(2 * np.pi * (ds.day_of_year - rng.integers(0, 60)) / 365.25)
        rate = level * weekly * annual * (1 + rng.uniform(-0.02, 0.05) * t) * np.where(hol, 0.8, 1.0)
        parts.append(pd.DataFrame({"unique_id": f"s{i:03d}", "ds": ds, "y": rng.poisson(rate).astype(float)}))
    return pd.concat(parts, ignore_index=True)


def _fit_chunk(frame: pd.DataFrame, name: str, horizon: int) -> tuple[pd.DataFrame, dict[str, str]]:
    model = make_model(name, "daily")
    fc = model.fit(frame).predict(horizon)
    return fc, dict(model.chosen) if isinstance(model, AutoModel) else {}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--series", type=int, default=100)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--horizon", type=int, default=14)
    parser.add_argument("--model", default="auto")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    data = synthetic_series(args.series, args.years)
    # Warm the one-off costs (imports, the holiday calendar) outside the timed run, as a
    # long-running refresh would have them already.
    make_model(args.model, "daily").fit(data[data["unique_id"] == "s000"]).predict(args.horizon)
    t0 = time.perf_counter()
    ids = sorted(data["unique_id"].unique())
    chunks = [data[data["unique_id"].isin(ids[i :: max(args.workers, 1)])] for i in range(max(args.workers, 1))]
    if args.workers > 1:
        with ProcessPoolExecutor(args.workers) as pool:
            done = list(pool.map(_fit_chunk, chunks, [args.model] * len(chunks), [args.horizon] * len(chunks)))
    else:
        done = [_fit_chunk(chunks[0], args.model, args.horizon)]
    fc = pd.concat([d[0] for d in done], ignore_index=True)
    chosen = {k: v for d in done for k, v in d[1].items()}
    elapsed = time.perf_counter() - t0
    ok = elapsed <= TARGET_SECONDS
    picks = dict(Counter(chosen.values()))
    print(f"{args.series} series x {args.years} years, horizon {args.horizon}, model {args.model},"
          f" {args.workers} worker(s): {elapsed:.1f} s")
    print(f"within {TARGET_SECONDS:.0f} s: {'yes' if ok else 'NO'}; picks: {picks}")
    summary = {
        "model": args.model,
        "series": args.series,
        "years": args.years,
        "horizon": args.horizon,
        "rows": len(fc),
        "workers": args.workers,
        "seconds": round(elapsed, 1),
        "target_seconds": TARGET_SECONDS,
        "within_target": ok,
        "picks": picks,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
