"""Duration distributions for service times and patience (all times in minutes).

Each distribution is a small frozen dataclass described by the parameters people quote (a mean and a
standard deviation, say), and compiles to a kind code and three numbers that the compiled engine
samples from, using the replication's own random streams (see :mod:`._random`).

>>> Exponential(25.0).mean
25.0
>>> stay = Lognormal(mean=5.0, sd=2.0 ** 0.5)
>>> sample = stay.sample(100_000, seed=1)
>>> round(float(sample.mean()), 1), round(float(sample.std()), 1)
(5.0, 1.4)
>>> Empirical([10.0, 20.0, 60.0]).mean
30.0
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import numpy.typing as npt

from uec.simulate._jit import jit
from uec.simulate._random import (
    StateArray,
    next_exponential,
    next_gamma,
    next_normal,
    next_uniform,
    stream_state,
)

__all__ = [
    "Deterministic",
    "Distribution",
    "Empirical",
    "Erlang",
    "Exponential",
    "Gamma",
    "Lognormal",
    "Normal",
    "Triangular",
    "Uniform",
]

# Kind codes shared with the engine (``_core``); one branch each in :func:`draw`.
DETERMINISTIC = 0
EXPONENTIAL = 1
UNIFORM = 2
TRIANGULAR = 3
NORMAL = 4
LOGNORMAL = 5
GAMMA = 6
EMPIRICAL = 7


@jit
def draw(
    rng: StateArray,
    stream: int,
    kind: int,
    p0: float,
    p1: float,
    p2: float,
) -> float:
    """One draw of the distribution encoded as ``(kind, p0, p1, p2)`` from stream ``stream`` of the
    generator state ``rng`` (compiled; inlined into the engine).

    For :class:`Empirical` this is the uniform that picks the value: the caller looks it up in the
    tabulated values, which keeps that array out of this function's arguments (each array argument
    costs reference counting on every call).
    """
    if kind == EXPONENTIAL:
        return p0 * next_exponential(rng, stream)
    if kind == DETERMINISTIC:
        return p0
    if kind == LOGNORMAL:
        return math.exp(p0 + p1 * next_normal(rng, stream))
    if kind == NORMAL:
        x = p0 + p1 * next_normal(rng, stream)
        return x if x > p2 else p2
    if kind == GAMMA:
        return p1 * next_gamma(rng, stream, p0)
    if kind == UNIFORM:
        return p0 + (p1 - p0) * next_uniform(rng, stream)
    if kind == TRIANGULAR:
        u = next_uniform(rng, stream)
        width = p2 - p0
        if u * width < p1 - p0:
            return p0 + math.sqrt(u * width * (p1 - p0))
        return p2 - math.sqrt((1.0 - u) * width * (p2 - p1))
    # EMPIRICAL: the uniform that picks one of the observed values (a bootstrap of the data).
    return next_uniform(rng, stream)


@jit
def _draw_many(
    rng: StateArray,
    kind: int,
    p0: float,
    p1: float,
    p2: float,
    data: npt.NDArray[np.float64],
    n: int,
) -> npt.NDArray[np.float64]:
    out = np.empty(n)
    for i in range(n):
        x = draw(rng, 0, kind, p0, p1, p2)
        out[i] = data[min(int(x * data.shape[0]), data.shape[0] - 1)] if kind == EMPIRICAL else x
    return out


class Distribution:
    """Base class: a non-negative duration distribution in minutes.

    Subclasses are frozen dataclasses; each has a ``mean`` (minutes) and encodes itself for the engine
    as a kind code and three numbers.
    """

    kind: ClassVar[int] = -1

    if TYPE_CHECKING:

        @property
        def mean(self) -> float:
            """The distribution's mean (minutes)."""

    def params(self) -> tuple[float, float, float]:
        """The three numbers the engine needs, in the engine's parametrisation."""
        raise NotImplementedError

    def data(self) -> npt.NDArray[np.float64]:
        """Tabulated values (only :class:`Empirical` has any)."""
        return np.empty(0)

    def sample(self, size: int, seed: int | np.random.SeedSequence | None = None) -> npt.NDArray[np.float64]:
        """``size`` draws with the engine's own sampler (handy for checking a fitted distribution)."""
        p0, p1, p2 = self.params()
        data = self.data()
        seq = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        rng = stream_state(seq).reshape(1, 4)
        return _draw_many(rng, self.kind, p0, p1, p2, data if data.size else np.zeros(1), size)


def _positive(name: str, value: float) -> None:
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{name} must be positive and finite, got {value!r}")


