"""The scenario pages' hooks into the whole-system model, and the names the pages were first built with.

The scenario pages are split into their routes (:mod:`uec.web.routes.scenarios`), view models and
form validation (:mod:`uec.web.scenario_views`), chart (:mod:`uec.web.scenario_chart`) and job queue
(:mod:`uec.web.scenario_jobs`). What stays here is which model runs: :func:`default_runner` and
:func:`default_fields`, looked up each time a run starts or the form is drawn, so a test or a
deployment may replace them (``monkeypatch.setattr(scenario_pages, "default_runner", fake)``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from uec.errors import UecError
from uec.system.types import ChangeField, Comparison, Scenario
from uec.web.limits import DAYS_RANGE, REPS_RANGE
from uec.web.scenario_chart import assessment, comparison_svg
from uec.web.scenario_views import (
    FieldView,
    FormError,
    RunList,
    RunRequest,
    RunView,
    ValidRun,
    field_id,
    format_difference,
    run_view,
    validate_run,
)

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
    "field_id",
    "format_difference",
    "run_view",
    "validate_run",
]

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
