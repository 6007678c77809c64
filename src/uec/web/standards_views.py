"""The national standards pages' view models and how they are built (the routes are in
:mod:`uec.web.routes.standards`).

``/standards`` is a matrix of sites (and the whole ICS) by standard, showing the latest period's
value, the target in force and the Making Data Count variation and assurance icons.
``/standards/{id}`` is one standard: its definition and targets with their sources, an XmR chart
drawn on the server, the data table under it and inequality breakdowns for the latest period.
Each has ``.json`` and ``.csv`` siblings and an ``/api`` route built from the same model.

>>> parse_from("2025-01-01")
datetime.date(2025, 1, 1)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from fastapi import HTTPException
from pydantic import BaseModel

from uec.errors import UecError
from uec.spc import AssuranceIcon, Direction, Series, SpcError, VariationIcon, XmROptions, XmRResult, icon_svg, xmr
from uec.standards import (
    Result,
    Row,
    Standard,
    catalogue,
    compute,
    compute_many,
    disclose,
    format_value,
    organisation_names,
)
from uec.store import Store, reading
from uec.web import data
from uec.web.chart import period_gaps, xmr_svg

__all__ = [
    "AREAS",
    "BREAKDOWN_LABELS",
    "DETAIL_CSV_COLUMNS",
    "GRAINS",
    "MATRIX_CSV_COLUMNS",
    "MembershipInfo",
    "StandardDetail",
    "StandardsMatrix",
    "detail_csv_rows",
    "matrix_csv_rows",
    "parse_from",
    "parse_rebase",
    "standard_detail",
    "standards_matrix",
]

#: The areas of the catalogue, in the order the matrix shows them, with their headings.
AREAS: dict[str, str] = {"ed": "Emergency departments", "ambulance": "Ambulance", "flow": "Beds and flow"}

#: The period grains the pages offer.
GRAINS: tuple[str, ...] = ("month", "week", "day", "quarter", "fy")

#: The inequality breakdowns shown on a standard's page, with their headings.
BREAKDOWN_LABELS: dict[str, str] = {
    "imd_decile": "Index of Multiple Deprivation decile",
    "ethnic_group": "Ethnic group",
    "age_band": "Age band",
    "sex": "Sex",
}

_DIRECTION = {"higher": Direction.HIGHER_IS_BETTER, "lower": Direction.LOWER_IS_BETTER}

#: A period of each grain in words, for the chart's notes on missing periods.
_PERIOD_NAMES = {"fy": "financial year", "range": "range"}


# --- models -------------------------------------------------------------------------------------


class Icon(BaseModel):
    """A Making Data Count icon: its code, its meaning in words and its inline SVG."""

    code: str
    label: str
    svg: str


class StandardSummary(BaseModel):
    """A standard in the matrix, with the grains that can compute it: ``computable_from`` maps
    ``events`` to the contract tables and ``returns`` to the national collections its recipes read."""

    id: str
    title: str
    area: str
    unit: str
    direction: str
    computable_from: dict[str, list[str]] = {}


class Cell(BaseModel):
    """One standard for one unit: the latest period's value, target and icons."""

    standard_id: str
    period_start: str | None = None
    value: float | None = None
    display: str = ""
    target: float | None = None
    target_display: str = ""
    target_label: str | None = None
    met: bool | None = None
    variation: Icon | None = None
    assurance: Icon | None = None
    note: str | None = None


class MatrixRow(BaseModel):
    level: str
    code: str | None
    name: str
    cells: list[Cell]


class StandardsMatrix(BaseModel):
    """The standards matrix page's numbers: one row per unit (the ICS, then each site), one cell per
    standard, in the order of ``standards``."""

    period: str
    area: str
    start: str | None
    end: str | None
    standards: list[StandardSummary]
    rows: list[MatrixRow]


class TargetInfo(BaseModel):
    value: float
    display: str
    comparison: str
    kind: str
    label: str
    effective_from: str | None
    effective_to: str | None
    source: str
    source_url: str | None
    in_force: bool


class SourceInfo(BaseModel):
    citation: str
    url: str | None


class SeriesPoint(BaseModel):
    """One period of the chart and its data table."""

    period_start: str
    label: str
    value: float
    display: str
    numerator: float | None
    denominator: float | None
    mean: float | None = None
    lower_limit: float | None = None
    upper_limit: float | None = None
    special_cause: str | None = None
    special_cause_label: str | None = None
    target: float | None = None


