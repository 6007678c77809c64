"""Each source's freshness: its latest record, its last load (rows loaded and quarantined), the
interval it is expected within (``sources.yaml``) and whether it is late at an instant.

>>> import datetime as dt, tempfile, os
>>> from uec.store import open_store
>>> store = open_store(os.path.join(tempfile.mkdtemp(), "uec.duckdb"))
>>> f = freshness(store, dt.datetime(2024, 1, 1, tzinfo=dt.UTC))[0]
>>> (f.source, f.latest, f.expected_minutes, f.late)
('A&E attendances', None, 60, True)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from functools import cache
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from uec.feeds import queries
from uec.store import Store

__all__ = ["Freshness", "expected_intervals", "freshness"]

LONDON = ZoneInfo("Europe/London")


@dataclass(frozen=True)
class Freshness:
    """One source's freshness at an instant. ``late`` when it has no record, or its latest record is
    more than ``expected_minutes`` before the instant."""

    source: str
    table: str
    latest: str | None
    rows: int
    last_load: str | None
    last_load_rows: int | None
    last_load_quarantined: int | None
    expected_minutes: int
    minutes_since: float | None
    late: bool
    why: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@cache
def expected_intervals() -> tuple[dict[str, Any], ...]:
    """The sources and their expected intervals, from ``sources.yaml``.

    >>> expected_intervals()[0]["table"]
    'attendances'
    """
    text = resources.files("uec.feeds").joinpath("sources.yaml").read_text(encoding="utf-8")
    return tuple(yaml.safe_load(text)["sources"])


def _instant(v: Any) -> dt.datetime | None:
    if v is None:
        return None
    if isinstance(v, dt.datetime):
        return v if v.tzinfo else v.replace(tzinfo=dt.UTC)
    # A return's period is a local day: it is as fresh as the end of that day.
    return dt.datetime.combine(v, dt.time(), tzinfo=LONDON) + dt.timedelta(days=1)


def freshness(store: Store, at: dt.datetime) -> list[Freshness]:
    """Every source's freshness at ``at`` (records after ``at`` are not counted as its latest)."""
    out = []
    with store.reading():
        for src in expected_intervals():
            # A return's period is a local date: compared with the instant's local date.
            bound = at.astimezone(LONDON).date() if src["column"] == "period_start" else at
            rec = queries.latest_record(store, src["table"], src["column"], bound)
            load = queries.last_load(store, src["table"])
            latest = _instant(rec["latest"])
            expected = int(src["expected_minutes"])
            since = None if latest is None else (at - latest).total_seconds() / 60
            # An optional source (one an ICS may not send at all, such as ED area snapshots) is
            # only late once it has sent something.
            optional = bool(src.get("optional", False))
            late = (since is None and not optional) or (since is not None and since > expected)
            if since is None:
                why = "not sent (optional)" if optional else "no record yet"
            elif late:
                why = f"late: the latest record is {since / 60:.1f} h old; expected within {expected / 60:g} h"
            else:
                why = f"on time (expected within {expected / 60:g} h)"
            out.append(Freshness(
                source=src["label"], table=src["table"], latest=latest.isoformat() if latest else None,
                rows=int(rec["n"]), last_load=load["loaded_at"].isoformat() if load else None,
                last_load_rows=int(load["rows_loaded"]) if load else None,
                last_load_quarantined=int(load["rows_quarantined"]) if load else None,
                expected_minutes=expected, minutes_since=None if since is None else round(since, 1),
                late=late, why=why))
    return out
