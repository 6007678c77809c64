"""The values the whole-system model's scenarios and runs are exchanged in.

A :class:`Scenario` names changes to the baseline system; running it gives a :class:`Comparison`:
each national standard, computed by the standards engine from the simulated events of every
replication, for the baseline and the scenario, with 95% confidence intervals across
replications. The command line, the scenario page and the stored runs all speak these types.

>>> s = Scenario(name="more-beds", description="20 more G&A beds at every site", changes={"extra_beds": 20})
>>> s.changes["extra_beds"]
20
>>> Interval(mean=81.2, low=80.1, high=82.3).contains(81.0)
True
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["ChangeField", "Comparison", "Interval", "Scenario", "StandardComparison"]

#: A change's value: a number (beds, crews, a share, a growth rate) or a text (a clock time).
ChangeValue = int | float | str


@dataclass(frozen=True)
class ChangeField:
    """One change a scenario can make, described for forms and validation.

    ``kind`` is ``"int"``, ``"float"`` or ``"time"`` (``HH:MM``); ``default`` is the baseline's value.
    """

    name: str
    label: str
    kind: str
    unit: str
    default: ChangeValue
    minimum: float | None = None
    maximum: float | None = None
    hint: str = ""


@dataclass(frozen=True)
class Scenario:
    """A named set of changes to a baseline (``None``: the default demo-ICS baseline)."""

    name: str
    description: str = ""
    baseline: str | None = None
    changes: Mapping[str, ChangeValue] = field(default_factory=dict)


@dataclass(frozen=True)
class Interval:
    """A mean across replications and its 95% confidence interval (Student t)."""

    mean: float
    low: float
    high: float

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies in the interval, bounds included."""
        return self.low <= value <= self.high


@dataclass(frozen=True)
class StandardComparison:
    """One standard under the baseline and the scenario; ``difference`` is scenario minus baseline,
    paired by replication (common random numbers) where the runs share seeds."""

    standard_id: str
    title: str
    unit: str
    higher_is_better: bool | None
    baseline: Interval
    scenario: Interval
    difference: Interval


@dataclass(frozen=True)
class Comparison:
    """The result of running a scenario against its baseline."""

    scenario: Scenario
    reps: int
    seed: int
    days: float
    started_at: dt.datetime
    finished_at: dt.datetime
    standards: tuple[StandardComparison, ...]
