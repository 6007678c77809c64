"""A standard's page and API for an organisation (``?org=``) and for quarters and financial years (issue 14 item 5).

The store holds the real monthly A&E return of NHS Devon ICB's trusts (with Royal Devon's January 2022
row quarantined) and the ODS trusts file, so the ICB's page shows its total and names the member
missing from January.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from web_fixture import signed_in

from uec.ingest import ingest
from uec.store import open_store
from uec.web import create_app

DATA = Path(__file__).parents[1] / "data"


@pytest.fixture(scope="module")
def devon_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    folder = tmp_path_factory.mktemp("devon")
    with gzip.open(DATA / "returns" / "england_trust_accidents_emergency.csv.gz", "rt", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        rows = [r for r in reader if r["nhs_trust22_code"] in ("RA9", "RBZ", "RH8")
                and "2021-11-01" <= r["date"] <= "2022-04-01"]
        fields = list(reader.fieldnames or [])
    for r in rows:
        if r["nhs_trust22_code"] == "RH8" and r["date"] == "2022-01-01":
            r["date"] = "2022-01-15"  # not the first of a month: quarantined
    path = folder / "devon.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)
    store = open_store(str(folder / "uec.duckdb"))
    ingest(store, "ods-trusts", DATA / "ods" / "etr.csv")
    ingest(store, "ae-monthly", path)
    with TestClient(signed_in(create_app(str(folder / "uec.duckdb")))) as client:
        yield client


def test_the_api_takes_an_organisation(devon_client: TestClient) -> None:
    got = devon_client.get("/api/standards/ed-4hr", params={"org": "QJK", "by": "month"})
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["org"] == "QJK" and body["site_name"] == "QJK"
    jan = next(c for c in body["members"] if c["period_start"] == "2022-01-01")
    assert (jan["included"], jan["missing"]) == (["RA9", "RBZ"], ["RH8"])
    assert any("missing RH8" in m for m in body["messages"])
    assert [p["period_start"] for p in body["points"]][:3] == ["2021-11-01", "2021-12-01", "2022-01-01"]


def test_the_page_shows_the_members_of_each_period(devon_client: TestClient) -> None:
    page = devon_client.get("/standards/ed-4hr", params={"org": "QJK", "by": "quarter"})
    assert page.status_code == 200, page.text
    assert "Members in each period" in page.text
    assert "Jan-Mar 2022" in page.text
    # The quarter is short of RH8's January, and the April-June quarter of two months.
    assert "RH8 lacks 2022-01-01" in page.text
    assert "no return for 2022-05-01, 2022-06-01" in page.text
    assert '<option value="QJK" selected>' in page.text


def test_financial_years_are_offered_and_charted(devon_client: TestClient) -> None:
    got = devon_client.get("/api/standards/ed-4hr", params={"org": "RA9", "by": "fy"}).json()
    assert [p["label"] for p in got["points"]] == ["2021/22", "2022/23"]
    page = devon_client.get("/standards/ed-4hr", params={"org": "RA9"})
    assert '<option value="fy">Financial year (from April)</option>' in page.text


def test_a_bad_organisation_scope_is_refused(devon_client: TestClient) -> None:
    assert devon_client.get("/api/standards/ed-4hr", params={"org": "QXX"}).status_code == 404
    assert devon_client.get("/api/standards/ed-4hr", params={"org": "QJK", "site": "RA901"}).status_code in (400, 404)
