"""The first screen (``/``) and the site pages: the whole ICS now, the key standards, then yesterday.

What an operator in a system coordination centre looks at first, in the order they look:

1. **Now**, per site and for the ICS, with the time of the data: patients in the emergency
   department, of them over 12 hours, decisions to admit waiting, ambulances waiting to hand over,
   general and acute (G&A) beds open, occupied and free, and inpatients with no criteria to reside.
2. **The key standards** (:data:`KEY_STANDARDS`) for yesterday, each with its target in force, a
   status tag (never colour alone), the Making Data Count variation and assurance icons from a daily
   XmR chart and a small trend (sparkline) of the last :data:`TREND_DAYS` days.
3. Yesterday and the last 7 days (the activity counts of :func:`uec.web.data.overview`).

"Now" is rebuilt from the events, because the contract has no snapshot of a department or an
ambulance queue yet: a patient is in the department at the data's time when they had arrived and not
left. **Hook:** when the contract gains ED area snapshots (and NHS 111 call handling), :func:`now_board`
is the one place to prefer them; :attr:`NowBoard.source` says which the figures came from.

>>> [s for s in KEY_STANDARDS]
['ed-4hr', 'ed-12hr-arrival', 'amb-handover-45', 'amb-c2-mean', 'beds-ga-occupancy']
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field

from uec import activity
from uec.spc import AssuranceIcon, SpecialCause, VariationIcon
from uec.standards import Result, Row, Standard, catalogue, compute_many, format_value
from uec.store import Store, reading
from uec.web import data
from uec.web.chart import SPECIAL_CAUSE_COLOURS, xmr_svg
from uec.web.display import LONDON, label
from uec.web.standards_views import Icon, _chart, _icon, _series_rows

__all__ = [
    "KEY_STANDARDS",
    "TREND_DAYS",
    "Calls111",
    "FirstScreen",
    "KeyStandard",
    "NowBoard",
    "NowRow",
    "SiteChart",
    "SitePage",
    "first_screen",
    "first_screen_csv_rows",
    "key_standards",
    "now_board",
    "site_page",
    "sparkline_svg",
]

#: The standards on the first screen, in the order it shows them.
KEY_STANDARDS: tuple[str, ...] = ("ed-4hr", "ed-12hr-arrival", "amb-handover-45", "amb-c2-mean", "beds-ga-occupancy")

#: Days in each standard's small trend.
TREND_DAYS = 28

#: Days in the daily XmR chart behind the icons: six weeks, enough points for the Making Data Count
#: rules (a run of 7, two of three beyond two sigma) without mixing seasons.
SPC_DAYS = 42

# How far back "now" looks for a patient still present, so that one event that never got its
# departure (or handover) time is not counted as present for ever: no one waits 3 days in a
# department, and an ambulance waiting a day has had its handover missed in the data.
_ED_LOOKBACK = dt.timedelta(hours=72)
_AMBULANCE_LOOKBACK = dt.timedelta(hours=24)
# A site "records criteria to reside" when a spell in hospital in the last 30 days has an end time.
_CTR_LOOKBACK = dt.timedelta(days=30)

_ED_SERVICES = frozenset(activity.queries.ED_TYPES)
_G_AND_A = ("g_and_a", "g_and_a_escalation")

Status = Literal["met", "not_met", "no_target", "no_data"]

#: Each status's words and its NHS.UK tag colour (the words are always shown).
STATUS_TAGS: dict[str, tuple[str, str]] = {
    "met": ("Target met", "nhsuk-tag--green"),
    "not_met": ("Target not met", "nhsuk-tag--red"),
    "no_target": ("No national target", "nhsuk-tag--grey"),
    "no_data": ("No data", "nhsuk-tag--white"),
}


# --- models -------------------------------------------------------------------------------------


class NowRow(BaseModel):
    """One site, or the whole ICS, at the data's time. ``None`` means the data has no such figure."""

    level: Literal["ics", "site"]
    code: str | None
    name: str
    in_ed: int | None = Field(description="Patients in an emergency department (types 1 to 4)")
    over_12_hours: int | None = Field(description="Of them, arrived 12 hours or more ago")
    dta_waiting: int | None = Field(description="Of them, with a decision to admit, waiting for a bed")
    longest_wait_hours: float | None = Field(description="Longest time in the department so far, hours")
    ambulances_waiting: int | None = Field(description="Ambulances at the hospital, handover not complete")
    longest_handover_minutes: float | None = Field(description="Longest of those waits so far, minutes")
    beds_open: int | None = Field(description="G&A beds (core and escalation) open at the latest census")
    beds_occupied: int | None
    beds_free: int | None
    occupancy_pct: float | None
    census_time: dt.datetime | None = Field(description="The census the bed figures are from (UTC)")
    no_criteria_to_reside: int | None = Field(
        description="Inpatients no longer meeting the criteria to reside; None when the data does not record it")


