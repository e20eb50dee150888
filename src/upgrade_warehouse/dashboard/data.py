"""The dashboard's only data-access module: every query the pages need, and all its SQL.

- Every query goes through the read-only warehouse reader (:mod:`upgrade_warehouse.warehouse`):
  a short-lived connection to the file attached read-only, closed before the query
  returns. ``build`` publishes a new warehouse with an atomic rename: a reader keeps the
  file it opened, the next query opens the new one; nothing is ever locked.
- Only marts and seeds are read (never a ``raw.*`` relation), and no metric is computed
  here: rates, shares, percentiles and all-months totals come from dbt. Queries select,
  filter and (for plain lists) count; the segment counts behind a rate come with it.
- Queries are parameterized (``$name``); identifiers (a segment dimension, an upsell
  play) are checked against the warehouse's own list before they are used.
- Results are cached with ``st.cache_data`` for a short ttl, keyed by the warehouse's
  :class:`Ref` (path + modification time + size + inode), so a newly published
  warehouse is read on the next page load, whatever the ttl.
- Optional inputs: :func:`loaded_tables` says which source tables were loaded and
  :func:`has_table` whether a relation exists (marts and checks built by newer
  versions), so the pages can show an empty state instead of failing.

Months are passed as ``YYYY-MM`` text; ``None`` = all months (the all-months rows of
the marts, whose month is null). A segment is a :class:`Segment`: ``ALL`` (every
account) or (dimension, value), value ``None`` = the accounts without a value.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

import pandas as pd
import streamlit as st

from .. import warehouse
from ..errors import UserError
from ..metrics import number, read_metrics
from ..paths import DEFAULT_WAREHOUSE, project_dir
from .config import load_config

WAREHOUSE_ENV = "UPGRADE_WAREHOUSE_DASHBOARD_WAREHOUSE"

try:
    TTL = load_config().cache_ttl_seconds
except UserError:  # a broken config is reported by the app; the cache still works
    TTL = 60

_cache = st.cache_data(ttl=TTL, max_entries=256, show_spinner=False)


class Ref(NamedTuple):
    """One published version of the warehouse file (the cache key of every query)."""

    path: str
    mtime_ns: int
    size: int
    inode: int


class Segment(NamedTuple):
    """A set of accounts: ``ALL``, or those with ``value`` in attribute ``dimension``."""

    dimension: str
    value: str | None

    @property
    def label(self) -> str:
        if self.dimension == "all":
            return "All accounts"
        return "(none)" if self.value is None else str(self.value)


ALL = Segment("all", "all")


class WarehouseMissing(UserError):
    pass


def warehouse_path() -> Path:
    """The warehouse the dashboard serves (``$UPGRADE_WAREHOUSE_DASHBOARD_WAREHOUSE``)."""
    override = os.environ.get(WAREHOUSE_ENV)
    if override:
        return Path(override).expanduser().resolve()
    return (project_dir() / DEFAULT_WAREHOUSE).resolve()


def current(path: Path | None = None) -> Ref:
    """The warehouse file as it is now (re-read on every page run: a cheap ``stat``)."""
    path = Path(path) if path is not None else warehouse_path()
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        raise WarehouseMissing(
            f"no warehouse at {path}: run `upgrade-warehouse build` first"
        ) from None
    return Ref(str(path), stat.st_mtime_ns, stat.st_size, stat.st_ino)


def _df(ref: Ref, sql: str, params: dict | None = None) -> pd.DataFrame:
    with warehouse.connect(ref.path) as con:
        return con.execute(sql, params or {}).df()


def _records(ref: Ref, sql: str, params: dict | None = None) -> list[dict]:
    """Rows as dicts, nulls as None (not NaN)."""
    with warehouse.connect(ref.path) as con:
        cursor = con.execute(sql, params or {})
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]


def _month_param(month: str | None) -> str | None:
    """``YYYY-MM`` -> the first day, for ``cast($month as date)`` (None = all months)."""
    if month is None:
        return None
    datetime.strptime(month, "%Y-%m")  # raises on anything else
    return f"{month}-01"


# The period filter of a mart with all-months rows (month null): one month, or all.
PERIOD = "month is not distinct from cast($month as date)"
ALL_ACCOUNTS = "segment_dimension = 'all'"


def _segments_filter(segments: tuple[Segment, ...], params: dict, prefix: str = "") -> str:
    """``(segment_dimension, segment_value)`` is one of ``segments`` (null-safe)."""
    if not segments:
        return "false"
    parts = []
    for i, segment in enumerate(segments):
        params[f"sd{i}"], params[f"sv{i}"] = segment.dimension, segment.value
        parts.append(
            f"({prefix}segment_dimension = $sd{i} and "
            f"{prefix}segment_value is not distinct from $sv{i})"
        )
    return "(" + " or ".join(parts) + ")"


def _accounts_of(ref: Ref, segment: Segment, params: dict, column: str = "account_id") -> str:
    """``column`` is an account of ``segment`` (true for all accounts)."""
    if segment.dimension == "all":
        return "true"
    if segment.dimension not in segment_dimensions(ref):  # an identifier: checked first
        raise ValueError(f"unknown segment dimension {segment.dimension!r}")
    name = f"account_value{len(params)}"
    params[name] = segment.value
    return (
        f"{column} in (select account_id from marts.dim_accounts "
        f"where {segment.dimension} is not distinct from ${name})"
    )


# ------------------------------------------------------------------------- the warehouse


@_cache
def relations(ref: Ref) -> frozenset[str]:
    """Every ``schema.table`` in the warehouse."""
    with warehouse.connect(ref.path) as con:
        return warehouse.relations(con)


def has_table(ref: Ref, name: str) -> bool:
    return name in relations(ref)


def missing_marts(ref: Ref) -> list[str]:
    """Marts this dashboard needs that the warehouse lacks (built by an older version)."""
    return [r for r in warehouse.REQUIRED if not has_table(ref, r)]


@_cache
def build_info(ref: Ref) -> dict:
    with warehouse.connect(ref.path) as con:
        build = warehouse.read_build(con)
    return {
        "as_of": build.as_of,
        "reporting_currency": build.reporting_currency,
        "parameters": build.parameters,
        "published_at": datetime.fromtimestamp(ref.mtime_ns / 1e9).astimezone(),
    }


@_cache
def has_accounts(ref: Ref) -> bool:
    """Whether the warehouse has an accepted account (else every page about accounts has
    nothing to show: app.py says so)."""
    with warehouse.connect(ref.path) as con:
        return con.execute("select exists (select 1 from marts.dim_accounts)").fetchone()[0]


@_cache
def loaded_tables(ref: Ref) -> dict[str, bool]:
    """Source table -> whether a file was loaded for it."""
    with warehouse.connect(ref.path) as con:
        rows = con.execute("select table_name, is_loaded from marts.fct_load_report").fetchall()
    return {name: bool(loaded) for name, loaded in rows}


@_cache
def metrics(ref: Ref) -> dict:
    """The ``metrics --format json`` object (the very same function computes it)."""
    return read_metrics(Path(ref.path))


@_cache
def metric_catalog(ref: Ref) -> pd.DataFrame:
    """metric_id, section, unit, direction, grain, label, definition, in catalog order."""
    with warehouse.connect(ref.path) as con:
        catalog = warehouse.read_catalog(con)
    return pd.DataFrame([m.__dict__ for m in catalog])


# ---------------------------------------------------------------------------- segments


@_cache
def segment_dimensions(ref: Ref) -> list[str]:
    """The account attributes to segment by (persona, acquisition_source, ...)."""
    with warehouse.connect(ref.path) as con:
        return warehouse.read_dimensions(con)


@_cache
def segment_values(ref: Ref, dimension: str) -> list[tuple[str | None, int]]:
    """(value, accounts) of each segment of ``dimension``, by value, none last."""
    with warehouse.connect(ref.path) as con:
        return warehouse.read_segments(con, dimension)


@_cache
def segment_metrics(ref: Ref, segments: tuple[Segment, ...]) -> list[dict]:
    """Every row of ``fct_monthly_metrics_by_segment`` of these segments: each metric id
    (catalog units applied as in ``metrics``), the counts behind each rate
    (``<id>__numerator``, ``<id>__denominator``), ``month`` as YYYY-MM (None = all months)
    and ``segment`` (the :class:`Segment`)."""
    params: dict = {}
    rows = _records(
        ref,
        f"""
        select strftime(month, '%Y-%m') as month_label, *
        from marts.fct_monthly_metrics_by_segment
        where {_segments_filter(segments, params)}
        order by month nulls last
        """,
        params,
    )
    units = {m["metric_id"]: m["unit"] for m in metric_catalog(ref).to_dict("records")}
    out = []
    for row in rows:
        values = {k: number(v, units[k]) if k in units else v for k, v in row.items()}
        values["month"] = row["month_label"]
        values["segment"] = Segment(row["segment_dimension"], row["segment_value"])
        del values["month_label"]
        out.append(values)
    return out


@_cache
def segment_breakdowns(ref: Ref, segments: tuple[Segment, ...]) -> list[dict]:
    """The keyed metrics of these segments, every period: month (YYYY-MM, None = all
    months), metric_id, breakdown_key, metric_value, metric_numerator,
    metric_denominator, segment."""
    params: dict = {}
    rows = _records(
        ref,
        f"""
        select strftime(month, '%Y-%m') as month, segment_dimension, segment_value,
               metric_id, breakdown_key, breakdown_order,
               metric_value, metric_numerator, metric_denominator
        from marts.fct_monthly_metric_breakdowns_by_segment
        where {_segments_filter(segments, params)}
        order by month nulls last, metric_id, breakdown_order, breakdown_key
        """,
        params,
    )
    for row in rows:
        row["segment"] = Segment(row.pop("segment_dimension"), row.pop("segment_value"))
    return rows


# ------------------------------------------------------------------------------ funnel


@_cache
def funnel_steps(ref: Ref, segments: tuple[Segment, ...], month: str | None) -> pd.DataFrame:
    """The funnel by step of these segments in one period (``fct_funnel_steps``)."""
    params: dict = {"month": _month_param(month)}
    frame = _df(
        ref,
        f"""
        select segment_dimension, segment_value, step_index, step_name,
               attempts_reached, attempts_stopped, attempts_abandoned, attempts_escalated,
               abandonment_by_step, abandonment_by_step__numerator,
               abandonment_by_step__denominator,
               step_conversion_rate, step_conversion_rate__numerator,
               step_conversion_rate__denominator,
               step_reach_rate, step_reach_rate__denominator,
               step_escalation_rate, step_escalation_rate__denominator
        from marts.fct_funnel_steps
        where {PERIOD} and {_segments_filter(segments, params)}
        order by step_index
        """,
        params,
    )
    frame["segment"] = [
        Segment(d, None if pd.isna(v) else v).label
        for d, v in zip(frame["segment_dimension"], frame["segment_value"])
    ]
    return frame


HOUR_BINS = 30  # bars of the time-to-convert histogram


def _nice(width: float) -> float:
    """The smallest of 1, 2, 2.5 or 5 x 10^k hours at least ``width`` (readable edges)."""
    import math

    if width <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(width))
    return next(step * power for step in (1, 2, 2.5, 5, 10) if step * power >= width)


@_cache
def activation_hours(ref: Ref, segments: tuple[Segment, ...], month: str | None) -> pd.DataFrame:
    """Hours from attempt start to activation of these segments' activated attempts (the
    values behind intent_to_activation_hours_p50 / _p90), counted in about 30 bins of a
    readable width: segment, outcome, bin_start, bin_end, attempts (tens of rows
    whatever the warehouse's size, for the histogram)."""
    params: dict = {"month": _month_param(month)}
    parts = []
    for i, segment in enumerate(segments):
        params[f"label{i}"] = segment.label
        parts.append(
            f"select $label{i} as segment, outcome, intent_to_activation_hours as hours "
            "from marts.fct_upgrade_attempts "
            "where intent_to_activation_hours is not null "
            "and coalesce(attempt_month = cast($month as date), true) "
            f"and {_accounts_of(ref, segment, params)}"
        )
    columns = ["segment", "outcome", "bin_start", "bin_end", "attempts"]
    if not parts:
        return pd.DataFrame(columns=columns)
    values = " union all ".join(parts)
    with warehouse.connect(ref.path) as con:
        top = con.execute(f"select max(hours) from ({values}) as v", params).fetchone()[0]
        if top is None:
            return pd.DataFrame(columns=columns)
        params["width"] = _nice(float(top) / HOUR_BINS)
        return con.execute(
            f"""
            select segment, outcome,
                   floor(hours / $width) * $width as bin_start,
                   (floor(hours / $width) + 1) * $width as bin_end,
                   count(*) as attempts
            from ({values}) as v
            group by all
            order by bin_start, segment, outcome
            """,
            params,
        ).df()


# ----------------------------------------------------------------------------- cohorts


@_cache
def cohort_dimensions(ref: Ref) -> list[str]:
    with warehouse.connect(ref.path) as con:
        rows = con.execute(
            "select distinct dimension from marts.fct_activation_cohorts order by 1"
        ).fetchall()
    return [r[0] for r in rows]


@_cache
def cohorts(ref: Ref, dimension: str) -> pd.DataFrame:
    """The activation cohorts of one breakdown (``all`` = the metric itself); month None
    = all cohorts together."""
    return _df(
        ref,
        """
        select strftime(activation_month, '%Y-%m') as month, dimension_value,
               activated_accounts, matured_activated_accounts, converted_matured_accounts,
               post_activation_self_serve_rate
        from marts.fct_activation_cohorts
        where dimension = $dimension
        order by month nulls last, dimension_value
        """,
        {"dimension": dimension},
    )


# ----------------------------------------------------------------- revenue, attribution


@_cache
def upgrades_by_kind(ref: Ref, month: str | None, segment: Segment = ALL) -> pd.DataFrame:
    """Changes with a movement by movement, kind and channel (reporting currency)."""
    params: dict = {"month": _month_param(month)}
    return _df(
        ref,
        f"""
        select movement, kind, channel, count(*) as changes,
               sum(mrr_delta_reporting) as mrr_delta_reporting,
               count(*) filter (where not is_converted) as unconverted
        from marts.fct_subscription_changes
        where movement <> 'none' and coalesce(change_month = cast($month as date), true)
          and {_accounts_of(ref, segment, params)}
        group by all
        order by movement, kind, channel
        """,
        params,
    )


@_cache
def unconverted_changes(ref: Ref, month: str | None, segment: Segment = ALL) -> pd.DataFrame:
    """Changes with a movement that have no fx rate (left out of every MRR figure), by
    currency, in a month (None: all months): currency, changes."""
    params: dict = {"month": _month_param(month)}
    return _df(
        ref,
        f"""
        select currency, count(*) as changes
        from marts.fct_subscription_changes
        where not is_converted and movement <> 'none'
          and coalesce(change_month = cast($month as date), true)
          and {_accounts_of(ref, segment, params)}
        group by currency
        order by changes desc, currency
        """,
        params,
    )


@_cache
def attribution_mismatches(ref: Ref, month: str | None, segment: Segment = ALL) -> pd.DataFrame:
    """Changes whose CRM record does not match the derived movement (the list to fix)."""
    params: dict = {"month": _month_param(month)}
    return _df(
        ref,
        f"""
        select strftime(changed_at, '%Y-%m-%d %H:%M:%S') as changed_at, change_id,
               account_id, mismatch_reason, movement, crm_movement_type,
               mrr_delta, currency, crm_mrr_delta_minor, crm_currency, opportunity_id,
               crm_origin, crm_owner_id, channel
        from marts.fct_revenue_attribution
        where not is_accurate and coalesce(change_month = cast($month as date), true)
          and {_accounts_of(ref, segment, params)}
        order by changed_at, change_id
        """,
        params,
    )


@_cache
def proration_checks(ref: Ref, month: str | None, segment: Segment = ALL) -> pd.DataFrame | None:
    """Billed vs expected proration per change (None when the mart is not built)."""
    if not has_table(ref, "marts.fct_proration_checks"):
        return None
    params: dict = {"month": _month_param(month)}
    return _df(
        ref,
        f"""
        select strftime(changed_at, '%Y-%m-%d %H:%M:%S') as changed_at, change_id,
               account_id, proration_behavior, currency,
               cast(billed_net_minor as bigint) as billed_net_minor,
               expected_net_minor,
               cast(difference_minor as bigint) as difference_minor,
               tolerance_minor, check_status, is_accurate
        from marts.fct_proration_checks
        where coalesce(change_month = cast($month as date), true)
          and {_accounts_of(ref, segment, params)}
        order by is_accurate, changed_at, change_id
        """,
        params,
    )


# -------------------------------------------------------------------------- operations


@_cache
def sync_by_target(ref: Ref, month: str | None) -> pd.DataFrame:
    """Handoffs and the sync rates by target system (``fct_sync_by_target``)."""
    return _df(
        ref,
        f"""
        select target_system, handoffs,
               sync_failure_rate__numerator as first_attempt_failed,
               sync_unresolved_rate__numerator as unresolved,
               sync_dead_letters as dead_letters,
               sync_failure_rate, sync_unresolved_rate, sync_manual_override_rate,
               time_to_sync_seconds_p50
        from marts.fct_sync_by_target
        where {ALL_ACCOUNTS} and {PERIOD}
        order by target_system
        """,
        {"month": _month_param(month)},
    )


@_cache
def unresolved_handoffs(ref: Ref, month: str | None) -> pd.DataFrame:
    return _df(
        ref,
        """
        select target_system, change_id, account_id,
               strftime(changed_at, '%Y-%m-%d %H:%M:%S') as changed_at,
               attempts, last_attempt_status, last_error_code,
               strftime(last_attempted_at, '%Y-%m-%d %H:%M:%S') as last_attempted_at,
               is_dead_letter, unresolved_age_days
        from marts.fct_sync_handoffs
        where not is_resolved and coalesce(change_month = cast($month as date), true)
        order by unresolved_age_days desc nulls last, target_system, change_id
        """,
        {"month": _month_param(month)},
    )


@_cache
def payments_by_method(ref: Ref, month: str | None) -> pd.DataFrame:
    """Attempts, successes, failures and the success rate by payment method."""
    return _df(
        ref,
        f"""
        select payment_method, payment_attempts as attempts,
               succeeded_payment_attempts as succeeded, failed_payment_attempts as failed,
               payment_success_rate_by_method as success_rate
        from marts.fct_payments_by_method
        where {ALL_ACCOUNTS} and {PERIOD}
        order by attempts desc, payment_method
        """,
        {"month": _month_param(month)},
    )


@_cache
def payment_failures(ref: Ref, month: str | None) -> pd.DataFrame:
    return _df(
        ref,
        """
        select payment_method, coalesce(failure_code, '(none)') as failure_code,
               count(*) as failed
        from marts.fct_payment_attempts
        where not is_succeeded and coalesce(attempt_month = cast($month as date), true)
        group by all
        order by failed desc, payment_method, failure_code
        """,
        {"month": _month_param(month)},
    )


@_cache
def eligibility_rejections(ref: Ref, month: str | None) -> pd.DataFrame:
    """Rejections and false positives by reason, with each reason's false-positive rate."""
    return _df(
        ref,
        f"""
        select coalesce(rejection_reason, '(none)') as rejection_reason,
               rejected_checks as rejected, false_positive_checks as overridden,
               false_positive_reject_rate
        from marts.fct_eligibility_rejections
        where {ALL_ACCOUNTS} and {PERIOD}
        order by rejected desc, rejection_reason
        """,
        {"month": _month_param(month)},
    )


@_cache
def eligibility_totals(ref: Ref, month: str | None) -> dict:
    """Checks and rejected checks of the period (the counts behind the rejection rate)."""
    with warehouse.connect(ref.path) as con:
        row = con.execute(
            f"""
            select eligibility_rejection_rate__denominator,
                   eligibility_rejection_rate__numerator
            from marts.fct_monthly_metrics_by_segment
            where {ALL_ACCOUNTS} and {PERIOD}
            """,
            {"month": _month_param(month)},
        ).fetchone()
    checks, rejected = row or (None, None)
    return {"checks": checks or 0, "rejected": rejected or 0}


@_cache
def order_status(ref: Ref) -> pd.DataFrame:
    """Orders by current status at as_of (with the open ones' ages)."""
    return _df(
        ref,
        """
        select coalesce(current_status, '(none)') as current_status,
               count(*) as orders,
               count(*) filter (where is_open) as open_orders,
               max(age_days) filter (where is_open) as oldest_open_days
        from marts.fct_orders
        group by all
        order by orders desc, current_status
        """,
    )


@_cache
def open_orders(ref: Ref) -> pd.DataFrame:
    return _df(
        ref,
        """
        select order_id, account_id, change_id, current_status,
               strftime(current_status_at, '%Y-%m-%d %H:%M:%S') as current_status_at,
               strftime(first_event_at, '%Y-%m-%d %H:%M:%S') as first_event_at,
               age_days
        from marts.fct_orders
        where is_open
        order by age_days desc nulls last, order_id
        """,
    )


# ------------------------------------------------------------------------------ upsell


@_cache
def upsell_dimensions(ref: Ref) -> list[str]:
    """The play attributes offers are broken down by (trigger, owner, channel)."""
    with warehouse.connect(ref.path) as con:
        rows = con.execute(
            "select distinct play_dimension from marts.fct_upsell_plays order by 1"
        ).fetchall()
    order = {"trigger": 0, "owner": 1, "channel": 2}
    return sorted((r[0] for r in rows), key=lambda d: (order.get(d, 9), d))


@_cache
def upsell_outcomes(ref: Ref, dimension: str, month: str | None) -> pd.DataFrame:
    """Offers by one play attribute: outcomes at as_of and the acceptance and deferral
    rates (``fct_upsell_plays``)."""
    return _df(
        ref,
        f"""
        select coalesce(play_value, '(none)') as value,
               upsell_offers as offers, offers_with_outcome as with_outcome,
               accepted_offers as accepted, rejected_offers as rejected,
               deferred_offers as deferred, no_response_offers as no_response,
               pending_offers as pending,
               deferred_then_accepted_offers as deferred_then_accepted,
               upsell_acceptance_rate, upsell_deferral_rate
        from marts.fct_upsell_plays
        where {ALL_ACCOUNTS} and {PERIOD} and play_dimension = $dimension
        order by offers desc, value
        """,
        {"month": _month_param(month), "dimension": dimension},
    )


# --------------------------------------------------------------------------- simulator


@_cache
def plans(ref: Ref):
    """The warehouse's plan catalog (``dim_plans``), a polars frame in the contract's
    columns (``upgrade_warehouse.simulator.plans_from_frame`` reads it)."""
    with warehouse.connect(ref.path) as con:
        return con.sql(
            """
            select plan_id, plan_name, tier_rank, billing_interval, unit_amount_minor,
                   currency, self_serve, min_seats, max_seats, entitlements
            from marts.dim_plans
            order by currency, billing_interval, tier_rank, plan_id
            """
        ).pl()


# ------------------------------------------------------------------------ data quality


@_cache
def load_report(ref: Ref) -> pd.DataFrame:
    return _df(
        ref,
        """
        select table_name, is_loaded as loaded, replace(load_status, '_', ' ') as status,
               source_file, rows_read, rows_accepted, rows_quarantined, accepted_share
        from marts.fct_load_report
        """,
    )


@_cache
def source_report(ref: Ref) -> pd.DataFrame | None:
    """marts.fct_source_report: per landed source table of a build from sources.yml,
    rows read, mapped, skipped by rule and quarantined by reason (None when the
    warehouse predates it; empty for a contract-shaped data directory)."""
    if not has_table(ref, "marts.fct_source_report"):
        return None
    frame = _df(
        ref,
        """
        select table_name, source_table, source_shape, rows_read, rows_mapped,
               rows_skipped, rows_quarantined, skipped_by_rule, quarantined_by_reason
        from marts.fct_source_report
        order by table_name, source_table
        """,
    )

    def by_key(text) -> str:
        counts = json.loads(text) if isinstance(text, str) and text else {}
        return ", ".join(f"{k} {v:,}" for k, v in counts.items())

    frame["skipped_by_rule"] = frame["skipped_by_rule"].map(by_key)
    frame["quarantined_by_reason"] = frame["quarantined_by_reason"].map(by_key)
    return frame


@_cache
def quarantine_by_reason(ref: Ref) -> pd.DataFrame:
    return _df(
        ref,
        """
        select table_name, reason_code, coalesce(reason_column, '') as reason_column,
               count(*) as rows
        from marts.fct_quarantined_rows
        group by all
        order by table_name, rows desc, reason_code, reason_column
        """,
    )


@_cache
def quarantine_by_table_and_reason(ref: Ref) -> pd.DataFrame:
    return _df(
        ref,
        """
        select table_name, reason_code, count(*) as rows
        from marts.fct_quarantined_rows
        group by all
        order by table_name, reason_code
        """,
    )


@_cache
def quarantined_rows(
    ref: Ref, table: str | None, reason: str | None, limit: int = 200
) -> pd.DataFrame:
    return _df(
        ref,
        """
        select table_name, source_file, source_row_number as row_number, reason_code,
               reason_column, raw_row
        from marts.fct_quarantined_rows
        where coalesce(table_name = $table, true) and coalesce(reason_code = $reason, true)
        order by table_name, source_row_number
        limit $limit
        """,
        {"table": table, "reason": reason, "limit": int(limit)},
    )


@_cache
def expectation_results(ref: Ref) -> pd.DataFrame | None:
    """quality.expectation_results (None when the warehouse has no expectations yet)."""
    if not has_table(ref, "quality.expectation_results"):
        return None
    return _df(
        ref,
        """
        select *
        from quality.expectation_results
        order by success, severity, suite, expectation
        """,
    )


@_cache
def expectation_summary(ref: Ref) -> pd.DataFrame | None:
    """Expectations and how many passed, by suite and severity."""
    if not has_table(ref, "quality.expectation_results"):
        return None
    return _df(
        ref,
        """
        select suite, severity, count(*) as expectations,
               count(*) filter (where coalesce(success, false)) as passed,
               count(*) filter (where not coalesce(success, false)) as failed
        from quality.expectation_results
        group by all
        order by suite, severity
        """,
    )


def data_docs_path_expected(ref: Ref) -> Path:
    """Where ``build`` writes the Data Docs: ``<warehouse dir>/<stem>_data_docs/index.html``
    (paths.docs_folder)."""
    from ..paths import docs_folder

    return docs_folder(Path(ref.path)) / "index.html"


def dbt_docs_url() -> str:
    """Where ``upgrade-warehouse docs`` serves dbt's docs site by default."""
    from ..docs_site import DEFAULT_DOCS_PORT

    return f"http://127.0.0.1:{DEFAULT_DOCS_PORT}/"


def data_docs_path(ref: Ref) -> Path | None:
    """The Data Docs index when it exists."""
    path = data_docs_path_expected(ref)
    return path if path.is_file() else None


# ---------------------------------------------------------------------------- what-if


def whatif_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("upgrade_warehouse.simulator.whatif") is not None


@_cache
def whatif_baseline(ref: Ref, months: int, end_month: str | None):
    """The what-if baseline (``upgrade_warehouse.simulator.whatif.load_baseline``, which
    reads the marts through the same read-only reader)."""
    from ..simulator.whatif import load_baseline

    return load_baseline(ref.path, months=months, end_month=end_month)


# ---------------------------------------------------------------------------- win-back


def winback_available(ref: Ref) -> bool:
    """Whether the warehouse has the win-back results (built by a version with win-back)."""
    from ..winback.reader import TABLES

    return all(has_table(ref, f"marts.{name}") for name in TABLES)


@_cache
def winback_model(ref: Ref) -> dict:
    """The one row of ``marts.winback_model``: as_of, horizon_days, auc, validated_on,
    the other validation figures and the training sizes."""
    from ..winback.reader import model_info

    with warehouse.connect(ref.path) as con:
        return model_info(con)


@_cache
def winback_scores(ref: Ref) -> pd.DataFrame:
    """Every listed account, highest probability first: rank, account_id, activated_at,
    probability, reasons (a list), the play (trigger, owner, channel) and the account's
    segment, persona, acquisition_source, country, plan_id, account_manager_id and
    days_since_activation."""
    frame = _df(
        ref,
        """
        select rank, account_id, activated_at, probability, reasons,
               play_trigger, play_owner, play_channel, segment, persona,
               acquisition_source, country, plan_id, account_manager_id,
               days_since_activation
        from marts.winback_account_scores
        order by rank
        """,
    )
    frame["reasons"] = [json.loads(r) for r in frame["reasons"]]
    return frame


@_cache
def winback_calibration(ref: Ref) -> pd.DataFrame:
    """Validation calibration: bin, accounts, mean_probability, observed_rate."""
    return _df(
        ref,
        """
        select bin, accounts, mean_probability, observed_rate
        from marts.winback_calibration
        order by bin
        """,
    )


def winback_expected_upgrades(scores: pd.DataFrame) -> float | None:
    """Self-serve upgrades expected from these listed accounts within horizon_days: the
    sum of their probabilities (None when no account has one)."""
    if scores.empty or scores["probability"].isna().all():
        return None
    return float(scores["probability"].sum())


def winback_plays(scores: pd.DataFrame) -> pd.DataFrame:
    """The suggested plays of these listed accounts: trigger, owner, channel, accounts,
    expected upgrades (sum of probabilities) and mean probability, most expected first."""
    return (
        scores.groupby(["play_trigger", "play_owner", "play_channel"], dropna=False)
        .agg(
            accounts=("account_id", "size"),
            expected_upgrades=("probability", "sum"),
            mean_probability=("probability", "mean"),
        )
        .reset_index()
        .sort_values(["expected_upgrades", "accounts"], ascending=False)
        .rename(
            columns={
                "play_trigger": "trigger",
                "play_owner": "owner",
                "play_channel": "channel",
                "expected_upgrades": "expected upgrades",
                "mean_probability": "mean probability",
            }
        )
    )
