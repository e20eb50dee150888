{#- Eligibility (metrics.md) by month of checked_at (month null = all months) and
    segment; null when no eligibility_checks file was loaded. -#}
with

frame as (

    select * from {{ ref('int_segment_months') }}

),

account_segments as (

    select * from {{ ref('int_account_segments') }}

),

checks as (

    select * from {{ ref('fct_eligibility_checks') }}

),

loaded as (

    select * from {{ ref('int_loaded_tables') }}

),

segmented as (

    select
        checks.check_month,
        checks.is_rejected,
        checks.is_false_positive,
        account_segments.segment_dimension,
        account_segments.segment_value
    from checks
    inner join account_segments
        on account_segments.account_id = checks.account_id

),

aggregated as (

    select
        check_month as month,
        segment_dimension,
        segment_value,
        count(*) as checks,
        sum(case when is_rejected then 1 else 0 end) as rejected_checks,
        sum(case when is_false_positive then 1 else 0 end) as false_positive_checks
    from segmented
    {{ group_by_period_and_segment('check_month') }}

),

final as (

    select
        frame.month,
        frame.segment_dimension,
        frame.segment_value,
        {{ rate(
            'eligibility_rejection_rate', 'aggregated.rejected_checks', 'aggregated.checks',
            when='loaded.has_eligibility_checks'
        ) }},
        {{ rate(
            'false_positive_reject_rate', 'aggregated.false_positive_checks', 'aggregated.rejected_checks',
            when='loaded.has_eligibility_checks'
        ) }}
    from frame
    cross join loaded
    left join aggregated
        on {{ same_period_and_segment('aggregated', 'frame') }}

)

select * from final
