{#- Product events of the accounts the win-back model looks at, counted per account,
    signal and day bucket. `age_day` = whole days before as_of (events in
    (as_of - (age_day + 1) days, as_of - age_day days]); a snapshot `d` days before
    as_of sees the buckets with age_day >= d, so "the last 14 days" before it is
    age_day in [d, d + 14), exactly. Signals:
    - `usage`: every event that is not a funnel step, escalation or activation
      (signal_name = the event name);
    - `entry_point`: the first funnel step (an upgrade or pricing page view), by its
      `entry_point` property ('(none)' when absent);
    - `escalation`: escalation events (signal_name = the event name). -#}
{%- set steps = var_list('funnel_steps') -%}
{%- set not_usage = steps + var_list('escalation_events') + var_list('activation_events') -%}
with

events as (

    select * from {{ ref('stg_product__events') }}

),

snapshots as (

    select * from {{ ref('int_winback__snapshots') }}

),

as_of as (

    select * from {{ ref('int_as_of') }}

),

snapshot_accounts as (

    select distinct account_id from snapshots

),

classified as (

    select
        events.account_id,
        case
            when {{ in_list('events.event_name', var_list('escalation_events')) }} then 'escalation'
            when events.event_name = {{ sql_string(steps[0]) }} then 'entry_point'
            else 'usage'
        end as signal_kind,
        case
            when events.event_name = {{ sql_string(steps[0]) }}
                then coalesce({{ json_string('events.properties', 'entry_point') }}, '(none)')
            else events.event_name
        end as signal_name,
        {{ age_in_days('events.occurred_at', 'as_of.as_of') }}
            as age_day
    from events
    cross join as_of
    inner join snapshot_accounts
        on snapshot_accounts.account_id = events.account_id
    where events.occurred_at <= as_of.as_of
        and (
            not ({{ in_list('events.event_name', not_usage) }})
            or events.event_name = {{ sql_string(steps[0]) }}
            or {{ in_list('events.event_name', var_list('escalation_events')) }}
        )

),

final as (

    select
        account_id,
        signal_kind,
        signal_name,
        age_day,
        count(*) as n_events
    from classified
    group by account_id, signal_kind, signal_name, age_day

)

select * from final
