"""Projections as durable jobs, cached per data version, and notifications of projected escalation.

Two kinds of job (registered in :data:`uec.jobs.kinds.KINDS`, run by ``uec worker``):

- ``escalation_projection``: params ``hours`` (1-72, default 72), ``step_hours`` (default 4),
  ``reps`` (default 10) and ``seed`` (default 42); projects every organisation, pillar and the ICS
  (:func:`uec.escalation.projection.project`), notifies **projected escalation**, and keeps the
  projection (its JSON form) as the job's result with the store's data version.
- ``escalation_try``: params ``org``, ``changes`` (a scenario's changes), ``card`` (the action
  card's id, optional), ``hours`` (default 24), ``step_hours``, ``reps``, ``seed``; the result is
  :meth:`uec.escalation.tryit.TryIt.as_dict`.

A result is for one data version: :func:`cached` finds a finished job with the same params whose
data version is the store's now, so asking again without new data costs nothing.

A **projected escalation** is an organisation (or the ICS) whose projection goes above its current
calculated level at some instant of the horizon in at least :data:`RISE_PROBABILITY` of the
replications. It is notified once per organisation, projected level and day (the key), and the
notifications' cool-down applies as to every other event.

>>> check_projection({})
{'hours': 72, 'step_hours': 4, 'reps': 10, 'seed': 42}
>>> check_try({"org": "DEMO-A", "changes": {"extra_escalation_beds": 20}})["hours"]
24
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from typing import Any, Protocol

from uec.config import Settings, get_settings
from uec.errors import UecError
from uec.escalation import notify
from uec.escalation.projection import MAX_HOURS, MAX_REPS, Projection, project
from uec.escalation.schema import ensure_escalation_schema
from uec.standards.periods import LONDON
from uec.store import Store

__all__ = [
    "PROJECTION_KIND",
    "RISE_PROBABILITY",
    "TRY_KIND",
    "cached",
    "check_projection",
    "check_try",
    "data_version_key",
    "notify_projected",
    "run_projection",
    "run_try",
]

PROJECTION_KIND = "escalation_projection"
TRY_KIND = "escalation_try"

#: The share of replications that must rise above the current level for a projected escalation to
#: be notified: "likely", more often than not. A policy choice, not a published figure.
RISE_PROBABILITY = 0.5

_SEED_MAX = 2**32 - 1


class Context(Protocol):
    """What a running job offers (``uec.jobs.JobContext``): its id and progress."""

    job_id: str

    def progress(self, fraction: float, message: str) -> None: ...


def _int(params: Mapping[str, Any], name: str, lo: int, hi: int, default: int) -> int:
    value = params.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise UecError(f"{name} must be a whole number from {lo} to {hi}, got {value!r}")
    if not lo <= value <= hi:
        raise UecError(f"{name} must be from {lo} to {hi}, got {value}")
    return value


def _unknown(params: Mapping[str, Any], known: set[str], kind: str) -> None:
    extra = sorted(set(map(str, params)) - known)
    if extra:
        raise UecError(f"{kind} jobs take {', '.join(sorted(known))}; unknown parameter {extra[0]!r}")


def _common(params: Mapping[str, Any], hours_default: int) -> dict[str, int]:
    hours = _int(params, "hours", 1, MAX_HOURS, hours_default)
    return {"hours": hours, "step_hours": _int(params, "step_hours", 1, hours, min(4, hours)),
            "reps": _int(params, "reps", 1, MAX_REPS, 10), "seed": _int(params, "seed", 0, _SEED_MAX, 42)}


def check_projection(params: Mapping[str, Any]) -> dict[str, Any]:
    """The clean params of an ``escalation_projection`` job, or ``UecError``."""
    _unknown(params, {"hours", "step_hours", "reps", "seed"}, PROJECTION_KIND)
    return _common(params, MAX_HOURS)


def check_try(params: Mapping[str, Any]) -> dict[str, Any]:
    """The clean params of an ``escalation_try`` job, or ``UecError``.

    >>> check_try({"org": "DEMO-A", "changes": {"extra_beds": 0.5}})
    Traceback (most recent call last):
    ...
    uec.system.scenario.ScenarioValueError: scenario 'action': extra_beds must be a whole number, got 0.5
    """
    from uec.system import parse_scenario

    _unknown(params, {"org", "changes", "card", "hours", "step_hours", "reps", "seed"}, TRY_KIND)
    org = params.get("org")
    if not isinstance(org, str) or not org.strip():
        raise UecError("org must name the organisation to try the action for")
    changes = params.get("changes")
    if not isinstance(changes, Mapping) or not changes:
        raise UecError("changes must name at least one change, such as {'extra_escalation_beds': 20}")
    scenario = parse_scenario({"name": "action", "changes": dict(changes)}, "action")
    card = params.get("card")
    if card is not None and not isinstance(card, str):
        raise UecError("card must be an action card's id")
    return {"org": org.strip(), "changes": dict(scenario.changes), "card": card, **_common(params, 24)}


def data_version_key(store: Store) -> str:
    """A short fingerprint of the store's data version (a projection is for the data it was made from)."""
    return hashlib.sha256(repr(store.data_version()).encode("utf-8")).hexdigest()[:16]


