"""The catalogue page's grain-by-standard view: for every standard, which grains compute it and from what."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from uec.standards import catalogue


def test_matrix_says_for_every_standard_which_grains_and_collections_compute_it(web_client: TestClient) -> None:
    data = web_client.get("/standards.json").json()
    got = {s["id"]: s["computable_from"] for s in data["standards"]}
    assert set(got) == set(catalogue().ids)
    assert got["beds-no-criteria-to-reside"] == {"events": ["spells"], "returns": ["discharge_sitrep", "uec_sitrep"]}
    assert got["flow-delays"] == {"returns": ["discharge_delays"]}
    assert got["ed-4hr"]["returns"] == ["ae_monthly", "ae_scotland", "ae_wales"]
    assert got["flow-sdec-hours"] == {"events": ["services"]}
    page = web_client.get("/standards").text
    table = page[page.index('id="standards-grains"'):]
    table = table[: table.index("</table>")]
    assert len(re.findall(r'<tr class="nhsuk-table__row" id="grains-', table)) == len(catalogue().standards)
    row = table[table.index('id="grains-flow-delays"'):]
    row = row[: row.index("</tr>")]
    assert "Not from events" in row and "discharge_delays" in row
