{#- The funnel by step (metrics.md "Upgrade attempts"), by month of the attempt start
    (month null = all months), segment and funnel step; every step in every period:
    - attempts_reached: attempts whose last_step_index >= the step (in progress too);
      resolved_attempts_reached: the resolved ones (the what-if baseline);
    - attempts_stopped / attempts_abandoned / attempts_escalated: attempts whose last
      step is this one, of them abandoned, of them escalated;
    - abandonment_by_step (the keyed metric): abandoned here / abandoned at any step;
    - step_conversion_rate: reached this step / reached the step before (null for the
      first step); step_reach_rate: reached / started; step_escalation_rate: escalated /
      stopped at this step.
    Rates carry their numerator and denominator (macro `rate`). -#}
{%- set steps = var_list('funnel_steps') -%}
with

frame as (

    select * from {{ ref('int_segment_months') }}

),

account_segments as (

    select * from {{ ref('int_account_segments') }}

),

attempts as (

    select * from {{ ref('fct_upgrade_attempts') }}

),

steps as (

    {%- for step in steps %}
    select
        {{ loop.index }} as step_index,
        cast({{ sql_string(step) }} as {{ dbt.type_string() }}) as step_name
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

segmented as (

    select
        attempts.attempt_month,
        attempts.last_step_index,
        attempts.outcome,
        attempts.is_escalated,
        account_segments.segment_dimension,
        account_segments.segment_value
    from attempts
    inner join account_segments
        on account_segments.account_id = attempts.account_id

),

by_last_step as (

    select
        attempt_month as month,
        segment_dimension,
        segment_value,
        last_step_index,
        count(*) as attempts,
        sum(case when outcome <> 'in_progress' then 1 else 0 end) as resolved_attempts,
        sum(case when outcome = 'abandoned' then 1 else 0 end) as abandoned_attempts,
        sum(case when is_escalated then 1 else 0 end) as escalated_attempts
    from segmented
    {{ group_by_period_and_segment('attempt_month', ['last_step_index']) }}

),

per_step as (

    select
        frame.month,
        frame.segment_dimension,
        frame.segment_value,
        steps.step_index,
        steps.step_name,
        coalesce(sum(case when by_last_step.last_step_index >= steps.step_index
                then by_last_step.attempts
        end), 0) as attempts_reached,
        coalesce(sum(case when by_last_step.last_step_index >= steps.step_index
                then by_last_step.resolved_attempts
        end), 0) as resolved_attempts_reached,
        coalesce(sum(case when by_last_step.last_step_index = steps.step_index
                then by_last_step.attempts
        end), 0) as attempts_stopped,
        coalesce(sum(case when by_last_step.last_step_index = steps.step_index
                then by_last_step.abandoned_attempts
        end), 0) as attempts_abandoned,
        coalesce(sum(case when by_last_step.last_step_index = steps.step_index
                then by_last_step.escalated_attempts
        end), 0) as attempts_escalated
    from frame
    cross join steps
    left join by_last_step
        on {{ same_period_and_segment('by_last_step', 'frame') }}
    group by
        frame.month,
        frame.segment_dimension,
        frame.segment_value,
        steps.step_index,
        steps.step_name

),

with_totals as (

    select
        per_step.*,
        sum(attempts_abandoned) over (
            partition by month, segment_dimension, segment_value
        ) as abandoned_attempts,
        max(case when step_index = 1 then attempts_reached end) over (
            partition by month, segment_dimension, segment_value
        ) as attempts_started,
        lag(attempts_reached) over (
            partition by month, segment_dimension, segment_value order by step_index
        ) as attempts_reached_previous_step
    from per_step

),

final as (

    select
        month,
        segment_dimension,
        segment_value,
        step_index,
        step_name,
        cast(attempts_reached as {{ dbt.type_bigint() }}) as attempts_reached,
        cast(resolved_attempts_reached as {{ dbt.type_bigint() }}) as resolved_attempts_reached,
        cast(attempts_stopped as {{ dbt.type_bigint() }}) as attempts_stopped,
        cast(attempts_abandoned as {{ dbt.type_bigint() }}) as attempts_abandoned,
        cast(attempts_escalated as {{ dbt.type_bigint() }}) as attempts_escalated,
        {{ rate('abandonment_by_step', 'attempts_abandoned', 'abandoned_attempts') }},
        {{ rate('step_conversion_rate', 'attempts_reached', 'attempts_reached_previous_step') }},
        {{ rate('step_reach_rate', 'attempts_reached', 'attempts_started') }},
        {{ rate('step_escalation_rate', 'attempts_escalated', 'attempts_stopped') }}
    from with_totals

)

select * from final
