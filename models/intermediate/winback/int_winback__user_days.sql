{#- The users seen in product events (any event) of the accounts the win-back model
    looks at, per day bucket before as_of (see int_winback__event_days). -#}
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

final as (

    select distinct
        events.account_id,
        events.user_id,
        {{ age_in_days('events.occurred_at', 'as_of.as_of') }}
            as age_day
    from events
    cross join as_of
    inner join snapshot_accounts
        on snapshot_accounts.account_id = events.account_id
    where events.occurred_at <= as_of.as_of
        and events.user_id is not null

)

select * from final
