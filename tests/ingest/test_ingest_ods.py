"""The organisation hierarchy from the Organisation Data Service's files (issue 14 item 2), on both stores.

``etr.csv`` and ``ets.csv`` are published without a header line; each loads with one ``ingest`` into
``org_hierarchy``, as does a CSV in the table's own columns. See tests/data/ods/README.md.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from uec.errors import UecError
from uec.ingest import ingest
from uec.standards import organisation_names
from uec.store import Store

ODS = Path(__file__).parents[1] / "data" / "ods"


def _hierarchy(store: Store) -> dict[str, tuple[str, str | None, str | None, dt.date | None]]:
    rows = store.query("SELECT org_code, role, parent_code, region_code, close_date FROM org_hierarchy")
    return {r["org_code"]: (r["role"], r["parent_code"], r["region_code"], r["close_date"]) for r in rows}


def test_the_ods_trusts_and_sites_files_load(store: Store) -> None:
    trusts = ingest(store, "ods-trusts", ODS / "etr.csv")
    # No header line: the first line is a trust, not column names.
    assert (trusts.rows_in, trusts.rows_loaded, trusts.rows_quarantined) == (5, 5, 0)
    sites = ingest(store, "ods-sites", ODS / "ets.csv")
    assert (sites.rows_in, sites.rows_loaded) == (4, 4)
    got = _hierarchy(store)
    # A trust sits in its ICB (High Level Health Geography), in its region (National Grouping).
    assert got["RA9"] == ("trust", "QJK", "Y58", None)
    assert got["REF"][1] == "QT6"
    # ODS dates are YYYYMMDD: Northern Devon closed when it merged into Royal Devon.
    assert got["RBZ"][3] == dt.date(2022, 3, 31)
    # A site sits in its trust.
    assert got["RK950"][:2] == ("site", "RK9")
    names = organisation_names(store)
    assert names["RH8"] == "ROYAL DEVON UNIVERSITY HEALTHCARE NHS FOUNDATION TRUST"
    assert "RK950" not in names  # sites are not organisations
    assert names["Y58"] == "South West"


def test_a_hierarchy_csv_names_the_areas(store: Store) -> None:
    load = ingest(store, "org-hierarchy", ODS / "hierarchy.csv")
    assert load.rows_loaded == 4
    assert _hierarchy(store)["QJK"][:2] == ("icb", "Y58")
    assert organisation_names(store)["QJK"] == "NHS Devon Integrated Care Board"


def test_a_bad_ods_row_is_quarantined_with_its_reason(store: Store, tmp_path: Path) -> None:
    text = (ODS / "etr.csv").read_text(encoding="utf-8")
    bad = text.replace('"RK9","UNIVERSITY HOSPITALS PLYMOUTH NHS TRUST","Y58","QJK",,,,,,,,',
                       '"RK9","UNIVERSITY HOSPITALS PLYMOUTH NHS TRUST","Y58","QJK",,,,,,,,"2022-13-45"', 1)
    assert bad != text
    path = tmp_path / "etr.csv"
    path.write_text(bad, encoding="utf-8")
    load = ingest(store, "ods-trusts", path)
    assert (load.rows_loaded, load.rows_quarantined) == (4, 1)
    (reason,) = store.query("SELECT reason FROM quarantine")
    assert "close_date" in reason["reason"]


def test_a_file_with_too_few_columns_is_one_line(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "etr.csv"
    path.write_text('"RA9","TORBAY"\n', encoding="utf-8")
    load = ingest(store, "ods-trusts", path)
    # The line is kept with its reason, as any line with the wrong number of fields.
    assert (load.rows_in, load.rows_quarantined) == (1, 1)
    with pytest.raises(UecError, match="no such file"):
        ingest(store, "ods-trusts", tmp_path / "missing.csv")
