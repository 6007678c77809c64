"""The catalogue as reviewed data: what the issue asks for is there, sourced, and strictly loaded."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest

from uec.standards import catalogue, reference_markdown
from uec.standards.model import CatalogueError, load_catalogue, standard_from_mapping
from uec.standards.reference import REGENERATE

ROOT = Path(__file__).parents[2]

# (id, [(value, comparison, in force on)]) for every target the issue names.
REQUIRED_TARGETS: list[tuple[str, list[tuple[float, str, dt.date]]]] = [
    ("ed-4hr", [(0.95, ">=", dt.date(2015, 1, 1)), (0.76, ">=", dt.date(2024, 3, 1)),
                (0.78, ">=", dt.date(2025, 3, 1)), (0.78, ">=", dt.date(2026, 3, 1)),
                (0.82, ">=", dt.date(2026, 12, 1))]),
    ("ed-12hr-arrival", [(0.10, "<", dt.date(2025, 6, 1))]),
    ("ed-111-booked", [(0.70, ">=", dt.date(2021, 6, 1))]),
    ("amb-c1-mean", [(7, "<=", dt.date(2019, 1, 1))]),
    ("amb-c1-p90", [(15, "<=", dt.date(2019, 1, 1))]),
    ("amb-c2-mean", [(18, "<=", dt.date(2019, 1, 1)), (30, "<=", dt.date(2023, 6, 1)),
                     (30, "<=", dt.date(2026, 12, 1))]),
    ("amb-c2-p90", [(40, "<=", dt.date(2019, 1, 1))]),
    ("amb-c3-p90", [(120, "<=", dt.date(2019, 1, 1))]),
    ("amb-c4-p90", [(180, "<=", dt.date(2019, 1, 1))]),
    ("amb-handover-15", [(0.65, ">=", dt.date(2023, 1, 1))]),
    ("amb-handover-30", [(0.95, ">=", dt.date(2023, 1, 1))]),
    ("amb-handover-60", [(1.0, ">=", dt.date(2023, 1, 1))]),
    ("amb-handover-45", [(1.0, ">=", dt.date(2025, 6, 1)), (1.0, ">=", dt.date(2026, 12, 1))]),
    ("beds-ga-occupancy", [(0.92, "<=", dt.date(2023, 6, 1)), (0.85, "<=", dt.date(2019, 1, 1))]),
    ("flow-discharge-p0", [(0.50, ">=", dt.date(2024, 1, 1))]),
    ("flow-discharge-p1", [(0.45, ">=", dt.date(2024, 1, 1))]),
    ("flow-discharge-p2", [(0.04, "<=", dt.date(2024, 1, 1))]),
    ("flow-discharge-p3", [(0.01, "<=", dt.date(2024, 1, 1))]),
    ("flow-ucr-2hr", [(0.70, ">=", dt.date(2024, 1, 1))]),
]

REQUIRED_IDS = {
    "ed-4hr", "ed-4hr-type1", "ed-12hr-arrival", "ed-12hr-dta", "ed-initial-assessment-15",
    "ed-clinically-ready-1hr", "ed-mean-time-admitted", "ed-mean-time-non-admitted", "ed-mh-12hr",
    "ed-attendances-per-1000", "ed-111-booked", "amb-c1-mean", "amb-c1-p90", "amb-c2-mean", "amb-c2-p90",
    "amb-c3-p90", "amb-c4-p90", "amb-handover-15", "amb-handover-30", "amb-handover-60", "amb-handover-45",
    "amb-hours-lost-15", "amb-hours-lost-60", "amb-hear-and-treat", "amb-see-and-treat", "amb-conveyance-ed",
    "beds-ga-occupancy", "beds-escalation-open", "beds-los7-count", "beds-los7-pct", "beds-los14-count",
    "beds-los14-pct", "beds-los21-count", "beds-los21-pct", "beds-no-criteria-to-reside",
    "flow-discharge-p0", "flow-discharge-p1", "flow-discharge-p2", "flow-discharge-p3",
    "flow-weekend-discharges", "flow-sdec-hours", "flow-ucr-2hr",
}


def test_catalogue_has_every_standard_the_issue_names() -> None:
    assert set(catalogue().ids) >= REQUIRED_IDS


@pytest.mark.parametrize(("sid", "targets"), REQUIRED_TARGETS)
def test_targets_are_there_dated_and_sourced(sid: str, targets: list[tuple[float, str, dt.date]]) -> None:
    s = catalogue().get(sid)
    for value, comparison, day in targets:
        live = [t for t in s.targets if t.in_force(day) and t.value == pytest.approx(value)]
        assert live and live[0].comparison == comparison, (sid, value, day)
        assert live[0].source.year >= 1999 and live[0].source.title


def test_every_standard_is_complete_and_reviewable() -> None:
    for s in catalogue().standards:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", s.id)
        assert s.title and s.definition and s.numerator and s.unit and s.direction and s.grains
        assert s.denominator or s.statistic == "total", s.id
        assert s.targets or s.notes, f"{s.id}: a standard with no target says why in its notes"
        for t in s.targets:
            assert t.verified or t.note, f"{s.id}: an unverified target says what is unverified"


def test_unverified_numbers_are_marked() -> None:
    dta = catalogue().get("ed-12hr-dta").targets
    assert [t.verified for t in dta] == [False]
    # The 2026/27 targets come from summaries of the medium term planning framework, not its own text.
    unread = {"mtpf-2026-29"}
    assert all(t.verified for s in catalogue().standards if s.id != "ed-12hr-dta" for t in s.targets
               if t.source.id not in unread)
    assert not any(t.verified for s in catalogue().standards for t in s.targets if t.source.id in unread)


def test_every_target_in_force_last_year_is_renewed_or_its_lapse_explained() -> None:
    # Fails when the guidance moves on and the catalogue does not: a standard judged last year against
    # an operational (or contract, ambition...) target needs this year's, or a `no_target_since` note
    # saying from when and why there is none. Today's date, on purpose: the catalogue must stay current.
    today = dt.date.today()
    lapsed = {s.id: s.lapsed(today) for s in catalogue().standards if s.lapsed(today)}
    assert not lapsed, f"add this year's targets (or a no_target_since note) to the catalogue: {lapsed}"


def test_the_2026_27_targets_are_in_force_on_2_december_2026() -> None:
    cat = catalogue()
    day = dt.date(2026, 12, 2)
    headline = {sid: cat.get(sid).target_for(day) for sid in ("ed-4hr", "amb-c2-mean", "amb-handover-45")}
    assert {k: (t.value, t.source.id) for k, t in headline.items() if t} == {
        "ed-4hr": (0.82, "mtpf-2026-29"), "amb-c2-mean": (30.0, "mtpf-2026-29"),
        "amb-handover-45": (1.0, "mtpf-2026-29")}
    assert all(cat.get(s.id).lapsed(day) == [] for s in cat.standards)
    [why] = cat.get("ed-12hr-arrival").no_target_since
    assert (why.kind, why.effective_from, why.source and why.source.id) == ("ambition", dt.date(2026, 4, 1),
                                                                           "mtpf-2026-29")
    # Without the note, the lapsed 2025/26 ambition is reported.
    from dataclasses import replace

    assert replace(cat.get("ed-12hr-arrival"), no_target_since=()).lapsed(day) == ["ambition"]


def test_headline_target_prefers_this_years_operational_target() -> None:
    s = catalogue().get("ed-4hr")
    assert s.target_for(dt.date(2024, 3, 1)).value == 0.76  # type: ignore[union-attr]
    assert s.target_for(dt.date(2019, 3, 1)).value == 0.95  # type: ignore[union-attr]
    assert catalogue().get("beds-ga-occupancy").target_for(dt.date(2025, 1, 1)).kind == "benchmark"  # type: ignore[union-attr]


SOURCES = "sources: {s: {title: T, publisher: P, year: 2020}}"
GOOD: dict[str, Any] = {
    "id": "x", "title": "X", "definition": "d", "numerator": "n", "unit": "count", "direction": "lower",
    "statistic": "total", "disclosure": "numerator",
    "events": [{"table": "attendances", "time": "arrival_time", "site": "site_code", "numerator": "1"}],
}


@pytest.mark.parametrize(("change", "message"), [
    ({"colour": "red"}, "unknown key"),
    ({"unit": "furlongs"}, "not one of"),
    ({"events": [{**GOOD["events"][0], "colour": 1}]}, "unknown key"),
    ({"events": [{**GOOD["events"][0], "table": "beds"}]}, "unknown contract table"),
    ({"events": [{**GOOD["events"][0], "time": "arrived"}]}, "not a column"),
    ({"events": [{**GOOD["events"][0], "breakdowns": ["postcode"]}]}, "not available"),
    ({"events": [], "returns": []}, "at least one"),
    ({"returns": [{"numerator": ["a; DROP TABLE x"]}]}, "not a plain code"),
    ({"targets": [{"value": 1, "comparison": ">=", "kind": "operational", "label": "l", "source": "nope"}]},
     "unknown source"),
    ({"targets": [{"value": 1, "comparison": "=>", "kind": "operational", "label": "l", "source": "s"}]},
     "not one of"),
    ({"targets": [{"value": 1, "comparison": ">=", "kind": "operational", "label": "l", "source": "s",
                   "from": "2024-04-01", "to": "2023-04-01"}]}, "before"),
    ({"statistic": "percentile"}, "measure"),
    ({"no_target_since": [{"kind": "operational", "from": "2026-04-01"}]}, "missing key"),
    ({"no_target_since": [{"kind": "operational", "from": "2026-04-01", "note": "n", "source": "nope"}]},
     "unknown source"),
    ({"no_target_since": [{"kind": "aspiration", "from": "2026-04-01", "note": "n"}]}, "not one of"),
])
def test_loading_rejects_mistakes(change: dict[str, Any], message: str) -> None:
    sources = load_catalogue([], SOURCES).sources
    assert standard_from_mapping(GOOD, "ed", sources).id == "x"
    with pytest.raises(CatalogueError, match=message):
        standard_from_mapping({**GOOD, **change}, "ed", sources)


def test_duplicate_ids_are_rejected() -> None:
    import yaml

    text = yaml.safe_dump({"area": "ed", "standards": [GOOD, GOOD]})
    with pytest.raises(CatalogueError, match="defined twice"):
        load_catalogue([("ed", text)], SOURCES)


def test_reference_page_is_up_to_date() -> None:
    committed = (ROOT / "docs" / "reference" / "standards.md").read_text(encoding="utf-8")
    assert committed == reference_markdown(), f"docs/reference/standards.md is stale: run {REGENERATE}"
