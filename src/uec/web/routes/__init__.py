"""The web app's routers, one per resource, each a module-level ``router`` (as in the FastAPI
full-stack template's ``api/routes``). :data:`ROUTERS` is the order ``create_app`` includes them in.

>>> [r.__name__.rsplit(".", 1)[1] for r in MODULES]  # doctest: +NORMALIZE_WHITESPACE
['overview', 'sites', 'standards', 'forecasts', 'occupancy', 'scenarios', 'escalation',
 'escalation_projection', 'health']
"""

from fastapi import APIRouter

from uec.web.routes import (
    escalation,
    escalation_projection,
    forecasts,
    health,
    occupancy,
    overview,
    scenarios,
    sites,
    standards,
)

__all__ = ["MODULES", "ROUTERS"]

MODULES = (overview, sites, standards, forecasts, occupancy, scenarios, escalation, escalation_projection, health)
ROUTERS: tuple[APIRouter, ...] = tuple(m.router for m in MODULES)
