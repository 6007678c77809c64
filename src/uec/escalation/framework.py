"""OPEL frameworks as typed, frozen values read from reviewed YAML.

A framework version (``frameworks/opel-2024-26.yaml``) names its provider types ("pillars"), their
parameters with thresholds and weights, how points become a score and a score a level, and how
organisation scores aggregate to pillars and the ICS. An ICS's local framework is a second file
that names only what it changes: it is deep-merged onto the national one (parameters by ``id``) and
the result is checked as a whole, so a typo in either fails loudly instead of dropping a rule.

>>> fw = load_framework()
>>> fw.id, fw.version
('opel-2024-26', '2024-26.1')
>>> fw.parameter("acute-4hr").level_of(0.65)
3
>>> fw.level_for_score(51.0)
3
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterator, Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from uec.errors import UecError

__all__ = [
    "Aggregation",
    "Framework",
    "FrameworkError",
    "Level",
    "LevelBand",
    "Parameter",
    "ProviderType",
    "load_framework",
    "merge_frameworks",
]

#: The framework used when none is named.
DEFAULT_FRAMEWORK = "opel-2024-26"

Level = Literal[1, 2, 3, 4]
LEVELS: tuple[Level, ...] = (1, 2, 3, 4)


class FrameworkError(UecError):
    """A framework file is malformed: one line saying which file and what is wrong."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Model):
    """The publication a framework version transcribes."""

    title: str
    publisher: str
    year: int
    url: str | None = None
    reference: str | None = None
    verified: bool = False
    note: str | None = None

    def citation(self) -> str:
        ref = f", {self.reference}" if self.reference else ""
        return f"{self.title} ({self.publisher}, {self.year}{ref})"


class EventsRecipe(_Model):
    """How a parameter comes from events: a measure of :mod:`uec.escalation.queries`, or why it cannot."""

    measure: str | None = None
    missing: str | None = None
    #: A second measure used where ``measure`` has nothing for the unit (a site that sends no
    #: specialty referrals is judged by its decisions to admit instead).
    fallback: str | None = None

    @model_validator(mode="after")
    def _one(self) -> EventsRecipe:
        if (self.measure is None) == (self.missing is None):
            raise ValueError(
                "events needs exactly one of 'measure' (a query measure) or 'missing' (what data is absent)")
        if self.measure is not None:
            from uec.escalation.queries import MEASURES

            for m in (self.measure, self.fallback):
                if m is not None and m not in MEASURES:
                    raise ValueError(f"unknown events measure {m!r}; known: {', '.join(sorted(MEASURES))}")
        elif self.fallback is not None:
            raise ValueError("events 'fallback' needs a 'measure'")
        return self


class ReturnsRecipe(_Model):
    """How a parameter comes from the ``returns`` table: one ``metric_code`` (source ``opel``, daily)."""

    metric: str


class Parameter(_Model):
    """One OPEL parameter: what it measures, how it is computed, and its thresholds for OPEL 2-4.

    ``direction`` says which way is worse: ``higher`` (a value at or above a threshold reaches that
    level) or ``lower`` (at or below).
    """

    id: str
    title: str
    definition: str
    unit: Literal["minutes", "proportion", "count"]
    direction: Literal["higher", "lower"]
    weight: float = Field(gt=0)
    standard: str | None = None
    events: EventsRecipe
    returns: ReturnsRecipe
    thresholds: dict[Literal[2, 3, 4], float]
    verified: bool = False
    reasoning: str | None = None

    @model_validator(mode="after")
    def _check(self) -> Parameter:
        if sorted(self.thresholds) != [2, 3, 4]:
            raise ValueError(f"parameter {self.id}: thresholds must give levels 2, 3 and 4")
        t2, t3, t4 = (self.thresholds[k] for k in (2, 3, 4))
        ordered = t2 <= t3 <= t4 if self.direction == "higher" else t2 >= t3 >= t4
        if not ordered:
            raise ValueError(
                f"parameter {self.id}: thresholds must get worse from level 2 to 4 ({self.direction} is worse)")
        if not self.verified and not self.reasoning:
            raise ValueError(f"parameter {self.id}: an unverified parameter needs its reasoning")
        if self.standard is not None:
            from uec.standards import catalogue

            if self.standard not in catalogue().ids:
                raise ValueError(f"parameter {self.id}: unknown standard {self.standard!r}")
        return self

    def crossed(self, value: float) -> list[tuple[int, float]]:
        """The (level, threshold) pairs ``value`` reaches, lowest level first.

        >>> load_framework().parameter("acute-ga-occupancy").crossed(0.96)
        [(2, 0.92), (3, 0.95)]
        """
        out: list[tuple[int, float]] = []
        for level in (2, 3, 4):
            t = self.thresholds[level]
            if (value >= t) if self.direction == "higher" else (value <= t):
                out.append((level, t))
        return out

    def level_of(self, value: float) -> int:
        """The parameter's level (1-4) for a value.

        >>> load_framework().parameter("acute-handover-mean").level_of(14.9)
        1
        """
        crossed = self.crossed(value)
        return crossed[-1][0] if crossed else 1


