"""The forecast and occupancy pages: lists, a series' fan chart, downloads and API agree with the store."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from web_fixture import FIXTURE, signed_in, write_fixture

from uec.forecast.runs import forecast_store_series, run_values
from uec.store import open_store
from uec.web import create_app

START = datetime(2025, 1, 6, 12, tzinfo=UTC)  # a Monday, GMT
AS_OF = datetime(2025, 3, 17, tzinfo=UTC)


def _incidents() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for d in range(70):
        day = START + timedelta(days=d)
        for cat, n in (("C1", 3 if day.weekday() < 5 else 1), ("C2", 5), ("C3", 2)):
            rows += [
                {
                    "incident_id": f"{cat}-{d}-{k}",
                    "org_code": "RAM",
                    "call_time": day + timedelta(minutes=k),
                    "category": cat,
                    "outcome": "hear_and_treat",
                }
                for k in range(n)
            ]
    return rows


def _spells() -> list[dict[str, Any]]:
    """One 50-hour emergency stay admitted at noon each day, and two patients in at the end."""
    rows: list[dict[str, Any]] = []
    for d in range(60):
        adm = START + timedelta(days=d)
        rows.append(
            {
                "spell_id": f"s{d}",
                "site_code": "RAA01",
                "admission_time": adm,
                "admission_method": "emergency",
                "age_band": "18-64",
                "discharge_time": adm + timedelta(hours=50) if d < 58 else None,
            }
        )
    return rows


@pytest.fixture(scope="module")
def fc_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    rows = {k: v for k, v in FIXTURE.items() if k in ("organisations", "sites", "services")}
    rows["ambulance_incidents"] = _incidents()
    rows["spells"] = _spells()
    path = write_fixture(tmp_path_factory.mktemp("fc") / "uec.duckdb", rows)
    forecast_store_series(
        open_store(path), ["ambulance/C1", "ambulance/C2"], model="snaive", horizon=7, backtest_origins=2
    )
    return str(path)


@pytest.fixture(scope="module")
def fc_client(fc_store: str) -> Iterator[TestClient]:
    with TestClient(signed_in(create_app(fc_store))) as client:
        yield client


def _one_h1(text: str) -> None:
    assert len(re.findall(r"<h1[ >]", text)) == 1


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_forecasts_page_lists_every_series(fc_client: TestClient) -> None:
    r = fc_client.get("/forecasts")
    assert r.status_code == 200
    _one_h1(r.text)
    assert 'href="/forecasts/ambulance/C1"' in r.text and 'href="/forecasts/admissions/RAA01/emergency"' in r.text
    assert "Not forecast yet" in r.text  # C3 has no saved run
    assert 'href="/occupancy"' in r.text and 'href="/forecasts"' in r.text
    assert "<caption" in r.text and 'scope="col"' in r.text


def test_forecasts_json_csv_api_agree(fc_client: TestClient, fc_store: str) -> None:
    j = fc_client.get("/forecasts.json").json()
    assert j == fc_client.get("/api/forecasts").json()
    items = {s["series_id"]: s for s in j["series"]}
    assert set(items) >= {"ambulance/C1", "ambulance/C2", "ambulance/C3", "occupancy/RAA01"}
    c1 = items["ambulance/C1"]
    values = run_values(open_store(fc_store), c1["run_id"], ["ambulance/C1"])
    assert c1["first_step"] == "2025-03-17" and c1["first_mean"] == values["mean"].iloc[0] == 3.0
    assert c1["model_used"] == "snaive" and c1["scores"]["origins"] == 2
    assert items["ambulance/C3"]["run_id"] is None
    assert len(j["runs"]) == 1 and j["runs"][0]["n_series"] == 2
    rows = _csv(fc_client.get("/forecasts.csv").text)
    assert [r["series_id"] for r in rows] == [s["series_id"] for s in j["series"]]
    assert next(r for r in rows if r["series_id"] == "ambulance/C1")["first_mean"] == "3.0"


def test_series_page_has_an_accessible_fan_chart(fc_client: TestClient) -> None:
    r = fc_client.get("/forecasts/ambulance/C1")
    assert r.status_code == 200
    _one_h1(r.text)
    start = r.text.rindex("<svg", 0, r.text.index('class="uec-fan-chart"'))
    svg = r.text[start : r.text.index("</svg>", start)]
    assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
    assert 'class="fan-band-95"' in svg and 'class="fan-band-80"' in svg and 'class="fan-mean"' in svg
    assert 'class="fan-actual"' in svg
    table = r.text[r.text.index('id="forecast-table"') :]
    table = table[: table.index("</table>")]
    assert table.count('<th scope="row"') == 7
    assert "How accurate it has been" in r.text and "95% interval coverage" in r.text


def test_series_json_csv_api_agree(fc_client: TestClient, fc_store: str) -> None:
    j = fc_client.get("/forecasts/ambulance/C1.json").json()
    assert j == fc_client.get("/api/forecasts/ambulance/C1").json()
    assert [p["mean"] for p in j["forecast"]] == [3.0, 3.0, 3.0, 3.0, 3.0, 1.0, 1.0]
    assert j["history"][-1]["ds"] == "2025-03-16" and len(j["history"]) == 56
    assert all(p["lo95"] <= p["lo80"] <= p["mean"] <= p["hi80"] <= p["hi95"] for p in j["forecast"])
    rows = _csv(fc_client.get("/forecasts/ambulance/C1.csv").text)
    assert [r["kind"] for r in rows].count("forecast") == 7 and [r["kind"] for r in rows].count("actual") == 56
    last = rows[-1]
    assert last["ds"] == "2025-03-23" and float(last["q0.50"]) == 1.0


def test_series_without_a_run_and_unknown_series(fc_client: TestClient) -> None:
    r = fc_client.get("/forecasts/ambulance/C3")
    assert r.status_code == 200 and "uec forecast refresh" in r.text
    assert fc_client.get("/forecasts/ambulance/C3.json").json()["forecast"] == []
    assert fc_client.get("/forecasts/ambulance/C9").status_code == 404
    missing = fc_client.get("/forecasts/arrivals/RAA01/utc.json")
    assert missing.status_code == 404 and "no data" in missing.json()["detail"]


def test_occupancy_page_json_csv_api(fc_client: TestClient) -> None:
    r = fc_client.get("/occupancy?days=3")
    assert r.status_code == 200
    _one_h1(r.text)
    assert 'id="next-day-table"' in r.text and 'id="midnights-RAA01"' in r.text
    j = fc_client.get("/occupancy.json?days=3").json()
    assert j == fc_client.get("/api/occupancy?days=3").json()
    # The last data are two admissions on 6 and 7 March (noon); the next midnight is 8 March.
    assert j["as_of"] == "2025-03-07T00:00:00+00:00"
    [site] = j["sites"]
    assert site["site_code"] == "RAA01" and site["current_inpatients"] == 2
    assert [m["date"] for m in site["midnights"]] == ["2025-03-08", "2025-03-09", "2025-03-10"]
    rows = _csv(fc_client.get("/occupancy.csv?days=3").text)
    occupied = [float(x["mean"]) for x in rows if x["view"] == "midnight" and x["measure"] == "occupied"]
    assert occupied == [m["occupied"]["mean"] for m in site["midnights"]]
    assert {x["measure"] for x in rows if x["view"] == "next_day"} >= {"admissions", "discharges"}
    assert fc_client.get("/occupancy.json?days=30").status_code == 400
    assert fc_client.get("/occupancy.json?site=NOPE").status_code == 404


def test_occupancy_on_an_empty_store(tmp_path: Path) -> None:
    path = tmp_path / "empty.duckdb"
    open_store(str(path))
    with TestClient(signed_in(create_app(str(path)))) as client:
        r = client.get("/occupancy")
        assert r.status_code == 200 and "no inpatient spells" in r.text
        assert client.get("/occupancy.json").status_code == 404
        assert client.get("/forecasts").status_code == 200
        assert client.get("/forecasts.json").json() == {"series": [], "runs": []}


# --- series from published returns (issue 14 item 7) ---------------------------------------------

RETURNS = Path(__file__).resolve().parents[1] / "data" / "returns"
AE_SERIES = "returns/month/ae_monthly/RRK/ae_attendances_all"


@pytest.fixture(scope="module")
def returns_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """A store of the real monthly A&E return (every trust), with RRK's attendances forecast."""
    from uec.ingest import ingest

    path = str(tmp_path_factory.mktemp("fcret") / "uec.duckdb")
    store = open_store(path)
    ingest(store, "ae-monthly", RETURNS / "england_trust_accidents_emergency.csv.gz")
    forecast_store_series(store, [AE_SERIES], model="snaive", backtest_origins=1)
    with TestClient(signed_in(create_app(path))) as client:
        yield client


