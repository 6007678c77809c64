"""How busy the stored forecasts say the next hours will be, for the projected level.

The start-from-now simulation's arrival rates are the whole-system model's own: its calibration,
shaped by hour of day, day of week and season, i.e. a *usual* day. The stored demand forecast
(``uec forecast``: hourly arrivals at every ED, UTC and SDEC, ``arrivals/{site}/{service}``) says what
*these* hours will bring. :func:`demand_forecast` compares the two on the store's own terms: the
forecast's arrivals over the hours of the projection it covers, against the arrivals the store holds
for the same hours of the week in the :data:`BASELINE_WEEKS` weeks before (the usual for those
hours, by the same sites and services; weeks the store does not hold are left out). Their ratio
multiplies every arrival rate of the model (the model's ``demand_growth``), so a forecast of a 20%
busier evening runs the model 20% busier.

When no stored forecast covers the projection's hours (none saved, or saved before and ended), or the
store holds no arrivals for the usual, the ratio is 1 and the projection is the simulation's alone;
:attr:`DemandForecast.source` and :attr:`~DemandForecast.note` say which was used.

>>> DemandForecast.simulation_only("no stored forecast of hourly arrivals").as_dict()["source"]
'simulation'
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from uec.escalation.queries import arrivals_between
from uec.store import Store

__all__ = ["BASELINE_WEEKS", "RATIO_BOUNDS", "DemandForecast", "demand_forecast"]

#: Weeks of the same hours before the start that make the usual (four: a month, without a season's drift).
BASELINE_WEEKS = 4
#: The ratio is held within these bounds: a forecast far outside them is more likely broken (a run on
#: part of the data) than a day twice as busy, and the model was calibrated nowhere near such loads.
#: ``verified: false`` (a judgement, not a published figure).
RATIO_BOUNDS = (0.5, 2.0)


@dataclass(frozen=True)
class DemandForecast:
    """The demand a projection ran with: ``ratio`` multiplies every arrival rate of the model."""

    source: str  # "forecast": the stored forecast drove the rates; "simulation": the model's own
    ratio: float
    note: str
    series: tuple[str, ...] = ()
    run_ids: tuple[str, ...] = ()
    hours_covered: int = 0
    forecast_arrivals: float | None = None
    usual_arrivals: float | None = None

    @classmethod
    def simulation_only(cls, why: str) -> DemandForecast:
        """The model's own rates, and why no forecast was used."""
        return cls("simulation", 1.0, f"the simulation's own arrival rates: {why}")

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "ratio": round(self.ratio, 4), "note": self.note,
                "series": list(self.series), "run_ids": list(self.run_ids), "hours_covered": self.hours_covered,
                "forecast_arrivals": None if self.forecast_arrivals is None else round(self.forecast_arrivals, 1),
                "usual_arrivals": None if self.usual_arrivals is None else round(self.usual_arrivals, 1)}


def demand_forecast(store: Store, start: dt.datetime, hours: int) -> DemandForecast:
    """The ratio of the stored forecast's arrivals over ``[start, start + hours)`` to the usual for those
    hours (see the module's text), or the simulation's own rates when there is nothing to compare."""
    from uec.forecast.runs import latest_series_runs, latest_values  # pandas: only when projecting

    latest = latest_series_runs(store)
    ids = sorted(uid for uid, sr in latest.items() if uid.startswith("arrivals/") and sr.freq == "hourly")
    if not ids:
        return DemandForecast.simulation_only("no stored forecast of hourly arrivals")
    start = start.astimezone(dt.UTC)
    lo = start.replace(minute=0, second=0, microsecond=0)
    hi = start + dt.timedelta(hours=hours)
    values = latest_values(store, ids)
    stamps = [ts.to_pydatetime() for ts in values["ds"]]
    rows = [(uid, ts, float(mean)) for uid, ts, mean in zip(values["unique_id"], stamps, values["mean"], strict=True)
            if lo <= ts < hi]
    if not rows:
        return DemandForecast.simulation_only(f"the stored forecasts of arrivals do not cover "
                                              f"{start:%Y-%m-%d %H:%M} UTC to {hi:%Y-%m-%d %H:%M} UTC")
    first, last = min(ts for _, ts, _ in rows), max(ts for _, ts, _ in rows) + dt.timedelta(hours=1)
    used = sorted({uid for uid, _, _ in rows})
    pairs = [(uid.split("/")[1], uid.split("/")[2]) for uid in used]
    # The usual is counted over the span the forecast covers (one hourly run gives every series the
    # same horizon), by the same sites and services.
    forecast = sum(mean for _, _, mean in rows)
    weeks = [(first - dt.timedelta(weeks=k), last - dt.timedelta(weeks=k)) for k in range(1, BASELINE_WEEKS + 1)]
    # A week without a single arrival is one the store does not hold (it starts later, or a feed was
    # down), not a usual week.
    held = [n for n in arrivals_between(store, weeks, pairs) if n > 0]
    usual = sum(held) / len(held) if held else 0.0
    if usual <= 0:
        return DemandForecast.simulation_only(f"the store holds no arrivals in the {BASELINE_WEEKS} weeks before "
                                              "to compare the forecast with")
    raw = forecast / usual
    ratio = min(max(raw, RATIO_BOUNDS[0]), RATIO_BOUNDS[1])
    bounded = "" if ratio == raw else f" (the forecast's {raw:.2f} held to {ratio:.2f})"
    covered = int((last - first).total_seconds() // 3600)
    note = (f"arrival rates x {ratio:.2f}{bounded}: the stored forecast gives {forecast:.0f} arrivals in the "
            f"{covered} hours it covers; the same hours of the {len(held)} week(s) before that the store holds "
            f"had {usual:.0f} on average")
    runs = tuple(sorted({str(latest[uid].run_id) for uid in used}))
    return DemandForecast("forecast", ratio, note, tuple(used), runs, covered, forecast, usual)
