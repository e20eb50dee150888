"""The Funnel and Cohorts pages' queries: funnel steps, time to activation, cohorts."""

from __future__ import annotations

import pandas as pd

from .. import warehouse
from .marts import (
    PERIOD,
    Ref,
    Segment,
    _accounts_of,
    _cache,
    _df,
    _month_param,
    _segments_filter,
    has_table,
)

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


@_cache
def cohort_curve(ref: Ref) -> pd.DataFrame:
    """The cohort view by cohort age (``fct_cohort_upgrade_curve``): month (the activation
    month, YYYY-MM), days_since_activation, cohort_accounts, upgraded_accounts,
    cumulative_self_serve_upgrade_rate; empty on a warehouse built before it existed."""
    columns = [
        "month",
        "days_since_activation",
        "cohort_accounts",
        "upgraded_accounts",
        "cumulative_self_serve_upgrade_rate",
    ]
    if not has_table(ref, "marts.fct_cohort_upgrade_curve"):
        return pd.DataFrame(columns=columns)
    return _df(
        ref,
        """
        select strftime(activation_month, '%Y-%m') as month, days_since_activation,
               cohort_accounts, upgraded_accounts, cumulative_self_serve_upgrade_rate
        from marts.fct_cohort_upgrade_curve
        order by month, days_since_activation
        """,
    )
