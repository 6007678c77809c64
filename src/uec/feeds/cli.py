"""``uec watch DIR``: load files dropped into a folder (see :mod:`uec.feeds.watch`).

Mounted on the ``uec`` application with one line in ``uec/cli.py``. Every error is one ``error:``
line and exit status 2 (raised as :class:`uec.errors.UecError`, printed by ``uec``'s entry point).
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from uec.feeds.watch import DEFAULT_SETTLE, Outcome, watch
from uec.store import open_store

__all__ = ["watch_command"]

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def _label(folder: Path) -> str:
    try:
        user = getpass.getuser()
    except Exception:  # a container with an unnamed uid
        user = "unknown"
    return f"cli:{user} (watch {folder.name})"


def watch_command(
    folder: Annotated[Path, typer.Argument(help="The folder to watch; files move to FOLDER/loaded or "
                                                "FOLDER/rejected.")],
    kind: Annotated[str | None, typer.Option("--kind", help="Every file is this kind (default: the start of "
                                                             "its name, e.g. bed-states_0815.csv).")] = None,
    org: Annotated[str | None, typer.Option("--org", help="Take only rows of this organisation (and its sites); "
                                                           "a file with any other is rejected.")] = None,
    settle: Annotated[float, typer.Option("--settle", help="Seconds a file must stay unchanged before it is read "
                                                           "(files named *.part are never read).")] = DEFAULT_SETTLE,
    every: Annotated[float, typer.Option("--every", help="Seconds between looks at the folder.")] = 1.0,
    once: Annotated[bool, typer.Option("--once", help="Look once, load what is ready, and stop.")] = False,
    store: Annotated[str | None, typer.Option("--store", help="Store path or PostgreSQL URL "
                                                              "(default: the UEC_STORE setting).")] = None,
) -> None:
    """Load files dropped into FOLDER through the same validation, quarantine and atomic load as `uec ingest`."""

    def report(o: Outcome) -> None:
        out.print(f"{o.name}: {o.outcome} ({o.detail})")
        for warning in o.warnings:  # as `uec ingest` says it: one `warning:` line on stderr
            err.print(warning, markup=False, highlight=False)

    try:
        n = watch(open_store(store), folder, kind=kind, org_code=org, settle=settle, every=every, once=once,
                  actor_label=_label(folder), report=report)
    except KeyboardInterrupt:
        return
    out.print(f"{n} file(s) handled")
