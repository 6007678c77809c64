"""A Ctrl+C that is never lost, even when the KeyboardInterrupt it raised was swallowed.

Python turns SIGINT into a :class:`KeyboardInterrupt` raised wherever the main thread happens to
be, and some code there swallows it: pydantic-core building a validator while ``uec.config`` is
imported reports it as ``Exception ignored in: 'SecretStr'`` and carries on; DuckDB turns it into
``RuntimeError: Query interrupted``. ``uec serve`` then started its web processes and worker and
ran until killed, as if Ctrl+C had never been pressed. :func:`install` keeps Python's behaviour
(the KeyboardInterrupt is still raised) and also records the signal, so that code that must not
miss one (``uec serve`` before it starts any process) can ask :func:`interrupted`.

Only the standard library: ``python -m uec`` installs the handler before any heavy import.

>>> import signal
>>> before = signal.signal(signal.SIGINT, signal.default_int_handler)  # as started from a terminal
>>> install()
>>> try:
...     signal.raise_signal(signal.SIGINT)
... except KeyboardInterrupt:
...     pass  # swallowed, as pydantic-core or DuckDB may do
>>> interrupted()
True
>>> forget()
>>> interrupted()
False
>>> _ = signal.signal(signal.SIGINT, before)  # as it was
"""

from __future__ import annotations

import signal
from types import FrameType

__all__ = ["forget", "install", "interrupted", "record"]

_received: list[int] = []


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    _received.append(signum)
    raise KeyboardInterrupt


def install() -> None:
    """Record every SIGINT from now on, still raising KeyboardInterrupt as Python does.

    Only in the main thread (signal handlers can be set nowhere else), and only where SIGINT has
    Python's default handler: a process started with SIGINT ignored keeps ignoring it, and a handler
    someone else set is left alone. Calling it twice is harmless.
    """
    import threading

    if threading.current_thread() is threading.main_thread() and (
            signal.getsignal(signal.SIGINT) is signal.default_int_handler):
        signal.signal(signal.SIGINT, _on_sigint)


def record(signum: int) -> None:
    """Note ``signum`` as received, for handlers that hold a signal instead of raising."""
    _received.append(signum)


def interrupted() -> bool:
    """Whether a SIGINT (or a signal given to :func:`record`) arrived since :func:`install`."""
    return bool(_received)


def forget() -> None:
    """Forget the signals received so far (for tests)."""
    _received.clear()
