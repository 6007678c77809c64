"""Areas: which organisations' returns make an area's total, and which are missing.

Aggregate returns come at several levels at once: AmbSYS has a row for England, one for each NHS
England region and one for each ambulance trust; KH03 and the sitreps have England rows beside the
trusts'. Adding every row up counts the same activity two or three times. An area's total is
therefore made from the organisation hierarchy (``org_hierarchy``, loaded from the Organisation
Data Service) and never adds a parent to its children:

- an organisation's total (``--org`` an ICB, a region, England) is its own row where the return has
  one, and otherwise the totals of the organisations one level down, recursively;
- the whole store's total (the ICS level) adds up only the leaves: organisations that are nobody's
  parent (or, when the store holds only totals, the topmost of them);

and each total says, for each period, which members it includes and which are missing (a member
that sends this return in other periods, is open in this one and has no row in it), and which part
periods have no return at all (a quarter made from two of its three months).

England and the NHS England regions are known without any hierarchy loaded, so a bare store of
AmbSYS returns does not triple-count.

>>> h = Hierarchy.build([("QJK", "NHS Devon ICB", "icb", "Y58", "Y58", None, None),
...                      ("RA9", "Torbay", "trust", "QJK", "Y58", None, None),
...                      ("RK9", "Plymouth", "trust", "QJK", "Y58", None, None)])
>>> h.is_area("QJK"), h.is_area("Eng"), h.is_area("RA9")
(True, True, False)
>>> h.lineage("RA9")
['RA9', 'QJK', 'Y58', 'Eng']
>>> m = h.members("QJK", dt.date(2022, 1, 1), dt.date(2022, 2, 1), present={"RA9"}, expected={"RA9", "RK9"})
>>> (m.basis, m.included, m.missing)
('members', ('RA9',), ('RK9',))
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["AGGREGATES", "ENGLAND", "Hierarchy", "Members", "Membership"]

#: England's own code in the store: AmbSYS and KH03 (England by name) use ``Eng``.
ENGLAND = "Eng"

#: Codes of rows that are totals of other rows, known without a hierarchy: England as the national
#: returns write it (AmbSYS and KH03 ``Eng``; the winter sitrep's ``ENG`` and its type 1 subset
#: ``ENG_TYPE1``, named by uec.ingest from the file's ``level``, which is part of ``ENG``; the ONS
#: code for England), and the
#: NHS England regions by their ODS codes (the seven regions since April 2020, Y56 and Y58-Y63,
#: and the four of 2013-2018, Y54-Y57). Source: NHS England Organisation Data Service, "NHS England
#: (Region)" organisations (OGL v3.0); the region codes are the ``National Grouping`` of the ODS
#: trust files and AmbSYS's ``Region`` column.
AGGREGATES: dict[str, tuple[str, str, str | None]] = {
    "Eng": ("England", "country", None),
    "ENG": ("England", "country", None),
    "ENG_TYPE1": ("England, type 1 departments", "country", "ENG"),
    "E92000001": ("England", "country", None),
    "Y54": ("North of England", "region", "Eng"),
    "Y55": ("Midlands and East of England", "region", "Eng"),
    "Y56": ("London", "region", "Eng"),
    "Y57": ("South of England", "region", "Eng"),
    "Y58": ("South West", "region", "Eng"),
    "Y59": ("South East", "region", "Eng"),
    "Y60": ("Midlands", "region", "Eng"),
    "Y61": ("East of England", "region", "Eng"),
    "Y62": ("North West", "region", "Eng"),
    "Y63": ("North East and Yorkshire", "region", "Eng"),
}

_AREA_ROLES = ("country", "region", "icb")

#: One ``org_hierarchy`` row: code, name, role, parent code, region code, open date, close date.
HierarchyRow = tuple[str, str | None, str | None, str | None, str | None, dt.date | None, dt.date | None]


@dataclass(frozen=True)
class _Node:
    code: str
    name: str
    role: str
    parent: str | None
    opened: dt.date | None = None
    closed: dt.date | None = None


@dataclass(frozen=True)
class Members:
    """An area's members for one period: how its total is made, who is in it and who is missing."""

    basis: Literal["own row", "members"]
    included: tuple[str, ...]
    missing: tuple[str, ...]


