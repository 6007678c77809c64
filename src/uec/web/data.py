"""The overview and site pages' view models, built from :mod:`uec.activity` (which holds the SQL).

Every page, its ``.json`` sibling, its ``.csv`` sibling and the ``/api`` route are built from one
model returned here, so they cannot disagree.

Days are Europe/London days. The activity queries count by UTC hour and this module puts each hour
into its London day: London's offset is always a whole number of hours, so no UTC hour straddles a
London midnight, and a 23- or 25-hour day at a clock change comes out right.

>>> import tempfile, os
>>> from uec.store import open_store
>>> with tempfile.TemporaryDirectory() as d:
...     ov = overview(open_store(os.path.join(d, "empty.duckdb")))
>>> ov.has_data, ov.window
(False, None)
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic import BaseModel, Field

from uec import activity
from uec.store import Store, reading
from uec.web.display import LONDON, hours, label

__all__ = [
    "ACTIVITY_MEASURES",
    "DAYS",
    "AmbulanceDay",
    "BedState",
    "BedTotal",
    "Measure",
    "Overview",
    "Service",
    "Site",
    "SiteDetail",
    "Window",
    "csv_rows",
    "day_bounds",
    "latest_event_time",
    "list_sites",
    "overview",
    "reporting_day",
    "site_detail",
    "window_for",
]

#: How many days the "last 7 days" tables cover, ending with the reporting day.
DAYS = 7

#: Overview activity rows, in the order the page shows them: (key, label).
ACTIVITY_MEASURES: tuple[tuple[str, str], ...] = (
    ("calls_111", "NHS 111 calls"),
    ("ambulance_incidents", "Ambulance incidents (999 calls)"),
    ("ambulance_conveyances", "Ambulance conveyances to hospital"),
    ("attendances_ed_type1", "Emergency department (type 1) attendances"),
    ("attendances_ed_other", "Other emergency department (types 2 to 4) attendances"),
    ("attendances_utc", "Urgent treatment centre attendances"),
    ("attendances_sdec", "Same day emergency care attendances"),
    ("admissions", "Admissions (inpatient spells started)"),
    ("discharges", "Discharges (inpatient spells ended)"),
)

# Emergency-care service types in the order the contract lists them, for table columns.
_ATTENDANCE_TYPES = ("ed_type1", "ed_type2", "ed_type3", "ed_type4", "utc", "sdec")

# General and acute beds: core plus escalation, the occupancy the national sitrep reports.
_G_AND_A = ("g_and_a", "g_and_a_escalation")


# --- models -------------------------------------------------------------------------------------


class Service(BaseModel):
    """A service offered at a site."""

    service_id: str
    site_code: str
    name: str
    service_type: str
    service_type_label: str
    opens: str | None = None
    closes: str | None = None
    hours: str = Field(description="Opening hours in words; '24 hours' when opens and closes are empty")
    capacity: int | None = None
    capacity_unit: str | None = None


class Site(BaseModel):
    """A site in the ICS and the services it offers."""

    site_code: str
    name: str
    site_type: str
    site_type_label: str
    org_code: str
    org_name: str | None = None
    population_served: int | None = None
    services: list[Service] = []


class Window(BaseModel):
    """The days the activity figures cover.

    ``reporting_day`` is "yesterday": the last complete Europe/London day in the data.
    """

    reporting_day: date
    first_day: date
    days: list[date]
    start_utc: datetime
    end_utc: datetime

    @property
    def period(self) -> str:
        """The window as an ISO 8601 interval of dates, e.g. ``2025-02-25/2025-03-03``."""
        return f"{self.first_day.isoformat()}/{self.reporting_day.isoformat()}"


class Measure(BaseModel):
    """One count by day over the window, with its total."""

    measure: str
    label: str
    by_day: dict[date, int]
    yesterday: int
    last_7_days: int


class BedState(BaseModel):
    """Beds of one type at a site at its latest census."""

    site_code: str
    site_name: str
    snapshot_time: datetime
    bed_type: str
    bed_type_label: str
    beds_open: int
    beds_occupied: int
    occupancy_pct: float | None


class BedTotal(BaseModel):
    """General and acute beds (core and escalation) across sites at each site's latest census."""

    beds_open: int
    beds_occupied: int
    occupancy_pct: float | None


class AmbulanceDay(BaseModel):
    """Ambulance arrivals at a site's hospital in one period and how long handovers took."""

    period: str = Field(description="An ISO date, or an ISO interval of dates for the 7-day total")
    arrivals: int
    handovers: int = Field(description="Arrivals with a recorded handover time")
    handover_median_minutes: float | None
    handovers_over_30_minutes: int
    handovers_over_60_minutes: int


