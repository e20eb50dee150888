{#- Rejected eligibility checks by rejection reason, month of checked_at (month null =
    all months) and segment: rejected, overridden by hand (false positives) and the
    false-positive reject rate of the reason. One row per reason with rejections. -#}
with

account_segments as (

    select * from {{ ref('int_account_segments') }}

),

checks as (

    select * from {{ ref('fct_eligibility_checks') }}

),

segmented as (

    select
        checks.check_month,
        checks.rejection_reason,
        checks.is_false_positive,
        account_segments.segment_dimension,
        account_segments.segment_value
    from checks
    inner join account_segments
        on account_segments.account_id = checks.account_id
    where checks.is_rejected

),

aggregated as (

    select
        check_month as month,
        segment_dimension,
        segment_value,
        rejection_reason,
        count(*) as rejected_checks,
        sum(case when is_false_positive then 1 else 0 end) as false_positive_checks
    from segmented
    {{ group_by_period_and_segment('check_month', ['rejection_reason']) }}

),

final as (

    select
        month,
        segment_dimension,
        segment_value,
        rejection_reason,
        cast(rejected_checks as {{ dbt.type_bigint() }}) as rejected_checks,
        cast(false_positive_checks as {{ dbt.type_bigint() }}) as false_positive_checks,
        {{ rate('false_positive_reject_rate', 'false_positive_checks', 'rejected_checks') }}
    from aggregated

)

select * from final
