{#- Funnel metrics (metrics.md "Upgrade attempts") by month of the attempt start (month
    null = all months) and segment. The three rates are over matured attempts only
    (start + conversion window <= as_of: attempts_matured), so that the latest weeks do
    not lean upward (a completion is known at once, an abandonment only after the
    window). Rates carry their numerator and denominator (macro `rate`);
    attempts_<outcome> count the attempts of each outcome. -#}
{%- set outcomes = ['completed_self_serve', 'completed_assisted', 'in_progress', 'escalated', 'abandoned'] -%}
with

{{ section_imports({'attempts': ref('fct_upgrade_attempts')}) }}

{%- set measures = {
    'attempts_started': 'count(*)',
    'matured_attempts': count_if('is_matured'),
    'matured_completed_attempts': count_if('is_matured and is_completed'),
    'matured_completed_self_serve_attempts': count_if("is_matured and outcome = 'completed_self_serve'"),
    'matured_escalated_attempts': count_if(
        "is_matured and outcome in ('completed_assisted', 'escalated')"
    ),
} %}
{%- for outcome in outcomes %}
{%- do measures.update({'outcome_' ~ outcome: count_if('outcome = ' ~ sql_string(outcome))}) %}
{%- endfor %}
{%- do measures.update({
    'intent_to_activation_hours_p50': percentile_cont('intent_to_activation_hours', 0.5),
    'intent_to_activation_hours_p90': percentile_cont('intent_to_activation_hours', 0.9),
}) %}

{{ segmented_aggregate('attempts', 'attempt_month', measures) }}

final as (

    select
        {{ period_and_segment() }},
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
    {{ from_frame() }}

)

select * from final
