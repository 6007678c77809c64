"""Versioned rule sets: the shipped YAML files, the loader's checks, and choosing by date."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from uec.spc import (
    RuleSet,
    SpcError,
    available_rulesets,
    default_ruleset,
    get_ruleset,
    load_ruleset,
    ruleset_from_mapping,
)

RULESET_DIR = Path(__file__).parents[2] / "src" / "uec" / "spc" / "rulesets"


def good() -> dict[str, Any]:
    return {
        "id": "t",
        "version": "1.0.0",
        "title": "Test",
        "effective_from": "2030-01-01",
        "sources": [{"title": "S", "url": "https://example.org"}],
        "shift_run_length": 6,
        "trend_run_length": 6,
        "limit_multiplier": 2.66,
        "outlier_screening": {"default": True, "multiplier": 3.267},
        "two_in_three_counts_beyond_limits": True,
        "recommended_minimum_points": 12,
    }


def test_shipped_rule_sets_are_all_valid_and_cite_sources() -> None:
    shipped = available_rulesets()
    assert [r.id for r in shipped] == ["mdc-2018", "mdc-2023"]
    files = sorted(p.name for p in RULESET_DIR.glob("*.yaml"))
    assert files == ["mdc-2018.yaml", "mdc-2023.yaml"]
    for rs in shipped:
        assert rs.limit_multiplier == 2.66
        assert rs.outlier_screen_multiplier == 3.267
        assert (rs.shift_run_length, rs.trend_run_length) == (7, 7)
        assert rs.sources and all(s.url.startswith("https://") for s in rs.sources)
        # The file name is the id, so a chart's recorded id finds its file.
        assert (RULESET_DIR / f"{rs.id}.yaml").exists()
        assert load_ruleset(RULESET_DIR / f"{rs.id}.yaml") == rs


def test_the_two_rule_sets_differ_only_in_two_in_three_and_provenance() -> None:
    old, new = get_ruleset("mdc-2018"), get_ruleset("mdc-2023")
    assert (old.two_in_three_counts_beyond_limits, new.two_in_three_counts_beyond_limits) == (False, True)
    assert old.screen_outliers is new.screen_outliers is False


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (dt.date(2018, 5, 1), "mdc-2018"),
        (dt.date(2023, 11, 5), "mdc-2018"),
        (dt.date(2023, 11, 6), "mdc-2023"),
        (dt.date(2026, 1, 1), "mdc-2023"),
    ],
)
def test_default_is_the_latest_in_force_on_the_date(day: dt.date, expected: str) -> None:
    assert default_ruleset(day).id == expected


def test_default_before_any_rule_set_is_an_error() -> None:
    with pytest.raises(SpcError, match="no rule set is in force on 2018-04-30"):
        default_ruleset(dt.date(2018, 4, 30))


def test_default_without_a_date_is_today() -> None:
    assert default_ruleset() == default_ruleset(dt.date.today())


def test_get_by_version() -> None:
    assert get_ruleset("mdc-2023", "1.0.0").version == "1.0.0"
    with pytest.raises(SpcError, match="no rule set 'mdc-2023 version 9'"):
        get_ruleset("mdc-2023", "9")


def test_mapping_round_trip() -> None:
    rs = ruleset_from_mapping(good())
    assert isinstance(rs, RuleSet)
    assert rs.effective_from == dt.date(2030, 1, 1)
    assert rs.screen_outliers is True
    assert rs.near_limit_multiplier == pytest.approx(2.66 * 2 / 3)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"shift_run_length": True}, "'shift_run_length' is True, not an integer"),
        ({"shift_run_length": 1}, "run lengths must be at least 2"),
        ({"trend_run_length": "7"}, "not an integer"),
        ({"limit_multiplier": -1}, "multipliers must be positive"),
        ({"limit_multiplier": "2.66"}, "not a number"),
        ({"effective_from": "May 2018"}, "is not YYYY-MM-DD"),
        ({"effective_from": 2018}, "must be a YYYY-MM-DD date"),
        ({"sources": []}, "cite at least one source"),
        ({"sources": ["just a string"]}, "each source needs a title and url"),
        ({"sources": [{"title": "no url"}]}, "has no 'url'"),
        ({"outlier_screening": {"default": "no", "multiplier": 3.267}}, "not true or false"),
        ({"version": 1.0}, "'version' is 1.0, not a string"),
    ],
)
def test_bad_mappings_are_refused(change: dict[str, Any], message: str) -> None:
    with pytest.raises(SpcError, match=message):
        ruleset_from_mapping({**good(), **change})


def test_missing_field_is_named() -> None:
    data = good()
    del data["two_in_three_counts_beyond_limits"]
    with pytest.raises(SpcError, match="has no 'two_in_three_counts_beyond_limits'"):
        ruleset_from_mapping(data)


def test_load_from_file(tmp_path: Path) -> None:
    p = tmp_path / "six.yaml"
    p.write_text(yaml.safe_dump(good()), encoding="utf-8")
    assert load_ruleset(p).shift_run_length == 6


def test_load_reports_bad_files(tmp_path: Path) -> None:
    with pytest.raises(SpcError, match="cannot read rule set"):
        load_ruleset(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: [unclosed", encoding="utf-8")
    with pytest.raises(SpcError, match="not valid YAML"):
        load_ruleset(bad)
    listy = tmp_path / "list.yaml"
    listy.write_text("- 1\n- 2\n", encoding="utf-8")
    with pytest.raises(SpcError, match="must be a YAML mapping"):
        load_ruleset(listy)
