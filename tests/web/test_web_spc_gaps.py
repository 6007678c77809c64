"""An SPC chart across a gap says so: in the chart (the line breaks, the gap is labelled), in the
page's words and in its JSON (issue 14: honest charts)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from web_fixture import signed_in, write_fixture

from uec.web import create_app


def _months(first: dt.date, count: int) -> list[dt.date]:
    out, day = [], first
    for _ in range(count):
        out.append(day)
        day = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return out


@pytest.fixture(scope="module")
def gap_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    # Monthly A&E returns of one trust, Jan 2019 to Mar 2020 and Apr 2022 to Mar 2023: 24 months missing.
    months = _months(dt.date(2019, 1, 1), 15) + _months(dt.date(2022, 4, 1), 12)
    rows = []
    for i, m in enumerate(months):
        for code, value in (("ae_attendances_all", 1000), ("ae_breaches_all", 100 + 7 * (i % 3))):
            rows.append({"org_code": "R1", "period_start": m, "period_length": "month", "metric_code": code,
                         "value": value, "source": "ae_monthly"})
    path = write_fixture(tmp_path_factory.mktemp("gap") / "uec.duckdb", {"returns": rows})
    with TestClient(signed_in(create_app(path))) as client:
        yield client


def test_chart_across_a_gap_says_so(gap_client: TestClient) -> None:
    d = gap_client.get("/standards/ed-4hr.json").json()
    assert len(d["points"]) == 27
    (gap,) = d["gaps"]
    assert (gap["after"], gap["before"], gap["missing"]) == ("Mar 2020", "Apr 2022", 24)
    assert gap["note"].startswith("24 months missing between Mar 2020 and Apr 2022: the line breaks there")
    assert "limits are computed from the 27 points on both sides" in gap["note"]
    assert gap["note"] in d["messages"]
    assert "24 months missing between Mar 2020 and Apr 2022" in d["chart_summary"]
    svg = d["chart_svg"]
    assert svg.count('class="spc-values"') == 2  # the line is broken, not bridged
    assert 'class="spc-gap"' in svg and ">24 missing<" in svg
    page = gap_client.get("/standards/ed-4hr").text
    assert "24 months missing between Mar 2020 and Apr 2022" in page
    assert "Shaded gaps: periods with no data" in page


def test_chart_without_a_gap_has_none(gap_client: TestClient, tmp_path: Path) -> None:
    d = gap_client.get("/standards/ed-4hr.json?from=2022-04-01").json()
    assert d["gaps"] == [] and d["chart_svg"].count('class="spc-values"') == 1
    assert not any("missing between" in m for m in d["messages"])
