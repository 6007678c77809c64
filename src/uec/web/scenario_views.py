"""The scenario pages' view models and the form's validation (the routes are in
:mod:`uec.web.routes.scenarios`, the chart in :mod:`uec.web.scenario_chart`, the queue in
:mod:`uec.web.scenario_jobs`).

There is one scenario validator, :func:`uec.system.scenario.parse_scenario`: the form turns the
text people type into numbers and times, hands them to it, and words what it rejects in the
form's own terms (the field's label and limits, for the NHS.UK error summary).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field

from uec.errors import UecError
from uec.standards import format_value
from uec.system.types import ChangeField, ChangeValue, Comparison, Interval, Scenario
from uec.web import display
from uec.web.limits import DAYS_RANGE, MAX_DESCRIPTION_LENGTH, MAX_NAME_LENGTH, REPS_RANGE
from uec.web.scenario_chart import _num, assessment, comparison_svg

__all__ = [
    "DEFAULTS",
    "RUN_CSV_COLUMNS",
    "RUN_LIST_CSV_COLUMNS",
    "ChangeView",
    "FieldView",
    "FormError",
    "RunList",
    "RunListItem",
    "RunRequest",
    "RunView",
    "ValidRun",
    "field_id",
    "field_view",
    "format_difference",
    "job_list_item",
    "job_view",
    "run_csv_rows",
    "run_list_csv_rows",
    "run_view",
    "stored_list_item",
    "validate_run",
]

#: A blank form value means these.
DEFAULTS: dict[str, int] = {"reps": 5, "days": 28, "seed": 42}
_SEED_MAX = 2**32 - 1


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

    def params(self) -> dict[str, Any]:
        """The job parameters of a ``scenario_run`` (the scenario as ``parse_scenario`` takes it)."""
        s = self.scenario
        return {"scenario": {"name": s.name, "description": s.description, "changes": dict(s.changes)},
                "reps": self.reps, "days": self.days, "seed": self.seed}


def _bounds(label: str, lo: float | None, hi: float | None, fmt: Callable[[float], str]) -> str:
    if lo is not None and hi is not None:
        return f"{label} must be between {fmt(lo)} and {fmt(hi)}"
    if lo is not None:
        return f"{label} must be {fmt(lo)} or more"
    return f"{label} must be {fmt(hi or 0)} or less"


def _number_text(v: float) -> str:
    """A limit as people read it: ``-0.5``, ``200``, ``4,294,967,295``."""
    return f"{int(v):,}" if float(v).is_integer() and abs(v) >= 10_000 else f"{v:g}"


def _parse_number(text: str, label: str, whole: bool, lo: float | None, hi: float | None) -> int | float | str:
    """The number in ``text``, or the error message (a ``str`` prefixed with ``!``)."""
    t = text.strip().replace(",", "")
    try:
        value: int | float = int(t) if whole else float(t)
    except ValueError:
        if whole:
            try:
                number = float(t)
            except ValueError:
                pass
            else:
                # 1e9 and 7.0 are whole numbers written another way; 2.5 is not.
                if not (math.isfinite(number) and number.is_integer()):
                    return f"!{label} must be a whole number"
                value = int(number)
                if (lo is not None and value < lo) or (hi is not None and value > hi):
                    return "!" + _bounds(label, lo, hi, _number_text)
                return value
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


def _typed(f: ChangeField, value: Any) -> Any:
    """A submitted value as ``parse_scenario`` takes it: text typed into the form becomes a number
    (or stays text for a time); JSON numbers pass as they are. ``None`` when text is not a number."""
    if not isinstance(value, str):
        return value
    t = value.strip()
    if f.kind == "time":
        return t
    t = t.replace(",", "")
    for convert in (int, float):
        try:
            return convert(t)
        except ValueError:
            continue
    return None


def _message(f: ChangeField, rule: str) -> str:
    """What ``parse_scenario`` rejected, in the form's words."""
    example = ", like 20" if f.kind == "int" else ", like 0.5"
    if rule == "time":
        return f"{f.label} must be a time on the 24-hour clock, like 22:00"
    if rule == "whole":
        return f"{f.label} must be a whole number"
    if rule == "range":
        return _bounds(f.label, f.minimum, f.maximum, _number_text)
    return f"{f.label} must be a number{example}"


