"""The OPEL framework as a Markdown reference page (``docs/reference/escalation.md`` is this text).

Regenerate the committed page with :data:`REGENERATE`; a test fails when page and framework disagree.

>>> "### `acute-4hr`: All-type 4-hour performance since midnight" in reference_markdown()
True
"""

from __future__ import annotations

from uec.escalation.framework import Framework, Parameter, load_framework

__all__ = ["REGENERATE", "reference_markdown"]

#: The command that rewrites docs/reference/escalation.md from the framework.
REGENERATE = ".venv/bin/uec escalation docs --output docs/reference/escalation.md"


def _v(value: float, unit: str) -> str:
    return f"{100 * value:g}%" if unit == "proportion" else f"{value:g}"


def _parameter(p: Parameter) -> list[str]:
    word = "at or above" if p.direction == "higher" else "at or below"
    lines = [
        f"### `{p.id}`: {p.title}", "",
        " ".join(p.definition.split()), "",
        f"- Unit: {p.unit}; worse when {p.direction}; weight {p.weight:g}.",
        "- Thresholds (" + word + "): " + ", ".join(
            f"OPEL {lv} {_v(p.thresholds[lv], p.unit)}" for lv in (2, 3, 4)) + ".",
    ]
    if p.events.measure:
        std = f" (the recipe of standard `{p.standard}`)" if p.standard else ""
        lines.append(f"- From events: measure `{p.events.measure}` in `uec/escalation/queries.py`{std}.")
    else:
        lines.append(f"- From events: not available: {p.events.missing}.")
    lines.append(f"- From returns: `metric_code` `{p.returns.metric}`, `source` `opel`, `period_length` `day`.")
    status = "verified against the source" if p.verified else "**not verified** (the source's numbers were not read)"
    lines.append(f"- Numbers: {status}." + (f" Reasoning: {' '.join(p.reasoning.split())}" if p.reasoning else ""))
    return [*lines, ""]


def reference_markdown(fw: Framework | None = None) -> str:
    """The page: framework, scoring, levels, aggregation, then each provider type's parameters."""
    fw = fw or load_framework()
    src = fw.source
    to = fw.effective_to.isoformat() if fw.effective_to else "open"
    lines = [
        "# OPEL framework reference", "",
        f"<!-- Generated from src/uec/escalation/frameworks/{fw.id}.yaml by `{REGENERATE}`; do not edit. -->", "",
        f"**{fw.title}**, version {fw.version}, in force {fw.effective_from.isoformat()} to {to}.", "",
        f"Source: {src.citation()}" + (f", <{src.url}>" if src.url else "") + "."
        + ("" if src.verified else " Not verified: " + " ".join((src.note or "").split())), "",
        "## Scores and levels", "",
        "Each parameter with a value earns its weight times the points of the level it reaches "
        "(" + ", ".join(f"OPEL {lv}: {pt:g}" for lv, pt in sorted(fw.points.items())) + ")"
        + ("" if fw.points_verified else ", not verified") + ". A provider's score is 100 times the points "
        "earned over the most its parameters with a value could earn; parameters without a value are left "
        "out and listed with the reason.", "",
        "| level | score from | meaning | verified | reasoning |", "|---|---|---|---|---|",
    ]
    for b in fw.levels:
        lines.append(f"| {b.label} | {b.min_score:g} | {b.meaning} | {'yes' if b.verified else 'no'} | "
                     f"{' '.join((b.reasoning or '').split())} |")
    lines += ["", "## Aggregation", ""]
    for name, agg in (("Pillar (provider type)", fw.aggregation.pillar), ("ICS", fw.aggregation.ics)):
        lines.append(f"- {name}: {agg.method} ({'verified' if agg.verified else 'not verified'}). "
                     f"{' '.join((agg.reasoning or '').split())}")
    lines += [
        "", "## Returns", "",
        "An organisation that sends its OPEL parameters instead of events loads one `returns` row per "
        "parameter and day: `org_code` (the organisation or site), `period_start` (the local day), "
        "`period_length` `day`, `source` `opel`, `metric_code` as below and `value` in the parameter's "
        "unit (proportions as 0-1). A parameter is taken from events where they give it and from the "
        "return for the instant's day (or the day before) where not.", "",
    ]
    for name, pt in fw.provider_types.items():
        orgs = ", ".join(f"`{o}`" for o in pt.org_types) or "none in the contract (returns only)"
        lines += [f"## {pt.title} (`{name}`)", "", f"Organisation types: {orgs}.", ""]
        for p in pt.parameters:
            lines += _parameter(p)
    return "\n".join(lines).rstrip() + "\n"
