{#- Activation of each account (metrics.md "Post-activation self-serve upgrade rate"):
    activated_at = first activation event up to as_of; matured when
    activated_at + activation_window_days <= as_of; converted when a self_serve upgrade
    has changed_at in [activated_at, activated_at + window] (the first self-serve upgrade
    at or after activation, first_self_serve_upgrade_after_activation_at, within the
    window; the cohort curve reads that column too). Feature use = the
    product-usage event the account sent most before activation (ties: name order;
    usage = every event not in non_usage_events(), macros/events.sql). -#}
{%- set window_days = var('activation_window_days') | int -%}
{%- set not_usage = non_usage_events() -%}
with

{{ import_ctes({
    'accounts': ref('stg_billing__accounts'),
    'events': ref('stg_product__events'),
    'changes': ref('int_subscription_changes__revenue'),
    'as_of': ref('int_as_of'),
}) }}

activations as (

    select
        events.account_id,
        min(events.occurred_at) as activated_at
    {{ from_events_named(var_list('activation_events')) }}
    group by events.account_id

),

usage_before_activation as (

    select
        events.account_id,
        events.event_name,
        count(*) as n_events
    from events
    inner join activations
        on activations.account_id = events.account_id
    where not ({{ in_list('events.event_name', not_usage) }})
        and events.occurred_at < activations.activated_at
    group by events.account_id, events.event_name

),

ranked_usage as (

    select
        account_id,
        event_name,
        row_number() over (
            partition by account_id order by n_events desc, event_name
        ) as usage_rank
    from usage_before_activation

),

conversions as (

    select
        activations.account_id,
        min(changes.changed_at) as first_self_serve_upgrade_after_activation_at
    from activations
    inner join changes
        on changes.account_id = activations.account_id
            and {{ is_self_serve_upgrade('changes') }}
            and changes.changed_at >= activations.activated_at
    group by activations.account_id

),

windowed as (

    select
        conversions.account_id,
        conversions.first_self_serve_upgrade_after_activation_at,
        case
            when conversions.first_self_serve_upgrade_after_activation_at
                <= {{ dbt.dateadd('day', window_days, 'activations.activated_at') }}
                then conversions.first_self_serve_upgrade_after_activation_at
        end as first_self_serve_upgrade_at
    from conversions
    inner join activations
        on activations.account_id = conversions.account_id

),

final as (

    select
        accounts.account_id,
        accounts.created_at,
        accounts.persona,
        accounts.acquisition_source,
        accounts.segment,
        accounts.country,
        accounts.account_manager_id,
        activations.activated_at,
        {{ month_of('activations.activated_at') }} as activation_month,
        activations.activated_at is not null as is_activated,
        coalesce(
            {{ dbt.dateadd('day', window_days, 'activations.activated_at') }} <= as_of.as_of,
            false
        ) as is_matured,
        windowed.first_self_serve_upgrade_at,
        windowed.first_self_serve_upgrade_at is not null as is_converted,
        ranked_usage.event_name as feature_use,
        windowed.first_self_serve_upgrade_after_activation_at
    from accounts
    cross join as_of
    left join activations
        on activations.account_id = accounts.account_id
    left join windowed
        on windowed.account_id = accounts.account_id
    left join ranked_usage
        on ranked_usage.account_id = accounts.account_id
            and ranked_usage.usage_rank = 1

)

select * from final
