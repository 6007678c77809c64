"""From the generator's arrays to Arrow tables in the contract's exact schema.

Only the written window goes out: events whose time field falls in it, plus the spells of patients
already in bed when it opens (admitted during the warm-up), so that the bed census on the first
day is explained by spells in the store. Links to rows outside the window are cut (set to null)
rather than left dangling. A spell still open at the extract time (midnight after the last day)
has no discharge yet, as in a real extract.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from uec.contract import table as contract_table
from uec.demo._model import (
    CATEGORIES,
    DESTINATIONS,
    DISPOSALS,
    METHODS,
    N_ACUTE,
    NULL,
    OUTCOMES,
    SITE_CODES,
    SPECIALTIES,
    Generated,
)
from uec.ics import params as P
from uec.ics import reference as R

I64 = npt.NDArray[np.int64]
BOOL = npt.NDArray[np.bool_]

SERVICE_TYPES = ("ed_type1", "utc", "sdec")
MODES = ("ambulance", "walk_in", "other")


def _ids(prefix: str, n: int, width: int = 9) -> pa.StringArray:
    """``prefix`` + zero-padded sequence numbers 1..n, built as one Arrow buffer.

    >>> _ids("A", 2, 3).to_pylist()
    ['A001', 'A002']
    """
    seq = np.arange(1, n + 1, dtype=np.int64)
    digits = (seq[:, None] // (10 ** np.arange(width - 1, -1, -1, dtype=np.int64))) % 10 + ord("0")
    head = np.frombuffer(prefix.encode("ascii"), np.uint8)
    chars = np.concatenate([np.broadcast_to(head, (n, head.size)), digits.astype(np.uint8)], axis=1)
    size = head.size + width
    offsets = np.arange(n + 1, dtype=np.int32) * size
    arr = pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets),
                                                 pa.py_buffer(np.ascontiguousarray(chars).tobytes())])
    assert isinstance(arr, pa.StringArray)
    return arr


def _const(value: str, n: int) -> pa.Array:
    return pa.repeat(pa.scalar(value, pa.string()), n)


def _instant(t: I64) -> pa.Array:
    null = t == NULL
    return pa.array(np.where(null, 0, t) * 1_000_000, type=pa.timestamp("us", tz="UTC"), mask=null)


def _code(labels: tuple[str, ...] | list[str], idx: npt.ArrayLike) -> pa.Array:
    i = np.asarray(idx, np.int64)
    return pc.take(pa.array(list(labels), pa.string()), pa.array(i, mask=i < 0))


def _int(values: npt.ArrayLike, null: BOOL | None = None) -> pa.Array:
    return pa.array(np.asarray(values, np.int64), type=pa.int64(), mask=null)


def _bool(values: npt.ArrayLike) -> pa.Array:
    return pa.array(np.asarray(values, np.bool_), type=pa.bool_())


def _take_ids(ids: pa.StringArray, idx: I64) -> pa.Array:
    return pc.take(ids, pa.array(idx, mask=idx < 0))


def _rank(order: I64, n: int) -> I64:
    """Position of each original row after sorting by ``order`` (-1 for rows not kept)."""
    rank = np.full(n, -1, np.int64)
    rank[order] = np.arange(order.size)
    return rank


def _finish(name: str, cols: dict[str, Any]) -> pa.Table:
    schema = contract_table(name).arrow_schema()
    return pa.table([cols[f.name] for f in schema], schema=schema)


def reference_tables(g: Generated) -> dict[str, pa.Table]:
    rows = {
        "organisations": R.organisations(),
        "org_hierarchy": R.hierarchy(),
        "sites": R.sites(),
        "services": R.services(list(g.world.core_beds), list(g.world.escalation_beds)),
    }
    out = {}
    for name, data in rows.items():
        schema = contract_table(name).arrow_schema()
        out[name] = pa.Table.from_pylist(data, schema=schema)
    return out


def event_tables(g: Generated) -> dict[str, pa.Table]:
    w = g.world
    cal = w.cal
    start, end = cal.window_start, cal.window_end
    keys = w.pop.keys
    age_codes = list(P.AGE_BANDS)
    out: dict[str, pa.Table] = {}

    # NHS 111 calls.
    c = g.calls
    keep = np.flatnonzero((c.time >= start) & (c.time < end))
    keep = keep[np.argsort(c.time[keep], kind="stable")]
    out["calls_111"] = _finish("calls_111", {
        "call_id": _ids("C", keep.size),
        "org_code": _const(R.NHS111, keep.size),
        "call_time": _instant(c.time[keep]),
        "disposition": _code(P.DISPOSITIONS, c.disposition[keep]),
        "booked_slot": _bool(c.booked[keep]),
        "patient_key": pc.take(keys, pa.array(c.person[keep])),
        "age_band": _code(age_codes, w.pop.age[c.person[keep]]),
        "imd_decile": _int(w.pop.imd[c.person[keep]]),
    })

    # Ambulance incidents (already in call order).
    inc = g.incidents
    keep_i = np.flatnonzero((inc.call >= start) & (inc.call < end))
    inc_rank = _rank(keep_i, inc.call.size)
    inc_ids = _ids("I", keep_i.size)
    dest_codes = list(SITE_CODES[:N_ACUTE])
    out["ambulance_incidents"] = _finish("ambulance_incidents", {
        "incident_id": inc_ids,
        "org_code": _const(R.AMBULANCE, keep_i.size),
        "call_time": _instant(inc.call[keep_i]),
        "category": _code(CATEGORIES, inc.category[keep_i]),
        "allocated_time": _instant(inc.alloc[keep_i]),
        "on_scene_time": _instant(inc.on_scene[keep_i]),
        "outcome": _code(OUTCOMES, inc.outcome[keep_i]),
        "destination_site": _code(dest_codes, inc.dest[keep_i]),
        "hospital_arrival_time": _instant(inc.hospital[keep_i]),
        "handover_time": _instant(inc.handover[keep_i]),
        "clear_time": _instant(inc.clear[keep_i]),
        "patient_key": pc.take(keys, pa.array(inc.person[keep_i])),
        "age_band": _code(age_codes, w.pop.age[inc.person[keep_i]]),
        "imd_decile": _int(w.pop.imd[inc.person[keep_i]]),
    })

    # Attendances.
    a = g.attendances
    keep_a = np.flatnonzero((a.arrival >= start) & (a.arrival < end))
    keep_a = keep_a[np.argsort(a.arrival[keep_a], kind="stable")]
    att_rank = _rank(keep_a, a.size)
    att_ids = _ids("A", keep_a.size)
    linked = np.where(a.incident[keep_a] >= 0, inc_rank[np.clip(a.incident[keep_a], 0, None)], -1)
    p = a.person[keep_a]
    out["attendances"] = _finish("attendances", {
        "attendance_id": att_ids,
        "site_code": _code(SITE_CODES, a.site[keep_a]),
        "service_type": _code(SERVICE_TYPES, a.service[keep_a]),
        "arrival_time": _instant(a.arrival[keep_a]),
        "arrival_mode": _code(MODES, a.mode[keep_a]),
        "acuity": _int(a.acuity[keep_a]),
        "initial_assessment_time": _instant(a.initial[keep_a]),
        "seen_time": _instant(a.seen[keep_a]),
        "decision_to_admit_time": _instant(a.dta[keep_a]),
        "clinically_ready_time": _instant(a.ready[keep_a]),
        "departure_time": _instant(a.departure[keep_a]),
        "disposal": _code(DISPOSALS, a.disposal[keep_a]),
        "age_band": _code(age_codes, w.pop.age[p]),
        "sex": _code(P.SEXES, a.sex[keep_a]),
        "ethnic_group": _code(P.ETHNIC_GROUPS, a.ethnic[keep_a]),
        "imd_decile": _int(w.pop.imd[p]),
        "mental_health": _bool(a.mental[keep_a]),
        "referred_by_111": _bool(a.by111[keep_a]),
        "booked_slot": _bool(a.booked[keep_a]),
        "incident_id": _take_ids(inc_ids, linked),
        "patient_key": pc.take(keys, pa.array(p)),
    })

    # Spells: admitted in the window, or in bed when it opens.
    s = g.spells
    in_window = (s.admission >= start) & (s.admission < end)
    open_at_start = (s.admission < start) & (s.discharge >= start)
    keep_s = np.flatnonzero(in_window | open_at_start)
    keep_s = keep_s[np.argsort(s.admission[keep_s], kind="stable")]
    dis = np.where(s.discharge[keep_s] > end, NULL, s.discharge[keep_s])
    ctr = np.where(s.ctr[keep_s] > end, NULL, s.ctr[keep_s])
    gone = dis != NULL
    link = np.where(s.attendance[keep_s] >= 0, att_rank[np.clip(s.attendance[keep_s], 0, None)], -1)
    ps = s.person[keep_s]
    out["spells"] = _finish("spells", {
        "spell_id": _ids("S", keep_s.size),
        "site_code": _code(SITE_CODES, s.site[keep_s]),
        "admission_time": _instant(s.admission[keep_s]),
        "admission_method": _code(METHODS, s.method[keep_s]),
        "specialty_group": _code(SPECIALTIES, s.specialty[keep_s]),
        "attendance_id": _take_ids(att_ids, link),
        "criteria_to_reside_end_time": _instant(ctr),
        "discharge_time": _instant(dis),
        "discharge_pathway": _int(s.pathway[keep_s], null=(s.pathway[keep_s] < 0) | ~gone),
        "discharge_destination": _code(DESTINATIONS, np.where(gone, s.destination[keep_s], -1)),
        "age_band": _code(age_codes, w.pop.age[ps]),
        "sex": _code(P.SEXES, s.sex[keep_s]),
        "ethnic_group": _code(P.ETHNIC_GROUPS, s.ethnic[keep_s]),
        "imd_decile": _int(w.pop.imd[ps]),
        "patient_key": pc.take(keys, pa.array(ps)),
    })

    # Bed states at 08:00. Wards work at up to 95% of core beds (a bed empty in the wrong ward or
    # bay cannot take the next patient); beyond that, escalation beds open with a few spare, up to
    # the site's escalation capacity. Patients beyond even that are counted in escalation occupied
    # above escalation open: corridor care, which the census must not hide.
    core = w.core_beds[:, None]
    esc_cap = w.escalation_beds[:, None]
    occ = g.bed_census
    esc_occ = np.clip(occ - np.round(0.95 * core).astype(np.int64), 0, None)
    spare = np.maximum(np.round(0.1 * esc_cap).astype(np.int64), 1)
    esc_open = np.where(esc_occ > 0, np.minimum(esc_occ + spare, esc_cap), 0)
    n_sites, n_days = occ.shape
    site_idx = np.repeat(np.arange(n_sites), n_days)
    times = np.tile(g.bed_times, n_sites)
    both_site = np.concatenate([site_idx, site_idx])
    both_time = np.concatenate([times, times])
    kind = np.concatenate([np.zeros(site_idx.size, np.int64), np.ones(site_idx.size, np.int64)])
    opened = np.concatenate([np.broadcast_to(core, occ.shape).ravel(), esc_open.ravel()])
    occupied = np.concatenate([(occ - esc_occ).ravel(), esc_occ.ravel()])
    order = np.lexsort((kind, both_site, both_time))
    out["bed_states"] = _finish("bed_states", {
        "site_code": _code(SITE_CODES, both_site[order]),
        "snapshot_time": _instant(both_time[order]),
        "bed_type": _code(("g_and_a", "g_and_a_escalation"), kind[order]),
        "beds_open": _int(opened[order]),
        "beds_occupied": _int(occupied[order]),
    })

    # Urgent community response.
    u = g.ucr
    keep_u = np.flatnonzero((u.referral >= start) & (u.referral < end))
    out["ucr_referrals"] = _finish("ucr_referrals", {
        "referral_id": _ids("U", keep_u.size),
        "org_code": _const(R.COMMUNITY, keep_u.size),
        "referral_time": _instant(u.referral[keep_u]),
        "first_visit_time": _instant(u.visit[keep_u]),
        "source": _code(P.UCR_SOURCES, u.source[keep_u]),
        "patient_key": pc.take(keys, pa.array(u.person[keep_u])),
        "age_band": _code(age_codes, w.pop.age[u.person[keep_u]]),
    })
    return out