@dataclass(frozen=True)
class Membership:
    """What one area total over returns includes for one period (the ``members`` of a result).

    ``code`` is the area (``None`` for the whole store, the ICS level). ``basis`` is ``own row``
    (the area's own return) or ``members`` (the sum of its members' returns). ``missing`` are
    members that send this return but have no row in the period; ``partial`` maps a member to the
    part periods it lacks (a month of a quarter); ``incomplete`` are part periods no member has.
    """

    code: str | None
    period_start: dt.date
    basis: Literal["own row", "members"]
    included: tuple[str, ...]
    missing: tuple[str, ...] = ()
    partial: Mapping[str, tuple[dt.date, ...]] = field(default_factory=dict)
    incomplete: tuple[dt.date, ...] = ()

    @property
    def complete(self) -> bool:
        return not (self.missing or self.partial or self.incomplete)

    def describe(self, names: Mapping[str, str] | None = None) -> str:
        """One line for people.

        >>> Membership("QJK", dt.date(2022, 1, 1), "members", ("RA9", "RH8"), ("RK9",)).describe()
        'QJK, period from 2022-01-01: sum of 2 of 3 members (RA9, RH8); missing RK9'
        """
        def name(c: str) -> str:
            n = (names or {}).get(c)
            return f"{c} ({n})" if n and n != c else c

        where = f"{self.code or 'the whole store'}, period from {self.period_start.isoformat()}"
        if self.basis == "own row":
            text = f"{where}: its own row (not the sum of its members)"
        else:
            total = len(self.included) + len(self.missing)
            text = f"{where}: sum of {len(self.included)} of {total} members ({', '.join(self.included)})"
        if self.missing:
            text += "; missing " + ", ".join(name(c) for c in self.missing)
        for c, days in sorted(self.partial.items()):
            text += f"; {name(c)} lacks " + ", ".join(d.isoformat() for d in days)
        if self.incomplete:
            text += "; incomplete: no return for " + ", ".join(d.isoformat() for d in self.incomplete)
        return text

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code, "period_start": self.period_start.isoformat(), "basis": self.basis,
            "included": list(self.included), "missing": list(self.missing),
            "partial": {c: [d.isoformat() for d in days] for c, days in sorted(self.partial.items())},
            "incomplete": [d.isoformat() for d in self.incomplete], "complete": self.complete,
        }