def _check_change(f: ChangeField, value: Any, fields: Sequence[ChangeField]) -> ChangeValue | FormError:
    from uec.system.scenario import ScenarioValueError, parse_scenario

    typed = _typed(f, value)
    if typed is None:
        return FormError(field_id(f.name), _message(f, "number"))
    try:
        parsed = parse_scenario({"name": "form", "changes": {f.name: typed}}, fields=fields)
    except ScenarioValueError as exc:
        return FormError(field_id(f.name), _message(f, exc.rule))
    return parsed.changes[f.name]


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
    from uec.system.scenario import parse_scenario

    errors: list[FormError] = []
    known = {f.name: f for f in fields}
    for k in changes:
        if k not in known:
            errors.append(FormError(field_id(k), f"There is no change called {k!r}; the changes are: "
                                    + (", ".join(known) or "none")))
    chosen: dict[str, ChangeValue] = {}
    for f in fields:
        raw = changes.get(f.name)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        got = _check_change(f, raw, fields)
        if isinstance(got, FormError):
            errors.append(got)
            continue
        default = f.default
        same = (got == default) if isinstance(got, str) or isinstance(default, str) else \
            math.isclose(float(got), float(default), rel_tol=0, abs_tol=1e-12)
        if not same:
            chosen[f.name] = got
    settings: dict[str, int] = {}
    for key, label, lo, hi in (("reps", "Replications", *REPS_RANGE), ("days", "Days", *DAYS_RANGE),
                               ("seed", "Random seed", 0, _SEED_MAX)):
        text = _as_text({"reps": reps, "days": days, "seed": seed}[key])
        if text is None:
            errors.append(FormError(key, f"{label} must be a whole number"))
            continue
        if not text.strip():
            settings[key] = DEFAULTS[key]
            continue
        number = _parse_number(text, label, True, lo, hi)
        if isinstance(number, str):
            errors.append(FormError(key, number[1:]))
        else:
            settings[key] = int(number)
    name_text = _as_text(name)
    desc_text = _as_text(description)
    if name_text is None or len(name_text) > MAX_NAME_LENGTH:
        errors.append(FormError("scenario-name",
                                f"Scenario name must be text of {MAX_NAME_LENGTH} characters or fewer"))
    if desc_text is None or len(desc_text) > MAX_DESCRIPTION_LENGTH:
        errors.append(FormError("description",
                                f"Description must be text of {MAX_DESCRIPTION_LENGTH:,} characters or fewer"))
    if errors:
        return None, errors
    label = (name_text or "").strip() or (", ".join(f"{k} {v}" for k, v in chosen.items()) or "Baseline only")
    try:
        scenario = parse_scenario({"name": label, "description": (desc_text or "").strip(), "changes": chosen},
                                  fields=fields)
    except UecError as exc:  # the checks above passed one change at a time, so this is not expected
        return None, [FormError("scenario-name", str(exc))]
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
    reps: Any = DEFAULTS["reps"]
    days: Any = DEFAULTS["days"]
    seed: Any = DEFAULTS["seed"]


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


class RunView(RunListItem):
    """A run: under way, failed, or done with its comparison."""

    started_at: str | None = None
    started_display: str = ""
    finished_at: str | None = None
    duration_seconds: float | None = None
    standards: list[StandardRow] = Field(default_factory=list)
    chart_svg: str | None = None
    chart_summary: str = ""
    error: str | None = None


class RunList(BaseModel):
    """Runs under way in this server, then stored runs, newest first."""

    runs: list[RunListItem]


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


def field_view(f: ChangeField) -> FieldView:
    """A change field as the API describes it."""
    return FieldView(name=f.name, label=f.label, kind=f.kind, unit=f.unit, default=f.default, minimum=f.minimum,
                     maximum=f.maximum, hint=f.hint)


_STATUS: dict[str, Literal["running", "failed", "done"]] = {
    "queued": "running", "running": "running", "failed": "failed", "cancelled": "failed", "done": "done",
}


def job_view(job: Any, fields: Sequence[ChangeField]) -> RunView:
    """A run still in the queue (or failed there), from its job: ``job`` has the fields of ``uec.jobs.Job``."""
    p = job.params
    s = p["scenario"]
    error = job.error if job.state != "cancelled" else (job.error or "The run was cancelled.")
    return RunView(
        run_id=job.id, status=_STATUS[job.state], url=f"/scenarios/runs/{job.id}", name=s["name"],
        description=s.get("description", ""), changes=_change_views(s.get("changes", {}), fields), reps=p["reps"],
        days=p["days"], seed=p["seed"], started_at=job.created_at.isoformat(),
        started_display=_started(job.created_at), error=error,
    )


def stored_list_item(r: Any, fields: Sequence[ChangeField]) -> RunListItem:
    """A stored run (a ``uec.system.runs.RunSummary``) as the list shows it."""
    return RunListItem(run_id=r.run_id, status="done", url=f"/scenarios/runs/{r.run_id}", name=r.name,
                       description=r.description, changes=_change_views(r.changes, fields), reps=r.reps,
                       days=r.days, seed=r.seed, started_at=r.started_at.isoformat(),
                       started_display=_started(r.started_at))


def job_list_item(job: Any, fields: Sequence[ChangeField]) -> RunListItem:
    """A run still in the queue as the list shows it."""
    v = job_view(job, fields)
    return RunListItem(**v.model_dump(include=set(RunListItem.model_fields)))


# --- CSV ----------------------------------------------------------------------------------------

RUN_LIST_CSV_COLUMNS = ("run_id", "status", "name", "reps", "days", "seed", "started_at", "changes")
RUN_CSV_COLUMNS = ("run_id", "standard_id", "title", "unit", "measure", "mean", "low", "high", "assessment")


def run_list_csv_rows(runs: RunList) -> list[dict[str, Any]]:
    """One row per run; its changes as ``name=value`` joined by ``;``."""
    return [{**r.model_dump(include=set(RUN_LIST_CSV_COLUMNS) - {"changes"}),
             "changes": "; ".join(f"{c.name}={c.value}" for c in r.changes)} for r in runs.runs]


def run_csv_rows(run: RunView) -> list[dict[str, Any]]:
    """One row per standard and measure (baseline, scenario, difference) with its mean and 95% interval."""
    return [
        {"run_id": run.run_id, "standard_id": s.standard_id, "title": s.title, "unit": s.unit, "measure": m,
         "mean": iv.mean, "low": iv.low, "high": iv.high, "assessment": s.assessment}
        for s in run.standards for m, iv in (("baseline", s.baseline), ("scenario", s.scenario),
                                             ("difference", s.difference))
    ]
