{#- Metrics keyed by step, payment method or mismatch reason (metrics.md), one row per
    month, metric id and key. `abandonment_by_step` has a row for every funnel step in
    every month; its value is null in a month without abandoned attempts.
    `payment_success_rate_by_method` has a row per method attempted in the month;
    `attribution_mismatches` a row per reason in every month (counts, 0 when none).
    Sections whose source table was not supplied have no rows (null objects). -#}
{%- set steps = var_list('funnel_steps') -%}
with

months as (

    select * from {{ ref('int_month_spine') }}

),

attempts as (

    select * from {{ ref('fct_upgrade_attempts') }}

),

payments as (

    select * from {{ ref('fct_payment_attempts') }}

),

attribution as (

    select * from {{ ref('fct_revenue_attribution') }}

),

loaded as (

    select * from {{ ref('int_loaded_tables') }}

),

mismatch_reasons as (

    {%- for reason in ['missing_record', 'wrong_direction', 'wrong_movement', 'wrong_amount'] %}
    select '{{ reason }}' as reason, {{ loop.index }} as reason_order
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

steps as (

    {%- for step in steps %}
    select '{{ step }}' as step_name, {{ loop.index }} as step_index
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

abandoned as (

    select
        attempt_month as month,
        last_step_index,
        count(*) as abandoned_attempts
    from attempts
    where outcome = 'abandoned'
    group by attempt_month, last_step_index

),

abandoned_totals as (

    select
        month,
        sum(abandoned_attempts) as abandoned_attempts
    from abandoned
    group by month

),

abandonment_by_step as (

    select
        months.month,
        'abandonment_by_step' as metric_id,
        steps.step_name as breakdown_key,
        steps.step_index as breakdown_order,
        {{ safe_ratio('coalesce(abandoned.abandoned_attempts, 0)', 'abandoned_totals.abandoned_attempts') }}
            as metric_value
    from months
    cross join steps
    left join abandoned
        on abandoned.month = months.month
        and abandoned.last_step_index = steps.step_index
    left join abandoned_totals
        on abandoned_totals.month = months.month

),

payment_success_rate_by_method as (

    select
        payments.attempt_month as month,
        'payment_success_rate_by_method' as metric_id,
        payments.payment_method as breakdown_key,
        0 as breakdown_order,
        {{ safe_ratio('sum(case when payments.is_succeeded then 1 else 0 end)', 'count(*)') }}
            as metric_value
    from payments
    group by payments.attempt_month, payments.payment_method

),

mismatch_counts as (

    select
        change_month as month,
        mismatch_reason,
        count(*) as changes
    from attribution
    where mismatch_reason is not null
    group by change_month, mismatch_reason

),

attribution_mismatches as (

    select
        months.month,
        'attribution_mismatches' as metric_id,
        mismatch_reasons.reason as breakdown_key,
        mismatch_reasons.reason_order as breakdown_order,
        cast(coalesce(mismatch_counts.changes, 0) as {{ type_double() }}) as metric_value
    from months
    cross join mismatch_reasons
    cross join loaded
    left join mismatch_counts
        on mismatch_counts.month = months.month
        and mismatch_counts.mismatch_reason = mismatch_reasons.reason
    where loaded.has_crm_opportunities

),

final as (

    select * from abandonment_by_step
    union all
    select * from payment_success_rate_by_method
    union all
    select * from attribution_mismatches

)

select * from final
