"""The projected OPEL level: the whole-system model run forward from now, scored by the same code.

:func:`project` reads the state of the system at its start (``uec.system.current_state``: the
patients in each ED and bed, the crews waiting, the bed census), runs the whole-system model
forward ``hours`` from there ``reps`` times, and turns each replication's simulated events into
parameter values at future instants (every ``step_hours``) with the very code that computes them
from real data: the simulated contract tables, with the last 48 hours of real events that had ended
by the start, go into a temporary store, and :func:`uec.escalation.levels.status_many` scores it.
Across replications each unit (organisation, site, pillar, the ICS) gets, at each instant, its
score's mean with a 95% interval and the probability of each level (the share of replications
at it).

With ``changes`` (a scenario's changes, as ``uec.system.parse_scenario`` checks them) the model runs
with them made; :func:`try_action` runs with and without the same replications (the same seeds:
common random numbers) and gives the paired difference.

>>> p = project_levels_example()
>>> p.at_level("DEMO-A", 1)
{1: 0.5, 2: 0.5, 3: 0.0, 4: 0.0, None: 0.0}
>>> p.rise_probability("DEMO-A")
(0.5, 2)
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from uec.contract import table as contract_table
from uec.errors import UecError
from uec.escalation.framework import Framework, load_framework
from uec.escalation.levels import Status, status_many
from uec.escalation.queries import PAST_TABLES, opel_return_rows, past_rows, reference_table_rows
from uec.standards.periods import LONDON
from uec.store import Store, open_store
from uec.system.state import BED_CHANGES, state_with_changes

__all__ = [
    "LEVELS",
    "MAX_HOURS",
    "MAX_REPS",
    "Projection",
    "UnitSamples",
    "project",
    "project_levels_example",
    "projection_instants",
]

#: Hours a projection may look ahead, inclusive (the start-from-now model's useful range).
MAX_HOURS = 72
#: Replications a projection may run, inclusive.
MAX_REPS = 50
#: The levels a unit may be at; ``None`` means no score (no parameter had a value).
LEVELS: tuple[int | None, ...] = (1, 2, 3, 4, None)

Progress = Callable[[int, int], None]
# (kind, code) of a scored unit: 'org', 'site', 'pillar' or 'ics'.
UnitId = tuple[str, str]


@dataclass
class UnitSamples:
    """One unit's values in every replication at every instant: ``[instant][replication]``."""

    kind: str
    code: str
    name: str
    scores: list[list[float | None]]
    levels: list[list[int | None]]
    parameters: dict[str, list[list[float | None]]] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Projection:
    """Every unit's projected score and level at each instant, from ``reps`` replications."""

    as_of: dt.datetime
    made_at: dt.datetime
    instants: tuple[dt.datetime, ...]
    hours: int
    step_hours: int
    reps: int
    seed: int
    changes: Mapping[str, Any]
    framework_id: str
    units: dict[UnitId, UnitSamples]
    current: dict[UnitId, int | None] = field(default_factory=dict)

    def unit(self, code: str, kind: str | None = None) -> UnitSamples:
        """The samples of the unit with ``code`` (an organisation first, then the ICS, a pillar, a site)."""
        for k in (kind,) if kind else ("org", "ics", "pillar", "site"):
            u = self.units.get((k, code))
            if u is not None:
                return u
        known = ", ".join(sorted(c for k, c in self.units if k in ("org", "ics")))
        raise UecError(f"no projection for {code!r} (projected: {known})")

    def at_level(self, code: str, k: int, kind: str | None = None) -> dict[int | None, float]:
        """The probability of each level of ``code`` at instant ``k`` (the share of replications)."""
        levels = self.unit(code, kind).levels[k]
        n = len(levels) or 1
        return {lv: sum(1 for x in levels if x == lv) / n for lv in LEVELS}

    def likely_level(self, code: str, k: int, kind: str | None = None) -> int | None:
        """The most probable level at instant ``k`` (the higher one on a tie)."""
        probs = self.at_level(code, k, kind)
        return max(probs, key=lambda lv: (probs[lv], -1 if lv is None else lv))

    def rise_probability(self, code: str, kind: str | None = None) -> tuple[float, int | None]:
        """The share of replications in which ``code`` goes above its current calculated level at
        some instant of the horizon, and the highest level most of those reach.

        A unit with no current level counts a rise from OPEL 1.
        """
        u = self.unit(code, kind)
        now = self.current.get((u.kind, u.code)) or 1
        peaks = [max((lv for lv in col if lv is not None), default=None)
                 for col in zip(*u.levels, strict=True)] if u.levels else []
        risen = [p for p in peaks if p is not None and p > now]
        if not peaks:
            return 0.0, None
        # The level most replications that rise reach (the higher one on a tie).
        top = max(set(risen), key=lambda lv: (risen.count(lv), lv)) if risen else None
        return len(risen) / len(peaks), top

    def rows(self) -> list[dict[str, Any]]:
        """One row per unit and instant: score mean and 95% interval, the probability of each level."""
        out = []
        for (kind, code), u in sorted(self.units.items(), key=lambda kv: (_KIND_ORDER[kv[0][0]], kv[0][1])):
            for k, at in enumerate(self.instants):
                s = summary([x for x in u.scores[k] if x is not None])
                probs = self.at_level(code, k, kind)
                out.append({
                    "kind": kind, "code": code, "name": u.name, "at": at.astimezone(LONDON).isoformat(),
                    "score_mean": s[0], "score_low": s[1], "score_high": s[2],
                    "likely_level": self.likely_level(code, k, kind),
                    **{f"p_opel{lv}": round(probs[lv], 4) for lv in (1, 2, 3, 4)},
                    "p_no_score": round(probs[None], 4),
                })
        return out

    def as_dict(self) -> dict[str, Any]:
        rises = {}
        for kind, code in self.units:
            if kind in ("org", "ics"):
                p, top = self.rise_probability(code, kind)
                rises[code] = {"current_level": self.current.get((kind, code)), "probability": round(p, 4),
                               "level": top}
        return {
            "as_of": self.as_of.astimezone(LONDON).isoformat(), "made_at": self.made_at.isoformat(),
            "hours": self.hours, "step_hours": self.step_hours, "reps": self.reps, "seed": self.seed,
            "changes": dict(self.changes), "framework": self.framework_id,
            "instants": [a.astimezone(LONDON).isoformat() for a in self.instants],
            "rise": rises, "rows": self.rows(),
        }


