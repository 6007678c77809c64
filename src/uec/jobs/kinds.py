"""The kinds of job: how each checks its parameters when queued and what it does when run.

- ``scenario_run``: params ``scenario`` (a mapping as :func:`uec.system.parse_scenario` takes it),
  ``reps``, ``days``, ``seed``; runs :func:`uec.system.run_scenario` and saves the comparison with
  :func:`uec.system.save_run` under the job's id; result ``{"run_id": ...}``.
- ``forecast_refresh``: params ``model`` and ``horizon`` (both optional); refits every series of
  the store and saves the forecasts; result ``{"run_ids": [...], "series": n}``.
- ``escalation_projection`` and ``escalation_try``: see :mod:`uec.escalation.projection_jobs`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from uec.errors import UecError
from uec.store import Store, StoreBusy

__all__ = ["KINDS", "MAX_DAYS", "MAX_REPS", "JobContext", "Kind", "check_params"]

#: Replications a scenario run may ask for, inclusive (as the scenario page allows).
MAX_REPS = 50
#: Days a scenario run may simulate, inclusive.
MAX_DAYS = 365
_SEED_MAX = 2**32 - 1
#: How long a finished job keeps trying to save its result while another writer holds the store.
SAVE_PATIENCE_SECONDS = 1800.0


class JobContext(Protocol):
    """What a running job may do: report progress (which is also where cancellation is noticed)."""

    job_id: str

    def progress(self, fraction: float, message: str) -> None:
        """Record progress; raises :class:`uec.jobs.JobCancelled` if the job was cancelled."""


@dataclass(frozen=True)
class Kind:
    """One kind of job: ``check`` turns raw params into clean ones (raising ``UecError``), ``run`` does it."""

    name: str
    check: Callable[[Mapping[str, Any]], dict[str, Any]]
    run: Callable[[Store, Mapping[str, Any], JobContext], dict[str, Any]]


def _int(params: Mapping[str, Any], name: str, lo: int, hi: int, default: int | None) -> int | None:
    value = params.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise UecError(f"{name} must be a whole number from {lo} to {hi}, got {value!r}")
    if not lo <= value <= hi:
        raise UecError(f"{name} must be from {lo} to {hi}, got {value}")
    return value


def _unknown(params: Mapping[str, Any], known: set[str], kind: str) -> None:
    extra = sorted(set(map(str, params)) - known)
    if extra:
        raise UecError(f"{kind} jobs take {', '.join(sorted(known))}; unknown parameter {extra[0]!r}")


def _check_scenario(params: Mapping[str, Any]) -> dict[str, Any]:
    """
    >>> _check_scenario({"scenario": {"name": "more-crews", "changes": {"extra_crews": 5}}, "reps": 2})["days"]
    28
    >>> _check_scenario({"scenario": {"name": "x"}, "reps": 500})
    Traceback (most recent call last):
    ...
    uec.errors.UecError: reps must be from 1 to 50, got 500
    """
    from uec.system import parse_scenario

    _unknown(params, {"scenario", "reps", "days", "seed"}, "scenario_run")
    scenario = params.get("scenario")
    parse_scenario(scenario, "scenario_run")  # raises UecError with the reason
    assert isinstance(scenario, Mapping)
    return {
        "scenario": dict(scenario),
        "reps": _int(params, "reps", 1, MAX_REPS, 5),
        "days": _int(params, "days", 1, MAX_DAYS, 28),
        "seed": _int(params, "seed", 0, _SEED_MAX, 42),
    }


def save_patiently(save: Callable[[], Any]) -> Any:
    """Call ``save``, trying again while another writer holds the embedded store.

    A load can hold the store for a minute; a result that took minutes to compute is not dropped
    for that.
    """
    deadline = time.monotonic() + SAVE_PATIENCE_SECONDS
    while True:
        try:
            return save()
        except StoreBusy:
            if time.monotonic() >= deadline:
                raise
            time.sleep(1.0)


def _run_scenario(store: Store, params: Mapping[str, Any], ctx: JobContext) -> dict[str, Any]:
    from uec.system import get_run, parse_scenario, run_scenario, save_run

    run_id = ctx.job_id
    try:
        get_run(store, run_id)
        # Saved by an earlier attempt whose worker died before it could record the job as done.
        return {"run_id": run_id}
    except UecError:
        pass
    scenario = parse_scenario(params["scenario"], "scenario_run")

    def tick(done: int, total: int) -> None:
        ctx.progress(0.95 * done / max(total, 1), f"{done} of {total} replications")

    comparison = run_scenario(scenario, int(params["reps"]), int(params["seed"]), days=float(params["days"]),
                              progress=tick)
    ctx.progress(0.95, "saving the run")
    save_patiently(lambda: save_run(store, comparison, run_id=run_id, actor=f"job:{ctx.job_id}"))
    return {"run_id": run_id}


def _check_forecast(params: Mapping[str, Any]) -> dict[str, Any]:
    """
    >>> _check_forecast({})
    {'model': None, 'horizon': None}
    """
    _unknown(params, {"model", "horizon"}, "forecast_refresh")
    model = params.get("model")
    if model is not None and not isinstance(model, str):
        raise UecError(f"model must be a model name, got {model!r}")
    return {"model": model, "horizon": _int(params, "horizon", 1, 24 * 60, None)}


def _run_forecast(store: Store, params: Mapping[str, Any], ctx: JobContext) -> dict[str, Any]:
    import uec.forecast
    from uec.forecast.runs import forecast_store_series, save_runs
    from uec.forecast.series import available_series

    ids = [s.series_id for s in available_series(store)]
    if not ids:
        raise UecError("the store has no series to forecast: load data first (uec demo or uec ingest)")
    done = [0]

    def tick(series_id: str) -> None:
        done[0] += 1
        ctx.progress(0.95 * done[0] / len(ids), f"forecast {done[0]} of {len(ids)} series ({series_id})")

    kwargs: dict[str, Any] = {"horizon": params.get("horizon"), "progress": tick}
    if params.get("model"):
        kwargs["model"] = params["model"]
    refresh = getattr(uec.forecast, "refresh", None)
    if callable(refresh):  # the forecast capability's own refresh, when it offers one
        runs = refresh(store, **kwargs)
    else:
        runs = forecast_store_series(store, ids, save=False, **kwargs)
        if sum(len(r.values) for r in runs) == 0:
            raise UecError("no series could be forecast: "
                           + "; ".join(f"{x.unique_id}: {x.error}" for r in runs for x in r.series))
        ctx.progress(0.95, "saving the forecasts")
        save_patiently(lambda: save_runs(store, runs, actor=f"job:{ctx.job_id}", action="forecast.refresh"))
    return {"run_ids": [r.run_id for r in runs], "series": len(ids)}


def _escalation(name: str) -> Callable[..., Any]:
    """A function of :mod:`uec.escalation.projection_jobs`, imported when first called."""

    def call(*args: Any) -> Any:
        from uec.escalation import projection_jobs

        return getattr(projection_jobs, name)(*args)

    return call


#: Every kind of job by name.
KINDS: dict[str, Kind] = {
    "scenario_run": Kind("scenario_run", _check_scenario, _run_scenario),
    "forecast_refresh": Kind("forecast_refresh", _check_forecast, _run_forecast),
    # The projected OPEL level and "try an action" (issue 13 items 5-6).
    "escalation_projection": Kind("escalation_projection", _escalation("check_projection"),
                                  _escalation("run_projection")),
    "escalation_try": Kind("escalation_try", _escalation("check_try"), _escalation("run_try")),
}


def check_params(kind: str, params: Mapping[str, Any], kinds: Mapping[str, Kind] | None = None) -> dict[str, Any]:
    """The clean params of a job of ``kind``, or ``UecError`` saying what is wrong.

    >>> check_params("backup", {})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    uec.errors.UecError: unknown job kind 'backup'; kinds: escalation_projection, ..., scenario_run
    """
    known = KINDS if kinds is None else kinds
    k = known.get(kind)
    if k is None:
        raise UecError(f"unknown job kind {kind!r}; kinds: {', '.join(sorted(known))}")
    if not isinstance(params, Mapping):
        raise UecError(f"{kind} params must be a mapping, got {type(params).__name__}")
    return k.check(params)