class Hierarchy:
    """Organisations and the one above each: the loaded ``org_hierarchy`` over the built-in England
    and NHS England regions. A code named only as a parent (an ICB in the trusts file) is an
    implicit area, placed under the region of the organisations that name it."""

    def __init__(self, nodes: dict[str, _Node]) -> None:
        self._nodes = nodes
        self._children: dict[str, list[str]] = defaultdict(list)
        for n in nodes.values():
            if n.parent is not None and n.parent != n.code:
                self._children[n.parent].append(n.code)
        for kids in self._children.values():
            kids.sort()

    @classmethod
    def build(cls, rows: Iterable[HierarchyRow]) -> Hierarchy:
        nodes: dict[str, _Node] = {
            code: _Node(code, name, role, parent) for code, (name, role, parent) in AGGREGATES.items()
        }
        implicit: dict[str, str | None] = {}
        for code, name, role, parent, region, opened, closed in rows:
            up = parent or (region if role in ("trust", "icb") else ENGLAND if role == "region" else None)
            nodes[code] = _Node(code, name or code, role or "trust", up if up != code else None, opened, closed)
            if parent and region and parent != region:
                implicit.setdefault(parent, region)
        for code, region in implicit.items():
            if code not in nodes:
                nodes[code] = _Node(code, code, "icb", region)
        return cls(nodes)

    def name(self, code: str) -> str:
        n = self._nodes.get(code)
        return n.name if n else code

    def names(self, roles: Iterable[str] | None = None) -> dict[str, str]:
        """Code -> name of every organisation known (of the given roles)."""
        keep = None if roles is None else set(roles)
        return {c: n.name for c, n in self._nodes.items() if keep is None or n.role in keep}

    def children(self, code: str) -> list[str]:
        return self._children.get(code, [])

    def is_area(self, code: str) -> bool:
        """Whether ``code`` is a total of other organisations (has members, or is an ICB, region or country)."""
        n = self._nodes.get(code)
        return bool(self._children.get(code)) or (n is not None and n.role in _AREA_ROLES)

    def lineage(self, code: str) -> list[str]:
        """``code`` and the organisations above it, nearest first."""
        out = [code]
        while (n := self._nodes.get(out[-1])) is not None and n.parent is not None and n.parent not in out:
            out.append(n.parent)
        return out

    def below(self, code: str) -> set[str]:
        """Every organisation under ``code`` (not ``code`` itself)."""
        out: set[str] = set()
        todo = list(self.children(code))
        while todo:
            c = todo.pop()
            if c not in out:
                out.add(c)
                todo.extend(self.children(c))
        return out

    def open_during(self, code: str, start: dt.date, end: dt.date) -> bool:
        """Whether ``code`` was open at some time in ``[start, end)`` (unknown dates count as open)."""
        n = self._nodes.get(code)
        if n is None:
            return True
        return (n.opened is None or n.opened < end) and (n.closed is None or n.closed >= start)

    def members(self, area: str | None, start: dt.date, end: dt.date, *, present: set[str],
                expected: set[str]) -> Members:
        """How the total of ``area`` (``None``: every leaf) is made for the period ``[start, end)``.

        ``present`` holds the codes with a row in the period, ``expected`` those that send the
        return at all (in any period). An organisation uses its own row where it has one and is
        otherwise the total of the organisations one level down; the whole store adds up leaves.

        >>> h = Hierarchy.build([])
        >>> m = h.members(None, dt.date(2019, 12, 1), dt.date(2020, 1, 1), present={"Eng", "Y58", "RYF", "RX9"},
        ...               expected={"Eng", "Y58", "RYF", "RX9", "RYA"})
        >>> (m.basis, m.included, m.missing)
        ('members', ('RX9', 'RYF'), ('RYA',))
        >>> h.members("Eng", dt.date(2019, 12, 1), dt.date(2020, 1, 1), present={"Eng", "Y58"}, expected={"Eng"}).basis
        'own row'
        """
        if area is None:
            reporters = expected | present
            # A leaf is a reporter nobody else reports under (a trust with sites in the hierarchy
            # but returns only at trust level is still a leaf), and never a built-in aggregate.
            above = {a for r in reporters for a in self.lineage(r)[1:]}
            leaves = {c for c in reporters if c not in above and c not in AGGREGATES}
            if not leaves:
                # Only totals were sent (KH03's England row alone): the top ones, none under another.
                leaves = {c for c in reporters if not set(self.lineage(c)[1:]) & reporters}
            included = leaves & present
            missing = {c for c in (leaves & expected) - present if self.open_during(c, start, end)}
            return Members("members", tuple(sorted(included)), tuple(sorted(missing)))
        if area in present:
            return Members("own row", (area,), ())
        inc: set[str] = set()
        miss: set[str] = set()
        self._walk(area, start, end, present, expected, inc, miss, seen=set())
        return Members("members", tuple(sorted(inc)), tuple(sorted(miss)))

    def _walk(self, code: str, start: dt.date, end: dt.date, present: set[str], expected: set[str],
              inc: set[str], miss: set[str], seen: set[str]) -> None:
        for c in self.children(code):
            if c in seen:
                continue
            seen.add(c)
            if c in present:
                inc.add(c)
                continue
            before, below_missing = len(inc), set[str]()
            if self.children(c):
                self._walk(c, start, end, present, expected, inc, below_missing, seen)
            if len(inc) == before and c in expected and self.open_during(c, start, end):
                # Nothing under it reported either: the member missing is the organisation itself.
                miss.add(c)
            else:
                miss |= below_missing
