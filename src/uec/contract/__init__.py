"""The event contract: every table the store holds, described as data.

The contract lives in ``contract.yaml`` beside this module. This module reads it once into frozen,
typed values so that the rest of the product (ingest, store, demo, web, docs) asks one place what a
table's fields are.

>>> attendances = table("attendances")
>>> attendances.key
('attendance_id',)
>>> attendances.field("acuity").max
5
>>> table_for_kind("ambulance-incidents").name
'ambulance_incidents'
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal, get_args

import yaml

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "EARLIEST_YEAR",
    "LOCAL_TIME_ZONE",
    "Collection",
    "Contract",
    "ContractError",
    "Field",
    "FieldType",
    "Pattern",
    "Table",
    "collection",
    "collections",
    "contract",
    "kind_name",
    "reference_markdown",
    "table",
    "table_for_kind",
    "tables",
]

FieldType = Literal["string", "code", "integer", "number", "boolean", "instant", "date"]
Grain = Literal["reference", "event", "return"]
PeriodLength = Literal["day", "week", "month", "quarter", "year"]

#: Local time for people; the store keeps UTC instants.
LOCAL_TIME_ZONE = "Europe/London"
#: Instants and dates before this year are taken as mistakes (0001-01-01, a two-digit year): the
#: national emergency care datasets this product reads start well after it. Ingest quarantines them;
#: commands and pages refuse ranges that start before it.
EARLIEST_YEAR = 1990

# One SQL type per contract type that both DuckDB and PostgreSQL accept, so the store has one DDL.
_SQL_TYPES: dict[str, str] = {
    "string": "VARCHAR",
    "code": "VARCHAR",
    "integer": "BIGINT",
    "number": "DOUBLE PRECISION",
    "boolean": "BOOLEAN",
    "instant": "TIMESTAMP WITH TIME ZONE",
    "date": "DATE",
}


@cache
def _arrow_types() -> dict[str, pa.DataType]:
    # Arrow is imported when a type is first asked for: reading the contract (`uec --help`, the
    # glossary, the docs) needs none of it, and pyarrow takes a noticeable part of a second.
    import pyarrow as pa

    return {
        "string": pa.string(),
        "code": pa.string(),
        "integer": pa.int64(),
        "number": pa.float64(),
        "boolean": pa.bool_(),
        "instant": pa.timestamp("us", tz="UTC"),
        "date": pa.date32(),
    }


class ContractError(ValueError):
    """The contract file itself is malformed (a developer error, caught by the tests)."""


@dataclass(frozen=True)
class Field:
    """One column of a contract table."""

    name: str
    type: FieldType
    meaning: str
    national: str
    required: bool = False
    values: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None
    unit: str | None = None
    not_before: str | None = None
    #: Another number field of the same row that this one may not exceed (answered calls <= offered).
    not_above: str | None = None
    #: The name of the field's pattern (see :class:`Pattern`) and the table whose key must hold its values.
    pattern: str | None = None
    references: str | None = None

    @property
    def sql_type(self) -> str:
        """The column's SQL type, valid on both DuckDB and PostgreSQL.

        >>> Field("x", "instant", "m", "n").sql_type
        'TIMESTAMP WITH TIME ZONE'
        """
        return _SQL_TYPES[self.type]

    @property
    def arrow_type(self) -> pa.DataType:
        """The column's Arrow type.

        >>> Field("x", "integer", "m", "n").arrow_type
        DataType(int64)
        """
        return _arrow_types()[self.type]


@dataclass(frozen=True)
class Table:
    """One table of the contract."""

    name: str
    title: str
    grain: Grain
    description: str
    key: tuple[str, ...]
    fields: tuple[Field, ...]
    time_field: str | None = None

    @property
    def kind(self) -> str:
        """The name users type for this table on the command line (``calls_111`` -> ``calls-111``)."""
        return kind_name(self.name)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def field(self, name: str) -> Field:
        """The field called ``name``; ``KeyError`` if there is none."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.name} has no field {name!r}")

    def arrow_schema(self) -> pa.Schema:
        """The Arrow schema of the table's contract columns (no bookkeeping columns).

        >>> table("returns").arrow_schema().names[:2]
        ['org_code', 'period_start']
        """
        import pyarrow as pa

        return pa.schema([pa.field(f.name, f.arrow_type, nullable=not f.required) for f in self.fields])


