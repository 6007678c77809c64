"""Scenarios as data: a YAML file names a baseline and the changes; running it compares the two.

A scenario file::

    name: plus-20-beds
    description: 20 more core G&A beds at every acute site
    baseline: demo            # the demo ICS (default), or another scenario file, relative to this one
    changes:
      extra_beds: 20

The changes a scenario can make are :data:`CHANGE_FIELDS` (beds, hours, staff, fleet, discharge
capacity, demand growth, diversion shares). :func:`run_scenario` runs the baseline and the scenario
``reps`` times each with the same seeds (common random numbers), computes every standard with the
standards engine from each replication's events, and returns a :class:`~.types.Comparison`.

>>> s = parse_scenario({"name": "more-crews", "changes": {"extra_crews": 2}})
>>> apply_changes(demo_params(), s.changes).extra_crews
2
>>> parse_scenario({"name": "x", "changes": {"more_beds": 20}})
Traceback (most recent call last):
...
uec.system.scenario.ScenarioValueError: scenario 'x': unknown change 'more_beds'; known changes: extra_beds, ...
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import yaml

from uec.errors import UecError
from uec.simulate import simulate
from uec.system.events import contract_tables
from uec.system.model import build_model
from uec.system.params import SiteParams, SystemParams, demo_params
from uec.system.standards import bounds_of, interval, paired_interval, simulated_standards, standards_from_tables
from uec.system.state import state_with_changes
from uec.system.types import ChangeField, ChangeValue, Comparison, Scenario, StandardComparison

if TYPE_CHECKING:
    from uec.system.state import StartState

__all__ = [
    "CHANGE_FIELDS",
    "DEFAULT_DAYS",
    "ExecutorLike",
    "ScenarioValueError",
    "apply_changes",
    "baseline_params",
    "load_scenario",
    "parse_scenario",
    "replicate",
    "run_replications_system",
    "run_scenario",
    "scenario_dir",
]

#: Days reported by default (after the warm-up): long enough for weekly patterns, quick to run.
DEFAULT_DAYS = 28

#: ``None`` runs serially; ``"process"`` uses a process pool over every core; or anything with
#: ``submit`` (a ``concurrent.futures.Executor`` or a Dask ``distributed.Client``).
ExecutorLike = Executor | Literal["process"] | Any | None

Progress = Callable[[int, int], None]

CHANGE_FIELDS: tuple[ChangeField, ...] = (
    ChangeField("extra_beds", "Extra core G&A beds", "int", "beds per acute site", 0, -300, 500,
                "Added to (or taken from) the core general and acute beds at every acute site."),
    ChangeField("extra_escalation_beds", "Extra escalation beds", "int", "beds per acute site", 0, -100, 300,
                "Escalation beds open in winter (December to March), on top of core beds."),
    ChangeField("extra_crews", "Extra ambulance crews", "int", "crews on every shift", 0, -25, 50,
                "Double-crewed ambulances added to every hour of the rota."),
    ChangeField("extra_decision_makers", "Extra ED decision makers", "int", "clinicians per site on every shift",
                0, -5, 20, "Senior clinicians who can decide to admit or discharge."),
    ChangeField("extra_ed_spaces", "Extra ED spaces", "int", "spaces per site", 0, -20, 50,
                "Spaces for ambulance handover and admitted patients waiting for a bed."),
    ChangeField("sdec_opens", "SDEC opens", "time", "HH:MM", "08:00", hint="Same day emergency care opening time."),
    ChangeField("sdec_closes", "SDEC closes", "time", "HH:MM", "20:00",
                hint="Closing time; 00:00 means midnight. Patients who arrive while it is shut go to the ED."),
    ChangeField("extra_p1_packages", "Extra home care packages (pathway 1)", "int", "packages", 0, -300, 1000,
                "Discharge-to-assess packages of care at home."),
    ChangeField("extra_p2_beds", "Extra community beds (pathway 2)", "int", "beds", 0, -100, 500,
                "Rehabilitation beds in community hospitals."),
    ChangeField("extra_p3_beds", "Extra care home beds (pathway 3)", "int", "beds", 0, -80, 500,
                "Discharge-to-assess care home beds."),
    ChangeField("faster_discharge_readiness", "Faster readiness to leave", "float", "share of the time saved", 0.0,
                -1.0, 1.0, "0.25 means patients are ready to leave a quarter sooner after their criteria to reside "
                "end (assessment, referral, brokerage, medicines, transport), before any wait for a place."),
    ChangeField("extra_weekend_discharge", "Extra weekend discharge staff", "int", "places per site", 0, -5, 20,
                "Discharge team places on Saturdays and Sundays (08:00-20:00)."),
    ChangeField("extra_ucr_teams", "Extra urgent community response teams", "int", "teams", 0, -6, 30,
                "Two-hour urgent community response teams (08:00-20:00)."),
    ChangeField("demand_growth", "Demand growth", "float", "share", 0.0, -0.5, 1.0,
                "0.05 means 5% more calls, incidents, attendances and admissions."),
    ChangeField("divert_c34_to_ucr", "Category 3-4 incidents diverted to UCR", "float", "share", 0.0, 0.0, 1.0,
                "Share of category 3 and 4 incidents sent to urgent community response instead of a crew."),
    ChangeField("divert_ed_to_ucr", "ED walk-ins aged 65+ diverted to UCR", "float", "share", 0.0, 0.0, 1.0,
                "Share of walk-in ED attendances of people aged 65 and over seen by UCR instead."),
)
_FIELDS = {f.name: f for f in CHANGE_FIELDS}
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_SCENARIO_KEYS = {"name", "description", "baseline", "changes"}


def scenario_dir() -> Path:
    """The folder of example scenarios shipped with the package.

    >>> sorted(p.name for p in scenario_dir().glob("*.yaml"))[:2]
    ['baseline.yaml', 'divert-c34-to-ucr.yaml']
    """
    return Path(__file__).parent / "scenarios"


class ScenarioValueError(UecError):
    """A change broke its field's rule: ``change`` names it and ``rule`` says which rule
    (``unknown``, ``time``, ``number``, ``whole``, ``finite`` or ``range``), so a form can word it its own way.

    >>> try:
    ...     parse_scenario({"name": "x", "changes": {"extra_beds": 1.5}})
    ... except ScenarioValueError as e:
    ...     print(e.change, e.rule)
    extra_beds whole
    """

    def __init__(self, message: str, change: str, rule: str) -> None:
        super().__init__(message)
        self.change, self.rule = change, rule


def _check_value(where: str, f: ChangeField, value: object) -> ChangeValue:
    if f.kind == "time":
        if not isinstance(value, str) or not _TIME.match(value):
            raise ScenarioValueError(f"{where}: {f.name} must be a time HH:MM, got {value!r}", f.name, "time")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScenarioValueError(f"{where}: {f.name} must be a number, got {value!r}", f.name, "number")
    if not math.isfinite(value):
        raise ScenarioValueError(f"{where}: {f.name} must be finite", f.name, "finite")
    if f.kind == "int" and not float(value).is_integer():
        raise ScenarioValueError(f"{where}: {f.name} must be a whole number, got {value!r}", f.name, "whole")
    number: int | float = int(value) if f.kind == "int" else float(value)
    if (f.minimum is not None and number < f.minimum) or (f.maximum is not None and number > f.maximum):
        raise ScenarioValueError(
            f"{where}: {f.name} must be between {f.minimum:g} and {f.maximum:g}, got {number!r}", f.name, "range"
        )
    return number


def parse_scenario(
    data: object, source: str = "scenario", *, fields: Sequence[ChangeField] | None = None
) -> Scenario:
    """A :class:`Scenario` from parsed YAML, checking every key and value (against ``fields``,
    by default :data:`CHANGE_FIELDS`). The web form checks its values with this too.

    >>> parse_scenario({"name": "late-sdec", "changes": {"sdec_closes": "24:00"}})
    Traceback (most recent call last):
    ...
    uec.system.scenario.ScenarioValueError: scenario 'late-sdec': sdec_closes must be a time HH:MM, got '24:00'
    """
    if not isinstance(data, Mapping):
        raise UecError(f"{source}: a scenario must be a mapping with name and changes")
    unknown = sorted(set(map(str, data)) - _SCENARIO_KEYS)
    if unknown:
        raise UecError(f"{source}: unknown key {unknown[0]!r}; a scenario has {', '.join(sorted(_SCENARIO_KEYS))}")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise UecError(f"{source}: the scenario needs a name")
    where = f"scenario {name!r}"
    changes_raw = data.get("changes") or {}
    if not isinstance(changes_raw, Mapping):
        raise UecError(f"{where}: changes must be a mapping of change: value")
    known = _FIELDS if fields is None else {f.name: f for f in fields}
    changes: dict[str, ChangeValue] = {}
    for key, value in changes_raw.items():
        f = known.get(str(key))
        if f is None:
            raise ScenarioValueError(f"{where}: unknown change {key!r}; known changes: {', '.join(known)}",
                                     str(key), "unknown")
        changes[f.name] = _check_value(where, f, value)
    baseline = data.get("baseline")
    if baseline is not None and not isinstance(baseline, str):
        raise UecError(f"{where}: baseline must be 'demo' or the path of another scenario file")
    description = data.get("description") or ""
    return Scenario(name=name.strip(), description=str(description).strip(),
                    baseline=None if baseline in (None, "demo") else baseline, changes=changes)


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Read a scenario YAML file (a name without a folder may also be a shipped example).

    >>> load_scenario("plus-20-beds").changes["extra_beds"]
    20
    """
    p = Path(path)
    if not p.exists() and not p.suffix and (scenario_dir() / f"{p.name}.yaml").exists():
        p = scenario_dir() / f"{p.name}.yaml"
    if not p.is_file():
        examples = ", ".join(sorted(x.stem for x in scenario_dir().glob("*.yaml")))
        raise UecError(f"no scenario file {str(path)!r}; give a YAML file or one of: {examples}")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else "invalid YAML"
        raise UecError(f"{p}: not valid YAML ({first})") from None
    s = parse_scenario(data, str(p))
    if s.baseline is not None and not Path(s.baseline).is_absolute():
        s = dataclasses.replace(s, baseline=str((p.parent / s.baseline).resolve()))
    return s


