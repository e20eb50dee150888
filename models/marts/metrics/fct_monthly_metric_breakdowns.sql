{#- Metrics keyed by step, payment method or mismatch reason (metrics.md), one row per
    month, metric id and key. `abandonment_by_step` has a row for every funnel step in
    every month; its value is null in a month without abandoned attempts. -#}
{%- set steps = var_list('funnel_steps') -%}
with

months as (

    select * from {{ ref('int_month_spine') }}

),

attempts as (

    select * from {{ ref('fct_upgrade_attempts') }}

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

final as (

    select * from abandonment_by_step

)

select * from final
