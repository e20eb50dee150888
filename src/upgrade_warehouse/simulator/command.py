"""`upgrade-warehouse quote`: price one plan change, or a batch file of them."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer

from ..errors import UserError
from ..exports import safe_polars
from ..formats import OutputFormat
from .batch import price_batch
from .core import (
    GRANULARITIES,
    PRORATION_BEHAVIORS,
    TIMINGS,
    Quote,
    msg_bad_quantity,
    quote,
    round_half_away,
)
from .plans import currency_exponent, load_plans, load_warehouse_plans, read_table

SINGLE_FORMATS = (OutputFormat.table, OutputFormat.json)
# Seats of one subscription: far above any real count, and prices times seats stay in int64
# (the batch path and the warehouse compute in 64-bit integers).
MAX_QUANTITY = 10**9
BATCH_FORMATS = (OutputFormat.csv, OutputFormat.json)

# The choices of --proration-behavior, --granularity and --timing: checked by typer when
# the command line is parsed, before any plan or case is read (docs/security.md).
ProrationBehavior = StrEnum("ProrationBehavior", {v: v for v in PRORATION_BEHAVIORS})
Granularity = StrEnum("Granularity", {v: v for v in GRANULARITIES})
Timing = StrEnum("Timing", {v: v for v in TIMINGS})


def _optional(kind, flag: str, help: str):
    """An option of ``quote``: ``flag`` takes a ``kind``, None when not given."""
    return Annotated[kind | None, typer.Option(flag, help=help)]


def quote_command(
    from_plan: _optional(str, "--from-plan", "Current plan_id.") = None,
    from_quantity: _optional(str, "--from-quantity", "Current seats.") = None,
    to_plan: _optional(str, "--to-plan", "Requested plan_id.") = None,
    to_quantity: _optional(
        str, "--to-quantity", "Requested seats (default: --from-quantity)."
    ) = None,
    period_start: _optional(
        str, "--period-start", "Start of the billing period in force (ISO 8601)."
    ) = None,
    period_end: _optional(
        str, "--period-end", "End of the period (default: start + one interval)."
    ) = None,
    at: _optional(str, "--at", "Moment of the change (ISO 8601).") = None,
    plans: _optional(
        Path, "--plans", "Plans table, CSV or Parquet (default: the sample catalog)."
    ) = None,
    warehouse: _optional(
        Path, "--warehouse", "Price with the plans of this published warehouse instead."
    ) = None,
    proration_behavior: _optional(
        ProrationBehavior,
        "--proration-behavior",
        "create_prorations (default), always_invoice or none.",
    ) = None,
    granularity: _optional(Granularity, "--granularity", "second (default) or day.") = None,
    timing: _optional(Timing, "--timing", "immediate, period_end or auto (default).") = None,
    batch: _optional(Path, "--batch", "Cases file (CSV or Parquet): price every row.") = None,
    output_format: _optional(
        OutputFormat, "--format", "table (default) or json; with --batch: csv (default) or json."
    ) = None,
) -> None:
    """Price a plan change (proration simulator), or a batch of them with --batch."""
    proration_behavior, granularity, timing = (
        None if choice is None else choice.value
        for choice in (proration_behavior, granularity, timing)
    )
    if plans is not None and warehouse is not None:
        raise UserError("--plans and --warehouse cannot be used together (one plan catalog)")
    catalog = load_warehouse_plans(warehouse) if warehouse is not None else load_plans(plans)
    source = (
        f"the plans of {warehouse}"
        if warehouse is not None
        else f"{plans}"
        if plans is not None
        else "the sample catalog"
    )
    if batch is not None:
        single = {
            "--from-plan": from_plan,
            "--from-quantity": from_quantity,
            "--to-plan": to_plan,
            "--to-quantity": to_quantity,
            "--period-start": period_start,
            "--period-end": period_end,
            "--at": at,
        }
        given = [name for name, value in single.items() if value is not None]
        if given:
            raise UserError(f"{given[0]} cannot be used with --batch (the cases file has it)")
        fmt = (output_format or OutputFormat.csv).value
        if fmt not in BATCH_FORMATS:
            raise UserError(f"--format must be csv or json with --batch, not {fmt!r}")
        cases = read_table(batch, "cases file")
        defaults = {
            "proration_behavior": proration_behavior,
            "granularity": granularity,
            "timing": timing,
        }
        for column, value in defaults.items():
            if value is None:
                continue
            if column in cases.columns:
                cases = cases.with_columns(
                    pl.col(column).cast(pl.Utf8).fill_null(pl.lit(value)).alias(column)
                )
            else:
                cases = cases.with_columns(pl.lit(value).alias(column))
        result = price_batch(cases, catalog)
        _print_batch(result, fmt)
        return

    fmt = (output_format or OutputFormat.table).value
    if fmt not in SINGLE_FORMATS:
        raise UserError(f"--format must be table or json, not {fmt!r}")
    required = {
        "--from-plan": from_plan,
        "--from-quantity": from_quantity,
        "--to-plan": to_plan,
        "--period-start": period_start,
        "--at": at,
    }
    missing = [name for name, value in required.items() if value is None]
    if missing:
        raise UserError(f"missing option {missing[0]} (required unless --batch is given)")
    for side, plan_id in (("from", from_plan), ("to", to_plan)):
        if plan_id not in catalog:
            raise UserError(
                f"unknown {side} plan '{plan_id}' in {source} (plans: "
                f"{_plan_list(catalog)}); to price your own plans pass --plans FILE "
                "(a plans table) or --warehouse PATH (a built warehouse)"
            )
    q = quote(
        catalog,
        from_plan_id=from_plan,
        from_quantity=_quantity("from_quantity", from_quantity),
        to_plan_id=to_plan,
        to_quantity=None if to_quantity is None else _quantity("to_quantity", to_quantity),
        period_start=period_start,
        period_end=period_end,
        at=at,
        proration_behavior=proration_behavior or "create_prorations",
        granularity=granularity or "second",
        timing=timing or "auto",
    )
    if fmt == "json":
        sys.stdout.write(json.dumps(q.to_dict()) + "\n")
    else:
        _print_table(q)


def _plan_list(catalog: dict, shown: int = 8) -> str:
    ids = sorted(catalog)
    more = f", ... ({len(ids) - shown} more)" if len(ids) > shown else ""
    return ", ".join(ids[:shown]) + more


def _quantity(name: str, text: str) -> int:
    """A seat count from the command line (typer's own int parsing would not give a
    clean message)."""
    value = text.strip()
    if not value.isascii() or not value.isdigit():
        raise UserError(msg_bad_quantity(name, text))
    if len(value.lstrip("0")) > len(str(MAX_QUANTITY)) or int(value) > MAX_QUANTITY:
        raise UserError(f"{name} must be at most {MAX_QUANTITY:,} seats, not {value[:20]}...")
    return int(value)


# --- batch output ----------------------------------------------------------------------------


def batch_for_output(result: pl.DataFrame) -> pl.DataFrame:
    """Timestamps as ISO 8601 UTC text, ``mrr_delta_minor`` as text (an integer when
    whole, else a decimal rounded to 6 places)."""
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    mrr = pl.col("mrr_delta_minor")
    x12 = (mrr * 12).round(0)
    return result.with_columns(
        pl.col("next_invoice_date").dt.strftime(stamp),
        pl.col("effective_at").dt.strftime(stamp),
        pl.when(mrr.is_null())
        .then(None)
        .when(x12 % 12 == 0)
        .then((x12 / 12).cast(pl.Int64).cast(pl.Utf8))
        .otherwise(mrr.round(6).cast(pl.Utf8))
        .alias("mrr_delta_minor"),
    )


def _print_batch(result: pl.DataFrame, fmt: str) -> None:
    out = batch_for_output(result)
    if fmt == "csv":
        # case ids and error texts echo the cases file: no cell may run as a formula
        sys.stdout.write(safe_polars(out, ["case_id", "error"]).write_csv())
        return
    rows = out.to_dicts()
    for row in rows:
        value = row["mrr_delta_minor"]
        if value is not None:
            row["mrr_delta_minor"] = int(value) if "." not in value else float(value)
    sys.stdout.write(json.dumps(rows) + "\n")


# --- single-quote table ----------------------------------------------------------------------


def format_money(amount: int | Fraction, currency: str) -> str:
    """Minor units as a major-unit amount with the currency code, e.g. ``-30.00 USD``.

    A fractional MRR is rounded (half away from zero) to the currency's minor unit for
    display only.
    """
    exponent = currency_exponent(currency)
    minor = round_half_away(Fraction(amount))
    sign = "-" if minor < 0 else ""
    major, rest = divmod(abs(minor), 10**exponent)
    text = f"{major:,}" + (f".{rest:0{exponent}d}" if exponent else "")
    return f"{sign}{text} {currency}"


def _print_table(q: Quote) -> None:
    from rich.console import Console
    from rich.table import Table

    d = q.to_dict()
    cur = q.currency
    console = Console(highlight=False)
    summary = Table(
        title=(f"{q.from_plan_id} x{q.from_quantity} -> {q.to_plan_id} x{q.to_quantity}"),
        show_header=False,
    )
    summary.add_column("field", style="bold")
    summary.add_column("value")
    rows: list[tuple[str, Any]] = [
        ("currency", cur),
        ("requires sales", "yes" if q.requires_sales else "no"),
        ("MRR before", format_money(q.from_mrr_minor, cur)),
        ("MRR after", format_money(q.to_mrr_minor, cur)),
        ("MRR delta", format_money(q.mrr_delta_minor, cur)),
        ("movement", q.movement),
        ("kind", q.kind),
        ("timing", q.timing),
        ("effective at", d["effective_at"]),
        ("proration net", format_money(q.proration_net_minor, cur)),
        ("due now", format_money(q.amount_due_now_minor, cur)),
        (
            "next invoice",
            f"{d['next_invoice']['date']}  {format_money(q.next_invoice_amount_minor, cur)}",
        ),
        ("credit balance", format_money(q.credit_balance_minor, cur)),
        ("billing period", f"{d['period']['start']} -> {d['period']['end']}"),
        ("entitlements added", ", ".join(q.entitlements_added) or "-"),
        ("entitlements removed", ", ".join(q.entitlements_removed) or "-"),
    ]
    for name, value in rows:
        summary.add_row(name, str(value))
    console.print(summary)

    lines = Table(title="lines")
    lines.add_column("line type")
    lines.add_column("amount", justify="right")
    lines.add_column("period")
    lines.add_column("invoiced")
    for line, ld in zip(q.lines, d["lines"], strict=True):
        lines.add_row(
            line.line_type,
            format_money(line.amount_minor, cur),
            f"{ld['period_start']} -> {ld['period_end']}",
            "now" if line.invoiced_now else "next invoice",
        )
    if not q.lines:
        lines.add_row("(none)", "", "", "")
    console.print(lines)