class NowBoard(BaseModel):
    """The whole ICS now: one row for the ICS (first), then one per site with emergency care or beds."""

    as_at: dt.datetime = Field(description="The time of the data: the newest event in the store (UTC)")
    source: Literal["events"] = Field(
        default="events", description="Where 'now' comes from: rebuilt from attendance, ambulance and spell events")
    rows: list[NowRow]
    ctr_missing: list[str] = Field(description="Sites with inpatients whose data has no criteria to reside")


class TrendPoint(BaseModel):
    day: dt.date
    value: float


class KeyStandard(BaseModel):
    """One standard for one unit, yesterday: value, target in force, status, icons and small trend."""

    id: str
    title: str
    unit: str
    direction: str
    period_start: dt.date | None
    value: float | None
    display: str
    target: float | None
    target_display: str
    target_label: str | None
    status: Status
    status_label: str
    variation: Icon | None
    assurance: Icon | None
    trend: list[TrendPoint]
    sparkline_svg: str | None
    last_7_days: float | None
    last_7_days_display: str
    note: str | None = None


class FirstScreen(data.Overview):
    """The first screen: :class:`~uec.web.data.Overview` (yesterday, the last 7 days, beds, sites) plus
    the whole ICS now and the key standards."""

    now: NowBoard | None = None
    key_standards: list[KeyStandard] = Field(default_factory=list)


class SiteChart(BaseModel):
    """A daily XmR chart of one standard at a site, as an accessible SVG."""

    standard_id: str
    title: str
    svg: str
    summary: str


class CallHandling(BaseModel):
    """An NHS 111 provider's telephony counts over some days (from ``calls_111_handling``)."""

    offered: int
    answered: int
    abandoned: int
    answered_within_60s: int

    @property
    def abandoned_share(self) -> float | None:
        """Abandoned calls as a share of calls offered (the IUC KPI is under 3%)."""
        return self.abandoned / self.offered if self.offered else None

    @property
    def within_60s_share(self) -> float | None:
        """Calls answered within 60 seconds as a share of calls answered."""
        return self.answered_within_60s / self.answered if self.answered else None


class Calls111(BaseModel):
    """An NHS 111 provider's calls: answered by day and where they sent people."""

    org_code: str
    by_day: dict[dt.date, int]
    yesterday: int
    last_7_days: int
    dispositions: list[data.Measure]
    booked_7_days: int
    not_available: list[str] = Field(
        description="111 measures the data cannot give yet (they need call-handling records)")
    handling_yesterday: CallHandling | None = Field(
        default=None, description="Calls offered, answered, abandoned and answered within 60 s yesterday")
    handling_7_days: CallHandling | None = Field(
        default=None, description="The same over the last 7 days")


class SitePage(data.SiteDetail):
    """A site's page: :class:`~uec.web.data.SiteDetail` plus the site now, its standards and SPC charts,
    and for an NHS 111 provider's site its calls instead of emergency department tables."""

    now: NowRow | None = None
    as_at: dt.datetime | None = None
    standards: list[KeyStandard] = Field(default_factory=list)
    charts: list[SiteChart] = Field(default_factory=list)
    calls_111: Calls111 | None = None
    has_emergency_care: bool = True


# --- now ----------------------------------------------------------------------------------------


