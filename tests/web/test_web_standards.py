"""The standards pages: matrix, one standard with its SPC chart, downloads and API agree with the engine."""

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

from uec.standards import compute
from uec.store import open_store
from uec.web import create_app

SEXES = ("female", "male")


def _attendances() -> list[dict[str, Any]]:
    """About 15 months of ED attendances at RAA01, with a 4-hour share that drifts down."""
    rows: list[dict[str, Any]] = []
    start = datetime(2024, 4, 1, 10, tzinfo=UTC)
    for month in range(15):
        for k in range(20):
            arrive = start + timedelta(days=31 * month + k)
            late = k < 2 + month // 3
            rows.append({
                "attendance_id": f"m{month}-{k}",
                "site_code": "RAA01",
                "service_type": "ed_type1",
                "arrival_time": arrive,
                "departure_time": arrive + timedelta(hours=5 if late else 2),
                "sex": SEXES[k % 2],
            })
    return rows


@pytest.fixture(scope="module")
def spc_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("std") / "uec.duckdb"
    rows = {k: v for k, v in FIXTURE.items() if k in ("organisations", "sites", "services")}
    rows["attendances"] = _attendances()
    return str(write_fixture(path, rows))


@pytest.fixture(scope="module")
def spc_client(spc_store: str) -> Iterator[TestClient]:
    with TestClient(signed_in(create_app(spc_store))) as client:
        yield client


def _one_h1(text: str) -> None:
    assert len(re.findall(r"<h1[ >]", text)) == 1


def test_matrix_page_renders(web_client: TestClient) -> None:
    r = web_client.get("/standards")
    assert r.status_code == 200
    _one_h1(r.text)
    assert "<caption" in r.text and 'scope="col"' in r.text and 'scope="row"' in r.text
    assert "Whole ICS" in r.text and "Riverside General Hospital" in r.text
    assert 'href="/standards"' in r.text  # the header link


def test_matrix_json_csv_api_agree(spc_client: TestClient, spc_store: str) -> None:
    j = spc_client.get("/standards.json").json()
    assert j == spc_client.get("/api/standards").json()
    ics = j["rows"][0]
    assert ics["name"] == "Whole ICS"
    cell = next(c for c in ics["cells"] if c["standard_id"] == "ed-4hr")
    engine = compute(open_store(spc_store), "ed-4hr", period="month")
    last = engine.rows[-1]
    assert cell["value"] == pytest.approx(last.value)
    assert cell["period_start"] == last.period_start.isoformat()
    assert cell["variation"]["code"] and cell["assurance"]["code"]
    rows = list(csv.DictReader(io.StringIO(spc_client.get("/standards.csv").text)))
    got = next(r for r in rows if r["level"] == "ics" and r["standard_id"] == "ed-4hr")
    assert float(got["value"]) == pytest.approx(last.value)
    assert got["variation"] == cell["variation"]["code"]
    page = spc_client.get("/standards").text
    assert cell["display"] in page
    assert "<title>" in page and "nhsuk-u-visually-hidden" in page


def test_detail_page_chart_and_tables(spc_client: TestClient, spc_store: str) -> None:
    r = spc_client.get("/standards/ed-4hr")
    assert r.status_code == 200
    _one_h1(r.text)
    svg = r.text[r.text.index('<svg xmlns="http://www.w3.org/2000/svg" viewBox'):]
    svg = svg[: svg.index("</svg>")]
    assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
    assert svg.count('class="spc-point') == 15
    assert "series-table" in r.text and "breakdown-sex" in r.text
    assert r.text.count("<caption") >= 3
    d = spc_client.get("/standards/ed-4hr.json").json()
    assert d == spc_client.get("/api/standards/ed-4hr").json()
    engine = compute(open_store(spc_store), "ed-4hr", period="month")
    assert [p["value"] for p in d["points"]] == pytest.approx([row.value for row in engine.rows])
    assert [p["numerator"] for p in d["points"]] == [row.numerator for row in engine.rows]
    assert all(p["mean"] is not None for p in d["points"])
    for p in d["points"]:
        assert p["display"] in r.text
    sexes = next(b for b in d["breakdowns"] if b["breakdown"] == "sex")
    assert {row["group"] for row in sexes["rows"]} >= set(SEXES)
    # Breakdowns get disclosure control: counts of 1 to 7 hidden, the rest rounded to 5.
    for row in (row for b in d["breakdowns"] for row in b["rows"]):
        for n in (row["numerator"], row["denominator"]):
            assert n is None or (n % 5 == 0 and not 0 < n < 8), row
        if row["numerator"] is None and row["denominator"] is None:
            assert row["value"] is None and row["display"] == "*"
    rows = list(csv.DictReader(io.StringIO(spc_client.get("/standards/ed-4hr.csv").text)))
    series = [row for row in rows if row["table"] == "series"]
    assert [float(row["value"]) for row in series] == pytest.approx([p["value"] for p in d["points"]])
    assert any(row["table"] == "breakdown" and row["breakdown"] == "sex" for row in rows)
    assert d["targets"] and d["targets"][0]["source"]


def test_detail_by_site_and_week(spc_client: TestClient) -> None:
    r = spc_client.get("/standards/ed-4hr.json?site=RAA01&by=week&from=2025-01-01")
    assert r.status_code == 200
    d = r.json()
    assert d["site"] == "RAA01" and d["period"] == "week"
    assert d["points"] and d["points"][0]["period_start"] >= "2024-12-30"


def test_detail_with_too_few_points(web_client: TestClient) -> None:
    r = web_client.get("/standards/amb-handover-30")
    assert r.status_code == 200
    _one_h1(r.text)


