"""The dashboard's only data-access module: every query the pages need, and all its SQL.

- Each query opens a short-lived read-only connection (an in-memory DuckDB with the
  file attached read-only) and closes it before it returns. ``build`` publishes a new
  warehouse with an atomic rename: a reader keeps the file it opened, the next query
  opens the new one; nothing is ever locked.
- Queries are parameterized (``$name``); identifiers are never built from user input.
- Results are cached with ``st.cache_data`` for a short ttl, keyed by the warehouse's
  :class:`Ref` (path + modification time + size + inode), so a newly published
  warehouse is read on the next page load, whatever the ttl.
- Optional inputs: :func:`loaded_tables` says which raw tables were loaded and
  :func:`has_table` whether a relation exists (marts and checks built by newer
  versions), so the pages can show an empty state instead of failing.

Months are passed as ``YYYY-MM`` text (``None`` = all months).
"""

from __future__ import annotations

import json
import os
import threading
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import duckdb
import pandas as pd
import streamlit as st

from ..errors import UserError
from ..metrics import read_metrics
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


@contextmanager
def _connect(ref: Ref):
    """A fresh in-memory DuckDB with the warehouse file attached read-only.

    Not ``duckdb.connect(path)``: DuckDB shares one database instance per path inside a
    process, so while any connection to the old file is open a new ``connect`` would
    still read the replaced file after a publish. An attach always opens the file that
    is at the path now.
    """
    con = duckdb.connect(":memory:")
    try:
        quoted = ref.path.replace("'", "''")
        con.execute(f"attach '{quoted}' as warehouse (read_only)")
        con.execute("use warehouse")
        yield con
    finally:
        con.close()


# ``read_metrics`` and the what-if baseline open the file with ``duckdb.connect(path)``:
# one at a time in this process, so that no connection to a replaced file is ever open
# when the next one is made (see ``_connect``).
_path_connections = threading.Lock()


def _df(ref: Ref, sql: str, params: dict | None = None) -> pd.DataFrame:
    with _connect(ref) as con:
        return con.execute(sql, params or {}).df()


def _month_param(month: str | None) -> str | None:
    """``YYYY-MM`` -> the first day, for ``cast($month as date)`` (None = no filter)."""
    if month is None:
        return None
    datetime.strptime(month, "%Y-%m")  # raises on anything else
    return f"{month}-01"


# A month filter on column COL: every row when $month is null.
def _month_filter(column: str) -> str:
    return f"coalesce({column} = cast($month as date), true)"


# ------------------------------------------------------------------------- the warehouse


@_cache
def relations(ref: Ref) -> frozenset[str]:
    """Every ``schema.table`` in the warehouse."""
    with _connect(ref) as con:
        rows = con.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_catalog = current_database()"
        ).fetchall()
    return frozenset(r[0] for r in rows)


def has_table(ref: Ref, name: str) -> bool:
    return name in relations(ref)


@_cache
def build_info(ref: Ref) -> dict:
    with _connect(ref) as con:
        as_of, currency, parameters_json = con.execute(
            "select as_of, reporting_currency, parameters_json from raw.build_info"
        ).fetchone()
    return {
        "as_of": as_of,
        "reporting_currency": currency,
        "parameters": json.loads(parameters_json),
        "published_at": datetime.fromtimestamp(ref.mtime_ns / 1e9).astimezone(),
    }


@_cache
def loaded_tables(ref: Ref) -> dict[str, bool]:
    """Raw table -> whether a file was loaded for it (raw.load_report.loaded)."""
    with _connect(ref) as con:
        rows = con.execute("select table_name, loaded from raw.load_report").fetchall()
    return {name: bool(loaded) for name, loaded in rows}


@_cache
def metrics(ref: Ref) -> dict:
    """The ``metrics --format json`` object (the very same function computes it)."""
    with _path_connections:
        return read_metrics(Path(ref.path))


@_cache
def metric_catalog(ref: Ref) -> pd.DataFrame:
    """metric_id, section, unit, grain, label, definition, in catalog order."""
    return _df(
        ref,
        "select metric_id, section, unit, grain, label, definition "
        "from reference.metric_catalog",
    )


# ------------------------------------------------------------------------------ funnel


@_cache
def funnel_attempts(ref: Ref, month: str | None) -> pd.DataFrame:
    """Attempts by last step reached, outcome and escalation (counts)."""
    return _df(
        ref,
        f"""
        select last_step_index, last_step, outcome, is_escalated, is_completed,
               count(*) as attempts
        from marts.fct_upgrade_attempts
        where {_month_filter('attempt_month')}
        group by all
        order by last_step_index, outcome
        """,
        {"month": _month_param(month)},
    )


@_cache
def time_to_convert_hours(ref: Ref, month: str | None) -> pd.DataFrame:
    """Hours from attempt start to completion, one row per completed attempt."""
    return _df(
        ref,
        f"""
        select outcome,
               (epoch(completed_at) - epoch(started_at)) / 3600.0 as hours
        from marts.fct_upgrade_attempts
        where is_completed and completed_at is not null
          and {_month_filter('attempt_month')}
        """,
        {"month": _month_param(month)},
    )


