"""Rule sets as versioned data: which run lengths and constants a chart uses, and on whose authority.

Each YAML file under ``uec/spc/rulesets/`` is one rule set. Guidance changes over time (the Making
Data Count team changed the two-in-three rule in November 2023), so a chart records the rule set it
was drawn with, and the default is the rule set in force on a date.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from uec.spc.model import SpcError

__all__ = [
    "RuleSet",
    "Source",
    "available_rulesets",
    "default_ruleset",
    "get_ruleset",
    "load_ruleset",
    "ruleset_from_mapping",
]


@dataclass(frozen=True)
class Source:
    """A publication a rule set follows.

    >>> Source("Making data count", "https://www.england.nhs.uk/publication/making-data-count/").title
    'Making data count'
    """

    title: str
    url: str


@dataclass(frozen=True)
class RuleSet:
    """The settings of one version of the special-cause rules.

    >>> rs = get_ruleset("mdc-2018")
    >>> rs.shift_run_length, rs.trend_run_length, rs.limit_multiplier
    (7, 7, 2.66)
    >>> rs.near_limit_multiplier == 2 * (2.66 / 3)
    True
    """

    id: str
    version: str
    title: str
    effective_from: dt.date
    sources: tuple[Source, ...]
    shift_run_length: int
    trend_run_length: int
    limit_multiplier: float
    screen_outliers: bool
    outlier_screen_multiplier: float
    two_in_three_counts_beyond_limits: bool
    recommended_minimum_points: int

    @property
    def near_limit_multiplier(self) -> float:
        """Multiplier of the mean moving range for the 2-sigma line: two thirds of the limits'.

        Computed as NHSRplotthedots does (``2 * (limit / 3)``) so the lines agree to the last bit.

        >>> round(get_ruleset("mdc-2023").near_limit_multiplier, 6)
        1.773333
        """
        return 2 * (self.limit_multiplier / 3)


def _require(mapping: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in mapping:
        raise SpcError(f"rule set {where} has no {key!r}; add it")
    value = mapping[key]
    # bool is an int in Python; a run length of True is a typo, not 1.
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        names = {int: "an integer", str: "a string", bool: "true or false", list: "a list", dict: "a mapping"}
        name = names.get(kind, "a number") if isinstance(kind, type) else "a number"
        raise SpcError(f"rule set {where}: {key!r} is {value!r}, not {name}")
    return value


def ruleset_from_mapping(mapping: Mapping[str, Any], *, where: str = "<mapping>") -> RuleSet:
    """Build and check a :class:`RuleSet` from parsed YAML (or any mapping of the same shape).

    >>> rs = ruleset_from_mapping({
    ...     "id": "local-6", "version": "1.0.0", "title": "Six-point variant",
    ...     "effective_from": "2030-01-01",
    ...     "sources": [{"title": "Local decision", "url": "https://example.org/spc"}],
    ...     "shift_run_length": 6, "trend_run_length": 6, "limit_multiplier": 2.66,
    ...     "outlier_screening": {"default": False, "multiplier": 3.267},
    ...     "two_in_three_counts_beyond_limits": True, "recommended_minimum_points": 12})
    >>> rs.effective_from, rs.shift_run_length
    (datetime.date(2030, 1, 1), 6)
    >>> ruleset_from_mapping({"id": "x"})
    Traceback (most recent call last):
    ...
    uec.spc.model.SpcError: rule set <mapping> has no 'version'; add it
    """
    rid = _require(mapping, "id", str, where)
    version = _require(mapping, "version", str, where)
    title = _require(mapping, "title", str, where)
    raw_date = mapping.get("effective_from")
    if isinstance(raw_date, dt.datetime):
        effective = raw_date.date()
    elif isinstance(raw_date, dt.date):
        effective = raw_date
    elif isinstance(raw_date, str):
        try:
            effective = dt.date.fromisoformat(raw_date)
        except ValueError:
            raise SpcError(f"rule set {where}: effective_from {raw_date!r} is not YYYY-MM-DD") from None
    else:
        raise SpcError(f"rule set {where}: effective_from must be a YYYY-MM-DD date")
    raw_sources = _require(mapping, "sources", list, where)
    if not raw_sources:
        raise SpcError(f"rule set {where}: cite at least one source")
    sources = []
    for s in raw_sources:
        if not isinstance(s, Mapping):
            raise SpcError(f"rule set {where}: each source needs a title and url")
        sources.append(Source(_require(s, "title", str, where), _require(s, "url", str, where)))
    shift = _require(mapping, "shift_run_length", int, where)
    trend = _require(mapping, "trend_run_length", int, where)
    if shift < 2 or trend < 2:
        raise SpcError(f"rule set {where}: run lengths must be at least 2")
    multiplier = float(_require(mapping, "limit_multiplier", (int, float), where))
    screening = _require(mapping, "outlier_screening", dict, where)
    screen_default = _require(screening, "default", bool, where)
    screen_multiplier = float(_require(screening, "multiplier", (int, float), where))
    if multiplier <= 0 or screen_multiplier <= 0:
        raise SpcError(f"rule set {where}: multipliers must be positive")
    beyond = _require(mapping, "two_in_three_counts_beyond_limits", bool, where)
    minimum = _require(mapping, "recommended_minimum_points", int, where)
    return RuleSet(
        id=rid,
        version=version,
        title=title,
        effective_from=effective,
        sources=tuple(sources),
        shift_run_length=shift,
        trend_run_length=trend,
        limit_multiplier=multiplier,
        screen_outliers=screen_default,
        outlier_screen_multiplier=screen_multiplier,
        two_in_three_counts_beyond_limits=beyond,
        recommended_minimum_points=minimum,
    )


def load_ruleset(path: str | Path) -> RuleSet:
    """Read one rule set from a YAML file.

    >>> import tempfile, pathlib
    >>> src = resources.files("uec.spc.rulesets").joinpath("mdc-2018.yaml").read_text()
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = pathlib.Path(d) / "copy.yaml"
    ...     _ = p.write_text(src)
    ...     load_ruleset(p).id
    'mdc-2018'
    """
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SpcError(f"cannot read rule set {p}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise SpcError(f"rule set {p} is not valid YAML: {exc}") from None
    if not isinstance(data, Mapping):
        raise SpcError(f"rule set {p} must be a YAML mapping")
    return ruleset_from_mapping(data, where=str(p.name))


@functools.cache
def available_rulesets() -> tuple[RuleSet, ...]:
    """Every rule set shipped with the package, oldest ``effective_from`` first.

    >>> [(r.id, str(r.effective_from)) for r in available_rulesets()]
    [('mdc-2018', '2018-05-01'), ('mdc-2023', '2023-11-06')]
    """
    found = []
    for entry in resources.files("uec.spc.rulesets").iterdir():
        if entry.name.endswith(".yaml"):
            data = yaml.safe_load(entry.read_text(encoding="utf-8"))
            found.append(ruleset_from_mapping(data, where=entry.name))
    ids = [(r.id, r.version) for r in found]
    if len(set(ids)) != len(ids):
        raise SpcError(f"two shipped rule sets share an id and version: {sorted(ids)}")
    return tuple(sorted(found, key=lambda r: (r.effective_from, r.id, r.version)))


def get_ruleset(ruleset_id: str, version: str | None = None) -> RuleSet:
    """A shipped rule set by id (and version; the latest version if not given).

    >>> get_ruleset("mdc-2023").two_in_three_counts_beyond_limits
    True
    >>> get_ruleset("nope")
    Traceback (most recent call last):
    ...
    uec.spc.model.SpcError: no rule set 'nope'; choose one of: mdc-2018, mdc-2023
    """
    matches = [r for r in available_rulesets() if r.id == ruleset_id and version in (None, r.version)]
    if not matches:
        ids = sorted({r.id for r in available_rulesets()})
        want = ruleset_id if version is None else f"{ruleset_id} version {version}"
        raise SpcError(f"no rule set {want!r}; choose one of: {', '.join(ids)}")
    return max(matches, key=lambda r: tuple(int(p) if p.isdigit() else 0 for p in r.version.split(".")))


def default_ruleset(on: dt.date | None = None) -> RuleSet:
    """The rule set in force on a date: the latest ``effective_from`` on or before it (default today).

    >>> default_ruleset(dt.date(2020, 1, 1)).id
    'mdc-2018'
    >>> default_ruleset(dt.date(2023, 11, 6)).id
    'mdc-2023'
    >>> default_ruleset(dt.date(2000, 1, 1))
    Traceback (most recent call last):
    ...
    uec.spc.model.SpcError: no rule set is in force on 2000-01-01; the earliest starts 2018-05-01
    """
    day = on if on is not None else dt.date.today()
    in_force = [r for r in available_rulesets() if r.effective_from <= day]
    if not in_force:
        earliest = available_rulesets()[0].effective_from
        raise SpcError(f"no rule set is in force on {day}; the earliest starts {earliest}")
    return in_force[-1]
