"""The scenario page: pick changes to the baseline system, run them, and read the comparison.

``/scenarios`` has a form built from the model's change fields (each with its label, unit, hint
and limits), the number of replications, days and seed, and the list of stored runs, newest first.
Submitting it starts the run in a background thread and sends the browser to
``/scenarios/runs/{run_id}``, which says the run is under way (the page checks again every few
seconds) and, once it is done, shows each standard under the baseline and the scenario with the
difference and its 95% confidence interval, marked better or worse by the standard's direction,
with a chart drawn on the server and the table under it.

Runs are kept with :mod:`uec.system.runs`; a run still under way lives only in this
process (a restart forgets it; a finished run is in the store). The model itself is injected: the
router takes a ``runner`` and a ``fields`` provider, by default the whole-system model's
``run_scenario`` and ``CHANGE_FIELDS``, imported when first used.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import math
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qs

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from uec.errors import UecError
from uec.standards import format_value
from uec.store import Store
from uec.system.runs import get_run, list_runs, new_run_id, save_run
from uec.system.types import ChangeField, ChangeValue, Comparison, Interval, Scenario
from uec.web import display

__all__ = [
    "DAYS_RANGE",
    "REPS_RANGE",
    "FieldView",
    "FormError",
    "RunList",
    "RunRequest",
    "RunView",
    "Runner",
    "ValidRun",
    "assessment",
    "comparison_svg",
    "default_fields",
    "default_runner",
    "format_difference",
    "scenarios_router",
    "validate_run",
]

log = logging.getLogger("uec.web.scenarios")

#: Replications a run may ask for, inclusive.
REPS_RANGE = (1, 50)
#: Days a run may simulate, inclusive.
DAYS_RANGE = (1, 365)
_SEED_MAX = 2**32 - 1
_DEFAULTS: dict[str, int] = {"reps": 5, "days": 28, "seed": 42}
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")

#: Runs a scenario: ``(scenario, reps, seed, days) -> Comparison``.
Runner = Callable[[Scenario, int, int, float], Comparison]


def default_runner(scenario: Scenario, reps: int, seed: int, days: float) -> Comparison:
    """The whole-system model's ``run_scenario``, imported when a run starts.

    >>> default_runner(Scenario("none"), reps=0, seed=1, days=7)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    uec.errors.UecError: ...
    """
    try:
        from uec.system.scenario import run_scenario  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError:
        raise UecError("the whole-system model is not installed, so scenarios cannot be run") from None
    # Serial, in the page's background thread: a process pool forked from a threaded web server is
    # fragile, and the queue runs one scenario at a time anyway.
    result: Comparison = run_scenario(scenario, reps, seed, days=int(days))
    return result


def default_fields() -> Sequence[ChangeField]:
    """The whole-system model's change fields (none if the model is not installed).

    >>> all(isinstance(f, ChangeField) for f in default_fields())
    True
    """
    try:
        from uec.system.scenario import CHANGE_FIELDS  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError:
        return ()
    fields: Sequence[ChangeField] = CHANGE_FIELDS
    return fields


# --- validation ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FormError:
    """One invalid value: the form field's id (``href`` target in the error summary) and the message."""

    field: str
    message: str


@dataclass(frozen=True)
class ValidRun:
    """A checked request: the scenario (its changes only those that differ from the baseline) and run settings."""

    scenario: Scenario
    reps: int
    days: int
    seed: int


def _bounds(label: str, lo: float | None, hi: float | None, fmt: Callable[[float], str]) -> str:
    if lo is not None and hi is not None:
        return f"{label} must be between {fmt(lo)} and {fmt(hi)}"
    if lo is not None:
        return f"{label} must be {fmt(lo)} or more"
    return f"{label} must be {fmt(hi or 0)} or less"


def _number_text(v: float) -> str:
    return f"{v:g}"


def _parse_number(text: str, label: str, whole: bool, lo: float | None, hi: float | None) -> int | float | str:
    """The number in ``text``, or the error message (a ``str`` prefixed with ``!``)."""
    t = text.strip().replace(",", "")
    try:
        value: int | float = int(t) if whole else float(t)
    except ValueError:
        if whole:
            try:
                float(t)
                return f"!{label} must be a whole number"
            except ValueError:
                pass
        return f"!{label} must be a number" + (", like 20" if whole else ", like 0.5")
    if not math.isfinite(value):
        return f"!{label} must be a number" + (", like 20" if whole else ", like 0.5")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        return "!" + _bounds(label, lo, hi, _number_text)
    return value


