"""Turn one replication's visits into the event contract: the same tables real data fills.

``contract_tables(built, result, seed)`` returns Arrow tables with the contract's schemas for
``calls_111``, ``ambulance_incidents``, ``attendances``, ``spells``, ``bed_states`` and
``ucr_referrals`` (plus the reference tables ``organisations``, ``sites`` and ``services``), for the
reported window only (the warm-up is dropped; spells in a bed when the window opens are kept so
every census bed is a spell, as in a real extract).

What the engine does not decide is drawn here from the replication's own seeded stream, so a run
stays reproducible: the split of a crew's job into travel to scene and the rest, acuity within
the stream a patient was seen in, mental health, booked slots, 111 dispositions for callers who
leave the model, and died or transferred. Each patient is also a resident of the demo ICS (its
1.2 million people, the same for every replication of a seed), drawn with the fast demo's
weights by age band and IMD decile within the patient's catchment and model age group, so all the
patient's rows share a ``patient_key``, age band, sex, ethnic group and IMD decile.

Times: model minute ``t`` is ``origin + t`` in UTC (``origin`` is UTC midnight of the first
simulated day), so hour-of-day profiles follow UTC, an hour off the local clock in summer, unless
the parameters' ``local_time`` names a zone: then the census is at 08:00 on that clock and
discharges after the window's end are unknown (``demo_tables`` runs the demo ICS this way).

>>> from uec.simulate import simulate
>>> from uec.system.model import build_model
>>> from uec.system.params import demo_params
>>> p = demo_params()
>>> built = build_model(p.__class__(**{**p.__dict__, "warmup_days": 7}), days=2)
>>> tables = contract_tables(built, simulate(built.model, seed=1), seed=1)
>>> sorted(tables)[:3]
['ambulance_incidents', 'attendances', 'bed_states']
>>> tables["attendances"].schema.field("arrival_time").type
TimestampType(timestamp[us, tz=UTC])
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from uec.contract import table as contract_table
from uec.ics import params as D
from uec.ics import reference as R
from uec.ics.population import PersonSampler, Population, make_population
from uec.simulate.results import SimulationResult
from uec.system.model import DAY, BuiltModel
from uec.system.params import AGE_GROUPS, DEMO_ZONE, SystemParams

__all__ = ["DEMO_ZONE", "EVENT_TABLES", "contract_tables", "demo_tables", "reference_tables"]

#: The event tables a run writes.
EVENT_TABLES = ("calls_111", "ambulance_incidents", "attendances", "spells", "bed_states", "ucr_referrals")

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# The contract age bands (indices into the demo's AGE_BANDS) within each model age group.
_GROUP_BANDS = {0: (0, 1), 1: (2,), 2: (3, 4), 3: (5,)}
# Acuity given the stream a patient was seen in.
_ACUITY = {"resus": ((1, 2), (0.5, 0.5)), "majors": ((2, 3), (0.3, 0.7)), "minors": ((3, 4, 5), (0.1, 0.75, 0.15)),
           "sdec": ((2, 3, 4), (0.25, 0.65, 0.10)), "utc": ((3, 4, 5), (0.1, 0.6, 0.3))}


class _Visits:
    """Per-patient lookups into one replication's visit rows (node kinds and sites as integer codes)."""

    def __init__(self, res: SimulationResult) -> None:
        self.res = res
        kinds = [n.split("/")[0] for n in res.node_names]
        sites = [n.split("/")[1] if "/" in n else "" for n in res.node_names]
        self.kind_names = sorted(set(kinds))
        self.site_names = np.array(sorted(set(sites)), dtype=object)
        self.kind = np.array([self.kind_names.index(k) for k in kinds], dtype=np.int64)
        self.site = np.array([list(self.site_names).index(x) for x in sites], dtype=np.int64)
        self.cls_names = res.class_names
        self.row_kind = self.kind[res.node]

    def code(self, kind: str) -> int:
        """The integer code of a node kind (-2, matching nothing, if the model has none)."""
        return self.kind_names.index(kind) if kind in self.kind_names else -2

    def per_class(self, test: Callable[[str], bool]) -> BoolArray:
        """Per patient: whether their class name passes ``test`` (evaluated once per class)."""
        flags = np.array([test(c) for c in self.cls_names], dtype=bool)
        return np.asarray(flags[self.res.patient_class])

    def rows(self, *kinds: str) -> IntArray:
        """Per patient, the row of their visit to a node of one of ``kinds`` (-1 if none)."""
        mask = np.zeros(self.res.node.size, dtype=bool)
        for k in kinds:
            mask |= self.row_kind == self.code(k)
        out = np.full(self.res.n_patients, -1, dtype=np.int64)
        rows = np.flatnonzero(mask)
        out[self.res.patient[rows]] = rows
        return out

    def col(self, name: str, rows: IntArray) -> FloatArray:
        """A visit column at ``rows`` (NaN where a row is -1)."""
        values: FloatArray = getattr(self.res, name)
        out = values.take(np.maximum(rows, 0))
        out[rows < 0] = np.nan
        return out

    def node_kind(self, rows: IntArray) -> IntArray:
        """Kind codes of the nodes at ``rows`` (-1 where a row is -1)."""
        return np.where(rows >= 0, self.kind[self.res.node[np.maximum(rows, 0)]], -1)

    def node_site(self, rows: IntArray) -> npt.NDArray[np.object_]:
        """Site codes of the nodes at ``rows`` ("" where a row is -1 or the node has no site)."""
        idx = np.where(rows >= 0, self.site[self.res.node[np.maximum(rows, 0)]], 0)
        out: npt.NDArray[np.object_] = np.where(rows >= 0, self.site_names[idx], "")
        return out


