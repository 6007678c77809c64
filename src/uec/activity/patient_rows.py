"""Patient-level rows for analysts: a site's attendances in a time range, pseudonymised as the contract
keeps them (``patient_key`` is a pseudonymised key, never an NHS number).

Only the web's analyst download (``/sites/{site_code}/attendances.csv``, permission
``view_patient_level``) reads these; the caller bounds the range and the row count.

>>> import tempfile, os
>>> from datetime import UTC, datetime
>>> from uec.store import open_store
>>> with tempfile.TemporaryDirectory() as d:
...     store = open_store(os.path.join(d, "uec.duckdb"))
...     site_attendances(store, "RAA01", datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 2, tzinfo=UTC), 10)
[]
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from uec.activity.queries import attendance_rows
from uec.contract import table
from uec.store import Store

__all__ = ["ATTENDANCE_COLUMNS", "site_attendances"]

#: The columns of a patient-level attendance row: the contract's, in its order.
ATTENDANCE_COLUMNS: tuple[str, ...] = tuple(f.name for f in table("attendances").fields)


def site_attendances(store: Store, site_code: str, start: datetime, end: datetime, limit: int) -> list[dict[str, Any]]:
    """A site's attendances arriving in ``[start, end)``, oldest first, at most ``limit`` rows."""
    return attendance_rows(store, site_code, start, end, limit, ATTENDANCE_COLUMNS)
