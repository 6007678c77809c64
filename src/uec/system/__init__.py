"""The NHS whole-system flow model: NHS 111 and 999, ambulance response and handover, emergency
departments, UTCs and SDEC, inpatient beds, discharge pathways 0-3 and urgent community response,
built on the generic engine in :mod:`uec.simulate` (which knows nothing of the NHS).

This is the package's public API; import from here. Names load on first use, so that importing the
package (the CLI does, to offer ``uec simulate``) does not pull in the compiled engine.

>>> from uec.system import build_model, demo_params
>>> build_model(demo_params(), days=14).model.compile().node_names[0]
'call111'

The pieces:

- parameters: :class:`SystemParams`, :class:`SiteParams`, :func:`demo_params`, :func:`estimate_params`
- the model: :func:`build_model`, :class:`BuiltModel`
- scenarios: :func:`parse_scenario`, :func:`load_scenario`, :func:`run_scenario`, :data:`CHANGE_FIELDS`,
  :class:`Scenario`, :class:`Comparison`, :class:`StandardComparison`, :class:`Interval`
- start from now: :func:`current_state`, :class:`StartState`
- contract tables from a run: :func:`contract_tables`, :func:`demo_tables`, :data:`EVENT_TABLES`
- stored runs: :func:`save_run`, :func:`list_runs`, :func:`get_run`, :func:`new_run_id`, :class:`RunSummary`
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the type checker sees the real names; at run time they load on first use
    from uec.system.estimate import estimate_params
    from uec.system.events import EVENT_TABLES, contract_tables, demo_tables
    from uec.system.model import DAY, BuiltModel, build_model
    from uec.system.params import AGE_GROUPS, CATEGORIES, SiteParams, SystemParams, UtcParams, demo_params
    from uec.system.runs import RunSummary, get_run, list_runs, new_run_id, save_run
    from uec.system.scenario import (
        CHANGE_FIELDS,
        apply_changes,
        baseline_params,
        load_scenario,
        parse_scenario,
        run_scenario,
        scenario_dir,
    )
    from uec.system.standards import simulated_standards, standards_from_tables
    from uec.system.state import StartState, current_state, latest_event_time, state_with_changes
    from uec.system.types import ChangeField, ChangeValue, Comparison, Interval, Scenario, StandardComparison

# Public name -> the module that defines it.
_WHERE = {
    "AGE_GROUPS": "params", "CATEGORIES": "params", "SiteParams": "params", "SystemParams": "params",
    "UtcParams": "params", "demo_params": "params", "demo_params_from": "params",
    "estimate_params": "estimate",
    "DAY": "model", "BuiltModel": "model", "build_model": "model",
    "CHANGE_FIELDS": "scenario", "apply_changes": "scenario", "baseline_params": "scenario",
    "load_scenario": "scenario", "parse_scenario": "scenario", "run_scenario": "scenario",
    "scenario_dir": "scenario",
    "ChangeField": "types", "ChangeValue": "types", "Comparison": "types", "Interval": "types",
    "Scenario": "types", "StandardComparison": "types",
    "StartState": "state", "current_state": "state", "latest_event_time": "state", "state_with_changes": "state",
    "EVENT_TABLES": "events", "contract_tables": "events", "demo_tables": "events",
    "simulated_standards": "standards", "standards_from_tables": "standards",
    "RunSummary": "runs", "get_run": "runs", "list_runs": "runs", "new_run_id": "runs", "save_run": "runs",
}

# Spelled out (not sorted(_WHERE)) so that type checkers and linters see the exports.
__all__ = [
    "AGE_GROUPS",
    "CATEGORIES",
    "CHANGE_FIELDS",
    "DAY",
    "EVENT_TABLES",
    "BuiltModel",
    "ChangeField",
    "ChangeValue",
    "Comparison",
    "Interval",
    "RunSummary",
    "Scenario",
    "SiteParams",
    "StandardComparison",
    "StartState",
    "SystemParams",
    "UtcParams",
    "apply_changes",
    "baseline_params",
    "build_model",
    "contract_tables",
    "current_state",
    "demo_params",
    "demo_params_from",
    "demo_tables",
    "estimate_params",
    "get_run",
    "latest_event_time",
    "list_runs",
    "load_scenario",
    "new_run_id",
    "parse_scenario",
    "run_scenario",
    "save_run",
    "scenario_dir",
    "simulated_standards",
    "standards_from_tables",
    "state_with_changes",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'uec.system' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"uec.system.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
