"""What the generated data reproduces: each calibration figure measured on the written tables.

The measures read only the contract tables (never the generator's internals), so they say what a
user of the store would find. The tests measure the same figures again with SQL on the store.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

MONTH_DAYS = 30.4375
#: The months the winter sitrep counts handover delays in (December to February).
WINTER = (12, 1, 2)
_NULL = np.iinfo(np.int64).min
_TWELVE_H = 12 * 3600 * 1_000_000
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


def _us(col: pa.ChunkedArray | pa.Array) -> I64:
    """Microseconds since the epoch, with nulls as the smallest int64."""
    ints = pc.cast(col, pa.int64())
    out: I64 = pc.fill_null(ints, np.iinfo(np.int64).min).to_numpy(zero_copy_only=False)
    return out


def _month(us: I64) -> I64:
    """Calendar month (1-12, UTC) of microseconds since the epoch.

    >>> _month(np.array([0, 45 * 86_400_000_000], dtype=np.int64)).tolist()
    [1, 2]
    """
    months: I64 = us.astype("datetime64[us]").astype("datetime64[M]").astype(np.int64) % 12 + 1
    return months


def _str(col: pa.ChunkedArray | pa.Array) -> npt.NDArray[Any]:
    return np.asarray(pc.fill_null(col, "").to_numpy(zero_copy_only=False))


def measure(tables: Mapping[str, pa.Table], days: int, population: int) -> dict[str, float]:
    """Every target in ``calibration.yaml`` measured on ``tables`` (NaN when there is nothing to measure)."""
    per_1000_month = MONTH_DAYS / days / (population / 1000)
    out: dict[str, float] = {}
    nan = float("nan")

    att = tables["attendances"]
    svc = _str(att["service_type"])
    disp = _str(att["disposal"])
    arr = _us(att["arrival_time"])
    dep = _us(att["departure_time"])
    within = (dep - arr) <= 4 * 3600 * 1_000_000
    t1 = svc == "ed_type1"
    utc = svc == "utc"
    adm = disp == "admitted"
    out["ed_type1_attendances_per_1000_month"] = float(t1.sum()) * per_1000_month
    out["minor_attendances_per_1000_month"] = float(utc.sum()) * per_1000_month
    out["emergency_admissions_via_ae_per_1000_month"] = float((adm & (t1 | utc)).sum()) * per_1000_month
    out["ed_type1_admission_share"] = float(adm[t1].mean()) if t1.any() else nan
    out["four_hour_type1"] = float(within[t1].mean()) if t1.any() else nan
    out["four_hour_all_types"] = float(within[t1 | utc].mean()) if (t1 | utc).any() else nan
    stay = (dep - arr)[t1 & adm] / 3.6e9
    out["mimic_ed_median_stay_admitted_h"] = float(np.median(stay)) if stay.size else nan
    # Twelve-hour waits: from the decision to admit to leaving the ED (the published "trolley
    # wait"), per day; and type 1 stays of over 12 hours from arrival, as a share.
    dta = _us(att["decision_to_admit_time"])
    has_dta = (dta != _NULL) & (dep != _NULL)
    out["twelve_hour_dta_waits_per_day"] = float(((dep - dta)[has_dta] > _TWELVE_H).sum()) / days
    ended = t1 & (dep != _NULL)
    out["twelve_hour_from_arrival_type1_share"] = float(((dep - arr)[ended] > _TWELVE_H).mean()) if ended.any() else nan

    inc = tables["ambulance_incidents"]
    n_inc = inc.num_rows
    outcome = _str(inc["outcome"])
    cat = _str(inc["category"])
    resp = (_us(inc["on_scene_time"]) - _us(inc["call_time"])) / 1e6
    has = _us(inc["on_scene_time"]) != np.iinfo(np.int64).min
    out["ambulance_incidents_per_1000_month"] = n_inc * per_1000_month
    out["ambulance_hear_and_treat_share"] = float((outcome == "hear_and_treat").mean()) if n_inc else nan
    out["ambulance_conveyed_ed_share"] = float((outcome == "conveyed_ed").mean()) if n_inc else nan
    f2f = np.isin(cat, ["C1", "C2", "C3", "C4"])
    for i in range(1, 5):
        c = cat == f"C{i}"
        out[f"ambulance_c{i}_share"] = float(c.sum() / f2f.sum()) if f2f.any() else nan
        r = resp[c & has]
        out[f"ambulance_c{i}_mean_s"] = float(r.mean()) if r.size else nan
        out[f"ambulance_c{i}_p90_s"] = float(np.quantile(r, 0.9)) if r.size else nan

    # Handovers (hospital arrival to handover) in winter, the months the sitrep counts delays.
    hosp = _us(inc["hospital_arrival_time"])
    hand = _us(inc["handover_time"])
    handed = (hosp != _NULL) & (hand != _NULL) & np.isin(_month(hosp), WINTER)
    mins = (hand - hosp)[handed] / 6e7
    out["handover_winter_mean_min"] = float(mins.mean()) if mins.size else nan
    out["handover_winter_over_30_share"] = float((mins > 30).mean()) if mins.size else nan
    out["handover_winter_over_60_share"] = float((mins > 60).mean()) if mins.size else nan

    services = tables["services"]
    core = [int(c) for c, sid in zip(services["capacity"].to_pylist(), services["service_id"].to_pylist(),
                                     strict=True) if sid.endswith("-GA")]
    out["g_and_a_beds_per_1000"] = sum(core) / (population / 1000)
    beds = tables["bed_states"]
    opened = float(pc.sum(beds["beds_open"]).as_py() or 0)
    occupied = float(pc.sum(beds["beds_occupied"]).as_py() or 0)
    out["g_and_a_occupancy"] = occupied / opened if opened else nan
    # KH03's seasonal swing: January to March against July to September (quarters 4 and 2).
    month = _month(_us(beds["snapshot_time"]))
    occ = pc.fill_null(beds["beds_occupied"], 0).to_numpy(zero_copy_only=False).astype(float)
    opn = pc.fill_null(beds["beds_open"], 0).to_numpy(zero_copy_only=False).astype(float)
    q4, q2 = np.isin(month, (1, 2, 3)), np.isin(month, (7, 8, 9))
    out["g_and_a_occupancy_q4_minus_q2"] = (
        float(occ[q4].sum() / opn[q4].sum() - occ[q2].sum() / opn[q2].sum())
        if opn[q4].sum() and opn[q2].sum() else nan)

    # Patients not meeting the criteria to reside at each 08:00 census: criteria ended at or before
    # the census and still in hospital (a spell with no discharge is still in).
    sp = tables["spells"]
    snaps = np.unique(_us(beds["snapshot_time"]))
    ctr = _us(sp["criteria_to_reside_end_time"])
    dis = _us(sp["discharge_time"])
    has_ctr = ctr != np.iinfo(np.int64).min
    c_sorted = np.sort(ctr[has_ctr])
    d = dis[has_ctr]
    d_sorted = np.sort(np.where(d == np.iinfo(np.int64).min, np.iinfo(np.int64).max, d))
    nctr = np.searchsorted(c_sorted, snaps, side="right") - np.searchsorted(d_sorted, snaps, side="right")
    out["nctr_daily"] = float(nctr.mean()) if snaps.size else nan
    out["nctr_share_of_occupied"] = float(nctr.sum()) / occupied if occupied else nan

    path = pc.fill_null(sp["discharge_pathway"], -1).to_numpy(zero_copy_only=False)
    alive = path >= 0
    for k in range(4):
        out[f"discharge_pathway_{k}_share"] = float((path[alive] == k).mean()) if alive.any() else nan

    ucr = tables["ucr_referrals"]
    visit = _us(ucr["first_visit_time"])
    ref = _us(ucr["referral_time"])
    seen = visit != np.iinfo(np.int64).min
    out["ucr_within_2h_share"] = float(((visit - ref)[seen] <= 2 * 3600 * 1_000_000).mean()) if seen.any() else nan
    return out


def pathway_waits_days(spells: pa.Table) -> dict[int, float]:
    """Mean days from criteria-to-reside end to discharge, by discharge pathway."""
    path = pc.fill_null(spells["discharge_pathway"], -1).to_numpy(zero_copy_only=False)
    ctr = _us(spells["criteria_to_reside_end_time"])
    dis = _us(spells["discharge_time"])
    ok = (path >= 0) & (ctr != np.iinfo(np.int64).min) & (dis != np.iinfo(np.int64).min)
    wait = (dis - ctr) / 8.64e10
    return {k: float(wait[ok & (path == k)].mean()) for k in range(4) if (ok & (path == k)).any()}
