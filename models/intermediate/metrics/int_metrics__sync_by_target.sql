{#- Cross-system sync by target system: the handoffs of int_metrics__sync by month of
    the change's changed_at (month null = all months), segment and target_system, one
    row per target system with handoffs in the period. -#}
with

account_segments as (

    select * from {{ ref('int_account_segments') }}

),

handoffs as (

    select * from {{ ref('fct_sync_handoffs') }}

),

segmented as (

    select
        handoffs.change_month,
        handoffs.target_system,
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
        target_system,
        count(*) as handoffs,
        sum(case when is_first_attempt_failed then 1 else 0 end) as first_attempt_failed_handoffs,
        sum(case when is_resolved then 0 else 1 end) as unresolved_handoffs,
        sum(case when is_dead_letter then 1 else 0 end) as dead_letter_handoffs,
        sum(case when is_manual_override then 1 else 0 end) as manual_override_handoffs,
        {{ percentile_cont('time_to_sync_seconds', 0.5) }} as time_to_sync_seconds_p50
    from segmented
    {{ group_by_period_and_segment('change_month', ['target_system']) }}

),

final as (

    select
        month,
        segment_dimension,
        segment_value,
        target_system,
        cast(handoffs as {{ dbt.type_bigint() }}) as handoffs,
        {{ rate('sync_failure_rate', 'first_attempt_failed_handoffs', 'handoffs') }},
        {{ rate('sync_unresolved_rate', 'unresolved_handoffs', 'handoffs') }},
        cast(dead_letter_handoffs as {{ dbt.type_bigint() }}) as sync_dead_letters,
        {{ rate('sync_manual_override_rate', 'manual_override_handoffs', 'handoffs') }},
        cast(time_to_sync_seconds_p50 as {{ type_double() }}) as time_to_sync_seconds_p50
    from aggregated

)

select * from final
