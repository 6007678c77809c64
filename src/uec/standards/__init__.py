"""National UEC standards: the reviewed catalogue and the one engine that computes any of them.

The catalogue (``catalogue_data/*.yaml``) says what each standard measures, how to compute it from the
event contract and from aggregate returns, and which dated, sourced targets apply. The engine
computes any standard for any site, organisation or the whole ICS, by hour, day, week, month,
quarter or financial year (Europe/London), with breakdowns, from events where present and returns
otherwise. Disclosure control prepares results for publication.

>>> import datetime as dt, tempfile, os
>>> from uec.store import open_store
>>> store = open_store(os.path.join(tempfile.mkdtemp(), "uec.duckdb"))
>>> catalogue().get("ed-4hr").title
'A&E 4-hour performance (all types)'
>>> [r.standard.id for r in compute_many(store, ["ed-4hr", "amb-c2-mean"], start=dt.date(2024, 4, 1),
...                                      end=dt.date(2024, 5, 1))]
['ed-4hr', 'amb-c2-mean']
"""

from uec.standards.areas import Membership
from uec.standards.engine import Level, Query, Result, Row, SourceChoice, compute, compute_many, organisation_names
from uec.standards.export import CSV_COLUMNS, format_value, write_csv
from uec.standards.loaders import load_ambsys, load_kh03
from uec.standards.model import (
    BREAKDOWNS,
    Catalogue,
    CatalogueError,
    EventsRecipe,
    Part,
    ReturnsRecipe,
    Source,
    Standard,
    Target,
    catalogue,
    load_catalogue,
)
from uec.standards.periods import Grain, parse_period_arg
from uec.standards.reference import reference_markdown, write_reference
from uec.standards.sdc import SUPPRESSED, disclose, disclose_row, round_count

__all__ = [
    "BREAKDOWNS",
    "CSV_COLUMNS",
    "SUPPRESSED",
    "Catalogue",
    "CatalogueError",
    "EventsRecipe",
    "Grain",
    "Level",
    "Membership",
    "Part",
    "Query",
    "Result",
    "ReturnsRecipe",
    "Row",
    "Source",
    "SourceChoice",
    "Standard",
    "Target",
    "catalogue",
    "compute",
    "compute_many",
    "disclose",
    "disclose_row",
    "format_value",
    "load_ambsys",
    "load_catalogue",
    "load_kh03",
    "organisation_names",
    "parse_period_arg",
    "reference_markdown",
    "round_count",
    "write_csv",
    "write_reference",
]