def _as_text(value: Any) -> str | None:
    """A submitted value as text (forms send text; JSON may send numbers); ``None`` if it cannot be."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    return value if isinstance(value, str) else repr(value) if isinstance(value, float) else str(value)


def field_id(name: str) -> str:
    """The form field's id and name for a change.

    >>> field_id("extra_beds")
    'change-extra_beds'
    """
    return f"change-{name}"


def validate_run(
    name: Any, description: Any, changes: Mapping[str, Any], reps: Any, days: Any, seed: Any,
    fields: Sequence[ChangeField],
) -> tuple[ValidRun | None, list[FormError]]:
    """Check a run request; a blank value means the default. Returns the run or the errors, in form order.

    >>> f = ChangeField("extra_beds", "Extra G&A beds per site", "int", "beds", 0, minimum=0, maximum=200)
    >>> run, errors = validate_run("More beds", "", {"extra_beds": "20"}, "5", "", "", [f])
    >>> run.scenario.changes, run.reps, run.days, errors
    ({'extra_beds': 20}, 5, 28, [])
    >>> for e in validate_run("", "", {"extra_beds": "lots"}, "0", "", "", [f])[1]:
    ...     print(e.field, "-", e.message)
    change-extra_beds - Extra G&A beds per site must be a number, like 20
    reps - Replications must be between 1 and 50
    """
    errors: list[FormError] = []
    known = {f.name: f for f in fields}
    for k in changes:
        if k not in known:
            errors.append(FormError(field_id(k), f"There is no change called {k!r}; the changes are: "
                                    + (", ".join(known) or "none")))
    chosen: dict[str, ChangeValue] = {}
    for f in fields:
        text = _as_text(changes.get(f.name))
        if text is None:
            errors.append(FormError(field_id(f.name), f"{f.label} must be a number or a time"))
            continue
        if not text.strip():
            continue
        value: ChangeValue
        if f.kind == "time":
            t = text.strip()
            if not _TIME.match(t):
                errors.append(FormError(field_id(f.name), f"{f.label} must be a time on the 24-hour clock, like 22:00"))
                continue
            value = t
        else:
            got = _parse_number(text, f.label, f.kind == "int", f.minimum, f.maximum)
            if isinstance(got, str):
                errors.append(FormError(field_id(f.name), got[1:]))
                continue
            value = got
        default = f.default
        same = (value == default) if isinstance(value, str) or isinstance(default, str) else \
            math.isclose(float(value), float(default), rel_tol=0, abs_tol=1e-12)
        if not same:
            chosen[f.name] = value
    settings: dict[str, int] = {}
    for key, label, lo, hi in (("reps", "Replications", *REPS_RANGE), ("days", "Days", *DAYS_RANGE),
                               ("seed", "Random seed", 0, _SEED_MAX)):
        raw = _as_text({"reps": reps, "days": days, "seed": seed}[key])
        if raw is None:
            errors.append(FormError(key, f"{label} must be a whole number"))
            continue
        if not raw.strip():
            settings[key] = _DEFAULTS[key]
            continue
        got = _parse_number(raw, label, True, lo, hi)
        if isinstance(got, str):
            errors.append(FormError(key, got[1:]))
        else:
            settings[key] = int(got)
    name_text = _as_text(name)
    desc_text = _as_text(description)
    if name_text is None or len(name_text) > 100:
        errors.append(FormError("scenario-name", "Scenario name must be text of 100 characters or fewer"))
    if desc_text is None or len(desc_text) > 1000:
        errors.append(FormError("description", "Description must be text of 1,000 characters or fewer"))
    if errors:
        return None, errors
    label = (name_text or "").strip() or (", ".join(f"{k} {v}" for k, v in chosen.items()) or "Baseline only")
    scenario = Scenario(name=label, description=(desc_text or "").strip(), changes=chosen)
    return ValidRun(scenario, settings["reps"], settings["days"], settings["seed"]), []


# --- views --------------------------------------------------------------------------------------


class FieldView(BaseModel):
    """A change the form offers, as the API describes it."""

    name: str
    label: str
    kind: str
    unit: str
    default: int | float | str
    minimum: float | None
    maximum: float | None
    hint: str


class RunRequest(BaseModel):
    """A run asked for through the API; changes left out keep the baseline's value."""

    name: str = ""
    description: str = ""
    changes: dict[str, Any] = Field(default_factory=dict)
    reps: Any = _DEFAULTS["reps"]
    days: Any = _DEFAULTS["days"]
    seed: Any = _DEFAULTS["seed"]


