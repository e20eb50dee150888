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

{{ section_imports({'attempts': ref('fct_upgrade_attempts')}) }}

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

{{ segmented_aggregate('attempts', 'attempt_month', {
    'attempts': 'count(*)',
    'resolved_attempts': count_if("outcome <> 'in_progress'"),
    'abandoned_attempts': count_if("outcome = 'abandoned'"),
    'escalated_attempts': count_if('is_escalated'),
}, keys=['last_step_index'], name='by_last_step') }}

per_step as (

    select
        {{ period_and_segment() }},
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
        {{ bigint_columns([
            'attempts_reached', 'resolved_attempts_reached', 'attempts_stopped',
            'attempts_abandoned', 'attempts_escalated',
        ]) }},
        {{ rate('abandonment_by_step', 'attempts_abandoned', 'abandoned_attempts') }},
        {{ rate('step_conversion_rate', 'attempts_reached', 'attempts_reached_previous_step') }},
        {{ rate('step_reach_rate', 'attempts_reached', 'attempts_started') }},
        {{ rate('step_escalation_rate', 'attempts_escalated', 'attempts_stopped') }}
    from with_totals

)

select * from final
