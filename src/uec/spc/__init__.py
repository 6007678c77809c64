"""Statistical process control as NHS England's *Making Data Count* programme does it.

XmR charts with the four special-cause rules (a point outside the limits, a shift, a trend, two of
three points beyond the 2-sigma line), versioned rule sets, and the variation and assurance icons.
The semantics follow the NHS-R community's NHSRplotthedots package; ``docs/spc.md`` gives the
details and citations.

>>> from uec.spc import Direction, XmROptions, xmr
>>> chart = xmr([91.2, 90.5, 92.0, 89.8, 90.9, 91.5, 90.1, 91.0, 90.7, 91.8, 90.2, 91.1],
...             XmROptions(direction=Direction.HIGHER_IS_BETTER, target=95.0))
>>> chart.variation_icon.value, chart.assurance_icon.value
('common_cause', 'fail')
"""

from __future__ import annotations

from uec.spc.icons import AssuranceIcon, VariationIcon, assurance_icon, icon_svg, variation_icon
from uec.spc.model import (
    Direction,
    Gap,
    Limits,
    Period,
    Rule,
    Series,
    Side,
    SpcError,
    SpecialCause,
    XmROptions,
    XmRPoint,
)
from uec.spc.rules import outside_limits_signals, shift_signals, trend_signals, two_in_three_signals
from uec.spc.ruleset import (
    RuleSet,
    Source,
    available_rulesets,
    default_ruleset,
    get_ruleset,
    load_ruleset,
    ruleset_from_mapping,
)
from uec.spc.xmr import XmRResult, compute_limits, xmr

__all__ = [
    "AssuranceIcon",
    "Direction",
    "Gap",
    "Limits",
    "Period",
    "Rule",
    "RuleSet",
    "Series",
    "Side",
    "Source",
    "SpcError",
    "SpecialCause",
    "VariationIcon",
    "XmROptions",
    "XmRPoint",
    "XmRResult",
    "assurance_icon",
    "available_rulesets",
    "compute_limits",
    "default_ruleset",
    "get_ruleset",
    "icon_svg",
    "load_ruleset",
    "outside_limits_signals",
    "ruleset_from_mapping",
    "shift_signals",
    "trend_signals",
    "two_in_three_signals",
    "variation_icon",
    "xmr",
]