@dataclass(frozen=True)
class Pattern:
    """What a code or string may look like: a regular expression (RE2 and Python alike) and why."""

    name: str
    regex: str
    description: str
    why: str


@dataclass(frozen=True)
class Metric:
    """One metric code of a national return: its national field name, meaning and unit.

    ``column`` is the file column it is read from (a wide layout); ``label`` the row label that
    names it (a long layout, ``measure|target`` where a layout has both).
    """

    code: str
    national: str
    meaning: str
    unit: str | None = None
    column: str | None = None
    label: str | None = None


@dataclass(frozen=True)
class Collection:
    """A national UEC collection: the ``source`` its returns rows name, its layouts and its metric codes."""

    source: str
    title: str
    publisher: str
    kinds: tuple[str, ...]
    period_length: str
    metrics: tuple[Metric, ...]
    note: str = ""

    @property
    def codes(self) -> tuple[str, ...]:
        """Its metric codes, in the contract's order.

        >>> collection("kh03").codes[:2]
        ('kh03_total_available', 'kh03_total_occupied')
        """
        return tuple(m.code for m in self.metrics)


@dataclass(frozen=True)
class Contract:
    """The whole contract: its version, its tables in a stable order and its value patterns."""

    version: int
    effective_from: str
    tables: tuple[Table, ...]
    patterns: tuple[Pattern, ...] = ()
    collections: tuple[Collection, ...] = ()

    def pattern(self, name: str) -> Pattern:
        """The pattern called ``name``.

        >>> contract().pattern("ods").description
        '1-16 letters, digits, _ or -, starting with a letter or digit'
        """
        for p in self.patterns:
            if p.name == name:
                return p
        raise KeyError(name)


def kind_name(table_name: str) -> str:
    """The command-line kind for a table name.

    >>> kind_name("ambulance_incidents")
    'ambulance-incidents'
    """
    return table_name.replace("_", "-")


def _field(raw: dict[str, Any], table_name: str) -> Field:
    known = {"name", "type", "meaning", "national", "required", "values", "min", "max", "unit", "not_before",
             "not_above", "pattern", "references"}
    unknown = set(raw) - known
    if unknown:
        raise ContractError(f"{table_name}.{raw.get('name')}: unknown keys {sorted(unknown)}")
    if raw["type"] not in get_args(FieldType):
        raise ContractError(f"{table_name}.{raw['name']}: unknown type {raw['type']!r}")
    values = raw.get("values")
    return Field(
        name=str(raw["name"]),
        type=raw["type"],
        meaning=str(raw["meaning"]),
        national=str(raw["national"]),
        required=bool(raw.get("required", False)),
        values=tuple(str(v) for v in values) if values is not None else None,
        min=raw.get("min"),
        max=raw.get("max"),
        unit=raw.get("unit"),
        not_before=raw.get("not_before"),
        not_above=raw.get("not_above"),
        pattern=raw.get("pattern"),
        references=raw.get("references"),
    )