class _Clock:
    def __init__(self, origin: dt.datetime) -> None:
        self.origin_us = int(origin.timestamp() * 1_000_000)

    def instants(self, minutes: FloatArray) -> pa.Array:
        m = np.asarray(minutes, dtype=np.float64)
        bad = ~np.isfinite(m)
        us = self.origin_us + np.round(np.where(bad, 0.0, m) * 60_000_000).astype(np.int64)
        return pa.array(us, type=pa.timestamp("us", tz="UTC"), mask=bad)


def _months(clock: _Clock, minutes: FloatArray) -> IntArray:
    """Calendar month (1-12, UTC) of model minutes; NaN is January (its value is never used).

    >>> _months(_Clock(dt.datetime(2025, 1, 31, tzinfo=dt.UTC)), np.array([0.0, 1440.0, np.nan])).tolist()
    [1, 2, 1]
    """
    m = np.nan_to_num(np.asarray(minutes, dtype=np.float64), nan=0.0)
    us = clock.origin_us + np.round(m * 60_000_000).astype(np.int64)
    out: IntArray = us.astype("datetime64[us]").astype("datetime64[M]").astype(np.int64) % 12 + 1
    return out


def _normal_scores(values: FloatArray, group: IntArray) -> FloatArray:
    """Each value's rank within its group as a standard normal quantile (``(rank + 0.5) / n``).

    >>> _normal_scores(np.array([3.0, 1.0, 2.0, 5.0]), np.array([0, 0, 0, 1])).round(2).tolist()
    [0.97, -0.97, 0.0, 0.0]
    """
    from scipy.special import ndtri

    out = np.zeros(values.shape, dtype=np.float64)
    for g in np.unique(group):
        idx = np.flatnonzero(group == g)
        ranks = np.empty(idx.size, dtype=np.float64)
        ranks[np.argsort(values[idx], kind="stable")] = np.arange(idx.size, dtype=np.float64)
        out[idx] = ndtri((ranks + 0.5) / idx.size)
    return out


def _strings(values: npt.NDArray[np.object_], missing: BoolArray) -> pa.Array:
    """Text values with nulls where ``missing``."""
    return pa.array(np.asarray(values, dtype=object), type=pa.string(), mask=np.asarray(missing, dtype=bool))


def _age_group(v: _Visits) -> IntArray:
    """Per patient: the index of their class's age group (-1 for classes without one)."""
    by_class = np.full(len(v.cls_names), -1, dtype=np.int64)
    for j, name in enumerate(v.cls_names):
        for i, a in enumerate(AGE_GROUPS):
            if name.endswith("-" + a):
                by_class[j] = i
    return np.asarray(by_class[v.res.patient_class])


def _choice(rng: np.random.Generator, values: Sequence[object], p: Sequence[float], n: int) -> npt.NDArray[np.object_]:
    cum = np.cumsum(np.asarray(p) / np.sum(p))
    idx = np.minimum(np.searchsorted(cum, rng.random(n), side="right"), len(values) - 1)
    return np.array(values, dtype=object)[idx]


# --- the people: every simulated patient is a resident of the demo ICS ----------------------------

# Which of the demo's person samplers (``_params.AGE_MIX``) fits a patient class's first contact.
_KIND_BY_SOURCE = {"call": "nhs111", "walkin": "ed", "sdec": "sdec", "direct": "direct", "init": "direct",
                   "elective": "elective", "utc": "utc"}


def _kind(cls: str) -> tuple[str, tuple[int, ...] | None]:
    """The event kind whose age mix and deprivation weights pick the person for a patient class,
    and the age bands the class allows (None: the class has no age group of its own).

    >>> _kind("call-65-84"), _kind("C2-see"), _kind("ucr-ed")
    (('nhs111', None), ('ambulance', None), ('ed', (3, 4, 5)))
    """
    if cls == "ucr":
        return "ucr", None
    if cls == "ucr-ed":
        # ED walk-ins aged 65 and over diverted to urgent community response.
        return "ed", (3, 4, 5)
    head = cls.split("-")[0]
    # Anything else is an ambulance incident: C1-C4 conveyed or not, C5, or a diverted C3/C4.
    return _KIND_BY_SOURCE.get(head, "ambulance"), None


@functools.lru_cache(maxsize=2)
def _residents(entropy: int | tuple[int, ...]) -> tuple[Population, dict[tuple[str, tuple[int, ...]], PersonSampler]]:
    """The demo ICS's residents for a run's seed (shared by its replications), and a cache of samplers.

    Built once per process for a seed (about 0.4 s for 1.2 million people): every replication of
    a run, serial or on a worker, sees the same residents because only the seed's entropy decides them.
    """
    seq = np.random.SeedSequence(entropy, spawn_key=(7907,))
    pop = make_population(np.random.Generator(np.random.PCG64(seq)), [a[4] for a in R.ACUTE])
    return pop, {}


def _sampler(entropy: int | tuple[int, ...], kind: str, bands: tuple[int, ...]) -> PersonSampler:
    """The person sampler for ``kind``, restricted to the age ``bands`` (weights as the fast demo's)."""
    pop, cache = _residents(entropy)
    key = (kind, bands)
    if key not in cache:
        mix = np.zeros(len(D.AGE_BANDS))
        full = np.asarray(D.AGE_MIX[kind], dtype=np.float64)
        mix[list(bands)] = full[list(bands)]
        if mix.sum() <= 0:  # an age group the kind never has (say SDEC under 5s): plain residents
            mix[list(bands)] = np.asarray(D.POPULATION_AGE)[list(bands)]
        imd = D.IMD_USE["elective"] if kind == "elective" else D.IMD_USE["default"]
        cache[key] = PersonSampler(pop, tuple(float(x) for x in mix), imd)
    return cache[key]


