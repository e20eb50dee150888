{#- The users seen in product events (any event) of the accounts the win-back model
    looks at, per day bucket before as_of (see int_winback__event_days), within the
    account's windows only: active_users_30d looks at most 30 days back from the
    account's oldest snapshot. -#}
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
        account_id,
        max(cutoff_offset_days) + {{ longest_window }} as window_end_day
    from snapshots
    group by account_id

),

aged as (

    select
        events.account_id,
        events.user_id,
        {{ age_in_days('events.occurred_at', 'as_of.as_of') }}
            as age_day,
        snapshot_accounts.window_end_day
    from events
    cross join as_of
    inner join snapshot_accounts
        on snapshot_accounts.account_id = events.account_id
    where events.occurred_at <= as_of.as_of
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
