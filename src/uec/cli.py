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
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table as RichTable

from uec.cli_lazy import lazy_group, mount_lazy
from uec.contract import LOCAL_TIME_ZONE, reference_markdown, tables
from uec.errors import UecError
from uec.system.cli import simulate_command

if TYPE_CHECKING:  # the store brings in Arrow; commands that need it import it when they run (issue 15)
    from uec.store import Store

app = typer.Typer(
    name="uec",
    help="UEC Resilience: urgent and emergency care data for an integrated care system.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    # Subcommands that need pandas, SciPy or the forecasting models are imported only when run (issue 15).
    cls=lazy_group(),
)
docs_app = typer.Typer(help="Generate reference documentation.", no_args_is_help=True, cls=lazy_group())
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
    from uec.store import open_store

    return open_store(store)


def cli_actor() -> str:
    """Who a change made here is audited as: ``cli:<operating-system user>`` (imported when a
    command runs, like the store)."""
    from uec.access.audit import cli_actor as actor

    return actor()


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
    with _progress(not as_json and err.is_terminal, f"ingest {file.name}") as report:
        result = run_ingest(s, kind, file, progress=report, actor=cli_actor())
    if result.already_loaded is not None:
        out.print(f"{file} was already loaded as load {result.already_loaded}; nothing added.")
    else:
        out.print(
            f"rows in: {result.rows_in:,}   loaded: {result.rows_loaded:,}   "
            f"quarantined: {result.rows_quarantined:,}   (load {result.load_id}, {result.seconds:.1f} s)"
        )
        if result.rows_quarantined:
            out.print(f"See why with: uec quarantine --load {result.load_id}")
        if result.rows_revised:
            out.print(f"revised: {result.rows_revised:,} earlier values replaced (kept in the history; undo with "
                      f"`uec unload {result.load_id}`)")
        for note in result.unchecked:
            out.print(f"note: {note}")
    if result.load_id is not None and result.already_loaded is None and result.rows_loaded:
        from uec.demo import mixed_in_warning  # issue 15: real data loaded into the demo ICS

        warning = mixed_in_warning(s, result.table, result.load_id)
        if warning:
            err.print(warning, markup=False, highlight=False)
    if as_json:
        _emit_json(result.as_dict())