_KIND_ORDER = {"ics": 0, "pillar": 1, "org": 2, "site": 3}


def summary(values: Sequence[float]) -> tuple[float | None, float | None, float | None]:
    """Mean and the central 95% of ``values`` across replications (a prediction interval: where one
    replication's value falls), or ``None`` for each with no values.

    >>> summary([10.0, 20.0, 30.0])
    (20.0, 10.5, 29.5)
    >>> summary([])
    (None, None, None)
    """
    if not values:
        return None, None, None
    x = np.asarray(values, dtype=np.float64)
    lo, hi = np.percentile(x, [2.5, 97.5])
    return round(float(x.mean()), 2), round(float(lo), 2), round(float(hi), 2)


def projection_instants(as_of: dt.datetime, hours: int, step_hours: int) -> list[dt.datetime]:
    """The instants projected: every ``step_hours`` after ``as_of`` up to ``hours``.

    >>> [a.hour for a in projection_instants(dt.datetime(2025, 1, 1, 9, tzinfo=dt.UTC), 12, 4)]
    [13, 17, 21]
    """
    if not 1 <= hours <= MAX_HOURS:
        raise UecError(f"hours must be from 1 to {MAX_HOURS}, got {hours}")
    if not 1 <= step_hours <= hours:
        raise UecError(f"the step must be from 1 hour to the horizon ({hours} hours), got {step_hours}")
    return [as_of + dt.timedelta(hours=step_hours * k) for k in range(1, hours // step_hours + 1)]


def _typed(name: str, rows: list[dict[str, Any]]) -> pa.Table:
    schema = contract_table(name).arrow_schema()
    return pa.Table.from_pylist([{f.name: r.get(f.name) for f in schema} for r in rows], schema=schema)


def past_tables(store: Store, as_of: dt.datetime) -> dict[str, pa.Table]:
    """What a projection's store holds from the real one: the reference tables, the events over by
    ``as_of`` in the 48 hours before it, and the OPEL returns of its day and the day before."""
    day = as_of.astimezone(LONDON).date()
    with store.reading():
        out = {name: _typed(name, reference_table_rows(store, name)) for name in ("organisations", "sites", "services")}
        for name in PAST_TABLES:
            out[name] = _typed(name, past_rows(store, name, as_of))
        out["returns"] = _typed("returns", opel_return_rows(store, day - dt.timedelta(days=1), day))
    return out


def _score_replication(past: Mapping[str, pa.Table], simulated: Mapping[str, pa.Table],
                       instants: Sequence[dt.datetime], fw: Framework) -> list[Status]:
    """Scores at ``instants`` of a temporary store holding the past and one replication's events."""
    with tempfile.TemporaryDirectory(prefix="uec-projection-") as d:
        tmp = open_store(os.path.join(d, "projection.duckdb"))
        with tmp.write() as w:
            for name, t in past.items():
                if t.num_rows:
                    w.append(name, t)
            for name, t in simulated.items():
                # The real store's reference tables name the organisations; the run's own are the model's.
                if name in past and name in ("organisations", "sites", "services"):
                    continue
                if t.num_rows:
                    w.append(name, t)
        return status_many(tmp, list(instants), framework=fw)


def replicate(params: Any, state: Any, hours: int, seed: int, i: int, past: Mapping[str, pa.Table],
              instants: Sequence[dt.datetime], fw: Framework) -> list[Status]:
    """Replication ``i``: simulate ``hours`` from the state, then score the instants.

    Module level (and its result depends only on its arguments) so a process pool can run it.
    """
    from uec.simulate import simulate
    from uec.system.events import contract_tables
    from uec.system.model import build_model

    built = build_model(params, hours / 24.0, state)
    seq = np.random.SeedSequence(seed, spawn_key=(i,))
    result = simulate(built.model, seed=seq)
    tables = contract_tables(built, result, seq)
    return _score_replication(past, tables, instants, fw)


def _collect(statuses: list[list[Status]]) -> dict[UnitId, UnitSamples]:
    """Samples ``[instant][replication]`` of every unit, from each replication's statuses."""
    units: dict[UnitId, UnitSamples] = {}
    n_inst = len(statuses[0]) if statuses else 0
    for rep in statuses:
        for k, st in enumerate(rep):
            for s in st.all():
                key = (s.kind, s.code)
                u = units.get(key)
                if u is None:
                    u = units[key] = UnitSamples(s.kind, s.code, s.name, [[] for _ in range(n_inst)],
                                                 [[] for _ in range(n_inst)])
                u.scores[k].append(s.score)
                u.levels[k].append(s.level)
                for a in s.parameters:
                    u.parameters.setdefault(a.parameter_id, [[] for _ in range(n_inst)])[k].append(a.value)
                    u.titles[a.parameter_id] = a.title
                    u.units[a.parameter_id] = a.unit
    return units


def _check(hours: int, reps: int) -> None:
    if not 1 <= reps <= MAX_REPS:
        raise UecError(f"reps must be from 1 to {MAX_REPS}, got {reps}")
    if not 1 <= hours <= MAX_HOURS:
        raise UecError(f"hours must be from 1 to {MAX_HOURS}, got {hours}")


def _census_at_start(state: Any, start: dt.datetime) -> pa.Table:
    """The beds a change opens or closes, as a census at the start: the model's next census is only
    at 08:00, and "open 20 escalation beds now" means they are open, and counted, from now."""
    rows = [{"site_code": b.site_code, "snapshot_time": start, "bed_type": b.bed_type, "beds_open": b.beds_open,
             "beds_occupied": b.beds_occupied} for st in state.sites for b in st.beds]
    return _typed("bed_states", rows)


def project(  # noqa: PLR0913 - keyword-only run settings, each named at the call
        store: Store, *, hours: int = 72, step_hours: int = 4, reps: int = 10, seed: int = 42,
            changes: Mapping[str, Any] | None = None, framework: Framework | None = None,
            base: Any = None, as_of: dt.datetime | None = None, progress: Progress | None = None,
            _state: Any = None) -> Projection:
    """Project every unit's score and level ``hours`` ahead from the store's "now" (or ``as_of``).

    ``changes`` are a scenario's changes (checked by ``uec.system.apply_changes``); ``base`` replaces
    the demo ICS's parameters as the model (for example ``uec.system.estimate_params(store)``).
    """
    from uec.system import apply_changes, current_state, demo_params

    _check(hours, reps)
    fw = framework or load_framework()
    state = _state if _state is not None else current_state(store, as_of)
    start = state.as_of.astimezone(dt.UTC)
    instants = projection_instants(start, hours, step_hours)
    params = base if base is not None else demo_params()
    if changes:
        params = apply_changes(params, dict(changes))
        state = state_with_changes(state, changes)
    past = past_tables(store, start)
    if changes and any(changes.get(name) for name in BED_CHANGES):
        past = {**past, "bed_states": pa.concat_tables([past["bed_states"], _census_at_start(state, start)])}
    now_status = status_many(store, [start], framework=fw)[0]
    statuses = []
    if progress:
        progress(0, reps)
    for i in range(reps):
        statuses.append(replicate(params, state, hours, seed, i, past, instants, fw))
        if progress:
            progress(i + 1, reps)
    current: dict[UnitId, int | None] = {(str(s.kind), s.code): s.level for s in now_status.all()}
    return Projection(as_of=start, made_at=dt.datetime.now(dt.UTC), instants=tuple(instants), hours=hours,
                      step_hours=step_hours, reps=reps, seed=seed, changes=dict(changes or {}),
                      framework_id=fw.id, units=_collect(statuses), current=current)


def project_levels_example() -> Projection:
    """A hand-made projection of one trust over two replications (for the examples)."""
    at = dt.datetime(2025, 1, 20, 12, tzinfo=dt.UTC)
    u = UnitSamples("org", "DEMO-A", "Trust A", [[20.0, 10.0], [30.0, 20.0]], [[1, 1], [2, 1]])
    return Projection(as_of=at, made_at=at, instants=(at + dt.timedelta(hours=4), at + dt.timedelta(hours=8)),
                      hours=8, step_hours=4, reps=2, seed=1, changes={}, framework_id="opel-2024-26",
                      units={("org", "DEMO-A"): u}, current={("org", "DEMO-A"): 1})