class _People:
    """Per simulated patient: the resident they are, and their sex and ethnic group as recorded."""

    def __init__(self, pop: Population, person: IntArray, sex: IntArray, ethnic: IntArray) -> None:
        self.pop, self.person, self.sex, self.ethnic = pop, person, sex, ethnic

    def columns(self, idx: IntArray) -> dict[str, pa.Array]:
        """The person columns of the contract for patients ``idx`` (tables drop those they lack)."""
        who = self.person[idx]
        return {
            "patient_key": self.pop.keys.take(pa.array(who)),
            "age_band": pa.array(np.array(D.AGE_BANDS, dtype=object)[self.pop.age[who]], pa.string()),
            "sex": pa.array(np.array(D.SEXES, dtype=object)[self.sex[idx]], pa.string()),
            "ethnic_group": pa.array(np.array(D.ETHNIC_GROUPS, dtype=object)[self.ethnic[idx]], pa.string()),
            "imd_decile": pa.array(self.pop.imd[who].astype(np.int64)),
        }


def _catchments(v: _Visits, rng: np.random.Generator) -> IntArray:
    """Per patient: their acute catchment, from the first site they were at (UTCs belong to one),
    or drawn by catchment population for patients never at a site (111 only, see and treat, UCR)."""
    res = v.res
    index = {a[2]: i for i, a in enumerate(R.ACUTE)} | {u[0]: u[2] for u in R.UTCS}
    by_site = np.array([index.get(str(x), -1) for x in v.site_names], dtype=np.int64)
    is_utc = np.array([str(x) in {u[0] for u in R.UTCS} for x in v.site_names], dtype=bool)
    row_site = v.site[res.node]
    row_catch = by_site[row_site]
    rows = np.flatnonzero(row_catch >= 0)[::-1]  # reversed: the earliest row is written last and wins
    out = np.full(res.n_patients, -1, dtype=np.int64)
    out[res.patient[rows]] = row_catch[rows]
    at_utc = np.zeros(res.n_patients, dtype=bool)
    at_utc[res.patient[rows]] = is_utc[row_site[rows]]
    sizes = np.array([a[4] for a in R.ACUTE], dtype=np.float64)
    drawn = _choice(rng, list(range(sizes.size)), list(sizes), res.n_patients).astype(np.int64)
    # As in the fast demo, a fifth of a UTC's patients live in the city, which has no UTC of its own.
    no_utc = [i for i in range(sizes.size) if i not in {u[2] for u in R.UTCS}]
    if no_utc:
        city = at_utc & (rng.random(res.n_patients) < 0.2)
        out[city] = no_utc[0]
    return np.where(out >= 0, out, drawn)


def _people(v: _Visits, seq: np.random.SeedSequence, group: IntArray) -> _People:
    """Draw a resident for every simulated patient, from the replication's own stream.

    The person comes from the patient's catchment, with the fast demo's weights by age band and
    IMD decile for the patient's first contact, and within the model's age group for the patient,
    so every table the patient reaches carries the same key, age band, sex, ethnicity and decile.
    """
    entropy = seq.entropy if isinstance(seq.entropy, int) else tuple(int(x) for x in seq.entropy or ())
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seq.entropy, spawn_key=(*seq.spawn_key, 7907))))
    pop, _ = _residents(entropy)
    n = v.res.n_patients
    catch = _catchments(v, rng)
    kinds = [_kind(c) for c in v.cls_names]
    person = np.zeros(n, dtype=np.int64)
    cls = v.res.patient_class
    # Patients grouped by (class, age group) in a fixed order, so the draws never depend on dict order.
    for j, (kind, allowed) in enumerate(kinds):
        mine = np.flatnonzero(cls == j)
        if mine.size == 0:
            continue
        g = int(group[mine[0]])
        bands = _GROUP_BANDS[g] if g >= 0 else (allowed or tuple(range(len(D.AGE_BANDS))))
        person[mine] = _sampler(entropy, kind, bands).sample(rng, catch[mine])
    # As recorded: sex and ethnicity are the person's unless not recorded (once per patient, so an
    # attendance and the spell it led to agree).
    u = rng.random(n)
    sex = np.where(u < D.SEX_UNKNOWN, 3, np.where(u < D.SEX_UNKNOWN + D.SEX_OTHER, 2, pop.sex[person]))
    ethnic = np.where(rng.random(n) < D.ETHNIC_NOT_STATED, 5, pop.ethnic[person])
    return _People(pop, person, sex.astype(np.int64), ethnic.astype(np.int64))



