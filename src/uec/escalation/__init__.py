"""Escalation: OPEL frameworks as data, parameters computed from the store, scores and levels with why.

A framework (:func:`load_framework`) says which parameters each provider type reports, their
thresholds and weights, and how scores become levels and aggregate to pillars and the ICS. Parameters
are computed at any instant from events (reusing the standards catalogue's recipes) or, where an
organisation only sends them, from its daily OPEL return. :func:`status` scores every site,
organisation, pillar and the ICS at an instant; :func:`history` does so every 15 minutes or daily.

>>> import datetime as dt, tempfile, os
>>> from uec.store import open_store
>>> store = open_store(os.path.join(tempfile.mkdtemp(), "uec.duckdb"))
>>> s = status(store, dt.datetime(2025, 1, 6, 12, tzinfo=dt.UTC))
>>> [p.code for p in s.pillars]
['acute', 'community', 'mental_health', 'nhs111']
"""

from uec.escalation.framework import (
    Framework,
    FrameworkError,
    Parameter,
    ProviderType,
    load_framework,
    merge_frameworks,
)
from uec.escalation.levels import Assessment, Score, Status, history, history_instants, score_unit, status, status_many
from uec.escalation.parameters import ParameterValue, Unit, compute_values, units
from uec.escalation.reference import reference_markdown

__all__ = [
    "Assessment",
    "Framework",
    "FrameworkError",
    "Parameter",
    "ParameterValue",
    "ProviderType",
    "Score",
    "Status",
    "Unit",
    "compute_values",
    "history",
    "history_instants",
    "load_framework",
    "merge_frameworks",
    "reference_markdown",
    "score_unit",
    "status",
    "status_many",
    "units",
]
