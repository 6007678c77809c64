"""The forecast and bed occupancy pages' view models, their fan chart and CSV rows (the routes are
in :mod:`uec.web.routes.forecasts` and :mod:`uec.web.routes.occupancy`).

``/forecasts`` lists every series the store can produce with its latest saved forecast;
``/forecasts/{series_id}`` (ids contain ``/``) shows one series: a fan chart drawn on the server
(recent history, the mean forecast and its 80% and 95% intervals), the numbers in a table, and the
backtest scores saved with the run. ``/occupancy`` is the bed occupancy projection per site and
the next day's capacity. Each has ``.json`` and ``.csv`` siblings and an ``/api`` route.

Forecasts are not fitted here: pages read the runs that ``uec forecast run`` or ``refresh`` saved,
so they stay fast. The occupancy projection is computed on request (from saved admissions
forecasts when they cover the days) and kept in the shared cache until the store's data or runs change.

>>> svg = fan_svg(["1 Jul", "2 Jul", "3 Jul"], [5.0, 6.0, None], [(None,) * 5, (None,) * 5, (6.0, 5.0, 7.0, 4.0, 8.0)],
...               title="T", desc="D")
>>> svg.startswith("<svg") and 'role="img"' in svg and "<title" in svg and "<desc" in svg
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
from fastapi import HTTPException
from pydantic import BaseModel

from uec.errors import UecError
from uec.forecast.occupancy import OccupancyProjection
from uec.forecast.quantiles import QUANTILE_COLUMNS
from uec.forecast.runs import latest_series_runs, list_runs, occupancy_projection, run_values
from uec.forecast.series import available_series, parse_series_id, series_frame, series_freq
from uec.store import Store
from uec.web.chart import Axes, svg_head

__all__ = [
    "PAGE_MODEL",
    "ForecastDetail",
    "ForecastList",
    "fan_svg",
    "forecast_detail",
    "forecast_list",
    "occupancy",
    "runs_fingerprint",
]

#: The model the occupancy page fits admissions with when no saved run covers the days: a page
#: must not wait for the slower default model (``uec forecast refresh`` saves that one).
PAGE_MODEL = "glm"
#: History shown before the forecast: eight weeks of days, one week of hours, three years of months.
HISTORY_STEPS: dict[str, int] = {"daily": 56, "hourly": 168, "monthly": 36}


# --- models -------------------------------------------------------------------------------------


class Scores(BaseModel):
    """The backtest saved with a run: scores over all steps of its origins."""

    origins: int
    mase: float | None
    coverage_80: float | None
    coverage_95: float | None
    crps: float | None


class ForecastItem(BaseModel):
    """One series and its latest saved forecast, if any."""

    series_id: str
    title: str
    kind: str
    freq: str
    site_code: str | None
    run_id: str | None = None
    created_at: str | None = None
    model: str | None = None
    model_used: str | None = None
    horizon: int | None = None
    first_step: str | None = None
    first_mean: float | None = None
    scores: Scores | None = None


class RunInfo(BaseModel):
    run_id: str
    created_at: str
    model: str
    freq: str
    horizon: int
    origin: str | None
    n_series: int
    n_failed: int
    source: str


class ForecastList(BaseModel):
    """The forecasts page: every series and the latest runs."""

    series: list[ForecastItem]
    runs: list[RunInfo]


class Point(BaseModel):
    """One step of the chart and its table: an actual, or a forecast with its intervals."""

    ds: str
    label: str
    actual: float | None = None
    mean: float | None = None
    lo80: float | None = None
    hi80: float | None = None
    lo95: float | None = None
    hi95: float | None = None


class ForecastDetail(BaseModel):
    """One series' page."""

    item: ForecastItem
    history: list[Point]
    forecast: list[Point]
    quantiles: list[dict[str, Any]]
    chart_svg: str | None
    chart_summary: str
    messages: list[str]


# --- the fan chart ------------------------------------------------------------------------------

_INK = "#212b32"
_TOP = 16
_MEAN = "#005eb8"
_BAND80 = "#9fc3e7"
_BAND95 = "#d7e7f5"

Band = tuple[float | None, float | None, float | None, float | None, float | None]


def _f(x: float) -> str:
    return f"{x:.1f}"


