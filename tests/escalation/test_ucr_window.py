"""The urgent community response parameter counts referrals whose 2-hour clock has run out, received
while the service is open (issue 13: overnight referrals to an 08:00-20:00 service made the
community pillar OPEL 4 at noon on ~40% of demo days).

The instant is 2024-07-10 14:00 Europe/London; the window is referrals received from
2024-07-09 12:00 to 2024-07-10 12:00 (their clock ran out by 14:00). C1's UCR service opens 08:00-20:00.

- q1 2024-07-09 11:00: before the window, left out.
- q2 2024-07-09 15:00, seen 16:00: in hours, met.
- q3 2024-07-09 23:00, seen next day 08:30: overnight, service closed, left out.
- q4 2024-07-10 03:00, seen 09:00: overnight, left out.
- q5 2024-07-10 08:30, seen 12:00: in hours, 3.5 h, breach.
- q6 2024-07-10 11:30, never seen: its clock ran out at 13:30, a breach.
- q7 2024-07-10 09:00, seen 10:00: met.
- q8 2024-07-10 12:30, seen 13:00: clock not yet run out at 14:00, left out.

So 2 met of 4 in scope: 50% -> at or below 50% -> OPEL 4. Without the service hours (C2, same
referrals, no service listed) q3 and q4 count too: 2 of 6 = 33.3%.
"""

from __future__ import annotations

from typing import Any

import pytest
from escalation_fixtures import AT, put_rows, t

from uec.escalation import status
from uec.store import Store


def _referrals(org: str) -> list[dict[str, Any]]:
    rows = [("q1", "2024-07-09 11:00", "2024-07-09 12:00"), ("q2", "2024-07-09 15:00", "2024-07-09 16:00"),
            ("q3", "2024-07-09 23:00", "2024-07-10 08:30"), ("q4", "2024-07-10 03:00", "2024-07-10 09:00"),
            ("q5", "2024-07-10 08:30", "2024-07-10 12:00"), ("q6", "2024-07-10 11:30", None),
            ("q7", "2024-07-10 09:00", "2024-07-10 10:00"), ("q8", "2024-07-10 12:30", "2024-07-10 13:00")]
    return [{"referral_id": f"{org}{rid}", "org_code": org, "referral_time": t(ref),
             "first_visit_time": t(seen) if seen else None} for rid, ref, seen in rows]


def test_ucr_counts_referrals_whose_clock_ran_out_in_service_hours(store: Store) -> None:
    put_rows(store, "organisations", [
        {"org_code": "C1", "name": "Community one", "org_type": "community_provider"},
        {"org_code": "C2", "name": "Community two", "org_type": "community_provider"},
    ])
    put_rows(store, "sites", [{"site_code": "C1S", "org_code": "C1", "name": "Base", "site_type": "community_hub"}])
    put_rows(store, "services", [{"service_id": "C1-UCR", "site_code": "C1S", "service_type": "ucr",
                                  "name": "UCR", "opens": "08:00", "closes": "20:00"}])
    put_rows(store, "ucr_referrals", _referrals("C1") + _referrals("C2"))
    by = {(sc.kind, sc.code): sc for sc in status(store, AT).all()}
    c1 = {a.parameter_id: a for a in by[("org", "C1")].parameters}["chs-ucr-2hr"]
    c2 = {a.parameter_id: a for a in by[("org", "C2")].parameters}["chs-ucr-2hr"]
    assert c1.value == pytest.approx(0.5) and c1.level == 4
    assert c2.value == pytest.approx(2 / 6)
