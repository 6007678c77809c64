"""``uec forecast``: rolling-origin backtests from the command line.

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
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from uec.forecast.backtest import METRICS, BacktestResult, backtest
from uec.forecast.frame import check_freq, read_series_csv, season_length
from uec.forecast.models import MODEL_NAMES, make_model

__all__ = ["app"]

app = typer.Typer(
    name="forecast",
    help="Forecast demand and backtest forecasting models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _group() -> None:
    """Forecast demand and backtest forecasting models."""
    # A callback keeps ``backtest`` a subcommand even though it is, for now, the only one.


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
}


def _shown_steps(horizon: int, season: int) -> set[str]:
    # Long horizons would print hundreds of rows; keep step 1, each whole season and the last.
    if horizon <= 28:
        return {str(s) for s in range(1, horizon + 1)}
    marks = {1, horizon, *range(season, horizon + 1, season)}
    if len(marks) > 30:
        marks = {1, horizon, *range(7 * season, horizon + 1, 7 * season)}
    return {str(s) for s in marks}


def _table(result: BacktestResult) -> Table:
    sc = result.scorecard
    title = (
        f"{result.model} backtest: {len(result.origins)} origins every {result.every}, "
        f"horizon {result.horizon} ({result.freq})"
    )
    table = Table(title=title)
    table.add_column("series")
    table.add_column("step", justify="right")
    table.add_column("n", justify="right")
    for m in METRICS:
        table.add_column(_LABELS[m], justify="right")
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
    if metric.startswith("coverage") or metric == "quantile_bias":
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
    input_csv: Annotated[Path, typer.Argument(metavar="INPUT.csv", help="CSV with ds, y and optional unique_id.")],
    freq: Annotated[str, typer.Option(help="daily or hourly.")],
    horizon: Annotated[int, typer.Option(help="Steps forecast from each origin.")],
    every: Annotated[int, typer.Option(help="Steps between origins (hourly: on the Europe/London clock).")],
    test_from: Annotated[str, typer.Option(help="First origin, YYYY-MM-DD (hourly: local midnight).")],
    test_to: Annotated[str, typer.Option(help="Last possible origin, YYYY-MM-DD, inclusive.")],
    model: Annotated[str, typer.Option(help=f"One of {', '.join(MODEL_NAMES)}.")] = "snaive",
    output: Annotated[Path | None, typer.Option(help="Write the forecasts (with actuals) to this CSV.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="End with one JSON object on the last line.")] = False,
    fill_gaps: Annotated[bool, typer.Option("--fill-gaps", help="Treat missing steps as zero demand.")] = False,
    naive_tz: Annotated[str, typer.Option(help="Zone of hourly times written without an offset.")] = "UTC",
) -> None:
    """Rolling-origin backtest of a model on INPUT.csv, scored by horizon step and overall."""
    try:
        f = check_freq(freq)
        chosen = make_model(model, f)
        if horizon < 1 or every < 1:
            raise ValueError("--horizon and --every must be at least 1")
        data = read_series_csv(input_csv, f, gaps="zero" if fill_gaps else "error", naive_tz=naive_tz)
        result = backtest(data, f, horizon, every, test_from, test_to, chosen)
        if output is not None:
            result.forecasts.to_csv(output, index=False)
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise _fail(str(exc)) from None
    out = Console(width=None if sys.stdout.isatty() else 160)
    out.print(_table(result))
    if as_json:
        typer.echo(json.dumps(_summary(result, output), separators=(",", ":")))