def fan_svg(
    labels: Sequence[str],
    actual: Sequence[float | None],
    bands: Sequence[Band],
    *,
    title: str,
    desc: str,
    id_prefix: str = "fan-chart",
) -> str:
    """A fan chart as an accessible SVG string.

    ``labels`` name every step; ``actual`` holds the history (``None`` where there is none) and
    ``bands`` each step's (mean, 80% low, 80% high, 95% low, 95% high), all ``None`` before the
    forecast starts. The chart is ``role="img"`` with a ``<title>`` and ``<desc>``.
    """
    n = len(labels)
    values = [v for v in actual if v is not None] + [v for b in bands for v in b if v is not None]
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    counts = lo >= 0
    lo = min(lo, 0.0) if counts and lo < 0.25 * hi else lo
    if hi == lo:
        hi, lo = hi + 1, lo - 1
    pad = (hi - lo) * 0.06
    # Counts never go below zero, so neither does their axis.
    lo, hi = (max(lo - pad, 0.0) if counts else lo - pad), hi + pad
    axes = Axes(n=n, lo=lo, hi=hi, left=70, bottom=64)
    x, y, ph = axes.x, axes.y, axes.height
    out = svg_head(axes, css_class="uec-fan-chart", title=title, desc=desc, id_prefix=id_prefix,
                   labels=labels, format_value=lambda v: f"{v:,.0f}", most_labels=10)
    fc = [i for i, b in enumerate(bands) if b[0] is not None]
    if fc:
        first = fc[0]
        out.append(
            f'<line class="fan-origin" x1="{_f(x(first))}" x2="{_f(x(first))}" y1="{_TOP}" y2="{_TOP + ph}" '
            f'stroke="#768692" stroke-dasharray="4 4"/>'
        )
        for cls, lo_i, hi_i, colour in (("fan-band-95", 3, 4, _BAND95), ("fan-band-80", 1, 2, _BAND80)):
            top = [f"{_f(x(i))},{_f(y(float(bands[i][hi_i] or 0.0)))}" for i in fc]
            bottom = [f"{_f(x(i))},{_f(y(float(bands[i][lo_i] or 0.0)))}" for i in reversed(fc)]
            out.append(f'<polygon class="{cls}" points="{" ".join(top + bottom)}" fill="{colour}" stroke="none"/>')
        mean = " ".join(f"{_f(x(i))},{_f(y(float(bands[i][0] or 0.0)))}" for i in fc)
        out.append(f'<polyline class="fan-mean" points="{mean}" fill="none" stroke="{_MEAN}" stroke-width="2.5"/>')
    hist = [(i, v) for i, v in enumerate(actual) if v is not None]
    if hist:
        path = " ".join(f"{_f(x(i))},{_f(y(v))}" for i, v in hist)
        out.append(f'<polyline class="fan-actual" points="{path}" fill="none" stroke="{_INK}" stroke-width="1.5"/>')
    out.append("</svg>")
    return "".join(out)


# --- building the models ------------------------------------------------------------------------


def _label(ts: pd.Timestamp, freq: str) -> str:
    if freq == "hourly":
        local = ts.tz_convert("Europe/London")
        return f"{local.strftime('%a')} {local.day} {local.strftime('%b %H:%M')}"
    if freq == "monthly":
        return ts.strftime("%B %Y")
    return f"{ts.strftime('%a')} {ts.day} {ts.strftime('%b %Y')}"


def _axis_label(ts: pd.Timestamp, freq: str) -> str:
    if freq == "hourly":
        local = ts.tz_convert("Europe/London")
        return f"{local.day} {local.strftime('%b %H:%M')}"
    if freq == "monthly":
        return ts.strftime("%b %Y")
    return f"{ts.day} {ts.strftime('%b')}"


def _iso(ts: pd.Timestamp, freq: str) -> str:
    return ts.isoformat() if freq == "hourly" else ts.strftime("%Y-%m-%d")


def _item(series_id: str, title: str, kind: str, freq: str, site: str | None, sr: Any, first: Any) -> ForecastItem:
    item = ForecastItem(series_id=series_id, title=title, kind=kind, freq=freq, site_code=site)
    if sr is None:
        return item
    item.run_id, item.model, item.model_used, item.horizon = sr.run_id, sr.model, sr.model_used, sr.horizon
    item.created_at = None if sr.created_at is None else sr.created_at.isoformat()
    item.scores = Scores(
        origins=sr.backtest_origins, **{k: sr.scores.get(k) for k in Scores.model_fields if k != "origins"}
    )
    if first is not None:
        item.first_step, item.first_mean = _iso(pd.Timestamp(first["ds"]), freq), float(first["mean"])
    return item