class Overview(BaseModel):
    """The system overview: sites, services, activity and bed occupancy across the ICS."""

    time_zone: str = "Europe/London"
    has_data: bool
    latest_event_time: datetime | None
    window: Window | None
    sites: list[Site]
    activity: list[Measure]
    beds: list[BedState]
    beds_g_and_a_total: BedTotal | None


class SiteDetail(BaseModel):
    """One site: its services, attendances by day and type, ambulance handovers, latest beds."""

    time_zone: str = "Europe/London"
    latest_event_time: datetime | None
    window: Window | None
    site: Site
    attendances: list[Measure]
    ambulance: list[AmbulanceDay]
    ambulance_7_days: AmbulanceDay | None
    beds: list[BedState]


# --- the reporting window -------------------------------------------------------------------------


def reporting_day(latest: datetime, now: datetime) -> date:
    """The last complete Europe/London day: "yesterday" on the pages.

    Data that stops in the past (a demo made last month) is complete up to its last day; data that
    runs into today (or beyond, for synthetic data) is complete up to the day before today.

    >>> reporting_day(datetime(2025, 3, 3, 23, 50, tzinfo=UTC), now=datetime(2026, 1, 1, tzinfo=UTC))
    datetime.date(2025, 3, 3)
    >>> reporting_day(datetime(2025, 3, 4, 9, 0, tzinfo=UTC), now=datetime(2025, 3, 4, 10, 0, tzinfo=UTC))
    datetime.date(2025, 3, 3)
    """
    latest_day = latest.astimezone(LONDON).date()
    today = now.astimezone(LONDON).date()
    return min(latest_day, today - timedelta(days=1))


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC instants a London day starts and ends at (it is 23 or 25 hours at a clock change).

    >>> start, end = day_bounds(date(2025, 3, 30))
    >>> start.isoformat(), end.isoformat()
    ('2025-03-30T00:00:00+00:00', '2025-03-30T23:00:00+00:00')
    """
    start = datetime.combine(day, time(0), tzinfo=LONDON).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=LONDON).astimezone(UTC)
    return start, end


def window_for(day: date, days: int = DAYS) -> Window:
    """The window of ``days`` London days ending with ``day``.

    >>> w = window_for(date(2025, 3, 3))
    >>> w.period, len(w.days), w.start_utc.isoformat()
    ('2025-02-25/2025-03-03', 7, '2025-02-25T00:00:00+00:00')
    """
    first = day - timedelta(days=days - 1)
    return Window(
        reporting_day=day,
        first_day=first,
        days=[first + timedelta(days=i) for i in range(days)],
        start_utc=day_bounds(first)[0],
        end_utc=day_bounds(day)[1],
    )


def latest_event_time(store: Store) -> datetime | None:
    """The newest event instant in the tables the pages count, or ``None`` when there are none."""
    return activity.latest_event_time(store)


def _utc(t: datetime) -> datetime:
    # Drivers hand back aware datetimes with their own tzinfo classes (pytz, psycopg's); normalise.
    return t.astimezone(UTC) if t.tzinfo else t.replace(tzinfo=UTC)


def _window(store: Store, now: datetime | None) -> tuple[datetime | None, Window | None]:
    latest = latest_event_time(store)
    if latest is None:
        return None, None
    return latest, window_for(reporting_day(latest, now or datetime.now(UTC)))


def _by_day(rows: Iterable[Mapping[str, Any]], window: Window) -> dict[str, dict[date, int]]:
    """Hourly ``(k, h, n)`` rows summed into London days, keyed by ``k``."""
    out: dict[str, dict[date, int]] = defaultdict(lambda: dict.fromkeys(window.days, 0))
    for r in rows:
        day = _utc(r["h"]).astimezone(LONDON).date()
        if day in out[str(r["k"])]:
            out[str(r["k"])][day] += int(r["n"])
    return out


def _measure(key: str, name: str, by_day: dict[date, int] | None, window: Window) -> Measure:
    values = by_day or dict.fromkeys(window.days, 0)
    return Measure(
        measure=key,
        label=name,
        by_day=values,
        yesterday=values[window.reporting_day],
        last_7_days=sum(values.values()),
    )


# --- reference data -------------------------------------------------------------------------------


def list_sites(store: Store, site_code: str | None = None) -> list[Site]:
    """Sites (all, or the one given) with their organisation's name and their services."""
    rows = activity.site_rows(store, site_code)
    sites: dict[str, Site] = {}
    for r in rows:
        site = sites.get(r["site_code"])
        if site is None:
            site = sites[r["site_code"]] = Site(
                site_code=r["site_code"],
                name=r["name"],
                site_type=r["site_type"],
                site_type_label=label(r["site_type"]),
                org_code=r["org_code"],
                org_name=r["org_name"],
                population_served=r["population_served"],
            )
        if r["service_id"] is not None:
            site.services.append(
                Service(
                    service_id=r["service_id"],
                    site_code=r["site_code"],
                    name=r["service_name"],
                    service_type=r["service_type"],
                    service_type_label=label(r["service_type"]),
                    opens=r["opens"],
                    closes=r["closes"],
                    hours=hours(r["opens"], r["closes"]),
                    capacity=r["capacity"],
                    capacity_unit=r["capacity_unit"],
                )
            )
    # Sorted here, not in SQL: DuckDB and PostgreSQL collate text differently.
    for site in sites.values():
        site.services.sort(key=lambda v: (v.name.casefold(), v.service_id))
    return sorted(sites.values(), key=lambda x: (x.name.casefold(), x.site_code))


