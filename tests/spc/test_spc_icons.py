"""Variation and assurance icon codes, labels and the inline SVG."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from uec.spc import (
    AssuranceIcon,
    Side,
    SpcError,
    SpecialCause,
    VariationIcon,
    icon_svg,
    variation_icon,
)

SVG = "{http://www.w3.org/2000/svg}"


def test_codes_are_the_making_data_count_icon_names() -> None:
    assert [i.value for i in VariationIcon] == [
        "common_cause",
        "improvement_high",
        "improvement_low",
        "concern_high",
        "concern_low",
        "neutral_high",
        "neutral_low",
    ]
    assert [i.value for i in AssuranceIcon] == ["pass", "fail", "hit_or_miss"]


@pytest.mark.parametrize(
    ("cause", "side", "icon"),
    [
        (SpecialCause.COMMON_CAUSE, None, VariationIcon.COMMON_CAUSE),
        (SpecialCause.IMPROVEMENT, Side.HIGH, VariationIcon.IMPROVEMENT_HIGH),
        (SpecialCause.IMPROVEMENT, Side.LOW, VariationIcon.IMPROVEMENT_LOW),
        (SpecialCause.CONCERN, Side.HIGH, VariationIcon.CONCERN_HIGH),
        (SpecialCause.CONCERN, Side.LOW, VariationIcon.CONCERN_LOW),
        (SpecialCause.NEITHER, Side.HIGH, VariationIcon.NEUTRAL_HIGH),
        (SpecialCause.NEITHER, Side.LOW, VariationIcon.NEUTRAL_LOW),
    ],
)
def test_variation_icon_mapping(cause: SpecialCause, side: Side | None, icon: VariationIcon) -> None:
    assert variation_icon(cause, side) is icon


def test_special_cause_without_side_is_refused() -> None:
    with pytest.raises(SpcError, match="needs a side"):
        variation_icon(SpecialCause.CONCERN, None)


@pytest.mark.parametrize("icon", [*VariationIcon, *AssuranceIcon])
def test_svg_is_well_formed_and_named(icon: VariationIcon | AssuranceIcon) -> None:
    svg = icon_svg(icon, size=24)
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("aria-label") == icon.label
    assert (root.get("width"), root.get("height")) == ("24", "24")
    title = root.find(f"{SVG}title")
    assert title is not None and title.text == icon.label
    # No ids, so many icons can share a page without clashing.
    assert all(el.get("id") is None for el in root.iter())
    text = root.find(f"{SVG}text")
    if icon is VariationIcon.COMMON_CAUSE:
        assert text is None
    else:
        assert text is not None and text.text == icon.letter
    circle = root.find(f"{SVG}circle")
    assert circle is not None and circle.get("fill") == icon.colour


def test_letters_and_colours() -> None:
    assert [i.letter for i in AssuranceIcon] == ["P", "F", "?"]
    assert VariationIcon.IMPROVEMENT_HIGH.letter == "H"
    assert VariationIcon.CONCERN_LOW.letter == "L"
    # Improvement and pass share blue, concern and fail share orange.
    assert VariationIcon.IMPROVEMENT_LOW.colour == AssuranceIcon.PASS.colour
    assert VariationIcon.CONCERN_HIGH.colour == AssuranceIcon.FAIL.colour


def test_custom_title_is_escaped() -> None:
    root = ET.fromstring(icon_svg(AssuranceIcon.FAIL, title='A&E 4-hour "fail" <95%'))
    assert root.get("aria-label") == 'A&E 4-hour "fail" <95%'


def test_labels_are_plain_english() -> None:
    assert VariationIcon.IMPROVEMENT_HIGH.label == (
        "Special cause variation of an improving nature: the measure is significantly higher"
    )
    assert VariationIcon.NEUTRAL_LOW.label == (
        "Special cause variation of neither improving nor concerning nature: the measure is significantly lower"
    )
    assert AssuranceIcon.FAIL.label.startswith("Consistently failing")


def test_size_must_be_positive() -> None:
    with pytest.raises(SpcError, match="must be positive"):
        icon_svg(AssuranceIcon.PASS, size=0)
