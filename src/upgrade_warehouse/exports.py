"""Files people open in a spreadsheet: CSV and Excel cells that cannot run as formulas.

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
read as a formula by Excel, LibreOffice and Google Sheets (CSV/formula injection). As
OWASP recommends, such a cell is prefixed with a single quote, so it shows as the text it
is. Only *text* cells are touched: numbers (negative amounts included) stay numbers.
"""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_PATTERN = r"^[=+\-@\t\r]"


def safe_text(value: Any) -> Any:
    """A text cell that a spreadsheet shows as text; anything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_polars(frame, columns=None):
    """The polars frame with its text columns (or ``columns``) made safe."""
    import polars as pl

    names = columns or [n for n, t in frame.schema.items() if t == pl.Utf8]
    return frame.with_columns(
        pl.when(pl.col(n).str.contains(_FORMULA_PATTERN))
        .then(pl.lit("'") + pl.col(n))
        .otherwise(pl.col(n))
        .alias(n)
        for n in names
    )


def safe_pandas(frame, columns=None):
    """A copy of the pandas frame with its text cells (or ``columns``) made safe."""
    from pandas.api.types import is_object_dtype, is_string_dtype

    out = frame.copy()
    names = columns or [
        c for c in out.columns if is_object_dtype(out[c]) or is_string_dtype(out[c])
    ]
    for name in names:
        out[name] = out[name].map(safe_text)
    return out


def append_header(sheet, headers: list) -> None:
    """Append ``headers`` to an openpyxl worksheet as its bold header row."""
    from openpyxl.styles import Font

    sheet.append(headers)
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
