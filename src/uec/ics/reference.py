"""The demo ICS itself: its organisations, sites and services.

Codes are made up and can never be real ODS codes: every one holds a hyphen (`DEMO-A`, site
`DEMO-A01`), which ODS codes never do, so a real return loaded into a demo store cannot merge a real
trust's figures into the demo ICS (issue 15). Nothing here is random: the same ICS appears whatever
the seed, so a seed changes the patients, never the map.
"""

from __future__ import annotations

ICB = "DEMO-ICB"
AMBULANCE = "DEMO-AMB"
NHS111 = "DEMO-IUC"
COMMUNITY = "DEMO-CHS"
MENTAL_HEALTH = "DEMO-MH"
LOCAL_AUTHORITY = "DEMO-LA"


# trust, trust name, site, site name, catchment population, ED cubicles, SDEC chairs, acute frailty unit
ACUTE: tuple[tuple[str, str, str, str, int, int, int, bool], ...] = (
    ("DEMO-A", "Aldermoor Hospitals NHS Foundation Trust", "DEMO-A01", "Aldermoor General Hospital",
     430_000, 44, 20, False),
    ("DEMO-B", "Brookfield University Hospitals NHS Trust", "DEMO-B01", "Brookfield Royal Infirmary",
     400_000, 41, 18, True),
    ("DEMO-C", "Castlegate and District NHS Foundation Trust", "DEMO-C01", "Castlegate District Hospital",
     370_000, 38, 16, False),
)

# The two urgent treatment centres, each in the catchment of an acute site (index into ACUTE).
UTCS: tuple[tuple[str, str, int, int], ...] = (
    ("DEMO-CHS01", "Northgate Urgent Treatment Centre", 0, 12),
    ("DEMO-CHS02", "Southbank Urgent Treatment Centre", 2, 10),
)
UTC_HOURS = ("08:00", "22:00")
SDEC_HOURS = ("08:00", "20:00")
FRAILTY_HOURS = ("08:00", "20:00")
UCR_HOURS = ("08:00", "20:00")


def population_total() -> int:
    """People living in the ICS: the sum of the acute sites' catchments.

    >>> population_total()
    1200000
    """
    return sum(a[4] for a in ACUTE)


def core_beds(beds_per_1000: float) -> list[int]:
    """Core G&A beds per acute site, from the KH03 beds per 1,000 people and the catchments.

    >>> core_beds(1.811)
    [779, 724, 670]
    """
    return [round(a[4] * beds_per_1000 / 1000) for a in ACUTE]


def escalation_beds(core: list[int], share: float) -> list[int]:
    """Escalation beds each site can open on top of its core beds.

    >>> escalation_beds([779, 724, 670], 0.05)
    [39, 36, 34]
    """
    return [round(c * share) for c in core]


Row = dict[str, object]


def organisations() -> list[Row]:
    rows: list[Row] = [
        {"org_code": ICB, "name": "NHS Demoshire Integrated Care Board", "org_type": "ics", "ics_code": ICB},
    ]
    for trust, trust_name, *_ in ACUTE:
        rows.append({"org_code": trust, "name": trust_name, "org_type": "acute_trust", "ics_code": ICB})
    rows += [
        {"org_code": AMBULANCE, "name": "Demoshire Ambulance Service NHS Trust",
         "org_type": "ambulance_trust", "ics_code": ICB},
        {"org_code": NHS111, "name": "Demoshire Integrated Urgent Care (NHS 111)",
         "org_type": "nhs111_provider", "ics_code": ICB},
        {"org_code": COMMUNITY, "name": "Demoshire Community Health Services NHS Trust",
         "org_type": "community_provider", "ics_code": ICB},
        {"org_code": MENTAL_HEALTH, "name": "Demoshire Mental Health NHS Foundation Trust",
         "org_type": "mental_health_provider", "ics_code": ICB},
        {"org_code": LOCAL_AUTHORITY, "name": "Demoshire County Council",
         "org_type": "local_authority", "ics_code": ICB},
    ]
    return rows


