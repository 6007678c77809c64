"""The compiled event loop.

Everything here runs under numba on flat arrays; the readable model lives in :mod:`.model`, which
compiles to the arrays this module consumes. Design choices, and why:

* **Visit rows.** Each time a patient joins a node a row is appended to two column-major arrays:
  ``vf`` (float64 times) and ``vi`` (int32 ids and states). The rows are the output (one row per
  patient per stage) *and* the working state, so there is no per-patient object and nothing to
  copy at the end. Memory matters: at a year of ED arrivals, faulting in fresh pages for the
  output costs a fifth of the run, hence int32 and no other per-patient arrays.
* **Queues are linked lists of rows**, one FIFO per (resource, priority level): O(1) to join and
  to serve, and a resource shared by several nodes serves them all from one queue in priority then
  arrival order. A patient who reneges is only marked; the list skips such rows when it reaches them
  (lazy deletion), so reneging costs O(1) too.
* **One event heap** holds service ends, patience expiries and shift changes. Arrivals are
  generated beforehand (vectorised, see :mod:`.arrivals`) and merged in from a sorted array, so
  they never touch the heap. Ties at equal times go by kind - shift change, then service end, then
  patience expiry, then arrival - and then by scheduling order, so runs are deterministic.
* **Settling.** An event only *decides* things: who leaves, who joins which node (a join is
  reserved at once - the node's counts go up - and written out in order by the settle loop). Then
  resources whose free units or queue changed, and nodes whose admission room changed, go on two
  small dirty stacks, and the settle loop serves queues and admits blocked patients until nothing
  changes. Unblocking can cascade upstream (a patient leaving B frees a unit of A, which lets a
  patient blocked in A's predecessor move on); the stacks handle that without recursion, and each
  action (join, serve, unblock) is written once.
* **Few arrays passed to helpers, and none reassigned in the loop.** numba counts references to
  arrays with atomic instructions at call boundaries and reassignments; per event that cost a third
  of the run time. Hence the heap in one array, routing written out in the loop, random draws that
  take only the generator state, and growth of arrays left to :func:`run_core`, which then
  re-enters :func:`_advance`.
* **Hold nodes** are delays in place: a patient routed to one keeps the unit they held upstream
  (``HELD``) and frees it only on leaving the hold node (or the last of a chain of them), so a
  bed stays taken while its patient waits for transport or an assessment. A hold node's own
  resource is unlimited, so moving into one never blocks.
* Random draws come from three streams (service, patience, routing: rows of ``rng``, see
  :mod:`._random`) seeded from the replication's own seed sequence, so a replication depends only
  on its seed.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from uec.simulate._jit import jit, jit_inline
from uec.simulate._random import StateArray, next_uniform
from uec.simulate.distributions import EMPIRICAL, draw
from uec.simulate.model import ROUTE_BRANCH, ROUTE_NEXT, ROUTE_OVERFLOW, ROUTE_SHORTEST

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Int32Array = npt.NDArray[np.int32]
BoolArray = npt.NDArray[np.bool_]

# Float columns of a visit row.
ARRIVE = 0  # joined the node (queue entry)
START = 1  # service started
END = 2  # service ended
DEPART = 3  # left the node (later than END when blocked)
SERVICE = 4  # sampled service duration
N_FLOAT = 5

# Integer columns of a visit row.
PATIENT = 0
NODE = 1
STAGE = 2  # 0 for the first node a patient visits, 1 for the next ...
STATE = 3
LINK = 4  # next row in the resource queue or in the node's blocked list (working state only)
HELD = 5  # at a hold node: the resource whose unit the patient kept from upstream, else -1
N_INT = 6

# Visit states. The first three are "still there when the run stopped" if seen in output.
WAITING = 0
IN_SERVICE = 1
BLOCKED = 2  # service over, holding the unit until the next node admits them
DONE = 3
RENEGED = 4  # left the queue when patience ran out
BALKED = 5  # turned away on arrival: the node's buffer was full

# Rows of the random stream state.
SERVICE_STREAM = 0
PATIENCE_STREAM = 1
ROUTING_STREAM = 2

# Event kinds, in the order they are handled when times tie.
EV_CAPACITY = 0
EV_END = 1
EV_RENEGE = 2
SEQ_BITS = 44  # heap key = kind << SEQ_BITS | scheduling sequence number

# Outcomes of one call of the inner loop.
FINISHED = 0
NEED_HEAP = 1
NEED_ROWS = 2

# Slots of the scalar state carried between calls of the inner loop.
S_NROWS = 0
S_HN = 1
S_SEQ = 2
S_PRESENT = 3
S_AI = 4
S_NOW = 0
S_PROGRESS = 1
S_MAX_PERIOD = 2

# The heap is one (capacity, 3) float array of (time, key, entity) rows. Keys and entity ids are
# integers below 2**53, so float64 holds them exactly; one array rather than three because each
# array passed to a helper costs reference counting per call.
H_TIME = 0
H_KEY = 1
H_ENT = 2


@jit_inline
def _heap_push(heap: FloatArray, n: int, t: float, key: float, ent: float) -> int:
    i = n
    while i > 0:
        parent = (i - 1) >> 1
        pt = heap[parent, H_TIME]
        if pt < t or (pt == t and heap[parent, H_KEY] < key):
            break
        heap[i, H_TIME] = pt
        heap[i, H_KEY] = heap[parent, H_KEY]
        heap[i, H_ENT] = heap[parent, H_ENT]
        i = parent
    heap[i, H_TIME] = t
    heap[i, H_KEY] = key
    heap[i, H_ENT] = ent
    return n + 1


@jit_inline
def _heap_pop(heap: FloatArray, n: int) -> int:
    """Remove the top (read it first); return the new size."""
    n -= 1
    if n == 0:
        return 0
    t = heap[n, H_TIME]
    k = heap[n, H_KEY]
    e = heap[n, H_ENT]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= n:
            break
        if c + 1 < n and (
            heap[c + 1, H_TIME] < heap[c, H_TIME]
            or (heap[c + 1, H_TIME] == heap[c, H_TIME] and heap[c + 1, H_KEY] < heap[c, H_KEY])
        ):
            c += 1
        if heap[c, H_TIME] < t or (heap[c, H_TIME] == t and heap[c, H_KEY] < k):
            heap[i, H_TIME] = heap[c, H_TIME]
            heap[i, H_KEY] = heap[c, H_KEY]
            heap[i, H_ENT] = heap[c, H_ENT]
            i = c
        else:
            break
    heap[i, H_TIME] = t
    heap[i, H_KEY] = k
    heap[i, H_ENT] = e
    return n


class Arrivals(NamedTuple):
    """The replication's arrivals, sorted by time: when, which class, at which node."""

    t: FloatArray
    cls: IntArray
    node: IntArray


