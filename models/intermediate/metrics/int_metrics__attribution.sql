{#- Revenue attribution accuracy (metrics.md) by month of changed_at (month null = all
    months) and segment; null when no crm_opportunities file was loaded. -#}
with

frame as (

    select * from {{ ref('int_segment_months') }}

),

account_segments as (

    select * from {{ ref('int_account_segments') }}

),

attribution as (

    select * from {{ ref('fct_revenue_attribution') }}

),

loaded as (

    select * from {{ ref('int_loaded_tables') }}

),

segmented as (

    select
        attribution.change_month,
        attribution.is_accurate,
        account_segments.segment_dimension,
        account_segments.segment_value
    from attribution
    inner join account_segments
        on account_segments.account_id = attribution.account_id

),

aggregated as (

    select
        change_month as month,
        segment_dimension,
        segment_value,
        count(*) as attributed_changes,
        sum(case when is_accurate then 1 else 0 end) as accurate_changes
    from segmented
    {{ group_by_period_and_segment('change_month') }}

),

final as (

    select
        frame.month,
        frame.segment_dimension,
        frame.segment_value,
        {{ count_metric(
            'attributed_changes',
            'aggregated.attributed_changes',
            when='loaded.has_crm_opportunities'
        ) }},
        {{ rate(
            'attribution_accuracy', 'aggregated.accurate_changes', 'aggregated.attributed_changes',
            when='loaded.has_crm_opportunities'
        ) }}
    from frame
    cross join loaded
    left join aggregated
        on {{ same_period_and_segment('aggregated', 'frame') }}

)

select * from final
