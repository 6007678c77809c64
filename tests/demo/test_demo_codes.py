"""The demo ICS's codes can never be mistaken for real ODS codes (issue 15).

ODS organisation and site codes are upper-case letters and digits only; every demo code holds a
hyphen, so a real published return loaded into a demo store can never merge into a demo trust.
"""

from __future__ import annotations

import re

from uec.ics import reference

# ODS codes: letters and digits, 3 (trusts, ICBs) to 6 (sites, GP practices) characters.
REAL_ODS = re.compile(r"^[A-Z0-9]{3,6}$")


def _codes() -> list[str]:
    core = reference.core_beds(1.811)
    rows = reference.organisations() + reference.sites()
    codes = [str(r.get("org_code") or "") for r in rows] + [str(r.get("site_code") or "") for r in rows]
    codes += [str(r["service_id"]) for r in reference.services(core, reference.escalation_beds(core, 0.05))]
    return sorted({c for c in codes if c})


def test_no_demo_code_is_shaped_like_a_real_ods_code() -> None:
    codes = _codes()
    assert len(codes) > 20
    assert [c for c in codes if REAL_ODS.match(c)] == []
    assert all("-" in c for c in codes)


def test_real_codes_that_the_demo_once_used_are_not_demo_codes() -> None:
    # RXA, RXB and RXC were the demo's trusts until issue 15; RXC is East Sussex Healthcare's code and
    # is in the real monthly A&E return the tests load.
    assert {"RXA", "RXB", "RXC", "RZA"}.isdisjoint(_codes())
