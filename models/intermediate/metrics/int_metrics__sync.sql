{#- Cross-system sync (metrics.md) by month of the change's changed_at (month null = all
    months) and segment; null when no sync_events file was loaded. -#}
with

{{ section_imports({
    'handoffs': ref('int_metrics__sync_handoffs'), 'loaded': ref('int_loaded_tables')
}) }}

all_targets as (

    select * from handoffs
    where grain = 'all'

),

final as (

    select
        {{ period_and_segment() }},
        {{ count_metric('handoffs', 'all_targets.handoffs', when='loaded.has_sync_events') }},
        {{ rate(
            'sync_failure_rate', 'all_targets.first_attempt_failed_handoffs', 'all_targets.handoffs',
            when='loaded.has_sync_events'
        ) }},
        {{ rate(
            'sync_unresolved_rate', 'all_targets.unresolved_handoffs', 'all_targets.handoffs',
            when='loaded.has_sync_events'
        ) }},
        {{ count_metric(
            'sync_dead_letters',
            'all_targets.dead_letter_handoffs',
            when='loaded.has_sync_events'
        ) }},
        {{ rate(
            'sync_manual_override_rate', 'all_targets.manual_override_handoffs', 'all_targets.handoffs',
            when='loaded.has_sync_events'
        ) }},
        case when loaded.has_sync_events then
                cast(all_targets.time_to_sync_seconds_p50 as {{ type_double() }})
        end as time_to_sync_seconds_p50
    {{ from_frame('all_targets', loaded=true) }}

)

select * from final
