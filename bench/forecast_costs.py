"""What each base model costs ``auto`` on one series, measured, next to the fixed estimates in
``uec.forecast.models.FIT_COST`` that ``auto``'s budget uses.

``auto`` tries candidates cheapest first while their estimated costs fit its budget
(``AUTO_BUDGET``). The estimates are a fixed table on purpose (a budget on the wall clock would
make the choice depend on the machine's load, and a serial run and a Dask run would disagree),
so this bench is how the table is kept honest: it times, in CPU seconds of this process,
exactly what ``auto`` runs for one candidate (:func:`uec.forecast.models.measure_fit_cost`: the
internal test of 26 weekly origins, refitted every 4, plus the final fit) on

* daily: one five-year synthetic series of ``bench/forecast_scale_bench.py`` (the scale the
  60-second target is set for), horizon 14;
* hourly (``--hourly``): the last two years of ``bench/forecast_speed.py``'s synthetic ED,
  horizon 48.

Usage::

    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/forecast_costs.py [--models snaive,glm,ets] [--hourly]

Prints a table (measured CPU s, table estimate, ratio) and one JSON line.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import json
import sys
from pathlib import Path

from uec.forecast.frame import Freq
from uec.forecast.models import AUTO_CANDIDATES, FIT_COST, measure_fit_cost

sys.path.insert(0, str(Path(__file__).resolve().parent))
from forecast_scale_bench import synthetic_series


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--models", default=",".join(AUTO_CANDIDATES))
    parser.add_argument("--hourly", action="store_true")
    args = parser.parse_args()
    freq: Freq = "hourly" if args.hourly else "daily"
    if args.hourly:
        from forecast_speed import synthetic_ed

        data = synthetic_ed()
        history = data.iloc[-2 * 365 * 24 :][["ds", "y"]]
        horizon = 48
    else:
        history = synthetic_series(1, 5)[["ds", "y"]]
        horizon = 14
    # Warm the one-off costs (imports, calendars) outside the measurement.
    measure_fit_cost("glm", freq, history.iloc[-400 * (24 if args.hourly else 1) :], horizon, n_origins=2)
    print(f"| {freq} model | measured CPU s | FIT_COST | measured / table |")
    print("|---|---|---|---|")
    out: dict[str, dict[str, float]] = {}
    for name in args.models.split(","):
        cost = measure_fit_cost(name, freq, history, horizon)
        table = FIT_COST[freq].get(name, float("nan"))
        out[name] = {"measured": round(cost, 2), "table": table}
        print(f"| {name} | {cost:.2f} | {table:g} | {cost / table:.1f} |", flush=True)
    print(json.dumps({"freq": freq, "costs": out}))


if __name__ == "__main__":
    main()
