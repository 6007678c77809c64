"""Benchmark: how honest are the bed occupancy projection's intervals on the demo ICS?

Builds the demo (fixed seed) into a temporary DuckDB store, projects G&A occupancy at several
as-of midnights for every acute site and the next 1–7 midnights, and compares each projection with
the actual midnight census counted from the spells. Three variants are scored on the same
admissions forecasts:

* ``independent``: each day's admissions drawn independently, no calibration (the earlier method);
* ``level shock``: admissions share one level shock per simulated path, no calibration;
* ``calibrated``: the level shock plus the split-conformal spread factors (the default);
* ``independent, calibrated``: the spread factors alone, on independent days (does the
  calibration fix the spread by itself?).

Prints mean error (projection − census), mean absolute error, 80% / 95% coverage and seconds per
variant, the spread factors per as-of date, and a final one-line JSON.

    .venv/bin/python bench/occupancy_bench.py [--days 365] [--seed 42] [--model glm] [--quick]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import uec.forecast.occupancy as occupancy
from uec.demo import build_demo
from uec.forecast.occupancy import admissions_forecast, project_occupancy
from uec.forecast.series import spells_frame
from uec.store import open_store

END = dt.date(2026, 11, 22)
# Local midnights (two each on Mondays, Wednesdays, Thursdays, Sundays) over the last eight months,
# each at least 16 weeks into a 365-day demo (84 days of weekday factors and 8 weekly replays
# need history) and a week before its end (the census must be known).
AS_OF_DATES = [
    dt.date(2026, 4, 6),
    dt.date(2026, 5, 6),
    dt.date(2026, 6, 4),
    dt.date(2026, 7, 12),
    dt.date(2026, 8, 10),
    dt.date(2026, 9, 9),
    dt.date(2026, 10, 8),
    dt.date(2026, 11, 8),
]


def _census(spells: pd.DataFrame, site: str, midnight: pd.Timestamp) -> int:
    s = spells[spells["site_code"] == site]
    return int(
        ((s["admission_time"] <= midnight) & (s["discharge_time"].isna() | (s["discharge_time"] > midnight))).sum()
    )


def _summary(rows: list[dict[str, Any]], key: str) -> dict[str, float]:
    err = np.array([r[f"{key}_mean"] - r["actual"] for r in rows])
    c80 = np.array([r[f"{key}_lo80"] <= r["actual"] <= r[f"{key}_hi80"] for r in rows])
    c95 = np.array([r[f"{key}_lo95"] <= r["actual"] <= r[f"{key}_hi95"] for r in rows])
    width80 = np.array([r[f"{key}_hi80"] - r[f"{key}_lo80"] for r in rows])
    return {
        "mean_error": round(float(err.mean()), 1),
        "mae": round(float(np.abs(err).mean()), 1),
        "coverage80": round(float(c80.mean()), 3),
        "coverage95": round(float(c95.mean()), 3),
        "width80": round(float(width80.mean()), 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=365, help="days of demo history")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--model", default="glm", help="model forecasting admissions")
    ap.add_argument("--quick", action="store_true", help="three as-of dates only")
    args = ap.parse_args()
    dates = AS_OF_DATES[::3] if args.quick else AS_OF_DATES
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(str(Path(tmp) / "uec.duckdb"))
        t0 = time.perf_counter()
        build_demo(store, seed=args.seed, days=args.days, end=END)
        print(f"demo: {args.days} days to {END}, seed {args.seed}, built in {time.perf_counter() - t0:.1f} s")
        spells = spells_frame(store)
        rows: list[dict[str, Any]] = []
        seconds = {"forecast": 0.0, "independent": 0.0, "calibrated": 0.0}
        factors: dict[str, list[float]] = {}
        for day in dates:
            as_of = pd.Timestamp(day).tz_localize("Europe/London")
            t = time.perf_counter()
            adm = admissions_forecast(store, as_of.tz_convert("UTC"), 7, args.model)
            seconds["forecast"] += time.perf_counter() - t
            # The earlier method: independent days, no calibration.
            saved = occupancy.LEVEL_CORRELATION
            occupancy.LEVEL_CORRELATION = 0.0
            t = time.perf_counter()
            before = project_occupancy(store, as_of=as_of, days=7, admissions=adm, calibrate=False)
            seconds["independent"] += time.perf_counter() - t
            alone = project_occupancy(store, as_of=as_of, days=7, admissions=adm)
            occupancy.LEVEL_CORRELATION = saved
            t = time.perf_counter()
            after = project_occupancy(store, as_of=as_of, days=7, admissions=adm)
            seconds["calibrated"] += time.perf_counter() - t
            assert after.calibration is not None
            factors[day.isoformat()] = after.calibration.factors
            for b, a, c in zip(before.sites, after.sites, alone.sites, strict=True):
                for k, (mb, ma, mc) in enumerate(zip(b.midnights, a.midnights, c.midnights, strict=True)):
                    row: dict[str, Any] = {
                        "as_of": day.isoformat(),
                        "site": a.site_code,
                        "ahead": k + 1,
                        "actual": _census(spells, a.site_code, pd.Timestamp(ma.midnight)),
                    }
                    for key, band in (
                        ("independent", mb.occupied),
                        ("level", ma.occupied_uncalibrated),
                        ("calibrated", ma.occupied),
                        ("alone", mc.occupied),
                    ):
                        for f in ("mean", "lo80", "hi80", "lo95", "hi95"):
                            row[f"{key}_{f}"] = getattr(band, f)
                    rows.append(row)
            print(f"{day} factors by day ahead: {' '.join(f'{f:.2f}' for f in after.calibration.factors)}", flush=True)
    n = len(rows)
    print(f"\n{len(dates)} as-of dates × {len({r['site'] for r in rows})} sites × 7 midnights = {n} projections")
    print(f"{'variant':<14}{'mean err':>9}{'MAE':>7}{'cov80':>7}{'cov95':>7}{'width80':>9}")
    result: dict[str, Any] = {"projections": n, "model": args.model, "as_of": [d.isoformat() for d in dates]}
    variants = (
        ("independent", "independent"),
        ("level", "level shock"),
        ("calibrated", "calibrated"),
        ("alone", "indep. + cal."),
    )
    for key, label in variants:
        s = _summary(rows, key)
        result[key] = s
        print(
            f"{label:<14}{s['mean_error']:>9.1f}{s['mae']:>7.1f}{s['coverage80']:>7.2f}{s['coverage95']:>7.2f}"
            f"{s['width80']:>9.1f}"
        )
    print("\nby day ahead (calibrated): ahead, MAE, cov80, cov95, mean factor")
    by_ahead = []
    for k in range(1, 8):
        sub = [r for r in rows if r["ahead"] == k]
        s = _summary(sub, "calibrated")
        f = float(np.mean([v[k - 1] for v in factors.values()]))
        by_ahead.append({"ahead": k, **s, "factor": round(f, 2)})
        print(f"  {k}  {s['mae']:6.1f}  {s['coverage80']:.2f}  {s['coverage95']:.2f}  {f:.2f}")
    result["by_ahead"] = by_ahead
    result["seconds"] = {k: round(v, 1) for k, v in seconds.items()}
    result["seconds_per_projection"] = {
        "uncalibrated": round(seconds["independent"] / len(dates), 1),
        "calibrated": round(seconds["calibrated"] / len(dates), 1),
    }
    print(
        f"\nseconds per as-of (3 sites, 7 days): admissions forecast {seconds['forecast'] / len(dates):.1f}, "
        f"uncalibrated {seconds['independent'] / len(dates):.1f}, calibrated {seconds['calibrated'] / len(dates):.1f}"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
