"""Random numbers inside the compiled engine: NumPy's SFC64 generator, re-implemented for numba.

Why not pass :class:`numpy.random.Generator` objects into the engine? numba supports them, but
every draw is then a call that increments and decrements the generator's reference count with
atomic instructions - a third of the engine's time on an M/M/c queue. Here a stream is just four
``uint64`` words in a row of a state array, advanced by inlined code.

The words are taken from ``numpy.random.SFC64(seed_sequence).state``, and :func:`next_uniform`
follows NumPy's algorithm exactly, so each stream is *bit for bit* the stream of
``numpy.random.Generator(numpy.random.SFC64(seed_sequence)).random()`` (a test checks this). SFC64
(Chris Doty-Humphrey's Small Fast Chaotic generator) passes PractRand and TestU01 BigCrush.

Variates are made from uniforms by inversion where that is cheap (exponential, triangular),
Box-Muller for normals, and Marsaglia and Tsang's method for gamma.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from uec.simulate._jit import jit, jit_inline

StateArray = npt.NDArray[np.uint64]

_R11 = np.uint64(11)
_R3 = np.uint64(3)
_R24 = np.uint64(24)
_R40 = np.uint64(40)
_ONE = np.uint64(1)
_TO_DOUBLE = 1.0 / 9007199254740992.0  # 2**-53
_TWO_PI = 2.0 * math.pi


def stream_state(seq: np.random.SeedSequence) -> StateArray:
    """The four state words of NumPy's SFC64 seeded from ``seq`` (NumPy also does the warm-up)."""
    words = np.random.SFC64(seq).state["state"]["state"]
    return np.asarray(words, dtype=np.uint64)


@jit_inline
def next_uint64(state: StateArray, k: int) -> np.uint64:
    """Advance stream ``k`` (row ``k`` of ``state``) and return 64 random bits (NumPy's sfc64_next)."""
    a = state[k, 0]
    b = state[k, 1]
    c = state[k, 2]
    w = state[k, 3]
    tmp = a + b + w
    state[k, 3] = w + _ONE
    state[k, 0] = b ^ (b >> _R11)
    state[k, 1] = c + (c << _R3)
    state[k, 2] = ((c << _R24) | (c >> _R40)) + tmp
    return np.uint64(tmp)


@jit_inline
def next_uniform(state: StateArray, k: int) -> float:
    """A double in [0, 1) from the top 53 bits, as NumPy's ``Generator.random`` makes it."""
    return float(next_uint64(state, k) >> _R11) * _TO_DOUBLE


@jit_inline
def next_exponential(state: StateArray, k: int) -> float:
    """A unit-mean exponential, by inversion (``1 - u`` lies in (0, 1], so the log is finite)."""
    return -math.log(1.0 - next_uniform(state, k))


@jit_inline
def next_normal(state: StateArray, k: int) -> float:
    """A standard normal by Box-Muller (one of the pair; simpler than caching the other)."""
    r = math.sqrt(-2.0 * math.log(1.0 - next_uniform(state, k)))
    return r * math.cos(_TWO_PI * next_uniform(state, k))


@jit
def next_gamma(state: StateArray, k: int, shape: float) -> float:
    """A unit-scale gamma (Marsaglia and Tsang 2000; shape < 1 via the ``U^(1/shape)`` boost)."""
    boost = 1.0
    if shape < 1.0:
        boost = (1.0 - next_uniform(state, k)) ** (1.0 / shape)
        shape += 1.0
    d = shape - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        z = next_normal(state, k)
        v = 1.0 + c * z
        if v <= 0.0:
            continue
        v = v * v * v
        u = 1.0 - next_uniform(state, k)
        if math.log(u) < 0.5 * z * z + d - d * v + d * math.log(v):
            return d * v * boost