def _table(name: str, columns: dict[str, pa.Array | Sequence[object] | npt.NDArray[np.generic]]) -> pa.Table:
    """A contract table: every contract column, in order, with nulls for columns not given."""
    schema = contract_table(name).arrow_schema()
    n = next((len(v) for v in columns.values()), 0)
    arrays = []
    for f in schema:
        v = columns.get(f.name)
        arrays.append(pa.nulls(n, f.type) if v is None else pa.array(v, type=f.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def _ids(prefix: str, rep: int, patients: IntArray, missing: BoolArray | None = None) -> pa.Array:
    """Identifiers ``<prefix><rep>-<patient>`` built in Arrow (a Python loop is the slow part)."""
    text = pc.cast(pa.array(np.asarray(patients, dtype=np.int64)), pa.string())
    ids = pc.binary_join_element_wise(f"{prefix}{rep}-", text, "")
    if missing is not None:
        ids = pc.if_else(pa.array(np.asarray(missing, dtype=bool)), pa.scalar(None, pa.string()), ids)
    return ids


@dataclass(frozen=True)
class _Run:
    """One replication as the table writers read it: its visits, clock, window, people and the
    random stream for the details the model does not simulate (drawn in table order)."""

    built: BuiltModel
    res: SimulationResult
    v: _Visits
    clock: _Clock
    rng: np.random.Generator
    w0: float
    w1: float
    group: IntArray
    people: _People

    @property
    def p(self) -> SystemParams:
        return self.built.params

    @property
    def rep(self) -> int:
        return self.res.replication

    def in_window(self, minutes: FloatArray) -> BoolArray:
        """Whether each instant (model minutes; NaN is never) falls in the reported window."""
        return np.asarray(np.isfinite(minutes) & (minutes >= self.w0) & (minutes < self.w1))

    def who(self, idx: IntArray) -> dict[str, pa.Array]:
        return self.people.columns(idx)


@dataclass(frozen=True)
class _Conveyed:
    """What the incidents tell the attendances: each patient's handover row and hospital arrival."""

    handover_row: IntArray
    hospital_arrival: FloatArray


@dataclass(frozen=True)
class _Attended:
    """What the attendances tell the spells: who came through the ED or SDEC in the window and was admitted."""

    from_ed: BoolArray
    from_sdec: BoolArray


def contract_tables(
    built: BuiltModel, res: SimulationResult, seed: int | np.random.SeedSequence
) -> dict[str, pa.Table]:
    """The contract tables of one replication (events in the window, plus reference tables).

    ``seed`` seeds the draws made here (see the module docstring); pass the replication's seed.
    One function writes each table, in the order below: the draws they make follow that order.
    """
    seq = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seq.entropy, spawn_key=(*seq.spawn_key, 7919))))
    v = _Visits(res)
    group = _age_group(v)
    run = _Run(built, res, v, _Clock(built.origin), rng, built.window_start, built.window_start + built.days * DAY,
               group, _people(v, seq, group))
    out: dict[str, pa.Table] = {"calls_111": _calls_111(run)}
    out["ambulance_incidents"], conveyed = _ambulance_incidents(run)
    out["attendances"], attended = _attendances(run, conveyed)
    out["spells"], ward, bed_out = _spells(run, attended)
    out["bed_states"] = _bed_states(run, ward, bed_out)
    out["ucr_referrals"] = _ucr_referrals(run)
    out.update(reference_tables(built.params))
    return out


def _calls_111(run: _Run) -> pa.Table:
    """NHS 111 calls: the disposition is where the caller went next, or drawn for those who left."""
    p, v, rng = run.p, run.v, run.rng
    call = v.rows("call111")
    is_call = (call >= 0) & run.in_window(run.res.arrival)
    nxt_call = v.rows("triage", "sdecg", "utcg")
    ci = np.flatnonzero(is_call)
    nxt_kind = v.node_kind(nxt_call[ci])
    names = list(p.dispositions)
    disp = np.full(ci.size, -1, dtype=np.int64)
    disp[nxt_kind == v.code("triage")] = names.index("ed")
    disp[nxt_kind == v.code("sdecg")] = names.index("sdec")
    disp[nxt_kind == v.code("utcg")] = names.index("utc")
    # Callers who left the model: the remaining dispositions, including those sent to a service
    # who did not go (they still had that disposition).
    others = [d for d in names if d not in ("ed", "utc", "sdec")]
    dp = dict(zip(names, p.disposition_p, strict=True))
    left_values = [names.index(d) for d in [*others, "ed", "utc", "sdec"]]
    left_p = [dp[d] for d in others] + [dp[d] * (1 - p.attend_p[d]) for d in ("ed", "utc", "sdec")]
    gone = disp < 0
    disp[gone] = _choice(rng, left_values, left_p, int(gone.sum())).astype(np.int64)
    book_by_disp = np.array([p.booked_p.get(d, 0.0) for d in names])
    booked = rng.random(ci.size) < book_by_disp[disp]
    return _table("calls_111", {
        "call_id": _ids("C", run.rep, ci),
        "org_code": [R.NHS111] * ci.size,
        "call_time": run.clock.instants(v.col("start", call)[ci]),
        "disposition": np.array(names, dtype=object)[disp],
        "booked_slot": booked,
        **run.who(ci),
    })


