"""The model description: typed, frozen dataclasses that compile to flat arrays for the engine.

A model is a network of **nodes** (triage, majors, a ward ...). A patient visiting a node queues for
one unit of the node's **resource**, is served for a random time, then follows the node's **route**
to another node or out. Resources may be shared between nodes (one pool of nurses triaging and
treating) and may follow **shifts** (capacity by time of day). Patient **classes** carry a priority
(lower number = seen first, like triage categories) and may have their own service times, patience
and routes. A node with a finite **buffer** admits a patient only when a place is free; until then
the patient **blocks**, keeping the unit they hold upstream. A patient whose **patience** runs out
before service starts leaves the queue (reneges: "left without being seen"). A **hold** node is a
delay in place: the patient keeps the unit they held at the node before it (a bed, while waiting
for transport or an assessment) until they leave it.

>>> from uec.simulate.distributions import Exponential
>>> from uec.simulate.arrivals import PoissonArrivals
>>> mmc = Model(
...     nodes=[Node("cubicles", service=Exponential(25.0), resource=Resource("cubicle", 5))],
...     arrivals=[PoissonArrivals(10.0, to="cubicles")],
...     horizon=365 * 1440.0,
... )
>>> compiled = mmc.compile()
>>> compiled.node_names, compiled.resource_names, compiled.class_names
(('cubicles',), ('cubicle',), ('default',))
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from uec.simulate.arrivals import Arrivals, PoissonArrivals, SampledArrivals, ScheduledArrivals
from uec.simulate.distributions import Distribution

__all__ = [
    "EXIT",
    "Branch",
    "CompiledModel",
    "Exit",
    "Model",
    "ModelError",
    "Next",
    "Node",
    "Overflow",
    "PatientClass",
    "Resource",
    "Route",
    "Shifts",
    "ShortestQueue",
]

#: The name that means "leave the system" in a :class:`Branch`.
EXIT = "exit"

# Route kind codes shared with the engine.
ROUTE_EXIT = 0
ROUTE_NEXT = 1
ROUTE_BRANCH = 2
ROUTE_SHORTEST = 3
ROUTE_OVERFLOW = 4

# Capacity standing in for "unlimited" (a node without a resource: a pure delay).
UNLIMITED = 1 << 40

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
T = TypeVar("T")


class ModelError(ValueError):
    """The model description is inconsistent (unknown node, probabilities not summing to 1 ...)."""


@dataclass(frozen=True)
class PatientClass:
    """A kind of patient. Lower ``priority`` is served first (1 = most urgent, as in triage)."""

    name: str
    priority: int = 0


@dataclass(frozen=True)
class Shifts:
    """Capacity by time of day (or week): ``capacity[i]`` units from ``starts[i]`` minutes into the
    period until the next start, repeating every ``period`` minutes.

    A capacity drop never interrupts a service in progress; it only stops new starts until enough
    units come free.

    >>> nights_off = Shifts.daily({"08:00": 3, "20:00": 1, "23:00": 0})
    >>> nights_off.starts, nights_off.capacity
    ((0.0, 480.0, 1200.0, 1380.0), (0, 3, 1, 0))
    >>> nights_off.capacity_at(9 * 60.0)
    3
    """

    starts: tuple[float, ...]
    capacity: tuple[int, ...]
    period: float = 1440.0

    def __post_init__(self) -> None:
        pairs = sorted(zip((float(s) for s in self.starts), (int(c) for c in self.capacity), strict=True))
        if not pairs:
            raise ModelError("a shift pattern needs at least one segment")
        if any(c < 0 for _, c in pairs):
            raise ModelError("capacity cannot be negative")
        if pairs[0][0] < 0 or pairs[-1][0] >= self.period:
            raise ModelError("shift starts must lie in [0, period)")
        if len({s for s, _ in pairs}) != len(pairs):
            raise ModelError("two shifts start at the same time")
        # The pattern wraps: before the first start of the period the last segment still runs.
        if pairs[0][0] > 0:
            pairs.insert(0, (0.0, pairs[-1][1]))
        object.__setattr__(self, "starts", tuple(s for s, _ in pairs))
        object.__setattr__(self, "capacity", tuple(c for _, c in pairs))

    @classmethod
    def daily(cls, pattern: Mapping[str, int]) -> Shifts:
        """From ``{"HH:MM": capacity}`` change points, repeating every day."""
        starts = []
        for hhmm in pattern:
            h, m = hhmm.split(":")
            starts.append(int(h) * 60.0 + int(m))
        return cls(tuple(starts), tuple(pattern.values()), 1440.0)

    def capacity_at(self, t: float) -> int:
        """Units on shift at time ``t`` (minutes)."""
        i = int(np.searchsorted(self.starts, t % self.period, side="right")) - 1
        return self.capacity[i]


@dataclass(frozen=True)
class Resource:
    """A pool of identical units (clinicians, cubicles, beds): a fixed number or :class:`Shifts`."""

    name: str
    capacity: int | Shifts

    def __post_init__(self) -> None:
        if isinstance(self.capacity, int) and self.capacity < 0:
            raise ModelError("capacity cannot be negative")


@dataclass(frozen=True)
class Exit:
    """Leave the system after this node."""


@dataclass(frozen=True)
class Next:
    """Always go to ``node``."""

    node: str


@dataclass(frozen=True)
class Branch:
    """Go to each node with the given probability (``EXIT`` to leave); probabilities sum to 1."""

    probabilities: Mapping[str, float]


@dataclass(frozen=True)
class ShortestQueue:
    """Go to the node whose queue is shortest *now* (state-dependent routing).

    The measure is patients waiting (and blocked trying to enter) minus free units, so an idle node
    beats one with an empty queue but no free unit; ties go to the first listed.
    """

    nodes: Sequence[str]


@dataclass(frozen=True)
class Overflow:
    """Go to ``primary`` unless ``threshold`` or more patients already wait there; then go to
    ``alternative`` (state-dependent: e.g. stream to the urgent treatment centre when majors is full).
    """

    primary: str
    alternative: str
    threshold: int


Route = Exit | Next | Branch | ShortestQueue | Overflow


@dataclass(frozen=True)
class Node:
    """A place patients queue and are served.

    ``service`` and ``patience`` may be one distribution or a mapping by class name (every class that
    can reach the node must be covered); ``patience=None`` means patients never leave the queue.
    ``resource`` is a resource name, a :class:`Resource`, or ``None`` for an unlimited delay (no
    queue). ``buffer`` caps the number waiting: ``None`` is unlimited; when the buffer is full and no
    unit is free, patients routed here block upstream and external arrivals are turned away (balk).

    ``hold=True`` makes the node a delay in place: it has no resource, queue or patience of its own,
    and a patient here keeps the unit they held at the node they came from until they leave (for
    the next node, or out); blocked here, they keep it until the next node admits them. Only
    routes lead to a hold node, not arrivals.

    >>> from uec.simulate import Deterministic, ScheduledArrivals, simulate
    >>> ward = Node("ward", Deterministic(5.0), Resource("bed", 1), routing=Next("transport"))
    >>> transport = Node("transport", Deterministic(2.0), hold=True)
    >>> two = Model([ward, transport], [ScheduledArrivals([0.0, 0.0], to="ward")], horizon=60.0)
    >>> simulate(two, seed=0).stage_array("start")[1].tolist()  # the bed is free at 7, not 5
    [7.0, 12.0]
    """

    name: str
    service: Distribution | Mapping[str, Distribution]
    resource: str | Resource | None = None
    routing: Route | Mapping[str, Route] = field(default_factory=Exit)
    patience: Distribution | Mapping[str, Distribution | None] | None = None
    buffer: int | None = None
    hold: bool = False


@dataclass(frozen=True)
class Model:
    """A queueing network with its arrivals and run length.

    Arrivals are generated over ``[0, horizon)`` minutes. Events are processed until ``until``
    (default ``horizon``); ``until=math.inf`` runs on until every patient has left (every node
    must then have a route out, and a run whose remaining patients can never be served - a
    resource with no shifts left, or blocking in a circle - stops after a full shift cycle in
    which nothing happened).
    """

    nodes: Sequence[Node]
    arrivals: Sequence[Arrivals]
    horizon: float
    resources: Sequence[Resource] = ()
    classes: Sequence[PatientClass] = ()
    until: float | None = None

    def compile(self) -> CompiledModel:
        """Check the description and flatten it to the arrays the engine runs on."""
        return _compile(self)


@dataclass(frozen=True)
class CompiledModel:
    """A model flattened to arrays (picklable: this is what replication workers receive).

    Indices: ``c`` class, ``n`` node, ``r`` resource, ``d`` distribution. ``-1`` means "none"
    (no patience, route to exit).
    """

    node_names: tuple[str, ...]
    resource_names: tuple[str, ...]
    class_names: tuple[str, ...]
    arrivals: tuple[Arrivals, ...]
    arrival_nodes: IntArray
    horizon: float
    until: float
    node_resource: IntArray  # [n]
    node_buffer: IntArray  # [n], UNLIMITED when there is no cap
    node_hold: BoolArray  # [n] delays in place: the unit held upstream stays held
    class_level: IntArray  # [c] dense priority level, 0 served first
    n_levels: int
    service_dist: IntArray  # [c, n]
    patience_dist: IntArray  # [c, n]
    dist_kind: IntArray  # [d]
    dist_params: FloatArray  # [d, 3]
    dist_offset: IntArray  # [d] into dist_data (Empirical)
    dist_length: IntArray  # [d]
    dist_data: FloatArray
    route_kind: IntArray  # [c, n]
    route_offset: IntArray  # [c, n] into route_target / route_cumprob
    route_length: IntArray  # [c, n]
    route_threshold: IntArray  # [c, n] (Overflow)
    route_target: IntArray  # node index, -1 = exit
    route_cumprob: FloatArray  # cumulative probabilities (Branch)
    resource_capacity0: IntArray  # [r] capacity at t = 0
    shift_offset: IntArray  # [r] into shift_start / shift_capacity
    shift_length: IntArray  # [r] segments; 1 = constant
    shift_start: FloatArray
    shift_capacity: IntArray
    shift_period: FloatArray  # [r]
    resource_nodes_offset: IntArray  # [r + 1] CSR list of the nodes each resource serves
    resource_nodes: IntArray
    has_finite_resource: tuple[bool, ...]
    expected_visits: FloatArray  # [c, n] visits a patient entering at n makes (sizes output)


def _compile(model: Model) -> CompiledModel:
    """Check ``model`` and lay it out as the engine's flat arrays, in the order the compiled loop
    indexes them: names, resources (declared, inline, then one unlimited per delay node), routes
    (only the class and node pairs a class can reach), distributions, shifts, priority levels."""
    until = _check_model(model)
    classes = list(model.classes) or [PatientClass("default")]
    class_names = tuple(c.name for c in classes)
    node_names = tuple(n.name for n in model.nodes)
    node_index = {name: i for i, name in enumerate(node_names)}
    resources, node_res = _lay_out_resources(model)
    routes = _RouteTable.build(model, class_names, node_index)
    dists = _DistributionTable()
    n_c, n_n = len(classes), len(model.nodes)
    service = np.full((n_c, n_n), -1, dtype=np.int64)
    patience = np.full((n_c, n_n), -1, dtype=np.int64)
    for i, j in zip(*np.nonzero(routes.reach), strict=True):
        node, cname = model.nodes[j], class_names[i]
        service[i, j] = dists.index(_per_class(node.service, cname, node.name, "service"))
        patience[i, j] = dists.index(_per_class(node.patience, cname, node.name, "patience", optional=True))
    kinds, params, offsets, lengths, data = dists.arrays()

    if math.isinf(until):
        _check_everyone_can_leave(node_names, class_names, routes.kind, routes.offset, routes.length, routes.targets,
                                  routes.cumprob)
    cap0, s_off, s_len, s_start, s_cap, s_period = _shift_table(resources)
    res_nodes: list[list[int]] = [[] for _ in resources]
    for j, r in enumerate(node_res):
        res_nodes[r].append(j)
    rn_off = np.concatenate([[0], np.cumsum([len(x) for x in res_nodes])]).astype(np.int64)

    # Dense priority levels: 0 is served first.
    prios = sorted({c.priority for c in classes})
    level = np.asarray([prios.index(c.priority) for c in classes], dtype=np.int64)
    buffers = [UNLIMITED if node.buffer is None else int(node.buffer) for node in model.nodes]

    def ints(x: Sequence[int] | IntArray) -> IntArray:
        return np.asarray(x, dtype=np.int64)

    def floats(x: Sequence[float] | FloatArray) -> FloatArray:
        return np.asarray(x, dtype=np.float64)

    return CompiledModel(
        node_names=node_names,
        resource_names=tuple(r.name for r in resources),
        class_names=class_names,
        arrivals=tuple(model.arrivals),
        arrival_nodes=ints(routes.arrival_nodes),
        horizon=float(model.horizon),
        until=until,
        node_resource=ints(node_res),
        node_buffer=ints(buffers),
        node_hold=np.asarray([n.hold for n in model.nodes], dtype=np.bool_),
        class_level=level,
        n_levels=len(prios),
        service_dist=service,
        patience_dist=patience,
        dist_kind=kinds,
        dist_params=params,
        dist_offset=ints(offsets),
        dist_length=lengths,
        dist_data=floats(data),
        route_kind=routes.kind,
        route_offset=routes.offset,
        route_length=routes.length,
        route_threshold=routes.threshold,
        route_target=ints(routes.targets if routes.targets else [-1]),
        route_cumprob=floats(routes.cumprob if routes.cumprob else [1.0]),
        resource_capacity0=ints(cap0),
        shift_offset=ints(s_off),
        shift_length=ints(s_len),
        shift_start=floats(s_start),
        shift_capacity=ints(s_cap),
        shift_period=floats(s_period),
        resource_nodes_offset=rn_off,
        resource_nodes=ints([j for x in res_nodes for j in x]),
        has_finite_resource=tuple(r.capacity != UNLIMITED for r in resources),
        expected_visits=_expected_visits(routes.kind, routes.offset, routes.length, routes.targets, routes.cumprob),
    )


def _check_model(model: Model) -> float:
    """The checks that need the whole model; returns the time the run stops (``until``)."""
    if not model.nodes:
        raise ModelError("a model needs at least one node")
    if not model.arrivals:
        raise ModelError("a model needs at least one arrival stream")
    if not (model.horizon > 0 and math.isfinite(model.horizon)):
        raise ModelError("horizon must be positive and finite")
    until = model.horizon if model.until is None else float(model.until)
    if not until >= model.horizon:
        raise ModelError("until must be at least horizon")
    class_names = [c.name for c in model.classes]
    if len(set(class_names)) != len(class_names):
        raise ModelError("duplicate class names")
    node_names = [n.name for n in model.nodes]
    if len(set(node_names)) != len(node_names):
        raise ModelError("duplicate node names")
    if EXIT in node_names:
        raise ModelError(f"{EXIT!r} is reserved for leaving the system")
    for node in model.nodes:
        if node.hold and (node.resource is not None or node.buffer is not None or node.patience is not None):
            raise ModelError(f"hold node {node.name!r} cannot have a resource, buffer or patience of its own")
        if node.buffer is not None and node.buffer < 0:
            raise ModelError(f"node {node.name!r}: buffer cannot be negative")
    return until


def _lay_out_resources(model: Model) -> tuple[list[Resource], list[int]]:
    """Resources, declared ones first, then inline ones, then a private unlimited one per delay node;
    and each node's resource index."""
    resources: list[Resource] = []
    by_name: dict[str, Resource] = {}

    def add_resource(res: Resource) -> None:
        if res.name in by_name:
            if by_name[res.name] != res:
                raise ModelError(f"two different resources are called {res.name!r}")
            return
        by_name[res.name] = res
        resources.append(res)

    for res in model.resources:
        add_resource(res)
    node_res: list[int] = []
    for node in model.nodes:
        if isinstance(node.resource, Resource):
            add_resource(node.resource)
            node_res.append(resources.index(by_name[node.resource.name]))
        elif isinstance(node.resource, str):
            if node.resource not in by_name:
                raise ModelError(f"node {node.name!r} uses unknown resource {node.resource!r}")
            node_res.append(resources.index(by_name[node.resource]))
        else:
            add_resource(Resource(f"{node.name} (unlimited)", UNLIMITED))
            node_res.append(len(resources) - 1)
    return resources, node_res


