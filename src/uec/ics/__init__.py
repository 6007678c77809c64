"""The reference ICS: the demo ICS's geography, organisations, population and calibration targets.

Both the whole-system model (:mod:`uec.system`) and the demo (:mod:`uec.demo`) build on it; it
imports neither. ``calibration.yaml`` holds the published levels the demo and the model are
calibrated to, each with its source; :mod:`uec.ics.params` the shapes around them;
:mod:`uec.ics.reference` the organisations, sites and services; :mod:`uec.ics.population` the
residents.

>>> calibration()["targets"]["four_hour_type1"]["value"]
0.815
>>> population_total() > 1_000_000
True
"""

from __future__ import annotations

from uec.ics.params import calibration
from uec.ics.reference import population_total

__all__ = ["calibration", "population_total"]