@cache
def contract() -> Contract:
    """The contract, read from ``contract.yaml`` and checked once.

    >>> contract().version
    1
    """
    text = resources.files(__package__).joinpath("contract.yaml").read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    patterns = tuple(
        Pattern(name=str(n), regex=str(p["regex"]), description=str(p["description"]),
                why=" ".join(str(p["why"]).split()))
        for n, p in raw.get("patterns", {}).items()
    )
    pattern_names = {p.name for p in patterns}
    table_names = set(raw["tables"])
    out: list[Table] = []
    for name, t in raw["tables"].items():
        fields = tuple(_field(f, name) for f in t["fields"])
        names = {f.name for f in fields}
        for k in t["key"]:
            if k not in names:
                raise ContractError(f"{name}: key field {k!r} is not a field")
        for f in fields:
            if f.not_before and f.not_before not in names:
                raise ContractError(f"{name}.{f.name}: not_before names unknown field {f.not_before!r}")
            if f.not_above and f.not_above not in names:
                raise ContractError(f"{name}.{f.name}: not_above names unknown field {f.not_above!r}")
            if f.pattern is not None and f.pattern not in pattern_names:
                raise ContractError(f"{name}.{f.name}: unknown pattern {f.pattern!r}")
            # Free text of unbounded length is how a 1 MB code got in: every text value is limited.
            if f.pattern is None and (f.type == "string" or (f.type == "code" and f.values is None)):
                raise ContractError(f"{name}.{f.name}: a {f.type} without values needs a pattern")
            if f.references is not None and f.references not in table_names:
                raise ContractError(f"{name}.{f.name}: references unknown table {f.references!r}")
        out.append(
            Table(
                name=name,
                title=str(t["title"]),
                grain=t["grain"],
                description=" ".join(str(t["description"]).split()),
                key=tuple(t["key"]),
                fields=fields,
                time_field=t.get("time_field"),
            )
        )
    return Contract(
        version=int(raw["version"]), effective_from=str(raw["effective_from"]), tables=tuple(out), patterns=patterns,
        collections=_collections(raw.get("collections", {}), patterns),
    )


def _collections(raw: dict[str, Any], patterns: tuple[Pattern, ...]) -> tuple[Collection, ...]:
    import re

    identifier = re.compile(next(p.regex for p in patterns if p.name == "identifier"))
    lengths = get_args(PeriodLength)
    out: list[Collection] = []
    seen_kinds: set[str] = set()
    for source, c in raw.items():
        metrics = tuple(
            Metric(code=str(m["code"]), national=str(m["national"]), meaning=str(m["meaning"]),
                   unit=m.get("unit"), column=m.get("column"), label=m.get("label"))
            for m in c["metrics"]
        )
        codes = [m.code for m in metrics]
        bad = [code for code in codes if not identifier.match(code)]
        if bad or len(set(codes)) != len(codes):
            raise ContractError(f"collection {source}: metric codes must be unique identifiers ({bad or codes})")
        if c["period_length"] not in lengths:
            raise ContractError(f"collection {source}: unknown period_length {c['period_length']!r}")
        kinds = tuple(str(k) for k in c["kinds"])
        if seen_kinds & set(kinds):
            raise ContractError(f"collection {source}: kind(s) {sorted(seen_kinds & set(kinds))} named twice")
        seen_kinds |= set(kinds)
        out.append(Collection(
            source=str(source), title=str(c["title"]), publisher=str(c["publisher"]), kinds=kinds,
            period_length=str(c["period_length"]), metrics=metrics, note=" ".join(str(c.get("note", "")).split()),
        ))
    return tuple(out)


def collections() -> tuple[Collection, ...]:
    """The national collections whose returns the contract knows, in the contract file's order.

    >>> [c.source for c in collections()][:2]
    ['ambsys', 'kh03']
    """
    return contract().collections


def collection(source: str) -> Collection:
    """The collection a returns ``source`` names; ``KeyError`` if the contract knows none."""
    for c in collections():
        if c.source == source:
            return c
    raise KeyError(source)


def tables() -> tuple[Table, ...]:
    """All contract tables, in the order the contract file gives them."""
    return contract().tables


def table(name: str) -> Table:
    """The contract table called ``name`` (underscored); ``KeyError`` if there is none."""
    for t in tables():
        if t.name == name:
            return t
    raise KeyError(name)


def table_for_kind(kind: str) -> Table:
    """The table for a command-line kind such as ``calls-111``; ``KeyError`` if there is none."""
    return table(kind.replace("-", "_"))