def _scaled_days(days: tuple[float, float, float, float], factor: float) -> tuple[float, float, float, float]:
    a, b, c, d = (x * factor for x in days)
    return (a, b, c, d)


def apply_changes(params: SystemParams, changes: Mapping[str, ChangeValue]) -> SystemParams:
    """The parameters with a scenario's changes made (checked as :func:`parse_scenario` does).

    >>> p = apply_changes(demo_params(), {"extra_beds": 20, "sdec_closes": "00:00"})
    >>> p.sites[0].core_beds, p.sdec_closes
    (799, '00:00')
    """
    c = {k: _check_value("changes", _FIELDS[k], v) if k in _FIELDS else None for k, v in changes.items()}
    unknown = [k for k, v in c.items() if v is None]
    if unknown:
        raise UecError(f"unknown change {unknown[0]!r}; known changes: {', '.join(_FIELDS)}")

    def num(name: str) -> float:
        v = c.get(name, 0)
        return float(v) if isinstance(v, int | float) else 0.0

    def site(s: SiteParams) -> SiteParams:
        dm = int(num("extra_decision_makers"))
        return dataclasses.replace(
            s,
            core_beds=max(0, s.core_beds + int(num("extra_beds"))),
            escalation_beds=max(0, s.escalation_beds + int(num("extra_escalation_beds"))),
            ed_spaces=max(0, s.ed_spaces + int(num("extra_ed_spaces"))),
            decision_makers={k: max(0, v + dm) for k, v in s.decision_makers.items()},
            discharge_weekend=max(0, s.discharge_weekend + int(num("extra_weekend_discharge"))),
        )

    return dataclasses.replace(
        params,
        sites=tuple(site(s) for s in params.sites),
        extra_crews=params.extra_crews + int(num("extra_crews")),
        p1_packages=max(0, params.p1_packages + int(num("extra_p1_packages"))),
        p2_beds=max(0, params.p2_beds + int(num("extra_p2_beds"))),
        p3_beds=max(0, params.p3_beds + int(num("extra_p3_beds"))),
        ucr_teams=max(0, params.ucr_teams + int(num("extra_ucr_teams"))),
        demand_growth=params.demand_growth + num("demand_growth"),
        divert_c34_to_ucr=min(1.0, params.divert_c34_to_ucr + num("divert_c34_to_ucr")),
        divert_ed_to_ucr=min(1.0, params.divert_ed_to_ucr + num("divert_ed_to_ucr")),
        nctr_ready_days=_scaled_days(params.nctr_ready_days, 1.0 - num("faster_discharge_readiness")),
        sdec_opens=str(c.get("sdec_opens", params.sdec_opens)),
        sdec_closes=str(c.get("sdec_closes", params.sdec_closes)),
    )


