{#- Payment success (metrics.md "Payments") by month of attempted_at (month null = all
    months) and segment; null when no payment_attempts file was loaded. -#}
with

frame as (

    select * from {{ ref('int_segment_months') }}

),

account_segments as (

    select * from {{ ref('int_account_segments') }}

),

payments as (

    select * from {{ ref('fct_payment_attempts') }}

),

loaded as (

    select * from {{ ref('int_loaded_tables') }}

),

segmented as (

    select
        payments.attempt_month,
        payments.is_succeeded,
        account_segments.segment_dimension,
        account_segments.segment_value
    from payments
    inner join account_segments
        on account_segments.account_id = payments.account_id

),

aggregated as (

    select
        attempt_month as month,
        segment_dimension,
        segment_value,
        count(*) as payment_attempts,
        sum(case when is_succeeded then 1 else 0 end) as succeeded_payment_attempts
    from segmented
    {{ group_by_period_and_segment('attempt_month') }}

),

final as (

    select
        frame.month,
        frame.segment_dimension,
        frame.segment_value,
        {{ rate(
            'payment_success_rate',
            'aggregated.succeeded_payment_attempts',
            'aggregated.payment_attempts',
            when='loaded.has_payment_attempts'
        ) }}
    from frame
    cross join loaded
    left join aggregated
        on {{ same_period_and_segment('aggregated', 'frame') }}

)

select * from final