def _ambulance_incidents(run: _Run) -> tuple[pa.Table, _Conveyed]:
    """999 incidents: crew jobs, hear and treat, and category 3-4 calls diverted to UCR."""
    p, v, rng, res = run.p, run.v, run.rng, run.res
    arrival = res.arrival
    disp_row = v.rows("dispatch")
    hear_row = v.rows("hear")
    ucr_row = v.rows("ucr")
    handover_row = v.rows("handover")
    cat_by_class = np.array([c[:2] if c[:1] == "C" else (c[4:6] if c.startswith("ucr-C") else "")
                             for c in v.cls_names], dtype=object)
    diverted = v.per_class(lambda c: c.startswith("ucr-C"))
    is_inc = ((disp_row >= 0) | (hear_row >= 0) | ((ucr_row >= 0) & diverted)) & run.in_window(arrival)
    ii = np.flatnonzero(is_inc)
    start = v.col("start", disp_row)
    end = v.col("end", disp_row)
    depart = v.col("depart", disp_row)
    service = v.col("service", disp_row)
    k_by_class = np.array([int(c[1]) - 1 if c[:1] == "C" and c[1:2] in ("1", "2", "3", "4") else 0
                           for c in cat_by_class], dtype=np.int64)
    k = k_by_class[res.patient_class]
    clock = run.clock
    travel_mean = np.asarray(p.travel)[k]
    # Shape 1.2 (coefficient of variation 0.91): AmbSYS 2019 category 2 has a 90th centile 2.06 x
    # its mean, wider than waits for a crew give with less spread in travel (shape 4: 1.75 x).
    travel = np.minimum(rng.gamma(1.2, travel_mean / 1.2), 0.6 * np.nan_to_num(service, nan=0.0))
    conv = v.per_class(lambda c: "-conv-" in c)
    other = v.per_class(lambda c: c.endswith("-other"))
    hear_treat = (hear_row >= 0) | diverted
    outcome = np.select([hear_treat[ii], conv[ii], other[ii]], ["hear_and_treat", "conveyed_ed", "conveyed_other"],
                        "see_and_treat").astype(object)
    category = cat_by_class[res.patient_class[ii]]
    category[hear_row[ii] >= 0] = "C5"
    # The job ends with the handover itself and clearing. The handover (hospital arrival to
    # handing over, with a space free) is lognormal with mean ``handover_minimum`` in the month's
    # proportion ``handover_month``: the crew's job in the model has that mean in it, and here it
    # is split (issue 15: a fixed 10 minutes gave a median of exactly 10 and no tail). Waiting for
    # a space (``depart - end``) comes on top. In a job too short for its draw, handover and
    # clearing shrink so that on scene <= at hospital <= handover <= clear still holds.
    served = np.nan_to_num(service, nan=0.0)
    month = _months(clock, end)
    h_mean = p.handover_minimum * np.asarray(p.handover_month)[month - 1]
    sigma = p.handover_sigma
    # A job's handover is as far up its lognormal as the job's length is up the lengths of its
    # category's jobs: long turnarounds make long jobs, and the job the model held the crew for
    # has room for the handover's tail (an independent draw would often not fit, and the shares
    # over 30 and 60 minutes would be cut).
    z = _normal_scores(served, k * 3 + np.select([conv, other], [1, 2], 0))
    h = np.exp(np.log(h_mean) - sigma**2 / 2 + sigma * z)
    tail = h + p.clear
    shrink = np.minimum(1.0, 0.9 * np.maximum(served - travel, 0.0) / tail)
    clear_part = p.clear * shrink
    hosp = np.where(conv | other, end - tail * shrink, np.nan)
    handover = np.where(conv, depart - clear_part, np.where(other, end - clear_part, np.nan))
    clear = np.where(disp_row >= 0, depart, v.col("depart", hear_row))
    # Category 1 with a rapid response car: the car is allocated first and its arrival stops the
    # clock; the crew's own travel is still part of its job.
    rrv_row = v.rows("rrv")
    car = rrv_row >= 0
    car_start = v.col("start", rrv_row)
    # Shape 3 (more spread than a crew's): AmbSYS 2019 category 1 has a 90th centile 1.75 x its mean.
    car_travel = np.minimum(rng.gamma(3.0, p.rrv_travel / 3.0, size=car.shape),
                            0.8 * np.nan_to_num(v.col("service", rrv_row), nan=0.0))
    allocated = np.where(car, car_start, start)
    on_scene = np.where(car, car_start + car_travel, start + travel)
    table = _table("ambulance_incidents", {
        "incident_id": _ids("I", run.rep, ii),
        "org_code": [R.AMBULANCE] * ii.size,
        "call_time": clock.instants(arrival[ii]),
        "category": category,
        "allocated_time": clock.instants(allocated[ii]),
        "on_scene_time": clock.instants(on_scene[ii]),
        "outcome": outcome,
        "destination_site": _strings(v.node_site(handover_row[ii]), (handover_row[ii] < 0)),
        "hospital_arrival_time": clock.instants(hosp[ii]),
        "handover_time": clock.instants(handover[ii]),
        "clear_time": clock.instants(np.where(hear_treat[ii], np.nan, clear[ii])),
        **run.who(ii),
    })
    return table, _Conveyed(handover_row, hosp)


def _attendances(run: _Run, conveyed: _Conveyed) -> tuple[pa.Table, _Attended]:
    """Type 1 ED, SDEC and UTC attendances."""
    ed_part, from_ed = _ed_attendances(run, conveyed)
    gate_parts, from_sdec = _gate_attendances(run)
    table = pa.concat_tables([_table("attendances", part) for part in (ed_part, *gate_parts)])
    return table, _Attended(from_ed=from_ed, from_sdec=from_sdec)


def _ed_attendances(run: _Run, conveyed: _Conveyed) -> tuple[dict[str, Any], BoolArray]:
    """Type 1 ED attendances (columns), and per patient whether an admission came from one in the window."""
    p, v, rng, res = run.p, run.v, run.rng, run.res
    n = res.n_patients
    handover_row = conveyed.handover_row
    triage = v.rows("triage")
    seen = v.rows("resus", "majors", "minors")
    treat = v.rows("treat")
    dta = v.rows("dta", "dtar")
    sdecx = v.rows("sdecx")
    ed_first = np.where(handover_row >= 0, handover_row, triage)
    # A patient sent from a closed SDEC or UTC gate to the ED arrives at the ED when the gate sends them.
    ed = (ed_first >= 0) | (seen >= 0)
    ed_arrive = np.where(ed_first >= 0, v.col("arrive", ed_first), v.col("arrive", seen))
    ed_arrive = np.where(handover_row >= 0, conveyed.hospital_arrival, ed_arrive)
    stream = v.node_kind(seen)
    streamed_to_sdec = (sdecx >= 0) & (seen < 0)
    seen_start = v.col("start", seen)
    dta_time = np.where(dta >= 0, v.col("end", seen), np.nan)
    ready = v.col("end", dta)
    ed_depart = np.select(
        [dta >= 0, treat >= 0, streamed_to_sdec, seen >= 0],
        [v.col("depart", dta), v.col("depart", treat), v.col("depart", triage), v.col("depart", seen)],
        np.nan)
    reneged = (seen >= 0) & res.reneged[np.maximum(seen, 0)]
    ed_depart = np.where(reneged, v.col("depart", seen), ed_depart)
    acuity = np.zeros(n, dtype=np.int64)
    for s_name, (vals, probs) in _ACUITY.items():
        m = stream == v.code(s_name)
        acuity[m] = _choice(rng, vals, probs, int(m.sum())).astype(np.int64)
    acuity[ed & (stream < 0)] = 3
    initial = np.where(handover_row >= 0, v.col("start", handover_row), v.col("start", triage))
    mh = rng.random(n) < D.MENTAL_HEALTH_P
    via_111 = v.per_class(lambda c: c.startswith("call-"))
    book_ed = rng.random(n) < p.booked_p.get("ed", 0.0)
    att_in = ed & run.in_window(ed_arrive)
    ei = np.flatnonzero(att_in)
    disposal = np.full(ei.size, "discharged", dtype=object)
    disposal[dta[ei] >= 0] = "admitted"
    disposal[streamed_to_sdec[ei]] = "referred"
    disposal[reneged[ei]] = "left_before_treatment"
    disposal[~np.isfinite(ed_depart[ei])] = None
    clock = run.clock
    part = {
        "attendance_id": _ids("A", run.rep, ei),
        "site_code": v.node_site(np.where(ed_first >= 0, ed_first, seen)[ei]), "service_type": ["ed_type1"] * ei.size,
        "arrival_time": clock.instants(ed_arrive[ei]),
        "arrival_mode": np.where(handover_row[ei] >= 0, "ambulance", "walk_in"),
        "acuity": acuity[ei],
        "initial_assessment_time": clock.instants(initial[ei]),
        "seen_time": clock.instants(seen_start[ei]),
        "decision_to_admit_time": clock.instants(dta_time[ei]),
        "clinically_ready_time": clock.instants(ready[ei]),
        "departure_time": clock.instants(ed_depart[ei]),
        "disposal": disposal,
        "mental_health": mh[ei],
        "referred_by_111": via_111[ei],
        "booked_slot": via_111[ei] & book_ed[ei],
        "incident_id": _ids("I", run.rep, ei, (handover_row[ei] < 0) | (res.arrival[ei] < run.w0)),
        **run.who(ei),
    }
    return part, np.asarray((dta >= 0) & att_in)