def baseline_params(scenario: Scenario, root: SystemParams | None = None,
                    _seen: frozenset[str] = frozenset()) -> SystemParams:
    """The parameters of a scenario's baseline: ``root`` (default: the demo ICS), or another
    scenario file's result built on it.

    >>> baseline_params(Scenario(name="x")).extra_crews
    0
    """
    if scenario.baseline is None:
        return root or demo_params()
    path = str(Path(scenario.baseline).resolve())
    if path in _seen:
        raise UecError(f"scenario {scenario.name!r}: baselines refer to each other in a circle")
    base = load_scenario(path)
    return apply_changes(baseline_params(base, root, _seen | {path}), base.changes)


# --- running ---------------------------------------------------------------------------------------


def _rep_seed(seed: int, i: int) -> np.random.SeedSequence:
    return np.random.SeedSequence(seed, spawn_key=(i,))


def replicate(params: SystemParams, days: float, seed: int, i: int,
              start_state: StartState | None = None) -> dict[str, float]:
    """Replication ``i``: simulate, write the contract tables, compute the standards.

    Module level so process pools and Dask workers can run it; the result depends only on the
    arguments, wherever it runs.

    >>> import dataclasses
    >>> v = replicate(dataclasses.replace(demo_params(), warmup_days=2), days=1, seed=1, i=0)
    >>> 0.0 < v["ed-4hr"] <= 1.0
    True
    """
    built = build_model(params, days, start_state)
    seq = _rep_seed(seed, i)
    result = simulate(built.model, seed=seq)
    tables = contract_tables(built, result, seq)
    first = built.origin + dt.timedelta(minutes=built.window_start)
    last = built.origin + dt.timedelta(minutes=built.window_start + days * 1440.0)
    # Whole days that cover the window: the events outside it were never written.
    return standards_from_tables(tables, first.date(), last.date() + dt.timedelta(days=1 if last.time() else 0))


