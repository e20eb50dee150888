{#- Payments by method (metrics.md `payment_success_rate_by_method`) by month of
    attempted_at (month null = all months), segment and payment_method: one row per
    method attempted in the period (none when no payment_attempts file was loaded). -#}
with

account_segments as (

    select * from {{ ref('int_account_segments') }}

),

payments as (

    select * from {{ ref('fct_payment_attempts') }}

),

segmented as (

    select
        payments.attempt_month,
        payments.payment_method,
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
        payment_method,
        count(*) as payment_attempts,
        sum(case when is_succeeded then 1 else 0 end) as succeeded_payment_attempts
    from segmented
    {{ group_by_period_and_segment('attempt_month', ['payment_method']) }}

),

final as (

    select
        month,
        segment_dimension,
        segment_value,
        payment_method,
        cast(payment_attempts as {{ dbt.type_bigint() }}) as payment_attempts,
        cast(succeeded_payment_attempts as {{ dbt.type_bigint() }}) as succeeded_payment_attempts,
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