# ----------------------------------------------------------------------------- cohorts


@_cache
def cohort_dimensions(ref: Ref) -> list[str]:
    with _connect(ref) as con:
        rows = con.execute(
            "select distinct dimension from marts.fct_activation_cohorts order by 1"
        ).fetchall()
    return [r[0] for r in rows]


@_cache
def cohorts(ref: Ref, dimension: str) -> pd.DataFrame:
    """The activation cohorts of one breakdown (``all`` = the metric itself)."""
    return _df(
        ref,
        """
        select strftime(activation_month, '%Y-%m') as month, dimension_value,
               activated_accounts,
               cast(matured_activated_accounts as bigint) as matured_activated_accounts,
               cast(converted_matured_accounts as bigint) as converted_matured_accounts,
               post_activation_self_serve_rate
        from marts.fct_activation_cohorts
        where dimension = $dimension
        order by month, dimension_value
        """,
        {"dimension": dimension},
    )


# ----------------------------------------------------------------- revenue, attribution


@_cache
def upgrades_by_kind(ref: Ref, month: str | None) -> pd.DataFrame:
    """Changes with a movement by movement, kind and channel (reporting currency)."""
    return _df(
        ref,
        f"""
        select movement, kind, channel, count(*) as changes,
               sum(mrr_delta_reporting) as mrr_delta_reporting,
               count(*) filter (where not is_converted) as unconverted
        from marts.fct_subscription_changes
        where movement <> 'none' and {_month_filter('change_month')}
        group by all
        order by movement, kind, channel
        """,
        {"month": _month_param(month)},
    )


@_cache
def attribution_mismatches(ref: Ref, month: str | None) -> pd.DataFrame:
    """Changes whose CRM record does not match the derived movement (the list to fix)."""
    return _df(
        ref,
        f"""
        select strftime(changed_at, '%Y-%m-%d %H:%M:%S') as changed_at, change_id,
               account_id, mismatch_reason, movement, crm_movement_type,
               mrr_delta, currency, crm_mrr_delta_minor, crm_currency, opportunity_id,
               crm_origin, crm_owner_id, channel
        from marts.fct_revenue_attribution
        where not is_accurate and {_month_filter('change_month')}
        order by changed_at, change_id
        """,
        {"month": _month_param(month)},
    )


