{#- Funnel metrics (metrics.md "Upgrade attempts") by month of the attempt start (month
    null = all months) and segment. The three rates are over matured attempts only
    (start + conversion window <= as_of: attempts_matured), so that the latest weeks do
    not lean upward (a completion is known at once, an abandonment only after the
    window). Rates carry their numerator and denominator (macro `rate`);
    attempts_<outcome> count the attempts of each outcome. -#}
{%- set outcomes = ['completed_self_serve', 'completed_assisted', 'in_progress', 'escalated', 'abandoned'] -%}
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

segmented as (

    select
        attempts.attempt_month,
        attempts.outcome,
        attempts.is_completed,
        attempts.is_matured,
        attempts.intent_to_activation_hours,
        account_segments.segment_dimension,
        account_segments.segment_value
    from attempts
    inner join account_segments
        on account_segments.account_id = attempts.account_id

),

aggregated as (

    select
        attempt_month as month,
        segment_dimension,
        segment_value,
        count(*) as attempts_started,
        sum(case when is_matured then 1 else 0 end) as matured_attempts,
        sum(case when is_matured and is_completed then 1 else 0 end) as matured_completed_attempts,
        sum(case when is_matured and outcome = 'completed_self_serve' then 1 else 0 end)
            as matured_completed_self_serve_attempts,
        sum(
            case
                when is_matured and outcome in ('completed_assisted', 'escalated') then 1 else 0
            end
        )
            as matured_escalated_attempts,
        {%- for outcome in outcomes %}
        sum(case when outcome = {{ sql_string(outcome) }} then 1 else 0 end)
            as outcome_{{ outcome }},
        {%- endfor %}
        {{ percentile_cont('intent_to_activation_hours', 0.5) }} as intent_to_activation_hours_p50,
        {{ percentile_cont('intent_to_activation_hours', 0.9) }} as intent_to_activation_hours_p90
    from segmented
    {{ group_by_period_and_segment('attempt_month') }}

),

final as (

    select
        frame.month,
        frame.segment_dimension,
        frame.segment_value,
        {{ count_metric('attempts_started', 'aggregated.attempts_started') }},
        {{ count_metric('attempts_matured', 'aggregated.matured_attempts') }},
        {{ rate(
            'upgrade_conversion_rate',
            'aggregated.matured_completed_attempts',
            'aggregated.matured_attempts'
        ) }},
        {{ rate(
            'self_serve_completion_rate',
            'aggregated.matured_completed_self_serve_attempts',
            'aggregated.matured_attempts'
        ) }},
        {{ rate(
            'escalation_rate',
            'aggregated.matured_escalated_attempts',
            'aggregated.matured_attempts'
        ) }},
        cast(aggregated.intent_to_activation_hours_p50 as {{ type_double() }})
            as intent_to_activation_hours_p50,
        cast(aggregated.intent_to_activation_hours_p90 as {{ type_double() }})
            as intent_to_activation_hours_p90,
        {#- attempts by outcome (not metrics: the counts the funnel metrics are made of) #}
    {%- for outcome in outcomes %}
    cast(coalesce(aggregated.outcome_{{ outcome }}, 0) as {{ dbt.type_bigint() }})
        as attempts_{{ outcome }}{% if not loop.last %},{% endif %}
    {%- endfor %}
    from frame
    left join aggregated
        on {{ same_period_and_segment('aggregated', 'frame') }}

)

select * from final
