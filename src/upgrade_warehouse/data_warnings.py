"""What a reader must know about the numbers of a warehouse (metrics.md "The `metrics`
command's JSON": the ``warnings`` list).

One function computes the list from a published warehouse; the ``metrics`` command
(JSON, table, CSV) and every dashboard page (banners, the Monthly review's exports) show
the very same objects. Each warning is ``{"code", "message", ...figures}``:

- ``stale``: as_of is more than :data:`STALE_AFTER_DAYS` days before the build (the
  time the build checked the warehouse, ``quality.gate_run``; the file's modification
  time for a warehouse built before that table existed);
- ``latest_month_partial``: the as_of month is not over (as_of's date is before the
  month's last day): its counts and MRR movements cover part of the month;
- ``fx_missing``: one per currency without a rate to the reporting currency: the changes
  left out of the MRR movements (and of revenue per upgrade) and the subscriptions left
  out of MRR at month end, with their months;
- ``quarantined_rows``: rows held back from the load, with their counts by table.

Ordered as above; an empty list when there is nothing to say.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from . import warehouse

STALE_AFTER_DAYS = 2

__all__ = ["STALE_AFTER_DAYS", "affects", "for_month", "read_warnings", "warehouse_warnings"]


def warehouse_warnings(path: str | Path) -> list[dict]:
    """The warnings of the warehouse at ``path`` (a read-only connection of its own)."""
    with warehouse.connect(path) as con:
        return read_warnings(con, Path(path))


def read_warnings(con: duckdb.DuckDBPyConnection, path: Path | None = None) -> list[dict]:
    """The warnings list of metrics.md, from an open warehouse connection; ``path`` (the
    warehouse file) dates a warehouse without ``quality.gate_run``."""
    build = warehouse.read_build(con)
    have = warehouse.relations(con)
    out: list[dict] = []
    stale = _stale(con, have, build.as_of, path)
    if stale:
        out.append(stale)
    partial = _partial(build.as_of)
    if partial:
        out.append(partial)
    out.extend(_fx_missing(con, have, build.reporting_currency))
    quarantined = _quarantined(con, have)
    if quarantined:
        out.append(quarantined)
    return out


def _ts(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _human(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC")


def _built_at(con, have: frozenset[str], path: Path | None) -> datetime | None:
    if "quality.gate_run" in have:
        row = con.execute("select max(checked_at) from quality.gate_run").fetchone()
        if row and row[0] is not None:
            return row[0]
    if path is not None and path.is_file():
        return datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(tzinfo=None)
    return None


def _stale(con, have, as_of: datetime, path: Path | None) -> dict | None:
    built_at = _built_at(con, have, path)
    if built_at is None:
        return None
    age_days = (built_at - as_of).total_seconds() / 86400
    if age_days <= STALE_AFTER_DAYS:
        return None
    return {
        "code": "stale",
        "message": (
            f"The data ends at {_human(as_of)}, {age_days:,.0f} days before the build of "
            f"{_human(built_at)}: the latest numbers may be out of date (load newer exports "
            "and build again)."
        ),
        "as_of": _ts(as_of),
        "built_at": _ts(built_at),
        "age_days": round(age_days, 2),
    }


def _partial(as_of: datetime) -> dict | None:
    days_in_month = calendar.monthrange(as_of.year, as_of.month)[1]
    if as_of.day >= days_in_month:
        return None
    start = as_of.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    covered = (as_of - start) / timedelta(days=1)
    month = as_of.strftime("%Y-%m")
    return {
        "code": "latest_month_partial",
        "message": (
            f"{month} is not over: the data ends on {as_of:%Y-%m-%d} ({covered:.1f} of "
            f"{days_in_month} days). Its counts and MRR movements cover part of the month; "
            "its rates count only the attempts and accounts whose window has closed."
        ),
        "month": month,
        "as_of": _ts(as_of),
        "days_covered": round(covered, 2),
        "days_in_month": days_in_month,
    }


def _months_span(months: list[str]) -> str:
    if not months:
        return ""
    return months[0] if len(months) == 1 else f"{months[0]} to {months[-1]}"


def _rows_of(con, have, relation: str, sql: str) -> list[tuple]:
    """The rows of ``sql`` when ``relation`` is in the warehouse, none otherwise."""
    return con.execute(sql).fetchall() if relation in have else []


def _fx_missing(con, have, reporting_currency: str) -> list[dict]:
    changes: dict[str, dict] = {}
    for currency, month, n in _rows_of(
        con,
        have,
        "marts.fct_subscription_changes",
        "select currency, strftime(change_month, '%Y-%m'), count(*) "
        "from marts.fct_subscription_changes "
        "where not is_converted and movement <> 'none' group by all order by 1, 2",
    ):
        entry = changes.setdefault(currency, {"changes": 0, "months": []})
        entry["changes"] += n
        entry["months"].append(month)
    subscriptions = {
        currency: {"subscriptions": n, "months": list(months)}
        for currency, n, months in _rows_of(
            con,
            have,
            "marts.fct_mrr_month_end",
            "select currency, count(distinct subscription_id), "
            "list(distinct strftime(month, '%Y-%m') order by strftime(month, '%Y-%m')) "
            "from marts.fct_mrr_month_end where mrr_end_reporting is null "
            "group by currency order by currency",
        )
    }
    out = []
    for currency in sorted(set(changes) | set(subscriptions)):
        c = changes.get(currency, {"changes": 0, "months": []})
        s = subscriptions.get(currency, {"subscriptions": 0, "months": []})
        parts = []
        if c["changes"]:
            noun = "change" if c["changes"] == 1 else "changes"
            parts.append(
                f"{c['changes']:,} {noun} ({_months_span(c['months'])}) left out of the MRR "
                "movements and revenue per upgrade"
            )
        if s["subscriptions"]:
            noun = "subscription" if s["subscriptions"] == 1 else "subscriptions"
            parts.append(
                f"{s['subscriptions']:,} {noun} left out of MRR at month end "
                f"({_months_span(s['months'])})"
            )
        out.append(
            {
                "code": "fx_missing",
                "message": (
                    f"No {reporting_currency} rate for {currency}: "
                    + " and ".join(parts)
                    + f". Add {currency} rates to fx_rates and build again."
                ),
                "currency": currency,
                "changes": c["changes"],
                "change_months": c["months"],
                "subscriptions": s["subscriptions"],
                "subscription_months": s["months"],
                "months": sorted(set(c["months"]) | set(s["months"])),
            }
        )
    return out


def _quarantined(con, have) -> dict | None:
    if "marts.fct_load_report" not in have:
        return None
    rows = con.execute(
        "select table_name, rows_quarantined from marts.fct_load_report "
        "where rows_quarantined > 0 order by table_name"
    ).fetchall()
    if not rows:
        return None
    by_table = {table: int(n) for table, n in rows}
    total = sum(by_table.values())
    listing = ", ".join(f"{t} {n:,}" for t, n in by_table.items())
    return {
        "code": "quarantined_rows",
        "message": (
            f"{total:,} {'row was' if total == 1 else 'rows were'} held back from the load "
            f"({listing}): they count in no metric; the Data quality page and "
            "raw.quarantine list them with their reasons."
        ),
        "rows": total,
        "by_table": by_table,
    }


# ----------------------------------------------------------------------------- readers


def for_month(warnings: list[dict], month: str | None) -> list[dict]:
    """The warnings that concern the numbers of ``month`` (YYYY-MM; None: a view of
    every month): ``stale`` and ``quarantined_rows`` always, ``latest_month_partial``
    when it is that month (or every month is shown), ``fx_missing`` when the currency
    leaves something out of that month (or of any month, for None)."""
    out = []
    for warning in warnings:
        code = warning["code"]
        if code == "latest_month_partial" and month not in (None, warning["month"]):
            continue
        if code == "fx_missing" and month is not None and month not in warning["months"]:
            continue
        out.append(warning)
    return out


def affects(warning: dict, section: str, unit: str, month: str | None = None) -> bool:
    """Whether ``warning`` touches a metric of ``section`` in ``unit`` in ``month``:
    ``fx_missing`` the money of the revenue section (the movements, revenue per upgrade,
    MRR at month end) in its months; ``latest_month_partial`` every metric of its
    month. ``stale`` and ``quarantined_rows`` concern the whole warehouse, no one
    number."""
    code = warning["code"]
    if code == "fx_missing":
        return (
            section == "revenue"
            and unit == "money"
            and (month is None or month in warning["months"])
        )
    if code == "latest_month_partial":
        return month is None or month == warning["month"]
    return False
