"""One home for each query (issue 10): each capability keeps its SQL in one module.

A module may hold SQL statements only if it is one of the store's own modules (``uec/store/*``:
the query layer itself), a package's ``queries.py`` (its one home of SQL) or a package's
``schema.py`` (its tables' DDL), or is named in :data:`OTHER_HOMES` with the reason. Everything
else asks those modules for rows. The scan reads every string literal of ``src/uec`` with the
``ast`` module (docstrings aside: their examples are documentation), f-strings with each
placeholder read as a name, and looks for the shape of a statement (``SELECT … FROM``,
``INSERT INTO``, ``UPDATE … SET``, ``DELETE FROM``, ``CREATE TABLE``, ``LOCK TABLE``…).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "uec"

#: The shape of a SQL statement. Keywords are upper case, as all the project's SQL is written;
#: prose ("select a site") is not matched.
SQL = re.compile(
    r"\bSELECT\b[\s\S]*\bFROM\b"
    r"|^\s*\(?\s*(SELECT|WITH)\s"
    r"|\bINSERT\s+INTO\b"
    r"|\bUPDATE\s+\w+\s+SET\b"
    r"|\bDELETE\s+FROM\b"
    r"|\b(CREATE|DROP)\s+(OR\s+REPLACE\s+)?(TEMP\w*\s+)?(UNIQUE\s+)?(TABLE|INDEX|VIEW|SEQUENCE|SCHEMA|DATABASE)\b"
    r"|\bALTER\s+TABLE\b"
    r"|\bTRUNCATE\s+(TABLE\s+)?\w+"
    r"|\bLOCK\s+TABLE\b"
    r"|\bCOPY\s+\w+\s+(FROM|TO)\b",
)

#: A package whose one home of SQL is not called queries.py, and why.
OTHER_HOMES = {
    # The standards engine compiles each catalogue recipe to SQL: the recipe compiler is the
    # capability's only module with SQL, and its queries are built from the recipe's parts.
    "standards/engine.py": "standards compiles catalogue recipes to SQL in one module",
}

#: TEMPORARY: modules whose SQL is being moved to their package's home while other work is under way
#: (empty now). An entry goes as soon as its module holds no SQL (test_temporary_entries_still_hold_sql).
TEMPORARY: set[str] = set()


def allowed(module: str) -> bool:
    """Whether ``module`` (a path under src/uec, with ``/``) may hold SQL.

    >>> [allowed(m) for m in ("store/duckdb.py", "forecast/queries.py", "jobs/schema.py", "web/app.py", "cli.py")]
    [True, True, True, False, False]
    """
    parts = module.split("/")
    return (
        parts[0] == "store"
        or (len(parts) == 2 and parts[1] in ("queries.py", "schema.py"))
        or module in OTHER_HOMES
        or module in TEMPORARY
    )


def _docstrings(tree: ast.AST) -> set[int]:
    kinds = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    return {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, kinds)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }


def sql_literals(source: str) -> Iterator[tuple[int, str]]:
    """(line, text) of each string literal in ``source`` that holds a SQL statement.

    >>> list(sql_literals('n = 1\\nq = f"SELECT {cols} FROM {table}"\\ndef f():\\n    "SELECT the site FROM a list"'))
    [(2, 'SELECT cols FROM table')]
    """
    tree = ast.parse(source)
    skip = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(
                str(v.value) if isinstance(v, ast.Constant) else ast.unparse(v.value)
                for v in node.values
                if isinstance(v, ast.Constant | ast.FormattedValue)
            )
            skip |= {id(v) for v in node.values}
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            text = node.value
        else:
            continue
        if SQL.search(text):
            yield node.lineno, text


def sql_modules() -> dict[str, list[tuple[int, str]]]:
    """Every module of src/uec that holds SQL, with the literals (path under src/uec -> hits)."""
    out: dict[str, list[tuple[int, str]]] = {}
    for path in sorted(SRC.rglob("*.py")):
        hits = list(sql_literals(path.read_text(encoding="utf-8")))
        if hits:
            out[path.relative_to(SRC).as_posix()] = hits
    return out


def test_sql_lives_only_in_its_homes() -> None:
    found = sql_modules()
    stray = {m: hits for m, hits in found.items() if not allowed(m)}
    assert not stray, (
        "SQL outside its package's queries.py (or schema.py for DDL): move it there and call it.\n"
        + "\n".join(f"src/uec/{m}:{line}: {text.strip()[:80]!r}" for m, hits in stray.items() for line, text in hits)
    )


def test_each_package_has_one_home() -> None:
    # Within a package (the store aside), SQL sits in queries.py, schema.py or its named other home.
    homes: dict[str, set[str]] = {}
    for module in sql_modules():
        parts = module.split("/")
        if parts[0] != "store" and len(parts) > 1 and module not in TEMPORARY and parts[-1] != "schema.py":
            homes.setdefault(parts[0], set()).add(parts[-1])
    several = {pkg: sorted(mods) for pkg, mods in homes.items() if len(mods) > 1}
    assert not several, f"more than one SQL module in a package: {several}"


def test_temporary_entries_still_hold_sql() -> None:
    # The temporary list only shrinks: once a branch has moved a module's SQL, its entry must go.
    found = sql_modules()
    gone = sorted(m for m in TEMPORARY if m not in found)
    assert not gone, f"delete from TEMPORARY in {Path(__file__).name} (no SQL there now): {gone}"


def test_the_scan_sees_sql() -> None:
    # Guards the checks above against passing because the scan reads nothing.
    found = sql_modules()
    for home in ("escalation/queries.py", "forecast/queries.py", "jobs/queries.py", "store/schema.py",
                 "system/queries.py", "activity/queries.py"):
        assert home in found, home
    # An f-string whose statement is split by placeholders is seen (jobs' column list, a table name).
    assert any("SELECT COLUMNS FROM jobs" in text for _, text in found["jobs/queries.py"])


@pytest.mark.parametrize("text", [
    "SELECT count(*) AS n FROM loads",
    "INSERT INTO jobs (a) VALUES (:a)",
    "UPDATE jobs SET state = :s",
    "DELETE FROM quarantine WHERE load_id = :l",
    "CREATE TABLE IF NOT EXISTS x (a INT)",
    "CREATE TEMP TABLE staged AS SELECT 1",
    "LOCK TABLE jobs IN SHARE ROW EXCLUSIVE MODE",
    "SELECT pg_advisory_xact_lock(7201)",
    "WITH instants AS (SELECT 1) SELECT * FROM instants",
])
def test_statements_are_recognised(text: str) -> None:
    assert SQL.search(text)


@pytest.mark.parametrize("text", [
    "select a site from the list",
    "Choose the sites to SELECT",
    "an UPDATE to the page",
    "created the table",
])
def test_prose_is_not_sql(text: str) -> None:
    assert not SQL.search(text)
