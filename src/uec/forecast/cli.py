"""``uec forecast``: rolling-origin backtests, forecast runs saved to the store, and the bed
occupancy projection, from the command line.

The main CLI mounts :data:`app` as ``uec forecast``. Mistakes a user can make (a missing file, bad
columns or dates, an unknown model) print one line to stderr and exit with code 2.

>>> from typer.testing import CliRunner
>>> CliRunner().invoke(app, ["backtest", "no-such.csv", "--freq", "daily", "--horizon", "7",
...     "--every", "7", "--test-from", "2019-01-01", "--test-to", "2019-02-01"]).exit_code
2
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from uec.errors import UecError

if TYPE_CHECKING:
    from concurrent.futures import Executor

    from uec.forecast.backtest import BacktestResult
    from uec.forecast.occupancy import OccupancyProjection
    from uec.forecast.runs import RunSummary
    from uec.store import Store

# The forecasting modules import pandas, SciPy, statsmodels and LightGBM, which take seconds: each
# command imports what it needs when it runs, so `uec forecast --help` stays instant (issue 15).

#: The model names (:data:`uec.forecast.models.MODEL_NAMES`, checked equal by a test), written out
#: so the help text needs no model imported.
MODEL_CHOICES: tuple[str, ...] = (
    "snaive", "empirical", "glm", "poisson", "ets", "arima", "mstl", "lgbm", "ensemble", "auto",
)
#: The default model (:data:`uec.forecast.occupancy.DEFAULT_MODEL`, checked equal by a test).
DEFAULT_MODEL = "auto"
#: :data:`uec.forecast.backtest.METRICS`, likewise.
METRICS: tuple[str, ...] = (
    "mase", "rmsse", "smape", "rmse", "mae", "pinball", "crps", "coverage_80", "coverage_95", "quantile_bias",
    "signed_quantile_bias",
)
#: :data:`uec.forecast.reconcile.METHODS` and ``auto`` (checked equal by a test).
RECONCILE_CHOICES: tuple[str, ...] = (
    "bottom_up", "ols", "wls_struct", "wls_var", "mint_shrink", "mint_sample", "auto",
)
#: The library's default reconciliation (:func:`uec.forecast.reconcile.reconcile_backtest`).
DEFAULT_RECONCILE = "mint_shrink"

__all__ = ["app"]

app = typer.Typer(
    name="forecast",
    help="Forecast demand and occupancy; backtest models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _group() -> None:
    """Forecast demand and backtest forecasting models."""
    # A callback keeps every command a subcommand, whatever their number.


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message.splitlines()[0] if message else 'failed'}", err=True)
    return typer.Exit(code=2)


_LABELS = {
    "mase": "MASE",
    "rmsse": "RMSSE",
    "smape": "sMAPE",
    "rmse": "RMSE",
    "mae": "MAE",
    "pinball": "pinball",
    "crps": "CRPS",
    "coverage_80": "cov 80%",
    "coverage_95": "cov 95%",
    "quantile_bias": "q-bias",
    "signed_quantile_bias": "q-bias±",
}


def _shown_steps(horizon: int, season: int) -> set[str]:
    # Long horizons would print hundreds of rows; keep step 1, each whole season and the last.
    if horizon <= 28:
        return {str(s) for s in range(1, horizon + 1)}
    marks = {1, horizon, *range(season, horizon + 1, season)}
    if len(marks) > 30:
        marks = {1, horizon, *range(7 * season, horizon + 1, 7 * season)}
    return {str(s) for s in marks}


def _table(result: BacktestResult, reconciled_by: str | None = None) -> Table:
    sc = result.scorecard
    title = (
        f"{result.model} backtest: {len(result.origins)} origins every {result.every}, "
        f"horizon {result.horizon} ({result.freq})"
    )
    if reconciled_by is not None:
        title += f", reconciled by {reconciled_by}"
    table = Table(title=title)
    table.add_column("series")
    table.add_column("step", justify="right")
    table.add_column("n", justify="right")
    for m in METRICS:
        table.add_column(_LABELS[m], justify="right")
    from uec.forecast.frame import season_length

    shown = _shown_steps(result.horizon, season_length(result.freq)) | {"all"}
    for rec in sc.to_dict(orient="records"):
        if rec["step"] not in shown:
            continue
        cells = [str(rec["unique_id"]), str(rec["step"]), str(rec["n"])]
        cells += [_fmt(rec[m], m) for m in METRICS]
        table.add_row(*cells, end_section=rec["step"] == "all")
    return table


def _fmt(value: Any, metric: str) -> str:
    v = float(value)
    if math.isnan(v):
        return "-"
    if metric.startswith("coverage") or metric.endswith("quantile_bias"):
        return f"{v:.3f}"
    return f"{v:.2f}"


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):
        return _jsonable(value.item())
    return value


def _summary(result: BacktestResult, output: Path | None) -> dict[str, Any]:
    rows = [{k: _jsonable(v) for k, v in rec.items()} for rec in result.scorecard.to_dict(orient="records")]
    return {
        "model": result.model,
        "freq": result.freq,
        "horizon": result.horizon,
        "every": result.every,
        "origins": len(result.origins),
        "first_origin": result.origins[0].isoformat(),
        "last_origin": result.origins[-1].isoformat(),
        "series": int(result.forecasts["unique_id"].nunique()),
        "output": str(output) if output is not None else None,
        "scorecard": rows,
    }


@app.command("backtest")
def backtest_command(
    input_csv: Annotated[
        Path | None, typer.Argument(metavar="[INPUT.csv]", help="CSV with ds, y and optional unique_id (or --series).")
    ] = None,
    freq: Annotated[str | None, typer.Option(help="daily, hourly or monthly (with INPUT.csv).")] = None,
    horizon: Annotated[int, typer.Option(help="Steps forecast from each origin.")] = 0,
    every: Annotated[int, typer.Option(help="Steps between origins (hourly: on the Europe/London clock).")] = 0,
    test_from: Annotated[str, typer.Option(help="First origin, YYYY-MM-DD (hourly: local midnight).")] = "",
    test_to: Annotated[str, typer.Option(help="Last possible origin, YYYY-MM-DD, inclusive.")] = "",
    model: Annotated[str, typer.Option(help=f"One of {', '.join(MODEL_CHOICES)} (monthly series: snaive, empirical, "
                                            "ets, auto).")] = "snaive",
    series: Annotated[
        list[str] | None, typer.Option("--series", help="Backtest this store series instead of a file; repeatable.")
    ] = None,
    store: StoreOpt = None,
    output: Annotated[Path | None, typer.Option(help="Write the forecasts (with actuals) to this CSV.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="End with one JSON object on the last line.")] = False,
    fill_gaps: Annotated[bool, typer.Option("--fill-gaps", help="Treat missing steps as zero demand.")] = False,
    naive_tz: Annotated[str, typer.Option(help="Zone of hourly times written without an offset.")] = "UTC",
    refit_every: Annotated[
        int | None, typer.Option(help="Re-estimate only every N steps, updating in between (default: every origin).")
    ] = None,
    workers: WorkersOpt = 1,
    dask: DaskOpt = None,
    quiet: QuietOpt = False,
    hierarchy: Annotated[
        Path | None,
        typer.Option("--hierarchy", metavar="HIERARCHY.csv",
                     help="CSV of total,part rows: also reconcile the forecasts so the totals add up (INPUT.csv "
                          "only); a total missing from INPUT.csv is added as the sum of its parts."),
    ] = None,
    reconcile: Annotated[
        str | None,
        typer.Option("--reconcile", metavar="METHOD",
                     help=f"With --hierarchy: one of {', '.join(RECONCILE_CHOICES)} (default {DEFAULT_RECONCILE})."),
    ] = None,
) -> None:
    """Rolling-origin backtest of a model on INPUT.csv or store series, scored by horizon step and overall."""
    from uec.forecast.backtest import backtest
    from uec.forecast.models import make_model
    from uec.forecast.parallel import forecast_executor

    try:
        missing = [name for name, v in (("--horizon", horizon), ("--every", every), ("--test-from", test_from),
                                        ("--test-to", test_to)) if not v]
        if missing:
            raise ValueError(f"Missing option(s) {', '.join(missing)}")
        if horizon < 1 or every < 1:
            raise ValueError("--horizon and --every must be at least 1")
        method = _reconcile_method(hierarchy, reconcile, series)
        data, f, note = _backtest_data(input_csv, series, store, freq, fill_gaps, naive_tz)
        chosen = make_model(model, f)
        tree: dict[str, list[str]] | None = None
        added: list[str] = []
        if hierarchy is not None:
            from uec.forecast.reconcile import add_totals, read_hierarchy

            tree = read_hierarchy(hierarchy)
            data, added = add_totals(data, tree)
            if added:
                its = "its" if len(added) == 1 else "their"
                note = "\n".join(x for x in (note, f"added {', '.join(added)} as the sum of {its} parts") if x)
        if note:
            Console(stderr=True, highlight=False).print(note)
        with forecast_executor(workers, dask) as executor, _progress_bar(as_json or quiet) as bar:
            task = bar.add_task("backtest", total=None)

            def tick(done: int, total: int, left: float | None) -> None:
                bar.update(task, completed=done, total=total)

            result = backtest(data, f, horizon, every, test_from, test_to, chosen, refit_every=refit_every,
                              executor=executor, progress=tick)
        comparison: dict[str, Any] | None = None
        base_result = result
        if tree is not None:
            result, comparison = _reconciled(result, tree, method, added)
        if output is not None:
            result.forecasts.to_csv(output, index=False)
    except (ValueError, OSError, UecError) as exc:
        raise _fail(str(exc)) from None
    out = Console(width=None if sys.stdout.isatty() else 160)
    if comparison is not None:
        out.print(_comparison_table(comparison, base_result.model))
        for line in comparison["notes"]:
            out.print(line)
    out.print(_table(result, None if comparison is None else method))
    if as_json:
        summary = _summary(result, output)
        if comparison is not None:
            summary["reconciled"] = comparison
        typer.echo(json.dumps(summary, separators=(",", ":")))


def _reconcile_method(hierarchy: Path | None, reconcile: str | None, series: list[str] | None) -> str:
    """The reconciliation method asked for, checked before any data is read."""
    if hierarchy is None:
        if reconcile is not None:
            raise ValueError("--reconcile needs --hierarchy HIERARCHY.csv")
        return DEFAULT_RECONCILE
    if series:
        # Store series are cut to their latest unbroken stretch one by one, so totals and parts
        # need not cover the same days; hierarchies are read with the CSV input only.
        raise ValueError("--hierarchy works with INPUT.csv, not --series: export the series to a CSV")
    method = DEFAULT_RECONCILE if reconcile is None else reconcile
    if method not in RECONCILE_CHOICES:
        raise ValueError(f"unknown reconciliation method {method!r}: choose from {', '.join(RECONCILE_CHOICES)}")
    return method


#: Compared per total before and after reconciliation (overall rows of the scorecard).
_COMPARED = ("mase", "coverage_80", "coverage_95")


def _reconciled(result: BacktestResult, tree: dict[str, list[str]], method: str,
                added: list[str]) -> tuple[BacktestResult, dict[str, Any]]:
    """The backtest with its forecasts reconciled and rescored (the base mean kept as
    ``base_mean``), and the comparison of each total's scores before and after."""
    from collections import Counter
    from dataclasses import replace

    from uec.forecast.backtest import score
    from uec.forecast.reconcile import reconcile_backtest

    used: dict[Any, str] = {}
    chosen: dict[Any, str] = {}
    base = result.forecasts.assign(base_mean=result.forecasts["mean"])
    fc = reconcile_backtest(base, tree, result.freq, method, used=used, chosen=chosen)
    rec = replace(result, forecasts=fc, scorecard=score(fc, result.scales, result.freq))
    totals = []
    for t in tree:
        rows = {label: sc[(sc["unique_id"] == t) & (sc["step"] == "all")]
                for label, sc in (("base", result.scorecard), ("reconciled", rec.scorecard))}
        entry: dict[str, Any] = {"unique_id": t, "n": int(rows["base"]["n"].iloc[0]) if len(rows["base"]) else 0}
        for label, row in rows.items():  # the same rows are scored both times, so one n
            entry[label] = {m: _jsonable(row[m].iloc[0]) if len(row) else None for m in _COMPARED}
        totals.append(entry)
    notes = []
    fallback = sum(1 for m in used.values() if m != method)
    if fallback:
        notes.append(f"{method}: {fallback} of {len(used)} origins reconciled with ols (fewer than 30 past errors);"
                     " an earlier --test-from gives it a history")
    picks = Counter(chosen.values())
    if picks:
        notes.append("auto chose (origin × horizon week): " + ", ".join(f"{m} {n}" for m, n in picks.most_common()))
    comparison = {"method": method, "hierarchy": tree, "added_totals": added, "origins_ols": fallback,
                  "auto_chosen": dict(picks) or None, "totals": totals, "notes": notes}
    return rec, comparison