class ProviderType(_Model):
    """A pillar: the kind of provider, which organisations and sites it covers, and its parameters."""

    title: str
    org_types: tuple[str, ...] = ()
    site_types: tuple[str, ...] = ()
    parameters: tuple[Parameter, ...]


class LevelBand(_Model):
    level: Level
    min_score: float = Field(ge=0, le=100)
    label: str
    meaning: str
    verified: bool = False
    reasoning: str | None = None


class Aggregation(_Model):
    method: Literal["mean", "max"]
    verified: bool = False
    reasoning: str | None = None

    def combine(self, scores: list[float]) -> float | None:
        """The pillar's or the ICS's score from its members' (``None`` when none has one).

        >>> Aggregation(method="mean").combine([20.0, 40.0]), Aggregation(method="max").combine([20.0, 40.0])
        (30.0, 40.0)
        """
        if not scores:
            return None
        return max(scores) if self.method == "max" else sum(scores) / len(scores)


class Aggregations(_Model):
    pillar: Aggregation
    ics: Aggregation


class Framework(_Model):
    """A dated, cited, versioned OPEL framework (national, or national with local overrides)."""

    id: str
    title: str
    version: str
    effective_from: dt.date
    effective_to: dt.date | None = None
    source: Source
    extends: str | None = None
    local: tuple[str, ...] = ()
    points: dict[Level, float]
    points_verified: bool = False
    levels: tuple[LevelBand, ...]
    aggregation: Aggregations
    provider_types: dict[Literal["acute", "community", "mental_health", "nhs111"], ProviderType]

    @model_validator(mode="after")
    def _check(self) -> Framework:
        if sorted(self.points) != [1, 2, 3, 4]:
            raise ValueError("points must be given for levels 1, 2, 3 and 4")
        if [b.level for b in self.levels] != [1, 2, 3, 4] or self.levels[0].min_score != 0:
            raise ValueError("levels must list OPEL 1-4 in order, OPEL 1 from score 0")
        if any(a.min_score >= b.min_score for a, b in zip(self.levels, self.levels[1:], strict=False)):
            raise ValueError("level bands' min_score must rise from OPEL 1 to OPEL 4")
        seen: set[str] = set()
        for p in self.parameters():
            if p.id in seen:
                raise ValueError(f"parameter id {p.id!r} appears twice")
            seen.add(p.id)
        return self

    def parameters(self) -> Iterator[Parameter]:
        for pt in self.provider_types.values():
            yield from pt.parameters

    def parameter(self, pid: str) -> Parameter:
        for p in self.parameters():
            if p.id == pid:
                return p
        raise UecError(f"unknown OPEL parameter {pid!r}")

    def provider_type_of(self, pid: str) -> str:
        for name, pt in self.provider_types.items():
            if any(p.id == pid for p in pt.parameters):
                return name
        raise UecError(f"unknown OPEL parameter {pid!r}")

    def max_points(self) -> float:
        return self.points[4]

    def level_for_score(self, score: float) -> int:
        """The level whose band the score reaches."""
        level = 1
        for band in self.levels:
            if score >= band.min_score:
                level = band.level
        return level

    def in_force(self, day: dt.date) -> bool:
        """Whether the framework's dates cover ``day`` (``effective_to`` inclusive).

        >>> load_framework().in_force(dt.date(2025, 1, 1))
        True
        """
        return day >= self.effective_from and (self.effective_to is None or day <= self.effective_to)


