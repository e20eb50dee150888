"""Tables as people read them: every cell formatted, every header a label.

:func:`formatted` turns a data frame from the data module into the frame a page shows:
counts with thousands separators, rates as percentages with one decimal, money in major
units with the currency's exponent (amounts in minor units too), durations in s / min /
h / d, timestamps in UTC, yes / no, and "–" for a missing value (never "None" or "nan").
Headers are labels ("Accepted share"), never snake_case ids. The unit of a column
comes from ``units`` or from its name and type (:func:`guess_unit`).

The shown frame holds text, so the grid sorts columns as text; the CSV downloads carry
the same formatted text (spreadsheet formulas neutralised by :mod:`..exports`).
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime

import pandas as pd

from ..currencies import currency_exponent
from .fmt import format_delta, format_money, format_ts, format_value

MISSING = "–"
# Units a table column can have (besides the catalog's: rate, count, money, seconds,
# hours, days): ``minor`` = integer minor units of the row's currency, ``number``,
# ``text``, ``bool``, ``ts``, ``delta_*`` = a signed change in one of the units.
NUMERIC_UNITS = {
    "rate",
    "count",
    "money",
    "minor",
    "number",
    "seconds",
    "hours",
    "days",
    "count_by_key",
    "rate_by_key",
}


def label_of(column: str) -> str:
    """``time_to_sync_seconds_p50`` -> ``Time to sync seconds p50`` (when no label is
    given: ids never reach a header)."""
    text = column.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def guess_unit(column: str, series: pd.Series) -> str:
    """The unit of a column from its name (``*_minor``, ``*rate*``, ``*share*``,
    ``*_seconds*``, ``*_hours*``, ``*_days*``) and its type."""
    name = column.lower()
    if pd.api.types.is_bool_dtype(series):
        return "bool"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "ts"
    numeric = pd.api.types.is_numeric_dtype(series)
    if name.endswith("_minor") and numeric:
        return "minor"
    if numeric and ("rate" in name or "share" in name):
        return "rate"
    for unit in ("seconds", "hours", "days"):
        if numeric and (name.endswith(f"_{unit}") or f"_{unit}_" in name):
            return unit
    if pd.api.types.is_integer_dtype(series):
        return "count"
    if numeric:
        values = series.dropna()
        if len(values) and all(float(v).is_integer() for v in values):
            return "count"
        return "number"
    values = series.dropna()
    if len(values) and all(isinstance(v, bool) for v in values):
        return "bool"
    if len(values) and all(isinstance(v, datetime | date) for v in values):
        return "ts"
    return "text"


def is_missing(value) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(isinstance(value, float) and math.isnan(value))
    except TypeError:
        return False


def cell(value, unit: str, currency: str) -> str:
    """One value as text (``currency``: of the row for ``minor``, else the reporting)."""
    if is_missing(value):
        return MISSING
    if unit.startswith("delta_"):
        return format_delta(float(value), unit[len("delta_") :], currency) or MISSING
    if unit == "minor":
        exponent = currency_exponent(currency)
        return f"{int(value) / 10**exponent:,.{exponent}f} {currency}".rstrip()
    if unit == "money":
        return format_money(float(value), currency)
    if unit in ("rate", "count", "seconds", "hours", "days"):
        return format_value(value, unit, currency)
    if unit == "number":
        return f"{float(value):,.2f}"
    if unit == "bool":
        return "yes" if bool(value) else "no"
    if unit == "ts":
        return format_ts(value.to_pydatetime() if isinstance(value, pd.Timestamp) else value)
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def formatted(
    frame: pd.DataFrame,
    *,
    labels: dict[str, str] | None = None,
    units: dict[str, str] | None = None,
    currency: str = "",
    currency_columns: dict[str, str] | None = None,
) -> tuple[pd.DataFrame, dict[str, str]]:
    """(the frame as text with labelled headers, label -> unit of each column).

    ``currency_columns``: column -> the column holding its rows' currency (amounts in
    minor units of the plan currency); other money is in ``currency``."""
    labels, units, currency_columns = labels or {}, units or {}, currency_columns or {}
    out = {}
    shown_units = {}
    for column in frame.columns:
        unit = units.get(column) or guess_unit(column, frame[column])
        source = currency_columns.get(column)
        if source is None and unit == "minor" and "currency" in frame.columns:
            source = "currency"
        if source is not None:
            texts = [
                cell(v, unit, c if isinstance(c, str) else currency)
                for v, c in zip(frame[column], frame[source])
            ]
        else:
            texts = [cell(v, unit, currency) for v in frame[column]]
        label = labels.get(column) or label_of(str(column))
        out[label] = texts
        shown_units[label] = unit
    return pd.DataFrame(out, columns=list(out)), shown_units
