"""The ``uec`` command line.

Every command that reports numbers takes ``--json`` and then prints one JSON object as its last
line. Every error a user can cause prints one line starting ``error:`` and exits with status 2.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table as RichTable

from uec.contract import LOCAL_TIME_ZONE, reference_markdown, tables
from uec.errors import UecError
from uec.store import Store, open_store, resolve_store_url
from uec.system.cli import simulate_command

app = typer.Typer(
    name="uec",
    help="UEC Resilience: urgent and emergency care data for an integrated care system.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
docs_app = typer.Typer(help="Generate reference documentation.", no_args_is_help=True)
app.add_typer(docs_app, name="docs")

# soft_wrap: never break a line a script may grep for.
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

StoreOpt = Annotated[
    str | None,
    typer.Option(
        "--store", help="Store: a DuckDB file path or postgresql://… URL (default: $UEC_STORE or data/uec.duckdb)."
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object as the last line.")]


def _emit_json(obj: dict[str, Any]) -> None:
    # Plain print, not rich: machines read this line and rich would wrap it.
    print(json.dumps(obj, default=str))


@contextmanager
def _progress(enabled: bool, title: str) -> Iterator[Any]:
    """A rich progress bar fed by ``report(stage, fraction)``; silent when output is for machines."""
    if not enabled:
        yield lambda stage, frac: None
        return
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task(title, total=1.0)

        def report(stage: str, frac: float) -> None:
            bar.update(task, completed=frac, description=f"{title}: {stage}")

        yield report


def _open(store: str | None) -> Store:
    return open_store(store)


@app.command()
def ingest(
    kind: Annotated[str, typer.Argument(help="What the file holds, e.g. attendances, hes-ae, ae-attendances.")],
    file: Annotated[Path, typer.Argument(help="A CSV (.csv, .csv.gz) or Parquet file.")],
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Check FILE against the contract and load it; rejected rows go to the quarantine with reasons."""
    from uec.ingest import ingest as run_ingest
    from uec.ingest.formats import resolve_kind

    resolve_kind(kind)  # an unknown kind is reported before the store is touched
    s = _open(store)
    with _progress(not as_json, f"ingest {file.name}") as report:
        result = run_ingest(s, kind, file, progress=report)
    if result.already_loaded is not None:
        out.print(f"{file} was already loaded as load {result.already_loaded}; nothing added.")
    else:
        out.print(
            f"rows in: {result.rows_in:,}   loaded: {result.rows_loaded:,}   "
            f"quarantined: {result.rows_quarantined:,}   (load {result.load_id}, {result.seconds:.1f} s)"
        )
        if result.rows_quarantined:
            out.print(f"See why with: uec quarantine --load {result.load_id}")
    if as_json:
        _emit_json(result.as_dict())