class Network(NamedTuple):
    """The compiled model the loop reads (never writes): see :class:`~uec.simulate.model.CompiledModel`."""

    node_res: IntArray
    node_buf: IntArray
    node_hold: BoolArray
    class_level: IntArray
    svc_dist: IntArray
    pat_dist: IntArray
    d_kind: IntArray
    d_par: FloatArray
    d_off: IntArray
    d_len: IntArray
    d_data: FloatArray
    rt_kind: IntArray
    rt_off: IntArray
    rt_len: IntArray
    rt_thr: IntArray
    rt_target: IntArray
    rt_cum: FloatArray
    sh_off: IntArray
    sh_len: IntArray
    sh_start: FloatArray
    sh_cap: IntArray
    sh_period: FloatArray
    rn_off: IntArray
    rn_nodes: IntArray


class Work(NamedTuple):
    """The loop's working state that keeps its size: resources, nodes, the dirty stacks and joins."""

    cap: IntArray
    busy: IntArray
    r_wait: IntArray
    occ: FloatArray
    capt: FloatArray
    last: FloatArray
    sh_idx: IntArray
    sh_cycle: IntArray
    q_head: IntArray
    q_tail: IntArray
    n_wait: IntArray
    n_blocked: IntArray
    b_head: IntArray
    b_tail: IntArray
    rd: IntArray
    rd_flag: BoolArray
    nd: IntArray
    nd_flag: BoolArray
    pj_patient: IntArray
    pj_node: IntArray
    pj_stage: IntArray
    pj_now: BoolArray
    pj_held: IntArray


