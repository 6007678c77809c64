"""Running a model: one replication, or many over any :class:`concurrent.futures.Executor`.

Replication ``i`` of a run with seed ``s`` draws all its random numbers from the ``i``-th child of
``numpy.random.SeedSequence(s)`` (what ``SeedSequence(s).spawn(n)[i]`` gives), so its results do not
depend on how many replications are run, in which order, or on which process. That child is split
further into independent streams: service times, patience, routing, and one per arrival stream -
so, for example, changing a routing rule leaves every arrival time unchanged.

>>> from uec.simulate import Exponential, Model, Node, PoissonArrivals, Resource
>>> model = Model(
...     nodes=[Node("cubicles", service=Exponential(25.0), resource=Resource("cubicle", 5))],
...     arrivals=[PoissonArrivals(10.0, to="cubicles")],
...     horizon=7 * 1440.0,
... )
>>> reps = run_replications(model, reps=4, seed=42)
>>> len(reps), reps[0].n_patients == simulate(model, seed=42).n_patients
(4, True)
>>> from concurrent.futures import ThreadPoolExecutor
>>> with ThreadPoolExecutor(2) as pool:
...     again = run_replications(model, reps=4, seed=42, executor=pool)
>>> all(np.array_equal(a.start, b.start, equal_nan=True) for a, b in zip(reps, again))
True
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Literal

import numpy as np

from uec.simulate._core import ARRIVE, DEPART, END, NODE, PATIENT, SERVICE, STAGE, START, STATE, run_core
from uec.simulate._random import stream_state
from uec.simulate.model import CompiledModel, Model
from uec.simulate.results import Replications, SimulationResult

__all__ = ["run_replications", "simulate"]

Seed = int | np.random.SeedSequence | None

# Sub-streams of a replication's seed, by position (the first three in the engine's order).
# Arrival streams follow, one each.
_SERVICE, _PATIENCE, _ROUTING, _FIRST_ARRIVAL_STREAM = 0, 1, 2, 3


def _child(parent: np.random.SeedSequence, k: int) -> np.random.SeedSequence:
    """The ``k``-th child of ``parent``, as ``parent.spawn`` would make it on a fresh sequence.

    Built explicitly rather than with ``spawn`` because ``spawn`` counts the children already made:
    calling it twice on one object gives different children, which would make results depend on
    how often a seed object had been used.
    """
    return np.random.SeedSequence(parent.entropy, spawn_key=(*parent.spawn_key, k), pool_size=parent.pool_size)


def _root(seed: Seed) -> np.random.SeedSequence:
    return seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)


def _rng(seq: np.random.SeedSequence) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(seq))


def _replicate(cm: CompiledModel, seq: np.random.SeedSequence, replication: int) -> SimulationResult:
    """One replication of a compiled model from its own seed sequence."""
    times, classes, nodes = [], [], []
    for k, stream in enumerate(cm.arrivals):
        t, c = stream.generate(_rng(_child(seq, _FIRST_ARRIVAL_STREAM + k)), cm.horizon, cm.class_names)
        times.append(t)
        classes.append(c)
        nodes.append(np.full(t.size, cm.arrival_nodes[k], dtype=np.int64))
    if len(times) == 1:
        arr_t, arr_cls, arr_node = times[0], classes[0], nodes[0]  # one stream: already in order
    else:
        # Stable: simultaneous arrivals keep stream order, then their order within the stream.
        order = np.argsort(np.concatenate(times), kind="stable")
        arr_t = np.ascontiguousarray(np.concatenate(times)[order])
        arr_cls = np.ascontiguousarray(np.concatenate(classes)[order])
        arr_node = np.ascontiguousarray(np.concatenate(nodes)[order])

    # Expected rows plus slack: the engine grows its arrays if this falls short.
    n_nodes = len(cm.node_names)
    entries = np.bincount(arr_cls * n_nodes + arr_node, minlength=cm.expected_visits.size)
    row_hint = int(entries @ cm.expected_visits.ravel() * 1.05) + 64
    vf, vi, nrows, occupied, capacity, stop = run_core(
        arr_t,
        arr_cls,
        arr_node,
        cm.until,
        cm.node_resource,
        cm.node_buffer,
        cm.node_hold,
        cm.class_level,
        cm.n_levels,
        cm.service_dist,
        cm.patience_dist,
        cm.dist_kind,
        cm.dist_params,
        cm.dist_offset,
        cm.dist_length,
        cm.dist_data,
        cm.route_kind,
        cm.route_offset,
        cm.route_length,
        cm.route_threshold,
        cm.route_target,
        cm.route_cumprob,
        cm.resource_capacity0,
        cm.shift_offset,
        cm.shift_length,
        cm.shift_start,
        cm.shift_capacity,
        cm.shift_period,
        cm.resource_nodes_offset,
        cm.resource_nodes,
        np.stack([stream_state(_child(seq, k)) for k in (_SERVICE, _PATIENCE, _ROUTING)]),
        row_hint,
    )
    # Views of the engine's column-major arrays: no copies.
    vf, vi = vf[:, :nrows], vi[:, :nrows]
    return SimulationResult(
        replication=replication,
        node_names=cm.node_names,
        resource_names=cm.resource_names,
        class_names=cm.class_names,
        stop=float(stop),
        arrival=arr_t,
        patient_class=arr_cls,
        patient=vi[PATIENT],
        stage=vi[STAGE],
        node=vi[NODE],
        arrive=vf[ARRIVE],
        start=vf[START],
        end=vf[END],
        depart=vf[DEPART],
        service=vf[SERVICE],
        outcome=vi[STATE],
        occupied=occupied,
        capacity=capacity,
        finite_resource=cm.has_finite_resource,
    )


def _replicate_batch(cm: CompiledModel, seqs: Sequence[np.random.SeedSequence], first: int) -> list[SimulationResult]:
    """Several replications in one task (module level so process pools can pickle it)."""
    return [_replicate(cm, s, first + i) for i, s in enumerate(seqs)]


def simulate(model: Model | CompiledModel, seed: Seed = None) -> SimulationResult:
    """Run one replication: the same as replication 0 of :func:`run_replications` with this seed."""
    cm = model.compile() if isinstance(model, Model) else model
    return _replicate(cm, _child(_root(seed), 0), 0)


def run_replications(
    model: Model | CompiledModel,
    reps: int,
    seed: Seed = None,
    executor: Executor | Literal["process"] | None = None,
    *,
    chunksize: int | None = None,
) -> Replications:
    """Run ``reps`` independent replications.

    ``executor`` is ``None`` to run serially here, any :class:`concurrent.futures.Executor` (a
    ``ProcessPoolExecutor``, or anything with the same ``submit``, such as a Dask client), or
    ``"process"`` for a ``ProcessPoolExecutor`` over every core, made and shut down here. Results are
    identical whichever is used. ``chunksize`` replications go in each task (default: about four
    tasks per core), which keeps per-task overhead small when replications are short.
    """
    if reps < 1:
        raise ValueError("reps must be at least 1")
    cm = model.compile() if isinstance(model, Model) else model
    root = _root(seed)
    # Equal to root.spawn(reps) on a fresh SeedSequence; see _child for why it is spelled out.
    seqs = [_child(root, i) for i in range(reps)]
    if executor is None:
        results = [_replicate(cm, s, i) for i, s in enumerate(seqs)]
        return Replications(tuple(results), _entropy(root))
    if executor == "process":
        with ProcessPoolExecutor() as pool:
            return run_replications(cm, reps, root, pool, chunksize=chunksize)
    size = chunksize or max(1, math.ceil(reps / (4 * (os.cpu_count() or 1))))
    futures: list[Future[list[SimulationResult]]] = [
        executor.submit(_replicate_batch, cm, seqs[i : i + size], i) for i in range(0, reps, size)
    ]
    results = [r for f in futures for r in f.result()]
    return Replications(tuple(results), _entropy(root))


def _entropy(root: np.random.SeedSequence) -> int | None:
    e = root.entropy
    return int(e) if isinstance(e, int | np.integer) else None