def _latest_beds(store: Store, names: Mapping[str, str], site_code: str | None = None) -> list[BedState]:
    rows = activity.latest_bed_rows(store, site_code)
    order = {"g_and_a": 0, "g_and_a_escalation": 1, "critical_care": 2, "community": 3}
    rows.sort(key=lambda r: (names.get(r["site_code"], r["site_code"]), order.get(r["bed_type"], 9)))
    return [
        BedState(
            site_code=r["site_code"],
            site_name=names.get(r["site_code"], r["site_code"]),
            snapshot_time=_utc(r["snapshot_time"]),
            bed_type=r["bed_type"],
            bed_type_label=label(r["bed_type"]),
            beds_open=int(r["beds_open"]),
            beds_occupied=int(r["beds_occupied"]),
            occupancy_pct=_pct(int(r["beds_occupied"]), int(r["beds_open"])),
        )
        for r in rows
    ]


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


# --- pages ----------------------------------------------------------------------------------------


@reading
def overview(store: Store, now: datetime | None = None) -> Overview:
    """The system overview. ``now`` decides which day is "yesterday" (default: the clock)."""
    latest, window = _window(store, now)
    sites = list_sites(store)
    names = {s.site_code: s.name for s in sites}
    measures: list[Measure] = []
    if window is not None:
        rows = activity.activity_by_hour(store, window.start_utc, window.end_utc)
        counts = _by_day(rows, window)
        measures = [_measure(k, name, counts.get(k), window) for k, name in ACTIVITY_MEASURES]
    beds = _latest_beds(store, names)
    g_and_a = [b for b in beds if b.bed_type in _G_AND_A]
    total = None
    if g_and_a:
        open_, occupied = sum(b.beds_open for b in g_and_a), sum(b.beds_occupied for b in g_and_a)
        total = BedTotal(beds_open=open_, beds_occupied=occupied, occupancy_pct=_pct(occupied, open_))
    return Overview(
        has_data=bool(sites) or latest is not None,
        latest_event_time=latest,
        window=window,
        sites=sites,
        activity=measures,
        beds=beds,
        beds_g_and_a_total=total,
    )


def _ambulance(rows: list[dict[str, Any]], period: str) -> AmbulanceDay:
    minutes = [
        (_utc(r["handed_over"]) - _utc(r["arrived"])).total_seconds() / 60 for r in rows if r["handed_over"] is not None
    ]
    return AmbulanceDay(
        period=period,
        arrivals=len(rows),
        handovers=len(minutes),
        handover_median_minutes=round(statistics.median(minutes), 1) if minutes else None,
        handovers_over_30_minutes=sum(m > 30 for m in minutes),
        handovers_over_60_minutes=sum(m > 60 for m in minutes),
    )


@reading
def site_detail(store: Store, site_code: str, now: datetime | None = None) -> SiteDetail | None:
    """One site's page, or ``None`` when the store has no site with that code."""
    found = list_sites(store, site_code)
    if not found:
        return None
    site = found[0]
    latest, window = _window(store, now)
    attendances: list[Measure] = []
    ambulance: list[AmbulanceDay] = []
    ambulance_total = None
    if window is not None:
        rows = activity.site_attendances_by_hour(store, site_code, window.start_utc, window.end_utc)
        counts = _by_day(rows, window)
        # Columns: every emergency-care type the site offers or saw attendances at, contract order.
        offered = {s.service_type for s in site.services}
        types = [t for t in _ATTENDANCE_TYPES if t in offered or t in counts]
        types += sorted(k for k in counts if k not in _ATTENDANCE_TYPES)
        attendances = [_measure(t, label(t), counts.get(t), window) for t in types]
        if attendances:
            all_types = {d: sum(m.by_day[d] for m in attendances) for d in window.days}
            attendances.append(_measure("all", "All attendances", all_types, window))
        arrivals = activity.ambulance_arrivals(store, site_code, window.start_utc, window.end_utc)
        by_day: dict[date, list[dict[str, Any]]] = {d: [] for d in window.days}
        for r in arrivals:
            by_day[_utc(r["arrived"]).astimezone(LONDON).date()].append(r)
        ambulance = [_ambulance(by_day[d], d.isoformat()) for d in window.days]
        ambulance_total = _ambulance(arrivals, window.period)
    return SiteDetail(
        latest_event_time=latest,
        window=window,
        site=site,
        attendances=attendances,
        ambulance=ambulance,
        ambulance_7_days=ambulance_total,
        beds=_latest_beds(store, {site.site_code: site.name}, site_code),
    )


