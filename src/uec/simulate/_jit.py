"""A typed wrapper around ``numba.njit``.

numba ships no type information, so decorating with it directly would make every compiled function
``Any`` to mypy (an untyped decorator). Wrapping it here keeps each function's own signature
visible to the type checker.

Every compiled function is cached on disk (``cache=True``): the engine compiles once per machine
(a few seconds) and later processes, including worker processes of a replication pool, load the
machine code from ``__pycache__`` in a fraction of a second.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba

F = TypeVar("F", bound=Callable[..., Any])


def jit(fn: F) -> F:
    """Compile ``fn`` in nopython mode with an on-disk cache; the signature is kept for mypy."""
    return cast(F, numba.njit(cache=True, nogil=True)(fn))


def jit_inline(fn: F) -> F:
    """Like :func:`jit`, but inlined into its callers at numba's IR level.

    For small helpers called in the event loop with array arguments: a real call makes numba
    increment and decrement every array's reference count (atomic operations) on entry and exit,
    which cost about a third of the run time before these helpers were inlined.
    """
    return cast(F, numba.njit(cache=True, nogil=True, inline="always")(fn))