class _DistributionTable:
    """Distributions in one table, referenced by index from [class, node] cells (equal ones shared)."""

    def __init__(self) -> None:
        self.dists: list[Distribution] = []

    def index(self, d: Distribution | None) -> int:
        if d is None:
            return -1
        if not isinstance(d, Distribution):
            raise ModelError(f"expected a Distribution, got {d!r}")
        for i, e in enumerate(self.dists):
            if e is d or e == d:
                return i
        self.dists.append(d)
        return len(self.dists) - 1

    def arrays(self) -> tuple[IntArray, FloatArray, IntArray, IntArray, FloatArray]:
        """Kinds, parameters, data offsets and lengths, and the data of every distribution."""
        dists = self.dists
        kinds = np.asarray([d.kind for d in dists], dtype=np.int64)
        params = np.asarray([d.params() for d in dists], dtype=np.float64).reshape(len(dists), 3)
        datas = [d.data() for d in dists]
        lengths = np.asarray([x.size for x in datas], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64) if dists else lengths
        data = np.concatenate(datas) if any(x.size for x in datas) else np.zeros(1)
        return kinds, params, offsets, lengths, data


@dataclass
class _RouteTable:
    """Routes encoded per [class, node]: kind, offset and length into ``targets``/``cumprob``, threshold."""

    kind: IntArray
    offset: IntArray
    length: IntArray
    threshold: IntArray
    reach: BoolArray
    targets: list[int] = field(default_factory=list)
    cumprob: list[float] = field(default_factory=list)
    arrival_nodes: list[int] = field(default_factory=list)

    @classmethod
    def build(cls, model: Model, class_names: Sequence[str], node_index: Mapping[str, int]) -> _RouteTable:
        """Only the (class, node) pairs a class can reach - from the nodes its arrivals enter, along its
        routes - need a route and a service time, so a mapping by class may leave out classes that
        never come. Walk them breadth first, encoding each route as it is reached."""
        shape = (len(class_names), len(model.nodes))
        t = cls(kind=np.zeros(shape, dtype=np.int64), offset=np.zeros(shape, dtype=np.int64),
                length=np.zeros(shape, dtype=np.int64), threshold=np.zeros(shape, dtype=np.int64),
                reach=np.zeros(shape, dtype=np.bool_))

        def target(name: str, allow_exit: bool, where: str) -> int:
            if allow_exit and name == EXIT:
                return -1
            if name not in node_index:
                raise ModelError(f"{where}: unknown node {name!r}")
            return node_index[name]

        todo: list[tuple[int, int]] = []
        for stream in model.arrivals:
            if not isinstance(stream, PoissonArrivals | ScheduledArrivals | SampledArrivals):
                raise ModelError(f"unknown arrival stream {stream!r}")
            j = target(stream.to, False, "arrivals")
            if model.nodes[j].hold:
                raise ModelError(f"arrivals cannot enter hold node {stream.to!r}: it keeps a unit held upstream")
            t.arrival_nodes.append(j)
            for i in _entry_classes(stream, class_names):
                if not t.reach[i, j]:
                    t.reach[i, j] = True
                    todo.append((i, j))
        while todo:
            i, j = todo.pop(0)
            node = model.nodes[j]
            route = _per_class(node.routing, class_names[i], node.name, "routing")
            t.encode(i, j, route, target, f"routing of {node.name!r}")
            for q in range(int(t.offset[i, j]), int(t.offset[i, j] + t.length[i, j])):
                prob = t.cumprob[q] - (t.cumprob[q - 1] if q > t.offset[i, j] else 0.0)
                n = t.targets[q]
                if n >= 0 and (t.kind[i, j] != ROUTE_BRANCH or prob > 0) and not t.reach[i, n]:
                    t.reach[i, n] = True
                    todo.append((i, n))
        return t

    def encode(self, i: int, j: int, route: object, target: Callable[[str, bool, str], int], where: str) -> None:
        """Write class ``i``'s route out of node ``j``."""
        self.offset[i, j] = len(self.targets)
        if isinstance(route, Exit):
            self.kind[i, j] = ROUTE_EXIT
        elif isinstance(route, Next):
            self.kind[i, j] = ROUTE_NEXT
            self.targets.append(target(route.node, False, where))
            self.cumprob.append(1.0)
        elif isinstance(route, Branch):
            self.kind[i, j] = ROUTE_BRANCH
            probs = dict(route.probabilities)
            p = np.asarray(list(probs.values()), dtype=np.float64)
            if not probs or np.any(p < 0) or not math.isclose(float(p.sum()), 1.0, rel_tol=1e-9):
                raise ModelError(f"{where}: probabilities must be non-negative and sum to 1")
            self.targets.extend(target(name, True, where) for name in probs)
            c = np.cumsum(p)
            c[-1] = 1.0 + 1e-12  # a uniform in [0, 1) always lands somewhere despite rounding
            self.cumprob.extend(float(x) for x in c)
        elif isinstance(route, ShortestQueue):
            self.kind[i, j] = ROUTE_SHORTEST
            if not route.nodes:
                raise ModelError(f"{where}: ShortestQueue needs at least one node")
            self.targets.extend(target(name, False, where) for name in route.nodes)
            self.cumprob.extend([1.0] * len(route.nodes))
        elif isinstance(route, Overflow):
            self.kind[i, j] = ROUTE_OVERFLOW
            self.targets.append(target(route.primary, False, where))
            self.targets.append(target(route.alternative, False, where))
            self.cumprob.extend([1.0, 1.0])
            self.threshold[i, j] = route.threshold
        else:
            raise ModelError(f"{where}: unknown route {route!r}")
        self.length[i, j] = len(self.targets) - self.offset[i, j]