Task = tuple[SystemParams, float, int, int, "StartState | None"]


def _submit_all(tasks: list[Task], executor: ExecutorLike,
                progress: Progress | None) -> list[dict[str, float]]:
    total = len(tasks)
    if progress:
        progress(0, total)
    if executor is None:
        out = []
        for n, t in enumerate(tasks, start=1):
            out.append(replicate(*t))
            if progress:
                progress(n, total)
        return out
    if executor == "process":
        with ProcessPoolExecutor() as pool:
            return _submit_all(tasks, pool, progress)
    futures = [executor.submit(replicate, *t) for t in tasks]
    results = []
    # In submission order: Dask futures and concurrent futures both offer result().
    for n, f in enumerate(futures, start=1):
        results.append(f.result())
        if progress:
            progress(n, total)
    return results


def run_replications_system(params: SystemParams, reps: int, seed: int, *, days: int = DEFAULT_DAYS,
                            executor: ExecutorLike = None, progress: Progress | None = None) -> list[dict[str, float]]:
    """Each replication's standards for one set of parameters (see :func:`replicate`).

    >>> import dataclasses
    >>> p = dataclasses.replace(demo_params(), warmup_days=3)
    >>> values = run_replications_system(p, reps=1, seed=1, days=1)
    >>> 0 < values[0]["amb-c1-mean"] < 60
    True
    """
    if reps < 1:
        raise UecError("--reps must be at least 1")
    return _submit_all([(params, days, seed, i, None) for i in range(reps)], executor, progress)


