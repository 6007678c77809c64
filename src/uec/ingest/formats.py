"""Reading files, and the real-world formats that map onto contract tables.

A *kind* is what a user names on the command line. Every contract table is a kind in its own
columns (``attendances``, ``ambulance-incidents``, …); a few real national layouts are kinds too,
each a SQL mapping from its own columns onto a contract table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from uec.contract import Collection, Table, collection, table, tables
from uec.errors import UecError
from uec.ingest import queries as q
from uec.ingest.queries import AE_MONTHLY_SQL, HES_AE_SQL

__all__ = ["FORMATS", "Format", "ReadResult", "count_records", "kinds", "read_file", "resolve_kind"]


@dataclass(frozen=True)
class Format:
    """A real-world layout that maps onto a contract table.

    ``mapping_sql`` is a DuckDB query over the relation ``src`` (the file's columns as text, plus
    ``_row``) that yields contract columns as text, ``_row`` and optionally ``_pre_reason``. A
    mapping may yield several rows per source row (an unpivot); the load then counts source rows.
    """

    kind: str
    title: str
    table: str
    required_columns: tuple[str, ...]
    mapping_sql: str
    source: str
    #: Columns the mapping reads when they are there; a file without them gets them as empty.
    optional_columns: tuple[str, ...] = ()
    #: Groups of columns of which a file must have at least one (an organisation column under one
    #: of its names; at least one measure).
    one_of: tuple[tuple[str, ...], ...] = ()
    #: The column names of a file published without a header line (the ODS files); empty when the
    #: first line names the columns.
    headerless: tuple[str, ...] = ()


def _measures(c: Collection) -> list[tuple[str, str]]:
    return [(m.column, q.literal(m.code)) for m in c.metrics if m.column]


def _columns(c: Collection) -> tuple[str, ...]:
    return tuple(dict.fromkeys(m.column for m in c.metrics if m.column))


def _day(col: str) -> str:
    d = f"TRY_CAST({col} AS DATE)"
    return f"CASE WHEN {d} IS NULL THEN {col} ELSE strftime({d}, '%Y-%m-%d') END"


def _ambsys() -> Format:
    c = collection("ambsys")
    year, month = 'TRY_CAST("Year" AS INTEGER)', 'TRY_CAST("Month" AS INTEGER)'
    ok = f"({month} BETWEEN 1 AND 12 AND {year} BETWEEN 1900 AND 9999)"
    return Format(
        kind="ambsys", title="Ambulance System Indicators (AmbSYS), monthly", table="returns",
        required_columns=("Year", "Month", "Org Code"),
        mapping_sql=q.wide_returns_sql(
            org='"Org Code"',
            period=f"CASE WHEN {ok} THEN strftime(make_date({year}, {month}, 1), '%Y-%m-%d') END",
            period_length="month", source=c.source, measures=_measures(c),
            pre_reasons=[f"""CASE WHEN NOT {ok} THEN 'Year/Month: ' || coalesce("Year", '') || '/' || """
                         """coalesce("Month", '') || ' is not a month' END"""],
        ),
        source=c.publisher, optional_columns=_columns(c), one_of=(_columns(c),),
    )


def _kh03() -> Format:
    c = collection("kh03")
    # Financial-year quarters: Q1 starts on 1 April of the year that begins the financial year.
    year = "TRY_CAST(left(fin_year, 4) AS INTEGER)"
    start = (f"CASE trim(quarter) WHEN 'Q1' THEN make_date({year}, 4, 1) WHEN 'Q2' THEN make_date({year}, 7, 1) "
             f"WHEN 'Q3' THEN make_date({year}, 10, 1) WHEN 'Q4' THEN make_date({year} + 1, 1, 1) END")
    return Format(
        kind="kh03", title="KH03 bed availability and occupancy, overnight, quarterly", table="returns",
        required_columns=("fin_year", "quarter"),
        mapping_sql=q.wide_returns_sql(
            org="coalesce(org_code, CASE WHEN trim(org_name) = 'England' THEN 'Eng' END)",
            period=f"strftime({start}, '%Y-%m-%d')", period_length="quarter", source=c.source,
            measures=_measures(c),
            pre_reasons=[
                f"CASE WHEN {start} IS NULL THEN 'fin_year/quarter: ' || coalesce(fin_year, '') || ' ' || "
                "coalesce(quarter, '') || ' is not a financial-year quarter (e.g. 2021/22 Q4)' END",
                "CASE WHEN org_code IS NULL AND trim(coalesce(org_name, '')) <> 'England' THEN 'org_name: ' || "
                "coalesce(org_name, '') || ' has no code: give an org_code column (only England is known by name)' END",
            ],
        ),
        source=c.publisher, optional_columns=("org_code", "org_name", *_columns(c)),
        one_of=(("org_code", "org_name"), _columns(c)),
    )


def _by_trust(kind: str, title: str, source: str, period_length: str, *, level_org: str = "") -> Format:
    """A tidied NHS England layout: one row per trust and date, one column per metric."""
    c = collection(source)
    reasons = [q.first_of_month_reason("date")] if period_length == "month" else []
    return Format(
        kind=kind, title=title, table="returns", required_columns=("date",),
        mapping_sql=q.wide_returns_sql(
            org=f"coalesce({level_org}org_code, nhs_trust22_code)", period=_day("date"),
            period_length=period_length, source=c.source, measures=_measures(c), pre_reasons=reasons),
        source=c.publisher, optional_columns=("org_code", "nhs_trust22_code", "level", *_columns(c)),
        one_of=(("org_code", "nhs_trust22_code"), _columns(c)),
    )


def _ae_monthly() -> Format:
    return _by_trust("ae-monthly", "Monthly A&E return, all-types layout, by trust", "ae_monthly", "month")


def _uec_sitrep(kind: str, length: str) -> Format:
    # England's rows name no organisation in the winter sitrep series: their `level` says what they are.
    level = "CASE level WHEN 'england' THEN 'ENG' WHEN 'england_type1' THEN 'ENG_TYPE1' END, "
    title = "UEC daily sitrep, daily by trust" if length == "day" else "UEC daily sitrep, monthly averages by trust"
    return _by_trust(kind, title, "uec_sitrep", length, level_org=level)


def _discharge_sitrep() -> Format:
    return _by_trust("discharge-sitrep", "Acute discharge sitrep (criteria to reside, discharges), daily by trust",
                     "discharge_sitrep", "day")


def _ae_scotland() -> Format:
    c = collection("ae_scotland")
    d = "TRY_CAST(date AS DATE)"
    # PHS names a site's emergency department "<hospital> - Type 1"; its other rows (a minor injuries
    # unit on the same site code) are other A&E departments. Each metric has one code per department.
    type1 = "regexp_matches(coalesce(hospital_name, ''), '- Type 1\\s*$')"
    codes = {(m.column, m.label): m.code for m in c.metrics if m.column}
    by_department = [
        (col, f"CASE WHEN {type1} THEN {q.literal(codes[(col, 'Type 1')])} ELSE {q.literal(codes[(col, 'other')])} END")
        for col in _columns(c)
    ]
    return Format(
        kind="ae-scotland", title="Scottish A&E activity and waiting times, monthly by site", table="returns",
        required_columns=("hospital_code", "date"),
        mapping_sql=q.wide_returns_sql(
            org="hospital_code",
            period=f"CASE WHEN {d} IS NULL THEN date ELSE strftime(date_trunc('month', {d}), '%Y-%m-%d') END",
            period_length="month", source=c.source, measures=by_department,
            # PHS dates a month by its last day: any other day is another layout (weekly) misread.
            pre_reasons=[f"CASE WHEN {d} IS NOT NULL AND {d} <> last_day({d}) THEN 'date: ' || date || "
                         "' is not the last day of a month' END"],
        ),
        source=c.publisher, optional_columns=("hospital_name", *_columns(c)), one_of=(_columns(c),),
    )


def _ae_wales() -> Format:
    c = collection("ae_wales")
    total = "performance_measure = 'Total attendances'"
    order = ("PARTITION BY hospital_code, date, performance_measure ORDER BY CASE performance_target "
             "WHEN '4hr' THEN 1 WHEN '8hr' THEN 2 WHEN '12hr' THEN 3 ELSE 4 END, _row")
    # The total repeats on each target's rows: the first is stored, the others must equal it.
    label = (f"CASE WHEN {total} AND row_number() OVER ({order}) = 1 THEN 'Total attendances|4hr' "
             f"WHEN {total} THEN NULL ELSE performance_measure || '|' || performance_target END")
    first = f"first_value(data) OVER ({order})"
    return Format(
        kind="ae-wales", title="Welsh emergency department waiting times, monthly by department", table="returns",
        required_columns=("hospital_code", "date", "performance_measure", "performance_target", "data"),
        mapping_sql=q.long_returns_sql(
            org="hospital_code", period=_day("date"), period_length="month", source=c.source, label=label,
            value="data", known=[(m.label, m.code) for m in c.metrics if m.label],
            what="performance_measure|performance_target", where=f"NOT ({total} AND _label IS NULL)",
            pre_reasons=[
                q.first_of_month_reason("date"),
                f"CASE WHEN {total} AND TRY_CAST(data AS DOUBLE) IS DISTINCT FROM TRY_CAST({first} AS DOUBLE) "
                f"THEN 'data: total attendances on the ' || performance_target || ' row (' || coalesce(data, '') || "
                f"') differ from the first (' || coalesce({first}, '') || ')' END",
            ],
        ),
        source=c.publisher,
    )


def _discharge_delays() -> Format:
    c = collection("discharge_delays")
    return Format(
        kind="discharge-delays", title="Discharge delays by reason (acute), monthly by trust", table="returns",
        required_columns=("date", "delay_reason", "delay_count"),
        mapping_sql=q.long_returns_sql(
            org="coalesce(org_code, nhs_trust22_code)", period=_day("date"), period_length="month",
            source=c.source, label="delay_reason", value="delay_count",
            known=[(m.label, m.code) for m in c.metrics if m.label], what="delay_reason",
            pre_reasons=[q.first_of_month_reason("date")],
        ),
        source=c.publisher, optional_columns=("org_code", "nhs_trust22_code"),
        one_of=(("org_code", "nhs_trust22_code"),),
    )


def _ods(kind: str, role: str, title: str) -> Format:
    return Format(
        kind=kind, title=title, table="org_hierarchy", required_columns=("Organisation Code", "Name"),
        mapping_sql=q.ods_hierarchy_sql(role), source="NHS England Organisation Data Service (ODS) CSV downloads",
        headerless=q.ODS_COLUMNS,
    )


FORMATS: dict[str, Format] = {
    "hes-ae": Format(
        kind="hes-ae",
        title="HES A&E extract (hhmm times, durations in minutes)",
        table="attendances",
        required_columns=("AEKEY", "PROCODE3", "AEDEPTTYPE", "ARRIVALDATE", "ARRIVALTIME"),
        mapping_sql=HES_AE_SQL,
        source="NHS Digital Hospital Episode Statistics A&E data dictionary",
        optional_columns=("SITETRET", "AEARRIVALMODE", "INITDUR", "TRETDUR", "DEPDUR", "AEATTENDDISP",
                          "ARRIVALAGE", "SEX", "ETHNOS", "PSEUDO_HESID"),
    ),
    "ae-attendances": Format(
        kind="ae-attendances",
        title="Monthly A&E attendances and emergency admissions return (by provider and type)",
        table="returns",
        required_columns=("period", "org_code", "type", "attendances", "breaches", "admissions"),
        mapping_sql=AE_MONTHLY_SQL,
        source="NHS England A&E Attendances and Emergency Admissions statistics",
    ),
    **{f.kind: f for f in (
        _ambsys(), _kh03(), _ae_monthly(), _ae_scotland(), _ae_wales(), _uec_sitrep("uec-sitrep", "day"),
        _uec_sitrep("uec-sitrep-monthly", "month"), _discharge_sitrep(), _discharge_delays(),
        _ods("ods-trusts", "trust", "ODS NHS trusts file (etr.csv, no header line)"),
        _ods("ods-sites", "site", "ODS NHS trust sites file (ets.csv, no header line)"),
    )},
}


def kinds() -> list[str]:
    """Every kind ``uec ingest`` accepts.

    >>> "attendances" in kinds() and "hes-ae" in kinds()
    True
    """
    return [t.kind for t in tables()] + list(FORMATS)


def resolve_kind(kind: str) -> tuple[Table, Format | None]:
    """The contract table a kind loads into, and its format mapping if it is a real-world layout.

    >>> resolve_kind("ae-attendances")[0].name
    'returns'
    >>> resolve_kind("beds")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    uec.errors.UecError: unknown kind 'beds'; choose one of: organisations, sites, ..., ods-trusts, ods-sites
    """
    if kind in FORMATS:
        fmt = FORMATS[kind]
        return table(fmt.table), fmt
    for t in tables():
        if t.kind == kind:
            return t, None
    raise UecError(f"unknown kind {kind!r}; choose one of: {', '.join(kinds())}")


@dataclass(frozen=True)
class ReadResult:
    """A file read into Arrow, with ``_row`` numbering its data rows from 1, and any unparseable lines."""

    data: pa.Table
    bad_lines: tuple[tuple[int | None, str, str], ...]  # (line number, text, reason)


def read_file(path: Path, *, all_text: bool, column_names: tuple[str, ...] = ()) -> ReadResult:
    """Read a CSV (optionally .gz) or Parquet file. CSV columns are all read as text.

    Lines with the wrong number of fields are not fatal: they come back in ``bad_lines`` so the
    load can quarantine them with their reason. ``column_names`` names the columns of a CSV that
    has no header line (its first line is data).
    """
    if not path.exists():
        raise UecError(f"no such file: {path}")
    if path.is_dir():
        raise UecError(f"{path} is a folder, not a file")
    name = path.name.lower()
    try:
        if name.endswith((".parquet", ".pq")):
            data = pq.read_table(path)
            if all_text:
                data = pa.table(
                    [c if pa.types.is_string(c.type) else c.cast(pa.string()) for c in data.columns],
                    names=data.column_names,
                )
            bad: list[tuple[int | None, str, str]] = []
        elif name.endswith((".csv", ".csv.gz", ".txt")):
            data, bad = _read_csv(path, column_names)
        else:
            raise UecError(f"cannot tell the format of {path.name}: name it .csv, .csv.gz or .parquet")
    except UecError:
        raise
    except (pa.ArrowInvalid, OSError, UnicodeDecodeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UecError(f"cannot read {path.name}: {first}") from None
    rows = pa.array(range(1, data.num_rows + 1), pa.int64())
    return ReadResult(data.append_column("_row", rows), tuple(bad))


def _header(path: Path) -> list[str]:
    import csv
    import gzip
    import io

    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as text:
        first = next(csv.reader(text), None)
    if not first:
        raise UecError(f"{path.name} is empty: expected a header line naming the columns")
    return first


def _file_bytes(path: Path) -> bytes:
    import gzip

    if path.name.lower().endswith(".gz"):
        with gzip.open(path, "rb") as f:
            return f.read()
    return path.read_bytes()


def count_records(data: bytes) -> int:
    """Data records in CSV bytes counted as physical lines: every line after the header that is not empty.

    This is the second, independent count a load is checked against: the CSV reader is told that a
    field may not span lines, so each record is one line, and a reader that returns fewer records than
    there are lines has merged some (an unbalanced quote does that).

    >>> count_records(b"a,b\\n1,2\\n\\n3,4")
    2
    >>> count_records(b"a,b\\r\\n1,2\\r\\n"), count_records(b"a,b\\r1,2\\r3,4\\r")
    (1, 2)
    """
    if not data:
        return 0
    if b"\r" in data and b"\n" not in data:  # old Mac line ends, which the reader also accepts
        data = data.replace(b"\r", b"\n")
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    empty = 0
    if b"\n\n" in data or b"\n\r\n" in data:
        # Overlapping runs of empty lines; the end of the file is not a line.
        empty = len(re.findall(rb"(?<=\n)\r?\n", data))
    return max(lines - 1 - empty, 0)


def _unbalanced_lines(data: bytes, limit: int = 3) -> list[int]:
    """Line numbers (1 = header) of the first lines with an odd number of double quotes."""
    found: list[int] = []
    for number, line in enumerate(data.split(b"\n"), start=1):
        if line.count(b'"') % 2:
            found.append(number)
            if len(found) >= limit:
                break
    return found


def _read_csv(path: Path, column_names: tuple[str, ...] = ()) -> tuple[pa.Table, list[tuple[int | None, str, str]]]:
    import io

    names = list(column_names) or _header(path)
    if len(set(names)) != len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise UecError(f"{path.name} repeats column(s) {', '.join(dupes)}")
    bad: list[tuple[int | None, str, str]] = []

    def on_invalid(row: Any) -> str:
        reason = f"line has {row.actual_columns} fields; the header has {row.expected_columns}"
        bad.append((row.number, row.text, reason))
        return "skip"

    raw = _file_bytes(path)
    data = pacsv.read_csv(
        io.BytesIO(raw),
        read_options=pacsv.ReadOptions(use_threads=True, block_size=1 << 24, column_names=names,
                                       skip_rows=0 if column_names else 1),
        parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid, newlines_in_values=False),
        convert_options=pacsv.ConvertOptions(
            column_types={n: pa.string() for n in names},
            strings_can_be_null=True,
            null_values=[""],
            quoted_strings_can_be_null=True,
        ),
    )
    # Rows in must count what the file holds, not what the parser made of it: an unbalanced quote
    # makes the parser merge lines into one record, which no later check could see.
    physical = count_records(b"header\n" + raw if column_names else raw)
    if data.num_rows + len(bad) != physical:
        lines = _unbalanced_lines(raw)
        where = f" (a quote opened and not closed on line {', '.join(map(str, lines))})" if lines else ""
        raise UecError(
            f"{path.name}: the file has {physical:,} data lines but the CSV reader found "
            f"{data.num_rows + len(bad):,} records{where}; a field may not span lines. "
            "Nothing was loaded: fix the file and load it again"
        )
    return data, bad
