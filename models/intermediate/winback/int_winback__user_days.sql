{#- The users seen in product events (any event) of the accounts the win-back model
    looks at, per day bucket before as_of (see int_winback__event_days), within the
    account's windows only: active_users_30d looks at most 30 days back from the
    account's oldest snapshot.
    as_of comes with the accounts (one row each), not as a cross join with the events:
    DuckDB took the events x as_of side for the small one and built its hash table on
    every product event (100M events: user days 3 s against 15 s, event days 8 s
    against 22 s). -#}
{%- set longest_window = 30 -%}
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

    select
        snapshots.account_id,
        max(snapshots.cutoff_offset_days) + {{ longest_window }} as window_end_day,
        as_of.as_of
    from snapshots
    cross join as_of
    group by snapshots.account_id, as_of.as_of

),

aged as (

    select
        events.account_id,
        events.user_id,
        {{ age_in_days('events.occurred_at', 'snapshot_accounts.as_of') }}
            as age_day,
        snapshot_accounts.window_end_day
    from events
    inner join snapshot_accounts
        on snapshot_accounts.account_id = events.account_id
    where events.occurred_at <= snapshot_accounts.as_of
        and events.user_id is not null

),

final as (

    select distinct
        account_id,
        user_id,
        age_day
    from aged
    where age_day < window_end_day

)

select * from final
