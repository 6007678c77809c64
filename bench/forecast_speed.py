"""Time the two rolling-origin protocols of issue 16 and print CPU-seconds per origin per model.

* ``hourly``: a large ED's hourly arrivals in the published protocol — forecasts issued at 00:00
  and 12:00 local time for a year (725 origins), leads 0–48 h (49 hourly steps), 19 scored
  quantiles — on a synthetic 4-year hourly series of that size and shape (about 330 arrivals a
  day with hour-of-day, day-of-week and annual patterns, bank-holiday effects, slow growth and
  negative binomial noise; seeded, so every run sees the same series).
* ``daily``: the South Western Ambulance trust series, Monks et al. stage 1: 27 weekly origins
  2017-07-01 … 2017-12-30, 84-day horizon.

Each model is refitted once per ``--refit-every`` (hourly default 168 h, daily 28 days) and
updated at the origins in between, with ``--workers`` local processes (default 2, this
machine's cores). Wall and CPU seconds (this process and its workers) per model, CPU-seconds per
origin, and the accuracy so a fast model is not mistaken for a good one (hourly: pinball loss
and its skill over the trailing-12-week empirical benchmark; daily: MASE at 7 and 84 days and
80%/95% coverage at 7 days).

Usage::

    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/forecast_speed.py [--protocols hourly,daily]
        [--hourly-models glm,poisson] [--daily-models glm,auto] [--workers 2] [--origins 725]

``--origins`` shortens the hourly year (the first N origins) for a quick look.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import json
import resource
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from uec.forecast import backtest, bank_holidays
from uec.forecast.clock import origins as make_origins

ROOT = Path(__file__).resolve().parents[1]


def synthetic_ed(seed: int = 16) -> pd.DataFrame:
    """Four years (2020-01-01 … 2023-12-31 local) of hourly arrivals at a large ED, UTC ``ds``."""
    ds = pd.date_range("2020-01-01", "2024-01-01", freq="h", tz="Europe/London", inclusive="left").tz_convert("UTC")
    local = ds.tz_convert("Europe/London")
    hour = np.asarray(local.hour)
    dow = np.asarray(local.day_of_week)
    # Arrivals per hour by hour of day: a night trough and a late-morning peak (shape of a type 1 ED).
    profile = np.array([0.55, 0.45, 0.38, 0.33, 0.3, 0.3, 0.35, 0.5, 0.8, 1.15, 1.4, 1.45,
                        1.45, 1.4, 1.35, 1.3, 1.3, 1.3, 1.3, 1.25, 1.15, 1.0, 0.85, 0.7])
    weekly = np.array([1.12, 1.02, 1.0, 0.98, 0.99, 0.95, 0.96])
    doy = np.asarray(local.day_of_year)
    annual = 1 + 0.06 * np.cos(2 * np.pi * (doy - 20) / 365.25)
    years = (ds - ds[0]) / pd.Timedelta(days=365.25)
    trend = 1 + 0.02 * np.asarray(years)
    day = np.asarray(local.tz_localize(None).normalize().values.astype("datetime64[D]"))
    hol = np.array(sorted(bank_holidays(range(2020, 2024))), dtype="datetime64[D]")
    holiday = np.where(np.isin(day, hol), 0.9, 1.0)
    # Weekends and holidays start later: shift their morning down.
    late = np.where(((dow >= 5) | np.isin(day, hol)) & (hour >= 7) & (hour <= 10), 0.85, 1.0)
    mu = 330 / 24 * profile[hour] / profile.mean() * weekly[dow] * annual * trend * holiday * late
    rng = np.random.default_rng(seed)
    # Negative binomial (gamma-Poisson) with a small extra dispersion, as real arrivals show.
    y = rng.poisson(mu * rng.gamma(40.0, 1 / 40.0, size=mu.size))
    return pd.DataFrame({"unique_id": "ed", "ds": ds, "y": y.astype(float)})


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _timed(fn, workers: int):  # type: ignore[no-untyped-def]
    t0, c0 = time.perf_counter(), _cpu()
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            res = fn(pool)
    else:
        res = fn(None)
    return res, time.perf_counter() - t0, _cpu() - c0


def hourly(models: list[str], workers: int, n_origins: int, refit_every: int) -> dict[str, dict[str, float]]:
    data = synthetic_ed()
    cuts = make_origins("hourly", "2023-01-01", "2023-12-29", 12)[:n_origins]
    last = cuts[-1].tz_convert("Europe/London").tz_localize(None)
    print(f"hourly: {len(data)} hours ({data['y'].sum() / (len(data) / 24):.0f} arrivals/day), {len(cuts)} origins"
          f" x 49 leads x 19 quantiles, refit every {refit_every} h, {workers} worker(s)")
    print("| model | wall s | CPU s | CPU s / origin | pinball | skill vs empirical |")
    print("|---|---|---|---|---|---|")
    out: dict[str, dict[str, float]] = {}
    base = None
    for name in ["empirical", *[m for m in models if m != "empirical"]]:
        res, wall, cpu = _timed(
            lambda ex, name=name: backtest(data, "hourly", 49, 12, "2023-01-01", last.isoformat(), name,
                                           refit_every=refit_every, executor=ex), workers)
        pin = float(res.scorecard.set_index("step").loc["all", "pinball"])
        base = pin if name == "empirical" else base
        skill = 1 - pin / base if base else float("nan")
        out[name] = {"wall": round(wall, 1), "cpu": round(cpu, 1), "cpu_per_origin": round(cpu / len(cuts), 3),
                     "pinball": round(pin, 4), "skill": round(skill, 4)}
        print(f"| {name} | {wall:.0f} | {cpu:.0f} | {cpu / len(cuts):.3f} | {pin:.4f} | {skill:+.1%} |", flush=True)
    return out


def daily(models: list[str], workers: int, refit_every: int) -> dict[str, dict[str, float]]:
    data = pd.read_csv(ROOT / "tests" / "data" / "forecast" / "swast_trust_daily.csv")
    print(f"\ndaily: SWAST trust, stage 1 (27 origins, 84 days), refit every {refit_every} days, {workers} worker(s)")
    print("| model | wall s | CPU s | CPU s / origin | MASE h=7 | MASE h=84 | cov80 h=7 | cov95 h=7 |")
    print("|---|---|---|---|---|---|---|---|")
    out: dict[str, dict[str, float]] = {}
    for name in models:
        res, wall, cpu = _timed(
            lambda ex, name=name: backtest(data, "daily", 84, 7, "2017-07-01", "2017-12-30", name,
                                           refit_every=refit_every, executor=ex), workers)
        s = res.fold_summary([7, 84]).set_index("h")
        row = {"wall": round(wall, 1), "cpu": round(cpu, 1), "cpu_per_origin": round(cpu / 27, 3),
               "mase7": round(float(s.loc[7, "mase_mean"]), 3), "mase84": round(float(s.loc[84, "mase_mean"]), 3),
               "cov80": round(float(s.loc[7, "coverage_80_mean"]), 3),
               "cov95": round(float(s.loc[7, "coverage_95_mean"]), 3)}
        out[name] = row
        print(f"| {name} | {wall:.0f} | {cpu:.0f} | {cpu / 27:.3f} | {row['mase7']:.3f} | {row['mase84']:.3f} |"
              f" {row['cov80']:.3f} | {row['cov95']:.3f} |", flush=True)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--protocols", default="hourly,daily")
    p.add_argument("--hourly-models", default="glm,poisson")
    p.add_argument("--daily-models", default="snaive,glm,ets,ensemble,auto")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--origins", type=int, default=725)
    p.add_argument("--hourly-refit", type=int, default=168)
    p.add_argument("--daily-refit", type=int, default=28)
    a = p.parse_args()
    result: dict[str, object] = {}
    if "hourly" in a.protocols:
        result["hourly"] = hourly(a.hourly_models.split(","), a.workers, a.origins, a.hourly_refit)
    if "daily" in a.protocols:
        result["daily"] = daily(a.daily_models.split(","), a.workers, a.daily_refit)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