def hierarchy() -> list[Row]:
    """Where the demo's NHS organisations and sites sit (``org_hierarchy``): sites in their trusts,
    trusts in the integrated care board. The board's region is left empty, since the demo ICS is in
    no real NHS England region, and the council is not an NHS organisation.

    >>> rows = hierarchy()
    >>> [(r["org_code"], r["role"], r["parent_code"]) for r in rows[:2]]
    [('DEMO-ICB', 'icb', None), ('DEMO-A', 'trust', 'DEMO-ICB')]
    >>> next(r["parent_code"] for r in rows if r["org_code"] == "DEMO-A01")
    'DEMO-A'
    """
    rows: list[Row] = []
    for org in organisations():
        if org["org_type"] == "ics":
            rows.append({"org_code": org["org_code"], "name": org["name"], "role": "icb", "parent_code": None})
        elif org["org_type"] != "local_authority":
            rows.append({"org_code": org["org_code"], "name": org["name"], "role": "trust", "parent_code": ICB})
    nhs = {r["org_code"] for r in rows}
    rows += [{"org_code": s["site_code"], "name": s["name"], "role": "site", "parent_code": s["org_code"]}
             for s in sites() if s["org_code"] in nhs]
    return rows


def sites() -> list[Row]:
    # Only the acute sites carry a population: their catchments partition the ICS, so the column
    # sums to the ICS population; UTCs and bases serve people already counted there.
    rows: list[Row] = []
    for trust, _, site, name, pop, *_ in ACUTE:
        rows.append({"site_code": site, "org_code": trust, "name": name, "site_type": "acute_hospital",
                     "population_served": pop})
    for site, name, _, _ in UTCS:
        rows.append({"site_code": site, "org_code": COMMUNITY, "name": name, "site_type": "utc_site",
                     "population_served": None})
    rows += [
        {"site_code": "DEMO-CHS03", "org_code": COMMUNITY, "name": "Demoshire Care Coordination Hub",
         "site_type": "community_hub", "population_served": None},
        {"site_code": "DEMO-CHS04", "org_code": COMMUNITY, "name": "Millbrook Community Hospital",
         "site_type": "community_hospital", "population_served": None},
        {"site_code": "DEMO-AMB01", "org_code": AMBULANCE, "name": "Demoshire Ambulance Headquarters",
         "site_type": "ambulance_base", "population_served": None},
        {"site_code": "DEMO-IUC01", "org_code": NHS111, "name": "Demoshire NHS 111 Contact Centre",
         "site_type": "call_centre", "population_served": None},
        {"site_code": "DEMO-LA01", "org_code": LOCAL_AUTHORITY, "name": "Demoshire County Hall",
         "site_type": "community_hub", "population_served": None},
    ]
    return rows


def services(core: list[int], escalation: list[int]) -> list[Row]:
    rows: list[Row] = []

    def add(sid: str, site: str, stype: str, name: str, hours: tuple[str, str] | None,
            capacity: int, unit: str) -> None:
        rows.append({"service_id": sid, "site_code": site, "service_type": stype, "name": name,
                     "opens": hours[0] if hours else None, "closes": hours[1] if hours else None,
                     "capacity": capacity, "capacity_unit": unit})

    for i, (_, _, site, name, _, cubicles, chairs, frailty) in enumerate(ACUTE):
        short = name.split()[0]
        add(f"{site}-ED", site, "ed_type1", f"{short} Emergency Department", None, cubicles, "cubicles")
        add(f"{site}-SDEC", site, "sdec", f"{short} Same Day Emergency Care", SDEC_HOURS, chairs, "chairs")
        add(f"{site}-GA", site, "g_and_a_beds", f"{short} general and acute wards (core)", None, core[i], "beds")
        add(f"{site}-GAE", site, "g_and_a_beds", f"{short} escalation beds", None, escalation[i], "beds")
        if frailty:
            add(f"{site}-AFU", site, "acute_frailty", f"{short} Acute Frailty Unit", FRAILTY_HOURS, 12, "chairs")
    for site, name, _, cubicles in UTCS:
        add(f"{site}-UTC", site, "utc", name, UTC_HOURS, cubicles, "cubicles")
    add("DEMO-CHS03-UCR", "DEMO-CHS03", "ucr", "Demoshire 2-hour Urgent Community Response", UCR_HOURS, 6, "teams")
    add("DEMO-CHS03-P1", "DEMO-CHS03", "home_care", "Discharge to assess: home care packages (pathway 1)", None,
        320, "packages")
    add("DEMO-CHS04-P2", "DEMO-CHS04", "community_beds", "Discharge to assess: community beds (pathway 2)", None,
        120, "beds")
    add("DEMO-CHS03-P3", "DEMO-CHS03", "care_home", "Discharge to assess: care home beds (pathway 3)", None, 90, "beds")
    add("DEMO-AMB01-AMB", "DEMO-AMB01", "ambulance", "Demoshire 999 emergency ambulance", None, 38, "crews")
    add("DEMO-IUC01-111", "DEMO-IUC01", "nhs111", "Demoshire NHS 111", None, 45, "call_handlers")
    return rows
