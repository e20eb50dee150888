{#- The keyed metrics of metrics.md at the period x segment grain, one row per period,
    segment, metric id and key: abandonment_by_step (every funnel step in every period;
    null without abandoned attempts), payment_success_rate_by_method (the methods
    attempted in the period), attribution_mismatches (every reason in every period, 0
    when none; no rows without crm_opportunities). Rates carry their numerator and
    denominator. -#}
with

{{ import_ctes({
    'funnel_steps': ref('int_metrics__funnel_steps'),
    'payments_by_method': ref('int_metrics__payments_by_method'),
    'attribution_by_reason': ref('int_metrics__attribution_by_reason'),
}) }}

abandonment_by_step as (

    select
        month,
        segment_dimension,
        segment_value,
        cast('abandonment_by_step' as {{ dbt.type_string() }}) as metric_id,
        step_name as breakdown_key,
        step_index as breakdown_order,
        abandonment_by_step as metric_value,
        abandonment_by_step__numerator as metric_numerator,
        abandonment_by_step__denominator as metric_denominator
    from funnel_steps

),

payment_success_rate_by_method as (

    select
        month,
        segment_dimension,
        segment_value,
        cast('payment_success_rate_by_method' as {{ dbt.type_string() }}) as metric_id,
        payment_method as breakdown_key,
        0 as breakdown_order,
        payment_success_rate_by_method as metric_value,
        payment_success_rate_by_method__numerator as metric_numerator,
        payment_success_rate_by_method__denominator as metric_denominator
    from payments_by_method

),

attribution_mismatches as (

    select
        month,
        segment_dimension,
        segment_value,
        cast('attribution_mismatches' as {{ dbt.type_string() }}) as metric_id,
        mismatch_reason as breakdown_key,
        reason_order as breakdown_order,
        cast(attribution_mismatches as {{ type_double() }}) as metric_value,
        cast(null as {{ dbt.type_bigint() }}) as metric_numerator,
        cast(null as {{ dbt.type_bigint() }}) as metric_denominator
    from attribution_by_reason

),

final as (

    select * from abandonment_by_step
    union all
    select * from payment_success_rate_by_method
    union all
    select * from attribution_mismatches

)

select * from final
