{#- Proration accuracy (metrics.md) by month of changed_at (month null = all months)
    and segment; null when no invoice_lines file was loaded. -#}
with

frame as (

    select * from {{ ref('int_segment_months') }}

),

account_segments as (

    select * from {{ ref('int_account_segments') }}

),

proration_checks as (

    select * from {{ ref('fct_proration_checks') }}

),

loaded as (

    select * from {{ ref('int_loaded_tables') }}

),

segmented as (

    select
        proration_checks.change_month,
        proration_checks.is_accurate,
        account_segments.segment_dimension,
        account_segments.segment_value
    from proration_checks
    inner join account_segments
        on account_segments.account_id = proration_checks.account_id

),

aggregated as (

    select
        change_month as month,
        segment_dimension,
        segment_value,
        count(*) as proration_checked_changes,
        sum(case when is_accurate then 1 else 0 end) as accurate_proration_changes
    from segmented
    {{ group_by_period_and_segment('change_month') }}

),

final as (

    select
        frame.month,
        frame.segment_dimension,
        frame.segment_value,
        {{ count_metric(
            'proration_checked_changes', 'aggregated.proration_checked_changes',
            when='loaded.has_invoice_lines'
        ) }},
        {{ rate(
            'proration_accuracy_rate', 'aggregated.accurate_proration_changes',
            'aggregated.proration_checked_changes', when='loaded.has_invoice_lines'
        ) }}
    from frame
    cross join loaded
    left join aggregated
        on {{ same_period_and_segment('aggregated', 'frame') }}

)

select * from final
