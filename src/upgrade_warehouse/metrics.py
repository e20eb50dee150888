"""`upgrade-warehouse metrics`: the monthly metrics of ``shared/spec/metrics.md``.

Reads the published warehouse through the read-only reader (:mod:`.warehouse`). The
metric ids, their order, units and labels come from the metric catalog seed
(``seeds/metric_catalog.csv``, in the warehouse as ``reference.metric_catalog``): this
module iterates the catalog and names no metric. ``--by DIM`` reads the segmented marts
(metrics.md "Segments").
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import sys
from pathlib import Path
from typing import Annotated

import duckdb
import typer

from .data_warnings import read_warnings
from .errors import UserError
from .exports import safe_text
from .formats import (
    DURATION_SECONDS,
    OutputFormat,
    TableFormatOption,
    WarehouseOption,
    by_option,
    duration_unit,
    format_duration,
    format_p_value,
    format_probability,
)
from .paths import DEFAULT_WAREHOUSE
from .warehouse import (
    COUNT_UNITS,
    KEYED_UNITS,
    RATE_UNITS,
    Metric,
    check_version,
    connect,
    read_build,
    read_catalog,
    read_dimensions,
)

__all__ = [
    "COUNT_UNITS",
    "KEYED_UNITS",
    "RATE_UNITS",
    "Metric",
    "duration_unit",
    "format_duration",
    "format_money",
    "format_p_value",
    "format_probability",
    "format_value",
    "number",
    "read_metrics",
    "to_csv",
]


def number(value, unit: str):
    """A metric value as the JSON has it: int for counts, float (never NaN) otherwise."""
    if value is None:
        return None
    if unit in COUNT_UNITS:
        return int(value)
    value = float(value)
    return None if math.isnan(value) else value


def read_metrics(warehouse: Path, month: str | None = None, by: str | None = None) -> dict:
    """The metrics JSON object of metrics.md (optionally one month only, or split by an
    account attribute: ``by``)."""
    return _read(warehouse, month, by)[0]


def _check_month(month: str | None) -> None:
    if month is not None and not re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", month):
        raise UserError(f"--month must be YYYY-MM, not {month!r}")


def _read(warehouse: Path, month: str | None, by: str | None = None) -> tuple[dict, list[Metric]]:
    """The metrics JSON object and the catalog, from one read-only connection."""
    _check_month(month)
    with connect(warehouse) as con:
        check_version(con, warehouse)
        metrics = read_catalog(con)
        build = read_build(con)
        if by is not None:
            dimensions = read_dimensions(con)
            if by not in dimensions:
                raise UserError(
                    f"--by {by!r}: not an account attribute to split by "
                    f"(one of: {', '.join(dimensions)})"
                )
        segments = _segment_months(con, metrics, by)
        # No segment (no accepted account): --month is checked against the warehouse's.
        every = segments or (_segment_months(con, metrics, None) if month is not None else {})
        warnings = read_warnings(con, Path(warehouse))
    if month is not None:
        available = [m["month"] for m in next(iter(every.values()), [])]
        if month not in available:
            span = f"{available[0]} to {available[-1]}" if available else "none"
            raise UserError(f"--month {month}: not in the warehouse (months: {span})")
        segments = {s: [m for m in months if m["month"] == month] for s, months in segments.items()}
    parameters = build.parameters
    result = {
        "as_of": parameters["as_of"],
        "reporting_currency": build.reporting_currency,
        "parameters": parameters,
    }
    if by is None:
        result["months"] = segments.get(None, [])
    else:
        result["dimension"] = by
        result["segments"] = [{"segment": s, "months": m} for s, m in segments.items()]
    result["warnings"] = warnings
    return result, metrics


def _segment_months(
    con: duckdb.DuckDBPyConnection, metrics: list[Metric], by: str | None
) -> dict[str | None, list[dict]]:
    """segment value -> its month objects, segments by value (null last), months in order.
    Without ``by`` the one key is None (all accounts, from fct_monthly_metrics)."""
    scalar_ids = [m.metric_id for m in metrics if not m.keyed]
    columns = ", ".join(f'"{m}"' for m in scalar_ids)
    if by is None:
        rows = con.execute(
            f"select null, strftime(month, '%Y-%m') as month, {columns} "
            "from marts.fct_monthly_metrics order by month"
        ).fetchall()
        breakdowns = con.execute(
            "select null, strftime(month, '%Y-%m'), metric_id, breakdown_key, metric_value "
            "from marts.fct_monthly_metric_breakdowns "
            "order by month, metric_id, breakdown_order, breakdown_key"
        ).fetchall()
    else:
        rows = con.execute(
            f"select segment_value, strftime(month, '%Y-%m') as month, {columns} "
            "from marts.fct_monthly_metrics_by_segment "
            "where segment_dimension = $by and month is not null "
            "order by segment_value nulls last, month",
            {"by": by},
        ).fetchall()
        breakdowns = con.execute(
            "select segment_value, strftime(month, '%Y-%m'), metric_id, breakdown_key, "
            "metric_value from marts.fct_monthly_metric_breakdowns_by_segment "
            "where segment_dimension = $by and month is not null "
            "order by segment_value nulls last, month, metric_id, breakdown_order, breakdown_key",
            {"by": by},
        ).fetchall()
    units = {m.metric_id: m.unit for m in metrics}
    keyed: dict[tuple, dict] = {}
    for segment, m, metric_id, key, value in breakdowns:
        keyed.setdefault((segment, m, metric_id), {})[key] = number(value, units[metric_id])

    segments: dict[str | None, list[dict]] = {}
    for segment, m, *values in rows:
        by_id = dict(zip(scalar_ids, values))
        out = {"month": m}
        for metric in metrics:
            if metric.keyed:
                out[metric.metric_id] = keyed.get((segment, m, metric.metric_id))
            else:
                out[metric.metric_id] = number(by_id[metric.metric_id], metric.unit)
        segments.setdefault(segment, []).append(out)
    return segments


# ----------------------------------------------------------------------------- formats

# Durations, probabilities and p-values: one rule each, in formats.py (the base layer,
# which the commands and the pages below metrics.py import too).


def format_money(value: float, currency: str, *, whole: bool = False) -> str:
    """Major units with the currency's exponent (the currency seed): 1,234.50 USD, 1,235
    JPY; ``whole`` rounds to whole units (headline cards: 5,013 USD)."""
    from .currencies import currency_exponent

    digits = 0 if whole else currency_exponent(currency)
    return f"{value:,.{digits}f} {currency}".rstrip()


def format_value(value, unit: str, currency: str) -> str:
    """A number as people read it: 12.5%, 1,234, 45.00 USD, 1.8 s, 3.2 h, 2.5 d."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if unit in RATE_UNITS:
        return f"{value:.1%}"
    if unit in COUNT_UNITS:
        return f"{int(value):,}"
    if unit == "money":
        return format_money(value, currency)
    if unit in DURATION_SECONDS:
        return format_duration(value * DURATION_SECONDS[unit])
    return f"{value:,.1f}"