def reference_markdown() -> str:
    """The contract as a Markdown reference page (docs/reference/contract.md is this text).

    >>> "## Emergency care attendances (`attendances`)" in reference_markdown()
    True
    """
    c = contract()
    lines = [
        "# Event contract reference",
        "",
        f"Contract version {c.version}, effective from {c.effective_from}. Generated from "
        "`src/uec/contract/contract.yaml` by `uec docs contract`; do not edit by hand.",
        "",
        "Instants are stored as UTC and shown in Europe/London. In files, a time with an offset is taken "
        "as written; a time without one is Europe/London local time, and a local time the clocks skip "
        "or repeat at a daylight-saving change is rejected with that reason. Instants and dates must fall "
        "between 1990-01-01 and the end of next year, and an offset may be at most 14 hours either way "
        "(the widest in use, UTC+14 in Kiribati); anything else is quarantined.",
        "",
        "Integers must be whole numbers: `2.5` is quarantined, never rounded (`3.0` is 3). A value that must "
        "be `in` a reference table (a site code in `sites`, an organisation code in `organisations`) is "
        "checked against the store's rows of that table; when that table is still empty the check cannot be "
        "made, and the load says so rather than guess.",
        "",
        "Codes and text follow one of these patterns (a value that does not is quarantined with the reason):",
        "",
        "| pattern | regular expression | what it allows | why |",
        "|---|---|---|---|",
        *(f"| `{p.name}` | `{p.regex}` | {p.description} | {p.why} |" for p in c.patterns),
        "",
    ]
    for t in c.tables:
        lines += [
            f"## {t.title} (`{t.name}`)",
            "",
            t.description,
            "",
            f"Grain: {t.grain}. Key: {', '.join(f'`{k}`' for k in t.key)}. "
            f"Ingest kind: `{t.kind}`.",
            "",
            "| field | type | required | unit / allowed values | meaning | national equivalent |",
            "|---|---|---|---|---|---|",
        ]
        for f in t.fields:
            rules: list[str] = []
            if f.unit:
                rules.append(f.unit)
            if f.values:
                rules.append(", ".join(f"`{v}`" for v in f.values))
            if f.min is not None or f.max is not None:
                rules.append(f"{f.min if f.min is not None else ''}..{f.max if f.max is not None else ''}")
            if f.not_before:
                rules.append(f"not before `{f.not_before}`")
            if f.not_above:
                rules.append(f"at most `{f.not_above}`")
            if f.pattern:
                rules.append(f"pattern `{f.pattern}`")
            if f.references:
                rules.append(f"in `{f.references}`")
            lines.append(
                f"| `{f.name}` | {f.type} | {'yes' if f.required else ''} | {'; '.join(rules)} "
                f"| {f.meaning} | {f.national} |"
            )
        lines.append("")
    lines += _collections_markdown(c.collections)
    return "\n".join(lines)


def _collections_markdown(cols: tuple[Collection, ...]) -> list[str]:
    if not cols:
        return []
    lines = [
        "## Metric codes of the national returns",
        "",
        "Each collection below is a `source` of the `returns` table. Its published layouts load with "
        "`uec ingest KIND FILE`; a returns row of one of these sources must use one of its metric codes "
        "(any other is quarantined with the list of known ones). A value the file leaves empty (`.`, NA) "
        "gives no row: it is never stored as zero.",
        "",
    ]
    for col in cols:
        has_column = any(m.column for m in col.metrics)
        has_label = any(m.label for m in col.metrics)
        lines += [
            f"### {col.title} (`{col.source}`)",
            "",
            f"{col.publisher}. Kinds: {', '.join(f'`{k}`' for k in col.kinds)}. Period: {col.period_length}.",
            "",
        ]
        if col.note:
            lines += [col.note, ""]
        head = ["metric code", "national field", "meaning", "unit"]
        if has_column:
            head.append("file column")
        if has_label:
            head.append("file label")
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for m in col.metrics:
            cells = [f"`{m.code}`", m.national, m.meaning, m.unit or ""]
            if has_column:
                cells.append(f"`{m.column}`" if m.column else "")
            if has_label:
                cells.append(m.label or "")
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return lines
