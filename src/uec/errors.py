"""Errors a user can cause. Each carries a one-line message that says what to do.

The command line prints ``error: <message>`` and exits with status 2 for any of these; the web app
answers 4xx with the message. Anything else is a bug and is reported as one.
"""

from __future__ import annotations

__all__ = ["UecError"]


class UecError(Exception):
    """A problem the user can fix: a bad file, an unknown kind, a store that cannot be opened.

    >>> str(UecError("unknown kind 'x'"))
    "unknown kind 'x'"
    """