def _utc(t: dt.datetime) -> dt.datetime:
    return t.astimezone(dt.UTC) if t.tzinfo else t.replace(tzinfo=dt.UTC)


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _sum(values: Iterable[int | None]) -> int | None:
    got = [v for v in values if v is not None]
    return sum(got) if got else None


def _max(values: Iterable[float | None]) -> float | None:
    got = [v for v in values if v is not None]
    return max(got) if got else None


@reading
def now_board(store: Store, sites: Sequence[data.Site], beds: Sequence[data.BedState],
              now: dt.datetime | None = None) -> NowBoard | None:
    """The ICS now, at the newest event in the store (never later than ``now``); ``None`` with no events."""
    latest = activity.latest_event_time(store)
    if latest is None:
        return None
    t = min(latest, now or dt.datetime.now(dt.UTC))
    ed = {r["site_code"]: r for r in activity.ed_now(store, t, t - _ED_LOOKBACK)}
    amb = {r["site_code"]: r for r in activity.ambulances_waiting_now(store, t, t - _AMBULANCE_LOOKBACK)}
    spells = {r["site_code"]: r for r in activity.spells_now(store, t, t - _CTR_LOOKBACK)}
    g_and_a: dict[str, list[data.BedState]] = defaultdict(list)
    for b in beds:
        if b.bed_type in _G_AND_A:
            g_and_a[b.site_code].append(b)
    rows: list[NowRow] = []
    missing: list[str] = []
    for s in sites:
        has_ed = any(v.service_type in _ED_SERVICES for v in s.services) or s.site_code in ed
        if not (has_ed or s.site_code in g_and_a or s.site_code in amb):
            continue
        e, a, sp = ed.get(s.site_code), amb.get(s.site_code), spells.get(s.site_code)
        site_beds = g_and_a.get(s.site_code)
        open_ = sum(x.beds_open for x in site_beds) if site_beds else None
        occupied = sum(x.beds_occupied for x in site_beds) if site_beds else None
        ctr = sp is not None and int(sp["ctr_recorded"]) > 0
        if sp is not None and not ctr:
            missing.append(s.name)
        rows.append(NowRow(
            level="site", code=s.site_code, name=s.name,
            in_ed=int(e["in_ed"]) if e else (0 if has_ed else None),
            over_12_hours=int(e["over_12_hours"]) if e else (0 if has_ed else None),
            dta_waiting=int(e["dta_waiting"] or 0) if e else (0 if has_ed else None),
            longest_wait_hours=round((t - e["longest_arrival"]).total_seconds() / 3600, 1) if e else None,
            ambulances_waiting=int(a["waiting"]) if a else (0 if has_ed else None),
            longest_handover_minutes=round((t - a["longest_arrival"]).total_seconds() / 60) if a else None,
            beds_open=open_, beds_occupied=occupied,
            beds_free=None if open_ is None or occupied is None else max(open_ - occupied, 0),
            occupancy_pct=None if open_ is None or occupied is None else _pct(occupied, open_),
            census_time=max(x.snapshot_time for x in site_beds) if site_beds else None,
            no_criteria_to_reside=int(sp["no_criteria_to_reside"] or 0) if ctr and sp else None,
        ))
    open_ics, occupied_ics = _sum(r.beds_open for r in rows), _sum(r.beds_occupied for r in rows)
    ics = NowRow(
        level="ics", code=None, name="Whole ICS",
        in_ed=_sum(r.in_ed for r in rows), over_12_hours=_sum(r.over_12_hours for r in rows),
        dta_waiting=_sum(r.dta_waiting for r in rows), longest_wait_hours=_max(r.longest_wait_hours for r in rows),
        ambulances_waiting=_sum(r.ambulances_waiting for r in rows),
        longest_handover_minutes=_max(r.longest_handover_minutes for r in rows),
        beds_open=open_ics, beds_occupied=occupied_ics,
        beds_free=_sum(r.beds_free for r in rows),
        occupancy_pct=None if open_ics is None or occupied_ics is None else _pct(occupied_ics, open_ics),
        census_time=max((r.census_time for r in rows if r.census_time), default=None),
        no_criteria_to_reside=_sum(r.no_criteria_to_reside for r in rows),
    )
    return NowBoard(as_at=_utc(t), rows=[ics, *rows], ctr_missing=missing)


