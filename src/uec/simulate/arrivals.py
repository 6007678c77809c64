"""Arrival processes: time-varying Poisson arrivals from a rate table, or a fixed schedule.

Model time is in minutes from the start of the run (``t = 0`` is midnight at the start of day 0).
Rates are quoted in *arrivals per hour*, the unit people use for emergency care demand.

A :class:`RateTable` is a piecewise-constant, periodic base rate (hour of day, or hour of week)
optionally multiplied by periodic factors (day of week, month of year). The arrivals of a run are
sampled exactly either by *inversion* of the cumulative rate (the default: no rejected draws) or by
*thinning* (Lewis and Shedler), both vectorised in NumPy.

>>> import numpy as np
>>> day = RateTable.hour_of_day([2.0] * 8 + [12.0] * 12 + [6.0] * 4)
>>> day.per_hour_at(9 * 60.0)
12.0
>>> weekly = day.scaled(Profile.day_of_week([1.2, 1.0, 1.0, 1.0, 1.0, 0.9, 0.9]))
>>> round(weekly.per_hour_at(9 * 60.0), 2), round(weekly.per_hour_at(6 * 1440 + 9 * 60.0), 2)
(14.4, 10.8)
>>> stream = PoissonArrivals(day, to="triage")
>>> times, _ = stream.generate(np.random.default_rng(3), horizon=28 * 1440.0, classes=("default",))
>>> edges, rates = day.expand(28 * 1440.0)  # per-minute rates on [edges[i], edges[i+1])
>>> round(float((rates * np.diff(edges)).sum()) / 28)  # expected a day: 2*8 + 12*12 + 6*4
184
>>> bool(abs(len(times) / 28 - 184) < 5)
True
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

__all__ = ["Arrivals", "PoissonArrivals", "Profile", "RateTable", "SampledArrivals", "ScheduledArrivals"]

MINUTES_PER_HOUR = 60.0
MINUTES_PER_DAY = 1440.0
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY
# Month lengths of a 365-day year: seasonal profiles ignore leap days.
_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Profile:
    """A periodic, piecewise-constant function of time: ``values[i]`` from ``starts[i]`` (minutes
    into the period) until the next start, repeating every ``period`` minutes.

    >>> Profile.day_of_week([1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5]).value_at(5 * 1440.0 + 1)
    0.5
    """

    starts: tuple[float, ...]
    values: tuple[float, ...]
    period: float

    def __post_init__(self) -> None:
        starts = tuple(float(s) for s in self.starts)
        values = tuple(float(v) for v in self.values)
        object.__setattr__(self, "starts", starts)
        object.__setattr__(self, "values", values)
        if len(starts) != len(values) or not starts:
            raise ValueError("starts and values must be non-empty and of equal length")
        if starts[0] != 0.0:
            raise ValueError("the first segment must start at 0")
        if any(b <= a for a, b in itertools.pairwise(starts)):
            raise ValueError("starts must be strictly increasing")
        if not (math.isfinite(self.period) and self.period > starts[-1]):
            raise ValueError("period must be finite and longer than the last start")
        if any(v < 0 or not math.isfinite(v) for v in values):
            raise ValueError("values must be finite and non-negative")

    @classmethod
    def constant(cls, value: float) -> Profile:
        """The same value at all times."""
        return cls((0.0,), (value,), MINUTES_PER_DAY)

    @classmethod
    def hourly(cls, values: Sequence[float]) -> Profile:
        """One value per hour; the period is ``len(values)`` hours (24: a day, 168: a week)."""
        n = len(values)
        return cls(tuple(MINUTES_PER_HOUR * i for i in range(n)), tuple(values), MINUTES_PER_HOUR * n)

    @classmethod
    def day_of_week(cls, values: Sequence[float]) -> Profile:
        """Seven values, one per day, starting with the weekday of day 0 of the run."""
        if len(values) != 7:
            raise ValueError("day_of_week needs 7 values")
        return cls(tuple(MINUTES_PER_DAY * i for i in range(7)), tuple(values), MINUTES_PER_WEEK)

    @classmethod
    def month_of_year(cls, values: Sequence[float]) -> Profile:
        """Twelve values, one per calendar month of a 365-day year; day 0 of the run is 1 January."""
        if len(values) != 12:
            raise ValueError("month_of_year needs 12 values")
        starts = np.concatenate([[0], np.cumsum(_MONTH_DAYS[:-1])]) * MINUTES_PER_DAY
        return cls(tuple(float(s) for s in starts), tuple(values), 365 * MINUTES_PER_DAY)

    def value_at(self, t: float) -> float:
        """The value at time ``t`` (minutes)."""
        i = int(np.searchsorted(self.starts, t % self.period, side="right")) - 1
        return self.values[i]

    def breakpoints(self, horizon: float) -> FloatArray:
        """Every segment start in ``[0, horizon)``."""
        cycles = math.ceil(horizon / self.period)
        base = np.asarray(self.starts, dtype=np.float64)
        pts = (np.arange(cycles)[:, None] * self.period + base[None, :]).ravel()
        return np.asarray(pts[pts < horizon], dtype=np.float64)


@dataclass(frozen=True)
class RateTable:
    """Arrival rate in arrivals per hour: a periodic base profile times periodic multipliers.

    >>> RateTable.constant(10.0).per_hour_at(123.0)
    10.0
    """

    base: Profile
    multipliers: tuple[Profile, ...] = ()

    @classmethod
    def constant(cls, per_hour: float) -> RateTable:
        """A homogeneous Poisson process."""
        return cls(Profile.constant(per_hour))

    @classmethod
    def hour_of_day(cls, per_hour: Sequence[float]) -> RateTable:
        """24 hourly rates repeating daily (any length works: 18 values repeat every 18 hours)."""
        return cls(Profile.hourly(per_hour))

    @classmethod
    def hour_of_week(cls, per_hour: Sequence[float]) -> RateTable:
        """168 hourly rates repeating weekly, starting at midnight of day 0."""
        if len(per_hour) != 168:
            raise ValueError("hour_of_week needs 168 values")
        return cls(Profile.hourly(per_hour))

    def scaled(self, *multipliers: Profile) -> RateTable:
        """This table multiplied by further periodic factors (day of week, season, growth ...)."""
        return RateTable(self.base, self.multipliers + tuple(multipliers))

    def per_hour_at(self, t: float) -> float:
        """The rate (arrivals per hour) at time ``t`` minutes."""
        rate = self.base.value_at(t)
        for m in self.multipliers:
            rate *= m.value_at(t)
        return rate

    def expand(self, horizon: float) -> tuple[FloatArray, FloatArray]:
        """``(edges, rates)`` over ``[0, horizon]``: ``rates[i]`` (per minute) holds on
        ``[edges[i], edges[i+1])``; ``len(edges) == len(rates) + 1`` and ``edges[-1] == horizon``."""
        if not (horizon > 0 and math.isfinite(horizon)):
            raise ValueError("horizon must be positive and finite")
        edges = self.base.breakpoints(horizon)
        for m in self.multipliers:
            edges = np.union1d(edges, m.breakpoints(horizon))
        edges = np.append(np.unique(edges), horizon)
        starts = edges[:-1]
        rates = _profile_values(self.base, starts)
        for m in self.multipliers:
            rates = rates * _profile_values(m, starts)
        # Merge neighbouring segments with equal rates (a constant rate becomes one segment).
        keep = np.r_[True, rates[1:] != rates[:-1]]
        return np.append(starts[keep], horizon), rates[keep] / MINUTES_PER_HOUR


def _profile_values(profile: Profile, t: FloatArray) -> FloatArray:
    idx = np.searchsorted(np.asarray(profile.starts), np.mod(t, profile.period), side="right") - 1
    return np.asarray(np.asarray(profile.values, dtype=np.float64)[idx], dtype=np.float64)


def _poisson_by_inversion(rng: np.random.Generator, edges: FloatArray, rates: FloatArray) -> FloatArray:
    """Event times of a Poisson process with piecewise-constant rate, by inverting the cumulative
    rate: unit-rate exponential partial sums ``E_k`` map to ``t_k = Lambda^{-1}(E_k)``. Exact.

    Written to make few temporary arrays, in place where it can: at a year of ED arrivals the
    page faults for fresh memory cost as much as the arithmetic.
    """
    cum = np.concatenate([[0.0], np.cumsum(rates * np.diff(edges))])
    total = float(cum[-1])
    if total <= 0:
        return np.empty(0)
    # Draw in chunks sized to overshoot the expected count, so one chunk almost always suffices.
    chunk = int(total + 6 * math.sqrt(total) + 16)
    parts: list[FloatArray] = []
    last = 0.0
    while last < total:
        sums = rng.standard_exponential(chunk)
        np.cumsum(sums, out=sums)
        sums += last
        parts.append(sums)
        last = float(sums[-1])
    e = parts[0] if len(parts) == 1 else np.concatenate(parts)
    e = e[: int(np.searchsorted(e, total))]  # sorted: a slice, not a mask
    if rates.size == 1:
        e /= rates[0]
        return e
    # side="right" never picks a zero-rate segment: it skips past flat stretches of cum.
    idx = np.searchsorted(cum, e, side="right") - 1
    e -= cum[idx]
    e /= rates[idx]
    e += edges[idx]
    return e


def _poisson_by_thinning(rng: np.random.Generator, edges: FloatArray, rates: FloatArray) -> FloatArray:
    """Lewis-Shedler thinning: a homogeneous process at the peak rate, each point kept with
    probability ``rate(t) / peak``. Exact; wasteful when the peak is far above the average."""
    horizon = float(edges[-1])
    peak = float(rates.max())
    if peak <= 0:
        return np.empty(0)
    total = peak * horizon
    chunk = int(total + 6 * math.sqrt(total) + 16)
    parts: list[FloatArray] = []
    last = 0.0
    while last < horizon:
        t = last + np.cumsum(rng.exponential(1.0 / peak, chunk))
        parts.append(t)
        last = float(t[-1])
    cand = np.concatenate(parts)
    cand = cand[cand < horizon]
    keep = rng.random(cand.size) * peak < rates[np.searchsorted(edges, cand, side="right") - 1]
    return np.asarray(cand[keep], dtype=np.float64)


@dataclass(frozen=True)
class PoissonArrivals:
    """Poisson arrivals to node ``to`` at a (possibly time-varying) rate.

    ``classes`` gives the patient-class mix as probabilities (default: everyone is in the model's
    first class). ``method`` is ``"inversion"`` (default) or ``"thinning"``; both are exact.
    """

    rate: RateTable | float
    to: str
    classes: Mapping[str, float] | None = None
    method: Literal["inversion", "thinning"] = "inversion"

    def rate_table(self) -> RateTable:
        """The rate as a :class:`RateTable` (a number means a constant rate per hour)."""
        return self.rate if isinstance(self.rate, RateTable) else RateTable.constant(float(self.rate))

    def generate(self, rng: np.random.Generator, horizon: float, classes: Sequence[str]) -> tuple[FloatArray, IntArray]:
        """Arrival times in ``[0, horizon)`` and each arrival's index into ``classes``."""
        edges, rates = self.rate_table().expand(horizon)
        if self.method == "inversion":
            times = _poisson_by_inversion(rng, edges, rates)
        elif self.method == "thinning":
            times = _poisson_by_thinning(rng, edges, rates)
        else:
            raise ValueError(f"unknown method {self.method!r}")
        return times, _class_mix(rng, self.classes, classes, times.size)


