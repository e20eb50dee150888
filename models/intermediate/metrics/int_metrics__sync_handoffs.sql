{{ config(materialized='ephemeral') }}
{#- The handoffs of the sync section (metrics.md "Cross-system sync") counted once, by
    month of the change's changed_at (month null = all months), segment and grain: the
    `grain` column is `target_system` for one row per target system with handoffs in the
    period (int_metrics__sync_by_target), `all` for all target systems together
    (target_system null; int_metrics__sync). Ephemeral: the two models read it, nothing
    else is published. -#}
with

{{ section_imports({'handoffs': ref('fct_sync_handoffs')}, frame=false) }}

grains as (

    select cast('target_system' as {{ dbt.type_string() }}) as grain

    union all

    select cast('all' as {{ dbt.type_string() }}) as grain

),

by_grain as (

    select
        handoffs.account_id,
        handoffs.change_month,
        grains.grain,
        case when grains.grain = 'target_system' then handoffs.target_system end as target_system,
        handoffs.is_first_attempt_failed,
        handoffs.is_resolved,
        handoffs.is_dead_letter,
        handoffs.is_manual_override,
        handoffs.time_to_sync_seconds
    from handoffs
    cross join grains

),

{{ segmented_aggregate('by_grain', 'change_month', {
    'handoffs': 'count(*)',
    'first_attempt_failed_handoffs': count_if('is_first_attempt_failed'),
    'unresolved_handoffs': 'sum(case when is_resolved then 0 else 1 end)',
    'dead_letter_handoffs': count_if('is_dead_letter'),
    'manual_override_handoffs': count_if('is_manual_override'),
    'time_to_sync_seconds_p50': percentile_cont('time_to_sync_seconds', 0.5),
}, keys=['grain', 'target_system']) }}

final as (

    select * from aggregated

)

select * from final
