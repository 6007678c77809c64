"""The catalogue as a Markdown reference page (``docs/reference/standards.md`` is this text).

Regenerate the committed page with :data:`REGENERATE`; a test fails when the page and the
catalogue disagree.

>>> text = reference_markdown()
>>> "### `ed-4hr`: A&E 4-hour performance (all types)" in text
True
"""

from __future__ import annotations

from pathlib import Path

from uec.standards.model import EventsRecipe, Part, ReturnsRecipe, Standard, Target, catalogue

__all__ = ["REGENERATE", "computable_from_text", "reference_markdown", "write_reference"]

#: The command that rewrites docs/reference/standards.md from the catalogue.
REGENERATE = ".venv/bin/uec docs standards --output docs/reference/standards.md"

_AREAS = (("ed", "Emergency department"), ("ambulance", "Ambulance"), ("flow", "Beds and flow"))
_UNITS = {
    "proportion": "proportion (0-1, shown as %)", "count": "count", "minutes": "minutes", "hours": "hours",
    "per_1000": "per 1,000 population", "ratio": "ratio", "beds": "beds", "hours_per_day": "hours per day",
}


def _fmt_target_value(t: Target, unit: str) -> str:
    v = f"{100 * t.value:g}%" if unit == "proportion" else f"{t.value:g}"
    return f"{t.comparison} {v}"


def _in_force(t: Target) -> str:
    if t.effective_from is None and t.effective_to is None:
        return "always"
    start = t.effective_from.isoformat() if t.effective_from else "any date"
    end = t.effective_to.isoformat() if t.effective_to else "open"
    return f"{start} to {end}"


def _part(p: Part | None) -> str:
    if p is None:
        return "none"
    if p.agg == "days":
        text = f"number of local days ({p.expr})"
    elif p.agg == "population":
        text = "population served by the sites in scope (`sites.population_served`)"
    elif p.agg == "count_distinct":
        text = f"count of distinct `{p.expr}`"
    else:
        text = f"sum of `{p.expr}`"
    return text + (f", per {p.per_day} day" if p.per_day else "")


def _events(r: EventsRecipe, s: Standard) -> list[str]:
    where = [f"table `{r.table}`"]
    if r.census:
        where.append(f"joined to each local midnight between `{r.census_start}` and `{r.census_end}`")
    if r.time:
        where.append(f"period by `{r.time}`")
    else:
        where.append("reference data (same value every period)")
    if r.site:
        where.append(f"site `{r.site}`")
    if r.org:
        where.append(f"organisation `{r.org}`")
    lines = [f"- From events: {', '.join(where)}."]
    if r.where:
        lines.append(f"  - rows where `{r.where}`")
    if s.statistic == "percentile":
        lines.append(f"  - {s.percentile:g} centile of `{r.measure}`")
    else:
        lines.append(f"  - numerator: {_part(r.numerator)}")
        if s.statistic == "ratio":
            lines.append(f"  - denominator: {_part(r.denominator)}")
    lines.append(f"  - breakdowns: {', '.join(r.breakdowns) or 'none'}")
    return lines


def _signed(codes: tuple[tuple[str, int], ...]) -> str:
    out = ""
    for i, (c, sign) in enumerate(codes):
        op = "- " if sign < 0 else ("+ " if i else "")
        out += f"{' ' if i else ''}{op}`{c}`"
    return out


def computable_from_text(s: Standard) -> str:
    """The grains that compute a standard and what each reads, in one line.

    >>> from uec.standards import catalogue
    >>> computable_from_text(catalogue().get("ed-4hr-type1"))
    'events (attendances); returns (ae_monthly, ae_scotland)'
    """
    return "; ".join(f"{g} ({', '.join(v)})" for g, v in s.computable_from.items())