@jit
def _advance(
    state_i: IntArray,
    state_f: FloatArray,
    until: float,
    n_levels: int,
    arrivals: Arrivals,
    net: Network,
    work: Work,
    rng: StateArray,
    vf: FloatArray,
    vi: Int32Array,
    heap: FloatArray,
) -> int:
    """Process events until the run ends (``FINISHED``) or an array must grow (``NEED_*``).

    Scalar state lives in ``state_i`` / ``state_f`` between calls; the dirty stacks and pending
    joins are always empty between events, so they need no saving.
    """
    # Unpacked once per call: inside the loop every array is a plain local, as before the records
    # (numba counts references at call boundaries; the records cross one once per call, not per event).
    arr_t, arr_cls, arr_node = arrivals
    (node_res, node_buf, node_hold, class_level, svc_dist, pat_dist, d_kind, d_par, d_off, d_len, d_data,
     rt_kind, rt_off, rt_len, rt_thr, rt_target, rt_cum, sh_off, sh_len, sh_start, sh_cap, sh_period,
     rn_off, rn_nodes) = net
    (cap, busy, r_wait, occ, capt, last, sh_idx, sh_cycle, q_head, q_tail, n_wait, n_blocked, b_head,
     b_tail, rd, rd_flag, nd, nd_flag, pj_patient, pj_node, pj_stage, pj_now, pj_held) = work
    n_pat = arr_t.shape[0]
    n_res = cap.shape[0]
    nrows = state_i[S_NROWS]
    hn = state_i[S_HN]
    seq = state_i[S_SEQ]
    present = state_i[S_PRESENT]  # patients in the system
    ai = state_i[S_AI]  # next arrival
    now = state_f[S_NOW]
    last_progress = state_f[S_PROGRESS]  # last time anything but a shift change happened
    max_period = state_f[S_MAX_PERIOD]
    rd_n = 0  # dirty resources
    nd_n = 0  # dirty nodes
    pj_n = 0  # reserved joins not yet written
    status = FINISHED
    while True:
        # Room for one event and its consequences: each patient present joins at most one node
        # (one row, one patience event) and starts at most one service; plus the arrival.
        if hn + 2 * present + n_res + 4 > heap.shape[0]:
            status = NEED_HEAP
            break
        if nrows + present + 2 > vf.shape[1]:
            status = NEED_ROWS
            break

        t_heap = heap[0, H_TIME] if hn > 0 else np.inf
        t_arr = arr_t[ai] if ai < n_pat else np.inf
        if ai >= n_pat and present == 0 and until == np.inf:
            break
        t = t_heap if t_heap <= t_arr else t_arr
        if t > until or t == np.inf:
            break
        now = t

        if t_heap <= t_arr:
            key = int(heap[0, H_KEY])
            ent = int(heap[0, H_ENT])
            hn = _heap_pop(heap, hn)
            kind = key >> SEQ_BITS
            if kind == EV_END:
                i = ent
                last_progress = now
                vf[END, i] = now
                a = vi[NODE, i]
                p = vi[PATIENT, i]
                c = arr_cls[p]
                # Route: the next node (-1: leave), decided now from the state now.
                route = rt_kind[c, a]
                off = rt_off[c, a]
                b = -1
                if route == ROUTE_NEXT:
                    b = rt_target[off]
                elif route == ROUTE_BRANCH:
                    u = next_uniform(rng, ROUTING_STREAM)
                    q = off
                    while q < off + rt_len[c, a] - 1 and u >= rt_cum[q]:
                        q += 1
                    b = rt_target[q]
                elif route == ROUTE_SHORTEST:
                    best_load = 1 << 62
                    for q in range(off, off + rt_len[c, a]):
                        bq = rt_target[q]
                        rq = node_res[bq]
                        load = n_wait[bq] + n_blocked[bq] - (cap[rq] - busy[rq] - r_wait[rq])
                        if load < best_load:
                            best_load = load
                            b = bq
                elif route == ROUTE_OVERFLOW:
                    b = rt_target[off + 1] if n_wait[rt_target[off]] >= rt_thr[c, a] else rt_target[off]

                rb = node_res[b] if b >= 0 else 0
                if b >= 0 and (
                    n_blocked[b] > 0 or not (n_wait[b] < node_buf[b] or cap[rb] - busy[rb] - r_wait[rb] > 0)
                ):
                    # No place downstream: keep the unit and join the node's blocked FIFO.
                    vi[STATE, i] = BLOCKED
                    vi[LINK, i] = -1
                    if b_tail[b] < 0:
                        b_head[b] = i
                    else:
                        vi[LINK, b_tail[b]] = i
                    b_tail[b] = i
                    n_blocked[b] += 1
                    if not nd_flag[b]:
                        nd_flag[b] = True
                        nd[nd_n] = b
                        nd_n += 1
                else:
                    # Free the node's unit and any unit kept from upstream, except the one a hold
                    # node downstream keeps (the upstream one if kept, else this node's).
                    r1 = int(node_res[a])
                    r2 = int(vi[HELD, i])
                    held = -1
                    if b >= 0 and node_hold[b]:
                        if r2 < 0:
                            held = r1
                            r1 = -1
                        else:
                            held = r2
                            r2 = -1
                    for q in range(2):
                        ra = r1 if q == 0 else r2
                        if ra >= 0:
                            occ[ra] += busy[ra] * (now - last[ra])
                            capt[ra] += cap[ra] * (now - last[ra])
                            last[ra] = now
                            busy[ra] -= 1
                            if not rd_flag[ra]:
                                rd_flag[ra] = True
                                rd[rd_n] = ra
                                rd_n += 1
                    vf[DEPART, i] = now
                    vi[STATE, i] = DONE
                    if b < 0:
                        present -= 1
                    else:
                        pj_now[pj_n] = cap[rb] - busy[rb] - r_wait[rb] > 0
                        pj_patient[pj_n] = p
                        pj_node[pj_n] = b
                        pj_stage[pj_n] = vi[STAGE, i] + 1
                        pj_held[pj_n] = held
                        pj_n += 1
                        n_wait[b] += 1
                        r_wait[rb] += 1
            elif kind == EV_RENEGE:
                i = ent
                if vi[STATE, i] == WAITING:
                    last_progress = now
                    vi[STATE, i] = RENEGED
                    vf[DEPART, i] = now
                    b = vi[NODE, i]
                    n_wait[b] -= 1
                    r_wait[node_res[b]] -= 1
                    present -= 1
                    if n_blocked[b] > 0 and not nd_flag[b]:
                        nd_flag[b] = True
                        nd[nd_n] = b
                        nd_n += 1
            else:  # EV_CAPACITY: the next segment of a shift pattern starts.
                if ai >= n_pat and until == np.inf and now - last_progress > 2 * max_period:
                    break  # draining, and a whole cycle of shifts changed nothing: deadlock
                # Apply every shift change due now before anything else happens, so that no
                # patient starts between two simultaneous changes (say, one unit closing as
                # another opens). Each pop pushes the resource's next change: the heap keeps
                # its size.
                r = ent
                while True:
                    occ[r] += busy[r] * (now - last[r])
                    capt[r] += cap[r] * (now - last[r])
                    last[r] = now
                    k = sh_idx[r] + 1
                    if k == sh_len[r]:
                        k = 0
                        sh_cycle[r] += 1
                    sh_idx[r] = k
                    cap[r] = sh_cap[sh_off[r] + k]
                    if not rd_flag[r]:
                        rd_flag[r] = True
                        rd[rd_n] = r
                        rd_n += 1
                    if k + 1 == sh_len[r]:
                        t_next = (sh_cycle[r] + 1) * sh_period[r]
                    else:
                        t_next = sh_cycle[r] * sh_period[r] + sh_start[sh_off[r] + k + 1]
                    hn = _heap_push(heap, hn, t_next, float((EV_CAPACITY << SEQ_BITS) | seq), float(r))
                    seq += 1
                    if heap[0, H_TIME] != now or int(heap[0, H_KEY]) >> SEQ_BITS != EV_CAPACITY:
                        break
                    r = int(heap[0, H_ENT])
                    hn = _heap_pop(heap, hn)
        else:
            # An external arrival: join the node if it has room, else be turned away.
            p = ai
            ai += 1
            last_progress = now
            b = arr_node[p]
            rb = node_res[b]
            if n_blocked[b] == 0 and (n_wait[b] < node_buf[b] or cap[rb] - busy[rb] - r_wait[rb] > 0):
                present += 1
                pj_now[pj_n] = cap[rb] - busy[rb] - r_wait[rb] > 0
                pj_patient[pj_n] = p
                pj_node[pj_n] = b
                pj_stage[pj_n] = 0
                pj_held[pj_n] = -1
                pj_n += 1
                n_wait[b] += 1
                r_wait[rb] += 1
            else:
                j = nrows
                nrows += 1
                vi[PATIENT, j] = p
                vi[NODE, j] = b
                vi[STAGE, j] = 0
                vi[STATE, j] = BALKED
                vi[LINK, j] = -1
                vi[HELD, j] = -1
                vf[ARRIVE, j] = now
                vf[START, j] = np.nan
                vf[END, j] = np.nan
                vf[DEPART, j] = now
                vf[SERVICE, j] = np.nan

        # Settle: write reserved joins, serve dirty resources' queues, admit blocked patients.
        while True:
            for k in range(pj_n):
                # Join: a new visit row at the tail of its resource's queue for its priority.
                p = pj_patient[k]
                b = pj_node[k]
                c = arr_cls[p]
                rb = node_res[b]
                lvl = class_level[c]
                j = nrows
                nrows += 1
                vi[PATIENT, j] = p
                vi[NODE, j] = b
                vi[STAGE, j] = pj_stage[k]
                vi[STATE, j] = WAITING
                vi[LINK, j] = -1
                vi[HELD, j] = pj_held[k]
                vf[ARRIVE, j] = now
                vf[START, j] = np.nan
                vf[END, j] = np.nan
                vf[DEPART, j] = np.nan
                vf[SERVICE, j] = np.nan
                if q_tail[rb, lvl] < 0:
                    q_head[rb, lvl] = j
                else:
                    vi[LINK, q_tail[rb, lvl]] = j
                q_tail[rb, lvl] = j
                if not rd_flag[rb]:
                    rd_flag[rb] = True
                    rd[rd_n] = rb
                    rd_n += 1
                d = pat_dist[c, b]
                # Patience only matters to those who will wait: skip the draw and the event
                # for patients a free unit is already waiting for.
                if d >= 0 and not pj_now[k]:
                    x = draw(rng, PATIENCE_STREAM, d_kind[d], d_par[d, 0], d_par[d, 1], d_par[d, 2])
                    if d_kind[d] == EMPIRICAL:
                        x = d_data[d_off[d] + min(int(x * d_len[d]), d_len[d] - 1)]
                    hn = _heap_push(heap, hn, now + x, float((EV_RENEGE << SEQ_BITS) | seq), float(j))
                    seq += 1
            pj_n = 0

            if rd_n > 0:
                rd_n -= 1
                r = rd[rd_n]
                rd_flag[r] = False
                while cap[r] - busy[r] > 0 and r_wait[r] > 0:
                    # Serve: the first live row of the most urgent non-empty level.
                    h = -1
                    for lvl in range(n_levels):
                        h = q_head[r, lvl]
                        while h >= 0 and vi[STATE, h] != WAITING:
                            h = vi[LINK, h]  # skip patients who reneged
                        if h >= 0:
                            q_head[r, lvl] = vi[LINK, h]
                            if vi[LINK, h] < 0:
                                q_tail[r, lvl] = -1
                            vi[LINK, h] = -1
                            break
                        q_head[r, lvl] = -1
                        q_tail[r, lvl] = -1
                    if h < 0:
                        raise RuntimeError("uec.simulate: a resource counted waiters its queues lack")
                    b = vi[NODE, h]
                    c = arr_cls[vi[PATIENT, h]]
                    n_wait[b] -= 1
                    r_wait[r] -= 1
                    occ[r] += busy[r] * (now - last[r])
                    capt[r] += cap[r] * (now - last[r])
                    last[r] = now
                    busy[r] += 1
                    d = svc_dist[c, b]
                    x = draw(rng, SERVICE_STREAM, d_kind[d], d_par[d, 0], d_par[d, 1], d_par[d, 2])
                    if d_kind[d] == EMPIRICAL:
                        x = d_data[d_off[d] + min(int(x * d_len[d]), d_len[d] - 1)]
                    vi[STATE, h] = IN_SERVICE
                    vf[START, h] = now
                    vf[SERVICE, h] = x
                    hn = _heap_push(heap, hn, now + x, float((EV_END << SEQ_BITS) | seq), float(h))
                    seq += 1
                    if n_blocked[b] > 0 and not nd_flag[b]:
                        nd_flag[b] = True
                        nd[nd_n] = b
                        nd_n += 1
                if cap[r] - busy[r] - r_wait[r] > 0:
                    # An unclaimed unit: every node it serves may now admit a blocked patient.
                    for q in range(rn_off[r], rn_off[r + 1]):
                        b = rn_nodes[q]
                        if n_blocked[b] > 0 and not nd_flag[b]:
                            nd_flag[b] = True
                            nd[nd_n] = b
                            nd_n += 1
            elif nd_n > 0:
                nd_n -= 1
                b = nd[nd_n]
                nd_flag[b] = False
                rb = node_res[b]
                while n_blocked[b] > 0 and (n_wait[b] < node_buf[b] or cap[rb] - busy[rb] - r_wait[rb] > 0):
                    # Unblock: the longest-blocked patient leaves their node, freeing its unit,
                    # and joins b.
                    i = b_head[b]
                    b_head[b] = vi[LINK, i]
                    if b_head[b] < 0:
                        b_tail[b] = -1
                    n_blocked[b] -= 1
                    # As at a service end: free what is not carried on into a hold node (a hold
                    # node never blocks, so b is one only when reached by a chain; kept general).
                    # Written out again, not a helper: a helper taking these arrays made the
                    # M/M/c bench 60% slower (reference counting at each call).
                    r1 = int(node_res[vi[NODE, i]])
                    r2 = int(vi[HELD, i])
                    held = -1
                    if node_hold[b]:
                        if r2 < 0:
                            held = r1
                            r1 = -1
                        else:
                            held = r2
                            r2 = -1
                    for q in range(2):
                        ra = r1 if q == 0 else r2
                        if ra >= 0:
                            occ[ra] += busy[ra] * (now - last[ra])
                            capt[ra] += cap[ra] * (now - last[ra])
                            last[ra] = now
                            busy[ra] -= 1
                            if not rd_flag[ra]:
                                rd_flag[ra] = True
                                rd[rd_n] = ra
                                rd_n += 1
                    vf[DEPART, i] = now
                    vi[STATE, i] = DONE
                    vi[LINK, i] = -1
                    pj_now[pj_n] = cap[rb] - busy[rb] - r_wait[rb] > 0
                    pj_patient[pj_n] = vi[PATIENT, i]
                    pj_node[pj_n] = b
                    pj_stage[pj_n] = vi[STAGE, i] + 1
                    pj_held[pj_n] = held
                    pj_n += 1
                    n_wait[b] += 1
                    r_wait[rb] += 1
            else:
                break

    state_i[S_NROWS] = nrows
    state_i[S_HN] = hn
    state_i[S_SEQ] = seq
    state_i[S_PRESENT] = present
    state_i[S_AI] = ai
    state_f[S_NOW] = now
    state_f[S_PROGRESS] = last_progress
    return status


