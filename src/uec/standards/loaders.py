"""Loaders that turn two published national files into ``returns`` rows the catalogue reads.

``load_ambsys`` reads NHS England's monthly AmbSYS extract (``Year, Month, Region, Org Code, Org
Name, A0 … A122``, ``.`` for missing) into metric codes ``ambsys_<field>``, source ``ambsys``.
``load_kh03`` reads the quarterly KH03 overnight-beds series (``fin_year, quarter, org_name,
available_*, occupied_*``) into ``kh03_<measure>`` codes, source ``kh03``; England is ``Eng``.

They append in one store transaction and do no quarantine bookkeeping: they are for the published
files the golden tests use, not a general ingest path.

>>> import tempfile, os, pathlib
>>> from uec.store import open_store
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "a.csv").write_text("Year,Month,Region,Org Code,Org Name,A7,A8\\n2019,12,Eng,Eng,England,790294,.\\n")
>>> store = open_store(str(d / "s.duckdb"))
>>> load_ambsys(store, d / "a.csv", actor="cli:alice")
1
>>> [(e.action, e.actor, e.object_id) for e in audit.entries(store)]  # audited with the load
[('returns.load', 'cli:alice', 'ambsys')]
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa

from uec.access import audit
from uec.contract import table
from uec.errors import UecError
from uec.store import Store

__all__ = ["KH03_MEASURES", "ambsys_rows", "kh03_rows", "load_ambsys", "load_kh03"]

#: KH03 columns read, by the metric code they become (average daily beds).
KH03_MEASURES: dict[str, str] = {
    "kh03_ga_available": "available_general_acute",
    "kh03_ga_occupied": "occupied_general_acute",
    "kh03_total_available": "available_total",
    "kh03_total_occupied": "occupied_total",
}

_QUARTER_MONTH = {"Q1": 4, "Q2": 7, "Q3": 10, "Q4": 1}

Record = dict[str, object]


def _read(path: Path | str) -> list[dict[str, str]]:
    p = Path(path)
    if not p.is_file():
        raise UecError(f"no such file: {p}")
    with p.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def _number(text: str | None) -> float | None:
    if text is None or text.strip() in ("", ".", "NA"):
        return None
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return None


def ambsys_rows(records: Iterable[dict[str, str]], orgs: Iterable[str] | None = None) -> list[Record]:
    """``returns`` records from AmbSYS CSV records: one per organisation, month and non-missing field.

    >>> ambsys_rows([{"Year": "2019", "Month": "12", "Org Code": "Eng", "A8": "70232", "A9": "."}])[0]["metric_code"]
    'ambsys_A8'
    """
    keep = set(orgs) if orgs is not None else None
    out: list[Record] = []
    for r in records:
        org = (r.get("Org Code") or "").strip()
        if not org or (keep is not None and org not in keep):
            continue
        try:
            start = dt.date(int(r["Year"]), int(r["Month"]), 1)
        except (KeyError, ValueError):
            raise UecError(f"AmbSYS row for {org!r} has no valid Year and Month") from None
        for key, text in r.items():
            if not (key and key.startswith("A") and key[1:].isdigit()):
                continue
            value = _number(text)
            if value is not None:
                out.append({"org_code": org, "period_start": start, "period_length": "month",
                            "metric_code": f"ambsys_{key}", "value": value, "source": "ambsys"})
    return out


def kh03_rows(records: Iterable[dict[str, str]]) -> list[Record]:
    """``returns`` records from the KH03 quarterly series (financial-year quarters; Q1 starts 1 April).

    >>> kh03_rows([{"fin_year": "2021/22", "quarter": "Q4", "org_name": "England",
    ...             "available_general_acute": "101970", "occupied_general_acute": "91102.5"}])[0]["period_start"]
    datetime.date(2022, 1, 1)
    """
    out: list[Record] = []
    for r in records:
        try:
            year = int(r["fin_year"][:4])
            month = _QUARTER_MONTH[r["quarter"].strip()]
        except (KeyError, ValueError):
            raise UecError(
                f"KH03 row has no valid fin_year and quarter: {r.get('fin_year')} {r.get('quarter')}"
            ) from None
        start = dt.date(year + (1 if month == 1 else 0), month, 1)
        name = (r.get("org_name") or "").strip()
        org = "Eng" if name == "England" else name
        for code, column in KH03_MEASURES.items():
            value = _number(r.get(column))
            if value is not None:
                out.append({"org_code": org, "period_start": start, "period_length": "quarter",
                            "metric_code": code, "value": value, "source": "kh03"})
    return out


def _append(store: Store, records: list[Record], source: str, actor: audit.Actor) -> int:
    schema = table("returns").arrow_schema()
    data = pa.table({f.name: pa.array([r[f.name] for r in records], f.type) for f in schema})
    with store.write() as w:
        w.append("returns", data)
        audit.record(w, actor=actor, action="returns.load", object_type="returns", object_id=source, before=None,
                     after={"source": source, "rows": len(records)}, request_id=None)
    return len(records)


def load_ambsys(store: Store, path: Path | str, *, orgs: Iterable[str] | None = None,
                actor: audit.Actor = None) -> int:
    """Append an AmbSYS CSV (optionally only some org codes) to ``returns``; the rows added.

    Load only the codes you mean to add up: the file holds England, the regions and the trusts, so
    an ICS-level total over all of them would count every incident three times.
    """
    return _append(store, ambsys_rows(_read(path), orgs), "ambsys", actor)


def load_kh03(store: Store, path: Path | str, *, actor: audit.Actor = None) -> int:
    """Append the KH03 quarterly series to ``returns``; the rows added (audited, ``returns.load``)."""
    return _append(store, kh03_rows(_read(path)), "kh03", actor)