def _first_steps(store: Store, latest: dict[str, Any]) -> dict[str, Any]:
    """The first forecast step of each series' latest run, read run by run."""
    by_run: dict[str, list[str]] = {}
    for uid, sr in latest.items():
        by_run.setdefault(str(sr.run_id), []).append(uid)
    out: dict[str, Any] = {}
    for run_id, uids in by_run.items():
        values = run_values(store, run_id, uids)
        for key, part in values.groupby("unique_id", sort=False):
            out[str(key)] = part.iloc[0]
    return out


def forecast_list(store: Store) -> ForecastList:
    """Every series the store can produce, with its latest saved forecast, and the latest runs."""
    latest = latest_series_runs(store)
    firsts = _first_steps(store, latest)
    items = [
        _item(s.series_id, s.title, s.kind, s.freq, s.site_code, latest.get(s.series_id), firsts.get(s.series_id))
        for s in available_series(store)
    ]
    runs = [RunInfo(**{k: r[k] for k in RunInfo.model_fields}) for r in list_runs(store, 10)]
    return ForecastList(series=items, runs=runs)


def _series_or_404(store: Store, series_id: str) -> tuple[str, str, str, str | None]:
    try:
        key = parse_series_id(series_id)
    except UecError as exc:
        raise HTTPException(404, f"There is no series {series_id}: {exc}") from None
    known = {s.series_id: s for s in available_series(store)}
    if series_id in known:
        s = known[series_id]
        return s.title, s.kind, s.freq, s.site_code
    if series_id in latest_series_runs(store):
        return series_id, key.kind, series_freq(series_id), key.site
    raise HTTPException(404, f"The store has no data for series {series_id}.")


def forecast_detail(store: Store, series_id: str) -> ForecastDetail:
    """One series: recent history, its latest saved forecast with intervals, and its scores."""
    title, kind, freq, site = _series_or_404(store, series_id)
    sr = latest_series_runs(store).get(series_id)
    values = run_values(store, str(sr.run_id), [series_id]) if sr is not None else pd.DataFrame()
    messages: list[str] = []
    hist = series_frame(store, [series_id])
    hist = hist.tail(HISTORY_STEPS[freq])
    if len(values):
        # Only history up to the forecast's start: later data would be the forecast's test.
        hist = hist[hist["ds"] < values["ds"].iloc[0]]
    history = [
        Point(ds=_iso(pd.Timestamp(d), freq), label=_label(pd.Timestamp(d), freq), actual=float(v))
        for d, v in zip(hist["ds"], hist["y"], strict=True)
    ]
    forecast = [
        Point(
            ds=_iso(pd.Timestamp(r["ds"]), freq),
            label=_label(pd.Timestamp(r["ds"]), freq),
            mean=float(r["mean"]),
            lo80=float(r["q0.10"]),
            hi80=float(r["q0.90"]),
            lo95=float(r["q0.025"]),
            hi95=float(r["q0.975"]),
        )
        for _, r in values.iterrows()
    ]
    quantiles = [
        {
            "ds": _iso(pd.Timestamp(r["ds"]), freq),
            "mean": float(r["mean"]),
            **{c: float(r[c]) for c in QUANTILE_COLUMNS},
        }
        for _, r in values.iterrows()
    ]
    first = values.iloc[0] if len(values) else None
    item = _item(series_id, title, kind, freq, site, sr, first)
    svg = None
    if not forecast:
        messages.append("No forecast has been saved for this series yet: run `uec forecast refresh` to make one.")
        summary = f"{title}: {len(history)} recent values and no saved forecast."
    else:
        f0, fl = forecast[0], forecast[-1]
        summary = (
            f"Fan chart of {title}: {len(history)} recent values then a {len(forecast)}-step forecast from "
            f"{f0.label} to {fl.label} by the {item.model_used or item.model} model. "
            f"The first step's mean is {f0.mean:,.1f} (80% interval {f0.lo80:,.0f} to {f0.hi80:,.0f}, "
            f"95% {f0.lo95:,.0f} to {f0.hi95:,.0f}); the last step's mean is {fl.mean:,.1f} "
            f"(95% interval {fl.lo95:,.0f} to {fl.hi95:,.0f})."
        )
    if history or forecast:
        points = history + forecast
        svg = fan_svg(
            [_axis_label(pd.Timestamp(p.ds), freq) for p in points],
            [p.actual for p in points],
            [(p.mean, p.lo80, p.hi80, p.lo95, p.hi95) for p in points],
            title=f"{title}: recent values and forecast",
            desc=summary,
        )
    return ForecastDetail(
        item=item,
        history=history,
        forecast=forecast,
        quantiles=quantiles,
        chart_svg=svg,
        chart_summary=summary,
        messages=messages,
    )