def _gate_attendances(run: _Run) -> tuple[list[dict[str, Any]], BoolArray]:
    """SDEC and UTC attendances (columns of each), and per patient whether an admission came from SDEC
    in the window."""
    p, v, rng = run.p, run.v, run.rng
    via_111 = v.per_class(lambda c: c.startswith("call-"))
    sdec = v.rows("sdec")
    utc = v.rows("utc")
    sdec_adm = v.rows("adm")
    # Someone sent to a shut SDEC or UTC (the gate lets one wait for opening) was given a slot at
    # opening: their attendance starts then, as a booked one, so no one arrives while it is shut.
    arrive_at: dict[str, FloatArray] = {}
    slot: dict[str, BoolArray] = {}
    for kind, rows, hours in (("sdec", sdec, (p.sdec_opens, p.sdec_closes)), ("utc", utc, (p.utc_opens, p.utc_closes))):
        arr = v.col("arrive", rows)
        began = v.col("start", rows)
        slot[kind] = _shut(arr, hours, run.built.origin, p.local_time) & np.isfinite(began)
        arrive_at[kind] = np.where(slot[kind], began, arr)
    parts = []
    clock = run.clock
    for kind, rows in (("sdec", sdec), ("utc", utc)):
        arr = arrive_at[kind]
        si = np.flatnonzero((rows >= 0) & (arr >= run.w0) & (arr < run.w1))
        vals, probs = _ACUITY[kind]
        admitted = (sdec_adm[si] >= 0) if kind == "sdec" else np.zeros(si.size, bool)
        dep = v.col("depart", rows)[si]
        disp_k = np.where(admitted, "admitted", "discharged").astype(object)
        disp_k[~np.isfinite(dep)] = None
        parts.append({
            "attendance_id": _ids("S" if kind == "sdec" else "U", run.rep, si),
            "site_code": v.node_site(rows[si]), "service_type": [kind] * si.size,
            "arrival_time": clock.instants(arr[si]),
            "arrival_mode": ["walk_in"] * si.size,
            "acuity": _choice(rng, vals, probs, si.size).astype(np.int64),
            "initial_assessment_time": clock.instants(v.col("start", rows)[si]),
            "seen_time": clock.instants(v.col("start", rows)[si]),
            "decision_to_admit_time": clock.instants(np.where(admitted, v.col("end", rows)[si], np.nan)),
            "departure_time": clock.instants(dep),
            "disposal": disp_k,
            "mental_health": np.zeros(si.size, bool),
            "referred_by_111": via_111[si],
            "booked_slot": (via_111[si] & (rng.random(si.size) < p.booked_p.get(kind, 0.0))) | slot[kind][si],
            **run.who(si),
        })
    sdec_arr = arrive_at["sdec"]
    from_sdec = (sdec_adm >= 0) & (sdec >= 0) & (sdec_arr >= run.w0) & (sdec_arr < run.w1)
    return parts, np.asarray(from_sdec)