# --- key standards ------------------------------------------------------------------------------


def sparkline_svg(values: Sequence[float], *, label_text: str, target: float | None = None,
                  last_cause: SpecialCause | None = None, width: int = 120, height: int = 32) -> str:
    """A small trend line as an SVG with an accessible name (``label_text``); the target dashed.

    >>> svg = sparkline_svg([0.9, 0.8, 0.85], label_text="4-hour, last 3 days: 90% to 85%", target=0.82)
    >>> svg.startswith("<svg") and 'role="img"' in svg and "stroke-dasharray" in svg
    True
    """
    ys = list(values) + ([target] if target is not None else [])
    lo, hi = min(ys), max(ys)
    if hi == lo:
        lo, hi = lo - 1, hi + 1
    pad = 3

    def x(i: int) -> float:
        return pad + (width - 2 * pad) * (i / (len(values) - 1) if len(values) > 1 else 0.5)

    def y(v: float) -> float:
        return pad + (height - 2 * pad) * (hi - v) / (hi - lo)

    points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
    dot = SPECIAL_CAUSE_COLOURS.get(last_cause or SpecialCause.COMMON_CAUSE, "#4c6272")
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="uec-sparkline" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{html.escape(label_text)}">',
        f"<title>{html.escape(label_text)}</title>",
    ]
    if target is not None:
        parts.append(f'<line x1="{pad}" x2="{width - pad}" y1="{y(target):.1f}" y2="{y(target):.1f}" '
                     'stroke="#d5281b" stroke-width="1" stroke-dasharray="3 2"></line>')
    parts.append(f'<polyline points="{points}" fill="none" stroke="#4c6272" stroke-width="1.5"></polyline>')
    if values:
        parts.append(f'<circle cx="{x(len(values) - 1):.1f}" cy="{y(values[-1]):.1f}" r="3" fill="{dot}" '
                     'stroke="#212b32" stroke-width="0.5"></circle>')
    parts.append("</svg>")
    return "".join(parts)


_COMPARISON_WORDS = {">=": "At least", "<=": "At most", ">": "Above", "<": "Below"}


def _target_words(comparison: str, value: str) -> str:
    """A target as words, not symbols.

    >>> _target_words(">=", "82.0%")
    'At least 82.0%'
    """
    words = _COMPARISON_WORDS.get(comparison)
    return f"{words} {value}" if words else f"{comparison} {value}"


def _no_target_note(s: Standard, day: dt.date) -> str | None:
    notes = [n.note for n in s.no_target_since if n.effective_from <= day]
    return notes[-1] if notes else None


def _key_standard(s: Standard, rows: Sequence[Row], week: Sequence[Row], day: dt.date, why: str | None) -> KeyStandard:
    series = [r for r in _series_rows(rows) if _day(r.period_start) <= day]
    last = series[-1] if series and _day(series[-1].period_start) == day else None
    chart = _chart(s, series)
    trend = series[-TREND_DAYS:]
    target = s.target_for(day)
    if last is None or last.value is None:
        status: Status = "no_data"
    elif target is None:
        status = "no_target"
    else:
        status = "met" if last.met else "not_met"
    spark = None
    if len(trend) >= 2:
        first_v, last_v = trend[0].value or 0.0, trend[-1].value or 0.0
        words = (f"{s.title}, daily, {len(trend)} days to {day.day} {day:%B}: from "
                 f"{format_value(first_v, s.unit)} to {format_value(last_v, s.unit)}")
        cause = chart.points[-1].special_cause if chart is not None and last is not None else None
        spark = sparkline_svg([float(r.value or 0.0) for r in trend], label_text=words,
                              target=None if target is None else target.value, last_cause=cause)
    w = next((r for r in week if r.value is not None and not r.suppressed), None)
    return KeyStandard(
        id=s.id, title=s.title, unit=s.unit, direction=s.direction,
        period_start=None if last is None else _day(last.period_start),
        value=None if last is None else last.value,
        display="" if last is None else format_value(last.value, s.unit),
        target=None if target is None else target.value,
        target_display="" if target is None else _target_words(target.comparison, format_value(target.value, s.unit)),
        target_label=None if target is None else target.label,
        status=status, status_label=STATUS_TAGS[status][0],
        variation=None if chart is None or last is None else _page_icon(chart.variation_icon),
        assurance=None if chart is None or last is None else _page_icon(chart.assurance_icon),
        trend=[TrendPoint(day=_day(r.period_start), value=float(r.value or 0.0)) for r in trend],
        sparkline_svg=spark,
        last_7_days=None if w is None else w.value,
        last_7_days_display="" if w is None else format_value(w.value, s.unit),
        note=why if last is None else (_no_target_note(s, day) if target is None else None),
    )


