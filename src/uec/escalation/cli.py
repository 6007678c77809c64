"""``uec escalation``: OPEL scores and levels now or as history, and the framework's reference page.

Every error a user can cause is one ``error:`` line and exit status 2 (raised as ``UecError`` and
printed by :func:`uec.cli.main`).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from uec.errors import UecError
from uec.escalation.framework import Framework, load_framework
from uec.escalation.levels import Status, history, status
from uec.escalation.reference import reference_markdown
from uec.standards.periods import LONDON
from uec.store import open_store

__all__ = ["app", "parse_instant", "season_summary"]

app = typer.Typer(help="OPEL escalation: scores and levels computed from the store, with why.",
                  no_args_is_help=True)
out = Console(soft_wrap=True)

StoreOpt = Annotated[str | None, typer.Option(
    "--store", help="DuckDB file or postgresql:// URL (default: $UEC_STORE).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object as the last line.")]
FrameworkOpt = Annotated[Path | None, typer.Option(
    "--framework", help="A local framework YAML that overrides the national one (by parameter id).")]
OrgOpt = Annotated[str | None, typer.Option(
    "--org", help="Only this organisation and its sites (pillars and ICS still whole).")]


def parse_instant(text: str) -> dt.datetime:
    """An ISO 8601 instant; without an offset it is Europe/London local time.

    >>> parse_instant("2024-07-01T09:00").isoformat()
    '2024-07-01T08:00:00+00:00'
    >>> parse_instant("2024-07-01T09:00Z").isoformat()
    '2024-07-01T09:00:00+00:00'
    """
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise UecError(
            f"--at {text!r} is not an instant; use YYYY-MM-DDTHH:MM (Europe/London) or add an offset") from None
    if value.tzinfo is None:
        local = value.replace(tzinfo=LONDON)
        # A local time the clocks skip or repeat cannot be placed without an offset.
        back = local.astimezone(dt.UTC).astimezone(LONDON)
        if back.replace(tzinfo=None) != value or local.replace(fold=1).utcoffset() != local.utcoffset():
            raise UecError(f"--at {text!r} is skipped or repeated by a clock change; give an offset")
        value = local
    return value.astimezone(dt.UTC)


def _date(text: str, flag: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UecError(f"{flag} {text!r} is not a date; use YYYY-MM-DD") from None


def _framework(path: Path | None) -> Framework:
    return load_framework(path)


def _level(level: int | None) -> str:
    return "-" if level is None else f"OPEL {level}"


def _print_status(s: Status) -> None:
    out.print(f"OPEL at {s.at.astimezone(LONDON):%Y-%m-%d %H:%M %Z} ({s.framework_id} v{s.framework_version})")
    for note in s.notes:
        out.print(f"note: {note}")
    t = Table("unit", "code", "score", "level", "why")
    for sc in s.all():
        t.add_row(sc.kind, sc.code, "-" if sc.score is None else f"{sc.score:.1f}", _level(sc.level), sc.why())
    out.print(t)


@app.command("status")
def status_command(
    at: Annotated[str | None, typer.Option(
        "--at", help="Instant (ISO 8601; Europe/London if no offset). Default: now.")] = None,
    org: OrgOpt = None,
    framework: FrameworkOpt = None,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Scores and levels of every organisation, site, pillar and the ICS at an instant, with why."""
    when = parse_instant(at) if at else dt.datetime.now(dt.UTC)
    fw = _framework(framework)
    s = status(open_store(store), when, framework=fw, org=org)
    if as_json:
        print(json.dumps(s.as_dict(), default=str))
    else:
        _print_status(s)


SEASONS = {12: "winter", 1: "winter", 2: "winter", 3: "spring", 4: "spring", 5: "spring",
           6: "summer", 7: "summer", 8: "summer", 9: "autumn", 10: "autumn", 11: "autumn"}


