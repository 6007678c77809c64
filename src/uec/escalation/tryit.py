"""Try an action before taking it: the projection from now with and without the action's change.

An action card may name the scenario change it makes (``scenario:`` on the card, in the vocabulary
of ``uec.system.parse_scenario``: escalation beds, SDEC hours, crews, diversion to urgent community
response, faster readiness to leave). :func:`try_action` projects the organisation (and the rest of
the system) from the same state twice, without and with the change, over the same replications
(the same seeds: common random numbers, so the difference is the action's and not the dice's), and
:meth:`TryIt.rows` gives, at each instant, the score and the probability of each level both ways
and the paired difference with its 95% confidence interval, for the score and every parameter.

>>> t = try_it_example()
>>> r = t.rows()[0]
>>> r["score_difference"], r["p_opel2_without"], r["p_opel2_with"]
(-15.0, 0.5, 0.0)
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from uec.errors import UecError
from uec.escalation.framework import Framework
from uec.escalation.projection import Projection, UnitSamples, project, summary
from uec.standards.periods import LONDON
from uec.store import Store

__all__ = ["TryIt", "paired", "try_action", "try_it_example"]


def paired(without: Sequence[float | None], with_: Sequence[float | None]) -> tuple[float | None, float | None,
                                                                                     float | None]:
    """Mean of ``with - without`` replication by replication, and its 95% confidence interval
    (Student t; ``None`` bounds with fewer than two pairs). Pairs missing either value are dropped.

    >>> paired([1.0, 2.0, 3.0], [2.0, 3.0, 4.0])
    (1.0, 1.0, 1.0)
    >>> paired([1.0, None], [2.0, 5.0])
    (1.0, None, None)
    """
    from uec.system.standards import paired_interval

    pairs = [(a, b) for a, b in zip(without, with_, strict=True) if a is not None and b is not None]
    if not pairs:
        return None, None, None
    iv = paired_interval([a for a, _ in pairs], [b for _, b in pairs])

    def r(x: float) -> float | None:
        return None if math.isnan(x) else round(x, 4)

    return r(iv.mean), r(iv.low), r(iv.high)


@dataclass(frozen=True)
class TryIt:
    """One organisation's projection without and with an action's change."""

    org: str
    changes: Mapping[str, Any]
    card_id: str | None
    without: Projection
    with_: Projection

    def _pair(self, kind: str | None) -> tuple[UnitSamples, UnitSamples]:
        a = self.without.unit(self.org, kind)
        return a, self.with_.unit(self.org, a.kind)

    def rows(self) -> list[dict[str, Any]]:
        """One row per instant: score and level probabilities without and with, and the difference."""
        a, b = self._pair(None)
        out = []
        for k, at in enumerate(self.without.instants):
            pa_ = self.without.at_level(a.code, k, a.kind)
            pb = self.with_.at_level(b.code, k, b.kind)
            s0 = summary([x for x in a.scores[k] if x is not None])
            s1 = summary([x for x in b.scores[k] if x is not None])
            d = paired(a.scores[k], b.scores[k])
            row: dict[str, Any] = {
                "code": a.code, "at": at.astimezone(LONDON).isoformat(),
                "score_without": s0[0], "score_with": s1[0],
                "score_difference": d[0], "difference_low": d[1], "difference_high": d[2],
                "likely_level_without": self.without.likely_level(a.code, k, a.kind),
                "likely_level_with": self.with_.likely_level(b.code, k, b.kind),
            }
            for lv in (1, 2, 3, 4):
                row[f"p_opel{lv}_without"] = round(pa_[lv], 4)
                row[f"p_opel{lv}_with"] = round(pb[lv], 4)
            out.append(row)
        return out

    def parameter_rows(self) -> list[dict[str, Any]]:
        """One row per parameter and instant: the mean without and with, and the paired difference."""
        a, b = self._pair(None)
        out = []
        for pid, by_inst in a.parameters.items():
            other = b.parameters.get(pid)
            if other is None:
                continue
            for k, at in enumerate(self.without.instants):
                x0 = [v for v in by_inst[k] if v is not None]
                x1 = [v for v in other[k] if v is not None]
                d = paired(by_inst[k], other[k])
                out.append({
                    "parameter": pid, "title": a.titles.get(pid, pid), "unit": a.units.get(pid, ""),
                    "at": at.astimezone(LONDON).isoformat(),
                    "without": round(sum(x0) / len(x0), 4) if x0 else None,
                    "with": round(sum(x1) / len(x1), 4) if x1 else None,
                    "difference": d[0], "difference_low": d[1], "difference_high": d[2],
                })
        return out

    def as_dict(self) -> dict[str, Any]:
        rise0, top0 = self.without.rise_probability(self.org)
        rise1, top1 = self.with_.rise_probability(self.org)
        return {
            "org": self.org, "card": self.card_id, "changes": dict(self.changes),
            "as_of": self.without.as_of.astimezone(LONDON).isoformat(),
            "made_at": self.with_.made_at.isoformat(), "hours": self.without.hours,
            "step_hours": self.without.step_hours, "reps": self.without.reps, "seed": self.without.seed,
            "rise_without": {"probability": round(rise0, 4), "level": top0},
            "rise_with": {"probability": round(rise1, 4), "level": top1},
            "rows": self.rows(), "parameters": self.parameter_rows(),
        }


def try_action(  # noqa: PLR0913 - keyword-only run settings, each named at the call
        store: Store, org: str, changes: Mapping[str, Any], *, card_id: str | None = None,
               hours: int = 24, step_hours: int = 4, reps: int = 10, seed: int = 42,
               framework: Framework | None = None, base: Any = None,
               progress: Callable[[int, int], None] | None = None) -> TryIt:
    """Project ``org`` from now without and with ``changes``, over the same replications."""
    from uec.system import current_state, parse_scenario

    if not changes:
        raise UecError("the action names no change to try")
    parse_scenario({"name": card_id or "action", "changes": dict(changes)}, "action")
    state = current_state(store)

    def half(offset: int) -> Callable[[int, int], None] | None:
        if progress is None:
            return None
        return lambda done, total: progress(offset + done, 2 * total)

    kw: dict[str, Any] = {"hours": hours, "step_hours": step_hours, "reps": reps, "seed": seed,
                          "framework": framework, "base": base, "_state": state}
    without = project(store, progress=half(0), **kw)
    without.unit(org)  # an unknown organisation fails before the second half runs
    with_ = project(store, changes=changes, progress=half(reps), **kw)
    return TryIt(org, dict(changes), card_id, without, with_)


def try_it_example() -> TryIt:
    """A hand-made pair of projections of one trust over two replications (for the examples)."""
    at = dt.datetime(2025, 1, 20, 12, tzinfo=dt.UTC)
    inst = (at + dt.timedelta(hours=4),)

    def proj(scores: list[float], levels: list[int | None], changes: dict[str, Any]) -> Projection:
        u = UnitSamples("org", "DEMO-A", "Trust A", [list[float | None](scores)], [levels])
        return Projection(as_of=at, made_at=at, instants=inst, hours=4, step_hours=4, reps=2, seed=1,
                          changes=changes, framework_id="opel-2024-26", units={("org", "DEMO-A"): u},
                          current={("org", "DEMO-A"): 1})

    return TryIt("DEMO-A", {"extra_escalation_beds": 20}, None, proj([20.0, 30.0], [1, 2], {}),
                 proj([5.0, 15.0], [1, 1], {"extra_escalation_beds": 20}))