class IntervalView(BaseModel):
    """A mean and its 95% confidence interval, as numbers (``None`` when undefined) and as text."""

    mean: float | None
    low: float | None
    high: float | None
    display: str
    interval_display: str


class StandardRow(BaseModel):
    """One standard in a run's comparison."""

    standard_id: str
    title: str
    unit: str
    higher_is_better: bool | None
    baseline: IntervalView
    scenario: IntervalView
    difference: IntervalView
    assessment: str
    assessment_label: str


class ChangeView(BaseModel):
    name: str
    label: str
    value: int | float | str
    display: str


class RunView(BaseModel):
    """A run: under way, failed, or done with its comparison."""

    run_id: str
    status: Literal["running", "failed", "done"]
    url: str
    name: str
    description: str
    changes: list[ChangeView]
    reps: int
    days: float
    seed: int
    started_at: str | None = None
    finished_at: str | None = None
    started_display: str = ""
    duration_seconds: float | None = None
    standards: list[StandardRow] = Field(default_factory=list)
    chart_svg: str | None = None
    chart_summary: str = ""
    error: str | None = None


class RunListItem(BaseModel):
    run_id: str
    status: Literal["running", "failed", "done"]
    url: str
    name: str
    description: str
    changes: list[ChangeView]
    reps: int
    days: float
    seed: int
    started_at: str | None
    started_display: str


class RunList(BaseModel):
    """Runs under way in this server, then stored runs, newest first."""

    runs: list[RunListItem]