def _returns(r: ReturnsRecipe) -> str:
    src = f" (source `{r.source}`)" if r.source else ""
    if r.join:
        src = f" (sources {', '.join(f'`{c}`' for c in r.sources)}, joined by organisation and period)"
    scale = f", times {r.scale:.6g}" if r.scale != 1 else ""
    if r.combine == "mean":
        scale += (", each code averaged over the return periods" if r.denominator
                  else ", averaged over the return periods")
    if r.complete:
        scale += ", only where every code is present"
    if r.value:
        weight = f" weighted by `{r.weight}`" if r.weight else ""
        return f"- From returns{src}: published `{r.value}`{weight}{scale}."
    den = f"; denominator {_signed(r.denominator)}" if r.denominator else ""
    return f"- From returns{src}: numerator {_signed(r.numerator)}{scale}{den}."


def _standard(s: Standard) -> list[str]:
    lines = [f"### `{s.id}`: {s.title}", "", s.definition, ""]
    lines.append(f"- Numerator: {s.numerator}")
    if s.denominator:
        lines.append(f"- Denominator: {s.denominator}")
    extra = f", multiplier {s.multiplier:g}" if s.multiplier != 1 else ""
    pct = f" ({s.percentile:g})" if s.percentile is not None else ""
    lines.append(
        f"- Unit: {_UNITS[s.unit]}; better when {s.direction}; statistic {s.statistic}{pct}{extra}; "
        f"disclosure control: {s.disclosure}."
    )
    lines.append(f"- Computed from: {computable_from_text(s)}.")
    if s.defined_by:
        lines.append(f"- Defined by: {'; '.join(src.citation() for src in s.defined_by)}.")
    for r in s.events:
        lines += _events(r, s)
    for rr in s.returns:
        lines.append(_returns(rr))
    lines.append("")
    if s.targets:
        lines += ["| target | kind | in force | source | verified |", "|---|---|---|---|---|"]
        for t in s.targets:
            note = f" {t.note}" if t.note else ""
            lines.append(
                f"| {_fmt_target_value(t, s.unit)}: {t.label} | {t.kind} | {_in_force(t)} | "
                f"{t.source.citation()} | {'yes' if t.verified else 'no:'}{'' if t.verified else note} |"
            )
        lines.append("")
    else:
        lines += ["No national target.", ""]
    for n in s.no_target_since:
        cited = f" Source: {n.source.citation()}." if n.source else ""
        lines += [f"No {n.kind} target since {n.effective_from.isoformat()}"
                  f"{'' if n.verified else ' (verified: no)'}: {n.note}{cited}", ""]
    if s.notes:
        lines += [f"Notes: {s.notes}", ""]
    return lines


def reference_markdown() -> str:
    """The whole catalogue as Markdown."""
    cat = catalogue()
    lines = [
        "# Standards catalogue reference",
        "",
        "Generated from `src/uec/standards/catalogue_data/*.yaml` by `uec docs standards`; do not edit by hand. "
        "How the engine uses these recipes is in [docs/standards.md](../standards.md).",
        "",
        f"{len(cat.standards)} standards. Proportions are stored as fractions (0.78) and shown as "
        "percentages. A target marked *verified: no* has a sourced value but an unconfirmed date or "
        "scope; a standard with no national threshold has no target.",
        "",
        "| id | title | unit | better | computed from | targets |",
        "|---|---|---|---|---|---|",
    ]
    for s in cat.standards:
        targets = "; ".join(f"{_fmt_target_value(t, s.unit)} ({t.kind})" for t in s.targets) or "none"
        lines.append(f"| `{s.id}` | {s.title} | {s.unit} | {s.direction} | {computable_from_text(s)} | {targets} |")
    lines.append("")
    for area, title in _AREAS:
        lines += [f"## {title}", ""]
        for s in cat.area(area):
            lines += _standard(s)
    lines += ["## Sources", "", "| id | publication | what we rely on |", "|---|---|---|"]
    for src in cat.sources.values():
        link = f" <{src.url}>" if src.url else ""
        lines.append(f"| `{src.id}` | {src.citation()}{link} | {' '.join((src.note or '').split())} |")
    lines.append("")
    return "\n".join(lines)


def write_reference(path: Path | str) -> None:
    """Write :func:`reference_markdown` to ``path``."""
    Path(path).write_text(reference_markdown(), encoding="utf-8")