@app.command()
def unload(
    load_id: Annotated[int, typer.Argument(help="The load to remove (its id, as `uec ingest` printed it).", min=1)],
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Remove load LOAD_ID as if it had never been made, in one transaction, and audit it.

    Returns values it revised become current again; its quarantined rows go with it.
    """
    import getpass

    from uec.access import audit
    from uec.ingest import UnloadResult
    from uec.ingest import unload as run_unload
    from uec.store import StoreWriter

    try:
        actor = f"cli:{getpass.getuser()}"
    except Exception:  # no user name (a container with an unnamed uid)
        actor = "cli"

    def record(w: StoreWriter, done: UnloadResult) -> None:
        # In the unload's own transaction: the entry commits with the removal or not at all.
        audit.record(w, actor=None, action="unload", object_type="load", object_id=str(done.load_id),
                     before=done.as_dict(), after=None, request_id=None, actor_label=actor)

    result = run_unload(_open(store), load_id, on_write=record)
    out.print(
        f"unloaded load {result.load_id} ({result.kind}, {result.file}): {result.rows_removed:,} rows removed, "
        f"{result.rows_restored:,} revised values restored, {result.quarantine_removed:,} quarantined rows removed"
    )
    if as_json:
        _emit_json(result.as_dict())


quarantine_app = typer.Typer(
    help="Rejected rows and why; `uec quarantine purge` deletes those past the retention period.",
    invoke_without_command=True,
)
app.add_typer(quarantine_app, name="quarantine")


@quarantine_app.callback()
def quarantine(
    ctx: typer.Context,
    load: Annotated[int | None, typer.Option(help="Only rows of this load.", min=1)] = None,
    kind: Annotated[str | None, typer.Option(help="Only rows of this kind.")] = None,
    limit: Annotated[int, typer.Option(help="Show at most this many rows.", min=0, max=100_000)] = 50,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show rejected rows and why they were rejected."""
    if ctx.invoked_subcommand is not None:
        return
    from uec.store.queries import quarantine_rows

    total, rows = quarantine_rows(_open(store), load=load, kind=kind, limit=limit)
    t = RichTable(title=f"Quarantine: {total:,} rows" + (f" (first {len(rows)})" if total > len(rows) else ""))
    for c in ("load", "kind", "row", "reason", "raw"):
        t.add_column(c, overflow="fold")
    for r in rows:
        t.add_row(str(r["load_id"]), r["kind"], str(r["row_number"] or ""), r["reason"], (r["raw"] or "")[:200])
    out.print(t)
    if as_json:
        _emit_json({"total": total, "rows": rows})


@quarantine_app.command("purge")
def quarantine_purge(
    older_than: Annotated[int | None, typer.Option(
        "--older-than", min=0, max=36_500,
        help="Delete rejected rows of loads older than this many days (default: the retention setting, "
             "UEC_QUARANTINE_RETENTION_DAYS, 90).")] = None,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Delete rejected rows past the retention period (loads keep their counts)."""
    from uec.ingest import purge_quarantine, retention_days

    days = retention_days() if older_than is None else older_than
    n = purge_quarantine(_open(store), days, actor=cli_actor())
    out.print(f"purged {n:,} rejected rows of loads older than {days} days")
    if as_json:
        _emit_json({"purged": n, "older_than_days": days})


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
    import pyarrow as pa
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
    if output.is_dir():
        raise UecError(f"--output {output} is a folder; give a file name such as {output / (kind + '.' + fmt.value)}")
    s = _open(store)
    if kind == "audit":
        from uec.access.schema import ensure_access_schema

        ensure_access_schema(s)
    from uec.store.queries import table_arrow

    data = table_arrow(s, table_name, cols, "id" if kind == "audit" else None)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        if fmt is ExportFormat.parquet:
            pq.write_table(data, output)
        else:
            from uec.csvsafe import neutralise_table

            # What leaves as CSV may be opened in a spreadsheet: no cell may be a formula.
            pacsv.write_csv(neutralise_table(data), output)
    except (OSError, pa.ArrowException) as exc:
        why = getattr(exc, "strerror", None) or _one_line(str(exc))
        raise UecError(f"cannot write {output}: {why}") from None
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
    from uec.store.queries import bookkeeping_counts, time_spans

    s = _open(store)
    counts = s.counts()
    spans = time_spans(s)
    kept = bookkeeping_counts(s)
    loads, quarantined = kept["loads"], kept["quarantine"]
    grid = RichTable(title=f"Store {s.display_url} ({s.engine})")
    for c in ("table", "rows", "first", "last"):
        grid.add_column(c, justify="right" if c == "rows" else "left")
    for name, n in counts.items():
        span = spans.get(name, {})
        grid.add_row(name, f"{n:,}", _local(span.get("first")), _local(span.get("last")))
    out.print(grid)
    out.print(f"loads: {loads:,}   quarantined rows: {quarantined:,}")
    if as_json:
        _emit_json({
            "store": s.display_url, "engine": s.engine, "tables": counts, "spans": spans,
            "loads": int(loads), "quarantined": int(quarantined),
        })


@app.command()
def demo(
    seed: Annotated[int, typer.Option(
        help="Random seed: the same seed and end date give the same data.", min=0, max=2**32 - 1)] = 42,
    # Ten years: the calibration is for recent years, and more would only take minutes to refuse later.
    days: Annotated[int, typer.Option(help="Days of events to generate.", min=1, max=3660)] = 730,
    end: Annotated[str | None, typer.Option(help="Last day (YYYY-MM-DD); default yesterday.")] = None,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
    generator: Annotated[str, typer.Option(
        help="How events are made: 'model' (the whole-system simulation, waits respond to crowding) "
             "or 'fast' (the formula generator).")] = "model",
    quiet: Annotated[bool, typer.Option(
        "--quiet", help="No progress bar (also off with --json or when stderr is not a terminal).")] = False,
) -> None:
    """Build the seeded demo ICS (about 1.2 million people) into the store."""
    try:
        end_day = date.fromisoformat(end) if end else None
    except ValueError:
        raise UecError(f"--end {end!r} is not a date; use YYYY-MM-DD") from None
    from uec.ingest.validate import EARLIEST_YEAR

    if end_day is not None and not date(EARLIEST_YEAR, 1, 1) + timedelta(days=days) <= end_day <= date.today():
        raise UecError(f"--end {end} must be between {EARLIEST_YEAR} plus --days and today")
    from uec.demo import GENERATORS, build_demo

    if generator not in GENERATORS:
        raise UecError(f"--generator must be one of {', '.join(GENERATORS)}, not {generator!r}")
    s = _open(store)
    if any(s.counts().values()):
        raise UecError(f"store {s.display_url} already holds data; give an empty --store for the demo")
    with _progress(not (as_json or quiet) and err.is_terminal, "demo ICS") as report:
        summary = build_demo(s, seed=seed, days=days, end=end_day, progress=report, generator=generator,
                             actor=cli_actor())
    info = summary.as_dict() if hasattr(summary, "as_dict") else dict(vars(summary))
    out.print(f"demo ICS built in {s.display_url}: " + ", ".join(f"{k} {v:,}" for k, v in _row_counts(info).items()))
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


def first_forecast(store: Store, report: Any = None) -> tuple[int, str]:
    """For ``serve --demo-if-empty``: a quick first forecast of every series (the seasonal naive
    benchmark, no backtests: seconds, where the default model takes minutes), so pages have a forecast
    at once, and a full ``forecast_refresh`` job queued for the worker to replace it. The number of
    series forecast and the job's id."""
    from uec.forecast.runs import forecast_store_series, save_runs
    from uec.forecast.series import available_series
    from uec.jobs import submit

    ids = [x.series_id for x in available_series(store)]
    done: list[str] = []

    def tick(series_id: str) -> None:
        done.append(series_id)
        if report is not None:
            report(f"{len(done)} of {len(ids)} series", len(done) / max(len(ids), 1))

    runs = forecast_store_series(store, ids, model="snaive", backtest_origins=0, progress=tick, save=False)
    save_runs(store, runs, actor=cli_actor())
    job = submit(store, "forecast_refresh", {}, actor=cli_actor())
    return sum(len(r.series) for r in runs), job.id


@app.command()
def serve(
    store: StoreOpt = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    demo_if_empty: Annotated[bool, typer.Option(help="Build the demo ICS first if the store is empty.")] = False,
    workers: Annotated[int | None, typer.Option(
        help="Web server processes (default: $UEC_WEB_WORKERS, else one per core).")] = None,
    worker: Annotated[bool, typer.Option(
        help="Also run `uec worker` (scenario runs, forecast refreshes) beside the server, stopped with it.")] = True,
) -> None:
    """Run the web app (pages, JSON/CSV siblings, API and its docs at /docs) and a job worker."""
    import socket

    from uec.config import get_settings
    from uec.store import resolve_store_url

    url = resolve_store_url(store)
    n = workers if workers is not None else (get_settings().web_workers or os.cpu_count() or 1)
    if n < 1:
        raise UecError(f"--workers must be at least 1, not {n}")
    s = _open(url)
    _stop_if_interrupted()
    built = False
    if demo_if_empty and not any(s.counts().values()):
        err.print("The store is empty: building the demo ICS first (once).")
        demo(seed=42, days=730, end=None, store=url, as_json=False)
        built = True
        try:
            with _progress(err.is_terminal, "first forecast") as report:
                n_series, job_id = first_forecast(s, report)
            err.print(f"First forecast saved for {n_series} series (seasonal naive); the full refresh is queued "
                      f"as job {job_id} for the worker.")
        except UecError as exc:  # the server is still worth starting: say what to run later
            err.print(f"note: no first forecast ({exc}); run `uec forecast refresh` once the store has data")
    import errno

    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except (OSError, UnicodeError):
        raise UecError(f"cannot listen on {host}:{port}: {host!r} is not an address of this machine") from None
    with socket.socket(family) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise UecError(
                    f"cannot listen on {host}:{port}: the port is in use; choose another with --port") from None
            raise UecError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    if demo_if_empty and (help_text := demo_sign_in(s, built, f"http://{host}:{port}")):
        err.print(help_text, markup=False, highlight=False)
    err.print(f"UEC Resilience on http://{host}:{port} (store {s.display_url}, {n} web process{'es' if n > 1 else ''}"
              f"{', job worker' if worker else ''}); Ctrl+C to stop.")
    _serve_processes(url, host, port, n, worker)


def _stop_if_interrupted() -> None:
    """Stop (KeyboardInterrupt) if a Ctrl+C arrived whose own KeyboardInterrupt was swallowed on its
    way, e.g. by pydantic-core while ``uec.config`` was imported (see :mod:`uec.interrupts`)."""
    from uec import interrupts

    if interrupts.interrupted():
        raise KeyboardInterrupt


def _serve_processes(url: str, host: str, port: int, n: int, worker: bool) -> None:
    """Uvicorn with ``n`` processes, and ``uec worker`` as a child that stops when the server does.

    Ctrl+C (SIGINT) or SIGTERM stops everything at any moment, start-up included: a signal that
    arrived earlier but whose KeyboardInterrupt was swallowed stops it before any process starts, and
    one that arrives before uvicorn has installed its own handlers is held and handed to it. Web
    processes get a bounded time to finish their requests.
    """
    import signal
    import subprocess

    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from uec import interrupts
    from uec.config import get_settings

    # Uvicorn's worker processes build the app themselves (create_app with no argument): they find
    # the store in UEC_STORE. Jobs are run by the worker, not by the web processes.
    os.environ["UEC_STORE"] = url
    os.environ["UEC_WEB_RUNS_JOBS"] = "false"
    get_settings.cache_clear()
    # Held from here until uvicorn takes over, never raised: a KeyboardInterrupt raised wherever
    # start-up happened to be may be swallowed (as one was in pydantic-core: the server then ran on)
    # or leave the worker child behind. A signal recorded earlier counts as held.
    early: list[int] = [signal.SIGINT] if interrupts.interrupted() else []
    server: uvicorn.Server | None = None  # the single-process server, once it exists

    def hold(signum: int, _frame: object) -> None:
        early.append(signum)
        interrupts.record(signum)
        if server is not None:
            server.should_exit = True  # it stops as soon as it has started

    previous = {sig: signal.signal(sig, hold) for sig in (signal.SIGINT, signal.SIGTERM)}
    child = None
    try:
        if early:
            return
        if worker:
            child = subprocess.Popen(
                [sys.executable, "-m", "uec", "worker", "--store", url, "--parent-pid", str(os.getpid())]
            )
        # No access log (a line per request costs more than a cached page; the audit trail records
        # what matters); httptools and uvloop, the fast parser and event loop uvicorn picks when
        # installed; at most 10 s for open requests once asked to stop.
        options: dict[str, Any] = {"host": host, "port": port, "log_level": "warning", "access_log": False,
                                   "http": "auto", "loop": "auto", "timeout_graceful_shutdown": 10}
        if early:
            return
        if n == 1:
            from uec.web import create_app

            server = uvicorn.Server(uvicorn.Config(create_app(url), **options))
            # The server installs its own handlers once it runs; until then ours tells it to stop.
            server.should_exit = bool(early)
            server.run()
        else:
            config = uvicorn.Config("uec.web:create_app", factory=True, workers=n, **options)
            sock = config.bind_socket()
            supervisor = Multiprocess(config, sockets=[sock])  # installs its own signal handlers
            supervisor.signal_queue.extend(early)  # a signal held during start-up stops it at once
            try:
                supervisor.run()
            finally:
                sock.close()
    finally:
        for sig, handler in previous.items():
            if handler is not None:  # None: a handler set outside Python, which cannot be put back
                signal.signal(sig, handler)
        if child is not None:
            child.terminate()
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


@app.command()
def ping(
    url: Annotated[str, typer.Option(help="Base URL of a running `uec serve`.")] = "http://127.0.0.1:8000",
    as_json: JsonOpt = False,
) -> None:
    """Check that a running web app answers."""
    import urllib.error
    import urllib.request

    # The standard library, not httpx: httpx is a test dependency and `uec ping` must work from a
    # fresh install.
    base = url.rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise UecError(f"--url {url!r} is not an http:// or https:// URL")
    try:
        with urllib.request.urlopen(f"{base}/api/health", timeout=5) as r:
            status, body = r.status, r.read()
    except urllib.error.HTTPError as exc:
        status, body = exc.code, b""
    except (urllib.error.URLError, OSError, ValueError):
        raise UecError(f"no UEC server answers at {url}: start one with `uec serve`") from None
    if status != 200:
        raise UecError(f"the server at {url} answered {status}; is it a UEC Resilience server?")
    try:
        health = json.loads(body)
    except ValueError:
        raise UecError(f"the server at {url} did not answer JSON; is it a UEC Resilience server?") from None
    out.print(f"{url} is up")
    if as_json:
        _emit_json({"url": url, "ok": True, **(health if isinstance(health, dict) else {})})


@docs_app.command("contract")
def docs_contract(
    output: Annotated[Path | None, typer.Option(help="Write to this file instead of printing.")] = None,
) -> None:
    """The event contract reference (docs/reference/contract.md)."""
    _write_doc(reference_markdown() + "\n", output)


@docs_app.command("standards")
def docs_standards(
    output: Annotated[Path | None, typer.Option(help="Write to this file instead of printing.")] = None,
) -> None:
    """The catalogue of national standards (docs/reference/standards.md)."""
    from uec.standards.reference import reference_markdown as standards_markdown

    _write_doc(standards_markdown(), output)


def _write_doc(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UecError(f"cannot write {output}: {exc.strerror or exc}") from None


# --- background jobs (uec.jobs): `uec worker` and `uec jobs` -------------------------------------

jobs_app = typer.Typer(help="Background jobs: scenario runs and forecast refreshes.", no_args_is_help=True)
app.add_typer(jobs_app, name="jobs")


@app.command()
def worker(
    store: StoreOpt = None,
    once: Annotated[bool, typer.Option("--once", help="Run at most one queued job, then stop.")] = False,
    poll: Annotated[float | None, typer.Option(
        help="Seconds between looks at an empty queue (default: $UEC_JOB_POLL_SECONDS or 1).", min=0.05)] = None,
    parent_pid: Annotated[int | None, typer.Option(
        help="Stop when this process (the server that started the worker) has gone.", hidden=True)] = None,
) -> None:
    """Run queued jobs (scenario runs, forecast refreshes) until stopped with Ctrl+C."""
    import signal

    from uec.jobs.worker import run_worker

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt  # unwinds the job under way, which puts it back in the queue

    signal.signal(signal.SIGTERM, stop)
    ran = run_worker(store, once=once, poll=poll, parent_pid=parent_pid, report=lambda text: err.print(text))
    if once:
        out.print(f"ran {ran} job{'s' if ran != 1 else ''}")


def _job_row(j: Any) -> list[str]:
    progress = "" if j.progress is None else f"{j.progress:.0%}"
    return [j.id, j.kind, j.state, j.owner or "", _local(j.created_at), progress, j.error or j.message or ""]


@jobs_app.command("list")
def jobs_list(
    owner: Annotated[str | None, typer.Option(help="Only this person's jobs.")] = None,
    kind: Annotated[str | None, typer.Option(help="Only jobs of this kind.")] = None,
    state: Annotated[str | None, typer.Option(help="Only jobs in this state.")] = None,
    limit: Annotated[int, typer.Option(help="Show at most this many jobs.", min=1)] = 50,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Jobs, newest first."""
    from uec.jobs import list_jobs

    jobs = list_jobs(_open(store), owner=owner, kind=kind, state=state, limit=limit)
    t = RichTable(title=f"Jobs ({len(jobs)})")
    t.add_column("id", no_wrap=True)  # people copy it into `uec jobs show`
    for c in ("kind", "state", "owner", "queued", "progress", "message"):
        t.add_column(c, overflow="fold")
    for j in jobs:
        t.add_row(*_job_row(j))
    out.print(t)
    if as_json:
        _emit_json({"jobs": [j.as_dict() for j in jobs]})


@jobs_app.command("show")
def jobs_show(
    job_id: Annotated[str, typer.Argument(help="The job's id.")],
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One job: its state, progress, message, error and result."""
    from uec.jobs import get_job

    j = get_job(_open(store), job_id)
    if j is None:
        raise UecError(f"there is no job with id {job_id!r}")
    for k, v in j.as_dict().items():
        out.print(f"{k}: {json.dumps(v) if isinstance(v, dict) else ('' if v is None else v)}")
    if as_json:
        _emit_json(j.as_dict())


@jobs_app.command("cancel")
def jobs_cancel(
    job_id: Annotated[str, typer.Argument(help="The job's id.")],
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Cancel a queued job, or ask a running one to stop at its next step."""
    from uec.jobs import cancel

    j = cancel(_open(store), job_id, by=os.environ.get("USER") or None, actor=cli_actor())
    out.print(f"job {j.id}: {j.state}; {j.message}")
    if as_json:
        _emit_json(j.as_dict())


@jobs_app.command("submit")
def jobs_submit(
    kind: Annotated[str, typer.Argument(
        help="The kind of job: scenario_run, forecast_refresh, escalation_projection or escalation_try.")],
    params: Annotated[str, typer.Option(help='The job\'s parameters as JSON, e.g. \'{"reps": 5}\'.')] = "{}",
    owner: Annotated[str | None, typer.Option(help="Who the job is for (counts against their limit).")] = None,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Queue a job for `uec worker` (or the worker `uec serve` runs)."""
    from uec.jobs import submit

    try:
        parsed = json.loads(params)
    except ValueError as exc:
        raise UecError(f"--params is not JSON: {exc}") from None
    j = submit(_open(store), kind, parsed, owner=owner, actor=cli_actor())
    out.print(f"queued job {j.id} ({j.kind})")
    if as_json:
        _emit_json(j.as_dict())


def _mount_optional() -> None:
    # Capabilities that arrive as their own sub-applications, imported when their command runs.
    mount_lazy(app, "forecast", "uec.forecast.cli:app", help="Forecast demand and occupancy; backtest models.")
    standards_help = "Compute national standards for a site, organisation or the whole ICS."
    mount_lazy(app, "standards", "uec.standards.cli:app", help=standards_help)
    # The command's first name, kept for one release (CHANGELOG.md); hidden from the help.
    mount_lazy(app, "kpi", "uec.standards.cli:app", hidden=True, deprecated=True,
               help="Deprecated: use `uec standards`.")


_mount_optional()
app.command("simulate")(simulate_command)

# Escalation (issue 13): OPEL scores and levels; `uec docs escalation` is the same page as `uec escalation docs`.
mount_lazy(app, "escalation", "uec.escalation.cli:app",
           help="OPEL escalation: scores and levels computed from the store, with why.")
mount_lazy(docs_app, "escalation", "uec.escalation.cli:docs_command",
           help="The framework reference page (docs/reference/escalation.md).")


def _mount_access() -> None:
    # People, API tokens and the audit trail (uec.access).
    mount_lazy(app, "users", "uec.access.cli:users_app",
               help="People: add users, give roles, disable, set passwords, demo users.")
    mount_lazy(app, "tokens", "uec.access.cli:tokens_app", help="API tokens for machine feeds: create, list, revoke.")
    mount_lazy(app, "audit", "uec.access.cli:audit_app", help="The audit trail: list, verify the hash chain, export.")


_mount_access()

# Live data in (issue 13 item 8): `uec watch DIR` loads files dropped into a folder (imported when run).
mount_lazy(app, "watch", "uec.feeds.cli:watch_command",
           help="Load files dropped into FOLDER through the same validation, quarantine and atomic load as "
                "`uec ingest`.")


def _one_line(text: str) -> str:
    return " ".join(part.strip() for part in text.strip().splitlines() if part.strip())


def _fail(message: str) -> NoReturn:
    from uec.store import mask_secrets

    # Secrets are masked in every error: a driver's message can quote the URL it was given.
    sys.stderr.write(f"error: {mask_secrets(_one_line(message))}\n")
    sys.exit(2)


def _command_line_errors() -> tuple[type[Exception], ...]:
    """What the parser raises for a bad command line: Typer's own (it carries its copy of Click
    since 0.20) and Click's, for a Typer that still uses Click."""
    kinds: list[type[Exception]] = [typer.TyperException] if hasattr(typer, "TyperException") else []
    try:
        import click

        kinds.append(click.ClickException)
    except ImportError:  # pragma: no cover - Typer without Click
        pass
    return tuple(kinds)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, turning every user error (usage errors too) into one line and exit 2."""
    from uec import interrupts

    # `python -m uec` installed it before its imports; the `uec` script comes straight here.
    interrupts.install()
    try:
        code = app(args=argv, prog_name="uec", standalone_mode=False)
    except _command_line_errors() as exc:
        ctx = getattr(exc, "ctx", None)
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        if type(exc).__name__ == "NoArgsIsHelpError":
            # `uec` or `uec docs` alone: the help is what was asked for, on stdout; the error line says so.
            sys.stdout.write(message + "\n")
            _fail("missing command: choose one of the commands above")
        where = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
        _fail(message.rstrip(".") + where)
    except UecError as exc:
        _fail(str(exc))
    except (KeyboardInterrupt, typer.Abort):
        err.print("interrupted")
        sys.exit(130)
    except Exception as exc:  # a bug: say so in one line, keep the traceback for those who ask
        if interrupts.interrupted():
            # Ctrl+C turned into another error on its way, e.g. DuckDB's "Query interrupted".
            err.print("interrupted")
            sys.exit(130)
        if os.environ.get("UEC_DEBUG"):
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        from uec.store import mask_secrets

        sys.stderr.write(mask_secrets(
            f"error: unexpected failure ({type(exc).__name__}: {first}); "
            "rerun with UEC_DEBUG=1 for details and report it\n"
        ))
        sys.exit(1)
    # A command that ends with typer.Exit(code) returns its code here.
    if isinstance(code, int) and code:
        sys.exit(code)