# --- loading ------------------------------------------------------------------------------------


def merge_frameworks(base: Mapping[str, Any], local: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge a local framework onto a base: mappings key by key, parameter lists by ``id``.

    A parameter the local file names replaces only the keys it gives; a new ``id`` is added.
    Other lists (levels, org types) are replaced whole.

    >>> base = {"provider_types": {"acute": {"parameters": [{"id": "a", "weight": 1, "title": "A"}]}}}
    >>> merged = merge_frameworks(base, {"provider_types": {"acute": {"parameters": [{"id": "a", "weight": 2}]}}})
    >>> merged["provider_types"]["acute"]["parameters"]
    [{'id': 'a', 'weight': 2, 'title': 'A'}]
    """
    out = copy.deepcopy(dict(base))
    for key, value in local.items():
        old = out.get(key)
        if key == "parameters" and isinstance(old, list) and isinstance(value, list):
            by_id = {p.get("id"): i for i, p in enumerate(old) if isinstance(p, dict)}
            merged = list(old)
            for p in value:
                if not isinstance(p, dict) or "id" not in p:
                    raise FrameworkError("each local parameter must be a mapping with an 'id'")
                if p["id"] in by_id:
                    merged[by_id[p["id"]]] = merge_frameworks(merged[by_id[p["id"]]], p)
                else:
                    merged.append(copy.deepcopy(p))
            out[key] = merged
        elif isinstance(old, dict) and isinstance(value, dict):
            out[key] = merge_frameworks(old, value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _read_yaml(text: str, where: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise FrameworkError(f"{where} is not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise FrameworkError(f"{where} must hold a mapping at the top level")
    return data


def _national(name: str) -> dict[str, Any]:
    path = resources.files("uec.escalation") / "frameworks" / f"{name}.yaml"
    if not path.is_file():
        folder = resources.files("uec.escalation") / "frameworks"
        known = sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))
        raise FrameworkError(f"unknown framework {name!r}; known: {', '.join(known)}")
    return _read_yaml(path.read_text(encoding="utf-8"), f"framework {name}")


def _validate(data: Mapping[str, Any], where: str) -> Framework:
    try:
        return Framework.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(x) for x in first["loc"])
        msg = first["msg"].removeprefix("Value error, ")
        raise FrameworkError(f"{where}: {loc + ': ' if loc else ''}{msg}") from None


@cache
def _cached(name: str) -> Framework:
    return _validate(_national(name), f"framework {name}")


def load_framework(path: str | Path | None = None) -> Framework:
    """The national framework, or a local framework file merged onto the one it ``extends``.

    A local file needs ``extends`` (a national framework id, default ``opel-2024-26``) and may give
    any part of a framework; it must give its own ``id`` and ``version`` so results say which rules
    produced them.

    >>> load_framework().provider_types["acute"].parameters[0].id
    'acute-handover-mean'
    """
    if path is None:
        return _cached(DEFAULT_FRAMEWORK)
    p = Path(path)
    if not p.is_file():
        raise FrameworkError(f"framework file {str(p)!r} not found")
    local = _read_yaml(p.read_text(encoding="utf-8"), f"framework file {p.name}")
    base_name = str(local.pop("extends", DEFAULT_FRAMEWORK))
    for key in ("id", "version"):
        if key not in local:
            raise FrameworkError(f"framework file {p.name}: a local framework must give its own {key!r}")
    merged = merge_frameworks(_national(base_name), local)
    merged["extends"] = base_name
    merged["local"] = [p.name]
    return _validate(merged, f"framework file {p.name} (merged onto {base_name})")
