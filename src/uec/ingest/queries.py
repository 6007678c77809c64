"""Every SQL statement of the ingest capability, and the builders that write them.

One home for ingest's SQL (issue 10): the published layouts' mappings onto contract tables, the
validation query generated from the contract, and the statements a load, a revision and an unload run
in the store. Validation runs in a private in-memory DuckDB; the store statements are portable SQL that
runs unchanged on DuckDB and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from uec.contract import EARLIEST_YEAR, LOCAL_TIME_ZONE, Field, Table, contract
from uec.store import Store

__all__ = [
    "AE_MONTHLY_SQL",
    "CODE_COLUMNS",
    "HES_AE_SQL",
    "MAX_OFFSET_MINUTES",
    "codes_not_in_demo",
    "foreign_codes",
    "has_demo_load",
    "local_to_utc_sql",
    "typed_select_sql",
]

#: The widest UTC offset in use is +14:00 (Line Islands, Kiribati); -12:00 is the other end.
MAX_OFFSET_MINUTES = 14 * 60

# A value with an explicit offset or Z is an instant as written; anything else is local time.
_OFFSET_RE = r"([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)$"


def _q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _shown(expr: str) -> str:
    """A value as a reason quotes it: at most 40 characters, control characters shown as '?'."""
    return f"regexp_replace(left({expr}, 40), '[\\x00-\\x1F\\x7F]', '?', 'g')"


_TEXT_TYPES = {"VARCHAR", "STRING", "TEXT", '"NULL"', "NULL"}


def local_to_utc_sql(ts: str) -> tuple[str, str, str]:
    """SQL for a naive local (Europe/London) timestamp: (instant, is_ambiguous, does_not_exist).

    Europe/London is UTC+0 or UTC+1, so a local time ``t`` can only be the instant ``t`` UTC or
    ``t - 1h`` UTC. Converting each candidate back to local time and keeping those that round-trip
    gives one answer normally, two when the clocks go back and none when they go forward.

    >>> import duckdb
    >>> con = duckdb.connect()
    >>> _ = con.execute("SET TimeZone='UTC'")
    >>> inst, amb, gap = local_to_utc_sql("t")
    >>> q = f"SELECT {inst}::VARCHAR, {amb}, {gap} FROM (SELECT TIMESTAMP '2024-07-01 12:00' AS t)"
    >>> con.execute(q).fetchone()
    ('2024-07-01 11:00:00+00', False, False)
    """
    gmt = f"timezone('UTC', {ts})"
    bst = f"timezone('UTC', {ts} - INTERVAL 1 HOUR)"
    gmt_ok = f"(timezone({_q(LOCAL_TIME_ZONE)}, {gmt}) = {ts})"
    bst_ok = f"(timezone({_q(LOCAL_TIME_ZONE)}, {bst}) = {ts})"
    instant = f"(CASE WHEN {bst_ok} AND NOT {gmt_ok} THEN {bst} WHEN {gmt_ok} AND NOT {bst_ok} THEN {gmt} END)"
    return instant, f"({gmt_ok} AND {bst_ok})", f"(NOT {gmt_ok} AND NOT {bst_ok})"


def _typed(f: Field, col: str, source_type: str) -> tuple[str, list[str]]:
    """(typed expression, reason expressions) for one field read from a column of ``source_type``."""
    c = f'"{col}"'
    reasons: list[str] = []
    is_text = source_type.upper() in _TEXT_TYPES
    if f.type in ("string", "code"):
        typed = f"CAST({c} AS VARCHAR)"
    elif f.type == "integer":
        # A cast rounds (2.5 becomes 3): only whole numbers are typed, anything else is quarantined.
        if is_text:
            whole = f"regexp_full_match(trim({c}), '[+-]?[0-9]+([.]0*)?')"
            typed = f"(CASE WHEN {whole} THEN TRY_CAST(trim({c}) AS BIGINT) END)"
            reasons.append(
                f"CASE WHEN {c} IS NOT NULL AND {typed} IS NULL AND TRY_CAST({c} AS DOUBLE) IS NOT NULL "
                f"AND isfinite(TRY_CAST({c} AS DOUBLE)) AND TRY_CAST({c} AS DOUBLE) <> trunc(TRY_CAST({c} AS DOUBLE)) "
                f"THEN {_q(f.name + ': ')} || {_shown(c)} || {_q(' is not a whole number')} "
                f"WHEN {c} IS NOT NULL AND {typed} IS NULL THEN {_q(f.name + ': ')} || {_q(chr(39))} || "
                f"{_shown(c)} || {_q(chr(39) + ' is not a valid integer')} END"
            )
            return typed, reasons
        st = source_type.upper()
        if st.startswith(("FLOAT", "DOUBLE", "DECIMAL", "REAL")):
            typed = f"(CASE WHEN isfinite({c}::DOUBLE) AND {c} = trunc({c}) THEN TRY_CAST({c} AS BIGINT) END)"
            reasons.append(
                f"CASE WHEN {c} IS NOT NULL AND {typed} IS NULL THEN {_q(f.name + ': ')} || {c}::VARCHAR || "
                f"{_q(' is not a whole number')} END"
            )
            return typed, reasons
        typed = f"TRY_CAST({c} AS BIGINT)"
        reasons.append(
            f"CASE WHEN {c} IS NOT NULL AND {typed} IS NULL THEN {_q(f.name + ': ')} || {c}::VARCHAR || "
            f"{_q(' is out of range')} END"
        )
        return typed, reasons
    elif f.type == "number":
        typed = f"TRY_CAST({c} AS DOUBLE)" if is_text else f"CAST({c} AS DOUBLE)"
    elif f.type == "date":
        typed = f"TRY_CAST({c} AS DATE)" if is_text else f"CAST({c} AS DATE)"
    elif f.type == "boolean":
        if is_text:
            typed = (
                f"(CASE WHEN lower(trim({c})) IN ('true','t','1','yes','y') THEN TRUE "
                f"WHEN lower(trim({c})) IN ('false','f','0','no','n') THEN FALSE END)"
            )
        else:
            typed = f"CAST({c} AS BOOLEAN)"
    elif f.type == "instant":
        st = source_type.upper()
        if st.startswith("TIMESTAMP WITH TIME ZONE") or st == "TIMESTAMPTZ":
            typed = c
        elif st.startswith("TIMESTAMP") or st == "DATE":
            typed, amb, gap = local_to_utc_sql(f"CAST({c} AS TIMESTAMP)")
            reasons += [
                f"CASE WHEN {c} IS NOT NULL AND {amb} THEN {_q(f.name + ': local time ')} || {c}::VARCHAR || "
                f"{_q(' happens twice when the clocks go back; give a UTC offset')} END",
                f"CASE WHEN {c} IS NOT NULL AND {gap} THEN {_q(f.name + ': local time ')} || {c}::VARCHAR || "
                f"{_q(' does not exist (the clocks go forward); give a UTC offset')} END",
            ]
        else:
            # The costly parts (the pattern match, the casts, the round trips through the time zone)
            # are computed once per value in inner queries (see _instant_pre) and named here.
            off, naive, tz, gmt, bst = (f'"__{k}_{col}"' for k in ("off", "naive", "tz", "gmt", "bst"))
            typed = (
                f"(CASE WHEN {off} THEN {tz} "
                f"WHEN {bst} AND NOT {gmt} THEN timezone('UTC', {naive} - INTERVAL 1 HOUR) "
                f"WHEN {gmt} AND NOT {bst} THEN timezone('UTC', {naive}) END)"
            )
            reasons += [
                f"CASE WHEN {c} IS NOT NULL AND {gmt} AND {bst} THEN "
                f"{_q(f.name + ': local time ')} || {_shown(c)} || "
                f"{_q(' happens twice when the clocks go back; give a UTC offset')} END",
                f"CASE WHEN {c} IS NOT NULL AND NOT {gmt} AND NOT {bst} THEN "
                f"{_q(f.name + ': local time ')} || {_shown(c)} || "
                f"{_q(' does not exist (the clocks go forward); give a UTC offset')} END",
                f"CASE WHEN {c} IS NOT NULL AND (CASE WHEN {off} THEN {tz} ELSE {naive} END) IS NULL THEN "
                f"{_q(f.name + ': ')} || {_q(chr(39))} || {_shown(c)} || "
                f"{_q(chr(39) + ' is not a date and time (use ISO 8601, e.g. 2024-03-01T14:05:00Z)')} END",
                f"CASE WHEN {c} IS NOT NULL AND \"__offmin_{col}\" > {MAX_OFFSET_MINUTES} THEN "
                f"{_q(f.name + ': the offset of ' + chr(39))} || {_shown(c)} || "
                f"{_q(chr(39) + ' is beyond ±14:00, the widest in use')} END",
            ]
        return typed, reasons
    else:  # pragma: no cover - the contract loader rejects other types
        raise ValueError(f.type)
    if is_text and f.type not in ("string", "code"):
        reasons.append(
            f"CASE WHEN {c} IS NOT NULL AND {typed} IS NULL THEN {_q(f.name + ': ')} || {_q(chr(39))} || "
            f"{_shown(c)} || {_q(chr(39) + ' is not a valid ' + f.type)} END"
        )
    return typed, reasons


def _is_text_instant(f: Field, source_type: str) -> bool:
    st = source_type.upper()
    return f.type == "instant" and not st.startswith("TIMESTAMP") and st != "DATE"


def _instant_pre(col: str) -> tuple[str, str]:
    """Inner-query columns for a text instant: (first level, second level) select lists."""
    c = f'"{col}"'
    off, naive = f'"__off_{col}"', f'"__naive_{col}"'
    zone = _q(LOCAL_TIME_ZONE)
    hours = f"TRY_CAST(nullif(regexp_extract({c}, '[+-]([0-9]{{2}}):?[0-9]{{0,2}}$', 1), '') AS INTEGER)"
    minutes = f"coalesce(TRY_CAST(nullif(regexp_extract({c}, '[+-][0-9]{{2}}:?([0-9]{{2}})$', 1), '') AS INTEGER), 0)"
    first = (
        f"regexp_matches({c}, {_q(_OFFSET_RE)}) AS {off}, TRY_CAST({c} AS TIMESTAMP) AS {naive}, "
        f'CASE WHEN regexp_matches({c}, {_q(_OFFSET_RE)}) THEN {hours} * 60 + {minutes} END AS "__offmin_{col}"'
    )
    second = (
        f'CASE WHEN {off} THEN TRY_CAST({c} AS TIMESTAMPTZ) END AS "__tz_{col}", '
        f"CASE WHEN NOT {off} THEN timezone({zone}, timezone('UTC', {naive})) = {naive} END AS \"__gmt_{col}\", "
        f"CASE WHEN NOT {off} THEN timezone({zone}, timezone('UTC', {naive} - INTERVAL 1 HOUR)) = {naive} END "
        f'AS "__bst_{col}"'
    )
    return first, second


def typed_select_sql(
    table: Table,
    relation: str,
    source_types: Mapping[str, str],
    *,
    references: Mapping[str, str] | None = None,
    latest_year: int | None = None,
) -> str:
    """A query over ``relation`` giving each contract column typed, plus ``_row`` and ``_reason``.

    ``relation`` must have ``_row`` (the source row number) and may have ``_pre_reason`` (reasons a
    format mapping found before validation). Columns absent from ``source_types`` are taken as NULL.
    ``_reason`` is NULL for a valid row. ``references`` maps a field to a relation with one column
    ``code`` holding the values it may take (a reference table's keys); instants and dates must fall
    in :data:`EARLIEST_YEAR` to ``latest_year`` (default: next year).

    >>> import duckdb, pyarrow as pa
    >>> from uec.contract import table
    >>> con = duckdb.connect()
    >>> _ = con.execute("SET TimeZone='UTC'")
    >>> rows = pa.table({"_row": [1, 2], "org_code": ["DEMO-A", None], "period_start": ["2024-04-01", "x"],
    ...                  "period_length": ["month", "month"], "metric_code": ["m", "m"],
    ...                  "value": ["1.5", "1"], "source": ["s", "s"]})
    >>> sql = typed_select_sql(table("returns"), "rows", {c: "VARCHAR" for c in rows.column_names})
    >>> [r[-1] for r in con.execute(sql).fetchall()]
    [None, "org_code is missing; period_start: 'x' is not a valid date"]
    """
    selects: list[str] = []
    checks: list[str] = []
    typed_of: dict[str, str] = {}
    refs = dict(references or {})
    last = latest_year if latest_year is not None else datetime.now(UTC).year + 1
    patterns = {p.name: p for p in contract().patterns}
    for f in table.fields:
        if f.name in source_types:
            typed, reasons = _typed(f, f.name, source_types[f.name])
            raw_present = f'"{f.name}" IS NOT NULL'
        else:
            typed, reasons, raw_present = f"CAST(NULL AS {_duck_type(f)})", [], "FALSE"
        typed_of[f.name] = typed
        selects.append(f'{typed} AS "{f.name}"')
        if f.required:
            checks.append(f"CASE WHEN NOT ({raw_present}) THEN {_q(f.name + ' is missing')} END")
        checks.extend(reasons)
        if f.values is not None:
            allowed = ", ".join(_q(v) for v in f.values)
            shown = ", ".join(f.values)
            checks.append(
                f"CASE WHEN {typed} IS NOT NULL AND {typed} NOT IN ({allowed}) THEN "
                f"{_q(f.name + ': ')} || {_q(chr(39))} || {typed} || {_q(chr(39) + ' is not one of ' + shown)} END"
            )
        if f.min is not None:
            checks.append(
                f"CASE WHEN {typed} < {f.min} THEN {_q(f.name + ': ')} || {typed}::VARCHAR || "
                f"{_q(' is below the minimum ' + str(f.min))} END"
            )
        if f.max is not None:
            checks.append(
                f"CASE WHEN {typed} > {f.max} THEN {_q(f.name + ': ')} || {typed}::VARCHAR || "
                f"{_q(' is above the maximum ' + str(f.max))} END"
            )
        if f.pattern is not None:
            p = patterns[f.pattern]
            checks.append(
                f"CASE WHEN {typed} IS NOT NULL AND NOT regexp_full_match({typed}, {_q(p.regex.strip('^$'))}) THEN "
                f"{_q(f.name + ': ')} || {_q(chr(39))} || {_shown(typed)} || "
                f"{_q(chr(39) + ' is not a valid ' + ('code' if f.type == 'code' else 'text') + ': ' + p.description)}"
                f" || CASE WHEN length({typed}) > 40 THEN {_q(' (it has ')} || length({typed}) || "
                f"{_q(' characters)')} ELSE '' END END"
            )
        if f.name in refs:
            checks.append(
                f"CASE WHEN {typed} IS NOT NULL AND {typed} NOT IN (SELECT code FROM {refs[f.name]}) THEN "
                f"{_q(f.name + ': ')} || {_q(chr(39))} || {_shown(typed)} || "
                f"{_q(chr(39) + ' is not in ' + str(f.references) + ' (load it there first)')} END"
            )
        if f.type in ("instant", "date") and f.name in source_types:
            kind = "DATE" if f.type == "date" else "TIMESTAMPTZ"
            lo, hi = f"{kind} '{EARLIEST_YEAR}-01-01'", f"{kind} '{last + 1}-01-01'"
            checks.append(
                f"CASE WHEN {typed} < {lo} OR {typed} >= {hi} THEN {_q(f.name + ': ')} || "
                f"strftime({typed}, '%Y-%m-%d') || {_q(f' is outside {EARLIEST_YEAR}-{last}')} END"
            )
    for f in table.fields:
        if f.not_before and f.name in source_types and f.not_before in source_types:
            checks.append(
                f"CASE WHEN {typed_of[f.name]} < {typed_of[f.not_before]} THEN "
                f"{_q(f.name + ' is before ' + f.not_before)} END"
            )
        if f.not_above and f.name in source_types and f.not_above in source_types:
            checks.append(
                f"CASE WHEN {typed_of[f.name]} > {typed_of[f.not_above]} THEN "
                f"{_q(f.name + ' is above ' + f.not_above)} END"
            )
    if "_pre_reason" in source_types:
        checks.insert(0, """nullif("_pre_reason", '')""")
    reason = f"NULLIF(concat_ws('; ', {', '.join(checks)}), '')" if checks else "NULL"
    pre = [
        _instant_pre(f.name)
        for f in table.fields
        if f.name in source_types and _is_text_instant(f, source_types[f.name])
    ]
    source = relation
    if pre:
        first = ", ".join(p[0] for p in pre)
        second = ", ".join(p[1] for p in pre)
        source = f"(SELECT *, {second} FROM (SELECT *, {first} FROM {relation}) AS p1) AS p2"
    return f"SELECT _row, {', '.join(selects)}, {reason} AS _reason FROM {source}"


def _duck_type(f: Field) -> str:
    return {
        "string": "VARCHAR",
        "code": "VARCHAR",
        "integer": "BIGINT",
        "number": "DOUBLE",
        "boolean": "BOOLEAN",
        "instant": "TIMESTAMPTZ",
        "date": "DATE",
    }[f.type]


# --- the published layouts' mappings (over the relation ``src``: the file's columns as text) ---


def _hhmm(date_col: str, time_col: str) -> str:
    # HES keeps times as hhmm integers ("0652"); a missing or malformed time leaves the instant NULL,
    # which the contract check then reports against the contract field.
    t = f"lpad(trim({time_col}), 4, '0')"
    return (
        f"CASE WHEN regexp_matches(trim({time_col}), '^[0-9]{{1,4}}$') "
        f"AND CAST({t}[1:2] AS INTEGER) < 24 AND CAST({t}[3:4] AS INTEGER) < 60 "
        f"THEN {date_col} || ' ' || {t}[1:2] || ':' || {t}[3:4] || ':00' "
        f"ELSE {date_col} || ' ' || coalesce({time_col}, '') END"
    )


def _after_arrival(dur_col: str) -> str:
    # HES durations are elapsed minutes from arrival. Adding them to the UTC instant (not the local
    # clock) keeps an attendance that spans a clock change the right length; the result carries a
    # 'Z' so validation takes it as written.
    return (
        f"CASE WHEN TRY_CAST({dur_col} AS INTEGER) IS NOT NULL AND _arrival_utc IS NOT NULL "
        f"THEN strftime(_arrival_utc + TRY_CAST({dur_col} AS INTEGER) * INTERVAL 1 MINUTE, "
        f"'%Y-%m-%dT%H:%M:%SZ') END"
    )


HES_AE_SQL = f"""
WITH base AS (
  SELECT *, {_hhmm("ARRIVALDATE", "ARRIVALTIME")} AS _arrival_local FROM src
), withutc AS (
  SELECT *, {{local_to_utc}} AS _arrival_utc FROM base
)
SELECT
  _row,
  AEKEY AS attendance_id,
  coalesce(nullif(SITETRET, ''), PROCODE3) AS site_code,
  CASE AEDEPTTYPE WHEN '01' THEN 'ed_type1' WHEN '02' THEN 'ed_type2' WHEN '03' THEN 'ed_type3'
                  WHEN '04' THEN 'ed_type4' END AS service_type,
  _arrival_local AS arrival_time,
  CASE AEARRIVALMODE WHEN '1' THEN 'ambulance' WHEN '2' THEN 'other' END AS arrival_mode,
  {_after_arrival("INITDUR")} AS initial_assessment_time,
  {_after_arrival("TRETDUR")} AS seen_time,
  {_after_arrival("DEPDUR")} AS departure_time,
  CASE WHEN AEATTENDDISP = '01' THEN 'admitted'
       WHEN AEATTENDDISP IN ('02', '03') THEN 'discharged'
       WHEN AEATTENDDISP IN ('04', '05', '06', '11') THEN 'referred'
       WHEN AEATTENDDISP = '07' THEN 'transferred'
       WHEN AEATTENDDISP = '10' THEN 'died'
       WHEN AEATTENDDISP IN ('12', '13') THEN 'left_before_treatment'
       WHEN AEATTENDDISP = '14' THEN 'other' END AS disposal,
  CASE WHEN TRY_CAST(ARRIVALAGE AS DOUBLE) IS NULL THEN NULL
       WHEN TRY_CAST(ARRIVALAGE AS DOUBLE) >= 7000 OR TRY_CAST(ARRIVALAGE AS DOUBLE) < 5 THEN '0-4'
       WHEN TRY_CAST(ARRIVALAGE AS DOUBLE) < 18 THEN '5-17'
       WHEN TRY_CAST(ARRIVALAGE AS DOUBLE) < 65 THEN '18-64'
       WHEN TRY_CAST(ARRIVALAGE AS DOUBLE) < 75 THEN '65-74'
       WHEN TRY_CAST(ARRIVALAGE AS DOUBLE) < 85 THEN '75-84'
       ELSE '85+' END AS age_band,
  CASE SEX WHEN '1' THEN 'male' WHEN '2' THEN 'female' WHEN '9' THEN 'unknown' WHEN '0' THEN 'unknown' END AS sex,
  CASE WHEN ETHNOS IN ('A', 'B', 'C') THEN 'white' WHEN ETHNOS IN ('D', 'E', 'F', 'G') THEN 'mixed'
       WHEN ETHNOS IN ('H', 'J', 'K', 'L') THEN 'asian' WHEN ETHNOS IN ('M', 'N', 'P') THEN 'black'
       WHEN ETHNOS IN ('R', 'S') THEN 'other' WHEN ETHNOS IN ('Z', 'X', '99') THEN 'not_stated' END AS ethnic_group,
  PSEUDO_HESID AS patient_key,
  concat_ws('; ',
    CASE WHEN AEDEPTTYPE IS NULL OR AEDEPTTYPE NOT IN ('01', '02', '03', '04')
         THEN 'AEDEPTTYPE: ''' || coalesce(AEDEPTTYPE, '') || ''' is not a department type 01-04' END
  ) AS _pre_reason
FROM withutc
"""

AE_MONTHLY_SQL = """
WITH typed AS (
  SELECT _row, org_code, period, type,
         unnest(['attendances', 'breaches', 'admissions']) AS measure,
         unnest([attendances, breaches, admissions]) AS value,
         concat_ws('; ',
           CASE WHEN type IS NULL OR type NOT IN ('1', '2', 'other')
                THEN 'type: ''' || coalesce(type, '') || ''' is not one of 1, 2, other' END,
           CASE WHEN TRY_CAST(period AS DATE) IS NOT NULL AND day(TRY_CAST(period AS DATE)) <> 1
                THEN 'period: ' || period || ' is not the first day of a month' END,
           CASE WHEN TRY_CAST(breaches AS DOUBLE) > TRY_CAST(attendances AS DOUBLE)
                THEN 'breaches exceed attendances' END
         ) AS _pre_reason
  FROM src
)
SELECT _row, org_code, period AS period_start, 'month' AS period_length,
       'ae_' || measure || '_type' || CASE type WHEN 'other' THEN '_other' ELSE type END AS metric_code,
       value, 'ae_monthly' AS source, _pre_reason
FROM typed
"""


# --- the Organisation Data Service's published files (headerless CSVs) ------------------------

#: The 27 columns of the ODS "etr" (NHS trusts) and "ets" (NHS trust sites) files, which have no
#: header line. Positions follow NHS Digital's published layout of these files: code, name, National
#: Grouping (the NHS England region), High Level Health Geography (the integrated care board),
#: address, postcode, open and close dates (YYYYMMDD); in the sites file, column 15 is the parent
#: organisation (the trust).
ODS_COLUMNS: tuple[str, ...] = (
    "Organisation Code", "Name", "National Grouping", "High Level Health Geography",
    "Address Line 1", "Address Line 2", "Address Line 3", "Address Line 4", "Address Line 5", "Postcode",
    "Open Date", "Close Date", "Null 1", "Null 2", "Parent Organisation Code", "Null 3", "Null 4",
    "Contact Telephone Number", "Null 5", "Null 6", "Null 7", "Amended Record Indicator", "Null 8",
    "GOR Code", "Null 9", "Null 10", "Null 11",
)


def _ods_date(col: str) -> str:
    # ODS dates are YYYYMMDD; anything else is passed on as written, so validation names it.
    return (f"""CASE WHEN regexp_matches(coalesce("{col}", ''), '^[0-9]{{8}}$') THEN """
            f"""substr("{col}", 1, 4) || '-' || substr("{col}", 5, 2) || '-' || substr("{col}", 7, 2) """
            f"""ELSE "{col}" END""")


def ods_hierarchy_sql(role: str) -> str:
    """Rows of ``org_hierarchy`` from an ODS trusts (``role='trust'``) or sites (``'site'``) file.

    A trust's parent is its integrated care board; a site's is its trust (column 15, or the first
    three characters of its code, which is how NHS trust site codes are made, when that is empty).
    """
    parent = ('"High Level Health Geography"' if role == "trust"
              else 'coalesce("Parent Organisation Code", left("Organisation Code", 3))')
    return f"""
SELECT _row, "Organisation Code" AS org_code, "Name" AS name, {literal(role)} AS role,
       {parent} AS parent_code, "National Grouping" AS region_code,
       {_ods_date("Open Date")} AS open_date, {_ods_date("Close Date")} AS close_date
FROM src
"""


# --- a load: validation in the private DuckDB ---------------------------------------------------


def describe_sql(relation: str) -> str:
    """The columns and types of a relation of the private DuckDB."""
    return f"DESCRIBE {relation}"


def mapped_sql(mapping_sql: str, local_to_utc: str) -> str:
    """The table ``mapped``: a published layout's rows in contract columns (still text)."""
    return f"CREATE TEMP TABLE mapped AS {mapping_sql.replace('{local_to_utc}', local_to_utc)}"


def as_text_view_sql(relation: str, columns: list[str]) -> str:
    """The view ``as_read``: ``relation`` with ``columns`` read as text (see ``validate.compatible``)."""
    as_text = ", ".join(f'CAST("{n}" AS VARCHAR) AS "{n}"' for n in columns)
    return f"CREATE TEMP VIEW as_read AS SELECT * REPLACE ({as_text}) FROM {relation}"


def checked_sql(typed_select: str) -> str:
    """The table ``checked``: every row typed, with ``_reason`` NULL when it passed."""
    return f"CREATE TEMP TABLE checked AS {typed_select}"


def dup_in_file_sql(key: tuple[str, ...]) -> str:
    """The table ``dup_in_file``: rows whose key appears on an earlier row of the same file.

    Most files have no repeated keys: the repeated ones are found with a hash aggregate first and
    only their rows ranked, rather than sorting the whole file.
    """
    cols = ", ".join(f'"{k}"' for k in key)
    return f"""CREATE TEMP TABLE dup_in_file AS
                WITH repeated AS (
                  SELECT {cols} FROM checked WHERE _reason IS NULL GROUP BY {cols} HAVING count(*) > 1
                ), ranked AS (
                  SELECT c._row, min(c._row) OVER (PARTITION BY {", ".join(f"c.{k}" for k in key)}) AS first_row
                  FROM checked c SEMI JOIN repeated r USING ({cols}) WHERE c._reason IS NULL
                )
                SELECT _row, 'duplicate of row ' || first_row || ' in this file (same {", ".join(key)})' AS reason
                FROM ranked WHERE _row <> first_row"""


#: The table ``bad``: one reason per source row. One source row may have become several contract
#: rows (an unpivot): it is judged whole.
BAD_SQL = """CREATE TEMP TABLE bad AS
               SELECT _row, string_agg(DISTINCT reason, '; ' ORDER BY reason) AS reason FROM (
                 SELECT _row, _reason AS reason FROM checked WHERE _reason IS NOT NULL
                 UNION ALL SELECT _row, reason FROM dup_in_file) GROUP BY _row"""


def good_sql(columns: str) -> str:
    """The rows that passed every check, in contract columns."""
    return f"SELECT _row, {columns} FROM checked ANTI JOIN bad USING (_row)"


def kept_sql(columns: str) -> str:
    """The table ``kept``: the contract columns of each rejected row of a published layout, as JSON."""
    return (
        f"CREATE TEMP TABLE kept AS SELECT _row, to_json(list(struct_pack({columns}))) AS contract "
        "FROM (SELECT _row, " + columns + " FROM mapped "
        # Only rejected rows need it: a large clean load pays nothing.
        "WHERE _row IN (SELECT _row FROM bad UNION ALL SELECT _row FROM store_dups)) GROUP BY _row"
    )


#: What the quarantine keeps of a rejected row in the contract's own columns: the row whole.
RAW_WHOLE = "to_json(s)::VARCHAR"
#: ... and of a published layout's row: its contract columns and a digest of the whole source row.
RAW_KEPT = (
    "json_object('contract', (SELECT k.contract FROM kept k WHERE k._row = s._row), "
    "'raw_sha256', sha256(to_json(s)::VARCHAR))::VARCHAR"
)


def quarantined_sql(key: tuple[str, ...], raw: str) -> str:
    """Every rejected source row with its reason and what is kept of it, in file order."""
    return f"""SELECT b._row AS row_number, b.reason, {raw} AS raw FROM (
                      SELECT _row, reason FROM bad
                      UNION ALL SELECT _row, 'already in the store (same {", ".join(key)})' FROM store_dups
                    ) b JOIN src s USING (_row) ORDER BY b._row"""


# --- a load: statements in the store (portable SQL) ---------------------------------------------


def reference_codes_sql(table_name: str, key: str) -> str:
    """The keys of a reference table, which a field that ``references`` it must hold."""
    return f"SELECT DISTINCT {key} AS code FROM {table_name}"


#: An earlier load of the same kind and the same bytes.
EARLIER_LOAD_SQL = "SELECT load_id FROM loads WHERE kind = :kind AND sha256 = :sha"
#: A DuckDB file made before load ids came from a sequence lacks it (PostgreSQL makes it on open).
LOAD_SEQUENCE_DDL = "CREATE SEQUENCE IF NOT EXISTS load_ids"
TOP_LOAD_ID_SQL = "SELECT coalesce(max(load_id), 0) AS n FROM loads"
NEXT_LOAD_ID_SQL = "SELECT nextval('load_ids') AS n"

_OLD_LOADS = "load_id IN (SELECT load_id FROM loads WHERE loaded_at < :cutoff)"
PURGE_COUNT_SQL = f"SELECT count(*) AS n FROM quarantine WHERE {_OLD_LOADS}"
PURGE_SQL = f"DELETE FROM quarantine WHERE {_OLD_LOADS}"


def _on_key(key: tuple[str, ...], a: str, b: str) -> str:
    return " AND ".join(f"{a}.{k} = {b}.{k}" for k in key)


def in_store_sql(table_name: str, key: tuple[str, ...]) -> str:
    """Staged rows (``uec_incoming``) whose key is already in the store."""
    return (
        f"SELECT DISTINCT s._row AS row FROM uec_incoming s WHERE EXISTS "
        f"(SELECT 1 FROM {table_name} t WHERE {_on_key(key, 't', 's')})"
    )


def insert_sql(table_name: str, columns: str, *, skip_clashes: bool) -> str:
    """Append the staged rows as load ``:load_id``, leaving out source rows listed in ``uec_clashes``.

    Every contract row of a source row that clashes is left out, so a source row is either loaded
    whole or quarantined whole.
    """
    sql = f"INSERT INTO {table_name} ({columns}, load_id) SELECT {columns}, :load_id FROM uec_incoming"
    if skip_clashes:
        sql += " WHERE _row NOT IN (SELECT _row FROM uec_clashes)"
    return sql


# --- the national returns' layouts (built from the contract's collections) ----------------------

#: What a published file writes for a value it does not have: no row is made for it.
_MISSING = "('', '.', 'NA', 'N/A', '-', ':', '*')"


def literal(value: str) -> str:
    """A SQL string literal.

    >>> literal("it's")
    "'it''s'"
    """
    return "'" + value.replace("'", "''") + "'"


_text = literal


def present_sql(expr: str) -> str:
    """True when a published value is there (not empty, ``.``, NA …)."""
    return f"({expr} IS NOT NULL AND trim({expr}) NOT IN {_MISSING})"


def normalised_label_sql(expr: str) -> str:
    """A row label compared loosely: case, dash style, non-breaking and repeated spaces ignored.

    Published labels vary in these between months (``process – ``, ``process- ``, a non-breaking space,
    a ``?`` where a non-breaking space was lost) without changing what they name.

    >>> import duckdb
    >>> con = duckdb.connect()
    >>> a = con.execute("SELECT " + normalised_label_sql("'Interface\\u00a0process – Homeless?(x)'")).fetchone()[0]
    >>> b = con.execute("SELECT " + normalised_label_sql("'interface process-homeless (X)'")).fetchone()[0]
    >>> a == b
    True
    """
    x = f"lower({expr})"
    x = f"regexp_replace({x}, '[\u00a0?]', ' ', 'g')"
    x = f"regexp_replace({x}, '\\s*[-\u2013\u2014]\\s*', '-', 'g')"
    x = f"regexp_replace({x}, '\\s*[(]\\s*', ' (', 'g')"
    x = f"regexp_replace({x}, '\\s+', ' ', 'g')"
    return f"trim({x})"


def wide_returns_sql(
    *, org: str, period: str, period_length: str, source: str,
    measures: list[tuple[str, str]], pre_reasons: list[str],
) -> str:
    """A mapping from a wide layout (one column per metric) onto ``returns``.

    ``org`` and ``period`` are SQL over ``src`` giving the organisation code and the period's first day
    as text; ``measures`` pairs each file column with SQL giving its metric code (a :func:`literal`, or
    an expression where the row decides, as a department type does); ``pre_reasons`` are SQL
    expressions giving a reason (or NULL) found before validation. A missing value makes no row; a
    source row with a reason and no value at all still makes one, so that it is quarantined.
    """
    cols = ", ".join(f'"{c}"' for c, _ in measures)
    codes = ", ".join(code for _, code in measures)
    reasons = ", ".join(pre_reasons) if pre_reasons else "NULL"
    return f"""
WITH base AS (
  SELECT _row, {org} AS org_code, {period} AS period_start, nullif(concat_ws('; ', {reasons}), '') AS _pre_reason,
         unnest([{codes}]) AS metric_code, unnest([{cols}]) AS raw_value
  FROM src
), marked AS (
  SELECT *, {present_sql("raw_value")} AS present,
         bool_or({present_sql("raw_value")}) OVER (PARTITION BY _row) AS any_present
  FROM base
)
SELECT _row, org_code, period_start, {_text(period_length)} AS period_length, metric_code,
       CASE WHEN present THEN trim(raw_value) END AS value, {_text(source)} AS source, _pre_reason
FROM marked
WHERE present OR (_pre_reason IS NOT NULL AND NOT any_present)
"""


def long_returns_sql(  # noqa: PLR0913 - one published layout, each part named at the call
    *, org: str, period: str, period_length: str, source: str, label: str, value: str,
    known: list[tuple[str, str]], what: str, pre_reasons: list[str], where: str = "TRUE",
) -> str:
    """A mapping from a long layout (one row per metric, named by a label) onto ``returns``.

    ``known`` pairs each label with its metric code; a label not among them is a reason naming the
    known labels. Rows not matching ``where`` make no row (a repeat checked by a reason instead).
    """
    table = ", ".join(f"({_text(lab)}, {_text(code)})" for lab, code in known)
    listed = "; ".join(lab for lab, _ in known)
    reasons = ", ".join(pre_reasons) if pre_reasons else "NULL"
    return f"""
WITH base AS (
  SELECT s.*, {org} AS _org, {period} AS _period, {label} AS _label, {value} AS raw_value FROM src s
), labelled AS (
  SELECT b.*, k.code AS _code,
         nullif(concat_ws('; ', {reasons},
           CASE WHEN k.code IS NULL AND {where} THEN {_text(what + ": '")} || left(coalesce(_label, ''), 120) ||
                {_text("' is not one of the known: " + listed)} END), '') AS _reason_before
  FROM base b LEFT JOIN (SELECT {normalised_label_sql("l")} AS l, code FROM (VALUES {table}) AS t(l, code)) k
    ON k.l = {normalised_label_sql("b._label")}
)
SELECT _row, _org AS org_code, _period AS period_start, {_text(period_length)} AS period_length,
       _code AS metric_code, CASE WHEN {present_sql("raw_value")} THEN trim(raw_value) END AS value,
       {_text(source)} AS source, _reason_before AS _pre_reason
FROM labelled
WHERE ({where} AND {present_sql("raw_value")}) OR _reason_before IS NOT NULL
"""


def first_of_month_reason(col: str) -> str:
    """A reason when a monthly layout's date is not the first day of a month."""
    return (f"CASE WHEN TRY_CAST({col} AS DATE) IS NOT NULL AND day(TRY_CAST({col} AS DATE)) <> 1 "
            f"THEN '{col}: ' || {col} || ' is not the first day of a month' END")


def unknown_metric_sql(table_name: str) -> str:
    """Rows of a returns file whose ``source`` is a known collection but whose metric code is not its.

    Runs in the private DuckDB over ``checked`` and the relation ``known_metrics(source, code, listed)``.
    """
    return f"""UPDATE {table_name} SET _reason = concat_ws('; ', _reason,
                 'metric_code: ''' || metric_code || ''' is not a ' || source || ' metric (known: ' || k.listed || ')')
               FROM (SELECT DISTINCT source AS src, listed FROM known_metrics) k
               WHERE {table_name}.source = k.src AND metric_code IS NOT NULL
                 AND NOT EXISTS (SELECT 1 FROM known_metrics m
                                 WHERE m.source = {table_name}.source AND m.code = {table_name}.metric_code)"""


# --- revisions and removals (portable SQL, in the store) -----------------------------------------

_RETURNS_KEY = ("org_code", "period_start", "period_length", "metric_code", "source")
_RETURNS_COLS = "org_code, period_start, period_length, metric_code, value, source, load_id"


def _same_key(a: str, b: str) -> str:
    return " AND ".join(f"{a}.{k} = {b}.{k}" for k in _RETURNS_KEY)


#: How many stored returns values the staged rows (``uec_incoming``) revise.
REVISED_COUNT_SQL = (
    f"SELECT count(*) AS n FROM returns WHERE EXISTS (SELECT 1 FROM uec_incoming s WHERE {_same_key('s', 'returns')})"
)
#: The values a revision replaces go to the history, naming the load that replaced them ...
SUPERSEDE_SQL = (
    f"INSERT INTO returns_history ({_RETURNS_COLS}, superseded_by) SELECT {_RETURNS_COLS}, :load_id FROM returns "
    f"WHERE EXISTS (SELECT 1 FROM uec_incoming s WHERE {_same_key('s', 'returns')})"
)
#: ... and leave the current values, so every reader of ``returns`` sees one value per key.
REMOVE_SUPERSEDED_SQL = (
    f"DELETE FROM returns WHERE EXISTS (SELECT 1 FROM uec_incoming s WHERE {_same_key('s', 'returns')})"
)

LOAD_SQL = "SELECT load_id, kind, table_name, file_name, loaded_at, rows_loaded FROM loads WHERE load_id = :load_id"


def rows_of_load_sql(table_name: str) -> str:
    """How many rows of ``table_name`` a load brought that are still there."""
    return f"SELECT count(*) AS n FROM {table_name} WHERE load_id = :load_id"


def delete_load_rows_sql(table_name: str) -> str:
    """Remove a load's rows from ``table_name``."""
    return f"DELETE FROM {table_name} WHERE load_id = :load_id"


#: Unloading a load whose values were themselves later revised: the values they replaced are now
#: replaced by the later revision (the chain of a key skips the removed load).
RELINK_HISTORY_SQL = f"""UPDATE returns_history SET superseded_by = (
      SELECT x.superseded_by FROM returns_history x WHERE x.load_id = :load_id AND {_same_key('x', 'returns_history')})
    WHERE superseded_by = :load_id AND EXISTS (
      SELECT 1 FROM returns_history x WHERE x.load_id = :load_id AND {_same_key('x', 'returns_history')})"""
#: The load's own values that a later load replaced.
DELETE_LOAD_HISTORY_SQL = "DELETE FROM returns_history WHERE load_id = :load_id"
#: The values the load replaced become current again ...
RESTORE_SUPERSEDED_SQL = (
    f"INSERT INTO returns ({_RETURNS_COLS}) SELECT {_RETURNS_COLS} FROM returns_history WHERE superseded_by = :load_id"
)
#: ... and leave the history.
DELETE_RESTORED_SQL = "DELETE FROM returns_history WHERE superseded_by = :load_id"
RESTORED_COUNT_SQL = "SELECT count(*) AS n FROM returns_history WHERE superseded_by = :load_id"
DELETE_LOAD_QUARANTINE_SQL = "DELETE FROM quarantine WHERE load_id = :load_id"
QUARANTINE_OF_LOAD_SQL = "SELECT count(*) AS n FROM quarantine WHERE load_id = :load_id"
DELETE_LOAD_SQL = "DELETE FROM loads WHERE load_id = :load_id"

#: Every value a returns key has had: the current one and those revisions replaced, with their loads.
HISTORY_SQL = """
SELECT v.value, v.load_id, l.file_name, l.loaded_at, v.superseded_by, s.loaded_at AS superseded_at FROM (
  SELECT value, load_id, CAST(NULL AS BIGINT) AS superseded_by FROM returns
   WHERE org_code = :org AND period_start = :start AND metric_code = :metric AND source = :source
  UNION ALL
  SELECT value, load_id, superseded_by FROM returns_history
   WHERE org_code = :org AND period_start = :start AND metric_code = :metric AND source = :source
) v LEFT JOIN loads l ON l.load_id = v.load_id LEFT JOIN loads s ON s.load_id = v.superseded_by
ORDER BY l.loaded_at NULLS FIRST, v.load_id
"""

#: Whether the store has the history table yet (a store made before revisions were kept has not).
HAS_HISTORY_SQL = "SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'returns_history'"
#: The current value of one returns key, with its load (when there is no history table).
CURRENT_VALUE_SQL = """
SELECT r.value, r.load_id, l.file_name, l.loaded_at FROM returns r LEFT JOIN loads l ON l.load_id = r.load_id
WHERE r.org_code = :org AND r.period_start = :start AND r.metric_code = :metric AND r.source = :source
"""


# --- real data in a demo store (issue 15) -----------------------------------------------------
# A demo store is one ``uec.demo.build_demo`` wrote: its loads have kind ``demo``. These find out
# whether a store is one, and which organisations or sites a later load brought in that the demo
# does not have. Kept here (not in uec.demo) so the feeds, which sit below the demo, can warn too.

#: Where a table names its organisation or site, and the demo reference table and column it
#: must match: the code columns of the contract (identifiers, never user input).
CODE_COLUMNS = {"org_code": ("organisations", "org_code"), "site_code": ("sites", "site_code")}


def has_demo_load(store: Store) -> bool:
    """Whether ``build_demo`` wrote into ``store`` (a load of kind ``demo``).

    >>> import tempfile, os
    >>> from uec.store import open_store
    >>> with tempfile.TemporaryDirectory() as d:
    ...     has_demo_load(open_store(os.path.join(d, "uec.duckdb")))
    False
    """
    return bool(store.query("SELECT count(*) AS n FROM loads WHERE kind = 'demo'")[0]["n"])


def _not_in_demo(table: str, column: str) -> str:
    """The rows of ``table`` whose ``column`` the demo's reference data lacks (``table`` and ``column``
    are a contract table and one of :data:`CODE_COLUMNS`, never user input)."""
    ref_table, ref_column = CODE_COLUMNS[column]
    return (f"FROM {table} t WHERE t.{column} IS NOT NULL AND t.{column} NOT IN (SELECT r.{ref_column} "
            f"FROM {ref_table} r WHERE r.load_id IN (SELECT load_id FROM loads WHERE kind = 'demo'))")


def codes_not_in_demo(store: Store, table: str, column: str, load_id: int, limit: int = 5) -> tuple[int, list[str]]:
    """How many distinct codes in ``table.column`` of load ``load_id`` the demo's reference data
    lacks, and up to ``limit`` of them (sorted).

    >>> import tempfile, os
    >>> from uec.store import open_store
    >>> with tempfile.TemporaryDirectory() as d:
    ...     codes_not_in_demo(open_store(os.path.join(d, "uec.duckdb")), "returns", "org_code", 1)
    (0, [])
    """
    missing = f"SELECT DISTINCT t.{column} AS code {_not_in_demo(table, column)} AND t.load_id = :load_id"
    n = int(store.query(f"SELECT count(*) AS n FROM ({missing}) m", {"load_id": load_id})[0]["n"])
    codes = [str(r["code"]) for r in store.query(f"{missing} ORDER BY code LIMIT {int(limit)}", {"load_id": load_id})]
    return n, codes


def foreign_codes(store: Store, table: str, column: str) -> list[tuple[int, str]]:
    """Every (load, code) of ``table.column`` that a load other than the demo's brought in and the
    demo's reference data lacks, sorted: the whole store's mixed-in codes in one statement.

    >>> import tempfile, os
    >>> from uec.store import open_store
    >>> with tempfile.TemporaryDirectory() as d:
    ...     foreign_codes(open_store(os.path.join(d, "uec.duckdb")), "returns", "org_code")
    []
    """
    rows = store.query(f"SELECT DISTINCT t.load_id AS load_id, t.{column} AS code {_not_in_demo(table, column)} "
                       "AND t.load_id NOT IN (SELECT load_id FROM loads WHERE kind = 'demo') ORDER BY load_id, code")
    return [(int(r["load_id"]), str(r["code"])) for r in rows]
