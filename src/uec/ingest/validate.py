"""Validation of staged rows against the contract, written as one DuckDB query.

Each contract field becomes a typed expression and a handful of reason expressions; a row's reason
is every failed check joined with "; ". Doing it in SQL keeps validation vectorised (about a million
rows a second here) and lets the same code serve both stores: validation always runs in an
in-memory DuckDB, whatever the target store is.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from uec.contract import EARLIEST_YEAR, LOCAL_TIME_ZONE, Field, Table, contract

__all__ = ["EARLIEST_YEAR", "MAX_OFFSET_MINUTES", "compatible", "local_to_utc_sql", "typed_select_sql"]

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
_NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
            "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "DECIMAL", "REAL")


def compatible(f: Field, source_type: str) -> bool:
    """Whether a column of ``source_type`` can be typed as ``f`` directly; if not, read it as text.

    Reading an odd column as text (int64 seconds for an instant, say) turns what would be a failed
    cast of the whole file into one reason per row.

    >>> from uec.contract import table
    >>> compatible(table("attendances").field("arrival_time"), "BIGINT")
    False
    >>> compatible(table("attendances").field("acuity"), "DOUBLE")
    True
    """
    st = source_type.upper()
    if st in _TEXT_TYPES or f.type in ("string", "code"):
        return True
    if f.type in ("integer", "number"):
        return st.startswith(_NUMERIC)
    if f.type in ("instant", "date"):
        return st.startswith("TIMESTAMP") or st == "DATE"
    return st == "BOOLEAN"


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
    >>> rows = pa.table({"_row": [1, 2], "org_code": ["RXA", None], "period_start": ["2024-04-01", "x"],
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
    if "_pre_reason" in source_types:
        checks.insert(0, '"_pre_reason"')
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
