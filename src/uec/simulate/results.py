"""What one run produces: one row per patient per stage, as NumPy arrays or a pandas table.

Each time a patient joins a node the engine writes a *visit*: when they arrived at the node, when
service started and ended, when they left (later than the end when they were blocked downstream),
the service time drawn, and how the visit ended. A later layer maps visits onto the product's event
contract (an ED attendance's arrival, seen and departure times, "left before treatment" ...).

Times are minutes from the start of the run; ``NaN`` means "had not happened when the run stopped"
(or never will: a patient who reneged has no start).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from uec.simulate._core import BALKED, DONE, RENEGED

__all__ = ["OUTCOMES", "Replications", "SimulationResult"]

#: Visit outcome names, indexed by the codes in :attr:`SimulationResult.outcome` (the engine's
#: WAITING ... BALKED constants, in that order).
OUTCOMES: tuple[str, ...] = ("waiting", "in_service", "blocked", "done", "reneged", "balked")

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Int32Array = npt.NDArray[np.int32]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class SimulationResult:
    """One replication's output.

    Patient arrays (index = patient id, in arrival order): ``arrival``, ``patient_class``.
    Visit arrays (one entry per patient per stage, in the order patients joined nodes): ``patient``,
    ``stage`` (0 = first node visited), ``node``, ``arrive``, ``start``, ``end``, ``depart``,
    ``service`` (drawn duration), ``outcome`` (codes into :data:`OUTCOMES`).
    Resource arrays: ``occupied`` and ``capacity`` in unit-minutes over ``[0, stop]``.
    """

    replication: int
    node_names: tuple[str, ...]
    resource_names: tuple[str, ...]
    class_names: tuple[str, ...]
    stop: float
    arrival: FloatArray
    patient_class: IntArray
    patient: Int32Array
    stage: Int32Array
    node: Int32Array
    arrive: FloatArray
    start: FloatArray
    end: FloatArray
    depart: FloatArray
    service: FloatArray
    outcome: Int32Array
    occupied: FloatArray
    capacity: FloatArray
    finite_resource: tuple[bool, ...]

    @property
    def n_patients(self) -> int:
        """Patients who arrived."""
        return int(self.arrival.size)

    @property
    def reneged(self) -> BoolArray:
        """Per visit: the patient left the queue before service ("left without being seen")."""
        return np.asarray(self.outcome == RENEGED)

    @property
    def balked(self) -> BoolArray:
        """Per visit: turned away on arrival because the node was full."""
        return np.asarray(self.outcome == BALKED)

    def node_id(self, name: str) -> int:
        """Index of the node called ``name``."""
        try:
            return self.node_names.index(name)
        except ValueError:
            raise KeyError(f"no node {name!r}; nodes are {list(self.node_names)}") from None

    def at(self, node: str, patient_class: str | None = None) -> BoolArray:
        """Visit mask: visits to ``node`` (optionally only by one class)."""
        mask = self.node == self.node_id(node)
        if patient_class is not None:
            mask &= self.patient_class[self.patient] == self.class_names.index(patient_class)
        return np.asarray(mask)

    def waits(self, node: str, patient_class: str | None = None) -> FloatArray:
        """Queueing times (start - arrive) of the visits to ``node`` whose service started."""
        mask = self.at(node, patient_class) & ~np.isnan(self.start)
        return np.asarray(self.start[mask] - self.arrive[mask])

    def mean_wait(self, node: str, patient_class: str | None = None) -> float:
        """Mean of :meth:`waits` (NaN if nobody started)."""
        w = self.waits(node, patient_class)
        return float(w.mean()) if w.size else float("nan")

    def utilisation(self) -> dict[str, float]:
        """Occupied unit-minutes over available unit-minutes over ``[0, stop]``, per resource
        (nodes without a resource are left out).

        Units held by blocked patients count as occupied: they cannot serve anyone else. With
        shifts, a service that runs on past the end of a shift counts too, so an overstretched
        pattern can show more than 1.
        """
        return {
            name: float(self.occupied[i] / self.capacity[i]) if self.capacity[i] > 0 else float("nan")
            for i, name in enumerate(self.resource_names)
            if self.finite_resource[i]
        }

    def stage_array(self, column: str) -> FloatArray:
        """A ``(patients, stages)`` array of one visit column: ``"arrive"``, ``"start"``, ``"end"``,
        ``"depart"``, ``"service"``, or (as floats) ``"node"``, ``"outcome"`` or ``"reneged"``;
        ``NaN`` where a patient had no such stage."""
        values = getattr(self, column)
        n_stages = int(self.stage.max()) + 1 if self.stage.size else 0
        out = np.full((self.n_patients, n_stages), np.nan)
        out[self.patient, self.stage] = values
        return out

    def exit_time(self) -> FloatArray:
        """Per patient: when they left the system (``NaN`` if still in it when the run stopped)."""
        last = np.full(self.n_patients, -1, dtype=np.int64)
        # Rows are in time order, so the last row written for a patient is their latest visit.
        last[self.patient] = np.arange(self.patient.size)
        out = np.full(self.n_patients, np.nan)
        seen = last >= 0
        rows = last[seen]
        left = np.isin(self.outcome[rows], (DONE, RENEGED, BALKED))
        out[np.flatnonzero(seen)[left]] = self.depart[rows[left]]
        return out

    def to_arrow(self) -> pa.Table:
        """The visits as an Arrow table (the columns of :meth:`to_pandas`)."""
        return pa.Table.from_pandas(self.to_pandas(), preserve_index=False)

    def to_pandas(self) -> pd.DataFrame:
        """The visits as a table, with node, class and outcome names as categoricals."""
        return pd.DataFrame(
            {
                "patient": self.patient,
                "stage": self.stage,
                "node": pd.Categorical.from_codes(self.node, categories=pd.Index(self.node_names)),
                "patient_class": pd.Categorical.from_codes(
                    self.patient_class[self.patient], categories=pd.Index(self.class_names)
                ),
                "patient_arrival": self.arrival[self.patient],
                "arrive": self.arrive,
                "start": self.start,
                "end": self.end,
                "depart": self.depart,
                "service": self.service,
                "outcome": pd.Categorical.from_codes(self.outcome, categories=pd.Index(OUTCOMES)),
                "reneged": self.reneged,
            }
        )


@dataclass(frozen=True, eq=False)
class Replications:
    """The results of independent replications of one model, in replication order."""

    results: tuple[SimulationResult, ...]
    entropy: int | None = None

    def __len__(self) -> int:
        return len(self.results)

    def __iter__(self) -> Iterator[SimulationResult]:
        return iter(self.results)

    def __getitem__(self, i: int) -> SimulationResult:
        return self.results[i]

    def summarise(self, kpis: Callable[[SimulationResult], Mapping[str, float]]) -> pd.DataFrame:
        """One row per replication of the KPIs that ``kpis`` computes from a result."""
        return pd.DataFrame([dict(kpis(r)) for r in self.results], index=pd.RangeIndex(len(self), name="rep"))

    def to_pandas(self) -> pd.DataFrame:
        """All visits of all replications, with a ``replication`` column."""
        frames = [r.to_pandas().assign(replication=r.replication) for r in self.results]
        return pd.concat(frames, ignore_index=True)
