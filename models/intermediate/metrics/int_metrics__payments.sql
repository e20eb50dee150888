{#- Payment success (metrics.md "Payments") by month of attempted_at (month null = all
    months) and segment; null when no payment_attempts file was loaded. -#}
with

{{ section_imports({'payments': ref('fct_payment_attempts'), 'loaded': ref('int_loaded_tables')}) }}

{{ segmented_aggregate('payments', 'attempt_month', {
    'payment_attempts': 'count(*)',
    'succeeded_payment_attempts': count_if('is_succeeded'),
}) }}

final as (

    select
        {{ period_and_segment() }},
        {{ rate(
            'payment_success_rate',
            'aggregated.succeeded_payment_attempts',
            'aggregated.payment_attempts',
            when='loaded.has_payment_attempts'
        ) }}
    {{ from_frame(loaded=true) }}

)

select * from final
