{#- Payments by method (metrics.md `payment_success_rate_by_method`) by month of
    attempted_at (month null = all months), segment and payment_method: one row per
    method attempted in the period (none when no payment_attempts file was loaded). -#}
with

{{ section_imports({'payments': ref('fct_payment_attempts')}, frame=false) }}

{{ segmented_aggregate('payments', 'attempt_month', {
    'payment_attempts': 'count(*)',
    'succeeded_payment_attempts': count_if('is_succeeded'),
}, keys=['payment_method']) }}

final as (

    select
        {{ period_and_segment('aggregated') }},
        payment_method,
        {{ bigint_columns(['payment_attempts', 'succeeded_payment_attempts']) }},
        cast(payment_attempts - succeeded_payment_attempts as {{ dbt.type_bigint() }})
            as failed_payment_attempts,
        {{ rate(
            'payment_success_rate_by_method',
            'succeeded_payment_attempts',
            'payment_attempts'
        ) }}
    from aggregated

)

select * from final