class GapInfo(BaseModel):
    """Missing periods in the chart's series: the line breaks between ``after`` and ``before``."""

    after: str
    before: str
    missing: int | None
    note: str


class BreakdownRow(BaseModel):
    group: str
    value: float | None
    display: str
    numerator: float | None
    denominator: float | None


class Breakdown(BaseModel):
    breakdown: str
    label: str
    period_start: str
    rows: list[BreakdownRow]


class MembershipInfo(BaseModel):
    """An area total over returns for one period: how it is made, who is in it and who is missing."""

    period_start: str
    label: str
    basis: str
    included: list[str]
    missing: list[str]
    partial: dict[str, list[str]]
    incomplete: list[str]
    complete: bool


class StandardDetail(BaseModel):
    """One standard's page: definition, targets, the XmR chart's series, icons and breakdowns."""

    id: str
    title: str
    area: str
    definition: str
    numerator: str
    denominator: str | None
    unit: str
    direction: str
    notes: str | None
    defined_by: list[SourceInfo]
    targets: list[TargetInfo]
    site: str | None
    site_name: str
    period: str
    start: str | None
    end: str | None
    rebase: list[str]
    baseline: int | None
    points: list[SeriesPoint]
    variation: Icon | None
    assurance: Icon | None
    chart_svg: str | None
    chart_summary: str
    breakdowns: list[Breakdown]
    messages: list[str]
    #: Where the series skips periods; the chart breaks there and says so (``messages`` too).
    gaps: list[GapInfo] = []
    #: The organisation (``?org=``) the page is for, when it is for one rather than a site or the ICS.
    org: str | None = None
    #: For an area total over returns: each period's members included and missing.
    members: list[MembershipInfo] = []


# --- building the models ------------------------------------------------------------------------


def _icon(icon: VariationIcon | AssuranceIcon | None) -> Icon | None:
    if icon is None:
        return None
    return Icon(code=icon.value, label=icon.label, svg=icon_svg(icon, size=32))


def _period_label(start: dt.date | dt.datetime, grain: str) -> str:
    if grain == "month":
        return start.strftime("%b %Y")
    if grain == "quarter":
        # Calendar quarters (Jan, Apr, Jul, Oct): the last month is in the same year.
        return f"{start.strftime('%b')}-{dt.date(start.year, start.month + 2, 1).strftime('%b %Y')}"
    if grain == "fy":
        return f"{start.year}/{(start.year + 1) % 100:02d}"
    text = f"{start.day} {start.strftime('%b %Y')}"
    return f"w/c {text}" if grain == "week" else text


def _series_rows(rows: Sequence[Row]) -> list[Row]:
    return sorted((r for r in rows if r.value is not None and not r.suppressed), key=lambda r: r.period_start)