@dataclass(frozen=True)
class Deterministic(Distribution):
    """Always ``value`` minutes."""

    value: float
    kind: ClassVar[int] = DETERMINISTIC

    def __post_init__(self) -> None:
        if not (self.value >= 0 and math.isfinite(self.value)):
            raise ValueError(f"value must be non-negative and finite, got {self.value!r}")

    @property
    def mean(self) -> float:
        return float(self.value)

    def params(self) -> tuple[float, float, float]:
        return (float(self.value), 0.0, 0.0)


@dataclass(frozen=True)
class Exponential(Distribution):
    """Exponential with the given mean (memoryless: the Markovian 'M' of M/M/c)."""

    mean: float
    kind: ClassVar[int] = EXPONENTIAL

    def __post_init__(self) -> None:
        _positive("mean", self.mean)

    def params(self) -> tuple[float, float, float]:
        return (float(self.mean), 0.0, 0.0)


@dataclass(frozen=True)
class Uniform(Distribution):
    """Uniform on ``[low, high]``."""

    low: float
    high: float
    kind: ClassVar[int] = UNIFORM

    def __post_init__(self) -> None:
        if not 0 <= self.low <= self.high:
            raise ValueError("need 0 <= low <= high")

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2

    def params(self) -> tuple[float, float, float]:
        return (float(self.low), float(self.high), 0.0)


@dataclass(frozen=True)
class Triangular(Distribution):
    """Triangular on ``[low, high]`` with the given mode: the classic 'min, most likely, max' estimate."""

    low: float
    mode: float
    high: float
    kind: ClassVar[int] = TRIANGULAR

    def __post_init__(self) -> None:
        if not (0 <= self.low <= self.mode <= self.high and self.low < self.high):
            raise ValueError("need 0 <= low <= mode <= high and low < high")

    @property
    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3

    def params(self) -> tuple[float, float, float]:
        return (float(self.low), float(self.mode), float(self.high))


@dataclass(frozen=True)
class Normal(Distribution):
    """Normal with the given mean and standard deviation; draws below ``minimum`` become ``minimum``.

    ``mean`` is the untruncated mean, which is the real one whenever ``minimum`` is several standard
    deviations below it (the usual case for a duration).
    """

    mean: float
    sd: float
    minimum: float = 0.0
    kind: ClassVar[int] = NORMAL

    def __post_init__(self) -> None:
        _positive("sd", self.sd)
        if self.minimum < 0:
            raise ValueError("minimum must be non-negative: durations cannot be negative")

    def params(self) -> tuple[float, float, float]:
        return (float(self.mean), float(self.sd), float(self.minimum))


@dataclass(frozen=True)
class Lognormal(Distribution):
    """Lognormal given the mean and standard deviation *of the duration itself* (not of its log)."""

    mean: float
    sd: float
    kind: ClassVar[int] = LOGNORMAL

    def __post_init__(self) -> None:
        _positive("mean", self.mean)
        _positive("sd", self.sd)

    def params(self) -> tuple[float, float, float]:
        # Moments of the underlying normal: sigma^2 = log(1 + v/m^2), mu = log(m) - sigma^2/2.
        sigma2 = math.log1p(self.sd**2 / self.mean**2)
        return (math.log(self.mean) - sigma2 / 2, math.sqrt(sigma2), 0.0)


@dataclass(frozen=True)
class Gamma(Distribution):
    """Gamma given its mean and standard deviation (shape ``(mean/sd)^2``)."""

    mean: float
    sd: float
    kind: ClassVar[int] = GAMMA

    def __post_init__(self) -> None:
        _positive("mean", self.mean)
        _positive("sd", self.sd)

    def params(self) -> tuple[float, float, float]:
        return ((self.mean / self.sd) ** 2, self.sd**2 / self.mean, 0.0)


def Erlang(k: int, mean: float) -> Gamma:
    """Erlang-``k`` (sum of ``k`` exponential phases) with the given mean, as a :class:`Gamma`.

    >>> Erlang(4, 20.0).sd
    10.0
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    return Gamma(mean, mean / math.sqrt(k))


@dataclass(frozen=True)
class Empirical(Distribution):
    """Resample observed durations with equal probability (a bootstrap of historical data)."""

    values: tuple[float, ...] = field(default=())
    kind: ClassVar[int] = EMPIRICAL

    def __init__(self, values: Sequence[float] | npt.NDArray[np.float64]) -> None:
        vals = tuple(float(v) for v in np.asarray(values, dtype=np.float64).ravel())
        if not vals:
            raise ValueError("Empirical needs at least one value")
        if min(vals) < 0 or not all(math.isfinite(v) for v in vals):
            raise ValueError("durations must be finite and non-negative")
        object.__setattr__(self, "values", vals)

    @property
    def mean(self) -> float:
        return float(np.mean(self.values))

    def params(self) -> tuple[float, float, float]:
        return (0.0, 0.0, 0.0)

    def data(self) -> npt.NDArray[np.float64]:
        return np.asarray(self.values, dtype=np.float64)