def cached(store: Store, kind: str, params: Mapping[str, Any]) -> Any:
    """The newest finished job of ``kind`` with these (clean) params made from the data the store
    holds now, or ``None``."""
    from uec.jobs import list_jobs

    version = data_version_key(store)
    for job in list_jobs(store, kind=kind, limit=50):
        if job.state == "done" and dict(job.params) == dict(params) and (job.result or {}).get(
                "data_version") == version:
            return job
    return None


def _tick(ctx: Context, share: float) -> Any:
    def tick(done: int, total: int) -> None:
        ctx.progress(share * done / max(total, 1), f"{done} of {total} replications")

    return tick


def run_projection(store: Store, params: Mapping[str, Any], ctx: Context) -> dict[str, Any]:
    """Run an ``escalation_projection`` job: project, notify projected escalation, keep the result."""
    version = data_version_key(store)
    p = project(store, hours=int(params["hours"]), step_hours=int(params["step_hours"]), reps=int(params["reps"]),
                seed=int(params["seed"]), progress=_tick(ctx, 0.95))
    ctx.progress(0.95, "notifying projected escalation")
    notify_projected(store, p)
    return {**p.as_dict(), "data_version": version}


def run_try(store: Store, params: Mapping[str, Any], ctx: Context) -> dict[str, Any]:
    """Run an ``escalation_try`` job: the organisation's projection without and with the change."""
    from uec.escalation.tryit import try_action

    version = data_version_key(store)
    t = try_action(store, str(params["org"]), dict(params["changes"]), card_id=params.get("card"),
                   hours=int(params["hours"]), step_hours=int(params["step_hours"]), reps=int(params["reps"]),
                   seed=int(params["seed"]), progress=_tick(ctx, 1.0))
    return {**t.as_dict(), "data_version": version}


def _level(level: int | None) -> str:
    return "no level" if level is None else f"OPEL {level}"


def notify_projected(store: Store, p: Projection, *, threshold: float = RISE_PROBABILITY,
                     settings: Settings | None = None) -> list[tuple[str, int | None, int, float]]:
    """Record (and send) a notification for each organisation or the ICS projected to rise.

    Returns ``(code, current level, projected level, probability)`` of each projected escalation.
    """
    settings = settings or get_settings()
    rises = []
    for kind, code in sorted(p.units):
        if kind not in ("org", "ics"):
            continue
        share, top = p.rise_probability(code, kind)
        if top is None or share < threshold:
            continue
        rises.append((code, p.current.get((kind, code)), top, share))
    if not rises:
        return []
    ensure_escalation_schema(store)
    now = dt.datetime.now(dt.UTC)
    day = p.as_of.astimezone(LONDON).date().isoformat()
    with store.write() as w:
        for code, current, top, share in rises:
            what = "the system" if ("ics", code) in p.units else code
            notify.enqueue(
                w, event="projected_escalation", object_code=code,
                key=f"projected:{code}:{current or 1}->{top}:{day}",
                subject=f"{what} projected to reach {_level(top)} within {p.hours} hours (now {_level(current)})",
                body=(f"{what}: in {share:.0%} of {p.reps} replications of the whole-system model run from "
                      f"{p.as_of.astimezone(LONDON):%Y-%m-%d %H:%M} (Europe/London), the calculated level goes "
                      f"above {_level(current)} within {p.hours} hours, most often to {_level(top)}."),
                now=now, settings=settings)
    notify.send_pending(store, settings)
    return rises
