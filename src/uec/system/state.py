"""The state of the system at one instant, read from the store, for projections that "start from now".

:func:`current_state` reads the contract tables and returns a :class:`StartState`: for each site, the
patients in its ED, UTC or SDEC, the inpatients in its beds, the ambulances waiting to hand over,
and its latest bed census. A whole-system simulation seeded with it projects the next hours from
tonight's position rather than from an empty system.

Definitions, all at the instant ``as_of``:

* **ED patient**: an attendance with ``arrival_time <= as_of`` and ``departure_time`` empty or
  after ``as_of`` (arrived within the last :data:`ED_LOOKBACK`, so an attendance whose departure
  was never recorded does not stay "in the department" for ever). Its decision to admit counts only
  if it was made by ``as_of``.
* **Inpatient**: a spell with ``admission_time <= as_of`` and ``discharge_time`` empty or after
  ``as_of``. *No criteria to reside* means ``criteria_to_reside_end_time <= as_of``; a later end
  time is not yet known at ``as_of`` and is left out, and so is the discharge pathway of a patient
  who still meets the criteria (a pathway is known once the patient is waiting for it).
* **Ambulance waiting to hand over**: an incident with a destination site,
  ``hospital_arrival_time <= as_of`` (within :data:`HANDOVER_LOOKBACK`) and ``handover_time``
  empty or after ``as_of``.
* **Beds**: each site's latest ``bed_states`` census at or before ``as_of``, by bed type.

``as_of`` defaults to the latest moment a record in the store starts (a 111 or 999 call, an
arrival at an ED, an admission, a UCR referral or a bed census): a demo store's "now". A naive ``as_of`` is
Europe/London local time, as in the contract.

>>> import tempfile, os, datetime as dt
>>> from uec.store import open_store
>>> with tempfile.TemporaryDirectory() as d:
...     current_state(open_store(os.path.join(d, "uec.duckdb")))
Traceback (most recent call last):
...
uec.errors.UecError: the store holds no events, so there is no "now": load some first or give a start time
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any
from zoneinfo import ZoneInfo

from uec.errors import UecError
from uec.store import Store
from uec.system import queries as Q

__all__ = [
    "BED_CHANGES",
    "ED_LOOKBACK",
    "HANDOVER_LOOKBACK",
    "AmbulanceAtHospital",
    "BedCensus",
    "EdPatient",
    "Inpatient",
    "SiteState",
    "SiteSummary",
    "StartState",
    "current_state",
    "latest_event_time",
    "state_with_changes",
]

#: How far back an arrival can be and still count as in the department. Very long waits (mental
#: health patients waiting for a bed) run to days; a week keeps them and drops stale records.
ED_LOOKBACK = dt.timedelta(days=7)

#: How far back a hospital arrival can be and still count as waiting to hand over.
HANDOVER_LOOKBACK = dt.timedelta(days=1)

#: Bed types that are general and acute beds (core and escalation).
GA_BED_TYPES = ("g_and_a", "g_and_a_escalation")

# Services whose sites belong in the state even when nobody is there at the instant.
_FLOW_SERVICES = ("ed_type1", "ed_type2", "ed_type3", "ed_type4", "utc", "sdec", "g_and_a_beds")
_LONDON = ZoneInfo("Europe/London")


@dataclass(frozen=True)
class EdPatient:
    """A patient in an ED, UTC or SDEC at the instant; ``decision_to_admit_time`` only if made by then."""

    attendance_id: str
    site_code: str
    service_type: str
    arrival_time: dt.datetime
    decision_to_admit_time: dt.datetime | None
    acuity: int | None
    arrival_mode: str | None
    age_band: str | None

    @property
    def decided_to_admit(self) -> bool:
        """Whether a decision to admit had been made: the patient is waiting for a bed."""
        return self.decision_to_admit_time is not None


@dataclass(frozen=True)
class Inpatient:
    """A patient in a bed at the instant; the criteria-to-reside end and pathway only if known by then."""

    spell_id: str
    site_code: str
    admission_time: dt.datetime
    age_band: str | None
    specialty_group: str | None
    criteria_to_reside_end_time: dt.datetime | None
    discharge_pathway: int | None

    @property
    def no_criteria_to_reside(self) -> bool:
        """Whether the patient no longer meets the criteria to reside (ready to leave, waiting)."""
        return self.criteria_to_reside_end_time is not None


@dataclass(frozen=True)
class AmbulanceAtHospital:
    """An ambulance at a hospital whose crew has not yet handed its patient over."""

    incident_id: str
    site_code: str
    category: str
    call_time: dt.datetime
    hospital_arrival_time: dt.datetime


@dataclass(frozen=True)
class BedCensus:
    """Beds open and occupied of one bed type at a site's latest census."""

    site_code: str
    bed_type: str
    snapshot_time: dt.datetime
    beds_open: int
    beds_occupied: int


