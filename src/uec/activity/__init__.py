"""Counts of activity in the store: events by hour, the latest bed census, sites and their services.

The SQL behind the overview and site pages lives in :mod:`uec.activity.queries`; this package is
its public face, so callers (the web app, a report) never write SQL of their own.

>>> from uec.activity import latest_event_time
>>> latest_event_time.__module__
'uec.activity.queries'
"""

from uec.activity.queries import (
    activity_by_hour,
    ambulance_arrivals,
    ambulances_waiting_now,
    calls_111_by_hour,
    calls_111_handling_periods,
    ed_now,
    latest_bed_rows,
    latest_event_time,
    site_attendances_by_hour,
    site_rows,
    spells_now,
)

__all__ = [
    "activity_by_hour",
    "ambulance_arrivals",
    "ambulances_waiting_now",
    "calls_111_by_hour",
    "calls_111_handling_periods",
    "ed_now",
    "latest_bed_rows",
    "latest_event_time",
    "site_attendances_by_hour",
    "site_rows",
    "spells_now",
]