def _spells(run: _Run, attended: _Attended) -> tuple[pa.Table, IntArray, FloatArray]:
    """Inpatient spells, with each patient's ward row and the instant they left the bed (for the census)."""
    p, v, rng, built = run.p, run.v, run.rng, run.built
    group = run.group
    w0, w1 = run.w0, run.w1
    ward = v.rows("ward", "wardr")
    after = v.rows("disch", "p1", "p2", "p3")
    adm_t = v.col("start", ward)
    # The bed is left when the patient leaves the ward, or the hold node where they got ready to go.
    prep = v.rows("prep0", "prep1", "prep2", "prep3")
    dis_t = np.where(prep >= 0, v.col("depart", prep), v.col("depart", ward))
    bed_out = dis_t.copy()
    ctr_end = v.col("end", ward)
    k0 = len(built.initial_admissions)
    if k0:
        # Inpatients a start state placed in their beds at time 0: their spells began earlier.
        adm_t[:k0] = np.where(ward[:k0] >= 0, built.initial_admissions, np.nan)
        known = np.asarray(built.initial_ctr_end)
        ctr_end[:k0] = np.where(np.isfinite(known) & (ward[:k0] >= 0), known, ctr_end[:k0])
    wi = np.flatnonzero((ward >= 0) & (adm_t < w1) & ~(dis_t < w0))
    wi = wi[np.isfinite(adm_t[wi])]
    if p.local_time is not None:
        # As in a real extract taken at the end of the window: later discharges are not known yet.
        dis_t = np.where(dis_t >= w1, np.nan, dis_t)
        ctr_end = np.where(ctr_end >= w1, np.nan, ctr_end)
    next_kind = v.node_kind(after)
    after_kinds = [next_kind == v.code(x) for x in ("disch", "p1", "p2", "p3")]
    pathway = np.select(after_kinds, [0, 1, 2, 3], -1)
    # Left the model from the bed: died or transferred, in the proportions of the parameters.
    gone_bed = ((ward >= 0) & (after < 0) & np.isfinite(dis_t))[wi]
    died_share = np.where(group[wi] >= 0, np.asarray(p.died_p)[np.maximum(group[wi], 0)], 0.002)
    died = rng.random(wi.size) < died_share / (died_share + p.transfer_p)
    dest = np.full(wi.size, None, dtype=object)
    for kind_rows, name in zip(after_kinds, ("usual_residence", "usual_residence", "community_bed", "care_home"),
                               strict=True):
        dest[kind_rows[wi]] = name
    dest[gone_bed & died] = "died"
    dest[gone_bed & ~died] = "other_hospital"
    dest[~np.isfinite(dis_t[wi])] = None
    pathway_known = (pathway >= 0) & np.isfinite(dis_t)
    # The attendance that led to the admission, where it is in the window.
    link = pc.if_else(pa.array(attended.from_sdec[wi]), _ids("S", run.rep, wi),
                      _ids("A", run.rep, wi, ~attended.from_ed[wi]))
    elective = v.per_class(lambda c: c == "elective")
    specialty = np.select([group == 0, group == 3, group == 2], ["paediatrics", "elderly_care", "medicine"], "medicine")
    specialty = np.where(elective, "surgery", specialty)
    clock = run.clock
    table = _table("spells", {
        "spell_id": _ids("W", run.rep, wi),
        "site_code": v.node_site(ward[wi]),
        "admission_time": clock.instants(adm_t[wi]),
        "admission_method": np.where(elective[wi], "elective", "emergency"),
        "specialty_group": specialty[wi],
        "attendance_id": link,
        "criteria_to_reside_end_time": clock.instants(ctr_end[wi]),
        "discharge_time": clock.instants(dis_t[wi]),
        "discharge_pathway": pa.array(np.where(pathway_known[wi], pathway[wi], 0), pa.int64(),
                                      mask=~pathway_known[wi]),
        "discharge_destination": dest,
        **run.who(wi),
    })
    return table, ward, bed_out


def _census_times(run: _Run) -> FloatArray:
    """08:00 each day inside the window, in model minutes (on the local clock where there is one)."""
    built, w0, w1 = run.built, run.w0, run.w1
    # 08:00 each day (UTC clock) inside the window; model time 0 need not be midnight.
    midnight = built.origin.replace(hour=0, minute=0, second=0, microsecond=0)
    since_midnight = (built.origin - midnight).total_seconds() / 60
    first = (480.0 - since_midnight) % DAY
    first += max(0.0, math.ceil((w0 - first) / DAY)) * DAY
    times = np.arange(first, w1, DAY)
    if run.p.local_time is not None:
        # 08:00 on the local clock of each local day of the window.
        tz = ZoneInfo(run.p.local_time)
        day1 = (built.origin + dt.timedelta(minutes=w0)).astimezone(tz).date()
        local = [dt.datetime.combine(day1 + dt.timedelta(days=d), dt.time(8), tzinfo=tz)
                 for d in range(round((w1 - w0) / DAY) + 1)]
        times = np.array([m for m in ((x - built.origin).total_seconds() / 60.0 for x in local) if w0 <= m < w1])
    return times


def _bed_states(run: _Run, ward: IntArray, bed_out: FloatArray) -> pa.Table:
    """The 08:00 census each day: core beds fill first, then escalation beds while they are open."""
    p, v = run.p, run.v
    times = _census_times(run)
    snaps_t, snaps_site, snaps_type, snaps_open, snaps_occ = [], [], [], [], []
    in_ward = np.flatnonzero(ward >= 0)
    ward_site = v.node_site(ward[in_ward])
    for s in p.sites:
        mine = in_ward[ward_site == s.code]
        st = np.sort(np.nan_to_num(run.res.start[ward[mine]], nan=np.inf))
        dp_ = np.sort(np.nan_to_num(bed_out[mine], nan=np.inf))
        occ = np.searchsorted(st, times, side="right") - np.searchsorted(dp_, times, side="right")
        available = np.array([_escalation_open(p, s.escalation_beds, run.built.origin, t) for t in times])
        core_occ = np.minimum(occ, s.core_beds)
        # Escalation beds the model may use are opened as they are needed, with a few spare (as
        # in the fast generator), not all at once on the first day of the escalation months:
        # counting empty escalation beds as open lowered winter occupancy below summer's, the
        # opposite of KH03 (issue 15, ``g_and_a_occupancy_q4_minus_q2``).
        in_esc = occ - core_occ
        spare = max(round(0.1 * s.escalation_beds), 1)
        esc_open = np.where(in_esc > 0, np.minimum(in_esc + spare, available), 0)
        for bed_type, open_, occ_ in (("g_and_a", np.full(times.size, s.core_beds), core_occ),
                                      ("g_and_a_escalation", esc_open, np.minimum(occ - core_occ, esc_open))):
            snaps_t.append(times)
            snaps_site += [s.code] * times.size
            snaps_type += [bed_type] * times.size
            snaps_open.append(open_)
            snaps_occ.append(occ_)
    return _table("bed_states", {
        "site_code": snaps_site,
        "snapshot_time": run.clock.instants(np.concatenate(snaps_t) if snaps_t else np.empty(0)),
        "bed_type": snaps_type,
        "beds_open": np.concatenate(snaps_open).astype(np.int64) if snaps_open else [],
        "beds_occupied": np.concatenate(snaps_occ).astype(np.int64) if snaps_occ else [],
    })


