"""The demo's handover, centile and occupancy-swing targets follow from their published sources.

Recomputed from the copies in tests/data/calibration (see its README for sources and licences).
"""

from __future__ import annotations

import calendar
import csv
import math
from pathlib import Path
from typing import Any

import pytest

from uec.demo import calibration

DATA = Path(__file__).resolve().parents[1] / "data" / "calibration"
TARGETS: dict[str, Any] = calibration()["targets"]
PRE_PANDEMIC = ("2017-18", "2018-19", "2019-20")


def rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(newline="") as f:
        return list(csv.DictReader(f))


def ambsys() -> dict[str, dict[str, str]]:
    return {f"{r['Year']}-{int(r['Month']):02d}": r for r in rows("ambsys_england_extract.csv")}


def test_winter_handover_shares_are_the_sitrep_over_ambsys_conveyances() -> None:
    amb = ambsys()
    over_30 = over_60 = conveyed = 0.0
    for r in rows("sitrep_handovers_england_monthly.csv"):
        if r["winter"] not in PRE_PANDEMIC or r["month"][5:] not in ("12", "01", "02"):
            continue
        year, month = int(r["month"][:4]), int(r["month"][5:])
        per_day = float(amb[r["month"]]["A53"]) / calendar.monthrange(year, month)[1]
        conveyed += per_day * int(r["days"])
        over_30 += int(r["delays_over_30"])
        over_60 += int(r["delays_over_60"])
    assert (over_30, over_60, round(conveyed)) == (484_304, 108_154, 3_739_643)
    assert over_30 / conveyed == pytest.approx(TARGETS["handover_winter_over_30_share"]["value"], abs=5e-4)
    assert over_60 / conveyed == pytest.approx(TARGETS["handover_winter_over_60_share"]["value"], abs=5e-4)


def test_the_winter_mean_is_the_lognormal_through_those_shares() -> None:
    from scipy import stats

    s30 = TARGETS["handover_winter_over_30_share"]["value"]
    s60 = TARGETS["handover_winter_over_60_share"]["value"]
    z30, z60 = stats.norm.isf(s30), stats.norm.isf(s60)
    sigma = math.log(2) / (z60 - z30)
    mean = float(stats.lognorm(sigma, scale=30 / math.exp(z30 * sigma)).mean())
    assert mean == pytest.approx(TARGETS["handover_winter_mean_min"]["value"], abs=0.2)


@pytest.mark.parametrize(("name", "p90", "count"), [("ambulance_c3_p90_s", "A35", "A11"),
                                                     ("ambulance_c4_p90_s", "A38", "A12")])
def test_category_3_and_4_centiles_are_ambsys_2019(name: str, p90: str, count: str) -> None:
    year = [r for key, r in ambsys().items() if key.startswith("2019-")]
    assert len(year) == 12
    weighted = sum(float(r[p90]) * float(r[count]) for r in year) / sum(float(r[count]) for r in year)
    assert weighted == pytest.approx(TARGETS[name]["value"], abs=1.0)


def test_occupancy_swing_is_kh03_quarter_4_minus_quarter_2() -> None:
    occ = {(r["fin_year"], r["quarter"]): float(r["occupied_general_acute"]) / float(r["available_general_acute"])
           for r in rows("kh03_england_quarterly.csv")}
    swings = [occ[(y, "Q4")] - occ[(y, "Q2")] for y in ("2017/18", "2018/19")]
    assert [round(s, 3) for s in swings] == [0.036, 0.028]
    assert sum(swings) / 2 == pytest.approx(TARGETS["g_and_a_occupancy_q4_minus_q2"]["value"], abs=5e-4)
