"""Benchmark the forecast models on the South Western Ambulance trust series (Monks et al. 2023).

Two protocols, both rolling origin every 7 days with an 84-day horizon, scored as the paper does
(metrics over days 1..h of each fold, mean over folds; MASE scaled by the seasonal naive MAE of
the initial training data):

* ``stage1``: validation, origins 2017-07-01 … 2017-12-30 (27 folds), the paper's model screening
  (Table 2 / Table S1: seasonal naive 0.94 at 7 days, best single method 0.76);
* ``test2019``: origins 2019-01-01 … 2019-10-08 (41 folds), the paper's test year (Table 3 reports
  0.66–0.70 for its ensemble, on the seven areas).

Besides the names of ``MODEL_NAMES``, ``--models`` takes ``auto+ets`` and ``auto+ets+lgbm``:
``auto`` with those extra candidates (slow: every internal origin refits every candidate).

Usage::

    .venv/bin/python bench/forecast_bench.py [--models snaive,glm,auto] [--protocols stage1,test2019] [--csv PATH]

PATH defaults to the copy in tests/data/forecast. Prints a Markdown table, then which of the
issue's Done-when checks each model passes (stage 1: MASE at 7 days < 0.76; 2019: MASE at 7 days
≤ 0.70 with 80% and 95% coverage at 7 days within 3 points of nominal), then one JSON line.
"""

from __future__ import annotations

import os

# One BLAS thread: the models' small matrix products only slow down when threads compete, and
# the benchmark machine is shared.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import json
import time
from pathlib import Path

import pandas as pd

from uec.forecast import MODEL_NAMES, AutoModel, Model, backtest

ROOT = Path(__file__).resolve().parents[1]
PROTOCOLS = {"stage1": ("2017-07-01", "2017-12-30"), "test2019": ("2019-01-01", "2019-10-08")}
HORIZONS = (7, 28, 84)
EXTRA = {"auto+ets": ("snaive", "glm", "ets"), "auto+ets+lgbm": ("snaive", "glm", "ets", "lgbm")}


def _model(name: str) -> str | Model:
    if name in EXTRA:
        return AutoModel("daily", candidates=EXTRA[name])
    if name not in MODEL_NAMES:
        raise SystemExit(f"unknown model {name!r}: choose from {', '.join((*MODEL_NAMES, *EXTRA))}")
    return name


def _verdict(rows: dict[tuple[str, str], dict[str, float]], name: str) -> str:
    s1, t = rows.get(("stage1", name)), rows.get(("test2019", name))
    parts = []
    if s1:
        parts.append(f"stage-1 MASE@7 {s1['mase7']:.3f} {'<' if s1['mase7'] < 0.76 else '>='} 0.76")
    if t:
        ok_mase = t["mase7"] <= 0.70
        ok80 = abs(t["cov80"] - 0.80) <= 0.03
        ok95 = abs(t["cov95"] - 0.95) <= 0.03
        parts.append(
            f"2019 MASE@7 {t['mase7']:.3f} ({'ok' if ok_mase else 'FAIL'}), "
            f"cov80 {t['cov80']:.3f} ({'ok' if ok80 else 'FAIL'}), cov95 {t['cov95']:.3f} ({'ok' if ok95 else 'FAIL'})"
        )
    met = bool(s1 and t and s1["mase7"] < 0.76 and t["mase7"] <= 0.70)
    met = met and bool(t and abs(t["cov80"] - 0.80) <= 0.03 and abs(t["cov95"] - 0.95) <= 0.03)
    return f"{name}: " + "; ".join(parts) + (" -> Done-when MET" if met else " -> not met")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--models", default="snaive,empirical,glm,ets,mstl,lgbm,auto")
    parser.add_argument("--protocols", default="stage1,test2019")
    parser.add_argument("--csv", type=Path, default=ROOT / "tests" / "data" / "forecast" / "swast_trust_daily.csv")
    args = parser.parse_args()
    data = pd.read_csv(args.csv)
    names = args.models.split(",")
    for name in names:
        _model(name)
    mase_heads = " | ".join(f"MASE h={h}" for h in HORIZONS)
    print(f"| protocol | model | {mase_heads} | cov80 h=7 | cov95 h=7 | CRPS h=7 | s |")
    print("|---" * (len(HORIZONS) + 6) + "|")
    rows: dict[tuple[str, str], dict[str, float]] = {}
    for protocol in args.protocols.split(","):
        start, end = PROTOCOLS[protocol]
        for name in names:
            t0 = time.perf_counter()
            res = backtest(data, "daily", horizon=84, every=7, test_from=start, test_to=end, model=_model(name))
            seconds = time.perf_counter() - t0
            s = res.fold_summary(HORIZONS).set_index("h")
            row = {f"mase{h}": float(s.loc[h, "mase_mean"]) for h in HORIZONS}
            row |= {
                "cov80": float(s.loc[7, "coverage_80_mean"]),
                "cov95": float(s.loc[7, "coverage_95_mean"]),
                "crps7": float(s.loc[7, "crps_mean"]),
                "seconds": round(seconds, 1),
            }
            rows[(protocol, name)] = row
            cells = [f"{row[f'mase{h}']:.3f}" for h in HORIZONS]
            cells += [f"{row['cov80']:.3f}", f"{row['cov95']:.3f}", f"{row['crps7']:.1f}", f"{seconds:.0f}"]
            print(f"| {protocol} ({len(res.origins)} folds) | {name} | " + " | ".join(cells) + " |", flush=True)
    print()
    for name in names:
        print(_verdict(rows, name))
    print(json.dumps({f"{p}/{n}": r for (p, n), r in rows.items()}))


if __name__ == "__main__":
    main()