def run_scenario(scenario: Scenario, reps: int, seed: int | None = None, executor: ExecutorLike = None,
                 progress: Progress | None = None, days: float = DEFAULT_DAYS, start_state: StartState | None = None,
                 base: SystemParams | None = None) -> Comparison:
    """Run the baseline and the scenario ``reps`` times each with common random numbers.

    ``seed=None`` draws a fresh seed (recorded in the result). With ``start_state`` (from
    :func:`uec.system.state.current_state`) both start from that instant with its
    patients in place and no warm-up, and ``days`` may be a fraction (72 hours is 3). ``base``
    replaces the demo ICS as the root of the baseline (for example :func:`~.estimate.estimate_params`).

    >>> c = run_scenario(Scenario(name="more-crews", changes={"extra_crews": 5}), reps=1, seed=3, days=1)
    >>> row = next(r for r in c.standards if r.standard_id == "amb-c2-mean")
    >>> row.scenario.mean <= row.baseline.mean
    True
    """
    if reps < 1:
        raise UecError("--reps must be at least 1")
    if days <= 0:
        raise UecError("--days must be positive")
    if seed is not None and seed < 0:
        raise UecError("--seed must be zero or more")
    if seed is None:
        entropy = np.random.SeedSequence().entropy
        seed = int(entropy) % (2**63) if isinstance(entropy, int) else 0
    base = baseline_params(scenario, base)
    changed = apply_changes(base, scenario.changes)
    started = dt.datetime.now(dt.UTC)
    tasks: list[Task] = [(base, days, seed, i, start_state) for i in range(reps)]
    if changed != base:  # no changes: the scenario's replications are the baseline's, so run them once
        # From now the model opens the beds the census had open, so a bed change is made to the census.
        changed_state = None if start_state is None else state_with_changes(start_state, scenario.changes)
        tasks += [(changed, days, seed, i, changed_state) for i in range(reps)]
    values = _submit_all(tasks, executor, progress)
    b_vals, s_vals = values[:reps], values[-reps:]
    finished = dt.datetime.now(dt.UTC)
    rows = []
    for std in simulated_standards():
        b = [v.get(std.id, math.nan) for v in b_vals]
        s = [v.get(std.id, math.nan) for v in s_vals]
        if all(math.isnan(x) for x in b + s):
            continue
        rows.append(StandardComparison(
            standard_id=std.id, title=std.title, unit=str(std.unit),
            higher_is_better={"higher": True, "lower": False}.get(str(std.direction)),
            baseline=interval(b, bounds_of(str(std.unit))), scenario=interval(s, bounds_of(str(std.unit))),
            difference=paired_interval(b, s),
        ))
    return Comparison(scenario=scenario, reps=reps, seed=seed, days=float(days), started_at=started,
                      finished_at=finished, standards=tuple(rows))
