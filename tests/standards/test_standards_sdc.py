"""Statistical disclosure control: properties that hold for any counts, and the CSV publish export."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from uec.standards import Result, Row, catalogue, disclose, disclose_row, round_count, write_csv
from uec.standards.engine import Query
from uec.standards.model import Standard

BY_RULE = {rule: [s for s in catalogue().standards if s.disclosure == rule]
           for rule in ("parts", "numerator", "support", "none")}


def _row(s: Standard, num: float | None, den: float | None, support: float | None, value: float | None) -> Row:
    target = s.target_for(dt.date(2024, 4, 1))
    return Row(s.id, "site", "S1", "month", dt.date(2024, 4, 1), None, None, num, den, value, support,
               target, None if target is None or value is None else target.met(value), "events")


def _shown_count_ok(v: float | None) -> bool:
    return v is None or (v % 5 == 0 and not 1 <= v <= 7)


counts = st.integers(min_value=0, max_value=2_000_000)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(BY_RULE["parts"]), counts, counts)
def test_parts_rule(s: Standard, a: int, b: int) -> None:
    num, den = min(a, b), max(a, b)
    value = s.multiplier * num / den if den else None
    out = disclose_row(_row(s, num, den, den, value), s)
    for name in ("numerator", "denominator", "support"):
        shown = getattr(out, name)
        assert _shown_count_ok(shown)
        assert (shown is None) == (name in out.suppressed)
        assert out.cell(name) == ("*" if name in out.suppressed else shown)
    if 1 <= num <= 7 or 1 <= den <= 7:
        assert "value" in out.suppressed and out.value is None and out.met is None
    elif den:
        # percentages from rounded parts
        assert out.value == pytest.approx(s.multiplier * (out.numerator or 0) / (out.denominator or 1))
        assert abs((out.numerator or 0) - num) <= 2.5 and abs((out.denominator or 0) - den) <= 2.5
    assert disclose_row(out, s).numerator == out.numerator  # rounding a rounded count changes nothing


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(BY_RULE["numerator"]), counts, st.integers(min_value=1, max_value=500_000))
def test_numerator_rule(s: Standard, num: int, den: int) -> None:
    value = float(num) if s.statistic == "total" else s.multiplier * num / den
    denominator = None if s.statistic == "total" else float(den)
    out = disclose_row(_row(s, num, denominator, num, value), s)
    assert _shown_count_ok(out.numerator)
    assert out.denominator == denominator  # a population or a number of days is not a count of people
    if 1 <= num <= 7:
        assert out.suppressed >= {"numerator", "value"}
    elif s.statistic == "total":
        assert out.value == out.numerator
    else:
        assert out.value == pytest.approx(s.multiplier * (out.numerator or 0) / den)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(BY_RULE["support"]), counts, st.floats(min_value=0, max_value=1e6, allow_nan=False))
def test_support_rule(s: Standard, support: int, value: float) -> None:
    out = disclose_row(_row(s, value * support, support, support, value), s)
    assert out.numerator is None and out.denominator is None  # sums of minutes are not published
    assert _shown_count_ok(out.support)
    if 1 <= support <= 7:
        assert out.value is None and "value" in out.suppressed
    else:
        assert out.value == value


@given(st.sampled_from(BY_RULE["none"]), counts, counts)
def test_capacity_is_published_as_it_is(s: Standard, a: int, b: int) -> None:
    row = _row(s, a, b, 1, a / b if b else None)
    assert disclose_row(row, s) == row


@given(st.integers(min_value=0, max_value=10**9))
def test_round_count(n: int) -> None:
    shown = round_count(n)
    if 1 <= n <= 7:
        assert shown is None
    else:
        assert shown is not None and shown % 5 == 0 and abs(shown - n) <= 2


def test_csv_publish_export_applies_disclosure_by_default(tmp_path: Path) -> None:
    s = catalogue().get("ed-4hr")
    q = Query("month", dt.date(2024, 4, 1), dt.date(2024, 5, 1), "site")
    rows = (_row(s, 3, 40, 40, 3 / 40), _row(s, 93, 104, 104, 93 / 104), _row(s, 0, 0, 0, None))
    result = Result(s, q, rows)
    assert write_csv([result], tmp_path / "pub.csv") == 3
    with (tmp_path / "pub.csv").open(encoding="utf-8") as f:
        published = list(csv.DictReader(f))
    assert [(r["numerator"], r["denominator"], r["value"]) for r in published] == [
        ("*", "40", "*"), ("95", "105", "0.904762"), ("0", "0", "")]
    write_csv([result], tmp_path / "raw.csv", sdc=False)
    with (tmp_path / "raw.csv").open(encoding="utf-8") as f:
        assert next(csv.DictReader(f))["numerator"] == "3"
    assert disclose(disclose(result)) == disclose(result)
