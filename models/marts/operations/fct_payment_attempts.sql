{#- One row per payment attempt up to as_of (metrics.md "Payments"). -#}
with

{{ import_ctes({'payments': ref('stg_billing__payment_attempts'), 'as_of': ref('int_as_of')}) }}

final as (

    select
        payments.attempt_id,
        payments.account_id,
        payments.change_id,
        payments.attempted_at,
        {{ month_of('payments.attempted_at') }} as attempt_month,
        payments.payment_method,
        payments.status,
        payments.status = 'succeeded' as is_succeeded,
        payments.failure_code,
        payments.amount_minor,
        payments.currency
    {{ from_as_of('payments', 'attempted_at') }}

)

select * from final
