"""CSV cells that a spreadsheet cannot run: the one place every CSV writer neutralises formulas.

A cell that begins with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return) is read by Excel,
LibreOffice and Google Sheets as a formula, which can run commands or leak data ("CSV injection").
Following the OWASP advice (https://owasp.org/www-community/attacks/CSV_Injection), such a cell is
written with a leading single quote, which spreadsheets show as text and do not evaluate.

A plain number is never changed: ``-5`` or ``+1.5e3`` is a number to a spreadsheet, not a formula,
and a negative difference or change must stay a number people can sum. Only text that is not a
plain number is neutralised, so ``-5`` stays and ``-5+cmd|' /C calc'!A0`` does not.

>>> neutralise("=HYPERLINK(\\"http://x\\")"), neutralise("-5"), neutralise("@SUM(A1)"), neutralise("DEMO-A01")
('\\'=HYPERLINK("http://x")', '-5', "'@SUM(A1)", 'DEMO-A01')
"""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["TRIGGERS", "neutralise", "neutralise_table"]

#: First characters that make a spreadsheet read a cell as a formula.
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

_NUMBER = r"[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]+)?"
_NUMBER_RE = re.compile(_NUMBER)
_TRIGGER_RE = "^[=+\\-@\\t\\r]"


def neutralise(value: str) -> str:
    """``value`` as a CSV cell that no spreadsheet evaluates (see the module docstring).

    >>> neutralise("+44 20 7946 0000"), neutralise("\\tx"), neutralise("-0.25"), neutralise("")
    ("'+44 20 7946 0000", "'\\tx", '-0.25', '')
    """
    if value and value[0] in TRIGGERS and not _NUMBER_RE.fullmatch(value):
        return "'" + value
    return value


def neutralise_table(data: pa.Table) -> pa.Table:
    """Every text column of ``data`` with :func:`neutralise` applied, vectorised; other columns as they are.

    >>> t = neutralise_table(pa.table({"a": ["=1+1", "-5", None], "n": [-1, 2, 3]}))
    >>> t.column("a").to_pylist(), t.column("n").to_pylist()
    (["'=1+1", '-5', None], [-1, 2, 3])
    """
    columns = []
    for col in data.columns:
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            risky = pc.and_(
                pc.match_substring_regex(col, _TRIGGER_RE),
                pc.invert(pc.match_substring_regex(col, f"^{_NUMBER}$")),
            )
            col = pc.if_else(risky, pc.binary_join_element_wise("'", col, ""), col)
        columns.append(col)
    return pa.table(columns, names=data.column_names)
