"""``uec standards``: compute a standard (or the whole catalogue) from the command line.

The main CLI mounts :data:`app` as ``uec standards`` (and, for one release, as ``uec kpi``); its one
command is the app's callback, so ``uec standards ed-4hr --site RXX --by month --from 2024-04 --json``
works. Mistakes a user can make (an unknown standard, site or organisation, a bad ``--from``) raise
:class:`~uec.errors.UecError`, which the main CLI prints as one ``error:`` line with exit status 2.

>>> from typer.testing import CliRunner
>>> result = CliRunner().invoke(app, ["--list", "--json"])
>>> result.exit_code, '"ed-4hr"' in result.output.splitlines()[-1]
(0, True)
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from uec.errors import UecError
from uec.standards.engine import Result, compute, compute_many
from uec.standards.export import format_value, write_csv
from uec.standards.model import catalogue
from uec.standards.periods import GRAINS, parse_period_arg
from uec.standards.reference import computable_from_text
from uec.standards.sdc import disclose
from uec.store import open_store

__all__ = ["app"]

app = typer.Typer(
    name="standards",
    help="Compute national standards for a site, organisation or the whole ICS.",
    add_completion=False,
    pretty_exceptions_enable=False,
    # The app is a group (so the main CLI can mount it) whose only command is its callback; let
    # options follow the standard id instead of being read as a subcommand's.
    context_settings={"allow_interspersed_args": True},
)

# soft_wrap: never break a line a script may grep for.
out = Console(soft_wrap=True)

_AREAS = ("ed", "ambulance", "flow")


def _emit_json(obj: dict[str, Any]) -> None:
    # Plain print, not rich: machines read this line and rich would wrap it.
    print(json.dumps(obj, default=str))


def _list(as_json: bool) -> None:
    cat = catalogue()
    t = Table(title=f"{len(cat.standards)} standards")
    for c in ("id", "title", "unit", "better", "grains", "targets"):
        t.add_column(c, overflow="fold")
    listing = []
    for s in cat.standards:
        targets = "; ".join(f"{t.comparison} {format_value(t.value, s.unit)} {t.kind}" for t in s.targets)
        t.add_row(s.id, s.title, s.unit, s.direction, computable_from_text(s), targets or "none")
        listing.append({"id": s.id, "title": s.title, "area": s.area, "unit": s.unit, "direction": s.direction,
                        "grains": list(s.grains),
                        "computable_from": {g: list(v) for g, v in s.computable_from.items()}, "targets": [
                            {"value": x.value, "comparison": x.comparison, "kind": x.kind, "label": x.label,
                             "from": x.effective_from, "to": x.effective_to, "source": x.source.citation(),
                             "verified": x.verified} for x in s.targets]})
    out.print(t)
    if as_json:
        _emit_json({"standards": listing})


def _show(result: Result) -> None:
    s = result.standard
    t = Table(title=f"{s.id}: {s.title}" + (" (disclosure control applied)" if result.disclosed else ""))
    for c in ("scope", "period", "group", "value", "numerator", "denominator", "target", "met", "source"):
        t.add_column(c, justify="right" if c in ("value", "numerator", "denominator") else "left")
    for r in result.rows:
        target = f"{r.target.comparison} {format_value(r.target.value, s.unit)}" if r.target else ""
        t.add_row(
            r.code or "ICS", r.period_start.isoformat(), r.group or ("" if r.breakdown is None else "not recorded"),
            format_value(r.cell("value"), s.unit) + (" ~" if r.approximate else ""),
            format_value(r.cell("numerator"), "count" if s.disclosure in ("parts", "numerator") else s.unit),
            format_value(r.cell("denominator"), "count" if s.disclosure == "parts" else "ratio"),
            target, {True: "yes", False: "no", None: ""}[r.met], r.source,
        )
    out.print(t)
    for note in result.notes:
        out.print(f"note: {note}")


def _plausible(day: date, option: str, text: str) -> date:
    """``day`` if a store can hold data for it (the years ingest accepts), else a one-line error.

    A range of thousands of years would make every period of it be computed.

    >>> _plausible(date(2024, 4, 1), "--from", "2024-04")
    datetime.date(2024, 4, 1)
    """
    from uec.contract import EARLIEST_YEAR

    last = datetime.now(UTC).year + 1
    if not date(EARLIEST_YEAR, 1, 1) <= day <= date(last + 1, 1, 1):
        raise UecError(f"{option} {text!r} is outside {EARLIEST_YEAR}-{last}, the years a store can hold")
    return day


def parse_as_of(text: str) -> datetime:
    """``--as-of``: an ISO instant; without an offset it is Europe/London time, and a bare date means
    the end of that day (everything loaded that day was known).

    >>> parse_as_of("2024-05-01T12:00:00+00:00").isoformat()
    '2024-05-01T12:00:00+00:00'
    >>> parse_as_of("2024-05-01").isoformat()
    '2024-05-01T23:59:59.999999+01:00'
    """
    from datetime import time
    from zoneinfo import ZoneInfo

    london = ZoneInfo("Europe/London")
    try:
        if len(text.strip()) == 10:
            return datetime.combine(date.fromisoformat(text.strip()), time.max, tzinfo=london)
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UecError(f"--as-of {text!r} is not a date or time (use e.g. 2024-05-01 or 2024-05-01T09:30)") from None
    return at if at.tzinfo is not None else at.replace(tzinfo=london)


@app.callback(invoke_without_command=True)
def kpi(
    standard: Annotated[
        str | None,
        typer.Argument(help="A standard id (see --list), an area (ed, ambulance, flow) or 'all'."),
    ] = None,
    site: Annotated[str | None, typer.Option(help="Only this site (site code).")] = None,
    org: Annotated[str | None, typer.Option(help="Only this organisation (ODS code).")] = None,
    level: Annotated[str | None, typer.Option(help="One row per site, org or the whole ics.")] = None,
    by: Annotated[str, typer.Option("--by", help=f"Period: {', '.join(GRAINS)}.")] = "month",
    from_: Annotated[
        str | None, typer.Option("--from", help="First period: YYYY-MM-DD, YYYY-MM, YYYY or YYYY/YY.")
    ] = None,
    to: Annotated[str | None, typer.Option("--to", help="Last period, included (same forms as --from).")] = None,
    breakdown: Annotated[
        str | None,
        typer.Option(help="Break down by imd_decile, ethnic_group, age_band, sex, arrival_mode or acuity."),
    ] = None,
    source: Annotated[
        str, typer.Option(help="auto (events where present, else returns), events or returns.")
    ] = "auto",
    sdc: Annotated[
        bool | None,
        typer.Option("--sdc/--no-sdc", help="Disclosure control (default: on for --csv, off otherwise)."),
    ] = None,
    csv_path: Annotated[
        Path | None, typer.Option("--csv", help="Also write the rows to this CSV file (the publish export).")
    ] = None,
    list_: Annotated[bool, typer.Option("--list", help="List the catalogue and stop.")] = False,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Read returns as known then (before later revisions): 2024-05-01.")
    ] = None,
    store: Annotated[
        str | None, typer.Option("--store", help="Store: a DuckDB file path or postgresql://… URL.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object as the last line.")] = False,
) -> None:
    """Compute STANDARD (or an area, or all) for a scope and periods."""
    if list_:
        _list(as_json)
        return
    if standard is None:
        raise UecError("name a standard (see `uec standards --list`), an area (ed, ambulance, flow) or 'all'")
    cat = catalogue()
    many = standard == "all" or standard in _AREAS
    ids = list(cat.ids) if standard == "all" else [s.id for s in cat.area(standard)] if many else [cat.get(standard).id]
    start = end = None
    if from_:
        start = _plausible(parse_period_arg(from_, option="--from", inclusive_end=False), "--from", from_)
    if to:
        end = _plausible(parse_period_arg(to, option="--to", inclusive_end=True), "--to", to)
    s = open_store(store)
    kwargs: dict[str, Any] = dict(period=by, start=start, end=end, site=site, org=org, level=level,
                                  breakdown=breakdown, source=source,
                                  as_of=parse_as_of(as_of) if as_of else None)
    results = compute_many(s, ids, **kwargs) if many else [compute(s, ids[0], **kwargs)]
    use_sdc = sdc if sdc is not None else csv_path is not None
    if use_sdc:
        results = [disclose(r) for r in results]
    for r in results:
        _show(r)
    if csv_path is not None:
        n = write_csv(results, csv_path, sdc=use_sdc)
        out.print(f"wrote {n:,} rows to {csv_path}" + (" with disclosure control" if use_sdc else ""))
    if as_json:
        if many:
            _emit_json({"query": results[0].query.as_dict() if results else None, "sdc": use_sdc,
                        "results": [r.as_dict() for r in results]})
        else:
            _emit_json(results[0].as_dict())