def _ucr_referrals(run: _Run) -> pa.Table:
    """Urgent community response referrals, with the source they came from."""
    v = run.v
    ucr_row = v.rows("ucr")
    u_arr = v.col("arrive", ucr_row)
    ui = np.flatnonzero((ucr_row >= 0) & (u_arr >= run.w0) & (u_arr < run.w1))
    source = _choice(run.rng, D.UCR_SOURCES, D.UCR_SOURCE_P, ui.size)
    source[v.per_class(lambda c: c.startswith("ucr-C"))[ui]] = "ambulance"
    source[v.per_class(lambda c: c == "ucr-ed")[ui]] = "ed"
    return _table("ucr_referrals", {
        "referral_id": _ids("R", run.rep, ui),
        "org_code": [R.COMMUNITY] * ui.size,
        "referral_time": run.clock.instants(u_arr[ui]),
        "first_visit_time": run.clock.instants(v.col("start", ucr_row)[ui]),
        "source": source,
        **run.who(ui),
    })


def _shut(minutes: FloatArray, hours: tuple[str, str], origin: dt.datetime, zone: str | None) -> BoolArray:
    """Whether each model time falls outside the daily opening hours (on the local clock of ``zone``).

    >>> o = dt.datetime(2025, 7, 1, tzinfo=dt.UTC)
    >>> _shut(np.array([7 * 60.0 + 30, 21 * 60.0 + 30]), ("08:00", "22:00"), o, "Europe/London").tolist()
    [False, True]
    """
    tz = ZoneInfo(zone or "UTC")
    m = np.nan_to_num(np.asarray(minutes, dtype=np.float64), nan=0.0)
    hour = np.floor(m / 60.0).astype(np.int64)
    # The clock's offset is looked up once per distinct UTC hour.
    uniq, inverse = np.unique(hour, return_inverse=True)
    stamps = [(origin + dt.timedelta(hours=int(h))).astimezone(tz) for h in uniq]
    offsets = np.array([(x.utcoffset() or dt.timedelta(0)).total_seconds() / 60.0 for x in stamps])
    origin_of_day = origin.hour * 60.0 + origin.minute
    of_day = (m + origin_of_day + offsets[inverse]) % DAY
    a, b = (int(x[:2]) * 60.0 + int(x[3:]) for x in hours)
    if b <= a:  # open past midnight
        return np.asarray((of_day >= b) & (of_day < a))
    return np.asarray((of_day < a) | (of_day >= b))


def _escalation_open(p: SystemParams, beds: int, origin: dt.datetime, t: float) -> int:
    month = (origin + dt.timedelta(minutes=float(t))).month
    first, last = p.escalation_months
    on = first <= month <= last if first <= last else (month >= first or month <= last)
    return beds if on else 0


def reference_tables(p: SystemParams) -> dict[str, pa.Table]:
    """``organisations``, ``sites`` and ``services`` for the parameters (capacities and hours as run).

    >>> from uec.system.params import demo_params
    >>> reference_tables(demo_params())["services"].num_rows > 10
    True
    """
    core = [s.core_beds for s in p.sites]
    esc = [s.escalation_beds for s in p.sites]
    services = R.services(core, esc)
    by_site = {s.code: s for s in p.sites}
    for row in services:
        site = by_site.get(str(row["site_code"]))
        if row["service_type"] == "sdec":
            row["opens"], row["closes"] = p.sdec_opens, p.sdec_closes
            if site is not None:
                row["capacity"] = site.sdec_chairs
        elif row["service_type"] == "ed_type1" and site is not None:
            row["capacity"] = site.ed_cubicles
        elif row["service_type"] == "ucr":
            row["capacity"] = p.ucr_teams
            row["opens"], row["closes"] = p.ucr_opens, p.ucr_closes
        elif row["service_type"] == "home_care":
            row["capacity"] = p.p1_packages
        elif row["service_type"] == "community_beds":
            row["capacity"] = p.p2_beds
        elif row["service_type"] == "care_home":
            row["capacity"] = p.p3_beds
        elif row["service_type"] == "ambulance":
            row["capacity"] = max(p.crews.values()) + p.extra_crews
    out = {}
    for name, rows in (("organisations", R.organisations()), ("org_hierarchy", R.hierarchy()), ("sites", R.sites()),
                       ("services", services)):
        schema = contract_table(name).arrow_schema()
        out[name] = pa.Table.from_pylist(rows, schema=schema)
    return out




def demo_tables(seed: int, start: dt.date, days: int,
                progress: Callable[[str, float], None] | None = None) -> dict[str, pa.Table]:
    """The demo ICS by simulation: ``days`` local days from ``start``, one seeded replication.

    The whole-system model with the demo's calibrated parameters (:func:`demo_params`) runs its
    warm-up and the window on the Europe/London clock; the result is the contract tables, with
    reference tables first (what ``uec demo --generator model`` writes).

    >>> t = demo_tables(1, dt.date(2025, 3, 29), 2)
    >>> t["bed_states"].num_rows, str(t["bed_states"]["snapshot_time"][-1])  # 08:00 BST on the 30th
    (12, '2025-03-30 07:00:00+00:00')
    """
    from uec.simulate import simulate
    from uec.system.model import build_model
    from uec.system.params import demo_params_from

    report = progress or (lambda stage, fraction: None)
    params = demo_params_from(start)
    report("building the model", 0.0)
    built = build_model(params, days=days)
    report("simulating", 0.05)
    result = simulate(built.model, seed=np.random.SeedSequence(seed))
    report("writing events", 0.7)
    tables = contract_tables(built, result, np.random.SeedSequence(seed))
    report("events written", 1.0)
    order = ("organisations", "org_hierarchy", "sites", "services", *EVENT_TABLES)
    return {k: tables[k] for k in order}