def test_forecast_pages_show_a_monthly_return(returns_client: TestClient) -> None:
    r = returns_client.get("/forecasts")
    assert r.status_code == 200 and f'href="/forecasts/{AE_SERIES}"' in r.text
    assert 'id="forecasts-returns"' in r.text and "Attendances at all A&amp;E types at RRK, monthly" in r.text
    j = returns_client.get(f"/forecasts/{AE_SERIES}.json").json()
    assert j == returns_client.get(f"/api/forecasts/{AE_SERIES}").json()
    assert j["item"]["freq"] == "monthly" and j["item"]["first_step"] == "2025-08-01"
    assert [p["label"] for p in j["forecast"][:2]] == ["August 2025", "September 2025"] and len(j["forecast"]) == 12
    assert len(j["history"]) == 36 and j["history"][-1]["ds"] == "2025-07-01"
    page = returns_client.get(f"/forecasts/{AE_SERIES}")
    assert page.status_code == 200 and "12 months from 2025-08-01" in page.text and ">Month<" in page.text
    # A delays-by-reason id is longer than one code may be; each of its parts is a code.
    long_id = "returns/month/discharge_delays/RRK/delay_iface_housing_provision_arrangement_homelessness_underway"
    missing = returns_client.get(f"/forecasts/{long_id}.json")
    assert missing.status_code == 404 and "no data" in missing.json()["detail"]