def run_core(
    arr_t: FloatArray,
    arr_cls: IntArray,
    arr_node: IntArray,
    until: float,
    node_res: IntArray,
    node_buf: IntArray,
    node_hold: BoolArray,
    class_level: IntArray,
    n_levels: int,
    svc_dist: IntArray,
    pat_dist: IntArray,
    d_kind: IntArray,
    d_par: FloatArray,
    d_off: IntArray,
    d_len: IntArray,
    d_data: FloatArray,
    rt_kind: IntArray,
    rt_off: IntArray,
    rt_len: IntArray,
    rt_thr: IntArray,
    rt_target: IntArray,
    rt_cum: FloatArray,
    cap0: IntArray,
    sh_off: IntArray,
    sh_len: IntArray,
    sh_start: FloatArray,
    sh_cap: IntArray,
    sh_period: FloatArray,
    rn_off: IntArray,
    rn_nodes: IntArray,
    rng: StateArray,
    row_hint: int,
) -> tuple[FloatArray, Int32Array, int, FloatArray, FloatArray, float]:
    """Simulate one replication. Returns (visit float columns, visit int columns, rows used,
    occupied unit-minutes per resource, capacity unit-minutes per resource, time the run stopped).

    Plain Python around the compiled :func:`_advance`: it allocates the working arrays, and grows
    them when :func:`_advance` stops to ask (rare: the output is sized from an estimate). Keeping
    this driver out of numba halves the one-off compile time, and costs microseconds per run.
    """
    n_pat = arr_t.shape[0]
    n_nodes = node_res.shape[0]
    n_res = cap0.shape[0]
    i64 = np.int64

    # Visit rows, column-major (results are views of these), sized from the caller's estimate.
    vf = np.empty((N_FLOAT, max(64, row_hint)))
    vi = np.empty((N_INT, max(64, row_hint)), dtype=np.int32)
    # Big enough that most runs never grow it (each growth costs a re-entry of _advance).
    heap = np.empty((1024 + 4 * n_res, 3))

    # Resources: units on shift, units held (serving or blocked), live waiters, time integrals.
    cap = cap0.copy()
    busy = np.zeros(n_res, dtype=i64)
    r_wait = np.zeros(n_res, dtype=i64)
    occ = np.zeros(n_res)
    capt = np.zeros(n_res)
    last = np.zeros(n_res)
    sh_idx = np.zeros(n_res, dtype=i64)
    sh_cycle = np.zeros(n_res, dtype=i64)
    q_head = np.full((n_res, n_levels), -1, dtype=i64)
    q_tail = np.full((n_res, n_levels), -1, dtype=i64)

    # Nodes: live waiters, and the FIFO of patients blocked upstream trying to get in.
    n_wait = np.zeros(n_nodes, dtype=i64)
    n_blocked = np.zeros(n_nodes, dtype=i64)
    b_head = np.full(n_nodes, -1, dtype=i64)
    b_tail = np.full(n_nodes, -1, dtype=i64)

    # Dirty stacks (each entry at most once, guarded by a flag) and reserved joins.
    rd = np.empty(n_res, dtype=i64)
    rd_flag = np.zeros(n_res, dtype=np.bool_)
    nd = np.empty(n_nodes, dtype=i64)
    nd_flag = np.zeros(n_nodes, dtype=np.bool_)
    pj_patient = np.empty(n_pat + 1, dtype=i64)
    pj_node = np.empty(n_pat + 1, dtype=i64)
    pj_stage = np.empty(n_pat + 1, dtype=i64)
    pj_now = np.empty(n_pat + 1, dtype=np.bool_)
    pj_held = np.empty(n_pat + 1, dtype=i64)

    # The first shift change of each resource with shifts (a sorted list is a valid heap).
    first = sorted((float(sh_start[sh_off[r] + 1]), r) for r in range(n_res) if sh_len[r] > 1)
    for k, (t, r) in enumerate(first):
        heap[k] = (t, float((EV_CAPACITY << SEQ_BITS) | k), float(r))
    periods = [float(sh_period[r]) for r in range(n_res) if sh_len[r] > 1]

    arrivals = Arrivals(arr_t, arr_cls, arr_node)
    net = Network(node_res, node_buf, node_hold, class_level, svc_dist, pat_dist, d_kind, d_par, d_off, d_len,
                  d_data, rt_kind, rt_off, rt_len, rt_thr, rt_target, rt_cum, sh_off, sh_len, sh_start, sh_cap,
                  sh_period, rn_off, rn_nodes)
    work = Work(cap, busy, r_wait, occ, capt, last, sh_idx, sh_cycle, q_head, q_tail, n_wait, n_blocked, b_head,
                b_tail, rd, rd_flag, nd, nd_flag, pj_patient, pj_node, pj_stage, pj_now, pj_held)
    state_i = np.zeros(5, dtype=i64)
    state_i[S_HN] = len(first)
    state_i[S_SEQ] = len(first)
    state_f = np.zeros(3)
    state_f[S_MAX_PERIOD] = max(periods, default=0.0)
    while True:
        status = _advance(state_i, state_f, float(until), int(n_levels), arrivals, net, work, rng, vf, vi, heap)
        if status == FINISHED:
            break
        nrows, hn, present = int(state_i[S_NROWS]), int(state_i[S_HN]), int(state_i[S_PRESENT])
        if status == NEED_HEAP:
            bigger = np.empty((max(hn + 2 * present + n_res + 4, 2 * heap.shape[0]), 3))
            bigger[:hn] = heap[:hn]
            heap = bigger
        else:
            # Rows are initialised when written, not here: filling memory about to be overwritten
            # costs page faults and bandwidth, the main cost of a run after the event loop.
            size = max(nrows + present + 2, nrows + nrows // 2)
            nf, ni = np.empty((N_FLOAT, size)), np.empty((N_INT, size), dtype=np.int32)
            nf[:, :nrows] = vf[:, :nrows]
            ni[:, :nrows] = vi[:, :nrows]
            vf, vi = nf, ni

    stop = float(until) if until < np.inf else float(state_f[S_NOW])
    occ += busy * (stop - last)
    capt += cap * (stop - last)
    return vf, vi, int(state_i[S_NROWS]), occ, capt, stop
