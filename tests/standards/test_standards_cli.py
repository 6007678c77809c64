"""``uec kpi``: JSON as the last line, the CSV publish export, and one-line user errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
import typer
from standards_fixtures import load_spec_ics
from typer.testing import CliRunner

from uec.errors import UecError
from uec.standards.cli import app
from uec.store import Store, open_store


@pytest.fixture
def store_path(tmp_path: Path) -> str:
    path = str(tmp_path / "uec.duckdb")
    load_spec_ics(open_store(path))
    return path


def _last_json(output: str) -> Any:
    return json.loads(output.strip().splitlines()[-1])


def test_kpi_json_for_a_site(store_path: str) -> None:
    result = CliRunner().invoke(app, ["ed-4hr", "--site", "S1", "--by", "month", "--from", "2024-04",
                                      "--to", "2024-04", "--store", store_path, "--json"])
    assert result.exit_code == 0, result.output
    data = _last_json(result.output)
    assert data["standard"] == "ed-4hr" and data["sdc"] is False
    (row,) = data["rows"]
    assert (row["code"], row["period_start"], row["numerator"], row["denominator"]) == ("S1", "2024-04-01", 3, 5)
    assert row["target"] == 0.78 and row["met"] is False
    assert data["query"] == {"period": "month", "from": "2024-04-01", "to": "2024-05-01", "level": "site",
                             "site": "S1", "org": None, "breakdown": None, "source": "auto"}


def test_kpi_on_postgresql(store: Store) -> None:
    load_spec_ics(store)
    result = CliRunner().invoke(app, ["amb-c1-mean", "--org", "AMB", "--from", "2024-04", "--to", "2024-04",
                                      "--store", store.url, "--json"])
    assert result.exit_code == 0, result.output
    (row,) = _last_json(result.output)["rows"]
    assert row["value"] == 12.0


def test_kpi_area_with_disclosure_and_csv(store_path: str, tmp_path: Path) -> None:
    out = tmp_path / "publish.csv"
    result = CliRunner().invoke(app, ["ambulance", "--level", "org", "--from", "2024-04", "--to", "2024-04",
                                      "--csv", str(out), "--store", store_path, "--json"])
    assert result.exit_code == 0, result.output
    data = _last_json(result.output)
    assert data["sdc"] is True
    assert [r["standard"] for r in data["results"]][:2] == ["amb-c1-mean", "amb-c1-p90"]
    with out.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    # 10 incidents: every count on the publish file is suppressed or a multiple of 5
    hear = next(r for r in rows if r["standard_id"] == "amb-hear-and-treat")
    assert (hear["numerator"], hear["denominator"], hear["value"]) == ("*", "10", "*")
    for r in rows:
        for col in ("numerator", "denominator", "support"):
            if r[col] not in ("", "*") and r["standard_id"] not in ("amb-hours-lost-15", "amb-hours-lost-60"):
                assert float(r[col]) % 5 == 0, (r["standard_id"], col, r[col])


def test_kpi_list(store_path: str) -> None:
    result = CliRunner().invoke(app, ["--list", "--json"])
    assert result.exit_code == 0
    ids = [s["id"] for s in _last_json(result.output)["standards"]]
    assert "ed-4hr" in ids and "flow-ucr-2hr" in ids


def test_kpi_human_output(store_path: str) -> None:
    result = CliRunner().invoke(app, ["ed-4hr", "--level", "site", "--from", "2024-04", "--to", "2024-04",
                                      "--store", store_path])
    assert result.exit_code == 0
    assert "60.0%" in result.output and "S1" in result.output


@pytest.mark.parametrize(("args", "message"), [
    (["ed-5hr"], "unknown standard 'ed-5hr'"),
    (["ed-4hr", "--site", "RXX"], "unknown site 'RXX'"),
    (["ed-4hr", "--from", "2024-13"], "--from '2024-13' is not a period"),
    (["ed-4hr", "--to", "soon"], "--to 'soon' is not a period"),
    (["ed-4hr", "--by", "fortnight"], "unknown period 'fortnight'"),
    (["flow-ucr-2hr", "--site", "S1"], "flow-ucr-2hr cannot be computed"),
    ([], "name a standard"),
])
def test_kpi_errors_are_one_line_uec_errors(store_path: str, args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, [*args, "--store", store_path])
    assert isinstance(result.exception, UecError), result.output
    assert message in str(result.exception) and "\n" not in str(result.exception)


def test_kpi_mounts_as_a_subcommand(store_path: str) -> None:
    # The main CLI mounts the app with add_typer; options must still follow the standard id.
    main = typer.Typer()

    @main.command()
    def other() -> None:
        """Another command, so the parent is a group."""

    main.add_typer(app, name="kpi")
    result = CliRunner().invoke(main, ["kpi", "ed-4hr", "--site", "S1", "--by", "month", "--from", "2024-04",
                                       "--store", store_path, "--json"])
    assert result.exit_code == 0, result.output
    assert _last_json(result.output)["standard"] == "ed-4hr"
