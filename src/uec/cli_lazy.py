"""Command groups whose subcommands are imported only when they run.

Forecasting and simulation pull in pandas, SciPy, statsmodels, numba and LightGBM, which take
seconds to import; ``uec --help`` and light commands such as ``uec status`` need none of them. A
:func:`lazy_group` lists a lazily mounted subcommand from its name and help text alone, and imports
its module only when that subcommand is run (or its own ``--help`` is asked for).

>>> import typer
>>> app = typer.Typer(cls=lazy_group(), add_completion=False)
>>> @app.callback()
... def tool() -> None:
...     '''A tool.'''
>>> mount_lazy(app, "jobs", "uec.cli:jobs_app", help="Background jobs.")
>>> group = typer.main.get_command(app)
>>> group.list_commands(None), group.get_command(None, "jobs").help  # a stand-in: nothing imported yet
(['jobs'], 'Background jobs.')
>>> group.resolve_command(None, ["jobs", "list"])[1].list_commands(None)  # imported when run
['list', 'show', 'cancel', 'submit']
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, ClassVar

import typer
from typer.core import TyperGroup

__all__ = ["Lazy", "LazyGroup", "lazy_group", "load", "mount_lazy"]


@dataclass(frozen=True)
class Lazy:
    """A subcommand by where it lives (``module:attribute``, a Typer app or a command function) and the
    help line shown in its group's help before it is imported."""

    target: str
    help: str
    hidden: bool = False
    deprecated: bool = False


class LazyGroup(TyperGroup):
    """A Typer group that imports the module of a lazily mounted subcommand only when it is resolved."""

    lazy: ClassVar[dict[str, Lazy]] = {}

    def list_commands(self, ctx: Any) -> list[str]:
        return [*super().list_commands(ctx), *(n for n in self.lazy if n not in self.commands)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        # Listing (help, suggestions) sees a stand-in with the help line; running resolves the real one.
        found = super().get_command(ctx, cmd_name)
        if found is not None or cmd_name not in self.lazy:
            return found
        spec = self.lazy[cmd_name]
        return typer.core.TyperCommand(cmd_name, help=spec.help, hidden=spec.hidden, deprecated=spec.deprecated)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] in self.lazy and args[0] not in self.commands:
            self.commands[args[0]] = load(args[0], self.lazy[args[0]])
        return super().resolve_command(ctx, args)

    def load_all(self) -> None:
        """Import every lazily mounted subcommand (for tools that walk the whole command tree)."""
        for name, spec in self.lazy.items():
            if name not in self.commands:
                self.commands[name] = load(name, spec)


def lazy_group() -> type[LazyGroup]:
    """A :class:`LazyGroup` class with its own registry, for ``typer.Typer(cls=lazy_group())``."""
    return type("LazyGroup", (LazyGroup,), {"lazy": {}})


def mount_lazy(app: typer.Typer, name: str, target: str, *, help: str, hidden: bool = False,
               deprecated: bool = False) -> None:
    """Mount ``target`` (``"module:attribute"``) as subcommand ``name`` of ``app``, imported when run."""
    cls = app.info.cls
    if not (isinstance(cls, type) and issubclass(cls, LazyGroup)):
        raise TypeError("mount_lazy needs a Typer app made with cls=lazy_group()")
    cls.lazy[name] = Lazy(target, help, hidden=hidden, deprecated=deprecated)


def load(name: str, spec: Lazy) -> Any:
    """The click command of ``spec``: its module imported, a Typer app or a function made a command.

    >>> load("jobs", Lazy("uec.cli:jobs_app", help="Jobs.")).help
    'Jobs.'
    """
    module, _, attribute = spec.target.partition(":")
    obj = getattr(importlib.import_module(module), attribute)
    command: Any
    if isinstance(obj, typer.Typer):
        command = typer.main.get_group(obj)  # as `add_typer` mounts it: no completion options of its own
        command.help = spec.help  # as `add_typer(..., help=...)` would: the mount names the group
    else:  # a command function: its docstring is its help, as `app.command(name)(function)` makes it
        single = typer.Typer(add_completion=False)
        single.command(name)(obj)
        command = typer.main.get_command(single)
    command.name = name
    command.hidden, command.deprecated = spec.hidden, spec.deprecated
    return command