def _cell(value) -> object:
    """A CSV cell: empty for null, a keyed metric as JSON, text made safe for spreadsheets
    (segment values come from the exports: exports.safe_text)."""
    if value is None:
        return ""
    return json.dumps(value) if isinstance(value, dict) else safe_text(value)


def to_csv(result: dict, metrics: list[Metric]) -> str:
    """``month,<ids>`` rows; with ``--by DIM``, ``DIM,month,<ids>`` rows segment by
    segment (an empty DIM cell is the segment of accounts without a value)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    ids = [m.metric_id for m in metrics]
    if "segments" in result:
        writer.writerow([result["dimension"], "month", *ids])
        for segment in result["segments"]:
            for month in segment["months"]:
                writer.writerow(
                    [_cell(segment["segment"]), month["month"], *[_cell(month[i]) for i in ids]]
                )
        return buf.getvalue()
    writer.writerow(["month", *ids])
    for month in result["months"]:
        writer.writerow([month["month"], *[_cell(month[i]) for i in ids]])
    return buf.getvalue()


def _add_metric_rows(table, metrics: list[Metric], columns: list[dict], currency: str) -> None:
    """One row per scalar metric and per key of a keyed metric; one column per month
    object of ``columns``; a section line between sections."""
    section = None
    for m in metrics:
        if m.section != section:
            section = m.section
            table.add_section()
        if m.keyed:
            keys = []
            for column in columns:
                for k in column[m.metric_id] or {}:
                    if k not in keys:
                        keys.append(k)
            table.add_row(m.label, *["" for _ in columns])
            for k in keys:
                table.add_row(
                    f"  {k}",
                    *[
                        format_value((column[m.metric_id] or {}).get(k), m.unit, currency)
                        for column in columns
                    ],
                )
        else:
            table.add_row(
                m.label,
                *[format_value(column[m.metric_id], m.unit, currency) for column in columns],
            )


def print_table(result: dict, metrics: list[Metric], last: int = 6) -> None:
    from rich.console import Console
    from rich.table import Table

    currency = result["reporting_currency"]
    if "segments" in result:
        print_segment_table(result, metrics)
        return
    months = result["months"][-last:]
    table = Table(
        title=f"Monthly metrics (as_of {result['as_of']}, {currency})",
        caption=None
        if len(result["months"]) <= last
        else f"latest {last} of {len(result['months'])} months; --month YYYY-MM or --format csv for others",
    )
    table.add_column("metric")
    for month in months:
        table.add_column(month["month"], justify="right")
    _add_metric_rows(table, metrics, months, currency)
    console = Console()
    console.print(table)
    print_warnings(result, console)


def print_warnings(result: dict, console=None) -> None:
    """The warnings of the JSON below the table, one line each (``Warning (code): ...``)."""
    from rich.console import Console
    from rich.markup import escape

    console = console or Console()
    for warning in result.get("warnings", []):
        console.print(f"[bold yellow]Warning[/] ({warning['code']}): {escape(warning['message'])}")


def print_segment_table(result: dict, metrics: list[Metric]) -> None:
    """``--by``: one month (the one asked for, else the latest), a column per segment."""
    from rich.console import Console
    from rich.table import Table

    currency = result["reporting_currency"]
    segments = result["segments"]
    if not segments:
        Console().print(
            f"No segment of {result['dimension']}: the warehouse has no accepted account."
        )
        return
    months = segments[0]["months"]
    if not months:
        Console().print("No months in the warehouse yet.")
        return
    month = months[-1]["month"]
    table = Table(
        title=f"Metrics of {month} by {result['dimension']} (as_of {result['as_of']}, {currency})",
        caption=(
            "(none) = accounts without a value. One month: --month YYYY-MM for another, "
            "--format csv or json for every month."
        ),
    )
    table.add_column("metric")
    columns = []
    for segment in segments:
        name = "(none)" if segment["segment"] is None else str(segment["segment"])
        table.add_column(name, justify="right")
        columns.append(next(m for m in segment["months"] if m["month"] == month))
    _add_metric_rows(table, metrics, columns, currency)
    console = Console()
    console.print(table)
    print_warnings(result, console)


MetricBy = by_option("metric")


def metrics_command(
    warehouse: WarehouseOption = DEFAULT_WAREHOUSE,
    month: Annotated[str | None, typer.Option("--month", help="Only this month (YYYY-MM).")] = None,
    by: MetricBy = None,
    output_format: TableFormatOption = OutputFormat.table,
) -> None:
    """The monthly metrics of metrics.md (table, json or csv), optionally by segment."""
    result, metrics = _read(warehouse, month, by)
    if output_format is OutputFormat.json:
        print(json.dumps(result, indent=2))
    elif output_format is OutputFormat.csv:
        # The CSV stays one header line and data rows (what spreadsheets and scripts
        # read); the warnings go to stderr.
        print(to_csv(result, metrics), end="")
        for warning in result["warnings"]:
            print(f"warning ({warning['code']}): {warning['message']}", file=sys.stderr)
    else:
        print_table(result, metrics)
