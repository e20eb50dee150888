{#- Cross-system sync by target system: the handoffs of int_metrics__sync by month of
    the change's changed_at (month null = all months), segment and target_system, one
    row per target system with handoffs in the period. -#}
with

{{ import_ctes({'handoffs': ref('int_metrics__sync_handoffs')}) }}

final as (

    select
        month,
        segment_dimension,
        segment_value,
        target_system,
        {{ bigint_columns(['handoffs']) }},
        {{ rate('sync_failure_rate', 'first_attempt_failed_handoffs', 'handoffs') }},
        {{ rate('sync_unresolved_rate', 'unresolved_handoffs', 'handoffs') }},
        cast(dead_letter_handoffs as {{ dbt.type_bigint() }}) as sync_dead_letters,
        {{ rate('sync_manual_override_rate', 'manual_override_handoffs', 'handoffs') }},
        cast(time_to_sync_seconds_p50 as {{ type_double() }}) as time_to_sync_seconds_p50
    from handoffs
    where grain = 'target_system'

)

select * from final
