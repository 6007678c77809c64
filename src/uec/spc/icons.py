"""Making Data Count variation and assurance icons: codes, plain-English labels and inline SVG.

The codes are the icon names NHSRplotthedots ships (``inst/icons/variation/*.svg`` and
``inst/icons/assurance/*.svg``), except that its ``inconsistent`` assurance icon is called
``hit_or_miss`` here, the Making Data Count name. Colours are NHSRplotthedots' ``ptd_spc_colours()``
defaults, which it standardised with the Making Data Count Power BI team (its issue #196).
"""

from __future__ import annotations

import html
from enum import StrEnum

from uec.spc.model import Direction, Side, SpcError, SpecialCause

__all__ = ["AssuranceIcon", "VariationIcon", "assurance_icon", "icon_svg", "variation_icon"]

_BLUE = "#00b0f0"  # improvement / pass
_ORANGE = "#e46c0a"  # concern / fail
_PURPLE = "#490092"  # neither improvement nor concern
_GREY = "#a6a6a6"  # common cause / hit or miss
_INK = "#212b32"  # NHS text colour: outlines and letters on light fills


class VariationIcon(StrEnum):
    """What the most recent point says about variation.

    >>> VariationIcon.CONCERN_LOW.label
    'Special cause variation of a concerning nature: the measure is significantly lower'
    """

    COMMON_CAUSE = "common_cause"
    IMPROVEMENT_HIGH = "improvement_high"
    IMPROVEMENT_LOW = "improvement_low"
    CONCERN_HIGH = "concern_high"
    CONCERN_LOW = "concern_low"
    NEUTRAL_HIGH = "neutral_high"
    NEUTRAL_LOW = "neutral_low"

    @property
    def label(self) -> str:
        """Plain-English meaning, for the SVG title and screen readers.

        >>> VariationIcon.COMMON_CAUSE.label
        'Common cause variation: no significant change'
        """
        if self is VariationIcon.COMMON_CAUSE:
            return "Common cause variation: no significant change"
        kind, side = self.value.split("_")
        nature = {
            "improvement": "an improving nature",
            "concern": "a concerning nature",
            "neutral": "neither improving nor concerning nature",
        }[kind]
        return f"Special cause variation of {nature}: the measure is significantly {side}er"

    @property
    def letter(self) -> str:
        """The letter in the icon: H (higher), L (lower), or empty for common cause.

        >>> VariationIcon.NEUTRAL_HIGH.letter
        'H'
        """
        if self is VariationIcon.COMMON_CAUSE:
            return ""
        return "H" if self.value.endswith("_high") else "L"

    @property
    def colour(self) -> str:
        """Fill colour (hex).

        >>> VariationIcon.IMPROVEMENT_LOW.colour
        '#00b0f0'
        """
        if self is VariationIcon.COMMON_CAUSE:
            return _GREY
        return {"improvement": _BLUE, "concern": _ORANGE, "neutral": _PURPLE}[self.value.split("_")[0]]


class AssuranceIcon(StrEnum):
    """Whether the process, as it is, will meet the target.

    >>> AssuranceIcon.HIT_OR_MISS.label
    'Hit and miss: the target lies between the process limits, so it will be met only sometimes'
    """

    PASS = "pass"
    FAIL = "fail"
    HIT_OR_MISS = "hit_or_miss"

    @property
    def label(self) -> str:
        """Plain-English meaning, for the SVG title and screen readers.

        >>> AssuranceIcon.PASS.label
        'Consistently passing: the process limits are all on the passing side of the target'
        """
        return {
            AssuranceIcon.PASS: (
                "Consistently passing: the process limits are all on the passing side of the target"
            ),
            AssuranceIcon.FAIL: (
                "Consistently failing: the process limits are all on the failing side of the target"
            ),
            AssuranceIcon.HIT_OR_MISS: (
                "Hit and miss: the target lies between the process limits, so it will be met only sometimes"
            ),
        }[self]

    @property
    def letter(self) -> str:
        """The letter in the icon: P, F or ?.

        >>> AssuranceIcon.FAIL.letter
        'F'
        """
        return {AssuranceIcon.PASS: "P", AssuranceIcon.FAIL: "F", AssuranceIcon.HIT_OR_MISS: "?"}[self]

    @property
    def colour(self) -> str:
        """Fill colour (hex).

        >>> AssuranceIcon.PASS.colour
        '#00b0f0'
        """
        return {
            AssuranceIcon.PASS: _BLUE,
            AssuranceIcon.FAIL: _ORANGE,
            AssuranceIcon.HIT_OR_MISS: _GREY,
        }[self]