def _shift_table(resources: Sequence[Resource]) -> tuple[list[int], list[int], list[int], list[float], list[int],
                                                          list[float]]:
    """Capacity at time 0, and shifts as offsets and lengths into starts and capacities, with periods;
    a constant capacity is one segment with an infinite period."""
    cap0: list[int] = []
    s_off: list[int] = []
    s_len: list[int] = []
    s_start: list[float] = []
    s_cap: list[int] = []
    s_period: list[float] = []
    for res in resources:
        s_off.append(len(s_start))
        if isinstance(res.capacity, Shifts):
            shifts = res.capacity
            s_start.extend(shifts.starts)
            s_cap.extend(shifts.capacity)
            s_len.append(len(shifts.starts))
            s_period.append(shifts.period)
            cap0.append(shifts.capacity[0])
        else:
            s_start.append(0.0)
            s_cap.append(int(res.capacity))
            s_len.append(1)
            s_period.append(math.inf)
            cap0.append(int(res.capacity))
    return cap0, s_off, s_len, s_start, s_cap, s_period


def _entry_classes(stream: Arrivals, class_names: Sequence[str]) -> set[int]:
    """The classes a stream's arrivals can have (by index)."""
    mix = stream.classes
    if mix is None:
        names: list[str] = [class_names[0]]
    elif isinstance(mix, str):
        names = [mix]
    elif isinstance(mix, Mapping):
        names = [c for c, p in mix.items() if p > 0]
    else:
        names = list(mix)
    unknown = sorted({c for c in names if c not in class_names})
    if unknown:
        raise ModelError(f"arrivals to {stream.to!r}: unknown classes {unknown}")
    return {class_names.index(c) for c in names}


