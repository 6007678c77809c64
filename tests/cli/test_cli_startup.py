"""`uec --help` and light commands import no forecasting or simulation library (issue 15, "feels fast").

The import list is what makes start-up slow (pandas, SciPy, statsmodels, numba and LightGBM take
seconds under load), so the tests read ``python -X importtime`` rather than time anything: time is
measured in bench/, never asserted in tests.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer

import uec
from uec.cli import app, docs_app
from uec.cli_lazy import LazyGroup, load

SRC = Path(uec.__file__).resolve().parents[1]

#: Never imported by `uec --help` (the issue's list, and what they bring in).
HEAVY = {"scipy", "statsmodels", "numba", "lightgbm", "pandas", "dask", "sklearn"}
#: Not needed to print the help either: the store's engines and Arrow, the web's templates.
NOT_FOR_HELP = HEAVY | {"duckdb", "pyarrow", "numpy", "jinja2", "psycopg", "fastapi", "starlette"}


def imported(*args: str, cwd: Path) -> set[str]:
    """Top-level packages ``python -X importtime -m uec ARGS`` imports (this checkout's sources), run in ``cwd``."""
    env = {**os.environ, "PYTHONPATH": str(SRC), "UEC_STORE": str(cwd / "uec.duckdb")}
    run = subprocess.run([sys.executable, "-X", "importtime", "-m", "uec", *args], capture_output=True, text=True,
                         env=env, cwd=cwd, timeout=120, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    names = set()
    for line in run.stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


def test_help_imports_no_heavy_library(tmp_path: Path) -> None:
    names = imported("--help", cwd=tmp_path)
    assert "typer" in names  # the parse worked: the list is real
    assert not names & NOT_FOR_HELP, f"`uec --help` imports {sorted(names & NOT_FOR_HELP)}"


@pytest.mark.parametrize("args", [
    ["status", "--help"], ["simulate", "--help"], ["standards", "--help"], ["escalation", "--help"],
    ["users", "--help"], ["jobs", "--help"], ["docs", "contract"], ["docs", "escalation"],
])
def test_light_commands_import_no_forecasting_library(args: list[str], tmp_path: Path) -> None:
    names = imported(*args, cwd=tmp_path)
    assert not names & HEAVY, f"`uec {' '.join(args)}` imports {sorted(names & HEAVY)}"


def test_forecast_help_imports_no_forecasting_library(tmp_path: Path) -> None:
    # `uec forecast --help` and each of its commands' help list the commands and options without
    # importing a model (issue 15): uec.forecast and its CLI import what a command needs when it runs.
    for args in (["forecast", "--help"], ["forecast", "run", "--help"], ["forecast", "backtest", "--help"]):
        names = imported(*args, cwd=tmp_path)
        assert "typer" in names
        assert not names & HEAVY, f"`uec {' '.join(args)}` imports {sorted(names & HEAVY)}"


def test_forecast_cli_help_names_every_model() -> None:
    # The CLI writes the model names out (importing them would import the models); they must not drift.
    from uec.forecast.backtest import METRICS
    from uec.forecast.cli import DEFAULT_MODEL, MODEL_CHOICES
    from uec.forecast.cli import METRICS as CLI_METRICS
    from uec.forecast.models import MODEL_NAMES
    from uec.forecast.occupancy import DEFAULT_MODEL as OCCUPANCY_DEFAULT

    assert MODEL_CHOICES == MODEL_NAMES and DEFAULT_MODEL == OCCUPANCY_DEFAULT and CLI_METRICS == METRICS


def test_jobs_list_on_a_store_imports_no_forecasting_library(tmp_path: Path) -> None:
    names = imported("jobs", "list", "--store", str(tmp_path / "s.duckdb"), cwd=tmp_path)
    assert "duckdb" in names  # it did open the store
    assert not names & HEAVY, f"`uec jobs list` imports {sorted(names & HEAVY)}"


def lazy_groups() -> list[tuple[str, type[LazyGroup]]]:
    found = []
    for where, t in (("uec", app), ("uec docs", docs_app)):
        cls = t.info.cls
        assert isinstance(cls, type) and issubclass(cls, LazyGroup)
        found.append((where, cls))
    return found


def test_each_stand_in_shows_the_help_of_what_it_stands_for() -> None:
    # The help line is written twice (at the mount and in the module); the two must not drift apart.
    for where, cls in lazy_groups():
        assert cls.lazy, where
        for name, spec in cls.lazy.items():
            module, _, attribute = spec.target.partition(":")
            obj = getattr(__import__(module, fromlist=[attribute]), attribute)
            own = str(obj.info.help if isinstance(obj, typer.Typer) else obj.__doc__)
            first = own.strip().splitlines()[0]
            if spec.deprecated:
                assert spec.help.startswith("Deprecated"), f"{where} {name}"
            else:
                assert spec.help == first, f"{where} {name}: mounted with {spec.help!r}, its own help is {first!r}"
            command = load(name, spec)
            assert (command.name, command.hidden, command.deprecated) == (name, spec.hidden, spec.deprecated)


def test_lazily_mounted_commands_run_and_show_their_help() -> None:
    from typer.testing import CliRunner

    for args, expect in ((["forecast", "--help"], "refresh"), (["kpi", "--help"], "--site"),
                         (["escalation", "--help"], "status"), (["users", "--help"], "add")):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, (args, result.output)
        assert expect in result.output, (args, result.output)
    top = CliRunner().invoke(app, ["--help"])
    assert "forecast" in top.output and "kpi" not in top.output
