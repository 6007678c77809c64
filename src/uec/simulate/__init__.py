"""A fast discrete-event engine for queueing networks of urgent and emergency care.

Describe the system with typed dataclasses (nodes, resources, shifts, routes, patient classes,
arrivals); the description compiles to flat arrays that a numba-compiled event loop runs, about
two orders of magnitude faster than an equivalent SimPy model (see ``bench/sim_vs_simpy.py`` and
``docs/simulation.md``). Time is in minutes; arrival rates are per hour.

A small emergency department: two triage categories sharing a pool of clinicians whose numbers
follow the time of day, patients who give up waiting, and admissions that wait in the department
for a ward bed (blocking the cubicle) when the ward is full.

>>> from uec.simulate import (
...     Branch, Exponential, Lognormal, Model, Next, Node, PatientClass, PoissonArrivals, RateTable,
...     Resource, Shifts, run_replications,
... )
>>> ed = Model(
...     classes=[PatientClass("urgent", priority=1), PatientClass("minor", priority=2)],
...     resources=[
...         Resource("clinician", Shifts.daily({"08:00": 4, "22:00": 2})),
...         Resource("bed", 60),
...     ],
...     nodes=[
...         Node("assessment", service=Exponential(20.0), resource="clinician",
...              patience={"minor": Exponential(240.0)},
...              routing={"urgent": Branch({"ward": 0.4, "exit": 0.6}), "minor": Next("exit_desk")}),
...         Node("exit_desk", service=Exponential(1.0)),
...         Node("ward", service=Lognormal(mean=2.5 * 1440.0, sd=1440.0), resource="bed", buffer=0),
...     ],
...     arrivals=[PoissonArrivals(RateTable.hour_of_day([3.0] * 8 + [9.0] * 14 + [5.0] * 2),
...                               to="assessment", classes={"urgent": 0.3, "minor": 0.7})],
...     horizon=28 * 1440.0,
... )
>>> reps = run_replications(ed, reps=3, seed=2024)
>>> first = reps[0]
>>> sorted(first.utilisation())
['bed', 'clinician']
>>> table = first.to_pandas()  # one row per patient per node visited
>>> list(table.columns[:4])
['patient', 'stage', 'node', 'patient_class']
>>> left = table[table.reneged]  # left without being seen: only minors have a patience limit
>>> sorted(set(left.patient_class)), len(left) > 0
(['minor'], True)
>>> first.stage_array("start").shape == (first.n_patients, 2)  # patients x stages (2 nodes at most)
True
"""

from __future__ import annotations

from uec.simulate.arrivals import (
    Arrivals,
    PoissonArrivals,
    Profile,
    RateTable,
    SampledArrivals,
    ScheduledArrivals,
)
from uec.simulate.distributions import (
    Deterministic,
    Distribution,
    Empirical,
    Erlang,
    Exponential,
    Gamma,
    Lognormal,
    Normal,
    Triangular,
    Uniform,
)
from uec.simulate.model import (
    EXIT,
    Branch,
    CompiledModel,
    Exit,
    Model,
    ModelError,
    Next,
    Node,
    Overflow,
    PatientClass,
    Resource,
    Route,
    Shifts,
    ShortestQueue,
)
from uec.simulate.results import OUTCOMES, Replications, SimulationResult
from uec.simulate.runner import run_replications, simulate
from uec.simulate.theory import QueueMetrics, erlang_b, erlang_c, mmc, mmc_abandonment

__all__ = [
    "EXIT",
    "OUTCOMES",
    "Arrivals",
    "Branch",
    "CompiledModel",
    "Deterministic",
    "Distribution",
    "Empirical",
    "Erlang",
    "Exit",
    "Exponential",
    "Gamma",
    "Lognormal",
    "Model",
    "ModelError",
    "Next",
    "Node",
    "Normal",
    "Overflow",
    "PatientClass",
    "PoissonArrivals",
    "Profile",
    "QueueMetrics",
    "RateTable",
    "Replications",
    "Resource",
    "Route",
    "SampledArrivals",
    "ScheduledArrivals",
    "Shifts",
    "ShortestQueue",
    "SimulationResult",
    "Triangular",
    "Uniform",
    "erlang_b",
    "erlang_c",
    "mmc",
    "mmc_abandonment",
    "run_replications",
    "simulate",
]
