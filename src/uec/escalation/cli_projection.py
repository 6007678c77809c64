"""``uec escalation project|try``: the projected level from now, and an action tried before it is taken.

Registered on :data:`uec.escalation.cli.app`. Both run here (not as a job) with a progress bar on
standard error; ``--json`` prints one JSON object as the last line. Every error is one ``error:``
line and exit status 2.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from uec.errors import UecError
from uec.escalation.cli import JsonOpt, StoreOpt, app, out
from uec.escalation.projection import MAX_HOURS, MAX_REPS, Projection, project
from uec.store import open_store

__all__ = ["project_command", "try_command"]

HoursOpt = Annotated[int, typer.Option("--hours", help=f"Hours to project from now (1-{MAX_HOURS}).")]
StepOpt = Annotated[int, typer.Option("--step", help="Hours between projected instants.")]
RepsOpt = Annotated[int, typer.Option("--reps", help=f"Replications of the whole-system model (1-{MAX_REPS}).")]
SeedOpt = Annotated[int, typer.Option("--seed", help="Root seed (the same seed gives the same projection).")]


def _level(lv: Any) -> str:
    return "-" if lv is None else f"OPEL {lv}"


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _run(title: str, quiet: bool, fn: Any) -> Any:
    if quiet or not sys.stderr.isatty():
        return fn(None)
    from rich.console import Console

    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("replications"), TimeElapsedColumn(), console=Console(stderr=True),
                  transient=True) as bar:
        task = bar.add_task(title, total=None)
        return fn(lambda done, total: bar.update(task, completed=done, total=total))


def _known_org(store: Any, org: str) -> None:
    """Fail at once (not after minutes of simulation) for an organisation the framework does not score."""
    from uec.escalation.framework import load_framework
    from uec.escalation.parameters import units

    known = sorted({u.code for u in units(store, load_framework()) if u.kind == "org"})
    if org not in known:
        raise UecError(f"unknown organisation {org!r} (known: {', '.join(known) or 'none'}; "
                       "the ICS as a whole is --system)")


def _unit_code(p: Projection, org: str | None, system: bool) -> str:
    if system == (org is not None):
        raise UecError("give an organisation's code or --system (the ICS as a whole), not both or neither")
    if system:
        return next(code for kind, code in p.units if kind == "ics")
    assert org is not None
    p.unit(org)  # raises with the codes it knows
    return org


@app.command("project")
def project_command(  # noqa: PLR0913 - Typer takes one parameter per command-line option
    org: Annotated[str | None, typer.Argument(help="The organisation's ODS code (or use --system).")] = None,
    system: Annotated[bool, typer.Option("--system", help="The ICS as a whole.")] = False,
    hours: HoursOpt = 72,
    step: StepOpt = 4,
    reps: RepsOpt = 10,
    seed: SeedOpt = 42,
    notify: Annotated[bool, typer.Option(
        "--notify/--no-notify", help="Notify subscribers of a projected escalation.")] = False,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Project the OPEL score and level from now: the probability of each level at each instant."""
    if system == (org is not None):
        raise UecError("give an organisation's code or --system (the ICS as a whole), not both or neither")
    st = open_store(store)
    if org is not None:
        _known_org(st, org)
    p: Projection = _run("projecting", as_json, lambda tick: project(st, hours=hours, step_hours=min(step, hours),
                                                                      reps=reps, seed=seed, progress=tick))
    code = _unit_code(p, org, system)
    if notify:
        from uec.escalation.projection_jobs import notify_projected

        notify_projected(st, p)
    rows = [r for r in p.rows() if r["code"] == code and r["kind"] in ("org", "ics")]
    share, top = p.rise_probability(code)
    if as_json:
        d = p.as_dict()
        d["rows"] = rows
        print(json.dumps(d, default=str))
        return
    u = p.unit(code)
    t = Table("at (Europe/London)", "likely", "OPEL 1", "OPEL 2", "OPEL 3", "OPEL 4", "no score", "score (95%)",
              title=f"{code} {u.name}: projected from {p.as_of:%Y-%m-%d %H:%M} UTC, {p.reps} replications, "
                    f"seed {p.seed}",
              caption="probability of each level = share of replications at it; score: mean and the central "
                      "95% of replications")
    for r in rows:
        score = "-" if r["score_mean"] is None else (
            f"{r['score_mean']:.0f} ({r['score_low']:.0f}-{r['score_high']:.0f})")
        t.add_row(r["at"][:16].replace("T", " "), _level(r["likely_level"]),
                  *(_pct(r[f"p_opel{lv}"]) for lv in (1, 2, 3, 4)), _pct(r["p_no_score"]), score)
    out.print(t)
    if p.demand is not None:
        out.print(f"demand: {p.demand.note}")
    now = p.current.get((u.kind, code))
    if top is None:
        out.print(f"now {_level(now)}; no replication rises above it within {p.hours} hours")
    else:
        out.print(f"now {_level(now)}; rises above it within {p.hours} hours in {_pct(share)} of replications, "
                  f"most often to {_level(top)}")