@_cache
def proration_checks(ref: Ref, month: str | None) -> pd.DataFrame | None:
    """Billed vs expected proration per change (None when the mart is not built)."""
    if not has_table(ref, "marts.fct_proration_checks"):
        return None
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
        where {_month_filter('change_month')}
        order by is_accurate, changed_at, change_id
        """,
        {"month": _month_param(month)},
    )


# -------------------------------------------------------------------------- operations


@_cache
def sync_by_target(ref: Ref, month: str | None) -> pd.DataFrame:
    return _df(
        ref,
        f"""
        select target_system,
               count(*) as handoffs,
               count(*) filter (where is_first_attempt_failed) as first_attempt_failed,
               count(*) filter (where not is_resolved) as unresolved,
               count(*) filter (where is_dead_letter) as dead_letters,
               count(*) filter (where is_manual_override) as manual_overrides,
               quantile_cont(time_to_sync_seconds, 0.5) as time_to_sync_seconds_p50
        from marts.fct_sync_handoffs
        where {_month_filter('change_month')}
        group by target_system
        order by target_system
        """,
        {"month": _month_param(month)},
    )


@_cache
def unresolved_handoffs(ref: Ref, month: str | None) -> pd.DataFrame:
    return _df(
        ref,
        f"""
        select target_system, change_id, account_id,
               strftime(changed_at, '%Y-%m-%d %H:%M:%S') as changed_at,
               attempts, last_attempt_status, last_error_code,
               strftime(last_attempted_at, '%Y-%m-%d %H:%M:%S') as last_attempted_at,
               is_dead_letter, unresolved_age_days
        from marts.fct_sync_handoffs
        where not is_resolved and {_month_filter('change_month')}
        order by unresolved_age_days desc nulls last, target_system, change_id
        """,
        {"month": _month_param(month)},
    )


@_cache
def payments_by_method(ref: Ref, month: str | None) -> pd.DataFrame:
    return _df(
        ref,
        f"""
        select payment_method, count(*) as attempts,
               count(*) filter (where is_succeeded) as succeeded,
               count(*) filter (where not is_succeeded) as failed
        from marts.fct_payment_attempts
        where {_month_filter('attempt_month')}
        group by payment_method
        order by attempts desc, payment_method
        """,
        {"month": _month_param(month)},
    )


@_cache
def payment_failures(ref: Ref, month: str | None) -> pd.DataFrame:
    return _df(
        ref,
        f"""
        select payment_method, coalesce(failure_code, '(none)') as failure_code,
               count(*) as failed
        from marts.fct_payment_attempts
        where not is_succeeded and {_month_filter('attempt_month')}
        group by all
        order by failed desc, payment_method, failure_code
        """,
        {"month": _month_param(month)},
    )


@_cache
def eligibility_rejections(ref: Ref, month: str | None) -> pd.DataFrame:
    return _df(
        ref,
        f"""
        select coalesce(rejection_reason, '(none)') as rejection_reason,
               count(*) as rejected,
               count(*) filter (where is_false_positive) as overridden
        from marts.fct_eligibility_checks
        where is_rejected and {_month_filter('check_month')}
        group by all
        order by rejected desc, rejection_reason
        """,
        {"month": _month_param(month)},
    )


@_cache
def eligibility_totals(ref: Ref, month: str | None) -> dict:
    with _connect(ref) as con:
        checks, rejected = con.execute(
            f"""
            select count(*), count(*) filter (where is_rejected)
            from marts.fct_eligibility_checks where {_month_filter('check_month')}
            """,
            {"month": _month_param(month)},
        ).fetchone()
    return {"checks": checks, "rejected": rejected}


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

UPSELL_DIMENSIONS = ("trigger", "owner", "channel")


@_cache
def upsell_outcomes(ref: Ref, dimension: str, month: str | None) -> pd.DataFrame:
    """Offers by one of trigger, owner or channel and their outcome at as_of."""
    if dimension not in UPSELL_DIMENSIONS:  # an identifier: only from this fixed list
        raise ValueError(f"unknown upsell dimension {dimension!r}")
    return _df(
        ref,
        f"""
        select coalesce({dimension}, '(none)') as value,
               count(*) as offers,
               count(*) filter (where has_outcome) as with_outcome,
               count(*) filter (where outcome = 'accepted') as accepted,
               count(*) filter (where outcome = 'rejected') as rejected,
               count(*) filter (where outcome = 'deferred') as deferred,
               count(*) filter (where outcome = 'no_response') as no_response,
               count(*) filter (where not has_outcome) as pending,
               count(*) filter (where is_deferred_then_accepted) as deferred_then_accepted
        from marts.fct_upsell_offers
        where {_month_filter('offer_month')}
        group by all
        order by offers desc, value
        """,
        {"month": _month_param(month)},
    )


# --------------------------------------------------------------------------- simulator


@_cache
def plans(ref: Ref):
    """The warehouse's plan catalog (accepted rows of the plans table), a polars frame
    in the contract's columns (``upgrade_warehouse.simulator.plans_from_frame`` reads it)."""
    with _connect(ref) as con:
        return con.sql(
            """
            select plan_id, plan_name, tier_rank, billing_interval, unit_amount_minor,
                   currency, self_serve, min_seats, max_seats, entitlements
            from raw.plans
            order by currency, billing_interval, tier_rank, plan_id
            """
        ).pl()


# ------------------------------------------------------------------------ data quality


@_cache
def load_report(ref: Ref) -> pd.DataFrame:
    return _df(
        ref,
        """
        select table_name, loaded, source_file, rows_read, rows_accepted, rows_quarantined
        from raw.load_report
        """,
    )


@_cache
def quarantine_by_reason(ref: Ref) -> pd.DataFrame:
    return _df(
        ref,
        """
        select table_name, reason_code, coalesce(reason_column, '') as reason_column,
               count(*) as rows
        from raw.quarantine
        group by all
        order by table_name, rows desc, reason_code, reason_column
        """,
    )


@_cache
def quarantined_rows(ref: Ref, table: str | None, reason: str | None,
                     limit: int = 200) -> pd.DataFrame:
    return _df(
        ref,
        """
        select table_name, source_file, row_number, reason_code, reason_column, raw_row
        from raw.quarantine
        where coalesce(table_name = $table, true) and coalesce(reason_code = $reason, true)
        order by table_name, row_number
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


def data_docs_path_expected(ref: Ref) -> Path:
    """Where ``build`` writes the Data Docs: ``<warehouse dir>/data_docs/index.html``."""
    return Path(ref.path).parent / "data_docs" / "index.html"


def data_docs_path(ref: Ref) -> Path | None:
    """The Data Docs index when it exists."""
    path = data_docs_path_expected(ref)
    return path if path.is_file() else None


def age(ref: Ref) -> timedelta:
    """How long ago this warehouse version was published."""
    return datetime.now() - datetime.fromtimestamp(ref.mtime_ns / 1e9)


# ---------------------------------------------------------------------------- what-if


def whatif_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("upgrade_warehouse.simulator.whatif") is not None


@_cache
def whatif_baseline(ref: Ref, months: int, end_month: str | None):
    """The what-if baseline (``upgrade_warehouse.simulator.whatif.load_baseline``, which
    reads through its own short-lived read-only connection)."""
    from ..simulator.whatif import load_baseline

    with _path_connections:
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

    with _connect(ref) as con:
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
