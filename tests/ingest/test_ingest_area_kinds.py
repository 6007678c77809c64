"""The contract's ED area snapshots, specialty referrals, NHS 111 call handling and capacity snapshots:
`uec ingest KIND FILE` loads the valid rows and quarantines the bad ones with a reason, and the feed
endpoint's library takes each kind from the organisation it belongs to; on both stores."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from uec.contract import table
from uec.feeds import FeedRefused, receive
from uec.store import Store, open_store

#: kind -> (CSV, rows loaded, {row number: a part of its quarantine reason}).
CASES: dict[str, tuple[str, int, dict[int, str]]] = {
    "ed-area-states": (
        "site_code,snapshot_time,area,spaces,patients\n"
        "DEMO-A01,2026-12-01 10:00,majors,20,24\n"
        "DEMO-A01,2026-12-01 10:00,resus,4,3\n"
        "DEMO-A01,2026-12-01 10:00,corridor,4,3\n"
        "DEMO-A01,2026-12-01 11:00,majors,-1,3\n"
        "ZZZ99,2026-12-01 11:00,majors,20,3\n",
        2, {3: "area: 'corridor' is not one of resus, majors, minors, paediatrics, other",
            4: "spaces: -1 is below the minimum 0", 5: "site_code: 'ZZZ99' is not in sites"}),
    "specialty-referrals": (
        "referral_id,attendance_id,site_code,request_time,assessment_time,specialty_group\n"
        "R1,A1,DEMO-A01,2026-12-01 10:00,2026-12-01 11:30,medicine\n"
        "R2,A2,DEMO-A01,2026-12-01 10:00,2026-12-01 09:00,surgery\n"
        "R3,,DEMO-A01,2026-12-01 10:00,,medicine\n",
        1, {2: "assessment_time is before request_time", 3: "attendance_id is missing"}),
    "calls-111-handling": (
        "org_code,period_start,period_end,calls_offered,calls_answered,calls_abandoned,answered_within_60s\n"
        "N11,2026-12-01 10:00,2026-12-01 11:00,120,110,6,90\n"
        "N11,2026-12-01 11:00,2026-12-01 12:00,100,110,6,90\n"
        "N11,2026-12-01 12:00,2026-12-01 13:00,100,90,6,95\n"
        "N11,2026-12-01 14:00,2026-12-01 13:00,100,90,6,80\n",
        1, {2: "calls_answered is above calls_offered", 3: "answered_within_60s is above calls_answered",
            4: "period_end is before period_start"}),
    "capacity-states": (
        "org_code,snapshot_time,service,capacity,occupied,out_of_area\n"
        "MH1,2026-12-01 08:00,mh_adult_acute_beds,100,97,4\n"
        "DEMO-A,2026-12-01 08:00,virtual_ward,40,30,\n"
        "MH1,2026-12-01 08:00,mh_beds,100,97,4\n"
        "MH1,2026-12-01 09:00,mh_adult_acute_beds,100,,4\n",
        2, {3: "service: 'mh_beds' is not one of", 4: "occupied is missing"}),
}


def _put(store: Store, name: str, rows: list[dict[str, Any]]) -> None:
    schema = table(name).arrow_schema()
    with store.write() as w:
        w.append(name, pa.table({f.name: pa.array([r.get(f.name) for r in rows], f.type) for f in schema}))


def _reference(store: Store) -> None:
    _put(store, "organisations", [
        {"org_code": "DEMO-A", "name": "Trust A", "org_type": "acute_trust"},
        {"org_code": "N11", "name": "NHS 111", "org_type": "nhs111_provider"},
        {"org_code": "MH1", "name": "Mental health", "org_type": "mental_health_provider"},
    ])
    _put(store, "sites", [{"site_code": "DEMO-A01", "org_code": "DEMO-A", "name": "Hospital A",
                           "site_type": "acute_hospital"}])


@pytest.mark.parametrize("kind", sorted(CASES))
def test_uec_ingest_loads_good_rows_and_quarantines_bad_ones(kind: str, store_url: str, tmp_path: Path) -> None:
    text, loaded, reasons = CASES[kind]
    store = open_store(store_url)
    _reference(store)
    f = tmp_path / f"{kind}.csv"
    f.write_text(text, encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "uec", "ingest", kind, str(f), "--store", store_url, "--json"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout.strip().splitlines()[-1])
    rows_in = text.count("\n") - 1
    assert (result["rows_in"], result["rows_loaded"], result["rows_quarantined"]) == (
        rows_in, loaded, rows_in - loaded)
    got = {int(q["row_number"]): q["reason"] for q in store.query("SELECT row_number, reason FROM quarantine")}
    assert set(got) == set(reasons)
    for n, part in reasons.items():
        assert part in got[n], (n, got[n])
    assert store.counts()[table(kind.replace("-", "_")).name] == loaded


def test_feeds_take_each_new_kind_from_its_own_organisation(store: Store) -> None:
    _reference(store)
    ok = {
        "ed-area-states": ("DEMO-A",
                           b"site_code,snapshot_time,area,spaces,patients\nDEMO-A01,2026-12-01 10:00,resus,4,3\n"),
        "specialty-referrals": ("DEMO-A", b"referral_id,attendance_id,site_code,request_time\n"
                                       b"R1,A1,DEMO-A01,2026-12-01 10:00\n"),
        "calls-111-handling": ("N11", b"org_code,period_start,period_end,calls_offered,calls_answered,"
                                      b"calls_abandoned,answered_within_60s\n"
                                      b"N11,2026-12-01 10:00,2026-12-01 10:15,30,28,1,25\n"),
        "capacity-states": ("MH1", b"org_code,snapshot_time,service,capacity,occupied\n"
                                   b"MH1,2026-12-01 08:00,mh_adult_acute_beds,100,97\n"),
    }
    for kind, (org, body) in ok.items():
        r = receive(store, kind, body, content_type="text/csv", org_code=org, actor_label="token:t")
        assert (r.rows_in, r.rows_loaded) == (1, 1), kind
        # The same rows sent by another organisation are refused whole.
        with pytest.raises(FeedRefused) as refused:
            receive(store, kind, body, content_type="text/csv", org_code="N11" if org != "N11" else "DEMO-A",
                    actor_label="token:u")
        assert refused.value.status == 403, kind