def _closed(svg: str) -> str:
    """``svg`` with self-closing elements written out, as an HTML page wants them (an HTML parser reads
    ``<circle/>`` as an unclosed element).

    >>> _closed('<svg><circle r="1"/><path d="M0 0" /></svg>')
    '<svg><circle r="1"></circle><path d="M0 0"></path></svg>'
    """
    return re.sub(r"<([a-zA-Z]+)([^<>]*?)\s*/>", r"<\1\2></\1>", svg)


def _page_icon(icon: VariationIcon | AssuranceIcon | None) -> Icon | None:
    got = _icon(icon)
    return None if got is None else got.model_copy(update={"svg": _closed(got.svg)})


def _day(v: dt.date | dt.datetime) -> dt.date:
    return v.date() if isinstance(v, dt.datetime) else v


def _by_unit(results: Sequence[Result]) -> dict[tuple[str, str | None], list[Row]]:
    out: dict[tuple[str, str | None], list[Row]] = defaultdict(list)
    for r in results:
        for row in r.rows:
            if row.group is None and row.breakdown is None:
                out[(r.standard.id, row.code)].append(row)
    return out


@reading
def key_standards(store: Store, day: dt.date, site: str | None = None,
                  ids: Sequence[str] = KEY_STANDARDS) -> tuple[list[KeyStandard], dict[str, list[Row]]]:
    """The key standards for the whole ICS (or ``site``) on ``day``, and each one's daily rows.

    The status is the standards engine's own verdict against the target in force on ``day``; "last 7
    days" is the standard over the 7 days to ``day`` as one period.
    """
    cat = catalogue()
    chosen = [cat.get(i) for i in ids]
    end = day + dt.timedelta(days=1)
    level = "site" if site else None
    daily = compute_many(store, chosen, period="day", start=day - dt.timedelta(days=SPC_DAYS - 1), end=end,
                         site=site, level=level)
    week = compute_many(store, chosen, period="range", start=day - dt.timedelta(days=6), end=end,
                        site=site, level=level)
    d_rows, w_rows = _by_unit(daily), _by_unit(week)
    notes = {r.standard.id: "; ".join(r.notes) or None for r in daily}
    out: list[KeyStandard] = []
    rows_by_id: dict[str, list[Row]] = {}
    for s in chosen:
        got = d_rows.get((s.id, site), [])
        if site and not got:
            continue  # a standard the site does not report (category 2 is by ambulance service)
        rows_by_id[s.id] = got
        out.append(_key_standard(s, got, w_rows.get((s.id, site), []), day, notes.get(s.id)))
    return out, rows_by_id


# --- pages --------------------------------------------------------------------------------------


@reading
def first_screen(store: Store, now: dt.datetime | None = None) -> FirstScreen:
    """The first screen's numbers: the overview plus the ICS now and the key standards for yesterday."""
    ov = data.overview(store, now=now)
    board = now_board(store, ov.sites, ov.beds, now) if ov.has_data else None
    standards: list[KeyStandard] = []
    if ov.window is not None:
        standards, _ = key_standards(store, ov.window.reporting_day)
    return FirstScreen(**ov.model_dump(), now=board, key_standards=standards)


