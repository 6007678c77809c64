from __future__ import annotations

from pathlib import Path

import pytest

from uec.contract import contract, reference_markdown, table, table_for_kind, tables

ROOT = Path(__file__).parents[2]


def test_every_table_documents_every_field() -> None:
    for t in tables():
        assert t.description and t.title
        for f in t.fields:
            assert f.meaning.strip(), f"{t.name}.{f.name} has no meaning"
            assert f.national.strip(), f"{t.name}.{f.name} has no national equivalent"


def test_contract_covers_the_issue_tables() -> None:
    names = {t.name for t in tables()}
    assert {
        "organisations", "sites", "services", "calls_111", "ambulance_incidents", "attendances",
        "spells", "bed_states", "ucr_referrals", "returns",
    } <= names


@pytest.mark.parametrize(
    ("table_name", "fields"),
    [
        ("attendances", ["arrival_time", "arrival_mode", "acuity", "initial_assessment_time", "seen_time",
                         "decision_to_admit_time", "clinically_ready_time", "departure_time", "disposal",
                         "age_band", "sex", "ethnic_group", "imd_decile", "mental_health", "patient_key"]),
        ("ambulance_incidents", ["call_time", "category", "allocated_time", "on_scene_time", "outcome",
                                 "destination_site", "hospital_arrival_time", "handover_time", "clear_time"]),
        ("spells", ["admission_time", "site_code", "specialty_group", "criteria_to_reside_end_time",
                    "discharge_time", "discharge_pathway", "discharge_destination"]),
        ("calls_111", ["call_time", "disposition", "booked_slot"]),
        ("bed_states", ["site_code", "bed_type", "beds_open", "beds_occupied"]),
        ("ucr_referrals", ["referral_time", "first_visit_time"]),
        ("returns", ["org_code", "period_start", "period_length", "metric_code", "value", "source"]),
    ],
)
def test_tables_have_the_fields_the_issue_names(table_name: str, fields: list[str]) -> None:
    assert set(fields) <= set(table(table_name).field_names)


def test_escalation_beds_and_service_types_are_codes() -> None:
    assert "g_and_a_escalation" in (table("bed_states").field("bed_type").values or ())
    service_types = set(table("services").field("service_type").values or ())
    assert {"ed_type1", "ed_type2", "ed_type3", "ed_type4", "utc", "sdec", "acute_frailty", "ucr",
            "nhs111", "ambulance", "community_beds", "care_home"} <= service_types
    assert table("spells").field("discharge_pathway").min == 0
    assert table("spells").field("discharge_pathway").max == 3


def test_kinds_round_trip() -> None:
    for t in tables():
        assert table_for_kind(t.kind) is t
    with pytest.raises(KeyError):
        table_for_kind("nope")


def test_generated_reference_page_is_up_to_date() -> None:
    # docs/reference/contract.md is generated; a contract change must regenerate it.
    committed = (ROOT / "docs" / "reference" / "contract.md").read_text(encoding="utf-8")
    assert committed == reference_markdown() + "\n", "run: uec docs contract --output docs/reference/contract.md"


def test_contract_is_versioned() -> None:
    assert contract().version >= 1
    assert contract().effective_from
