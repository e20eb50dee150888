"""The Funnel and Cohorts pages' queries: the funnel over a month range, time to
activation, cohorts.

The Funnel page shows a month range (From - To of the filter bar). Its numbers are those
of the marts' monthly rows added up over the range's months, by one rule:

- a count (``attempts_started``, ``attempts_reached``, ...) is the sum of the months';
- a rate is the sum of its numerators over the sum of its denominators
  (``<id>__numerator``, ``<id>__denominator``: the counts the marts keep beside each
  rate), never a mean of the monthly rates; the funnel rates are therefore still over
  matured attempts only;
- a percentile (``intent_to_activation_hours_p50`` / ``_p90``) is computed again over
  the range's attempts in ``fct_upgrade_attempts``, with dbt's own definition (the
  macro ``percentile_cont``: ``quantile_cont``, rounded to 9 decimals) and dbt's
  segments (accepted accounts, ``dim_accounts``): percentiles do not add up.

A one-month range thus gives that month's row of ``fct_monthly_metrics_by_segment``
(the ``metrics --month M`` numbers) and the range of every month its all-months row
(tests/test_dashboard_funnel_range.py checks both on a built warehouse).
"""

from __future__ import annotations

import pandas as pd

from .. import warehouse
from ..metrics import number
from .marts import (
    Ref,
    Segment,
    _accounts_of,
    _cache,
    _df,
    _month_param,
    _records,
    _segments_filter,
    has_table,
)

# ------------------------------------------------------------------------------ funnel

# The outcomes of an attempt (attempts_<outcome>: counts of fct_monthly_metrics_by_segment).
OUTCOMES = ("completed_self_serve", "completed_assisted", "escalated", "abandoned", "in_progress")
# The funnel section's numbers over a range (metric ids; the catalog's funnel section
# less the keyed abandonment_by_step, which is by step: RANGE_STEP_RATES).
RANGE_COUNTS = ("attempts_started", "attempts_matured", *(f"attempts_{o}" for o in OUTCOMES))
RANGE_RATES = ("upgrade_conversion_rate", "self_serve_completion_rate", "escalation_rate")
RANGE_PERCENTILES = {"intent_to_activation_hours_p50": 0.5, "intent_to_activation_hours_p90": 0.9}
# fct_funnel_steps over a range.
RANGE_STEP_COUNTS = (
    "attempts_reached",
    "attempts_stopped",
    "attempts_abandoned",
    "attempts_escalated",
)
RANGE_STEP_RATES = (
    "abandonment_by_step",
    "step_conversion_rate",
    "step_reach_rate",
    "step_escalation_rate",
)

# The months of a range, both ends included (YYYY-MM, bound as their first days): of a
# mart by month, and of the attempts by the month of their start.
RANGE = "month between cast($month_from as date) and cast($month_to as date)"
ATTEMPTS_IN_RANGE = "attempt_month between cast($month_from as date) and cast($month_to as date)"


def _range_params(month_from: str, month_to: str) -> dict:
    """The bound parameters of :data:`RANGE` (the ends in order, whichever came first)."""
    first, last = sorted((month_from, month_to))
    return {"month_from": _month_param(first), "month_to": _month_param(last)}


def _range_sums(
    ref: Ref,
    relation: str,
    counts: tuple[str, ...],
    rates: tuple[str, ...],
    segments: tuple[Segment, ...],
    month_from: str,
    month_to: str,
    keys: tuple[str, ...] = (),
) -> list[dict]:
    """Rows of ``relation`` (a mart by month, segment and ``keys``) added up over the
    range, by segment and ``keys``: each count and each rate's numerator and denominator
    summed, each rate sum(numerator) / sum(denominator) (null over 0 cases)."""
    params = _range_params(month_from, month_to)
    summed = [*counts, *(f"{r}__{part}" for r in rates for part in ("numerator", "denominator"))]
    sums = ", ".join(f"cast(sum({c}) as bigint) as {c}" for c in summed)
    ratios = ", ".join(
        f"cast({r}__numerator as double) / nullif({r}__denominator, 0) as {r}" for r in rates
    )
    group = ", ".join(["segment_dimension", "segment_value", *keys])
    return _records(
        ref,
        f"""
        with summed as (
            select {group}, {sums}
            from {relation}
            where {RANGE} and {_segments_filter(segments, params)}
            group by {group}
        )
        select *, {ratios}
        from summed
        order by {group}
        """,
        params,
    )


def _attempts_of(ref: Ref, segment: Segment, params: dict) -> str:
    """An attempt's ``account_id`` is of ``segment``, as in dbt's segments
    (``int_account_segments``: accepted accounts only, for all accounts too)."""
    if segment.dimension == "all":
        return "account_id in (select account_id from marts.dim_accounts)"
    return _accounts_of(ref, segment, params)