@dataclass(frozen=True)
class SiteSummary:
    """One site's line of :meth:`StartState.summary`; waits in hours and minutes at the instant."""

    site_code: str
    name: str
    ed_patients: int
    ed_decided_to_admit: int
    ed_over_12_hours: int
    ed_longest_wait_hours: float | None
    inpatients: int
    no_criteria_to_reside: int
    ambulances_waiting: int
    longest_handover_wait_minutes: float | None
    ga_beds_open: int | None
    ga_beds_occupied: int | None
    census_time: dt.datetime | None


@dataclass(frozen=True)
class SiteState:
    """Everything at one site at the instant."""

    site_code: str
    name: str
    ed_patients: tuple[EdPatient, ...]
    inpatients: tuple[Inpatient, ...]
    ambulances: tuple[AmbulanceAtHospital, ...]
    beds: tuple[BedCensus, ...]

    @property
    def ga_beds_open(self) -> int | None:
        """G&A beds open (core and escalation) at the latest census, ``None`` without one."""
        ga = [b for b in self.beds if b.bed_type in GA_BED_TYPES]
        return sum(b.beds_open for b in ga) if ga else None

    @property
    def ga_beds_occupied(self) -> int | None:
        """G&A beds occupied (core and escalation) at the latest census, ``None`` without one."""
        ga = [b for b in self.beds if b.bed_type in GA_BED_TYPES]
        return sum(b.beds_occupied for b in ga) if ga else None


