"""`upgrade-warehouse metrics`: the monthly metrics of ``shared/spec/metrics.md``.

Reads the published warehouse through a short-lived read-only connection. The metric
ids, their order and their units come from the metric catalog seed
(``seeds/metric_catalog.csv``, in the warehouse as ``reference.metric_catalog``).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import typer

from .errors import UserError
from .paths import DEFAULT_WAREHOUSE

# Units whose JSON value is an object keyed by step, method or reason.
KEYED_UNITS = ("rate_by_key", "count_by_key")
COUNT_UNITS = ("count", "count_by_key")


@dataclass(frozen=True)
class Metric:
    metric_id: str
    section: str
    unit: str
    label: str

    @property
    def keyed(self) -> bool:
        return self.unit in KEYED_UNITS


def connect_read_only(warehouse: Path) -> duckdb.DuckDBPyConnection:
    if not Path(warehouse).is_file():
        raise UserError(
            f"no warehouse at {warehouse}: run `upgrade-warehouse build` first "
            "(or pass --warehouse PATH)"
        )
    try:
        return duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error as exc:
        raise UserError(f"{warehouse}: cannot open the warehouse: {exc}") from None


def catalog(con: duckdb.DuckDBPyConnection) -> list[Metric]:
    rows = con.execute(
        "select metric_id, section, unit, label from reference.metric_catalog"
    ).fetchall()
    return [Metric(*row) for row in rows]


def _number(value, unit: str):
    if value is None:
        return None
    if unit in COUNT_UNITS:
        return int(value)
    value = float(value)
    return None if math.isnan(value) else value


def read_metrics(warehouse: Path, month: str | None = None) -> dict:
    """The metrics JSON object of metrics.md (optionally one month only)."""
    return _read(warehouse, month)[0]


def _read(warehouse: Path, month: str | None) -> tuple[dict, list[Metric]]:
    """The metrics JSON object and the catalog, from one read-only connection."""
    if month is not None and not re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", month):
        raise UserError(f"--month must be YYYY-MM, not {month!r}")
    with connect_read_only(warehouse) as con:
        metrics = catalog(con)
        as_of, reporting_currency, parameters_json = con.execute(
            "select as_of, reporting_currency, parameters_json from raw.build_info"
        ).fetchone()
        scalar_ids = [m.metric_id for m in metrics if not m.keyed]
        rel = con.execute(
            "select strftime(month, '%Y-%m') as month, "
            + ", ".join(f'"{m}"' for m in scalar_ids)
            + " from marts.fct_monthly_metrics order by month"
        )
        rows = rel.fetchall()
        breakdowns = con.execute(
            "select strftime(month, '%Y-%m'), metric_id, breakdown_key, metric_value "
            "from marts.fct_monthly_metric_breakdowns order by month, metric_id, breakdown_order, breakdown_key"
        ).fetchall()
    units = {m.metric_id: m.unit for m in metrics}
    keyed: dict[tuple[str, str], dict] = {}
    for m, metric_id, key, value in breakdowns:
        keyed.setdefault((m, metric_id), {})[key] = _number(value, units[metric_id])

    months = []
    for row in rows:
        values = dict(zip(["month", *scalar_ids], row))
        out = {"month": values["month"]}
        for metric in metrics:
            if metric.keyed:
                out[metric.metric_id] = keyed.get((values["month"], metric.metric_id))
            else:
                out[metric.metric_id] = _number(values[metric.metric_id], metric.unit)
        months.append(out)
    if month is not None:
        available = [m["month"] for m in months]
        months = [m for m in months if m["month"] == month]
        if not months:
            span = f"{available[0]} to {available[-1]}" if available else "none"
            raise UserError(f"--month {month}: not in the warehouse (months: {span})")
    parameters = json.loads(parameters_json)
    result = {
        "as_of": parameters["as_of"],
        "reporting_currency": reporting_currency,
        "parameters": parameters,
        "months": months,
    }
    return result, metrics


# ----------------------------------------------------------------------------- formats


def format_value(value, unit: str, currency: str) -> str:
    """A number as people read it: 12.5%, 1,234, 45.00 USD, 3.2 h."""
    if value is None:
        return "–"
    if unit in ("rate", "rate_by_key"):
        return f"{value:.1%}"
    if unit in COUNT_UNITS:
        return f"{value:,}"
    if unit == "money":
        return f"{value:,.2f} {currency}"
    suffix = {"hours": " h", "seconds": " s", "days": " d"}.get(unit, "")
    return f"{value:,.1f}{suffix}"


def to_csv(result: dict, metrics: list[Metric]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    ids = [m.metric_id for m in metrics]
    writer.writerow(["month", *ids])
    for month in result["months"]:
        row = [month["month"]]
        for m in metrics:
            v = month[m.metric_id]
            row.append("" if v is None else json.dumps(v) if isinstance(v, dict) else v)
        writer.writerow(row)
    return buf.getvalue()


def print_table(result: dict, metrics: list[Metric], last: int = 6) -> None:
    from rich.console import Console
    from rich.table import Table

    months = result["months"][-last:]
    currency = result["reporting_currency"]
    table = Table(
        title=f"Monthly metrics (as_of {result['as_of']}, {currency})",
        caption=None if len(result["months"]) <= last else
        f"latest {last} of {len(result['months'])} months; --month YYYY-MM or --format csv for others",
    )
    table.add_column("metric")
    for month in months:
        table.add_column(month["month"], justify="right")
    section = None
    for m in metrics:
        if m.section != section:
            section = m.section
            table.add_section()
        if m.keyed:
            keys = []
            for month in months:
                for k in month[m.metric_id] or {}:
                    if k not in keys:
                        keys.append(k)
            table.add_row(m.label, *["" for _ in months])
            for k in keys:
                table.add_row(
                    f"  {k}",
                    *[format_value((month[m.metric_id] or {}).get(k), m.unit, currency)
                      for month in months],
                )
        else:
            table.add_row(m.label, *[format_value(month[m.metric_id], m.unit, currency)
                                     for month in months])
    Console().print(table)


def metrics_command(
    warehouse: Path = typer.Option(DEFAULT_WAREHOUSE, "--warehouse", help="The warehouse file."),
    month: str = typer.Option(None, "--month", help="Only this month (YYYY-MM)."),
    output_format: str = typer.Option("table", "--format", help="table, json or csv."),
) -> None:
    """The monthly metrics of metrics.md (table, json or csv)."""
    if output_format not in ("table", "json", "csv"):
        raise UserError(f"--format must be table, json or csv, not {output_format!r}")
    result, metrics = _read(warehouse, month)
    if output_format == "json":
        print(json.dumps(result, indent=2))
    elif output_format == "csv":
        print(to_csv(result, metrics), end="")
    else:
        print_table(result, metrics)
