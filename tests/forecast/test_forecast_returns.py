"""Forecasting from published returns (issue 14 item 7), on both stores, with the real files of
``tests/data/returns``: the monthly A&E return for one trust, the daily sitrep's handover delays and
the daily criteria-to-reside snapshot for one trust.

A missing period of a return is missing, never zero (snapshot and count alike): the series keeps the
gap and the model is fitted on the latest unbroken stretch.
"""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from uec.forecast.cli import app
from uec.forecast.runs import forecast_store_series, latest_series_runs, run_values
from uec.forecast.series import available_series, series_frame, series_freq
from uec.ingest import ingest
from uec.store import Store

RETURNS = Path(__file__).resolve().parents[1] / "data" / "returns"
AE = "returns/month/ae_monthly/RRK/ae_attendances_all"
HANDOVER = "returns/day/uec_sitrep/RRK/sitrep_handover_over_60"
runner = CliRunner()


def one_trust(name: str, column: str, code: str, out: Path) -> Path:
    """The rows of one organisation of a real file in ``tests/data/returns``, unchanged, as a CSV."""
    with gzip.open(RETURNS / name, "rt", encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    at = rows[0].index(column)
    with out.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([rows[0], *(r for r in rows[1:] if r[at] == code)])
    return out


def file_values(name: str, column: str, code: str, value: str, date: str = "date") -> dict[str, float]:
    """``{date: value}`` of one organisation in a real file (empty values left out)."""
    with gzip.open(RETURNS / name, "rt", encoding="utf-8", newline="") as f:
        return {r[date]: float(r[value]) for r in csv.DictReader(f) if r[column] == code and r[value]}


@pytest.fixture
def returns_store(store: Store, tmp_path: Path) -> Store:
    ingest(store, "ae-monthly", one_trust("england_trust_accidents_emergency.csv.gz", "nhs_trust22_code", "RRK",
                                          tmp_path / "ae_rrk.csv"))
    ingest(store, "uec-sitrep", RETURNS / "handover_delays_england_and_6_trusts.csv.gz")
    return store


def test_returns_are_forecastable_series_with_their_frequency(returns_store: Store) -> None:
    found = {s.series_id: s for s in available_series(returns_store)}
    assert found[AE].freq == "monthly" and found[AE].site_code == "RRK"
    assert found[HANDOVER].freq == "daily" and found[HANDOVER].kind == "returns"
    assert "Attendances" in found[AE].title and "RRK" in found[AE].title
    assert series_freq(AE) == "monthly"
    # 4 A&E metrics for RRK; 2 handover metrics for England, England type 1 and the 6 trusts.
    assert sum(s.series_id.startswith("returns/month/") for s in found.values()) == 4
    assert sum(s.series_id.startswith("returns/day/") for s in found.values()) == 16


def test_a_monthly_return_reads_back_as_published(returns_store: Store) -> None:
    df = series_frame(returns_store, [AE])
    published = file_values("england_trust_accidents_emergency.csv.gz", "nhs_trust22_code", "RRK",
                            "total_attendances")
    assert len(df) == len(published) == 52
    assert {d.strftime("%Y-%m-%d"): y for d, y in zip(df["ds"], df["y"], strict=True)} == published


def test_a_daily_return_is_not_zero_filled_between_winters(returns_store: Store) -> None:
    df = series_frame(returns_store, [HANDOVER])
    published = file_values("handover_delays_england_and_6_trusts.csv.gz", "org_code", "RRK", "delays_over_60")
    # Winters only: the summers are missing from the return, so they are missing here, not zeros.
    assert len(df) == len(published) == 656
    assert pd.Timestamp("2018-07-01") not in set(df["ds"])
    got = {d.strftime("%Y-%m-%d"): y for d, y in zip(df["ds"], df["y"], strict=True)}
    assert set(got) == set(published)
    # The two dates the source gives twice keep their first row (the second is quarantined).
    assert {d: v for d, v in got.items() if d not in ("2021-03-28", "2022-03-27")} == {
        d: v for d, v in published.items() if d not in ("2021-03-28", "2022-03-27")}


def test_refresh_forecasts_monthly_and_daily_returns(returns_store: Store, store_url: str) -> None:
    # Before this, refresh on a store of returns said there was nothing to forecast.
    r = runner.invoke(app, ["refresh", "--store", store_url, "--model", "snaive", "--backtest-origins", "1", "--json"])
    assert r.exit_code == 0, r.output
    runs = {x["freq"]: x for x in json.loads(r.output.strip().splitlines()[-1])["runs"]}
    assert set(runs) == {"monthly", "daily"}
    monthly, daily = runs["monthly"], runs["daily"]
    assert monthly["horizon"] == 12 and monthly["origin"].startswith("2025-08-01")
    assert monthly["n_series"] == 4 and monthly["n_failed"] == 0
    assert daily["horizon"] == 28 and daily["n_failed"] == 0
    latest = latest_series_runs(returns_store)
    handover = latest[HANDOVER]
    # Fitted on the last winter only (the file's 119 days of winter 2022-23: the latest unbroken
    # stretch), never across a zero-filled summer.
    assert handover.first_ds == pd.Timestamp("2022-11-14") and handover.last_ds == pd.Timestamp("2023-03-12")
    assert handover.n_obs == 119
    values = run_values(returns_store, str(latest[AE].run_id), [AE])
    assert values["ds"].dt.strftime("%Y-%m").tolist()[:3] == ["2025-08", "2025-09", "2025-10"]
    # The seasonal naive of a monthly series repeats the same month a year before (period 12).
    history = series_frame(returns_store, [AE]).set_index("ds")["y"]
    assert values["mean"].tolist() == history.loc["2024-08-01":"2025-07-01"].tolist()


def test_a_missing_day_of_a_snapshot_stays_missing(store: Store, tmp_path: Path) -> None:
    # R1F's criteria-to-reside count is empty on 2023-07-31 in the published file.
    ingest(store, "discharge-sitrep", one_trust("england_trust_criteria_to_reside.csv.gz", "nhs_trust22_code", "R1F",
                                                tmp_path / "ctr_r1f.csv"))
    ids = [s.series_id for s in available_series(store) if s.kind == "returns"]
    assert len(ids) == 1 and ids[0].startswith("returns/day/") and "/R1F/" in ids[0]
    df = series_frame(store, ids)
    published = file_values("england_trust_criteria_to_reside.csv.gz", "nhs_trust22_code", "R1F",
                            "do_not_meet_criteria_to_reside")
    assert len(df) == len(published) == 1248 and pd.Timestamp("2023-07-31") not in set(df["ds"])
    assert {d.strftime("%Y-%m-%d"): y for d, y in zip(df["ds"], df["y"], strict=True)} == published
    [run] = forecast_store_series(store, ids, model="snaive", horizon=7, backtest_origins=0)
    [sr] = run.series
    assert sr.error is None and sr.first_ds == pd.Timestamp("2023-08-01") and sr.n_obs == 762
    assert run.values["ds"].iloc[0] == pd.Timestamp("2025-09-01")


def test_run_and_backtest_a_monthly_return_with_the_default_model(returns_store: Store, store_url: str) -> None:
    r = runner.invoke(app, ["run", "--series", AE, "--store", store_url, "--json"])
    assert r.exit_code == 0, r.output
    [run] = json.loads(r.output.strip().splitlines()[-1])["runs"]
    assert run["freq"] == "monthly" and run["model"] == "auto" and run["n_failed"] == 0
    [s] = run["series"]
    assert s["model_used"] and set(s["model_used"].split("+")) <= {"snaive", "empirical", "ets"}
    r = runner.invoke(app, ["backtest", "--series", AE, "--store", store_url, "--horizon", "3", "--every", "1",
                            "--test-from", "2024-08-01", "--test-to", "2025-05-01", "--model", "ets", "--json"])
    assert r.exit_code == 0, r.output
    summary = json.loads(r.output.strip().splitlines()[-1])
    assert summary["freq"] == "monthly" and summary["origins"] == 10 and summary["first_origin"].startswith("2024-08")
    overall = next(x for x in summary["scorecard"] if x["step"] == "all")
    assert overall["n"] == 30 and 0 < overall["mase"] < 2


def test_monthly_series_refuse_daily_models_and_bad_ids(returns_store: Store, store_url: str) -> None:
    r = runner.invoke(app, ["run", "--series", AE, "--store", store_url, "--model", "glm"])
    assert r.exit_code == 2 and r.output.count("error:") == 1 and "does not fit monthly series" in r.output
    r = runner.invoke(app, ["run", "--series", "returns/week/ae_monthly/RRK/x", "--store", store_url])
    assert r.exit_code == 2 and "weekly, quarterly and yearly returns are not forecast" in r.output
    r = runner.invoke(app, ["backtest", "--series", AE, "--series", HANDOVER, "--store", store_url, "--horizon", "1",
                            "--every", "1", "--test-from", "2024-01-01", "--test-to", "2024-02-01"])
    assert r.exit_code == 2 and "mix daily and monthly" in r.output


def test_series_command_lists_returns(returns_store: Store, store_url: str) -> None:
    r = runner.invoke(app, ["series", "--kind", "returns", "--org", "RRK", "--store", store_url, "--json"])
    assert r.exit_code == 0, r.output
    listed = json.loads(r.output.strip().splitlines()[-1])["series"]
    assert {x["series_id"] for x in listed} >= {AE, HANDOVER} and {x["org"] for x in listed} == {"RRK"}


def test_monthly_frames_steps_and_backtests_count_calendar_months() -> None:
    from uec.forecast.backtest import backtest
    from uec.forecast.frame import validate_long

    with pytest.raises(ValueError, match="not the first day of a month"):
        validate_long(pd.DataFrame({"ds": ["2024-01-15"], "y": [1.0]}), "monthly")
    with pytest.raises(ValueError, match="1 missing monthly step"):
        validate_long(pd.DataFrame({"ds": ["2024-01-01", "2024-03-01"], "y": [1.0, 2.0]}), "monthly")
    ds = pd.date_range("2020-01-01", periods=48, freq="MS")
    df = pd.DataFrame({"ds": ds, "y": 100.0 + 10 * ds.month})
    res = backtest(df, "monthly", horizon=3, every=1, test_from="2023-01-01", test_to="2023-06-01", model="snaive:raw")
    assert res.origins.strftime("%Y-%m").tolist() == ["2023-01", "2023-02", "2023-03", "2023-04", "2023-05", "2023-06"]
    # February, then months of 31 and 30 days: steps count months, not days.
    assert res.scorecard["step"].tolist() == ["1", "2", "3", "all"]
    assert res.scorecard.set_index("step").loc["all", "mae"] == 0.0  # a pure yearly pattern, period 12