def variation_icon(special_cause: SpecialCause, side: Side | None) -> VariationIcon:
    """The variation icon for a point's reading; charts use their most recent point.

    >>> variation_icon(SpecialCause.IMPROVEMENT, Side.LOW)
    <VariationIcon.IMPROVEMENT_LOW: 'improvement_low'>
    >>> variation_icon(SpecialCause.COMMON_CAUSE, None)
    <VariationIcon.COMMON_CAUSE: 'common_cause'>
    """
    if special_cause is SpecialCause.COMMON_CAUSE:
        return VariationIcon.COMMON_CAUSE
    if side is None:
        raise SpcError("a special-cause point needs a side (high or low) for its icon")
    kind = {
        SpecialCause.IMPROVEMENT: "improvement",
        SpecialCause.CONCERN: "concern",
        SpecialCause.NEITHER: "neutral",
    }[special_cause]
    return VariationIcon(f"{kind}_{side.value}")


def assurance_icon(
    *, lower_limit: float, upper_limit: float, target: float | None, direction: Direction
) -> AssuranceIcon | None:
    """Whether a target will be met, from the process limits; ``None`` without a target or direction.

    As NHSRplotthedots' ``ptd_calculate_assurance_type``: a target strictly above the upper limit is
    failed every time when higher is better (passed when lower is better), one strictly below the
    lower limit the reverse, and one between or on the limits is hit and miss.

    >>> assurance_icon(lower_limit=90.0, upper_limit=98.0, target=85.0, direction=Direction.HIGHER_IS_BETTER)
    <AssuranceIcon.PASS: 'pass'>
    >>> assurance_icon(lower_limit=70.0, upper_limit=80.0, target=95.0, direction=Direction.HIGHER_IS_BETTER)
    <AssuranceIcon.FAIL: 'fail'>
    >>> assurance_icon(lower_limit=70.0, upper_limit=80.0, target=95.0, direction=Direction.LOWER_IS_BETTER)
    <AssuranceIcon.PASS: 'pass'>
    >>> assurance_icon(lower_limit=70.0, upper_limit=80.0, target=75.0, direction=Direction.LOWER_IS_BETTER)
    <AssuranceIcon.HIT_OR_MISS: 'hit_or_miss'>
    >>> assurance_icon(lower_limit=70.0, upper_limit=80.0, target=75.0, direction=Direction.NEITHER) is None
    True
    """
    if target is None or direction is Direction.NEITHER:
        return None
    higher = direction is Direction.HIGHER_IS_BETTER
    if target > upper_limit:
        return AssuranceIcon.FAIL if higher else AssuranceIcon.PASS
    if target < lower_limit:
        return AssuranceIcon.PASS if higher else AssuranceIcon.FAIL
    return AssuranceIcon.HIT_OR_MISS


def icon_svg(icon: VariationIcon | AssuranceIcon, *, size: int = 40, title: str | None = None) -> str:
    """A small accessible inline SVG of an icon: a filled circle with its letter and a title.

    The accessible name is the icon's label (or ``title``), given both as ``aria-label`` and as a
    ``<title>`` so it also shows as a tooltip. No ``id`` attributes are used, so any number of icons
    can sit on one page.

    >>> svg = icon_svg(VariationIcon.CONCERN_HIGH, size=32)
    >>> svg.startswith('<svg xmlns="http://www.w3.org/2000/svg" width="32" height="32"')
    True
    >>> print(svg[svg.index("<title>"):svg.index("</title>") + 8])
    <title>Special cause variation of a concerning nature: the measure is significantly higher</title>
    >>> ">H</text>" in svg
    True
    >>> 'aria-label="a &lt;b&gt;"' in icon_svg(AssuranceIcon.PASS, title="a <b>")
    True
    """
    if size <= 0:
        raise SpcError(f"icon size {size} must be positive")
    name = html.escape(title if title is not None else icon.label, quote=True)
    # Letters on the purple fill need white for contrast; the lighter fills take the ink colour.
    ink = "#ffffff" if icon.colour == _PURPLE else _INK
    if icon is VariationIcon.COMMON_CAUSE:
        # Making Data Count draws common cause as a flat line rather than a letter.
        mark = f'<path d="M24 50 H76" stroke="{ink}" stroke-width="8" stroke-linecap="round"/>'
    else:
        mark = (
            f'<text x="50" y="52" text-anchor="middle" dominant-baseline="middle" '
            f'font-family="Arial, Helvetica, sans-serif" font-size="54" font-weight="bold" '
            f'fill="{ink}">{html.escape(icon.letter)}</text>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 100 100" '
        f'role="img" aria-label="{name}" class="spc-icon spc-icon--{icon.value}">'
        f"<title>{name}</title>"
        f'<circle cx="50" cy="50" r="46" fill="{icon.colour}" stroke="{_INK}" stroke-width="3"/>'
        f"{mark}</svg>"
    )
