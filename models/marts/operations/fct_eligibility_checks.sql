{#- One row per eligibility check up to as_of (metrics.md "Eligibility"). A rejection
    overridden by hand (overridden_at set, not after as_of) is a false positive. -#}
with

{{ import_ctes({'checks': ref('stg_product__eligibility_checks'), 'as_of': ref('int_as_of')}) }}

final as (

    select
        checks.check_id,
        checks.account_id,
        checks.target_plan_id,
        checks.checked_at,
        {{ month_of('checks.checked_at') }} as check_month,
        coalesce(checks.channel, '(none)') as channel,
        checks.result,
        checks.result = 'rejected' as is_rejected,
        case when checks.result = 'rejected' then coalesce(checks.reason_code, '(none)') end
            as rejection_reason,
        checks.result = 'rejected'
        and checks.overridden_at is not null
        and checks.overridden_at <= as_of.as_of as is_false_positive,
        checks.overridden_at
    {{ from_as_of('checks', 'checked_at') }}

)

select * from final
