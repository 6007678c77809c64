"""Benchmark the forecast models on the South Western Ambulance trust series (Monks et al. 2023).

Two protocols, both rolling origin every 7 days with an 84-day horizon, scored as the paper does
(metrics over days 1..h of each fold, mean over folds; MASE scaled by the seasonal naive MAE of
the initial training data):

* ``stage1``: validation, origins 2017-07-01 … 2017-12-30 (27 folds), the paper's model screening
  (Table 2 / Table S1: seasonal naive 0.94 at 7 days, best single method 0.76);
* ``test2019``: origins 2019-01-01 … 2019-10-08 (41 folds), the paper's test year (Table 3 reports
  0.66–0.70 for its ensemble, on the seven areas).

Usage::

    .venv/bin/python bench/forecast_bench.py [--models snaive,empirical,glm,auto] [--csv PATH]

PATH defaults to the copy in tests/data/forecast. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

from uec.forecast import backtest

ROOT = Path(__file__).resolve().parents[1]
PROTOCOLS = {"stage1": ("2017-07-01", "2017-12-30"), "test2019": ("2019-01-01", "2019-10-08")}
HORIZONS = (7, 28, 84)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="snaive,empirical,glm,auto")
    parser.add_argument("--csv", type=Path, default=ROOT / "tests" / "data" / "forecast" / "swast_trust_daily.csv")
    args = parser.parse_args()
    data = pd.read_csv(args.csv)
    mase_heads = " | ".join(f"MASE h={h}" for h in HORIZONS)
    print(f"| protocol | model | {mase_heads} | cov80 h=7 | cov95 h=7 | CRPS h=7 | s |")
    print("|---" * (len(HORIZONS) + 6) + "|")
    for protocol, (start, end) in PROTOCOLS.items():
        for name in args.models.split(","):
            t0 = time.perf_counter()
            res = backtest(data, "daily", horizon=84, every=7, test_from=start, test_to=end, model=name)
            s = res.fold_summary(HORIZONS).set_index("h")
            cells = [f"{s.loc[h, 'mase_mean']:.3f}" for h in HORIZONS]
            cells += [f"{s.loc[7, 'coverage_80_mean']:.3f}", f"{s.loc[7, 'coverage_95_mean']:.3f}"]
            cells += [f"{s.loc[7, 'crps_mean']:.1f}", f"{time.perf_counter() - t0:.0f}"]
            print(f"| {protocol} ({len(res.origins)} folds) | {name} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