@dataclass(frozen=True)
class StartState:
    """The system at ``as_of`` (UTC), site by site, in site-code order.

    >>> t = dt.datetime(2025, 7, 7, 21, 0, tzinfo=dt.UTC)
    >>> p = EdPatient("a1", "RAA01", "ed_type1", t - dt.timedelta(hours=13), t - dt.timedelta(hours=2), 2, None, None)
    >>> s = StartState(t, (SiteState("RAA01", "Riverside", (p,), (), (), ()),))
    >>> row = s.summary()[0]
    >>> row.ed_patients, row.ed_decided_to_admit, row.ed_over_12_hours, row.ed_longest_wait_hours
    (1, 1, 1, 13.0)
    """

    as_of: dt.datetime
    sites: tuple[SiteState, ...]

    def site(self, site_code: str) -> SiteState:
        """The state of one site; a :class:`UecError` if the site is not in it."""
        for s in self.sites:
            if s.site_code == site_code:
                return s
        raise UecError(f"there is no site {site_code!r} in the state at {self.as_of.isoformat()}")

    @property
    def ed_patients(self) -> tuple[EdPatient, ...]:
        """Every ED, UTC and SDEC patient in the system."""
        return tuple(p for s in self.sites for p in s.ed_patients)

    @property
    def inpatients(self) -> tuple[Inpatient, ...]:
        """Every inpatient in the system."""
        return tuple(p for s in self.sites for p in s.inpatients)

    @property
    def ambulances(self) -> tuple[AmbulanceAtHospital, ...]:
        """Every ambulance waiting to hand over."""
        return tuple(a for s in self.sites for a in s.ambulances)

    def summary(self) -> tuple[SiteSummary, ...]:
        """One row per site: patients, decisions to admit, long waits, no criteria to reside, ambulances, beds."""
        out = []
        for s in self.sites:
            ed_waits = [_hours(self.as_of - p.arrival_time) for p in s.ed_patients]
            handover = [_hours(self.as_of - a.hospital_arrival_time) * 60 for a in s.ambulances]
            census = max((b.snapshot_time for b in s.beds), default=None)
            out.append(SiteSummary(
                site_code=s.site_code, name=s.name, ed_patients=len(s.ed_patients),
                ed_decided_to_admit=sum(p.decided_to_admit for p in s.ed_patients),
                ed_over_12_hours=sum(w > 12 for w in ed_waits),
                ed_longest_wait_hours=max(ed_waits, default=None),
                inpatients=len(s.inpatients),
                no_criteria_to_reside=sum(p.no_criteria_to_reside for p in s.inpatients),
                ambulances_waiting=len(s.ambulances),
                longest_handover_wait_minutes=max(handover, default=None),
                ga_beds_open=s.ga_beds_open, ga_beds_occupied=s.ga_beds_occupied, census_time=census,
            ))
        return tuple(out)

    def as_dict(self) -> dict[str, Any]:
        """The state as JSON-ready data (instants in ISO 8601 UTC), with each site's summary.

        >>> t = dt.datetime(2025, 7, 7, 21, 0, tzinfo=dt.UTC)
        >>> d = StartState(t, (SiteState("RAA01", "Riverside", (), (), (), ()),)).as_dict()
        >>> d["as_of"], d["sites"][0]["summary"]["ed_patients"], d["sites"][0]["ed_patients"]
        ('2025-07-07T21:00:00+00:00', 0, [])
        """
        def plain(obj: Any) -> Any:
            return {k: v.isoformat() if isinstance(v, dt.datetime) else v for k, v in asdict(obj).items()}

        summaries = {r.site_code: r for r in self.summary()}
        return {
            "as_of": self.as_of.isoformat(),
            "sites": [
                {"site_code": s.site_code, "name": s.name, "summary": plain(summaries[s.site_code]),
                 "ed_patients": [plain(p) for p in s.ed_patients], "inpatients": [plain(p) for p in s.inpatients],
                 "ambulances": [plain(a) for a in s.ambulances], "beds": [plain(b) for b in s.beds]}
                for s in self.sites
            ],
        }

    def summary_text(self) -> str:
        """The summary as a plain-text table, times in Europe/London, for the command line.

        >>> t = dt.datetime(2025, 7, 7, 21, 0, tzinfo=dt.UTC)
        >>> print(StartState(t, (SiteState("RAA01", "Riverside", (), (), (), ()),)).summary_text())
        State at 22:00 on Monday 7 July 2025 (Europe/London)
        site   name       in ED  DTA  >12h  max wait  in beds  no CTR  ambulances  max handover  G&A open  G&A used
        RAA01  Riverside      0    0     0         -        0       0           0             -         -         -
        """
        local = self.as_of.astimezone(_LONDON)
        head = ("site", "name", "in ED", "DTA", ">12h", "max wait", "in beds", "no CTR", "ambulances",
                "max handover", "G&A open", "G&A used")
        rows = [head]
        for r in self.summary():
            rows.append((
                r.site_code, r.name, str(r.ed_patients), str(r.ed_decided_to_admit), str(r.ed_over_12_hours),
                "-" if r.ed_longest_wait_hours is None else f"{r.ed_longest_wait_hours:.1f} h",
                str(r.inpatients), str(r.no_criteria_to_reside), str(r.ambulances_waiting),
                "-" if r.longest_handover_wait_minutes is None else f"{r.longest_handover_wait_minutes:.0f} min",
                "-" if r.ga_beds_open is None else str(r.ga_beds_open),
                "-" if r.ga_beds_occupied is None else str(r.ga_beds_occupied),
            ))
        widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
        lines = [f"State at {local:%H:%M} on {local:%A} {local.day} {local:%B %Y} (Europe/London)"]
        for row in rows:
            cells = [c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))]
            lines.append("  ".join(cells).rstrip())
        return "\n".join(lines)


def _hours(delta: dt.timedelta) -> float:
    return delta.total_seconds() / 3600


def _utc(value: Any) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        raise TypeError(f"expected a datetime, got {value!r}")
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _utc_or_none(value: Any) -> dt.datetime | None:
    return None if value is None else _utc(value)


def _aware(as_of: dt.datetime) -> dt.datetime:
    if as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=_LONDON)
    return as_of.astimezone(dt.UTC)


def latest_event_time(store: Store) -> dt.datetime | None:
    """The latest moment a record in the store starts (a call, an arrival, an admission, a census), or ``None``.

    Each record's first time only: a demo store also records, for patients who called or arrived
    before its end, the hospital arrivals, departures and handovers that fall after it.

    >>> import tempfile, os
    >>> from uec.store import open_store
    >>> with tempfile.TemporaryDirectory() as d:
    ...     print(latest_event_time(open_store(os.path.join(d, "uec.duckdb"))))
    None
    """
    return _utc_or_none(Q.latest_event_time(store))