def _check_everyone_can_leave(
    node_names: Sequence[str],
    class_names: Sequence[str],
    kind: IntArray,
    offset: IntArray,
    length: IntArray,
    targets: Sequence[int],
    cumprob: Sequence[float],
) -> None:
    """Running until everyone has left (``until=inf``) never ends if some node has no route out."""
    n_n = len(node_names)
    for c, cname in enumerate(class_names):
        leaves = [False] * n_n
        changed = True
        while changed:
            changed = False
            for a in range(n_n):
                if leaves[a]:
                    continue
                off, ln = int(offset[c, a]), int(length[c, a])
                probs = np.diff(np.concatenate([[0.0], cumprob[off : off + ln]]))
                nxt = [t for t, q in zip(targets[off : off + ln], probs, strict=True) if q > 0]
                if kind[c, a] == ROUTE_EXIT or any(t < 0 or leaves[t] for t in nxt):
                    leaves[a] = changed = True
        stuck = [node_names[a] for a in range(n_n) if not leaves[a]]
        if stuck:
            raise ModelError(
                f"until=inf runs until everyone has left, but class {cname!r} can never leave from {stuck}"
            )


def _expected_visits(
    kind: IntArray, offset: IntArray, length: IntArray, targets: Sequence[int], cumprob: Sequence[float]
) -> FloatArray:
    """Expected number of node visits from each entry node, per class, from the routing matrix
    (``v = (I - P)^-1 1``; state-dependent routes counted as an even split). Only used to size the
    engine's output arrays up front, so a rough answer is fine and the engine grows them if needed."""
    n_c, n_n = kind.shape
    out = np.full((n_c, n_n), 2.0)
    for c in range(n_c):
        p = np.zeros((n_n, n_n))
        for a in range(n_n):
            off, ln, k = int(offset[c, a]), int(length[c, a]), int(kind[c, a])
            if k == ROUTE_EXIT:
                continue
            probs = np.diff(np.concatenate([[0.0], cumprob[off : off + ln]]))
            if k != ROUTE_BRANCH:
                probs = np.full(ln, 1.0 / ln)
            for t, q in zip(targets[off : off + ln], probs, strict=True):
                if t >= 0:
                    p[a, t] += min(float(q), 1.0)
        try:
            v = np.linalg.solve(np.eye(n_n) - p, np.ones(n_n))
        except np.linalg.LinAlgError:
            continue
        if np.all(np.isfinite(v)) and np.all(v >= 1):
            out[c] = np.minimum(v, 100.0)
    return out


def _per_class(
    value: T | Mapping[str, T | None] | None,
    cname: str,
    node: str,
    what: str,
    optional: bool = False,
) -> T | None:
    """The value for class ``cname``: ``value`` itself, or its entry when it is a mapping by class."""
    if isinstance(value, Mapping):
        if cname not in value:
            if optional:
                return None
            raise ModelError(f"node {node!r}: no {what} for class {cname!r}")
        return value[cname]
    if value is None and not optional:
        raise ModelError(f"node {node!r}: {what} is required")
    return value
