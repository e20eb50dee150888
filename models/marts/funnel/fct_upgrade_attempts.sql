{#- One row per upgrade attempt: steps reached, outcome, and intent-to-activation time
    (metrics.md "Upgrade attempts"). Activation of a completed attempt's change = its
    earliest succeeded or manual_override `entitlements` sync up to as_of; the change's
    effective_at when it has no entitlements sync rows; null (not activated yet) when
    it has some but none succeeded. -#}
with

{{ import_ctes({
    'attempts': ref('int_upgrade_attempts'),
    'changes': ref('stg_billing__subscription_changes'),
    'sync_events': ref('stg_integration__sync_events'),
    'as_of': ref('int_as_of'),
}) }}

entitlement_syncs as (

    select
        sync_events.change_id,
        count(*) as entitlement_sync_rows,
        min(
            case
                when sync_events.status in ('succeeded', 'manual_override')
                    then sync_events.attempted_at
            end
        ) as entitled_at
    {{ from_as_of('sync_events', 'attempted_at', ["sync_events.target_system = 'entitlements'"]) }}
    group by sync_events.change_id

),

activations as (

    select
        attempts.attempt_id,
        case
            when entitlement_syncs.change_id is null then changes.effective_at
            else entitlement_syncs.entitled_at
        end as activated_at
    from attempts
    inner join changes
        on changes.change_id = attempts.completion_change_id
    left join entitlement_syncs
        on entitlement_syncs.change_id = changes.change_id
    where attempts.is_completed

),

final as (

    select
        attempts.*,
        activations.activated_at,
        {{ seconds_between('attempts.started_at', 'activations.activated_at') }} / 3600.0
            as intent_to_activation_hours
    from attempts
    left join activations
        on activations.attempt_id = attempts.attempt_id

)

select * from final
