"""``uec simulate SCENARIO``: run a scenario against its baseline and print the comparison.

Each standard the simulated events support, for the whole ICS over the reported days: the
baseline's and the scenario's mean with 95% intervals across replications, and the difference
(scenario minus baseline, paired by replication). ``--json`` prints one JSON object as the last
line. The run is saved in the store (``--store``) when the run store is available; ``--no-save``
skips it.

>>> from typer.testing import CliRunner
>>> import typer
>>> app = typer.Typer()
>>> _ = app.command()(simulate_command)
>>> result = CliRunner().invoke(app, ["no-such-scenario"])
>>> result.exit_code, type(result.exception).__name__
(1, 'UecError')
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from uec.errors import UecError
from uec.system.types import Comparison, Interval

__all__ = ["comparison_dict", "simulate_command"]

# The model (numba, scipy, the standards engine) is imported when the command runs, not when the
# CLI starts, so other commands stay quick.
DEFAULT_DAYS = 28

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def _num(x: float) -> float | None:
    return None if math.isnan(x) else x


def _interval(i: Interval) -> dict[str, float | None]:
    return {"mean": _num(i.mean), "low": _num(i.low), "high": _num(i.high)}


def comparison_dict(c: Comparison) -> dict[str, Any]:
    """A comparison as plain JSON-ready data (NaN becomes ``None``).

    >>> import datetime as dt
    >>> from uec.system.types import Scenario
    >>> t = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    >>> comparison_dict(Comparison(Scenario("x"), 2, 1, 7.0, t, t, ()))["scenario"]["name"]
    'x'
    """
    s = c.scenario
    return {
        "scenario": {"name": s.name, "description": s.description, "baseline": s.baseline, "changes": dict(s.changes)},
        "reps": c.reps, "seed": c.seed, "days": c.days,
        "started_at": c.started_at.isoformat(), "finished_at": c.finished_at.isoformat(),
        "standards": [
            {"standard": r.standard_id, "title": r.title, "unit": r.unit, "higher_is_better": r.higher_is_better,
             "baseline": _interval(r.baseline), "scenario": _interval(r.scenario),
             "difference": _interval(r.difference)}
            for r in c.standards
        ],
    }


def _fmt(value: float, unit: str) -> str:
    if math.isnan(value):
        return "-"
    if unit == "proportion":
        return f"{100 * value:.1f}%"
    if unit in ("count", "beds"):  # whole things: a mean of them to the nearest whole one
        return f"{round(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"


def _ci(i: Interval, unit: str) -> str:
    """``mean ± half-width`` for a symmetric interval, ``mean (low to high)`` for one kept inside its
    unit's range (asymmetric).

    >>> _ci(Interval(5.0, 4.0, 6.0), "minutes"), _ci(Interval(2.0, 0.5, 8.0), "count")
    ('5.00 ± 1.00', '2 (0 to 8)')
    """
    if math.isnan(i.low):
        return _fmt(i.mean, unit)
    if math.isclose(i.high - i.mean, i.mean - i.low, rel_tol=1e-6, abs_tol=1e-12):
        return f"{_fmt(i.mean, unit)} ± {_fmt((i.high - i.low) / 2, unit)}"
    return f"{_fmt(i.mean, unit)} ({_fmt(i.low, unit)} to {_fmt(i.high, unit)})"


def _verdict(r: Any) -> str:
    d = r.difference
    if r.higher_is_better is None or math.isnan(d.low) or d.low <= 0 <= d.high:
        return ""
    better = (d.mean > 0) == r.higher_is_better
    return "better" if better else "worse"


@contextmanager
def _bar(enabled: bool, title: str) -> Iterator[Callable[[int, int], None]]:
    if not enabled:
        yield lambda done, total: None
        return
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("replications"), TimeElapsedColumn(), TimeRemainingColumn(),
                  console=err, transient=True) as bar:
        task = bar.add_task(title, total=None)

        def report(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield report


def _executor(dask: str | None, processes: int | None) -> tuple[Any, Callable[[], None]]:
    if dask:
        try:
            from distributed import Client
        except ImportError:  # pragma: no cover - dask[distributed] is a dependency
            raise UecError("--dask needs the distributed package") from None
        try:
            client = Client(dask, timeout="10s")  # type: ignore[no-untyped-call]
        except OSError as exc:
            raise UecError(f"cannot reach the Dask scheduler at {dask}: {exc}") from None
        return client, client.close
    if processes == 1:
        return None, lambda: None
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(max_workers=processes)
    return pool, lambda: pool.shutdown()


def _save(store: str | None, c: Comparison) -> str | None:
    try:
        from uec.system import runs
    except ImportError:
        err.print("note: the run was not saved (run storage is not installed)")
        return None
    from uec.access.audit import cli_actor
    from uec.store import open_store

    return runs.save_run(open_store(store), c, actor=cli_actor())


def _base_params(store: str | None, start: str | None, estimate: bool, from_now: bool) -> Any:
    """The baseline's root: the demo ICS on ``start``'s days, estimated from the store, or the demo's own."""
    if start is not None:
        if from_now or estimate:
            raise UecError("--start is for the demo ICS's own days; it cannot go with --from-now or --estimate")
        import datetime as dt

        from uec.system.params import demo_params_from

        try:
            return demo_params_from(dt.date.fromisoformat(start))
        except ValueError:
            raise UecError(f"--start {start!r} is not a date (YYYY-MM-DD)") from None
    if estimate:
        from uec.store import open_store
        from uec.system.estimate import estimate_params

        return estimate_params(open_store(store))
    return None