def _day(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def _rebase_points(rows: Sequence[Row], rebase: Sequence[dt.date]) -> list[int]:
    """Point indices where a new chart period starts: the first period on or after each date."""
    out: set[int] = set()
    for when in rebase:
        i = next((k for k, r in enumerate(rows) if _day(r.period_start) >= when), None)
        if i is not None and i > 0:
            out.add(i)
    return sorted(out)


def _chart(standard: Standard, rows: Sequence[Row], rebase: Sequence[dt.date] = (),
           baseline: int | None = None) -> XmRResult | None:
    """The XmR chart over the rows (with values), or ``None`` with fewer than 2 points.

    ``rebase`` starts a new period (own mean and limits) at the first point on or after each date,
    for a known change in the process; ``baseline`` fixes each period's limits on its first points.
    """
    if len(rows) < 2:
        return None
    target = standard.target_for(_day(rows[-1].period_start))
    grain = rows[0].period
    try:
        return xmr(
            Series([float(r.value) for r in rows if r.value is not None],
                   labels=[_period_label(r.period_start, grain) for r in rows]),
            XmROptions(direction=_DIRECTION.get(standard.direction, Direction.NEITHER),
                       target=None if target is None else target.value,
                       rebase_at=_rebase_points(rows, rebase), baseline=baseline,
                       # Missing periods break runs and moving ranges (issue 14): never bridged.
                       gaps=period_gaps([r.period_start for r in rows], grain),
                       period_name=_PERIOD_NAMES.get(grain, grain)),
        )
    except SpcError:
        return None


def _cell(standard: Standard, rows: Sequence[Row], note: str | None = None) -> Cell:
    series = _series_rows(rows)
    if not series:
        return Cell(standard_id=standard.id, note=note or "No data")
    last = series[-1]
    chart = _chart(standard, series)
    t = last.target
    return Cell(
        standard_id=standard.id,
        period_start=last.period_start.isoformat(),
        value=last.value,
        display=format_value(last.value, standard.unit),
        target=None if t is None else t.value,
        target_display="" if t is None else f"{t.comparison} {format_value(t.value, standard.unit)}",
        target_label=None if t is None else t.label,
        met=last.met,
        variation=None if chart is None else _icon(chart.variation_icon),
        assurance=None if chart is None else _icon(chart.assurance_icon),
    )


def _check_grain(period: str) -> None:
    if period not in GRAINS:
        raise HTTPException(400, f"Unknown period {period!r}: choose one of {', '.join(GRAINS)}.")


def parse_from(text: str | None) -> dt.date | None:
    """The ``from`` query parameter as a date; 400 if it is not ``YYYY-MM-DD``."""
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise HTTPException(400, f"The from date {text!r} is not a date in the form YYYY-MM-DD.") from None


def parse_rebase(text: str | None) -> list[dt.date]:
    """The ``rebase`` query parameter (comma-separated ``YYYY-MM-DD``) as dates; 400 if malformed.

    >>> parse_rebase("2024-04-01, 2024-10-01")
    [datetime.date(2024, 4, 1), datetime.date(2024, 10, 1)]
    """
    if not text:
        return []
    try:
        return sorted({dt.date.fromisoformat(part.strip()) for part in text.split(",") if part.strip()})
    except ValueError:
        raise HTTPException(400, f"The rebase dates {text!r} are not dates in the form YYYY-MM-DD.") from None


def _results_by_unit(results: Sequence[Result]) -> dict[tuple[str, str | None], list[Row]]:
    out: dict[tuple[str, str | None], list[Row]] = {}
    for r in results:
        for row in r.rows:
            if row.group is None and row.breakdown is None:
                out.setdefault((r.standard.id, row.code), []).append(row)
    return out


def _check_area(area: str) -> None:
    if area != "all" and area not in AREAS:
        raise HTTPException(400, f"Unknown area {area!r}: choose all or one of {', '.join(AREAS)}.")


@reading
def standards_matrix(store: Store, period: str = "month", start: dt.date | None = None,
                     area: str = "all") -> StandardsMatrix:
    """Sites and the whole ICS by every standard of ``area`` (default: the whole catalogue), for the
    latest ``period`` from ``start``."""
    _check_grain(period)
    _check_area(area)
    cat = catalogue()
    chosen = [s for a in AREAS if area in ("all", a) for s in cat.area(a)]
    ics = compute_many(store, chosen, period=period, start=start)
    by_site = compute_many(store, chosen, period=period, start=start, level="site")
    site_notes = {r.standard.id: r.notes for r in by_site}
    units = _results_by_unit(ics) | _results_by_unit(by_site)
    rows = [MatrixRow(level="ics", code=None, name="Whole ICS",
                      cells=[_cell(s, units.get((s.id, None), [])) for s in chosen])]
    for site in data.list_sites(store):
        cells = []
        for s in chosen:
            got = units.get((s.id, site.site_code), [])
            note = None
            if not got and not any(k[0] == s.id and k[1] is not None for k in units):
                note = "Not reported by site" if site_notes.get(s.id) else None
            cells.append(_cell(s, got, note))
        rows.append(MatrixRow(level="site", code=site.site_code, name=site.name, cells=cells))
    q = ics[0].query if ics else None
    return StandardsMatrix(
        period=period,
        area=area,
        start=None if q is None else q.start.isoformat(),
        end=None if q is None else q.end.isoformat(),
        standards=[StandardSummary(id=s.id, title=s.title, area=s.area, unit=s.unit, direction=s.direction,
                                   computable_from={g: list(v) for g, v in s.computable_from.items()})
                   for s in chosen],
        rows=rows,
    )


def _standard_or_404(standard_id: str) -> Standard:
    cat = catalogue()
    if standard_id not in cat.ids:
        raise HTTPException(404, f"There is no standard with id {standard_id} in the catalogue.")
    return cat.get(standard_id)


@reading
def standard_detail(
    store: Store, standard_id: str, period: str = "month", start: dt.date | None = None, site: str | None = None,
    rebase: Sequence[dt.date] = (), baseline: int | None = None, org: str | None = None,
) -> StandardDetail:
    """One standard for the whole ICS (or ``site``, or organisation ``org``: a trust, an ICB, a region
    or England): its definition, chart series and breakdowns.

    ``rebase`` and ``baseline`` are the SPC chart's options (see :func:`_chart`)."""
    s = _standard_or_404(standard_id)
    _check_grain(period)
    site_name = "Whole ICS"
    if site is not None and org is not None:
        raise HTTPException(400, "Give a site or an organisation, not both.")
    if site is not None:
        found = data.list_sites(store, site)
        if not found:
            raise HTTPException(404, f"There is no site with code {site} in the store.")
        site_name = found[0].name
    if org is not None:
        site_name = organisation_names(store).get(org, org)
    messages: list[str] = []
    rows: list[Row] = []
    members: list[MembershipInfo] = []
    q_start = q_end = None
    try:
        result = compute(store, s, period=period, start=start, site=site, org=org)
        rows = _series_rows(result.rows)
        messages.extend(result.notes)
        q_start, q_end = result.query.start.isoformat(), result.query.end.isoformat()
        members = [MembershipInfo(label=_period_label(c.period_start, period), **{
            k: v for k, v in c.as_dict().items() if k != "code"}) for c in result.members]
    except UecError as exc:
        if org is not None and str(exc).startswith("unknown organisation"):
            raise HTTPException(404, f"There is no organisation with code {org} in the store.") from None
        messages.append(str(exc))
    if baseline is not None and baseline < 2:
        raise HTTPException(400, "The baseline must be at least 2 points: limits need two.")
    chart = _chart(s, rows, rebase, baseline)
    points: list[SeriesPoint] = []
    for i, r in enumerate(rows):
        p = chart.points[i] if chart is not None else None
        points.append(SeriesPoint(
            period_start=r.period_start.isoformat(),
            label=_period_label(r.period_start, period),
            value=float(r.value or 0.0),
            display=format_value(r.value, s.unit),
            numerator=r.numerator,
            denominator=r.denominator,
            mean=None if p is None else p.mean,
            lower_limit=None if p is None else p.lower_limit,
            upper_limit=None if p is None else p.upper_limit,
            special_cause=None if p is None else p.special_cause.value,
            special_cause_label=None if p is None else p.special_cause.label,
            target=None if r.target is None else r.target.value,
        ))
    variation = assurance = None
    svg = None
    if chart is None:
        summary = "Too few periods with data for a statistical process control chart (at least 2 are needed)."
    else:
        variation, assurance = _icon(chart.variation_icon), _icon(chart.assurance_icon)
        last = points[-1]
        summary = (
            f"XmR chart of {s.title} for {site_name}, {len(points)} {period}s from {points[0].label} to "
            f"{last.label}. Latest value {last.display}; mean {format_value(chart.latest.mean, s.unit)}, "
            f"process limits {format_value(chart.latest.lower_limit, s.unit)} to "
            f"{format_value(chart.latest.upper_limit, s.unit)}"
            + ("" if chart.target is None else f"; target {format_value(chart.target, s.unit)}")
            + f". {chart.variation_icon.label}."
            + ("" if chart.assurance_icon is None else f" {chart.assurance_icon.label}.")
            + "".join(f" {note}" for note in chart.gap_notes)
        )
        svg = xmr_svg(chart, title=f"{s.title}: statistical process control chart", desc=summary,
                      labels=[p.label for p in points], format_value=lambda v: format_value(v, s.unit))
        messages.extend(chart.warnings)
    breakdowns: list[Breakdown] = []
    if rows:
        latest = rows[-1].period_start
        day = latest.date() if isinstance(latest, dt.datetime) else latest
        for b, label in BREAKDOWN_LABELS.items():
            if b not in s.breakdowns:
                continue
            try:
                res = compute(store, s, period=period, start=day, end=dt.date.fromisoformat(q_end) if q_end else None,
                              site=site, org=org, breakdown=b)
            except UecError as exc:
                messages.append(str(exc))
                continue
            # Breakdowns split a site's period by age band, sex, ethnic group and deprivation: cells
            # small enough to point at a person. They get the standards engine's disclosure control
            # (counts 1-7 suppressed, others rounded to 5, rates from the rounded parts) for everyone;
            # exact rows are for analysts (the patient-level download).
            res = disclose(res)
            got = sorted((r for r in res.rows if r.period_start == latest),
                         key=lambda r: (r.group is None, str(r.group)))
            breakdowns.append(Breakdown(
                breakdown=b, label=label, period_start=latest.isoformat(),
                rows=[BreakdownRow(group="Not recorded" if r.group is None else str(r.group),
                                   value=None if r.suppressed else r.value,
                                   display=format_value(r.cell("value"), s.unit),
                                   numerator=None if r.suppressed else r.numerator,
                                   denominator=None if r.suppressed else r.denominator) for r in got],
            ))
    today = dt.date.today()
    return StandardDetail(
        id=s.id, title=s.title, area=s.area, definition=s.definition.strip(), numerator=s.numerator,
        denominator=s.denominator, unit=s.unit, direction=s.direction, notes=s.notes,
        defined_by=[SourceInfo(citation=src.citation(), url=src.url) for src in s.defined_by],
        targets=[TargetInfo(
            value=t.value, display=format_value(t.value, s.unit), comparison=t.comparison, kind=t.kind,
            label=t.label,
            effective_from=None if t.effective_from is None else t.effective_from.isoformat(),
            effective_to=None if t.effective_to is None else t.effective_to.isoformat(),
            source=t.source.citation(), source_url=t.source.url, in_force=t.in_force(today),
        ) for t in s.targets],
        site=site, site_name=site_name, period=period, start=q_start, end=q_end,
        rebase=[d.isoformat() for d in rebase], baseline=baseline,
        points=points, variation=variation, assurance=assurance, chart_svg=svg, chart_summary=summary,
        breakdowns=breakdowns, messages=messages, org=org, members=members,
        gaps=[] if chart is None else [
            GapInfo(after=points[g.index - 1].label, before=points[g.index].label, missing=g.missing, note=note)
            for g, note in zip(chart.gaps, chart.gap_notes, strict=True)],
    )


# --- CSV ----------------------------------------------------------------------------------------

MATRIX_CSV_COLUMNS = ("level", "code", "name", "standard_id", "period", "period_start", "value", "target",
                      "met", "variation", "assurance", "note")
DETAIL_CSV_COLUMNS = ("standard_id", "site", "period", "table", "breakdown", "group", "period_start", "value",
                      "numerator", "denominator", "mean", "lower_limit", "upper_limit", "special_cause", "target")


def matrix_csv_rows(m: StandardsMatrix) -> list[dict[str, Any]]:
    """One row per cell of the matrix."""
    return [
        {"level": r.level, "code": r.code, "name": r.name, "standard_id": c.standard_id, "period": m.period,
         "period_start": c.period_start, "value": c.value, "target": c.target, "met": c.met,
         "variation": c.variation.code if c.variation else None,
         "assurance": c.assurance.code if c.assurance else None, "note": c.note}
        for r in m.rows for c in r.cells
    ]


def detail_csv_rows(d: StandardDetail) -> list[dict[str, Any]]:
    """The chart's series, then each breakdown's rows."""
    out: list[dict[str, Any]] = [
        {"standard_id": d.id, "site": d.site, "period": d.period, "table": "series", "period_start": p.period_start,
         "value": p.value, "numerator": p.numerator, "denominator": p.denominator, "mean": p.mean,
         "lower_limit": p.lower_limit, "upper_limit": p.upper_limit, "special_cause": p.special_cause,
         "target": p.target}
        for p in d.points
    ]
    for b in d.breakdowns:
        out.extend(
            {"standard_id": d.id, "site": d.site, "period": d.period, "table": "breakdown",
             "breakdown": b.breakdown, "group": r.group, "period_start": b.period_start, "value": r.value,
             "numerator": r.numerator, "denominator": r.denominator}
            for r in b.rows
        )
    return out