def current_state(store: Store, as_of: dt.datetime | None = None) -> StartState:
    """The state of the system in ``store`` at ``as_of`` (default: :func:`latest_event_time`).

    See the module's documentation for what counts as present. Sites that offer an ED, UTC, SDEC
    or G&A beds are listed even when empty; other sites only if something is there.

    >>> import tempfile, os
    >>> from uec.store import open_store
    >>> with tempfile.TemporaryDirectory() as d:
    ...     s = current_state(open_store(os.path.join(d, "uec.duckdb")), dt.datetime(2025, 7, 7, 22, 0))
    >>> s.as_of.isoformat(), s.sites
    ('2025-07-07T21:00:00+00:00', ())
    """
    if as_of is None:
        latest = latest_event_time(store)
        if latest is None:
            raise UecError('the store holds no events, so there is no "now": load some first or give a start time')
        as_of = latest
    at = _aware(as_of)
    ed = [
        EdPatient(
            attendance_id=r["attendance_id"], site_code=r["site_code"], service_type=r["service_type"],
            arrival_time=_utc(r["arrival_time"]), decision_to_admit_time=_utc_or_none(r["dta"]),
            acuity=None if r["acuity"] is None else int(r["acuity"]), arrival_mode=r["arrival_mode"],
            age_band=r["age_band"],
        )
        for r in Q.ed_patients_at(store, at, at - ED_LOOKBACK)
    ]
    inpatients = [
        Inpatient(
            spell_id=r["spell_id"], site_code=r["site_code"], admission_time=_utc(r["admission_time"]),
            age_band=r["age_band"], specialty_group=r["specialty_group"],
            criteria_to_reside_end_time=_utc_or_none(r["ctr"]),
            discharge_pathway=None if r["ctr"] is None or r["discharge_pathway"] is None
            else int(r["discharge_pathway"]),
        )
        for r in Q.inpatients_at(store, at)
    ]
    ambulances = [
        AmbulanceAtHospital(
            incident_id=r["incident_id"], site_code=r["destination_site"], category=r["category"],
            call_time=_utc(r["call_time"]), hospital_arrival_time=_utc(r["hospital_arrival_time"]),
        )
        for r in Q.handovers_waiting_at(store, at, at - HANDOVER_LOOKBACK)
    ]
    beds = [
        BedCensus(site_code=r["site_code"], bed_type=r["bed_type"], snapshot_time=_utc(r["snapshot_time"]),
                  beds_open=int(r["beds_open"]), beds_occupied=int(r["beds_occupied"]))
        for r in Q.bed_census_at(store, at)
    ]
    names = Q.site_names(store)
    present = {x.site_code for group in (ed, inpatients, ambulances, beds) for x in group}
    codes = Q.sites_offering(store, _FLOW_SERVICES) | present

    def of(items: Iterable[Any], code: str) -> tuple[Any, ...]:
        return tuple(x for x in items if x.site_code == code)

    sites = tuple(
        SiteState(site_code=c, name=names.get(c, c), ed_patients=of(ed, c), inpatients=of(inpatients, c),
                  ambulances=of(ambulances, c), beds=of(beds, c))
        for c in sorted(codes)
    )
    return StartState(as_of=at, sites=sites)


#: Changes that set beds: from now the model takes the beds open from the latest census, so these are
#: made to the census (as many more or fewer beds open from now), not to the model's own bed counts.
BED_CHANGES = {"extra_beds": "g_and_a", "extra_escalation_beds": "g_and_a_escalation"}


def state_with_changes(state: StartState, changes: Mapping[str, Any]) -> StartState:
    """The start state with a scenario's bed changes made to each acute site's latest census.

    Starting from now, the whole-system model opens the beds the census had open (not its own
    counts), so "20 more escalation beds" means 20 more open than the census says, from now.

    >>> t = dt.datetime(2025, 1, 20, 12, tzinfo=dt.UTC)
    >>> s = StartState(t, (SiteState("RAA01", "Riverside", (), (), (), (BedCensus("RAA01", "g_and_a", t, 500, 480),)),))
    >>> [(b.bed_type, b.beds_open) for b in state_with_changes(s, {"extra_escalation_beds": 20}).sites[0].beds]
    [('g_and_a', 500), ('g_and_a_escalation', 20)]
    """
    deltas = {bt: int(changes[name]) for name, bt in BED_CHANGES.items() if changes.get(name)}
    if not deltas:
        return state
    sites = []
    for st in state.sites:
        beds = list(st.beds)
        core = next((b for b in beds if b.bed_type == "g_and_a"), None)
        if core is None:  # not an acute site with a census: nothing to open or close
            sites.append(st)
            continue
        for bed_type, delta in deltas.items():
            k = next((j for j, b in enumerate(beds) if b.bed_type == bed_type), None)
            if k is None:
                beds.append(dataclasses.replace(core, bed_type=bed_type, beds_open=max(0, delta), beds_occupied=0))
            else:
                beds[k] = dataclasses.replace(beds[k], beds_open=max(0, beds[k].beds_open + delta))
        sites.append(dataclasses.replace(st, beds=tuple(beds)))
    return dataclasses.replace(state, sites=tuple(sites))