# --- CSV ----------------------------------------------------------------------------------------

LIST_CSV_COLUMNS = [
    "series_id",
    "title",
    "freq",
    "site_code",
    "run_id",
    "created_at",
    "model",
    "model_used",
    "horizon",
    "first_step",
    "first_mean",
    "backtest_origins",
    "mase",
    "coverage_80",
    "coverage_95",
    "crps",
]
DETAIL_CSV_COLUMNS = ["series_id", "ds", "kind", "actual", "mean", *QUANTILE_COLUMNS]
OCCUPANCY_CSV_COLUMNS = ["site_code", "view", "date", "measure", "mean", "lo80", "hi80", "lo95", "hi95", "beds_open"]


def list_csv_rows(fl: ForecastList) -> list[dict[str, Any]]:
    """One row per series."""
    rows = []
    for s in fl.series:
        sc = s.scores
        rows.append(
            {
                **s.model_dump(exclude={"scores"}),
                "backtest_origins": None if sc is None else sc.origins,
                **({} if sc is None else sc.model_dump(exclude={"origins"})),
            }
        )
    return rows


def detail_csv_rows(d: ForecastDetail) -> list[dict[str, Any]]:
    """History rows (``actual``) then forecast rows (``mean`` and every quantile)."""
    rows: list[dict[str, Any]] = [
        {"series_id": d.item.series_id, "ds": p.ds, "kind": "actual", "actual": p.actual} for p in d.history
    ]
    rows += [{"series_id": d.item.series_id, "kind": "forecast", **q} for q in d.quantiles]
    return rows


def occupancy_csv_rows(p: OccupancyProjection) -> list[dict[str, Any]]:
    """One row per site, view, date and measure, each with its mean and intervals."""
    rows: list[dict[str, Any]] = []
    for s in p.sites:
        for m in s.midnights:
            rows.append(
                {
                    "site_code": s.site_code,
                    "view": "midnight",
                    "date": m.date,
                    "measure": "occupied",
                    "beds_open": m.beds_open,
                    **m.occupied.model_dump(),
                }
            )
            if m.free_beds is not None:
                rows.append(
                    {
                        "site_code": s.site_code,
                        "view": "midnight",
                        "date": m.date,
                        "measure": "free_beds",
                        "beds_open": m.beds_open,
                        **m.free_beds.model_dump(),
                    }
                )
        nd = s.next_day
        if nd is not None:
            for name, band in (
                ("admissions", nd.admissions),
                ("discharges", nd.discharges),
                ("free_beds", nd.free_beds),
            ):
                if band is not None:
                    rows.append(
                        {
                            "site_code": s.site_code,
                            "view": "next_day",
                            "date": nd.date,
                            "measure": name,
                            "beds_open": nd.beds_open,
                            **band.model_dump(),
                        }
                    )
    return rows


# --- the occupancy projection and what forecast answers depend on ---------------------------------


def runs_fingerprint(store: Store) -> tuple[str, ...]:
    """The latest saved forecast runs' ids: forecast answers depend on them as well as on the data
    (runs live outside the contract tables that :meth:`~uec.store.Store.data_version` counts)."""
    return tuple(str(r["run_id"]) for r in list_runs(store, 3))


def occupancy(store: Store, site: str | None, days: int) -> OccupancyProjection:
    """The bed occupancy projection for ``site`` (every site if ``None``) over ``days`` midnights;
    404 when the store cannot make one (no spells, an unknown site)."""
    try:
        return occupancy_projection(store, sites=[site] if site else None, days=days, model=PAGE_MODEL)
    except UecError as exc:
        raise HTTPException(404, str(exc)) from None