def _range_percentiles(
    ref: Ref, segments: tuple[Segment, ...], month_from: str, month_to: str
) -> list[dict]:
    """intent_to_activation_hours_p50 / _p90 of each segment over the range's attempts
    (dbt's ``percentile_cont``: DuckDB's quantile_cont rounded to 9 decimals), in the
    order of ``segments``."""
    params = _range_params(month_from, month_to)
    values = ", ".join(
        f"round(quantile_cont(intent_to_activation_hours, {fraction}), 9) as {metric_id}"
        for metric_id, fraction in RANGE_PERCENTILES.items()
    )
    parts = [
        f"select {i} as i, {values} from marts.fct_upgrade_attempts "
        f"where {ATTEMPTS_IN_RANGE} and {_attempts_of(ref, segment, params)}"
        for i, segment in enumerate(segments)
    ]
    if not parts:
        return []
    return _records(ref, " union all ".join(parts) + " order by i", params)


@_cache
def funnel_range(
    ref: Ref, segments: tuple[Segment, ...], month_from: str, month_to: str
) -> dict[Segment, dict]:
    """The funnel metrics of these segments over the months ``month_from`` to
    ``month_to`` (YYYY-MM, both included): segment -> a row shaped like one of
    :func:`.marts.segment_metrics` (each metric id of :data:`RANGE_COUNTS`,
    :data:`RANGE_RATES` and :data:`RANGE_PERCENTILES`, each rate's ``__numerator`` and
    ``__denominator``; ``month_from`` / ``month_to``). Counts and the counts behind the
    rates are summed over the months, rates are their sums' ratio, percentiles are
    computed again over the range's attempts (the module's rules). A segment without
    a row in those months is left out."""
    first, last = sorted((month_from, month_to))
    summed = _range_sums(
        ref,
        "marts.fct_monthly_metrics_by_segment",
        RANGE_COUNTS,
        RANGE_RATES,
        segments,
        first,
        last,
    )
    percentiles = _range_percentiles(ref, segments, first, last)
    out: dict[Segment, dict] = {}
    for row in summed:
        segment = Segment(row.pop("segment_dimension"), row.pop("segment_value"))
        found = next((p for p, s in zip(percentiles, segments) if s == segment), {})
        typed = {k: number(v, "rate" if k in RANGE_RATES else "count") for k, v in row.items()}
        for metric_id in RANGE_PERCENTILES:
            typed[metric_id] = number(found.get(metric_id), "hours")
        out[segment] = {**typed, "segment": segment, "month_from": first, "month_to": last}
    return out


@_cache
def funnel_steps(
    ref: Ref, segments: tuple[Segment, ...], month_from: str, month_to: str
) -> pd.DataFrame:
    """The funnel by step of these segments over the months ``month_from`` to
    ``month_to`` (``fct_funnel_steps`` added up by the module's rules): segment (its
    label), step_index, step_name, the counts of :data:`RANGE_STEP_COUNTS`, each rate of
    :data:`RANGE_STEP_RATES` with its numerator and denominator."""
    rows = _range_sums(
        ref,
        "marts.fct_funnel_steps",
        RANGE_STEP_COUNTS,
        RANGE_STEP_RATES,
        segments,
        month_from,
        month_to,
        keys=("step_index", "step_name"),
    )
    columns = [
        "segment_dimension",
        "segment_value",
        "step_index",
        "step_name",
        *RANGE_STEP_COUNTS,
        *(f"{r}{part}" for r in RANGE_STEP_RATES for part in ("", "__numerator", "__denominator")),
    ]
    frame = pd.DataFrame(rows, columns=columns).sort_values("step_index", kind="stable")
    frame["segment"] = [
        Segment(d, None if pd.isna(v) else v).label
        for d, v in zip(frame["segment_dimension"], frame["segment_value"])
    ]
    return frame.reset_index(drop=True)


HOUR_BINS = 30  # bars of the time-to-convert histogram


def _nice(width: float) -> float:
    """The smallest of 1, 2, 2.5 or 5 x 10^k hours at least ``width`` (readable edges)."""
    import math

    if width <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(width))
    return next(step * power for step in (1, 2, 2.5, 5, 10) if step * power >= width)


@_cache
def activation_hours(
    ref: Ref, segments: tuple[Segment, ...], month_from: str, month_to: str
) -> pd.DataFrame:
    """Hours from attempt start to activation of these segments' activated attempts
    started from ``month_from`` to ``month_to`` (the values behind
    intent_to_activation_hours_p50 / _p90 of :func:`funnel_range`), counted in about 30
    bins of a readable width: segment, outcome, bin_start, bin_end, attempts (tens of
    rows whatever the warehouse's size, for the histogram)."""
    params = _range_params(month_from, month_to)
    parts = []
    for i, segment in enumerate(segments):
        params[f"label{i}"] = segment.label
        parts.append(
            f"select $label{i} as segment, outcome, intent_to_activation_hours as hours "
            "from marts.fct_upgrade_attempts "
            f"where intent_to_activation_hours is not null and {ATTEMPTS_IN_RANGE} "
            f"and {_attempts_of(ref, segment, params)}"
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