@app.command()
def quarantine(
    load: Annotated[int | None, typer.Option(help="Only rows of this load.")] = None,
    kind: Annotated[str | None, typer.Option(help="Only rows of this kind.")] = None,
    limit: Annotated[int, typer.Option(help="Show at most this many rows.")] = 50,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show rejected rows and why they were rejected."""
    s = _open(store)
    where: list[str] = []
    params: dict[str, Any] = {}
    if load is not None:
        where.append("load_id = :load")
        params["load"] = load
    if kind is not None:
        where.append("kind = :kind")
        params["kind"] = kind
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    total = int(s.query(f"SELECT count(*) AS n FROM quarantine {clause}", params)[0]["n"])
    rows = s.query(
        f"SELECT load_id, kind, row_number, reason, raw FROM quarantine {clause} "
        f"ORDER BY load_id, row_number LIMIT {int(limit)}",
        params,
    )
    t = RichTable(title=f"Quarantine: {total:,} rows" + (f" (first {len(rows)})" if total > len(rows) else ""))
    for c in ("load", "kind", "row", "reason", "raw"):
        t.add_column(c, overflow="fold")
    for r in rows:
        t.add_row(str(r["load_id"]), r["kind"], str(r["row_number"] or ""), r["reason"], (r["raw"] or "")[:200])
    out.print(t)
    if as_json:
        _emit_json({"total": total, "rows": rows})


class ExportFormat(StrEnum):
    csv = "csv"
    parquet = "parquet"


# The audit trail's columns under the names docs/access.md uses.
_AUDIT_EXPORT = ("id, occurred_at AS at, actor, organisation, action, object_type, object_id, "
                 "before_json AS before, after_json AS after, request_id, prev_hash, hash")


@app.command()
def export(
    kind: Annotated[str, typer.Argument(help="A contract table (e.g. attendances), or quarantine, loads or audit.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write.")],
    fmt: Annotated[ExportFormat, typer.Option("--format", help="csv or parquet.")] = ExportFormat.csv,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write a table out as CSV or Parquet (instants in UTC, re-ingestible as they are)."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    names = {t.kind: t for t in tables()}
    if kind in names:
        table_name = names[kind].name
        cols = ", ".join(names[kind].field_names)
    elif kind in ("quarantine", "loads"):
        table_name, cols = kind, "*"
    elif kind == "audit":  # the audit trail (uec.access.audit), oldest first
        table_name, cols = "audit_log", _AUDIT_EXPORT
    else:
        raise UecError(f"unknown kind {kind!r}; choose one of: {', '.join([*names, 'quarantine', 'loads', 'audit'])}")
    s = _open(store)
    if kind == "audit":
        from uec.access.schema import ensure_access_schema

        ensure_access_schema(s)
    data = s.query_arrow(f"SELECT {cols} FROM {table_name}" + (" ORDER BY id" if kind == "audit" else ""))
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        if fmt is ExportFormat.parquet:
            pq.write_table(data, output)
        else:
            pacsv.write_csv(data, output)
    except OSError as exc:
        raise UecError(f"cannot write {output}: {exc.strerror}") from None
    out.print(f"wrote {data.num_rows:,} rows of {kind} to {output}")
    if as_json:
        _emit_json({"kind": kind, "rows": data.num_rows, "output": str(output), "format": fmt.value})


def _local(value: Any) -> str:
    """A stored instant as people read it: Europe/London, zone stated; dates as they are."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    if isinstance(value, datetime):
        return value.astimezone(ZoneInfo(LOCAL_TIME_ZONE)).strftime("%Y-%m-%d %H:%M %Z")
    return "" if value is None else str(value)


@app.command()
def status(store: StoreOpt = None, as_json: JsonOpt = False) -> None:
    """What the store holds: rows and time span per table, loads and quarantined rows."""
    s = _open(store)
    counts = s.counts()
    spans: dict[str, dict[str, Any]] = {}
    for t in tables():
        if t.time_field:
            r = s.query(f"SELECT min({t.time_field}) AS first, max({t.time_field}) AS last FROM {t.name}")[0]
            spans[t.name] = {"first": r["first"], "last": r["last"]}
    loads = s.query("SELECT count(*) AS n FROM loads")[0]["n"]
    quarantined = s.query("SELECT count(*) AS n FROM quarantine")[0]["n"]
    grid = RichTable(title=f"Store {s.url} ({s.engine})")
    for c in ("table", "rows", "first", "last"):
        grid.add_column(c, justify="right" if c == "rows" else "left")
    for name, n in counts.items():
        span = spans.get(name, {})
        grid.add_row(name, f"{n:,}", _local(span.get("first")), _local(span.get("last")))
    out.print(grid)
    out.print(f"loads: {loads:,}   quarantined rows: {quarantined:,}")
    if as_json:
        _emit_json({
            "store": s.url, "engine": s.engine, "tables": counts, "spans": spans,
            "loads": int(loads), "quarantined": int(quarantined),
        })


@app.command()
def demo(
    seed: Annotated[int, typer.Option(help="Random seed: the same seed and end date give the same data.")] = 42,
    days: Annotated[int, typer.Option(help="Days of events to generate.", min=1)] = 730,
    end: Annotated[str | None, typer.Option(help="Last day (YYYY-MM-DD); default yesterday.")] = None,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
    generator: Annotated[str, typer.Option(
        help="How events are made: 'model' (the whole-system simulation, waits respond to crowding) "
             "or 'fast' (the formula generator).")] = "model",
) -> None:
    """Build the seeded demo ICS (about 1.2 million people) into the store."""
    try:
        end_day = date.fromisoformat(end) if end else None
    except ValueError:
        raise UecError(f"--end {end!r} is not a date; use YYYY-MM-DD") from None
    from uec.demo import GENERATORS, build_demo

    if generator not in GENERATORS:
        raise UecError(f"--generator must be one of {', '.join(GENERATORS)}, not {generator!r}")
    s = _open(store)
    if any(s.counts().values()):
        raise UecError(f"store {s.url} already holds data; give an empty --store for the demo")
    with _progress(not as_json, "demo ICS") as report:
        summary = build_demo(s, seed=seed, days=days, end=end_day, progress=report, generator=generator)
    info = summary.as_dict() if hasattr(summary, "as_dict") else dict(vars(summary))
    out.print(f"demo ICS built in {s.url}: " + ", ".join(f"{k} {v:,}" for k, v in _row_counts(info).items()))
    if as_json:
        _emit_json(info)


def _row_counts(info: dict[str, Any]) -> dict[str, int]:
    counts = info.get("rows") or info.get("row_counts") or {}
    return {str(k): int(v) for k, v in counts.items()}


def demo_sign_in(store: Store, built: bool, base_url: str) -> str | None:
    """For ``serve --demo-if-empty``: the demo users (made when the demo was just built, or already there
    from an earlier start) and how to sign in as them; ``None`` for a store the demo did not make, so
    demo accounts never appear in a store real people use."""
    from uec.access.accounts import get_user
    from uec.access.demo import demo_users, sign_in_help

    if not built and get_user(store, "viewer") is None:
        return None
    return sign_in_help(demo_users(store), base_url=base_url)


@app.command()
def serve(
    store: StoreOpt = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    demo_if_empty: Annotated[bool, typer.Option(help="Build the demo ICS first if the store is empty.")] = False,
) -> None:
    """Run the web app (pages, JSON/CSV siblings, API and its docs at /docs)."""
    import socket

    import uvicorn

    from uec.web import create_app

    url = resolve_store_url(store)
    s = _open(url)
    built = False
    if demo_if_empty and not any(s.counts().values()):
        err.print("The store is empty: building the demo ICS first (once).")
        demo(seed=42, days=730, end=None, store=url, as_json=False)
        built = True
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError:
            raise UecError(f"cannot listen on {host}:{port}: the port is in use; choose another with --port") from None
    if demo_if_empty and (help_text := demo_sign_in(s, built, f"http://{host}:{port}")):
        err.print(help_text, markup=False, highlight=False)
    err.print(f"UEC Resilience on http://{host}:{port} (store {s.url}); Ctrl+C to stop.")
    uvicorn.run(create_app(url), host=host, port=port, log_level="warning")


@app.command()
def ping(
    url: Annotated[str, typer.Option(help="Base URL of a running `uec serve`.")] = "http://127.0.0.1:8000",
    as_json: JsonOpt = False,
) -> None:
    """Check that a running web app answers."""
    import httpx

    try:
        r = httpx.get(f"{url.rstrip('/')}/api/health", timeout=5)
    except httpx.HTTPError:
        raise UecError(f"no UEC server answers at {url}: start one with `uec serve`") from None
    if r.status_code != 200:
        raise UecError(f"the server at {url} answered {r.status_code}; is it a UEC Resilience server?")
    out.print(f"{url} is up")
    if as_json:
        _emit_json({"url": url, "ok": True, **r.json()})


@docs_app.command("contract")
def docs_contract(
    output: Annotated[Path | None, typer.Option(help="Write to this file instead of printing.")] = None,
) -> None:
    """The event contract reference (docs/reference/contract.md)."""
    text = reference_markdown() + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")


@docs_app.command("standards")
def docs_standards(
    output: Annotated[Path | None, typer.Option(help="Write to this file instead of printing.")] = None,
) -> None:
    """The catalogue of national standards (docs/reference/standards.md)."""
    from uec.standards.reference import reference_markdown as standards_markdown

    text = standards_markdown()
    if output is None:
        sys.stdout.write(text)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")


def _mount_optional() -> None:
    # Capabilities that arrive as their own sub-applications.
    try:
        from uec.forecast.cli import app as forecast_app
    except ImportError:  # pragma: no cover - forecast is part of the package; guard partial installs
        return
    app.add_typer(forecast_app, name="forecast", help="Forecast demand and occupancy; backtest models.")
    from uec.standards.cli import app as kpi_app

    app.add_typer(kpi_app, name="kpi")


_mount_optional()
app.command("simulate")(simulate_command)

# Escalation (issue 13): OPEL scores and levels; `uec docs escalation` is the same page as `uec escalation docs`.
from uec.escalation.cli import app as escalation_app  # noqa: E402
from uec.escalation.cli import docs_command as escalation_docs  # noqa: E402

app.add_typer(escalation_app, name="escalation")
docs_app.command("escalation")(escalation_docs)


def _mount_access() -> None:
    # People, API tokens and the audit trail (uec.access).
    from uec.access.cli import audit_app, tokens_app, users_app

    app.add_typer(users_app, name="users")
    app.add_typer(tokens_app, name="tokens")
    app.add_typer(audit_app, name="audit")


_mount_access()


def main() -> None:
    """Entry point: run the app, turning user errors into one line and exit status 2."""
    try:
        app()
    except UecError as exc:
        sys.stderr.write(f"error: {exc}\n")
        sys.exit(2)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    except Exception as exc:  # a bug: say so in one line, keep the traceback for those who ask
        if os.environ.get("UEC_DEBUG"):
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        sys.stderr.write(
            f"error: unexpected failure ({type(exc).__name__}: {first}); "
            "rerun with UEC_DEBUG=1 for details and report it\n"
        )
        sys.exit(1)
