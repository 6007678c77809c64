"""Property tests: on random small networks every run satisfies the engine's invariants."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from uec.simulate import (
    EXIT,
    OUTCOMES,
    Branch,
    Deterministic,
    Exponential,
    Model,
    Node,
    Overflow,
    PatientClass,
    PoissonArrivals,
    Resource,
    Route,
    Shifts,
    ShortestQueue,
    SimulationResult,
    simulate,
)
from uec.simulate.model import CompiledModel


@st.composite
def networks(draw: st.DrawFn) -> Model:
    n_nodes = draw(st.integers(1, 4))
    n_res = draw(st.integers(1, 3))
    resources = []
    for k in range(n_res):
        if draw(st.booleans()):
            caps = draw(st.lists(st.integers(0, 3), min_size=2, max_size=3))
            starts = sorted(draw(st.sets(st.integers(1, 23), min_size=len(caps) - 1, max_size=len(caps) - 1)))
            resources.append(Resource(f"r{k}", Shifts(tuple([0.0] + [60.0 * h for h in starts]), tuple(caps))))
        else:
            resources.append(Resource(f"r{k}", draw(st.integers(1, 3))))
    classes = [PatientClass(f"c{k}", draw(st.integers(1, 3))) for k in range(draw(st.integers(1, 3)))]
    names = [f"n{k}" for k in range(n_nodes)]
    # Running until everyone has left needs routes that always let patients leave.
    until = draw(st.sampled_from([2 * 1440.0, 3 * 1440.0, math.inf]))

    def route() -> Route:
        kind = "branch" if until == math.inf else draw(st.sampled_from(["branch", "shortest", "overflow"]))
        if kind == "shortest":
            return ShortestQueue(draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True)))
        if kind == "overflow":
            return Overflow(draw(st.sampled_from(names)), draw(st.sampled_from(names)), draw(st.integers(0, 3)))
        targets = draw(st.lists(st.sampled_from([*names, EXIT]), min_size=1, max_size=3, unique=True))
        if EXIT not in targets:
            targets.append(EXIT)
        weights = np.asarray(draw(st.lists(st.integers(1, 5), min_size=len(targets), max_size=len(targets))), float)
        return Branch(dict(zip(targets, (weights / weights.sum()).tolist(), strict=True)))

    nodes = []
    for name in names:
        service = Deterministic(draw(st.sampled_from([5.0, 20.0]))) if draw(st.booleans()) else Exponential(15.0)
        routing: Route | dict[str, Route] = route()
        if draw(st.booleans()):
            routing = {c.name: route() for c in classes}
        nodes.append(
            Node(
                name,
                service,
                resource=draw(st.sampled_from([None, *[r.name for r in resources]])),
                routing=routing,
                patience=draw(st.sampled_from([None, Exponential(30.0), Deterministic(10.0)])),
                buffer=draw(st.sampled_from([None, 0, 1, 3])),
            )
        )
    mix = {c.name: 1 / len(classes) for c in classes}
    return Model(
        nodes=nodes,
        resources=resources,
        classes=classes,
        arrivals=[PoissonArrivals(draw(st.sampled_from([2.0, 6.0, 12.0])), to=names[0], classes=mix)],
        horizon=2 * 1440.0,
        until=until,
    )


def capacity_at(cm: CompiledModel, r: int, t: float) -> int:
    off, n = int(cm.shift_offset[r]), int(cm.shift_length[r])
    if n == 1:
        return int(cm.shift_capacity[off])
    starts = cm.shift_start[off : off + n]
    return int(cm.shift_capacity[off + np.searchsorted(starts, t % cm.shift_period[r], side="right") - 1])


def check(model: Model, r: SimulationResult) -> None:
    cm = model.compile()
    nan = np.isnan
    code = {name: i for i, name in enumerate(OUTCOMES)}
    o = r.outcome
    # Times are ordered along each visit, and service takes the time drawn.
    assert np.all(r.start[~nan(r.start)] >= r.arrive[~nan(r.start)])
    ended = ~nan(r.end)
    assert np.all(r.end[ended] >= r.start[ended])
    np.testing.assert_allclose(r.end[ended] - r.start[ended], r.service[ended], atol=1e-6)
    left = ~nan(r.depart)
    assert np.all(r.depart[left] >= r.arrive[left])
    assert np.all(r.depart[left & ended] >= r.end[left & ended])
    assert np.all(r.arrive <= r.stop) and np.all(r.depart[left] <= r.stop)
    # Outcomes agree with the times recorded.
    assert np.all(nan(r.start[o == code["waiting"]]) & nan(r.depart[o == code["waiting"]]))
    assert np.all(~nan(r.start[o == code["in_service"]]) & nan(r.end[o == code["in_service"]]))
    assert np.all(~nan(r.end[o == code["blocked"]]) & nan(r.depart[o == code["blocked"]]))
    assert np.all(~nan(r.depart[o == code["done"]]) & ~nan(r.end[o == code["done"]]))
    assert np.all(nan(r.start[o == code["reneged"]]) & ~nan(r.depart[o == code["reneged"]]))
    assert np.all(r.depart[o == code["balked"]] == r.arrive[o == code["balked"]])
    # Each patient's visits are consecutive stages, each starting when the previous one ended.
    order = np.lexsort((r.stage, r.patient))
    p, s = r.patient[order], r.stage[order]
    first = np.r_[True, p[1:] != p[:-1]]
    assert np.all(s[first] == 0) and np.all(s[~first] == s[np.flatnonzero(~first) - 1] + 1)
    np.testing.assert_array_equal(r.arrive[order][~first], r.depart[order][np.flatnonzero(~first) - 1])
    np.testing.assert_array_equal(r.arrive[order][first], r.arrival[p[first]])
    # No resource ever has more units held than are on shift when a service starts.
    res = cm.node_resource[r.node]
    held_until = np.where(nan(r.depart), np.inf, r.depart)
    started = np.flatnonzero(~nan(r.start))
    for i in started[:: max(1, started.size // 300)]:
        k, t = res[i], r.start[i]
        same = (res == k) & ~nan(r.start)
        held = np.sum(same & (r.start <= t) & (held_until > t))
        assert held <= capacity_at(cm, int(k), float(t))
    # First come, first served within a resource and a priority level.
    level = cm.class_level[r.patient_class[r.patient]]
    for k in np.unique(res[started]):
        for lv in np.unique(level):
            idx = started[(res[started] == k) & (level[started] == lv)]
            by_arrival = idx[np.argsort(r.arrive[idx], kind="stable")]
            distinct = np.r_[True, np.diff(r.arrive[by_arrival]) > 0]
            starts = r.start[by_arrival]
            assert np.all(np.diff(starts)[distinct[1:]] >= -1e-9)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(model=networks(), seed=st.integers(0, 2**32 - 1))
def test_invariants_hold_on_random_networks(model: Model, seed: int) -> None:
    check(model, simulate(model, seed=seed))
