{#- Cross-system sync (metrics.md) by month of the change's changed_at (month null = all
    months) and segment; null when no sync_events file was loaded. -#}
with

frame as (

    select * from {{ ref('int_segment_months') }}

),

account_segments as (

    select * from {{ ref('int_account_segments') }}

),

handoffs as (

    select * from {{ ref('fct_sync_handoffs') }}

),

loaded as (

    select * from {{ ref('int_loaded_tables') }}

),

segmented as (

    select
        handoffs.change_month,
        handoffs.is_first_attempt_failed,
        handoffs.is_resolved,
        handoffs.is_dead_letter,
        handoffs.is_manual_override,
        handoffs.time_to_sync_seconds,
        account_segments.segment_dimension,
        account_segments.segment_value
    from handoffs
    inner join account_segments
        on account_segments.account_id = handoffs.account_id

),

aggregated as (

    select
        change_month as month,
        segment_dimension,
        segment_value,
        count(*) as handoffs,
        sum(case when is_first_attempt_failed then 1 else 0 end) as first_attempt_failed_handoffs,
        sum(case when is_resolved then 0 else 1 end) as unresolved_handoffs,
        sum(case when is_dead_letter then 1 else 0 end) as dead_letter_handoffs,
        sum(case when is_manual_override then 1 else 0 end) as manual_override_handoffs,
        {{ percentile_cont('time_to_sync_seconds', 0.5) }} as time_to_sync_seconds_p50
    from segmented
    {{ group_by_period_and_segment('change_month') }}

),

final as (

    select
        frame.month,
        frame.segment_dimension,
        frame.segment_value,
        {{ count_metric('handoffs', 'aggregated.handoffs', when='loaded.has_sync_events') }},
        {{ rate(
            'sync_failure_rate', 'aggregated.first_attempt_failed_handoffs', 'aggregated.handoffs',
            when='loaded.has_sync_events'
        ) }},
        {{ rate(
            'sync_unresolved_rate', 'aggregated.unresolved_handoffs', 'aggregated.handoffs',
            when='loaded.has_sync_events'
        ) }},
        {{ count_metric(
            'sync_dead_letters',
            'aggregated.dead_letter_handoffs',
            when='loaded.has_sync_events'
        ) }},
        {{ rate(
            'sync_manual_override_rate', 'aggregated.manual_override_handoffs', 'aggregated.handoffs',
            when='loaded.has_sync_events'
        ) }},
        case when loaded.has_sync_events then
                cast(aggregated.time_to_sync_seconds_p50 as {{ type_double() }})
        end as time_to_sync_seconds_p50
    from frame
    cross join loaded
    left join aggregated
        on {{ same_period_and_segment('aggregated', 'frame') }}

)

select * from final