def _comparison_table(comparison: dict[str, Any], model: str) -> Table:
    table = Table(title=f"Totals before and after reconciliation by {comparison['method']} ({model} forecasts)")
    table.add_column("total")
    table.add_column("n", justify="right")
    for m in _COMPARED:
        table.add_column(f"{_LABELS[m]} base", justify="right")
        table.add_column(f"{_LABELS[m]} reconciled", justify="right")
    table.add_column("MASE change", justify="right")
    for t in comparison["totals"]:
        cells = [t["unique_id"], str(t["n"])]
        for m in _COMPARED:
            # Three decimals everywhere: reconciliation often moves MASE by less than 0.01.
            cells += ["-" if t[k][m] is None else f"{t[k][m]:.3f}" for k in ("base", "reconciled")]
        b, r = t["base"]["mase"], t["reconciled"]["mase"]
        change = "-" if not b or r is None else f"{r / b - 1:+.1%} " + ("better" if r < b else "worse" if r > b else "")
        table.add_row(*cells, change.strip())
    return table


def _backtest_data(input_csv: Path | None, series: list[str] | None, store: str | None, freq: str | None,
                   fill_gaps: bool, naive_tz: str) -> tuple[Any, Any, str]:
    """The frame to backtest, its frequency and a note on any history left out (gaps in store series)."""
    from uec.forecast.frame import check_freq, read_series_csv

    if (input_csv is None) == (not series):
        raise UecError("give either INPUT.csv or --series ID (from the store), not both or neither")
    if input_csv is not None:
        if freq is None:
            raise UecError("INPUT.csv needs --freq daily, hourly or monthly")
        f = check_freq(freq)
        return read_series_csv(input_csv, f, gaps="zero" if fill_gaps else "error", naive_tz=naive_tz), f, ""
    from uec.forecast.series import latest_stretch, series_frame, series_freq
    from uec.store import open_store

    ids = list(dict.fromkeys(series or []))
    freqs = {series_freq(i) for i in ids}
    if len(freqs) > 1:
        raise UecError(f"the series mix {' and '.join(sorted(freqs))} frequencies: backtest them separately")
    f = check_freq(freqs.pop())
    if freq is not None and check_freq(freq) != f:
        raise UecError(f"--freq {freq} does not match the series, which are {f}")
    full = series_frame(open_store(store), ids)
    absent = sorted(set(ids) - set(full["unique_id"]))
    if absent:
        raise UecError(f"the store has no data for {', '.join(absent)}: see `uec forecast series`")
    data = latest_stretch(full, f)
    note = ""
    if len(data) < len(full):
        first = data.groupby("unique_id")["ds"].min()
        note = "gaps left as gaps (not zero): backtesting from " + ", ".join(
            f"{uid} from {ts:%Y-%m-%d}" for uid, ts in first.items())
    return data, f, note