def test_errors(web_client: TestClient) -> None:
    r = web_client.get("/standards/no-such-standard")
    assert r.status_code == 404 and "Page not found" in r.text and "no-such-standard" in r.text
    for url in ("/standards/no-such-standard.json", "/api/standards/no-such-standard"):
        r = web_client.get(url)
        assert r.status_code == 404 and "no-such-standard" in r.json()["detail"]
    assert web_client.get("/standards/ed-4hr?site=NOPE").status_code == 404
    assert web_client.get("/standards.json?by=year").status_code == 400
    assert web_client.get("/standards.json?from=nope").status_code == 400


def test_chart_module_has_title(tmp_path: Path) -> None:
    from uec.spc import Direction, XmROptions, xmr
    from uec.web.chart import xmr_svg

    svg = xmr_svg(xmr([1.0, 2.0, 1.5, 9.0], XmROptions(direction=Direction.HIGHER_IS_BETTER)),
                  title="T <x>", desc="D", labels=["a", "b", "c", "d"])
    assert "<title" in svg and "T &lt;x&gt;" in svg


def test_matrix_covers_the_whole_catalogue_and_filters_by_area(spc_client: TestClient) -> None:
    from uec.standards import catalogue

    cat = catalogue()
    every = spc_client.get("/standards.json").json()
    assert [s["id"] for s in every["standards"]] == [s.id for a in ("ed", "ambulance", "flow") for s in cat.area(a)]
    assert all(len(r["cells"]) == len(cat.standards) for r in every["rows"])
    flow = spc_client.get("/standards.json?area=flow").json()
    assert flow["area"] == "flow" and {s["area"] for s in flow["standards"]} == {"flow"}
    page = spc_client.get("/standards?area=ambulance").text
    assert 'id="standards-matrix-ambulance"' in page and 'id="standards-matrix-ed"' not in page
    # Sites with no data for an area get no column (the store has ED attendances at RAA01 only).
    head = page[page.index('id="standards-matrix-ambulance"'):]
    head = head[: head.index("</thead>")]
    assert head.count('scope="col"') == 2  # the standard and the whole ICS
    ed = spc_client.get("/standards?area=ed").text
    ed_head = ed[ed.index('id="standards-matrix-ed"'):]
    assert ed_head[: ed_head.index("</thead>")].count('scope="col"') == 3  # ... and RAA01
    assert spc_client.get("/standards.json?area=dental").status_code == 400


def test_matrix_follows_new_data(tmp_path: Path) -> None:
    # The matrix is cached per data version: a new row must show at once, not after a restart.
    rows = {k: v for k, v in FIXTURE.items() if k in ("organisations", "sites", "services")}
    rows["attendances"] = _attendances()
    url = write_fixture(tmp_path / "uec.duckdb", rows)
    with TestClient(signed_in(create_app(url))) as client:
        before = client.get("/standards.json?area=ed").json()
        assert client.get("/standards.json?area=ed").json() == before
        import pyarrow as pa

        arrive = datetime(2025, 6, 20, 10, tzinfo=UTC)
        with open_store(url).write() as w:
            w.append("attendances", pa.table({
                "attendance_id": ["new-1"], "site_code": ["RAA01"], "service_type": ["ed_type1"],
                "arrival_time": [arrive], "departure_time": [arrive + timedelta(hours=9)],
            }))
        after = client.get("/standards.json?area=ed").json()
    cell = next(c for c in after["rows"][0]["cells"] if c["standard_id"] == "ed-4hr")
    assert cell["period_start"] == "2025-06-01"
    assert after != before


def test_chart_rebases_and_redraws_its_limits(spc_client: TestClient) -> None:
    plain = spc_client.get("/standards/ed-4hr.json").json()
    assert len({p["mean"] for p in plain["points"]}) == 1
    rebased = spc_client.get("/standards/ed-4hr.json?rebase=2024-10-01").json()
    assert rebased["rebase"] == ["2024-10-01"]
    before = {p["mean"] for p in rebased["points"] if p["period_start"] < "2024-10-01"}
    after = {p["mean"] for p in rebased["points"] if p["period_start"] >= "2024-10-01"}
    assert len(before) == 1 and len(after) == 1 and before != after
    # The SVG draws a mean and two limits for each period of the chart.
    page = spc_client.get("/standards/ed-4hr?rebase=2024-10-01").text
    assert page.count('class="spc-mean"') == 2 and page.count('class="spc-limit"') == 4
    assert 'value="2024-10-01"' in page
    fixed = spc_client.get("/standards/ed-4hr.json?baseline=6").json()
    assert fixed["baseline"] == 6 and fixed["points"][0]["mean"] != plain["points"][0]["mean"]
    assert spc_client.get("/standards/ed-4hr.json?rebase=October").status_code == 400
    assert spc_client.get("/standards/ed-4hr.json?baseline=1").status_code == 400


def test_standards_pages_on_both_stores(store_url: str) -> None:
    rows = {k: v for k, v in FIXTURE.items() if k in ("organisations", "sites", "services")}
    rows["attendances"] = _attendances()
    write_fixture(store_url, rows)
    expected = compute(open_store(store_url), "ed-4hr", period="month").rows[-1]
    with TestClient(signed_in(create_app(store_url))) as client:
        matrix = client.get("/standards.json?area=ed").json()
        cell = next(c for c in matrix["rows"][0]["cells"] if c["standard_id"] == "ed-4hr")
        assert cell["value"] == pytest.approx(expected.value) and cell["variation"]["code"]
        detail = client.get("/standards/ed-4hr.json?site=RAA01&rebase=2024-10-01").json()
        assert detail["points"][-1]["value"] == pytest.approx(expected.value)
        assert len({p["mean"] for p in detail["points"]}) == 2
        assert client.get("/standards?area=ed").status_code == 200
        assert client.get("/standards/ed-4hr?site=RAA01").status_code == 200