def simulate_command(
    scenario: Annotated[str, typer.Argument(
        help="Scenario YAML file, or the name of a shipped example (default: baseline, which with "
             "--from-now projects the system as it is).")] = "baseline",
    reps: Annotated[int, typer.Option("--reps", help="Replications of baseline and scenario each.")] = 10,
    seed: Annotated[int | None, typer.Option("--seed", help="Root seed (default: fresh, printed).")] = None,
    days: Annotated[int, typer.Option("--days", help="Days reported after the warm-up.")] = DEFAULT_DAYS,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object as the last line.")] = False,
    dask: Annotated[str | None, typer.Option(
        "--dask", help="Run on the Dask cluster at this scheduler address.")] = None,
    processes: Annotated[int | None, typer.Option(
        "--processes", help="Local processes (default: every core; 1 runs here, serially).")] = None,
    store: Annotated[str | None, typer.Option(
        "--store", help="Store to save the run in (default: $UEC_STORE or data/uec.duckdb).")] = None,
    save: Annotated[bool, typer.Option("--save/--no-save", help="Save the run in the store.")] = True,
    from_now: Annotated[bool, typer.Option(
        "--from-now", help="Start from the store's current state (patients in EDs and beds, crews waiting).")] = False,
    hours: Annotated[float | None, typer.Option(
        "--hours", help="With --from-now: hours to project (default 72).")] = None,
    estimate: Annotated[bool, typer.Option(
        "--estimate", help="Estimate demand and flow from the store's events instead of the demo ICS.")] = False,
    quiet: Annotated[bool, typer.Option(
        "--quiet", help="No progress bar (also off with --json or when stderr is not a terminal).")] = False,
    start: Annotated[str | None, typer.Option(
        "--start", help="Simulate the days from this date (YYYY-MM-DD) on the local clock, as a demo store "
                        "holds them, so the baseline can be set beside the store's observed standards.")] = None,
) -> None:
    """Run a scenario against its baseline; print each standard with 95% intervals and the difference."""
    from uec.system.scenario import load_scenario, run_scenario

    s = load_scenario(scenario)
    if reps < 1:
        raise UecError("--reps must be at least 1")
    if days < 1 or days > 3650:
        raise UecError("--days must be between 1 and 3650")
    if processes is not None and processes < 1:
        raise UecError("--processes must be at least 1")
    start_state = None
    run_days: float = days
    span = f"{days} days"
    if hours is not None and not from_now:
        raise UecError("--hours needs --from-now")
    if from_now:
        from uec.store import open_store
        from uec.system.state import current_state

        h = 72.0 if hours is None else hours
        if not 0 < h <= 24 * 365:
            raise UecError("--hours must be between 0 and 8760")
        start_state = current_state(open_store(store))
        run_days = h / 24.0
        span = f"{h:g} hours from {start_state.as_of.isoformat()}"
        if not as_json:
            err.print(start_state.summary_text())
    base = _base_params(store, start, estimate, from_now)
    if start is not None:
        span = f"{days} days from {start}"
    executor, close = _executor(dask, processes)
    try:
        with _bar(not (as_json or quiet) and sys.stderr.isatty(), f"simulating {s.name}") as report:
            c = run_scenario(s, reps=reps, seed=seed, executor=executor, progress=report, days=run_days,
                             start_state=start_state, base=base)
    finally:
        close()
    run_id = _save(store, c) if save else None
    if as_json:
        obj = comparison_dict(c)
        obj["run_id"] = run_id
        print(json.dumps(obj))
        return
    if not s.changes:
        # Nothing changed: there is no comparison to make, only the baseline's projection.
        t = Table(title=f"projection: {s.description or s.name} - {reps} replications, {span}, seed {c.seed}",
                  caption="mean and 95% confidence interval across replications, whole ICS")
        t.add_column("standard", no_wrap=True)
        t.add_column("projected", overflow="fold")
        for r in c.standards:
            t.add_row(r.standard_id, _ci(r.baseline, r.unit))
    else:
        t = Table(title=f"{s.name}: {s.description or 'scenario'} - {reps} replications, {span}, seed {c.seed}",
                  caption="mean and 95% confidence interval across replications, whole ICS; "
                          "difference = scenario - baseline, paired by replication")
        t.add_column("standard", no_wrap=True)
        for col in ("baseline", "scenario", "difference (95% CI)"):
            t.add_column(col, overflow="fold")
        t.add_column("", no_wrap=True)
        for r in c.standards:
            t.add_row(r.standard_id, _ci(r.baseline, r.unit), _ci(r.scenario, r.unit),
                      _ci(r.difference, r.unit), _verdict(r))
    out.print(t)
    if run_id:
        out.print(f"saved as run {run_id}")