def _call_handling(store: Store, org_code: str, window: data.Window) -> tuple[CallHandling | None,
                                                                                 CallHandling | None]:
    """Yesterday's and the last 7 days' telephony counts, or ``None`` where no period of them is held."""
    sums: dict[bool, list[int]] = {True: [0, 0, 0, 0], False: [0, 0, 0, 0]}
    seen = {True: False, False: False}
    for r in activity.calls_111_handling_periods(store, org_code, window.start_utc, window.end_utc):
        day = _utc(r["h"]).astimezone(LONDON).date()
        if day not in window.days:
            continue
        for yesterday in {False, day == window.reporting_day}:
            seen[yesterday] = True
            acc = sums[yesterday]
            for i, k in enumerate(("offered", "answered", "abandoned", "in_60")):
                acc[i] += int(r[k])

    def made(yesterday: bool) -> CallHandling | None:
        o, a, ab, in60 = sums[yesterday]
        return CallHandling(offered=o, answered=a, abandoned=ab, answered_within_60s=in60) if seen[yesterday] else None

    return made(True), made(False)


def _calls_111(store: Store, org_code: str, window: data.Window) -> Calls111 | None:
    rows = activity.calls_111_by_hour(store, org_code, window.start_utc, window.end_utc)
    if not rows:
        return None
    handling_yesterday, handling_7_days = _call_handling(store, org_code, window)
    per: dict[str, dict[dt.date, int]] = defaultdict(lambda: dict.fromkeys(window.days, 0))
    for r in rows:
        d = _utc(r["h"]).astimezone(LONDON).date()
        if d in per[str(r["k"])]:
            per[str(r["k"])][d] += int(r["n"])
    answered = {d: sum(v[d] for k, v in per.items() if not k.startswith("booked:")) for d in window.days}
    order = ("ed", "utc", "sdec", "ambulance_999", "gp", "pharmacy", "self_care", "other")
    keys = [k for k in order if k in per] + sorted(k for k in per if k not in order and not k.startswith("booked:"))
    return Calls111(
        org_code=org_code, by_day=answered, yesterday=answered[window.reporting_day],
        last_7_days=sum(answered.values()),
        dispositions=[data.Measure(measure=k, label=_DISPOSITIONS.get(k, label(k)), by_day=per[k],
                                   yesterday=per[k][window.reporting_day], last_7_days=sum(per[k].values()))
                      for k in keys],
        booked_7_days=sum(sum(v.values()) for k, v in per.items() if k.startswith("booked:")),
        not_available=[] if handling_7_days else ["Calls offered", "Calls answered within 60 seconds",
                                                   "Calls abandoned"],
        handling_yesterday=handling_yesterday, handling_7_days=handling_7_days,
    )


_DISPOSITIONS = {
    "ed": "Go to an emergency department", "utc": "Go to an urgent treatment centre",
    "sdec": "Same day emergency care", "gp": "Contact a GP", "pharmacy": "Contact a pharmacy",
    "ambulance_999": "Ambulance dispatched", "self_care": "Self-care", "other": "Other service",
}


def _formatter(unit: str) -> Callable[[float], str]:
    def fmt(v: float) -> str:
        return format_value(v, unit)

    return fmt


def _site_charts(site: data.Site, standards: Sequence[KeyStandard], rows_by_id: dict[str, list[Row]],
                 day: dt.date) -> list[SiteChart]:
    cat = catalogue()
    out = []
    for k in standards:
        s = cat.get(k.id)
        series = [r for r in _series_rows(rows_by_id.get(k.id, [])) if _day(r.period_start) <= day]
        chart = _chart(s, series)
        if chart is None:
            continue
        labels = [f"{_day(r.period_start).day} {_day(r.period_start):%b}" for r in series]
        summary = (f"XmR chart of {s.title} at {site.name}, daily, {len(series)} days from {labels[0]} to "
                   f"{labels[-1]}. Latest {format_value(series[-1].value, s.unit)}; mean "
                   f"{format_value(chart.latest.mean, s.unit)}, process limits "
                   f"{format_value(chart.latest.lower_limit, s.unit)} to "
                   f"{format_value(chart.latest.upper_limit, s.unit)}"
                   + ("" if chart.target is None else f"; target {format_value(chart.target, s.unit)}")
                   + f". {chart.variation_icon.label}."
                   + ("" if chart.assurance_icon is None else f" {chart.assurance_icon.label}."))
        svg = xmr_svg(chart, title=f"{s.title} at {site.name}", desc=summary, labels=labels,
                      format_value=_formatter(s.unit), id_prefix=f"spc-{s.id}")
        out.append(SiteChart(standard_id=s.id, title=s.title, svg=_closed(svg), summary=summary))
    return out