DaskOpt = Annotated[
    str | None,
    typer.Option(
        "--dask", metavar="ADDRESS", help="Run on this Dask scheduler (tcp://host:8786); same results as serial."
    ),
]
WorkersOpt = Annotated[int, typer.Option(help="Local worker processes (1: serial). Ignored with --dask.")]
QuietOpt = Annotated[bool, typer.Option(
        "--quiet", help="No progress bar (also off with --json or when stderr is not a terminal).")]


def _progress_bar(quiet: bool) -> Any:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TextColumn("left"), TimeRemainingColumn(), console=Console(stderr=True), transient=True,
                    disable=quiet or not sys.stderr.isatty())


StoreOpt = Annotated[
    str | None,
    typer.Option(
        "--store", help="Store: a DuckDB file path or postgresql://… URL (default: $UEC_STORE or data/uec.duckdb)."
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="End with one JSON object on the last line.")]
_MODEL_HELP = f"One of {', '.join(MODEL_CHOICES)} (monthly series: snaive, empirical, ets, auto)."
ModelOpt = Annotated[str, typer.Option(help=_MODEL_HELP)]
HorizonOpt = Annotated[
    int | None, typer.Option(help="Steps to forecast (default: 28 days, 168 hours or 12 months).")]
BacktestOpt = Annotated[
    int | None, typer.Option(help="Backtest origins scored per series, a season apart (default: 4 daily, 1 hourly, "
                                  "2 monthly; 0 skips).")
]


