"""The people of the demo ICS, and fair ways to pick patients from them.

Every event belongs to a resident, so one person's 111 call, ambulance, ED attendance and
admission share a pseudonymised key, an age band, a sex and a deprivation decile. Who turns up
where depends on age (an 85-year-old is far likelier to need an ambulance than a teenager) and on
deprivation, through per-person weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from uec.ics import params as P

I64 = npt.NDArray[np.int64]
I8 = npt.NDArray[np.int8]

_HEX = np.frombuffer(b"0123456789abcdef", np.uint8)


@dataclass(frozen=True)
class Population:
    """One row per resident, sorted by catchment, age band and decile (each a contiguous range)."""

    age: I8
    sex: I8
    ethnic: I8
    imd: I8  # 1..10
    catchment: I8
    bounds: I64  # catchment c is rows bounds[c] .. bounds[c+1]-1
    keys: pa.StringArray  # pseudonymised patient keys

    @property
    def size(self) -> int:
        return int(self.age.size)


def _splitmix64(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    # A keyed bijective mix: the key looks random, cannot be turned back into the row number
    # without the seed, and two people never share one.
    z = x + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    out: npt.NDArray[np.uint64] = z ^ (z >> np.uint64(31))
    return out


def hex_keys(values: npt.NDArray[np.uint64]) -> pa.StringArray:
    """16-character lower-case hex strings, built straight into an Arrow buffer (fast for millions).

    >>> hex_keys(np.array([255, 2**63], np.uint64)).to_pylist()
    ['00000000000000ff', '8000000000000000']
    """
    n = int(values.size)
    raw = values.astype(">u8").view(np.uint8).reshape(n, 8)
    chars = np.empty((n, 16), np.uint8)
    chars[:, 0::2] = _HEX[raw >> 4]
    chars[:, 1::2] = _HEX[raw & 15]
    offsets = np.arange(n + 1, dtype=np.int32) * 16
    arr = pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(chars.tobytes())])
    assert isinstance(arr, pa.StringArray)
    return arr


def make_population(rng: np.random.Generator, catchments: list[int]) -> Population:
    """Residents of each catchment with age, sex, ethnic group, IMD decile and a key."""
    sizes = np.array(catchments, np.int64)
    n = int(sizes.sum())
    catchment = np.repeat(np.arange(sizes.size, dtype=np.int8), sizes)
    bounds = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    age = rng.choice(len(P.AGE_BANDS), size=n, p=np.array(P.POPULATION_AGE) / sum(P.POPULATION_AGE)).astype(np.int8)
    sex = (rng.random(n) >= P.FEMALE_SHARE).astype(np.int8)  # 0 female, 1 male
    ethnic = np.empty(n, np.int8)
    imd = np.empty(n, np.int8)
    for c in range(sizes.size):
        lo, hi = int(bounds[c]), int(bounds[c + 1])
        mix = np.array(P.ETHNIC_BY_CATCHMENT[c])
        ethnic[lo:hi] = rng.choice(5, size=hi - lo, p=mix / mix.sum())
        slope = P.IMD_SLOPE_BY_CATCHMENT[c]
        w = 1.0 + slope * (np.arange(10) - 4.5) / 9.0
        imd[lo:hi] = rng.choice(10, size=hi - lo, p=w / w.sum()) + 1
    # Keep residents sorted by (catchment, age band, decile) so that each such group is a
    # contiguous range: the samplers below pick a group, then a member of it.
    order = np.lexsort((imd, age, catchment))
    age, sex, ethnic, imd = age[order], sex[order], ethnic[order], imd[order]
    salt = rng.integers(0, 2**62, dtype=np.int64)
    keys = hex_keys(_splitmix64(np.arange(n, dtype=np.uint64) ^ np.uint64(salt)))
    return Population(age=age, sex=sex, ethnic=ethnic, imd=imd, catchment=catchment, bounds=bounds, keys=keys)


class PersonSampler:
    """Picks residents of a given catchment with chance proportional to a per-person weight.

    The weight depends only on age band and IMD decile, so people are grouped by (catchment, age,
    decile): a draw picks a group from its catchment's 60 by weight, then a member uniformly. That
    costs two small look-ups per draw instead of a search through 1.2 million cumulative weights.
    """

    def __init__(self, pop: Population, age_mix: tuple[float, ...], imd_range: tuple[float, float]) -> None:
        share = np.array(P.POPULATION_AGE)
        per_age = np.array(age_mix) / share
        per_imd = np.linspace(imd_range[0], imd_range[1], 10)
        n_c = pop.bounds.size - 1
        group = (pop.catchment.astype(np.int64) * 6 + pop.age) * 10 + (pop.imd - 1)
        sizes = np.bincount(group, minlength=n_c * 60).astype(np.float64)
        self.start = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        self.size = sizes.astype(np.int64)
        w = (per_age[:, None] * per_imd[None, :]).ravel()  # weight per (age, decile)
        gw = sizes.reshape(n_c, 60) * w[None, :]
        self.cdf = np.cumsum(gw, axis=1) / gw.sum(axis=1, keepdims=True)

    def sample(self, rng: np.random.Generator, catchment: npt.ArrayLike) -> I64:
        c = np.asarray(catchment, np.int64)
        u = rng.random((2, c.size))
        g = np.empty(c.size, np.int64)
        for k in range(self.cdf.shape[0]):
            m = c == k
            g[m] = np.minimum(np.searchsorted(self.cdf[k], u[0, m], side="right"), 59) + 60 * k
        pos: I64 = self.start[g] + np.minimum((u[1] * self.size[g]).astype(np.int64),
                                              np.maximum(self.size[g] - 1, 0))
        return pos


def samplers(pop: Population) -> dict[str, PersonSampler]:
    """One sampler per kind of event, from the age mixes in ``_params``."""
    out: dict[str, PersonSampler] = {}
    for kind, mix in P.AGE_MIX.items():
        imd = P.IMD_USE["elective"] if kind == "elective" else P.IMD_USE["default"]
        out[kind] = PersonSampler(pop, mix, imd)
    return out