def season_summary(statuses: list[Status]) -> list[dict[str, Any]]:
    """Share of instants at each level by season (meteorological) and unit, for the docs' table."""
    counts: dict[tuple[str, str, str], Counter[str]] = defaultdict(Counter)
    for s in statuses:
        season = SEASONS[s.at.astimezone(LONDON).month]
        for sc in s.all():
            counts[(season, sc.kind, sc.code)][_level(sc.level)] += 1
    order = {"winter": 0, "spring": 1, "summer": 2, "autumn": 3}
    kinds = {"ics": 0, "pillar": 1, "org": 2, "site": 3}
    rows = []
    for (season, kind, code), c in sorted(counts.items(), key=lambda kv: (kinds[kv[0][1]], kv[0][2], order[kv[0][0]])):
        n = sum(c.values())
        rows.append({"season": season, "kind": kind, "code": code, "days": n,
                     **{lv: round(c.get(lv, 0) / n, 3) for lv in ("OPEL 1", "OPEL 2", "OPEL 3", "OPEL 4", "-")}})
    return rows


@app.command("history")
def history_command(
    start: Annotated[str, typer.Option("--from", help="First local day (YYYY-MM-DD).")],
    end: Annotated[str, typer.Option("--to", help="Day after the last (YYYY-MM-DD).")],
    every: Annotated[str, typer.Option("--every", help="15min (at most 7 days) or 1d.")] = "1d",
    time_of_day: Annotated[str, typer.Option("--time", help="Local time of day of daily levels (HH:MM).")] = "12:00",
    summary: Annotated[bool, typer.Option("--summary", help="Share of days at each level by season and unit.")] = False,
    org: OrgOpt = None,
    framework: FrameworkOpt = None,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Scores and levels over a range: every 15 minutes, or daily at a time of day, each with why."""
    lo, hi = _date(start, "--from"), _date(end, "--to")
    try:
        tod = dt.time.fromisoformat(time_of_day)
    except ValueError:
        raise UecError(f"--time {time_of_day!r} is not a time of day; use HH:MM") from None
    fw = _framework(framework)
    statuses = history(open_store(store), lo, hi, every, time_of_day=tod, framework=fw, org=org)
    if summary:
        rows = season_summary(statuses)
        if as_json:
            print(json.dumps({"framework": fw.id, "every": every, "summary": rows}))
            return
        sys.stdout.write("| season | unit | code | instants | OPEL 1 | OPEL 2 | OPEL 3 | OPEL 4 | no score |\n")
        sys.stdout.write("|---|---|---|---:|---:|---:|---:|---:|---:|\n")
        for r in rows:
            cells = " | ".join(f"{100 * r[lv]:.0f}%" for lv in ("OPEL 1", "OPEL 2", "OPEL 3", "OPEL 4", "-"))
            sys.stdout.write(f"| {r['season']} | {r['kind']} | {r['code']} | {r['days']} | {cells} |\n")
        return
    if as_json:
        rows_json = [
            {"at": s.at.astimezone(LONDON).isoformat(), **{k: v for k, v in sc.as_dict().items() if k != "members"}}
            for s in statuses for sc in s.all()
        ]
        print(json.dumps({"framework": fw.id, "framework_version": fw.version, "every": every, "rows": rows_json},
                         default=str))
        return
    # Plain fixed-width text: a table of dozens of units is unreadable once a terminal wraps it.
    codes = [sc.code for sc in statuses[0].all()] if statuses else []
    width = max([len(c) for c in codes] + [7]) + 2
    sys.stdout.write("level (score) at each instant, Europe/London\n")
    sys.stdout.write(f"{'at':<18}" + "".join(f"{c:>{width}}" for c in codes) + "\n")
    for s in statuses:
        marks = ["-" if sc.score is None else f"{sc.level} ({sc.score:.0f})" for sc in s.all()]
        sys.stdout.write(f"{s.at.astimezone(LONDON):%Y-%m-%d %H:%M}  " + "".join(f"{m:>{width}}" for m in marks) + "\n")


@app.command("docs")
def docs_command(
    output: Annotated[Path | None, typer.Option(help="Write to this file instead of printing.")] = None,
    framework: FrameworkOpt = None,
) -> None:
    """The framework reference page (docs/reference/escalation.md)."""
    text = reference_markdown(_framework(framework))
    if output is None:
        sys.stdout.write(text)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")


# The escalation loop's commands (declare, actions, action, subscribe, notify) register on `app`.
from uec.escalation import cli_loop as _cli_loop  # noqa: E402,F401

# The projected level and "try an action" (project, try) register on `app` too.
from uec.escalation import cli_projection as _cli_projection  # noqa: E402,F401