def _console() -> Console:
    return Console(width=None if sys.stdout.isatty() else 160)


def _runs_table(runs: list[RunSummary]) -> Table:
    table = Table(title="Forecast runs saved")
    for col in ("run", "freq", "model", "horizon", "series", "failed", "first step"):
        table.add_column(col, justify="right" if col in ("horizon", "series", "failed") else "left")
    for r in runs:
        table.add_row(r.run_id, r.freq, r.model, str(r.horizon), str(len(r.series)), str(r.n_failed),
                      "" if r.origin is None else r.origin.strftime("%Y-%m-%d %H:%M"))
    return table


def _series_table(runs: list[RunSummary]) -> Table:
    table = Table(title="Series")
    for col in ("series", "model used", "history", "MASE", "cov 80%", "cov 95%", "note"):
        table.add_column(col)
    for r in runs:
        for s in r.series:
            sc = s.scores
            cells = ["-" if sc.get(k) is None else f"{sc[k]:.2f}" for k in ("mase", "coverage_80", "coverage_95")]
            table.add_row(s.unique_id, s.model_used or "-", str(s.n_obs), *cells, s.error or "")
    return table


def _finish(runs: list[RunSummary], as_json: bool, verbose: bool = True) -> None:
    out = _console()
    if verbose:
        out.print(_series_table(runs))
    out.print(_runs_table(runs))
    failed = [s for r in runs for s in r.series if s.error]
    if failed:
        listed = "; ".join(f"{s.unique_id} ({s.error})" for s in failed)
        out.print(f"{len(failed)} series could not be forecast: {listed}")
    if as_json:
        typer.echo(json.dumps({"runs": [r.as_dict() for r in runs]}, separators=(",", ":"), default=str))