def _class_mix(rng: np.random.Generator, mix: Mapping[str, float] | None, classes: Sequence[str], n: int) -> IntArray:
    if mix is None:
        return np.zeros(n, dtype=np.int64)
    names = list(mix)
    unknown = [c for c in names if c not in classes]
    if unknown:
        raise ValueError(f"unknown patient classes {unknown}; the model has {list(classes)}")
    p = np.asarray([mix[c] for c in names], dtype=np.float64)
    if np.any(p < 0) or not math.isclose(float(p.sum()), 1.0, rel_tol=1e-9):
        raise ValueError("class probabilities must be non-negative and sum to 1")
    lookup = np.asarray([classes.index(c) for c in names], dtype=np.int64)
    # Inverse-CDF on uniforms: one draw per arrival whatever the number of classes.
    pick = np.searchsorted(np.cumsum(p)[:-1], rng.random(n), side="right")
    return np.asarray(lookup[pick], dtype=np.int64)


@dataclass(frozen=True)
class ScheduledArrivals:
    """Arrivals at given times (trace-driven runs, or small hand-checkable cases).

    ``classes`` is one class name for everyone, or one name per arrival.
    """

    times: Sequence[float]
    to: str
    classes: str | Sequence[str] | None = None
    _times: FloatArray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        t = np.asarray(self.times, dtype=np.float64).ravel()
        if np.any(~np.isfinite(t)) or np.any(t < 0):
            raise ValueError("arrival times must be finite and non-negative")
        if self.classes is not None and not isinstance(self.classes, str) and len(self.classes) != t.size:
            raise ValueError("give one class per arrival time")
        object.__setattr__(self, "_times", t)

    def generate(self, rng: np.random.Generator, horizon: float, classes: Sequence[str]) -> tuple[FloatArray, IntArray]:
        """The scheduled times before ``horizon`` (``rng`` is unused: nothing is random)."""
        keep = self._times < horizon
        if self.classes is None:
            cls = np.zeros(self._times.size, dtype=np.int64)
        else:
            names = [self.classes] * self._times.size if isinstance(self.classes, str) else self.classes
            missing = sorted({c for c in names if c not in classes})
            if missing:
                raise ValueError(f"unknown patient classes {missing}; the model has {list(classes)}")
            cls = np.asarray([classes.index(c) for c in names], dtype=np.int64)
        return self._times[keep], cls[keep]


@dataclass(frozen=True)
class SampledArrivals:
    """Arrivals from your own sampler: ``sample(rng, horizon)`` returns arrival times in
    ``[0, horizon)`` (any order) drawn with ``rng``, the stream's own generator.

    For arrival processes a rate table does not capture: resampled historical days, sample paths of
    a forecast model, or another simulator's generator reproduced exactly. Give a module-level
    function (not a lambda) if replications run in other processes: it has to be pickled.
    """

    sample: Callable[[np.random.Generator, float], Sequence[float] | FloatArray]
    to: str
    classes: Mapping[str, float] | None = None

    def generate(self, rng: np.random.Generator, horizon: float, classes: Sequence[str]) -> tuple[FloatArray, IntArray]:
        """The sampler's times (sorted; those at or after ``horizon`` dropped) and their classes."""
        times = np.sort(np.asarray(self.sample(rng, horizon), dtype=np.float64).ravel())
        if np.any(~np.isfinite(times)) or np.any(times < 0):
            raise ValueError("sampled arrival times must be finite and non-negative")
        times = times[times < horizon]
        return times, _class_mix(rng, self.classes, classes, times.size)


Arrivals = PoissonArrivals | ScheduledArrivals | SampledArrivals
