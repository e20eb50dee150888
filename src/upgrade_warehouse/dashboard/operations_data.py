"""The Operations and Upsell pages' queries: sync, payments, eligibility, orders, offers."""

from __future__ import annotations

import pandas as pd

from .. import warehouse
from .marts import ALL_ACCOUNTS, PERIOD, Ref, _cache, _df, _month_param

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