@app.command("run")
def run_command(
    series: Annotated[list[str] | None, typer.Option("--series", help="A store series id; repeat for more.")] = None,
    all_series: Annotated[bool, typer.Option("--all", help="Every series the store holds.")] = False,
    model: ModelOpt = DEFAULT_MODEL,
    horizon: HorizonOpt = None,
    input_csv: Annotated[
        Path | None, typer.Option("--input", help="Forecast this CSV (ds, y[, unique_id]) instead of store series.")
    ] = None,
    freq: Annotated[str | None, typer.Option(help="daily, hourly or monthly (with --input).")] = None,
    fill_gaps: Annotated[bool, typer.Option("--fill-gaps", help="With --input: treat missing steps as zero.")] = False,
    backtest_origins: BacktestOpt = None,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
    workers: WorkersOpt = 1,
    dask: DaskOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Fit a model to series and save their forecasts to the store as a run."""
    from uec.forecast.parallel import forecast_executor

    try:
        with forecast_executor(workers, dask) as executor, _progress_bar(as_json or quiet) as bar:
            task = bar.add_task("forecasting", total=None if all_series else len(series or []) or None)

            def tick(uid: str) -> None:
                bar.update(task, advance=1, description=f"forecasting {uid}")

            runs = _run(series, all_series, model, horizon, input_csv, freq, fill_gaps, backtest_origins, store,
                        executor, tick)
    except (ValueError, OSError, UecError) as exc:
        raise _fail(str(exc)) from None
    _finish(runs, as_json)


def _run(series: list[str] | None, all_series: bool, model: str, horizon: int | None, input_csv: Path | None,
         freq: str | None, fill_gaps: bool, backtest_origins: int | None, store: str | None,
         executor: Executor | None, progress: Any = None) -> list[RunSummary]:
    """The runs of ``uec forecast run``, fitted (and saved) with ``executor``."""
    from uec.access.audit import cli_actor
    from uec.forecast.frame import check_freq, read_series_csv
    from uec.forecast.models import make_model
    from uec.forecast.runs import forecast_frame, forecast_store_series, save_run
    from uec.store import open_store

    if input_csv is not None:
        if series or all_series:
            raise UecError("give either --input or --series/--all, not both")
        if freq is None:
            raise UecError("--input needs --freq daily, hourly or monthly")
        f = check_freq(freq)
        make_model(model, f)
        frame = read_series_csv(input_csv, f, gaps="zero" if fill_gaps else "error")
        s = open_store(store)
        run = forecast_frame(frame, f, model=model, horizon=horizon, backtest_origins=backtest_origins,
                             source=input_csv.name, executor=executor)
        if not len(run.values):
            raise UecError("no series could be forecast: " + "; ".join(str(x.error) for x in run.series))
        save_run(s, run, actor=cli_actor())
        runs = [run]
    else:
        if not series and not all_series:
            raise UecError("choose --series ID (repeatable), --all, or --input FILE")
        s = open_store(store)
        runs = forecast_store_series(s, None if all_series else series, model=model, horizon=horizon,
                                     backtest_origins=backtest_origins, save=False, executor=executor,
                                     progress=progress)
        _save_or_fail(s, runs)
    return runs


def _save_or_fail(store: Store, runs: list[RunSummary], action: str = "forecast.run") -> None:
    """Save the runs, unless not one series could be forecast: then say why, series by series."""
    from uec.access.audit import cli_actor
    from uec.forecast.runs import save_runs

    if sum(len(r.values) for r in runs) == 0:
        raise UecError("no series could be forecast: "
                       + "; ".join(f"{x.unique_id}: {x.error}" for r in runs for x in r.series))
    save_runs(store, runs, actor=cli_actor(), action=action)


@app.command("refresh")
def refresh_command(
    model: ModelOpt = DEFAULT_MODEL,
    horizon: HorizonOpt = None,
    backtest_origins: BacktestOpt = None,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
    workers: WorkersOpt = 1,
    dask: DaskOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Refit every series in the store and save the forecasts (for a nightly job).

    Exits with status 2 and one error line when the store cannot be read or written or no series
    can be forecast; series that cannot be forecast on their own are listed in the summary.
    """
    from uec.forecast.parallel import forecast_executor
    from uec.forecast.runs import forecast_store_series
    from uec.forecast.series import available_series
    from uec.store import open_store

    try:
        s = open_store(store)
        ids = [x.series_id for x in available_series(s)]
        if not ids:
            raise UecError("the store has no series to forecast: load data first (uec demo or uec ingest)")
        with forecast_executor(workers, dask) as executor, _progress_bar(as_json or quiet) as bar:
            task = bar.add_task("forecasting", total=len(ids))

            def tick(uid: str) -> None:
                bar.update(task, advance=1, description=f"forecasting {uid}")

            runs = forecast_store_series(s, ids, model=model, horizon=horizon, backtest_origins=backtest_origins,
                                         progress=tick, save=False, executor=executor)
        _save_or_fail(s, runs, "forecast.refresh")
    except (ValueError, OSError, UecError) as exc:
        raise _fail(str(exc)) from None
    _finish(runs, as_json, verbose=False)


@app.command("series")
def series_command(
    kind: Annotated[
        str | None, typer.Option(help="Only series of this kind: arrivals, ambulance, admissions, occupancy, beds, "
                                      "nctr, discharges or returns.")
    ] = None,
    org: Annotated[str | None, typer.Option(help="Only series of this site or organisation code.")] = None,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List the series the store can forecast (ids for --series), with their frequency."""
    from uec.forecast.series import available_series
    from uec.store import open_store

    try:
        found = [x for x in available_series(open_store(store))
                 if (kind is None or x.kind == kind) and (org is None or x.site_code == org)]
    except (ValueError, UecError) as exc:
        raise _fail(str(exc)) from None
    table = Table(title=f"{len(found)} series")
    for col in ("series", "freq", "what"):
        table.add_column(col)
    for x in found:
        table.add_row(x.series_id, x.freq, x.title)
    _console().print(table)
    if as_json:
        typer.echo(json.dumps({"series": [{"series_id": x.series_id, "kind": x.kind, "freq": x.freq,
                                           "org": x.site_code, "title": x.title} for x in found]},
                              separators=(",", ":")))


def _band(b: Any) -> str:
    return f"{b.mean:.0f} ({b.lo80:.0f}–{b.hi80:.0f}; {b.lo95:.0f}–{b.hi95:.0f})"


def _occupancy_tables(p: OccupancyProjection) -> list[Table]:
    tables = []
    for site in p.sites:
        t = Table(title=f"{site.site_code}: beds occupied at midnight (mean, 80% and 95% intervals); "
                        f"{site.current_inpatients} in now, {site.current_nctr} with no criteria to reside")
        for col in ("midnight starting", "occupied", "current patients", "new admissions", "beds open", "free beds",
                    "P(full)"):
            t.add_column(col)
        for m in site.midnights:
            t.add_row(m.date, _band(m.occupied), f"{m.from_current:.0f}", f"{m.from_admissions:.0f}",
                      "-" if m.beds_open is None else str(m.beds_open),
                      "-" if m.free_beds is None else _band(m.free_beds),
                      "-" if m.p_full is None else f"{m.p_full:.0%}")
        tables.append(t)
    nd = Table(title="Next day: admissions, discharges and free beds at its end (mean, 80% and 95% intervals)")
    for col in ("site", "day", "admissions", "discharges", "beds open", "free beds"):
        nd.add_column(col)
    for site in p.sites:
        if site.next_day is None:
            continue
        n = site.next_day
        nd.add_row(site.site_code, n.date, _band(n.admissions), _band(n.discharges),
                   "-" if n.beds_open is None else str(n.beds_open), "-" if n.free_beds is None else _band(n.free_beds))
    tables.append(nd)
    return tables


@app.command("occupancy")
def occupancy_command(
    site: Annotated[list[str] | None, typer.Option("--site", help="A site code; repeat for more.")] = None,
    days: Annotated[int, typer.Option(help="Midnights to project, 1 to 28.")] = 7,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Project from this date or time (default: midnight after the last spell event)."),
    ] = None,
    model: ModelOpt = DEFAULT_MODEL,
    fresh: Annotated[bool, typer.Option("--fresh", help="Refit admissions even if a saved run covers them.")] = False,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Project beds occupied at the next midnights per site, and the next day's capacity."""
    from uec.forecast.runs import occupancy_projection
    from uec.store import open_store

    try:
        s = open_store(store)
        projection = occupancy_projection(s, sites=site or None, days=days, as_of=as_of, model=model, fresh=fresh)
    except (ValueError, UecError) as exc:
        raise _fail(str(exc)) from None
    out = _console()
    out.print(f"As of {projection.as_of}; admissions from {projection.model}; {projection.simulations} simulations.")
    for t in _occupancy_tables(projection):
        out.print(t)
    for note in projection.notes:
        out.print(note)
    if as_json:
        typer.echo(json.dumps(projection.model_dump(), separators=(",", ":")))
