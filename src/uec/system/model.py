"""Build the whole-system queueing network from :class:`~uec.system.params.SystemParams`.

The network, per acute site ``s`` (node names are ``kind/site``):

- ``call111`` (call handlers by hour) routes each caller by disposition to an ED's ``triage/s``, a
  UTC gate, an SDEC gate or out (GP, pharmacy, self care, 999 ... are drawn when writing events).
- ``dispatch/s`` (one dispatch area per acute catchment, with its share of the crews; one
  ``dispatch`` pool if ``ambulance_sectors`` is off) holds one **crew** (crews by hour) from
  allocation to clear: travel, on scene, conveyance, the minimum handover and clearing. Patients
  are served by category (C1 first, then C2, then C3 and C4 in turn). A
  conveyed patient then needs an ED space at ``handover/s`` (``buffer=0``): while the ED has no
  space the patient stays with the crew, which cannot respond to anyone else. That is the
  feedback loop: full wards hold admitted patients in ED spaces, handovers wait, fewer crews are
  free, category 2 response times rise.
- ``rrv/s`` (rapid response cars, one pool for the ICS, by hour) takes category 1 first: the car's
  arrival stops the clock, then the patient queues at ``dispatch/s`` for a crew to convey (a patient
  holds one unit at a time, so the car is free once the crew is sent). No cars: straight to dispatch.
- ``triage/s`` (nurses) streams walk-ins to ``resus/s``, ``majors/s`` (decision makers by hour,
  shared) or ``minors/s`` (minors clinicians), or to SDEC via a gate (``sdecx/s``).
- After the decision: not admitted go to ``treat/s`` (a delay) and leave; admitted go to ``dta/s``,
  which takes an ED space until clinically ready and then waits there for a bed (``ward/s``,
  ``buffer=0``): 12-hour decision-to-admit waits emerge when the wards are full.
- ``ward/s`` (core beds plus escalation beds in winter) holds the patient until the criteria to
  reside end (by age group; resus admissions use ``wardr/s``, the same beds, with longer stays),
  then the patient stays *in the bed* while getting ready to leave (``prepK/s``, a hold node per
  pathway K: assessment, referral, brokerage, medicines, transport; no capacity) and then while
  waiting for their pathway: ``disch/s`` (pathway 0: a discharge team working 08:00-20:00, fewer
  at weekends), ``p1`` home care packages, ``p2`` community beds, ``p3`` care home beds, each with
  its own capacity.
- ``sdec/s`` (chairs, opening hours) and the UTCs ``utc/u`` take the patients their gates send
  while open; when closed the gate sends them to the ED. ``adm/s`` is the admissions lounge for
  SDEC, GP direct and elective admissions. ``ucr`` (teams, 08:00-20:00) takes referrals,
  including any share of category 3-4 incidents and of ED walk-ins diverted to it.

Patient classes are ``source-age`` (for example ``walkin-65-84``, ``C2-conv-85+``, ``call-18-64``);
the class sets the priority for a crew (category) and the times and routes that depend on age.

>>> from uec.system.params import demo_params
>>> built = build_model(demo_params(), days=7)
>>> built.model.horizon / 1440.0
63.0
>>> "handover/DEMO-A01" in {n.name for n in built.model.nodes}
True
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from uec.errors import UecError
from uec.ics import params as D
from uec.ics.params import calibration
from uec.simulate import (
    EXIT,
    Branch,
    Empirical,
    Exit,
    Gamma,
    Lognormal,
    Model,
    Next,
    Node,
    Overflow,
    PatientClass,
    PoissonArrivals,
    Profile,
    RateTable,
    Resource,
    Shifts,
)
from uec.simulate.arrivals import Arrivals, ScheduledArrivals
from uec.simulate.distributions import Distribution
from uec.simulate.model import Route
from uec.system.params import AGE_GROUPS, CATEGORIES, SiteParams, SystemParams

if TYPE_CHECKING:
    from uec.system.state import EdPatient, StartState

__all__ = ["BuiltModel", "build_model", "sim_start"]

DAY = 1440.0
_DRAIN_DAYS = 1.0  # events keep running a day after the last arrival so recent stays can finish


@dataclass(frozen=True)
class BuiltModel:
    """A model and what the event writer needs to read its output."""

    model: Model
    params: SystemParams
    days: float
    #: Model time of the start of the reported window (the end of the warm-up), minutes.
    window_start: float
    #: Instant of model time 0 (UTC midnight, ``params.start - warmup_days``; or the start state's instant).
    origin: dt.datetime
    #: With a start state: the original admission times (minutes, before 0) of the inpatients it
    #: seeded, who are patients ``0 .. n - 1``, and when their criteria to reside ended (NaN: not yet).
    initial_admissions: tuple[float, ...] = ()
    initial_ctr_end: tuple[float, ...] = ()


def sim_start(params: SystemParams) -> dt.date:
    """The first simulated day: the window's start minus the warm-up.

    >>> from uec.system.params import demo_params
    >>> sim_start(demo_params())
    datetime.date(2024, 11, 11)
    """
    return params.start - dt.timedelta(days=params.warmup_days)


# --- time profiles, relative to model time 0 ------------------------------------------------------


def _minutes(hhmm: str) -> float:
    h, m = hhmm.split(":")
    return int(h) * 60.0 + int(m)


def _weekday(values: Sequence[float], day0: dt.date) -> Profile:
    """A Monday..Sunday profile rotated so that it starts on the weekday of model day 0."""
    mean = float(np.mean(values))
    w = day0.weekday()
    return Profile.day_of_week([values[(w + i) % 7] / mean for i in range(7)])


def _monthly(values: Sequence[float], day0: dt.date) -> Profile:
    """A January..December profile over a 365-day year starting at model day 0."""
    mean = float(np.mean(values))
    starts, vals = [0.0], [values[day0.month - 1] / mean]
    for d in range(1, 365):
        day = day0 + dt.timedelta(days=d)
        if day.day == 1:
            starts.append(d * DAY)
            vals.append(values[day.month - 1] / mean)
    return Profile(tuple(starts), tuple(vals), 365 * DAY)


def _rate(per_day: float, hourly: Sequence[float], *multipliers: Profile) -> RateTable:
    """Arrivals per hour with a daily total of ``per_day`` shaped by an hourly profile."""
    h = np.asarray(hourly, dtype=np.float64)
    return RateTable(Profile.hourly(list(h / h.sum() * per_day)), tuple(multipliers))


def _weekly_hourly(per_day: float, weekday: Sequence[float], weekend: Sequence[float],
                   day_factor: Sequence[float], day0: dt.date) -> RateTable:
    """An hour-of-week rate table from separate weekday and weekend hourly shapes."""
    values: list[float] = []
    mean_factor = float(np.mean(day_factor))
    for i in range(7):
        dow = (day0.weekday() + i) % 7
        shape = np.asarray(weekend if dow >= 5 else weekday, dtype=np.float64)
        values.extend(shape / shape.sum() * per_day * day_factor[dow] / mean_factor)
    return RateTable(Profile.hourly(values))


def _open_hours(opens: str, closes: str, capacity: int) -> int | Shifts:
    """``capacity`` from ``opens`` to ``closes`` each day (``closes`` 00:00 or 24:00: midnight)."""
    a, b = _minutes(opens), _minutes(closes) % DAY
    if a == b:
        return capacity
    return Shifts((a, b), (capacity, 0), DAY)


def _yearly_beds(core: int, escalation: int, months: tuple[int, int], day0: dt.date) -> int | Shifts:
    """Core beds, plus escalation beds in the months ``months[0]..months[1]`` (wrapping the year)."""
    first, last = months

    def open_on(day: dt.date) -> bool:
        m = day.month
        return first <= m <= last if first <= last else (m >= first or m <= last)

    if escalation <= 0:
        return core
    starts, caps = [0.0], [core + escalation if open_on(day0) else core]
    for d in range(1, 365):
        c = core + escalation if open_on(day0 + dt.timedelta(days=d)) else core
        if c != caps[-1]:
            starts.append(d * DAY)
            caps.append(c)
    if len(caps) == 1:
        return caps[0]
    return Shifts(tuple(starts), tuple(caps), 365 * DAY)


def _discharge_team(site: SiteParams, day0: dt.date) -> Shifts:
    """Discharge team places: 08:00-20:00, weekday or weekend numbers, none at night."""
    starts, caps = [], []
    for i in range(7):
        weekend = (day0.weekday() + i) % 7 >= 5
        starts += [i * DAY + 480.0, i * DAY + 1200.0]
        caps += [site.discharge_weekend if weekend else site.discharge_weekday, 0]
    return Shifts(tuple(starts), tuple(caps), 7 * DAY)


def _local_shifts(points: Callable[[dt.date], Sequence[tuple[float, int]]], origin: dt.datetime, n_days: int,
                  zone: str) -> Shifts:
    """Capacity change points given on a local wall clock (``points(day)``: minutes after local
    midnight, capacity), laid out day by day over ``n_days`` from ``origin`` in model minutes.

    The local clock moves against UTC twice a year, so the pattern is not periodic in model time: it
    is written out for the whole run (one long period).

    >>> o = dt.datetime(2025, 3, 29, tzinfo=dt.UTC)
    >>> sh = _local_shifts(lambda d: [(480.0, 2), (1200.0, 0)], o, 3, "Europe/London")
    >>> sh.starts[:5]  # 08:00 GMT on the 29th, 08:00 BST (07:00 UTC) after the change
    (0.0, 480.0, 1200.0, 1860.0, 2580.0)
    """
    tz = ZoneInfo(zone)
    first = origin.astimezone(tz).date() - dt.timedelta(days=1)
    at: dict[float, int] = {}
    for i in range(n_days + 2):
        day = first + dt.timedelta(days=i)
        midnight = dt.datetime.combine(day, dt.time(0), tzinfo=tz)
        for minute, cap in points(day):
            # Wall-clock arithmetic on an aware datetime, then to UTC: 08:00 local on that date.
            local = midnight + dt.timedelta(minutes=minute)
            at[(local.astimezone(dt.UTC) - origin).total_seconds() / 60.0] = cap
    period = n_days * DAY
    times = sorted(at)
    before = [t for t in times if t <= 0.0]
    starts = [0.0] + [t for t in times if 0.0 < t < period]
    caps = [at[before[-1]] if before else 0] + [at[t] for t in starts[1:]]
    return Shifts(tuple(starts), tuple(caps), period)


def _has_rrv(p: SystemParams) -> bool:
    """Whether any rapid response car is ever on shift (none: category 1 waits for a crew).

    >>> from uec.system.params import demo_params
    >>> _has_rrv(demo_params()), _has_rrv(dataclasses.replace(demo_params(), rrv={"00:00": 0}))
    (True, False)
    """
    return max(p.rrv.values(), default=0) > 0


def _crew_pools(p: SystemParams) -> dict[str, dict[str, int]]:
    """Crews on shift by time of day: one pool, or one per dispatch area (``crews/<site>``).

    Each shift's crews (plus ``extra_crews``) are shared out by catchment, largest remainders
    first, so the areas always add up to the whole fleet.

    >>> from uec.system.params import demo_params
    >>> pools = _crew_pools(dataclasses.replace(demo_params(), ambulance_sectors=True, extra_crews=2))
    >>> sum(v["00:00"] for v in pools.values()) == demo_params().crews["00:00"] + 2
    True
    """
    total = {k: v + p.extra_crews for k, v in p.crews.items()}
    if not p.ambulance_sectors:
        return {"crews": total}
    shares = [s.share for s in p.sites]
    out: dict[str, dict[str, int]] = {f"crews/{s.code}": {} for s in p.sites}
    for hhmm, n in total.items():
        exact = [max(n, 0) * x / sum(shares) for x in shares]
        got = [math.floor(e) for e in exact]
        for i in sorted(range(len(exact)), key=lambda j: got[j] - exact[j])[:max(n, 0) - sum(got)]:
            got[i] += 1
        for s, g in zip(p.sites, got, strict=True):
            out[f"crews/{s.code}"][hhmm] = g
    return out


def _ctr(same_day: float, median_days: float, sd: float, seed: int) -> Empirical:
    """Time to the criteria to reside ending: a same-day share (3-12 hours) and a lognormal tail.

    A fixed sample (not the replication's random numbers) so the distribution is a parameter.
    """
    rng = np.random.default_rng(seed)
    n = 2000
    short = rng.random(n) < same_day
    days = np.where(short, rng.uniform(0.125, 0.5, n), median_days * np.exp(sd * rng.standard_normal(n)))
    return Empirical(np.minimum(days, 120.0) * DAY)


def _ln(mean_sd: tuple[float, float]) -> Lognormal:
    return Lognormal(mean=mean_sd[0], sd=mean_sd[1])


def _mix(shares: Mapping[str, float]) -> dict[str, float]:
    """Class mix normalised to sum to 1, dropping empty classes."""
    total = sum(shares.values())
    return {k: v / total for k, v in shares.items() if v > 0}


def _branch(p: Mapping[str, float]) -> Branch:
    """A Branch from non-negative weights (normalised; zero weights dropped)."""
    return Branch(_mix(p))


# --- the model -------------------------------------------------------------------------------------


def build_model(params: SystemParams, days: float, start_state: StartState | None = None) -> BuiltModel:
    """The queueing network for ``days`` reported days after ``params.warmup_days`` of warm-up.

    With ``start_state`` (see :mod:`uec.system.state`) there is no warm-up: model time 0 is
    the state's instant, the patients in its EDs, beds and ambulances waiting to hand over are
    placed in the model at time 0, and the reported window starts a minute later.

    The network is laid out by part of the system: NHS 111 and the ambulance service
    (:func:`_ambulance_nodes`), each emergency department (:func:`_ed_nodes`), each site's beds
    (:func:`_bed_nodes`) and care outside the acute sites (:func:`_community_nodes`); demand by the
    same parts (:func:`_ambulance_arrivals`, :func:`_site_arrivals`, :func:`_community_arrivals`).

    >>> from uec.system.params import demo_params
    >>> m = build_model(demo_params(), days=14).model
    >>> len(m.classes) > 30, m.compile().node_names[:2]
    (True, ('call111', 'dispatch/DEMO-A01'))
    """
    p = params
    if start_state is not None:
        p = _params_from_state(p, start_state)
    cal = _Calendar.of(p, days)
    classes = _classes(p)
    ed_classes = [c.name for c in classes if "-conv-" in c.name or c.name.split("-")[0] in ("walkin", "call", "sdec")]
    ward_classes = [*ed_classes, *(f"direct-{a}" for a in AGE_GROUPS), "elective"]

    resources = _resources(p, cal)
    nodes = _ambulance_nodes(p)
    minors_patience = _ln(p.minors_patience)
    for site in p.sites:
        nodes += _ed_nodes(p, site.code, ed_classes, minors_patience)
        nodes += _bed_nodes(p, site.code, ed_classes, ward_classes)
    nodes += _community_nodes(p)

    arrivals, conveyed_ed, diverted = _ambulance_arrivals(p, cal)
    site_arrivals, ucr_ed = _site_arrivals(p, cal, conveyed_ed)
    arrivals += site_arrivals
    arrivals += _community_arrivals(p, cal, diverted, ucr_ed)

    horizon = cal.horizon
    if start_state is None:
        model = Model(nodes=nodes, arrivals=arrivals, horizon=horizon, resources=resources, classes=classes,
                      until=horizon + _DRAIN_DAYS * DAY)
        if p.local_time is None:
            return BuiltModel(model=model, params=p, days=days, window_start=p.warmup_days * DAY, origin=cal.origin)
        # The window runs from local midnight on ``p.start`` to local midnight ``days`` later.
        tz = ZoneInfo(p.local_time)
        w0, w1 = (dt.datetime.combine(p.start + dt.timedelta(days=k), dt.time(0), tzinfo=tz) for k in (0, int(days)))
        window_start = (w0 - cal.origin).total_seconds() / 60.0
        return BuiltModel(model=model, params=p, window_start=window_start, origin=cal.origin,
                          days=((w1 - cal.origin).total_seconds() / 60.0 - window_start) / DAY)

    # Start from the state: everything above was laid out from midnight of its day; turn the clock
    # so that model time 0 is the state's instant, then add the patients already in the system.
    as_of = start_state.as_of.astimezone(dt.UTC)
    offset = (as_of - dt.datetime.combine(as_of.date(), dt.time(0), tzinfo=dt.UTC)).total_seconds() / 60.0
    resources = [_rotate_resource(r, offset) for r in resources]
    arrivals = [_rotate_arrivals(a, offset) for a in arrivals]
    seeded = _seed(p, start_state, classes, nodes, ctr_by_group=[
        _residual(p.same_day[i], p.ctr_median_days[i], p.ctr_sd, 3000 + i) for i in range(len(AGE_GROUPS))])
    # The seeded streams go last so the random streams of the others (numbered by position) are the
    # same whatever the state holds; arriving at exactly 0 they are still patients 0, 1, ...
    model = Model(nodes=nodes, arrivals=[*arrivals, *seeded.arrivals], horizon=horizon, resources=resources,
                  classes=classes, until=horizon + _DRAIN_DAYS * DAY)
    return BuiltModel(model=model, params=p, days=days, window_start=1.0, origin=as_of,
                      initial_admissions=seeded.admissions, initial_ctr_end=seeded.ctr_end)


# --- the run's calendar ----------------------------------------------------------------------------


def _hourly_profile(values: npt.NDArray[np.float64]) -> Profile:
    return Profile(tuple(np.arange(values.size) * 60.0), tuple(values.tolist()), values.size * 60.0)


@dataclass(frozen=True)
class _Calendar:
    """The run's days: staffing patterns, opening hours and demand curves as model-time tables.

    Without a local clock every day is laid out in UTC; on one (``params.local_time``) each UTC hour
    of the run is labelled with its local weekday and hour, so demand and staffing follow people's
    clock through the clock changes.
    """

    p: SystemParams
    day0: dt.date
    origin: dt.datetime
    horizon: float
    n_days: int
    local_dow: npt.NDArray[np.int64]
    local_hour: npt.NDArray[np.int64]
    #: Month-of-year demand curves from ``calibration.yaml`` (``seasonality``).
    season: Mapping[str, Any]
    #: Ambulance incidents by day of the week (SWAST 2014-19).
    ambulance_weekday: Sequence[float]

    @classmethod
    def of(cls, p: SystemParams, days: float) -> _Calendar:
        day0 = sim_start(p)
        horizon = (p.warmup_days + days) * DAY
        origin = dt.datetime.combine(day0, dt.time(0), tzinfo=dt.UTC)
        n_days = math.ceil(horizon / DAY) + 2  # the drain day and a spare
        local_dow = local_hour = np.zeros(0, dtype=np.int64)
        if p.local_time is not None:
            tz = ZoneInfo(p.local_time)
            stamps = [(origin + dt.timedelta(hours=j)).astimezone(tz) for j in range(n_days * 24)]
            local_dow = np.array([x.weekday() for x in stamps], dtype=np.int64)
            local_hour = np.array([x.hour for x in stamps], dtype=np.int64)
        cal = calibration()
        return cls(p, day0, origin, horizon, n_days, local_dow, local_hour, cal["seasonality"],
                   cal["sources"]["swast_2014_19"]["weekday_ratio"])

    def monthly(self, series: str) -> Profile:
        """The month-of-year curve of ``series`` (a key of ``seasonality``) from the first day."""
        return _monthly(self.season[series]["month"], self.day0)

    def _local(self, points: Callable[[dt.date], Sequence[tuple[float, int]]]) -> Shifts:
        assert self.p.local_time is not None
        return _local_shifts(points, self.origin, self.n_days, self.p.local_time)

    def hours(self, opens: str, closes: str, capacity: int) -> int | Shifts:
        """``capacity`` from ``opens`` to ``closes`` each day, none otherwise."""
        if self.p.local_time is None or _minutes(opens) == _minutes(closes) % DAY:
            return _open_hours(opens, closes, capacity)
        a, b = _minutes(opens), _minutes(closes)
        b = b if b > a else b + DAY  # closing at or after midnight: the next day
        return self._local(lambda d: [(a, capacity), (b, 0)])

    def discharge(self, site: SiteParams) -> Shifts:
        """The site's discharge team: 08:00-20:00, fewer at weekends."""
        if self.p.local_time is None:
            return _discharge_team(site, self.day0)
        return self._local(
            lambda d: [(480.0, site.discharge_weekend if d.weekday() >= 5 else site.discharge_weekday), (1200.0, 0)])

    def daily(self, pattern: Mapping[str, int]) -> Shifts:
        """A staffing pattern (``{"08:00": 5, ...}``) repeated every day."""
        if self.p.local_time is None:
            return Shifts.daily(dict(pattern))
        pts = [(_minutes(k), v) for k, v in pattern.items()]
        return self._local(lambda d: pts)

    def rate(self, per_day: float, hourly: Sequence[float], *multipliers: Profile) -> RateTable:
        """``per_day`` arrivals spread over the day by ``hourly``, scaled by ``multipliers``."""
        if self.p.local_time is None:
            return _rate(per_day, hourly, *multipliers)
        h = np.asarray(hourly, dtype=np.float64)
        return RateTable(_hourly_profile((h / h.sum() * per_day)[self.local_hour]), tuple(multipliers))

    def weekly(self, per_day: float, weekday: Sequence[float], weekend: Sequence[float],
               day_factor: Sequence[float]) -> RateTable:
        """Arrivals with their own hourly shape on weekdays and at weekends."""
        if self.p.local_time is None:
            return _weekly_hourly(per_day, weekday, weekend, day_factor, self.day0)
        wd, we = (np.asarray(x, dtype=np.float64) for x in (weekday, weekend))
        dow, hour = self.local_dow, self.local_hour
        shape = np.where(dow >= 5, (we / we.sum())[hour], (wd / wd.sum())[hour])
        f = np.asarray(day_factor, dtype=np.float64)
        return RateTable(_hourly_profile(shape * per_day * (f / f.mean())[dow]))

    def office(self, places: int) -> int | Shifts:
        """Discharge pathway places that can start only in office hours on weekdays."""
        # A drop to none at night and weekends stops new starts only: places in use stay in use.
        if self.p.pathway_start_hours is None:
            return places
        a, b = (_minutes(x) for x in self.p.pathway_start_hours)

        def points(d: dt.date) -> list[tuple[float, int]]:
            return [(0.0, 0)] if d.weekday() >= 5 else [(0.0, 0), (a, places), (b, 0)]

        if self.p.local_time is not None:
            return self._local(points)
        starts: list[float] = []
        caps: list[int] = []
        for i in range(7):
            for t, c in points(self.day0 + dt.timedelta(days=i)):
                if not starts or caps[-1] != c:
                    starts.append(i * DAY + t)
                    caps.append(c)
        return Shifts(tuple(starts), tuple(caps), 7 * DAY)


# --- who, and with what ----------------------------------------------------------------------------


def _classes(p: SystemParams) -> list[PatientClass]:
    """Patient classes. Lower priority is served first: categories for crews; everyone else after."""
    classes: list[PatientClass] = []
    for cat, k in zip(CATEGORIES, p.crew_priority, strict=True):
        classes += [PatientClass(f"{cat}-conv-{a}", k) for a in AGE_GROUPS]
        classes += [PatientClass(f"{cat}-other", k), PatientClass(f"{cat}-see", k)]
    classes.append(PatientClass("C5", 5))
    for src in ("walkin", "call", "sdec", "direct"):
        classes += [PatientClass(f"{src}-{a}", 6) for a in AGE_GROUPS]
    classes += [PatientClass(n, 6) for n in ("elective", "utc", "ucr", "ucr-C3", "ucr-C4", "ucr-ed")]
    return classes


def _age_of(cls: str) -> int | None:
    """The age group a class name ends with (``C2-conv-75+`` -> its index), if any."""
    for i, a in enumerate(AGE_GROUPS):
        if cls.endswith("-" + a):
            return i
    return None


def _resources(p: SystemParams, cal: _Calendar) -> list[Resource]:
    """Staff, vehicles, spaces, beds and places, with their shifts."""
    resources: list[Resource] = [
        Resource("handlers", cal.daily(p.call_handlers)),
        *(Resource(name, cal.daily(pattern)) for name, pattern in _crew_pools(p).items()),
        *([Resource("rrv", cal.daily(p.rrv))] if _has_rrv(p) else []),
        Resource("p1", cal.office(p.p1_packages)),
        Resource("p2", cal.office(p.p2_beds)),
        Resource("p3", cal.office(p.p3_beds)),
        Resource("ucr", cal.hours(p.ucr_opens, p.ucr_closes, p.ucr_teams)),
    ]
    for s in p.sites:
        resources += [
            Resource(f"triage/{s.code}", cal.daily(s.triage_nurses)),
            Resource(f"doctors/{s.code}", cal.daily(s.decision_makers)),
            Resource(f"minors/{s.code}", cal.daily(s.minors_clinicians)),
            Resource(f"spaces/{s.code}", s.ed_spaces),
            Resource(f"beds/{s.code}", _yearly_beds(s.core_beds, s.escalation_beds, p.escalation_months, cal.day0)),
            Resource(f"disch/{s.code}", cal.discharge(s)),
            Resource(f"sdec/{s.code}", cal.hours(p.sdec_opens, p.sdec_closes, s.sdec_chairs)),
        ]
    for u in p.utcs:
        resources.append(Resource(f"utc/{u.code}", cal.daily(u.clinicians)))
    return resources


# --- the network, by part of the system ------------------------------------------------------------

# A moment's pass-through (a gate that sends a patient on, or elsewhere when full).
_QUICK = Lognormal(mean=1.0, sd=0.5)


def _ambulance_nodes(p: SystemParams) -> list[Node]:
    """NHS 111, 999 dispatch with crews held from allocation to clear, cars, and hear and treat."""
    site_codes = [s.code for s in p.sites]
    shares = {s.code: s.share for s in p.sites}
    disp = dict(zip(p.dispositions, p.disposition_p, strict=True))
    route_111: dict[str, float] = {}
    for code in site_codes:
        route_111[f"triage/{code}"] = disp["ed"] * p.attend_p["ed"] * shares[code]
        route_111[f"sdecg/{code}"] = disp["sdec"] * p.attend_p["sdec"] * shares[code]
    for u in p.utcs:
        route_111[f"utcg/{u.code}"] = disp["utc"] * p.attend_p["utc"] / len(p.utcs)
    route_111[EXIT] = 1.0 - sum(route_111.values())
    nodes = [Node("call111", _ln((9.0, 5.0)), "handlers", routing=Branch(route_111))]

    # 999: the crew is held from allocation to clear.
    job: dict[str, Distribution] = {}
    amb_route: dict[str, Route] = {}
    to_site = _branch({f"handover/{s}": shares[s] for s in site_codes})
    for k, cat in enumerate(CATEGORIES):
        conv = p.travel[k] + p.on_scene_conveyed + p.to_hospital + p.handover_minimum + p.clear
        for a in AGE_GROUPS:
            job[f"{cat}-conv-{a}"] = Gamma(conv, 0.3 * conv)
            amb_route[f"{cat}-conv-{a}"] = to_site
        other = conv + 5.0
        see = p.travel[k] + p.on_scene_not_conveyed
        job[f"{cat}-other"] = Gamma(other, 0.3 * other)
        job[f"{cat}-see"] = Gamma(see, 0.35 * see)
        amb_route[f"{cat}-other"] = Exit()
        amb_route[f"{cat}-see"] = Exit()
    if p.ambulance_sectors:
        # Each acute site's catchment is a dispatch area with its own crews, who convey to that site.
        for code in site_codes:
            routes = {k: (Next(f"handover/{code}") if "-conv-" in k else r) for k, r in amb_route.items()}
            nodes.append(Node(f"dispatch/{code}", job, f"crews/{code}", routing=routes))
    else:
        nodes.append(Node("dispatch", job, "crews", routing=amb_route))
    if _has_rrv(p):
        # Category 1 first takes a car (travel and a short time on scene), then queues for a crew
        # to convey: a patient holds one unit at a time, so the car is free once the crew is sent.
        car = Gamma(p.rrv_travel + p.rrv_on_scene, 0.3 * (p.rrv_travel + p.rrv_on_scene))
        for code in site_codes if p.ambulance_sectors else [""]:
            where = f"/{code}" if code else ""
            nodes.append(Node(f"rrv{where}", car, "rrv", routing=Next(f"dispatch{where}")))
    nodes.append(Node("hear", Lognormal(mean=p.hear_and_treat_call, sd=15.0)))
    return nodes


def _ed_nodes(p: SystemParams, c: str, ed_classes: list[str], minors_patience: Lognormal) -> list[Node]:
    """Site ``c``'s emergency department and SDEC: handover, triage, streams, decision to admit."""
    s_walk = dict(zip(("resus", "majors", "minors", "sdecx"), p.stream_walk_in, strict=True))
    s_amb = dict(zip(("resus", "majors", "minors"), p.stream_ambulance[:3], strict=True))

    def admit(cls: str, stream: str) -> Branch:
        i = _age_of(cls)
        base = {"resus": p.admit_resus, "minors": p.admit_minors}.get(stream, p.admit_majors[i if i is not None else 1])
        if "-conv-" in cls:
            base *= p.admit_ambulance_factor
        base = min(base, 0.95)
        # Resus admissions go to their own decision-to-admit and ward nodes (same spaces, same
        # beds) so that their stays can be longer: length of stay by acuity as well as age.
        dta = f"dtar/{c}" if stream == "resus" else f"dta/{c}"
        return Branch({dta: base, f"treat/{c}": 1.0 - base})

    triage_route = _branch({f"{k}/{c}": v for k, v in s_walk.items()})
    handover_route = _branch({f"{k}/{c}": v for k, v in s_amb.items()})
    return [
        Node(f"handover/{c}", _ln(p.handover_time), f"spaces/{c}", routing=handover_route, buffer=p.corridor),
        Node(f"triage/{c}", _ln(p.triage_time), f"triage/{c}", routing=triage_route),
        Node(f"resus/{c}", _ln(p.resus_time), f"doctors/{c}",
             routing={cls: admit(cls, "resus") for cls in ed_classes}),
        Node(f"majors/{c}", _ln(p.majors_time), f"doctors/{c}",
             routing={cls: admit(cls, "majors") for cls in ed_classes}),
        Node(f"minors/{c}", _ln(p.minors_time), f"minors/{c}",
             routing={cls: admit(cls, "minors") for cls in ed_classes},
             patience={cls: (None if "-conv-" in cls else minors_patience) for cls in ed_classes}),
        Node(f"treat/{c}", _ln(p.treat_time)),
        Node(f"dta/{c}", _ln(p.ready_time), f"spaces/{c}", routing=Next(f"ward/{c}")),
        Node(f"dtar/{c}", _ln(p.ready_time), f"spaces/{c}", routing=Next(f"wardr/{c}")),
        Node(f"sdecg/{c}", _QUICK, routing=Overflow(f"sdec/{c}", f"triage/{c}", 1)),
        Node(f"sdecx/{c}", _QUICK, routing=Overflow(f"sdec/{c}", f"majors/{c}", 1)),
        Node(f"sdec/{c}", _ln(p.sdec_time), f"sdec/{c}",
             routing=Branch({f"adm/{c}": p.sdec_admitted, EXIT: 1.0 - p.sdec_admitted})),
        Node(f"adm/{c}", _QUICK, routing=Next(f"ward/{c}")),
    ]


def _bed_nodes(p: SystemParams, c: str, ed_classes: list[str], ward_classes: list[str]) -> list[Node]:
    """Site ``c``'s beds: the stay to the end of the criteria to reside, then discharge by pathway.

    After the criteria to reside end the patient stays in the bed (hold nodes) getting ready to
    leave by their pathway, then waits for the pathway's capacity, still in the bed.
    """
    ages = AGE_GROUPS
    nodes: list[Node] = []
    pathway_nodes = (f"disch/{c}", "p1", "p2", "p3")
    after = tuple(f"prep{k}/{c}" if p.nctr_ready_days[k] > 0 else pathway_nodes[k] for k in range(4))
    for k, ready in enumerate(p.nctr_ready_days):
        if ready > 0:
            nodes.append(Node(after[k], Lognormal(mean=ready * DAY, sd=p.nctr_ready_cv * ready * DAY), hold=True,
                              routing=Next(pathway_nodes[k])))
    ward_service: dict[str, Distribution] = {}
    ward_route: dict[str, Route] = {}
    ctr_by_age = [_ctr(p.same_day[i], p.ctr_median_days[i], p.ctr_sd, 1000 + i) for i in range(len(ages))]
    for cls in ward_classes:
        i = _age_of(cls)
        if cls == "elective":
            ward_service[cls] = _ctr(0.0, p.elective_ctr_median_days, 0.7, 2000)
            p1, p2, p3 = p.elective_pathway_p
            died, short = 0.002, 0.0
        else:
            assert i is not None
            ward_service[cls] = ctr_by_age[i]
            p1, p2, p3 = p.pathway_p[i]
            died, short = p.died_p[i], p.same_day[i]
        # Pathways 1-3 apply to stays past the same day; same-day stays go home (P0).
        long_ = 1.0 - short
        alive = 1.0 - died - p.transfer_p
        q1, q2, q3 = (alive * long_ * x for x in (p1, p2, p3))
        ward_route[cls] = _branch({after[0]: alive - q1 - q2 - q3, after[1]: q1, after[2]: q2, after[3]: q3,
                                   EXIT: died + p.transfer_p})
    nodes.append(Node(f"ward/{c}", ward_service, f"beds/{c}", routing=ward_route, buffer=0))
    # High acuity (resus): longer to the end of the criteria to reside, fewer same-day stays.
    ctr_high = [_ctr(p.same_day[i] * 0.5, p.ctr_median_days[i] * p.high_acuity_los, p.ctr_sd, 1100 + i)
                for i in range(len(ages))]
    high_service: dict[str, Distribution] = {}
    for cls in ed_classes:
        i = _age_of(cls)
        assert i is not None
        high_service[cls] = ctr_high[i]
    nodes.append(Node(f"wardr/{c}", high_service, f"beds/{c}", routing={k: ward_route[k] for k in ed_classes},
                      buffer=0))
    nodes.append(Node(f"disch/{c}", _ln(p.discharge_time), f"disch/{c}", buffer=0))
    return nodes


def _community_nodes(p: SystemParams) -> list[Node]:
    """Care away from the acute sites: UTCs, discharge pathways 1-3 and urgent community response."""
    nodes: list[Node] = []
    for u in p.utcs:
        nodes.append(Node(f"utcg/{u.code}", _QUICK, routing=Overflow(f"utc/{u.code}", f"triage/{u.acute_site}", 1)))
        nodes.append(Node(f"utc/{u.code}", _ln(p.utc_time), f"utc/{u.code}"))
    return [
        *nodes,
        Node("p1", Lognormal(mean=p.p1_days * DAY, sd=0.6 * p.p1_days * DAY), "p1", buffer=0),
        Node("p2", Lognormal(mean=p.p2_days * DAY, sd=0.6 * p.p2_days * DAY), "p2", buffer=0),
        Node("p3", Lognormal(mean=p.p3_days * DAY, sd=0.6 * p.p3_days * DAY), "p3", buffer=0),
        Node("ucr", _ln(p.ucr_visit), "ucr"),
    ]


# --- demand, by part of the system -----------------------------------------------------------------


def _ambulance_arrivals(p: SystemParams, cal: _Calendar) -> tuple[list[Arrivals], float, dict[str, float]]:
    """NHS 111 calls and 999 incidents; with the daily conveyances to EDs and the incidents
    diverted to urgent community response, which the other parts' demand depends on."""
    growth = 1.0 + p.demand_growth
    swast = cal.ambulance_weekday
    amb_season = cal.monthly("ambulance_incidents")
    arrivals: list[Arrivals] = [PoissonArrivals(
        cal.weekly(p.calls_111_per_day * growth, D.HOURLY["nhs111_weekday"], D.HOURLY["nhs111_weekend"],
                   D.WEEKDAY["nhs111"]),
        to="call111", classes=_mix(dict(zip((f"call-{a}" for a in AGE_GROUPS), p.age_111, strict=True))))]

    incidents = p.incidents_per_day * growth
    f2f = incidents * (1.0 - p.hear_and_treat)
    mix: dict[str, float] = {"C5": incidents * p.hear_and_treat}
    diverted: dict[str, float] = {}
    for k, cat in enumerate(CATEGORIES):
        n = f2f * p.category_mix[k]
        if cat in ("C3", "C4") and p.divert_c34_to_ucr > 0:
            diverted[f"ucr-{cat}"] = n * p.divert_c34_to_ucr
            n *= 1.0 - p.divert_c34_to_ucr
        conv = n * p.conveyed[k]
        for i, a in enumerate(AGE_GROUPS):
            mix[f"{cat}-conv-{a}"] = conv * p.conveyed_to_ed * p.age_ambulance[i]
        mix[f"{cat}-other"] = conv * (1.0 - p.conveyed_to_ed)
        mix[f"{cat}-see"] = n * (1.0 - p.conveyed[k])
    # Hear and treat has no crew: its own stream to the clinical hub, sharing the incident profile.
    hear_rate = mix.pop("C5")
    # With cars, category 1 arrives at the car's node; everyone else straight at dispatch.
    streams = ([({k: v for k, v in mix.items() if not k.startswith("C1-")}, "dispatch"),
                ({k: v for k, v in mix.items() if k.startswith("C1-")}, "rrv")]
               if _has_rrv(p) else [(mix, "dispatch")])
    for part, first in streams:
        if p.ambulance_sectors:
            for site in p.sites:
                arrivals.append(PoissonArrivals(
                    cal.rate(sum(part.values()) * site.share, D.HOURLY["ambulance"], _weekday(swast, cal.day0),
                             amb_season),
                    to=f"{first}/{site.code}", classes=_mix(part)))
        else:
            part_rate = cal.rate(sum(part.values()), D.HOURLY["ambulance"], _weekday(swast, cal.day0), amb_season)
            arrivals.append(PoissonArrivals(part_rate, to=first, classes=_mix(part)))
    arrivals.append(PoissonArrivals(cal.rate(hear_rate, D.HOURLY["ambulance"], _weekday(swast, cal.day0), amb_season),
                                    to="hear", classes={"C5": 1.0}))
    conveyed_ed = sum(v for k, v in mix.items() if "-conv-" in k)
    return arrivals, conveyed_ed, diverted


def _site_arrivals(p: SystemParams, cal: _Calendar, conveyed_ed: float) -> tuple[list[Arrivals], float]:
    """Each acute site's walk-ins, SDEC, direct admissions and electives; with the walk-ins diverted
    to urgent community response.

    ED walk-ins are type 1 attendances less ambulance conveyances (``conveyed_ed`` a day) and 111
    referrals.
    """
    growth = 1.0 + p.demand_growth
    disp = dict(zip(p.dispositions, p.disposition_p, strict=True))
    ed_season = cal.monthly("ed_type1_attendances")
    by_111 = p.calls_111_per_day * growth * disp["ed"] * p.attend_p["ed"]
    walk_total = max(p.ed_attendances_per_day * growth - conveyed_ed - by_111, 0.0)
    ucr_ed = 0.0
    arrivals: list[Arrivals] = []
    ages = AGE_GROUPS
    for site in p.sites:
        walk = walk_total * site.share
        age_mix = dict(zip((f"walkin-{a}" for a in ages), (walk * x for x in p.age_ed), strict=True))
        for a in ages[2:]:
            ucr_ed += age_mix[f"walkin-{a}"] * p.divert_ed_to_ucr
            age_mix[f"walkin-{a}"] *= 1.0 - p.divert_ed_to_ucr
        arrivals.append(PoissonArrivals(
            cal.rate(sum(age_mix.values()), D.HOURLY["ed"], _weekday(D.WEEKDAY["ed"], cal.day0), ed_season),
            to=f"triage/{site.code}", classes=_mix(age_mix)))
        arrivals.append(PoissonArrivals(
            cal.rate(p.sdec_per_day * growth, D.HOURLY["sdec"], _weekday(D.WEEKDAY["sdec"], cal.day0)),
            to=f"sdecg/{site.code}", classes=_mix(dict(zip((f"sdec-{a}" for a in ages), p.age_sdec, strict=True)))))
        arrivals.append(PoissonArrivals(
            cal.rate(p.direct_per_day * growth * site.share, D.HOURLY["direct"],
                     _weekday(D.WEEKDAY["direct"], cal.day0)),
            to=f"adm/{site.code}",
            classes=_mix(dict(zip((f"direct-{a}" for a in ages), p.age_direct, strict=True)))))
        # Electives: weekdays 07:00-10:00.
        el = p.elective_per_weekday * growth * site.share
        arrivals.append(PoissonArrivals(
            cal.weekly(el, [0.0] * 7 + [1.0] * 3 + [0.0] * 14, [0.0] * 23 + [1e-9], [1.0] * 5 + [1e-9] * 2),
            to=f"adm/{site.code}", classes={"elective": 1.0}))
    return arrivals, ucr_ed


def _community_arrivals(p: SystemParams, cal: _Calendar, diverted: Mapping[str, float],
                        ucr_ed: float) -> list[Arrivals]:
    """UTC walk-ins and urgent community response referrals (with the 999 and ED work diverted to it)."""
    growth = 1.0 + p.demand_growth
    disp = dict(zip(p.dispositions, p.disposition_p, strict=True))
    minor_season = cal.monthly("minor_attendances")
    arrivals: list[Arrivals] = []
    cubicles = sum(u.cubicles for u in p.utcs)
    utc_walk = max(p.utc_per_day * growth - p.calls_111_per_day * growth * disp["utc"] * p.attend_p["utc"], 0.0)
    for u in p.utcs:
        arrivals.append(PoissonArrivals(
            cal.rate(utc_walk * u.cubicles / cubicles, D.HOURLY["utc"], _weekday(D.WEEKDAY["utc"], cal.day0),
                     minor_season),
            to=f"utc/{u.code}", classes={"utc": 1.0}))
    ucr_mix = {"ucr": p.ucr_per_day * growth, **diverted, "ucr-ed": ucr_ed}
    arrivals.append(PoissonArrivals(
        cal.rate(sum(ucr_mix.values()), D.HOURLY["ucr"], _weekday(D.WEEKDAY["ucr"], cal.day0)),
        to="ucr", classes=_mix(ucr_mix)))
    return arrivals


# --- starting from a state -------------------------------------------------------------------------

_BAND_GROUP = {"0-4": 0, "5-17": 0, "18-64": 1, "65-74": 2, "75-84": 2, "85+": 3}


def _params_from_state(p: SystemParams, state: StartState) -> SystemParams:
    """No warm-up, the window from the state's day, and the beds its latest census had open."""
    sites = []
    for s in p.sites:
        try:
            st = state.site(s.code)
        except UecError:
            sites.append(s)
            continue
        core = next((b.beds_open for b in st.beds if b.bed_type == "g_and_a"), None)
        esc = next((b.beds_open for b in st.beds if b.bed_type == "g_and_a_escalation"), None)
        sites.append(dataclasses.replace(s, core_beds=s.core_beds if core is None else core,
                                         escalation_beds=s.escalation_beds if esc is None else esc))
    # Escalation beds open at the census stay open for the projection.
    return dataclasses.replace(p, sites=tuple(sites), warmup_days=0, start=state.as_of.astimezone(dt.UTC).date(),
                               escalation_months=(1, 12))


def _rotate(starts: Sequence[float], values: Sequence[float], period: float, offset: float
            ) -> tuple[list[float], list[float]]:
    """A periodic step function re-based so that new time 0 is old time ``offset``."""
    i = int(np.searchsorted(np.asarray(starts), offset % period, side="right")) - 1
    first = values[i]
    pairs = sorted(((s - offset) % period, v) for s, v in zip(starts, values, strict=True))
    pairs = [(t, v) for t, v in pairs if t > 1e-9]
    return [0.0] + [t for t, _ in pairs], [first] + [v for _, v in pairs]


def _rotate_resource(r: Resource, offset: float) -> Resource:
    if not isinstance(r.capacity, Shifts):
        return r
    starts, caps = _rotate(r.capacity.starts, r.capacity.capacity, r.capacity.period, offset)
    return Resource(r.name, Shifts(tuple(starts), tuple(int(c) for c in caps), r.capacity.period))


def _rotate_profile(pr: Profile, offset: float) -> Profile:
    starts, values = _rotate(pr.starts, pr.values, pr.period, offset)
    return Profile(tuple(starts), tuple(values), pr.period)


def _rotate_arrivals(a: Arrivals, offset: float) -> Arrivals:
    if not isinstance(a, PoissonArrivals):
        return a
    rt = a.rate_table()
    table = RateTable(_rotate_profile(rt.base, offset), tuple(_rotate_profile(m, offset) for m in rt.multipliers))
    return dataclasses.replace(a, rate=table)


def _residual(same_day: float, median_days: float, sd: float, seed: int) -> Empirical:
    """Time left until the criteria to reside end for someone already in a bed (no end known yet).

    Patients found in a bed are a length-biased sample of stays, and each is a uniform way through
    theirs: the stationary residual of the stay distribution.
    """
    rng = np.random.default_rng(seed)
    n = 4000
    short = rng.random(n) < same_day
    days = np.where(short, rng.uniform(0.125, 0.5, n), median_days * np.exp(sd * rng.standard_normal(n)))
    days = np.minimum(days, 120.0)
    biased = rng.choice(days, size=2000, p=days / days.sum())
    return Empirical(biased * rng.random(2000) * DAY)


@dataclass(frozen=True)
class _Seeded:
    arrivals: list[Arrivals] = field(default_factory=list)
    admissions: tuple[float, ...] = ()
    ctr_end: tuple[float, ...] = ()


def _seed(p: SystemParams, state: StartState, classes: list[PatientClass], nodes: list[Node],
          ctr_by_group: list[Empirical]) -> _Seeded:
    """Add the state's patients: classes and nodes they need, and arrivals at time 0.

    Inpatients come first (patients ``0 .. n - 1``) so the event writer can restore their admission
    times. A patient still meeting the criteria to reside gets the residual stay of their age group;
    one who no longer does waits in the bed for their pathway (pathway 0 if not known). ED patients
    join the stream their acuity suggests, or wait for a bed if a decision to admit was made; crews
    waiting to hand over hold a crew until an ED space is free.
    """
    as_of = state.as_of.astimezone(dt.UTC)
    by_name = {n.name: i for i, n in enumerate(nodes)}
    site_codes = {s.code for s in p.sites}
    utc_codes = {u.code for u in p.utcs}

    def minutes(t: dt.datetime) -> float:
        return (t.astimezone(dt.UTC) - as_of).total_seconds() / 60.0

    ages = AGE_GROUPS
    _seed_wards(p, classes, nodes, by_name, ctr_by_group)
    community = _seed_community(p, classes, nodes, by_name)
    ward_t: list[tuple[str, str]] = []  # (node, class)
    admissions: list[float] = []
    ctr_end: list[float] = []
    others: list[tuple[str, str]] = []
    for st in state.sites:
        code = st.site_code
        if code in site_codes:
            for ip in st.inpatients:
                if ip.no_criteria_to_reside:
                    ward_t.append((f"ward/{code}", f"init-nctr-{ip.discharge_pathway or 0}"))
                    assert ip.criteria_to_reside_end_time is not None
                    ctr_end.append(minutes(ip.criteria_to_reside_end_time))
                else:
                    ward_t.append((f"ward/{code}", f"init-ctr-{ages[_BAND_GROUP.get(ip.age_band or '', 2)]}"))
                    ctr_end.append(float("nan"))
                admissions.append(minutes(ip.admission_time))
            for amb in st.ambulances:
                cat = amb.category if amb.category in CATEGORIES else "C2"
                others.append((f"atdoor/{code}", f"{cat}-conv-{ages[2]}"))
        for ed in st.ed_patients:
            place = _ed_place(ed, code, code in site_codes, code in utc_codes)
            if place is not None:
                others.append(place)
    arrivals: list[Arrivals] = []
    # One stream per node (a stream enters one node); inpatients' streams first, in state order.
    for group_rows in (ward_t, community, others):
        by_node: dict[str, list[str]] = {}
        for node, cls in group_rows:
            by_node.setdefault(node, []).append(cls)
        for node, cls_list in by_node.items():
            arrivals.append(ScheduledArrivals([0.0] * len(cls_list), to=node, classes=cls_list))
    # Patients 0 .. n - 1 must be the inpatients in the order of ``admissions``: reorder to match
    # the per-node grouping above.
    order = sorted(range(len(ward_t)), key=lambda j: list(dict.fromkeys(n for n, _ in ward_t)).index(ward_t[j][0]))
    return _Seeded(arrivals=arrivals, admissions=tuple(admissions[j] for j in order),
                   ctr_end=tuple(ctr_end[j] for j in order))


def _seed_wards(p: SystemParams, classes: list[PatientClass], nodes: list[Node], by_name: Mapping[str, int],
                ctr_by_group: list[Empirical]) -> None:
    """Classes for inpatients already in a bed (with or without criteria to reside), the ward routes
    they take, and each site's door where crews wait to hand over."""
    ages = AGE_GROUPS
    classes += [PatientClass(f"init-ctr-{a}", 6) for a in ages]
    classes += [PatientClass(f"init-nctr-{k}", 6) for k in range(4)]
    for s in p.sites:
        c = s.code
        i = by_name[f"ward/{c}"]
        ward = nodes[i]
        assert isinstance(ward.service, Mapping) and isinstance(ward.routing, Mapping)
        service = dict(ward.service)
        routing = dict(ward.routing)
        for g, a in enumerate(ages):
            service[f"init-ctr-{a}"] = ctr_by_group[g]
            routing[f"init-ctr-{a}"] = routing[f"direct-{a}"]
        for k, target in enumerate((f"disch/{c}", "p1", "p2", "p3")):
            service[f"init-nctr-{k}"] = _QUICK
            routing[f"init-nctr-{k}"] = Next(target)
        nodes[i] = dataclasses.replace(ward, service=service, routing=routing)
        # Crews waiting at the door hold a crew until the ED takes the patient.
        nodes.append(Node(f"atdoor/{c}", _QUICK, f"crews/{c}" if p.ambulance_sectors else "crews",
                          routing=Next(f"handover/{c}")))


def _seed_community(p: SystemParams, classes: list[PatientClass], nodes: list[Node],
                    by_name: Mapping[str, int]) -> list[tuple[str, str]]:
    """Pathway 1-3 places are not in the state; start them as full as they run (about 90%), each
    place with the residual of its duration, or everyone waiting for one would leave at once."""
    classes.append(PatientClass("init-p", 6))
    names = [c.name for c in classes]
    community: list[tuple[str, str]] = []
    for k, (cap, mean_days) in enumerate(((p.p1_packages, p.p1_days), (p.p2_beds, p.p2_days),
                                          (p.p3_beds, p.p3_days)), start=1):
        i = by_name[f"p{k}"]
        pnode = nodes[i]
        assert isinstance(pnode.service, Distribution)
        residual = _residual(0.0, mean_days / math.exp(0.5 * 0.6**2), 0.6, 4000 + k)
        nodes[i] = dataclasses.replace(pnode, service={**{n: pnode.service for n in names}, "init-p": residual})
        community += [(f"p{k}", "init-p")] * round(0.9 * cap)
    return community


def _ed_place(ed: EdPatient, code: str, acute: bool, utc: bool) -> tuple[str, str] | None:
    """The node and class an ED, SDEC or UTC patient present now starts in (``None``: not modelled)."""
    age = AGE_GROUPS[_BAND_GROUP.get(ed.age_band or "", 1)]
    if ed.service_type == "ed_type1" and acute:
        cls = f"C2-conv-{age}" if ed.arrival_mode == "ambulance" else f"walkin-{age}"
        if ed.decided_to_admit:
            node = f"dta/{code}"
        elif ed.acuity == 1:
            node = f"resus/{code}"
        elif ed.acuity is not None and ed.acuity >= 4:
            node = f"minors/{code}"
        else:
            node = f"majors/{code}"
        return node, cls
    if ed.service_type == "sdec" and acute:
        return f"sdec/{code}", f"sdec-{age}"
    if ed.service_type == "utc" and utc:
        return f"utc/{code}", "utc"
    return None


def with_changes(params: SystemParams, **changes: object) -> SystemParams:
    """``dataclasses.replace`` spelled for the scenario layer (kept here so the model owns its params).

    >>> from uec.system.params import demo_params
    >>> with_changes(demo_params(), extra_crews=2).extra_crews
    2
    """
    return dataclasses.replace(params, **changes)  # type: ignore[arg-type]