# --- CSV ------------------------------------------------------------------------------------------

#: Columns of every CSV download: one number per row, in long ("tidy") form.
CSV_COLUMNS = ("section", "site_code", "subject", "measure", "period", "value", "unit")


def _row(section: str, site: str, subject: str, measure: str, period: str, value: Any, unit: str) -> dict[str, Any]:
    return dict(zip(CSV_COLUMNS, (section, site, subject, measure, period, value, unit), strict=True))


def _site_rows(sites: Iterable[Site]) -> list[dict[str, Any]]:
    out = []
    for s in sites:
        if s.population_served is not None:
            out.append(_row("sites", s.site_code, "", "population_served", "", s.population_served, "people"))
        out += [
            _row("services", s.site_code, sv.service_id, "capacity", "", sv.capacity, sv.capacity_unit or "")
            for sv in s.services
            if sv.capacity is not None
        ]
    return out


def _measure_rows(section: str, site: str, measures: Iterable[Measure], window: Window) -> list[dict[str, Any]]:
    out = []
    for m in measures:
        subject, measure = (m.measure, "attendances") if section == "attendances" else ("", m.measure)
        out += [_row(section, site, subject, measure, d.isoformat(), n, "count") for d, n in m.by_day.items()]
        out.append(_row(section, site, subject, measure, window.period, m.last_7_days, "count"))
    return out


def _bed_rows(beds: Iterable[BedState]) -> list[dict[str, Any]]:
    out = []
    for b in beds:
        at = b.snapshot_time.isoformat()
        out.append(_row("beds", b.site_code, b.bed_type, "beds_open", at, b.beds_open, "beds"))
        out.append(_row("beds", b.site_code, b.bed_type, "beds_occupied", at, b.beds_occupied, "beds"))
        if b.occupancy_pct is not None:
            out.append(_row("beds", b.site_code, b.bed_type, "occupancy", at, b.occupancy_pct, "percent"))
    return out


def csv_rows(model: Overview | SiteDetail) -> list[dict[str, Any]]:
    """Every number a page shows, one per row, with :data:`CSV_COLUMNS` as keys.

    ``period`` is an ISO date for a day, an ISO interval of dates for the 7-day total, or the UTC
    instant of a bed census.

    >>> csv_rows(Overview(has_data=False, latest_event_time=None, window=None, sites=[], activity=[],
    ...                   beds=[], beds_g_and_a_total=None))
    []
    """
    out: list[dict[str, Any]] = []
    if isinstance(model, Overview):
        if model.window is not None:
            out += _measure_rows("activity", "", model.activity, model.window)
        out += _bed_rows(model.beds)
        t = model.beds_g_and_a_total
        if t is not None:
            out.append(_row("beds", "", "g_and_a_all", "beds_open", "latest", t.beds_open, "beds"))
            out.append(_row("beds", "", "g_and_a_all", "beds_occupied", "latest", t.beds_occupied, "beds"))
            if t.occupancy_pct is not None:
                out.append(_row("beds", "", "g_and_a_all", "occupancy", "latest", t.occupancy_pct, "percent"))
        out += _site_rows(model.sites)
        return out
    code = model.site.site_code
    out += _site_rows([model.site])
    if model.window is not None:
        out += _measure_rows("attendances", code, model.attendances, model.window)
    for a in [*model.ambulance, *([model.ambulance_7_days] if model.ambulance_7_days else [])]:
        for measure in (
            "arrivals",
            "handovers",
            "handover_median_minutes",
            "handovers_over_30_minutes",
            "handovers_over_60_minutes",
        ):
            value = getattr(a, measure)
            if value is not None:
                unit = "minutes" if measure == "handover_median_minutes" else "count"
                out.append(_row("ambulance", code, "", measure, a.period, value, unit))
    out += _bed_rows(model.beds)
    return out
