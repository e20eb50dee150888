{#- One row per subscription change up to as_of: revenue facts, reporting-currency
    delta and payment processing latency of self-serve upgrades (metrics.md "Upgrades and
    revenue"). -#}
with

{{ import_ctes({
    'changes': ref('int_subscription_changes__revenue'),
    'converted': ref('int_subscription_changes__converted'),
    'payments': ref('stg_billing__payment_attempts'),
    'as_of': ref('int_as_of'),
}) }}

latest_successful_payments as (

    select
        payments.change_id,
        max(payments.attempted_at) as paid_at
    {{ from_as_of('payments', 'attempted_at', [
        "payments.status = 'succeeded'",
        'payments.change_id is not null',
    ]) }}
    group by payments.change_id

),

final as (

    select
        changes.*,
        converted.rate_to_reporting,
        converted.mrr_delta_reporting,
        converted.rate_to_reporting is not null as is_converted,
        latest_successful_payments.paid_at,
        -- metrics.md: processing latency covers self-serve upgrades only (a sales deal paid
        -- by invoice days earlier says nothing about the self-serve flow)
        case
            when {{ is_self_serve_upgrade('changes') }} then
                {{ seconds_between('latest_successful_payments.paid_at', 'changes.changed_at') }}
        end as processing_latency_seconds
    from changes
    inner join converted
        on converted.change_id = changes.change_id
    left join latest_successful_payments
        on latest_successful_payments.change_id = changes.change_id

)

select * from final
