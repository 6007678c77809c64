"""The web app's routers, one per resource, each a module-level ``router`` (as in the FastAPI
full-stack template's ``api/routes``). :data:`ROUTERS` is the order ``create_app`` includes them in.

>>> names = [r.__name__.rsplit(".", 1)[1] for r in MODULES]
>>> names[:7]
['overview', 'sites', 'standards', 'forecasts', 'occupancy', 'scenarios', 'escalation']
>>> names[7:]
['escalation_projection', 'feeds', 'subscriptions', 'health']
"""

from fastapi import APIRouter

from uec.web.routes import (
    escalation,
    escalation_projection,
    feeds,
    forecasts,
    health,
    occupancy,
    overview,
    scenarios,
    sites,
    standards,
    subscriptions,
)

__all__ = ["MODULES", "ROUTERS"]

MODULES = (overview, sites, standards, forecasts, occupancy, scenarios, escalation, escalation_projection, feeds,
           subscriptions, health)
ROUTERS: tuple[APIRouter, ...] = tuple(m.router for m in MODULES)
