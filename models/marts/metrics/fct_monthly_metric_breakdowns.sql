{#- Metrics keyed by step, payment method or mismatch reason (metrics.md), one row per
    month, metric id and key, for all accounts (int_monthly_metric_breakdowns).
    `abandonment_by_step` has a row for every funnel step in every month; its value is
    null in a month without abandoned attempts. `payment_success_rate_by_method` has a
    row per method attempted in the month; `attribution_mismatches` a row per reason in
    every month (counts, 0 when none). Sections whose source table was not supplied have
    no rows (null objects). -#}
with

{{ import_ctes({'breakdowns': ref('int_monthly_metric_breakdowns')}) }}

final as (

    select
        month,
        metric_id,
        breakdown_key,
        breakdown_order,
        metric_value
    from breakdowns
    where segment_dimension = 'all'
        and month is not null

)

select * from final