@reading
def site_page(store: Store, site_code: str, now: dt.datetime | None = None) -> SitePage | None:
    """A site's page, or ``None`` when the store has no site with that code."""
    detail = data.site_detail(store, site_code, now=now)
    if detail is None:
        return None
    site = detail.site
    board = now_board(store, [site], detail.beds, now)
    row = next((r for r in board.rows if r.code == site_code), None) if board else None
    standards: list[KeyStandard] = []
    charts: list[SiteChart] = []
    calls = None
    if detail.window is not None:
        day = detail.window.reporting_day
        standards, rows_by_id = key_standards(store, day, site=site_code)
        charts = _site_charts(site, standards, rows_by_id, day)
        calls = _calls_111(store, site.org_code, detail.window)
    emergency = bool(detail.attendances) or any(v.service_type in _ED_SERVICES for v in site.services) or bool(
        detail.ambulance_7_days and detail.ambulance_7_days.arrivals)
    return SitePage(**detail.model_dump(), now=row, as_at=board.as_at if board else None, standards=standards,
                    charts=charts, calls_111=calls, has_emergency_care=emergency)


# --- CSV ----------------------------------------------------------------------------------------

_NOW_MEASURES = ("in_ed", "over_12_hours", "dta_waiting", "ambulances_waiting", "beds_open", "beds_occupied",
                 "beds_free", "occupancy_pct", "no_criteria_to_reside")


def _now_rows(board: NowBoard | None, only: str | None = None) -> list[dict[str, Any]]:
    if board is None:
        return []
    out = []
    for r in board.rows:
        if only is not None and r.code != only:
            continue
        for m in _NOW_MEASURES:
            v = getattr(r, m)
            if v is not None:
                unit = "percent" if m == "occupancy_pct" else ("beds" if m.startswith("beds") else "count")
                out.append(dict(zip(data.CSV_COLUMNS, ("now", r.code or "", "", m, board.as_at.isoformat(), v, unit),
                                    strict=True)))
    return out


def _standard_rows(standards: Sequence[KeyStandard], code: str) -> list[dict[str, Any]]:
    out = []
    for k in standards:
        if k.value is not None and k.period_start is not None:
            out.append(dict(zip(data.CSV_COLUMNS, ("standards", code, k.id, "value", k.period_start.isoformat(),
                                                   k.value, k.unit), strict=True)))
        if k.target is not None and k.period_start is not None:
            out.append(dict(zip(data.CSV_COLUMNS, ("standards", code, k.id, "target", k.period_start.isoformat(),
                                                   k.target, k.unit), strict=True)))
    return out


def first_screen_csv_rows(model: FirstScreen | SitePage) -> list[dict[str, Any]]:
    """Every number the first screen (or a site page) shows, one per row, as :data:`uec.web.data.CSV_COLUMNS`.

    >>> first_screen_csv_rows(FirstScreen(has_data=False, latest_event_time=None, window=None, sites=[],
    ...                                   activity=[], beds=[], beds_g_and_a_total=None))
    []
    """
    if isinstance(model, SitePage):
        code = model.site.site_code
        now = [] if model.now is None or model.as_at is None else _now_rows(
            NowBoard(as_at=model.as_at, rows=[model.now], ctr_missing=[]))
        calls: list[dict[str, Any]] = []
        if model.calls_111 is not None:
            c = model.calls_111
            calls = [dict(zip(data.CSV_COLUMNS, ("calls_111", code, m.measure, "calls", d.isoformat(), n, "count"),
                              strict=True)) for m in c.dispositions for d, n in m.by_day.items()]
        return now + _standard_rows(model.standards, code) + calls + data.csv_rows(model)
    return _now_rows(model.now) + _standard_rows(model.key_standards, "") + data.csv_rows(model)