def _changes(pairs: list[str]) -> dict[str, Any]:
    """``name=value`` pairs as scenario changes (numbers where they parse; times stay text)."""
    out_: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise UecError(f"--change {pair!r}: write name=value, such as extra_escalation_beds=20")
        text = value.strip()
        number: Any
        try:
            number = int(text)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                number = text
        out_[name.strip()] = number
    return out_


@app.command("try")
def try_command(  # noqa: PLR0913 - Typer takes one parameter per command-line option
    org: Annotated[str, typer.Argument(help="The organisation's ODS code.")],
    card: Annotated[str | None, typer.Option(
        "--card", help="An action card's id whose scenario change to try.")] = None,
    change: Annotated[list[str] | None, typer.Option(
        "--change", help="A scenario change name=value (repeatable), such as extra_escalation_beds=20.")] = None,
    hours: HoursOpt = 24,
    step: StepOpt = 4,
    reps: RepsOpt = 10,
    seed: SeedOpt = 42,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Project an organisation from now without and with an action's change (the same replications)."""
    from uec.escalation.tracked import load_cards
    from uec.escalation.tryit import try_action

    changes = _changes(change or [])
    if card is not None:
        found = load_cards().card(card)
        if found is None:
            raise UecError(f"no action card {card!r}")
        if not found.scenario:
            raise UecError(f"action card {card!r} names no scenario change to try")
        changes = {**found.changes, **changes}
    if not changes:
        raise UecError("give --card or at least one --change")
    st = open_store(store)
    _known_org(st, org)
    t = _run("trying", as_json, lambda tick: try_action(
        st, org, changes, card_id=card, hours=hours, step_hours=min(step, hours), reps=reps, seed=seed,
        progress=tick))
    if as_json:
        print(json.dumps(t.as_dict(), default=str))
        return
    tab = Table("at (Europe/London)", "likely without", "likely with", "P(OPEL 3+) without", "P(OPEL 3+) with",
                "score without", "score with", "difference (95% CI)",
                title=f"{org}: {', '.join(f'{k}={v}' for k, v in changes.items())}, {reps} paired replications")
    for r in t.rows():
        d = "-" if r["score_difference"] is None else (
            f"{r['score_difference']:+.1f}" + ("" if r["difference_low"] is None else
                                               f" ({r['difference_low']:+.1f} to {r['difference_high']:+.1f})"))
        tab.add_row(r["at"][:16].replace("T", " "), _level(r["likely_level_without"]), _level(r["likely_level_with"]),
                    _pct(r["p_opel3_without"] + r["p_opel4_without"]), _pct(r["p_opel3_with"] + r["p_opel4_with"]),
                    "-" if r["score_without"] is None else f"{r['score_without']:.0f}",
                    "-" if r["score_with"] is None else f"{r['score_with']:.0f}", d)
    out.print(tab)
