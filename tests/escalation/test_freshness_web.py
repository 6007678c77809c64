"""The system page shows each source's last load and flags a source later than its expected interval."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from loop_helpers import build

from uec.access.tokens import create_token
from uec.config import get_settings
from uec.store import open_store
from uec.web import create_app

AT = "2024-07-10T14:00"


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, dict[str, str]]]:
    monkeypatch.setenv("UEC_SECRET_KEY", "test-secret-key-for-signing-cookies-0123456789")
    monkeypatch.setenv("UEC_STATE_DIR", str(tmp_path / "state"))
    get_settings.cache_clear()
    store = build(open_store(str(tmp_path / "uec.duckdb")))
    token = create_token(store, "vic-token", role="viewer", org_code="ICB")[1]
    yield TestClient(create_app(store.url)), {"Authorization": f"Bearer {token}"}
    get_settings.cache_clear()


def test_system_page_flags_late_sources(client: tuple[TestClient, dict[str, str]]) -> None:
    c, auth = client
    j = c.get("/escalation.json", params={"at": AT}, headers=auth).json()
    f = {row["source"]: row for row in j["freshness"]}
    # At 14:00 the latest attendance arrived 13:30 (a10): on time within an hour.
    assert f["A&E attendances"]["latest"].startswith("2024-07-10T12:30") and not f["A&E attendances"]["late"]
    # The 16:00 census had not happened yet: the 08:00 one is 6 h old, inside 9 h.
    assert f["Bed states"]["latest"].startswith("2024-07-10T07:00") and not f["Bed states"]["late"]
    assert f["NHS 111 calls"]["late"] and f["NHS 111 calls"]["why"] == "no record yet"
    assert f["Bed states"]["expected_minutes"] == 540
    page = c.get("/escalation", params={"at": AT}, headers=auth).text
    assert "2 source(s) later than expected: Inpatient spells, NHS 111 calls" in page
    assert 'nhsuk-tag--red">Late</strong>' in page
