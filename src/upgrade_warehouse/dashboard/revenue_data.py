"""The Revenue page's queries: movements by kind, unconverted changes, attribution, proration."""

from __future__ import annotations

import pandas as pd

from .marts import ALL, Ref, Segment, _accounts_of, _cache, _df, _month_param, has_table

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