def _num(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def _interval(iv: Interval, unit: str, fmt: Callable[[float, str], str]) -> IntervalView:
    mean, low, high = _num(iv.mean), _num(iv.low), _num(iv.high)
    return IntervalView(
        mean=mean, low=low, high=high, display="" if mean is None else fmt(mean, unit),
        interval_display="no interval" if low is None or high is None else f"{fmt(low, unit)} to {fmt(high, unit)}",
    )


def format_difference(value: float, unit: str) -> str:
    """A difference with its sign; proportions in percentage points.

    >>> format_difference(0.04, "proportion"), format_difference(-5.14, "minutes"), format_difference(0.0, "count")
    ('+4.0 percentage points', '-5.1 min', '0')
    """
    if unit == "proportion":
        pts = 100 * value
        return f"{pts:+.1f} percentage points" if round(pts, 1) != 0 else "0.0 percentage points"
    text = format_value(abs(value), unit)
    if value > 0 and text.strip("0.,% ") != "":
        return "+" + text
    if value < 0 and text.strip("0.,% ") != "":
        return "-" + text
    return text


def assessment(difference: Interval, higher_is_better: bool | None) -> tuple[str, str]:
    """Whether the scenario is better, worse or not clearly different, by the difference's 95% interval.

    >>> assessment(Interval(0.04, 0.03, 0.05), True), assessment(Interval(-5, -7, 3), False)
    (('better', 'Better'), ('unclear', 'No clear difference'))
    """
    low, high = _num(difference.low), _num(difference.high)
    if low is None or high is None:
        return "no-interval", "No interval (one replication)"
    if low <= 0 <= high:
        return "unclear", "No clear difference"
    up = low > 0
    if higher_is_better is None:
        return ("higher", "Higher") if up else ("lower", "Lower")
    return ("better", "Better") if up == higher_is_better else ("worse", "Worse")


def _change_views(changes: Mapping[str, ChangeValue], fields: Sequence[ChangeField]) -> list[ChangeView]:
    by_name = {f.name: f for f in fields}
    out = []
    for k, v in changes.items():
        f = by_name.get(k)
        unit = f" {f.unit}" if f is not None and f.unit and f.kind != "time" else ""
        out.append(ChangeView(name=k, label=f.label if f else k, value=v, display=f"{v}{unit}"))
    return out


def _started(t: dt.datetime | None) -> str:
    return "" if t is None else display.local_time(t)


def run_view(run_id: str, c: Comparison, fields: Sequence[ChangeField]) -> RunView:
    """A stored run as its page shows it.

    >>> t = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    >>> v = run_view("r1", Comparison(Scenario("s", changes={"extra_beds": 5}), 2, 1, 7.0, t, t, ()), [])
    >>> v.status, v.url, v.changes[0].display, v.chart_svg
    ('done', '/scenarios/runs/r1', '5', None)
    """
    rows = []
    for s in c.standards:
        code, label = assessment(s.difference, s.higher_is_better)
        rows.append(StandardRow(
            standard_id=s.standard_id, title=s.title, unit=s.unit, higher_is_better=s.higher_is_better,
            baseline=_interval(s.baseline, s.unit, format_value),
            scenario=_interval(s.scenario, s.unit, format_value),
            difference=_interval(s.difference, s.unit, format_difference),
            assessment=code, assessment_label=label,
        ))
    svg, summary = comparison_svg(c, id_prefix=f"run-{run_id}")
    return RunView(
        run_id=run_id, status="done", url=f"/scenarios/runs/{run_id}", name=c.scenario.name,
        description=c.scenario.description, changes=_change_views(c.scenario.changes, fields), reps=c.reps,
        days=c.days, seed=c.seed, started_at=c.started_at.isoformat(), finished_at=c.finished_at.isoformat(),
        started_display=_started(c.started_at),
        duration_seconds=(c.finished_at - c.started_at).total_seconds(), standards=rows, chart_svg=svg,
        chart_summary=summary,
    )


# --- the chart ----------------------------------------------------------------------------------

_INK = "#212b32"
_GREY = "#4c6272"
_BLUE = "#005eb8"
_W = 760
_LABEL_W = 250
_ROW_H = 52
_TOP = 44


def _wrap(text: str, width: int, max_lines: int) -> list[str]:
    """``text`` in lines of at most ``width`` characters, broken at spaces; the last line cut with an ellipsis."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: width - 1].rstrip() + "…"
    return [ln if len(ln) <= width else ln[: width - 1] + "…" for ln in lines]


def comparison_svg(c: Comparison, id_prefix: str = "scenario-chart") -> tuple[str | None, str]:
    """A dot-and-interval chart: per standard, the baseline and scenario means with their 95% intervals.

    Each standard has its own scale (they are in different units), printed at the ends of its row.
    Returns the SVG (``None`` without standards) and the sentence its ``<desc>`` holds.

    >>> from uec.system.types import StandardComparison
    >>> t = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    >>> s = StandardComparison("ed-4hr", "4-hour performance", "proportion", True,
    ...     Interval(0.7, 0.68, 0.72), Interval(0.75, 0.73, 0.77), Interval(0.05, 0.04, 0.06))
    >>> svg, desc = comparison_svg(Comparison(Scenario("x"), 5, 1, 7.0, t, t, (s,)))
    >>> svg.startswith("<svg") and 'role="img"' in svg and "<title" in svg
    True
    >>> print(desc.split(". ")[-1])
    4-hour performance: baseline 70.0% (68.0% to 72.0%), scenario 75.0% (73.0% to 77.0%), better.
    """
    if not c.standards:
        return None, "No standards were computed for this run."
    e = html.escape
    parts = []
    for s in c.standards:
        b, sc = s.baseline, s.scenario

        def iv(x: Interval, unit: str = s.unit) -> str:
            if _num(x.low) is None or _num(x.high) is None:
                return format_value(x.mean, unit)
            return f"{format_value(x.mean, unit)} ({format_value(x.low, unit)} to {format_value(x.high, unit)})"

        parts.append(f"{s.title}: baseline {iv(b)}, scenario {iv(sc)}, "
                     f"{assessment(s.difference, s.higher_is_better)[1].lower()}.")
    days = f"{c.days:g} day" + ("" if c.days == 1 else "s")
    desc = (f"Baseline and scenario {c.scenario.name} with 95% confidence intervals, {c.reps} replication"
            f"{'' if c.reps == 1 else 's'} of {days}, one row per standard on its own scale. " + " ".join(parts))
    height = _TOP + _ROW_H * len(c.standards) + 10
    x0, x1 = _LABEL_W + 50, _W - 95
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {height}" width="100%" role="img" '
        f'aria-labelledby="{id_prefix}-title {id_prefix}-desc" class="uec-scenario-chart" '
        f'style="max-width:{_W}px;height:auto" font-family="Frutiger W01, Arial, sans-serif" font-size="13">',
        f'<title id="{id_prefix}-title">{e(c.scenario.name)}: baseline and scenario by standard</title>',
        f'<desc id="{id_prefix}-desc">{e(desc)}</desc>',
        # Legend: shape as well as colour tells the two apart.
        f'<circle cx="{x0}" cy="16" r="5" fill="{_GREY}"/>'
        f'<text x="{x0 + 10}" y="16" dominant-baseline="middle" fill="{_INK}">Baseline</text>',
        f'<rect x="{x0 + 95}" y="11" width="10" height="10" fill="{_BLUE}"/>'
        f'<text x="{x0 + 111}" y="16" dominant-baseline="middle" fill="{_INK}">Scenario</text>',
        f'<text x="{x0 + 200}" y="16" dominant-baseline="middle" fill="{_INK}">Lines: 95% confidence interval</text>',
    ]
    for i, s in enumerate(c.standards):
        top = _TOP + i * _ROW_H
        mid = top + _ROW_H / 2
        vals = [v for iv in (s.baseline, s.scenario) for v in (iv.mean, iv.low, iv.high) if _num(v) is not None]
        data_lo, data_hi = (min(vals), max(vals)) if vals else (0.0, 1.0)
        lo, hi = data_lo, data_hi
        if hi == lo:
            lo, hi = (0.0, 1.0) if lo == 0 else (lo - abs(lo) * 0.05, hi + abs(hi) * 0.05)
        pad = (hi - lo) * 0.1
        lo, hi = lo - pad, hi + pad
        # Padding must not invent impossible values: no negative axis for values that are all
        # positive, and no proportion above 100% unless an interval goes there.
        if data_lo >= 0:
            lo = max(lo, 0.0)
        if s.unit == "proportion" and data_hi <= 1:
            hi = min(hi, 1.0)

        def x(v: float, lo: float = lo, hi: float = hi) -> str:
            return f"{x0 + (x1 - x0) * (v - lo) / (hi - lo):.1f}"

        lines = _wrap(s.title, 34, 2)
        out.append(f'<g class="uec-scenario-row" data-standard="{e(s.standard_id)}">')
        if i:
            out.append(f'<line x1="0" x2="{_W}" y1="{top}" y2="{top}" stroke="#d8dde0"/>')
        first = mid - 8 * (len(lines) - 1)
        out.append(f'<text x="0" y="{first:.1f}" dominant-baseline="middle" fill="{_INK}">'
                   + "".join(f'<tspan x="0" dy="{0 if k == 0 else 16}">{e(t)}</tspan>' for k, t in enumerate(lines))
                   + "</text>")
        out.append(f'<line x1="{x0}" x2="{x1}" y1="{mid + 18:.1f}" y2="{mid + 18:.1f}" stroke="#aeb7bd"/>')
        out.append(f'<text x="{x0 - 6}" y="{mid + 18:.1f}" text-anchor="end" dominant-baseline="middle" '
                   f'fill="{_INK}" font-size="11">{e(format_value(lo, s.unit))}</text>')
        out.append(f'<text x="{x1 + 6}" y="{mid + 18:.1f}" dominant-baseline="middle" fill="{_INK}" '
                   f'font-size="11">{e(format_value(hi, s.unit))}</text>')
        for band, dy, colour, shape in ((s.baseline, -8, _GREY, "circle"), (s.scenario, 6, _BLUE, "square")):
            y = mid + dy
            if _num(band.low) is not None and _num(band.high) is not None:
                out.append(f'<line x1="{x(band.low)}" x2="{x(band.high)}" y1="{y:.1f}" y2="{y:.1f}" '
                           f'stroke="{colour}" stroke-width="2.5"/>')
            if _num(band.mean) is not None:
                cx = x(band.mean)
                if shape == "circle":
                    out.append(f'<circle class="uec-baseline" cx="{cx}" cy="{y:.1f}" r="5" fill="{colour}"/>')
                else:
                    out.append(f'<rect class="uec-scenario" x="{float(cx) - 5:.1f}" y="{y - 5:.1f}" width="10" '
                               f'height="10" fill="{colour}"/>')
        out.append("</g>")
    out.append("</svg>")
    return "".join(out), desc


# --- running ------------------------------------------------------------------------------------


@dataclass
class _Job:
    run_id: str
    run: ValidRun
    submitted_at: dt.datetime
    status: Literal["running", "failed"] = "running"
    error: str | None = None


class _RunQueue:
    """Runs under way in this process: started on an executor, saved to the store when done."""

    def __init__(self, store: Callable[[], Store], runner: Callable[[], Runner], executor: Executor) -> None:
        self._store = store
        self._runner = runner
        self._executor = executor
        self._jobs: dict[str, _Job] = {}
        self._lock = threading.Lock()

    def submit(self, run: ValidRun) -> str:
        """Start ``run``; its id at once."""
        job = _Job(new_run_id(), run, dt.datetime.now(dt.UTC))
        with self._lock:
            self._jobs[job.run_id] = job
        self._executor.submit(self._work, job)
        return job.run_id

    def _work(self, job: _Job) -> None:
        try:
            r = job.run
            comparison = self._runner()(r.scenario, r.reps, r.seed, float(r.days))
            save_run(self._store(), comparison, run_id=job.run_id)
        except UecError as exc:
            job.error, job.status = str(exc), "failed"
            return
        except Exception as exc:
            log.exception("scenario run %s failed", job.run_id)
            job.error, job.status = f"The run failed unexpectedly ({type(exc).__name__}: {exc}).", "failed"
            return
        with self._lock:
            self._jobs.pop(job.run_id, None)

    def get(self, run_id: str) -> _Job | None:
        with self._lock:
            return self._jobs.get(run_id)

    def jobs(self) -> list[_Job]:
        with self._lock:
            return sorted(self._jobs.values(), key=lambda j: j.submitted_at, reverse=True)


# --- routes -------------------------------------------------------------------------------------


def _field_view(f: ChangeField) -> FieldView:
    return FieldView(name=f.name, label=f.label, kind=f.kind, unit=f.unit, default=f.default, minimum=f.minimum,
                     maximum=f.maximum, hint=f.hint)


def scenarios_router(
    store: Callable[[], Store],
    page: Callable[..., HTMLResponse],
    runner: Runner | None = None,
    fields: Callable[[], Sequence[ChangeField]] | None = None,
    executor: Executor | None = None,
) -> APIRouter:
    """The scenario pages and API over the app's store opener and page renderer.

    ``runner`` and ``fields`` default to the whole-system model's (looked up when used, so tests
    may replace :func:`default_runner` and :func:`default_fields`); ``executor`` defaults to one
    background thread, so runs queue one after another rather than compete for the cores.

    >>> any(r.path == "/scenarios" for r in scenarios_router(lambda: None, lambda *a, **k: None).routes)
    True
    """
    router = APIRouter()
    pool = executor or ThreadPoolExecutor(max_workers=1, thread_name_prefix="uec-scenario")
    queue = _RunQueue(store, lambda: runner or default_runner, pool)

    def get_fields() -> Sequence[ChangeField]:
        return tuple((fields or default_fields)())

    def view(run_id: str) -> RunView:
        job = queue.get(run_id)
        flds = get_fields()
        if job is not None:
            r = job.run
            return RunView(
                run_id=run_id, status=job.status, url=f"/scenarios/runs/{run_id}", name=r.scenario.name,
                description=r.scenario.description, changes=_change_views(r.scenario.changes, flds), reps=r.reps,
                days=r.days, seed=r.seed, started_at=job.submitted_at.isoformat(),
                started_display=_started(job.submitted_at), error=job.error,
            )
        try:
            c = get_run(store(), run_id)
        except UecError:
            raise HTTPException(404, f"There is no scenario run with id {run_id}.") from None
        return run_view(run_id, c, flds)

    def run_list() -> RunList:
        flds = get_fields()
        items = [
            RunListItem(run_id=j.run_id, status=j.status, url=f"/scenarios/runs/{j.run_id}", name=j.run.scenario.name,
                        description=j.run.scenario.description,
                        changes=_change_views(j.run.scenario.changes, flds), reps=j.run.reps, days=j.run.days,
                        seed=j.run.seed, started_at=j.submitted_at.isoformat(),
                        started_display=_started(j.submitted_at))
            for j in queue.jobs()
        ]
        items += [
            RunListItem(run_id=r.run_id, status="done", url=f"/scenarios/runs/{r.run_id}", name=r.name,
                        description=r.description, changes=_change_views(r.changes, flds), reps=r.reps,
                        days=r.days, seed=r.seed, started_at=r.started_at.isoformat(),
                        started_display=_started(r.started_at))
            for r in list_runs(store())
        ]
        return RunList(runs=items)

    def form_page(values: Mapping[str, str], errors: Sequence[FormError], status: int = 200) -> HTMLResponse:
        return page("scenarios.html", status, fields=get_fields(), values=values, errors=errors,
                    error_for={e.field: e.message for e in errors},
                    error_list=[{"text": e.message, "href": f"#{e.field}"} for e in errors], runs=run_list().runs,
                    reps_range=REPS_RANGE,
                    days_range=DAYS_RANGE, defaults=_DEFAULTS, field_id=field_id, nav="scenarios")

    @router.get("/scenarios", response_class=HTMLResponse, include_in_schema=False)
    def scenarios_page() -> HTMLResponse:
        return form_page({}, [])

    @router.post("/scenarios", response_class=HTMLResponse, include_in_schema=False)
    async def scenarios_submit(request: Request) -> Response:
        # Parsed by hand: the form is plain url-encoded text and needs nothing more.
        body = (await request.body()).decode("utf-8", errors="replace")
        form = {k: v[-1] for k, v in parse_qs(body, keep_blank_values=True).items()}
        flds = get_fields()
        changes = {f.name: form.get(field_id(f.name), "") for f in flds}
        run, errors = validate_run(form.get("scenario-name", ""), form.get("description", ""), changes,
                                   form.get("reps", ""), form.get("days", ""), form.get("seed", ""), flds)
        if run is None:
            return form_page(form, errors, 400)
        run_id = queue.submit(run)
        return RedirectResponse(f"/scenarios/runs/{run_id}", status_code=303)

    @router.get("/scenarios.json", response_model=RunList, tags=["downloads"])
    def scenarios_json() -> RunList:
        """Runs under way and stored runs, newest first, as the scenario page lists them."""
        return run_list()

    @router.get("/scenarios/runs/{run_id}.json", response_model=RunView, tags=["downloads"])
    def run_json(run_id: str) -> RunView:
        """One run: its status and, once done, its comparison."""
        return view(run_id)

    @router.get("/scenarios/runs/{run_id}", response_class=HTMLResponse, include_in_schema=False)
    def run_page(run_id: str) -> HTMLResponse:
        return page("scenario_run.html", r=view(run_id), nav="scenarios")

    @router.get("/api/scenarios/fields", response_model=list[FieldView], tags=["api"])
    def api_fields() -> list[FieldView]:
        """The changes a scenario can make, with their units, defaults (the baseline) and limits."""
        return [_field_view(f) for f in get_fields()]

    @router.post("/api/scenarios/runs", response_model=RunView, status_code=202, tags=["api"],
                 responses={422: {"description": "Invalid values, one message per field"}})
    def api_submit(body: RunRequest) -> Response:
        """Start a run; 202 with its status and URL, which gives the comparison once done."""
        run, errors = validate_run(body.name, body.description, body.changes, body.reps, body.days, body.seed,
                                   get_fields())
        if run is None:
            return JSONResponse({"detail": [{"field": e.field, "message": e.message} for e in errors]},
                                status_code=422)
        run_id = queue.submit(run)
        v = view(run_id)
        return JSONResponse(v.model_dump(mode="json"), status_code=202,
                            headers={"Location": f"/api/scenarios/runs/{run_id}"})

    router.add_api_route("/api/scenarios/runs", scenarios_json, methods=["GET"], response_model=RunList,
                         tags=["api"])
    router.add_api_route("/api/scenarios/runs/{run_id}", run_json, methods=["GET"], response_model=RunView,
                         tags=["api"])
    return router
