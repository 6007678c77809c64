"""Bed occupancy projection: hand-checkable cases on both stores, then the simulation's shape.

The hand-made site T01 has 40 ended emergency stays of exactly 50 hours, each admitted at 12:00
and no longer meeting the criteria to reside after 40 hours (10 hours before discharge). The as-of
instant is midnight at the start of Monday 13 January 2025 (GMT, so local = UTC). With every stay
50 hours long, survival is 1 before 50 hours and 0 from then, so every number is exact.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from uec.contract import table
from uec.errors import UecError
from uec.forecast.cli import app
from uec.forecast.occupancy import (
    CALIBRATION_ORIGINS,
    MIN_STRATUM,
    SPREAD_BOUNDS,
    conformal_factors,
    kaplan_meier,
    project_occupancy,
)
from uec.forecast.quantiles import QUANTILE_COLUMNS
from uec.forecast.runs import forecast_store_series, occupancy_projection
from uec.store import Store

AS_OF = datetime(2025, 1, 13, tzinfo=UTC)


def _spell(
    sid: str,
    adm: datetime,
    *,
    los_h: float | None = None,
    ctr_h: float | None = None,
    ctr_at: datetime | None = None,
    age: str = "18-64",
    pathway: int | None = None,
) -> dict[str, Any]:
    return {
        "spell_id": sid,
        "site_code": "T01",
        "admission_time": adm,
        "admission_method": "emergency",
        "age_band": age,
        "discharge_time": None if los_h is None else adm + timedelta(hours=los_h),
        "criteria_to_reside_end_time": ctr_at
        if ctr_at is not None
        else (None if ctr_h is None else adm + timedelta(hours=ctr_h)),
        "discharge_pathway": pathway,
    }


def _history() -> list[dict[str, Any]]:
    # One stay a day, admitted at 12:00, ending long before the as-of instant.
    first = AS_OF - timedelta(days=60)
    return [_spell(f"h{i}", first + timedelta(days=i, hours=12), los_h=50, ctr_h=40, pathway=i % 2) for i in range(40)]


def _current() -> list[dict[str, Any]]:
    return [
        # A: 12 hours in, still meets the criteria: in at +24 h (36 h), out at +48 h (60 h).
        _spell("A", AS_OF - timedelta(hours=12)),
        # B: 36 hours in: out by the first midnight (60 h).
        _spell("B", AS_OF - timedelta(hours=36)),
        # C: criteria ended 6 hours ago; delays are 10 hours, so out by the first midnight, though
        # its length of stay alone (10 h so far) would keep it in.
        _spell("C", AS_OF - timedelta(hours=10), ctr_at=AS_OF - timedelta(hours=6)),
        # D: its criteria end after the as-of instant, which the projection must not know.
        _spell("D", AS_OF - timedelta(hours=12), ctr_at=AS_OF + timedelta(hours=5)),
        # E: aged 85+, a stratum with no ended stays: falls back to all emergency stays.
        _spell("E", AS_OF - timedelta(hours=12), age="85+"),
        # Discharged before the as-of instant: not a current patient (and, as an elective child,
        # in no stratum the others use).
        {**_spell("F", AS_OF - timedelta(hours=30), los_h=20, age="5-17"), "admission_method": "elective"},
    ]


def _load(store: Store) -> None:
    rows = _history() + _current()
    with store.write() as w:
        w.append("spells", pa.Table.from_pylist(rows, schema=table("spells").arrow_schema()))
        w.append(
            "bed_states",
            pa.Table.from_pylist(
                [
                    {
                        "site_code": "T01",
                        "snapshot_time": AS_OF - timedelta(hours=16),
                        "bed_type": "g_and_a",
                        "beds_open": 30,
                        "beds_occupied": 5,
                    },
                    {
                        "site_code": "T01",
                        "snapshot_time": AS_OF - timedelta(hours=16),
                        "bed_type": "g_and_a_escalation",
                        "beds_open": 2,
                        "beds_occupied": 0,
                    },
                    # After the as-of instant: not used.
                    {
                        "site_code": "T01",
                        "snapshot_time": AS_OF + timedelta(hours=8),
                        "bed_type": "g_and_a",
                        "beds_open": 99,
                        "beds_occupied": 5,
                    },
                ],
                schema=table("bed_states").arrow_schema(),
            ),
        )


def _admissions(per_day: float, days: int = 3) -> pd.DataFrame:
    fc = pd.DataFrame(
        {
            "unique_id": "admissions/T01/emergency",
            "ds": pd.date_range("2025-01-13", periods=days, freq="D"),
            "mean": per_day,
        }
    )
    for c in QUANTILE_COLUMNS:
        fc[c] = per_day
    return fc


def _empty() -> pd.DataFrame:
    return _admissions(0.0).iloc[0:0]


def test_no_admissions_is_the_survival_sum(store: Store) -> None:
    _load(store)
    p = project_occupancy(store, as_of=AS_OF, days=3, admissions=_empty(), simulations=200)
    site = p.sites[0]
    assert site.site_code == "T01"
    assert site.current_inpatients == 5 and site.current_nctr == 1
    # A, D and E are in at the first midnight; nobody after.
    assert [m.occupied.mean for m in site.midnights] == [3.0, 0.0, 0.0]
    assert [m.from_current for m in site.midnights] == [3.0, 0.0, 0.0]
    assert [m.date for m in site.midnights] == ["2025-01-14", "2025-01-15", "2025-01-16"]
    first = site.midnights[0]
    assert (first.occupied.lo95, first.occupied.hi95) == (3.0, 3.0)
    assert site.beds_open == 32 and site.beds_open_source == "bed census"
    assert first.free_beds is not None and first.free_beds.mean == 29.0
    used = {s.stratum: s.patients for s in site.strata}
    assert used["length of stay, admission method emergency, age band 18-64"] == 3  # A, B, D
    assert used["length of stay, admission method emergency"] == 1  # E, the fallback
    assert used["criteria to reside ended to discharge, age band 18-64"] == 1  # C


def test_admissions_survive_to_midnights(store: Store) -> None:
    _load(store)
    p = project_occupancy(store, as_of=AS_OF, days=3, admissions=_admissions(10.0), simulations=200)
    site = p.sites[0]
    # Admitted at 12:30: day 0's are in at +11.5 h and +35.5 h, out at +59.5 h (stays are 50 h).
    assert [m.occupied.mean for m in site.midnights] == [13.0, 20.0, 20.0]
    assert [m.from_admissions for m in site.midnights] == pytest.approx([10.0, 20.0, 20.0])
    nd = site.next_day
    assert nd is not None and nd.date == "2025-01-13"
    assert nd.admissions.mean == 10.0
    assert nd.occupied_start.mean == 5.0 and nd.occupied_end.mean == 13.0
    assert nd.discharges.mean == 2.0  # B and C
    assert nd.free_beds is not None and nd.free_beds.mean == 19.0


def test_mid_day_as_of_counts_only_the_rest_of_the_day(store: Store) -> None:
    _load(store)
    # At 13:00 the day's 12:30 admissions have happened (they would be current inpatients). Of the
    # 45 emergency admissions in the year, one (C) came at 14:00: 1/45 of a day's come after 13:00.
    p = project_occupancy(
        store, as_of=AS_OF + timedelta(hours=13), days=2, admissions=_admissions(10.0), simulations=200
    )
    site = p.sites[0]
    assert site.midnights[0].from_admissions == pytest.approx(10 / 45)
    assert site.midnights[1].from_admissions == pytest.approx(10 + 10 / 45)
    nd = site.next_day
    assert nd is not None and nd.date == "2025-01-14" and nd.admissions.mean == 10.0
    assert site.beds_open == 99  # the 08:00 census is before 13:00


def test_random_stays_give_ordered_bands(store: Store) -> None:
    rng = np.random.default_rng(1)
    rows = []
    start = AS_OF - timedelta(days=200)
    for i in range(600):
        adm = start + timedelta(hours=float(rng.uniform(0, 200 * 24)))
        los = float(rng.exponential(96))
        rows.append(_spell(f"r{i}", adm, los_h=los if adm + timedelta(hours=los) <= AS_OF else None))
    with store.write() as w:
        w.append("spells", pa.Table.from_pylist(rows, schema=table("spells").arrow_schema()))
    p = project_occupancy(store, as_of=AS_OF, days=4, admissions=_admissions(3.0, 4), simulations=400)
    for m in p.sites[0].midnights:
        b = m.occupied
        assert b.lo95 <= b.lo80 <= b.mean <= b.hi80 <= b.hi95
        assert b.mean == pytest.approx(m.from_current + m.from_admissions, rel=0.1, abs=1.5)


def test_default_as_of_and_fitted_admissions(store: Store) -> None:
    _load(store)
    p = project_occupancy(store, days=2, model="snaive", simulations=200)
    # The last events (C's admission, F's discharge) are on 12 January: the midnight after it.
    assert p.as_of == "2025-01-13T00:00:00+00:00"
    assert len(p.sites[0].midnights) == 2


def test_errors(store: Store) -> None:
    with pytest.raises(UecError, match="no inpatient spells"):
        project_occupancy(store)
    with pytest.raises(UecError, match="--days"):
        project_occupancy(store, days=0)


def test_kaplan_meier_matches_hand_calculation() -> None:
    km = kaplan_meier(np.array([1.0, 2.0, 2.0, 3.0, 5.0]), np.array([True, True, False, True, False]))
    # n=5: at 1, 1 of 5 ends; at 2, 1 of 4; at 3, 1 of 2.
    assert km(np.array([0.0, 1.0, 2.0, 3.0, 10.0])).tolist() == pytest.approx([1.0, 0.8, 0.6, 0.3, 0.3])
    assert MIN_STRATUM >= 10


def test_cli_occupancy_reuses_a_saved_run(store: Store) -> None:
    _load(store)
    runner = CliRunner()
    r = runner.invoke(app, ["occupancy", "--store", store.url, "--days", "2", "--model", "snaive", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["as_of"] == "2025-01-13T00:00:00+00:00" and out["model"] == "snaive"
    [site] = out["sites"]
    assert site["site_code"] == "T01" and [m["date"] for m in site["midnights"]] == ["2025-01-14", "2025-01-15"]
    assert "Next day" in r.stdout
    # Once a run has forecast every admissions series over the days, the projection uses it.
    ids = ["admissions/T01/elective", "admissions/T01/emergency"]
    forecast_store_series(store, ids, model="snaive", horizon=3, backtest_origins=0)
    assert occupancy_projection(store, days=2).model == "saved run"
    assert occupancy_projection(store, days=2, fresh=True, model="snaive").model == "snaive"
    # Three midnights need the admissions of four days: more than the run holds, so refit.
    assert occupancy_projection(store, days=3, model="snaive").model == "snaive"


def test_a_planned_pathway_selects_its_stratum(store: Store) -> None:
    rows = _history()
    # Pathway 0 delays are 10 hours (the history's, half of it); pathway 1's are made 100 hours.
    for r in rows:
        if r["discharge_pathway"] == 1:
            r["discharge_time"] = r["criteria_to_reside_end_time"] + timedelta(hours=100)
    rows += [
        _spell(f"x{i}", AS_OF - timedelta(days=30 + i, hours=-12), los_h=140, ctr_h=40, pathway=1) for i in range(20)
    ]
    # Both no longer meet the criteria (6 hours ago); G has a planned pathway 1, H's pathway came
    # with a discharge after the as-of instant and must be ignored.
    g = {**_spell("G", AS_OF - timedelta(hours=10), ctr_at=AS_OF - timedelta(hours=6)), "discharge_pathway": 1}
    h = _spell("H", AS_OF - timedelta(hours=10), ctr_at=AS_OF - timedelta(hours=6), los_h=30, pathway=1)
    with store.write() as w:
        w.append("spells", pa.Table.from_pylist([*rows, g, h], schema=table("spells").arrow_schema()))
    p = project_occupancy(store, as_of=AS_OF, days=1, admissions=_empty(), simulations=200)
    used = {s.stratum: s.patients for s in p.sites[0].strata}
    assert used["criteria to reside ended to discharge, discharge pathway 1"] == 1  # G
    assert used["criteria to reside ended to discharge, age band 18-64"] == 1  # H
    # G (pathway 1: every delay 100 hours) is still in at the first midnight; H (all 60 ended delays
    # of its age band: 40 of 100 hours, 20 of 10) with probability 40/60.
    assert p.sites[0].midnights[0].from_current == pytest.approx(1 + 40 / 60)


# --- interval calibration -----------------------------------------------------------------------


def _cohorts(*, days: int = 120, seed: int = 3, batched: bool = True) -> list[dict[str, Any]]:
    """Admissions at 12:00 every day before the as-of instant.

    ``batched``: about 30 patients aged 65-74 a day whose whole cohort stays either 30 or 150
    hours (a coin per day), and about 10 aged 18-64 staying 30 hours. Survival sees only the mix,
    so the simulation lets each patient leave on their own: its intervals are too narrow.
    Otherwise exactly 10 a day, 5 staying 30 hours and 5 staying 150 hours: the census is the same
    every midnight, and every random draw of the simulation makes its intervals too wide.
    """
    rng = np.random.default_rng(seed)
    rows = []
    first = AS_OF - timedelta(days=days)
    for d in range(days):
        adm = first + timedelta(days=d, hours=12)
        if batched:
            stays = [30.0 if rng.random() < 0.5 else 150.0] * int(rng.poisson(30))
            ages = ["65-74"] * len(stays)
            short = int(rng.poisson(10))
            stays += [30.0] * short
            ages += ["18-64"] * short
        else:
            stays, ages = [30.0] * 5 + [150.0] * 5, ["18-64"] * 10
        rows += [_spell(f"c{d}_{i}", adm, los_h=h, age=a) for i, (h, a) in enumerate(zip(stays, ages, strict=True))]
    return rows


def _load_rows(store: Store, rows: list[dict[str, Any]]) -> None:
    with store.write() as w:
        w.append("spells", pa.Table.from_pylist(rows, schema=table("spells").arrow_schema()))


def _widths(p: Any) -> tuple[list[float], list[float]]:
    mids = p.sites[0].midnights
    return (
        [m.occupied.hi80 - m.occupied.lo80 for m in mids],
        [m.occupied_uncalibrated.hi80 - m.occupied_uncalibrated.lo80 for m in mids],
    )


def test_calibration_widens_intervals_that_are_too_narrow(store: Store) -> None:
    _load_rows(store, _cohorts(batched=True))
    p = project_occupancy(store, as_of=AS_OF, days=3, model="glm", simulations=300)
    cal = p.calibration
    assert cal is not None and len(cal.origins) == CALIBRATION_ORIGINS and cal.model == "glm"
    # Eight weekly origins, one site, three midnights each, all before the as-of instant.
    assert cal.comparisons == 8 * 3
    # The replays' own 80% intervals missed the census more often than one time in five (the
    # admissions forecasts are calibrated, so by less than with raw glm)...
    assert cal.coverage80 is not None and cal.coverage80 <= 0.75
    # ...so every day's spread is widened, within the bounds.
    assert all(1.0 < f <= SPREAD_BOUNDS[1] for f in cal.factors)
    calibrated, raw = _widths(p)
    assert all(c > r for c, r in zip(calibrated, raw, strict=True))
    for m, f in zip(p.sites[0].midnights, cal.factors, strict=True):
        assert m.spread_factor == f
        # The mean stays (only the spread around it is scaled).
        assert m.occupied.mean == pytest.approx(m.occupied_uncalibrated.mean, abs=1e-9)
        assert m.occupied.lo95 <= m.occupied.lo80 <= m.occupied.mean <= m.occupied.hi80 <= m.occupied.hi95


def test_calibration_narrows_intervals_that_are_too_wide(store: Store) -> None:
    _load_rows(store, _cohorts(batched=False))
    p = project_occupancy(store, as_of=AS_OF, days=3, admissions=_admissions(10.0, 4), simulations=300)
    cal = p.calibration
    assert cal is not None and cal.coverage80 == 1.0 and cal.coverage95 == 1.0
    assert all(SPREAD_BOUNDS[0] <= f < 1.0 for f in cal.factors)
    calibrated, raw = _widths(p)
    assert all(c < r for c, r in zip(calibrated, raw, strict=True))
    # The factors travel with the projection (JSON for the API and ``--json``).
    out = json.loads(p.model_dump_json())
    assert out["calibration"]["factors"] == cal.factors
    assert [m["spread_factor"] for m in out["sites"][0]["midnights"]] == cal.factors
    # Without calibration the bands are the simulation's own.
    raw_p = project_occupancy(
        store, as_of=AS_OF, days=3, admissions=_admissions(10.0, 4), simulations=300, calibrate=False
    )
    assert raw_p.calibration is None
    assert [m.occupied for m in raw_p.sites[0].midnights] == [m.occupied_uncalibrated for m in p.sites[0].midnights]


def test_calibration_uses_nothing_after_the_as_of_instant(store: Store) -> None:
    rows = _cohorts(batched=True, days=70)
    # Admissions after the as-of instant, which a backtest store holds.
    rows += [_spell(f"later{i}", AS_OF + timedelta(hours=3 + i), los_h=5.0) for i in range(40)]
    _load_rows(store, rows)
    # Nine midnights: the latest replays reach past the as-of instant, where nothing may be scored.
    kwargs: dict[str, Any] = {"as_of": AS_OF, "days": 9, "admissions": _admissions(10.0, 10), "simulations": 200}
    before = project_occupancy(store, **kwargs)
    # The store as a live feed had it at the as-of instant: nothing admitted later, and the
    # patients then in hospital not yet discharged.
    with store.write() as w:
        w.execute("DELETE FROM spells WHERE admission_time > :t", {"t": AS_OF})
        w.execute("UPDATE spells SET discharge_time = NULL WHERE discharge_time > :t", {"t": AS_OF})
    after = project_occupancy(store, **kwargs)
    assert before.calibration is not None
    # Five weekly origins have four weeks of history; the one a week back is scored on its first
    # seven midnights only (the eighth is after the as-of instant), the others on all nine.
    assert len(before.calibration.origins) == 5 and before.calibration.comparisons == 7 + 4 * 9
    assert before.calibration == after.calibration
    assert before.model_dump() == after.model_dump()


def test_conformal_factors_by_hand() -> None:
    # 20 scores 0.05, 0.10, …, 1.00: the 80% factor is the ⌈21 · 0.8⌉ = 17th smallest (0.85), the
    # 95% one the 20th (1.00); the factor is their geometric mean.
    scores = np.linspace(0.05, 1.0, 20)[:, None]
    assert conformal_factors(scores, scores).tolist() == pytest.approx([np.sqrt(0.85)])
    # Bounded both ways; a day with no scores takes the day before's factor.
    lo, hi = SPREAD_BOUNDS
    assert conformal_factors(np.full((5, 1), 100.0), np.full((5, 1), 100.0)).tolist() == [hi]
    assert conformal_factors(np.zeros((5, 1)), np.zeros((5, 1))).tolist() == [lo]
    gap = np.full((10, 4), np.nan)
    gap[:, 0] = 2.0
    assert conformal_factors(gap, gap).tolist() == [2.0, 2.0, 2.0, 2.0]


def test_without_history_the_intervals_stay_uncalibrated(store: Store) -> None:
    _load_rows(store, _current())
    p = project_occupancy(store, as_of=AS_OF, days=2, admissions=_empty(), simulations=100)
    assert p.calibration is not None and p.calibration.comparisons == 0 and p.calibration.origins == []
    assert p.calibration.factors == [1.0, 1.0]
    assert any("calibrate" in n for n in p.notes)
