{#- Product events of the accounts the win-back model looks at, counted per account,
    signal and day bucket, in one pass over the events. `age_day` = whole days before
    as_of (events in (as_of - (age_day + 1) days, as_of - age_day days]); a snapshot `d`
    days before as_of sees the buckets with age_day >= d, so "the last 14 days" before
    it is age_day in [d, d + 14), exactly. Signals:
    - `usage`: every event that is not a funnel step, escalation, activation or
      experiment exposure (macros/events.sql non_usage_events)
      (signal_name = the event name);
    - `entry_point`: the first funnel step (an upgrade or pricing page view), by its
      `entry_point` property ('(none)' when absent);
    - `escalation`: escalation events (signal_name = the event name);
    - `user`: the users seen in any event (signal_name = the user id), one row per user
      and day inside the account's windows (active_users_30d of fct_winback_features;
      not a signal of the model, fct_winback_signal_counts leaves them out).
    Only an account's recent days need their own rows: its oldest snapshot
    (max cutoff_offset_days) looks at most `longest_window` days back through day buckets
    (the 30-day features), so the days at or beyond `window_end_day` = that offset +
    `longest_window` fall in no window of any of its snapshots. They are one row per
    account and signal, with age_day = the latest of those days (days_since_last) and
    n_events their total (count_total); users need no row there. Every feature stays
    exact, and an account seen only at the scoring snapshot keeps 30 days of rows
    instead of its whole history.
    The signals and the users are two grouping sets of one aggregation: the events are
    read, joined to the accounts and aged once (they were two models, two passes).
    as_of comes with the accounts (one row each), not as a cross join with the events:
    DuckDB took the events x as_of side for the small one and built its hash table on
    every product event (100M events: 8 s against 22 s). -#}
{%- set steps = var_list('funnel_steps') -%}
{%- set longest_window = 30 -%}
{%- set not_usage = non_usage_events() -%}
with

{{ import_ctes({
    'events': ref('stg_product__events'),
    'snapshots': ref('int_winback__snapshots'),
    'as_of': ref('int_as_of'),
}) }}

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
        case
            when {{ in_list('events.event_name', var_list('escalation_events')) }} then 'escalation'
            when events.event_name = {{ sql_string(steps[0]) }} then 'entry_point'
            when not ({{ in_list('events.event_name', not_usage) }}) then 'usage'
        end as signal_kind,
        case
            when events.event_name = {{ sql_string(steps[0]) }}
                then coalesce({{ json_string('events.properties', 'entry_point') }}, '(none)')
            else events.event_name
        end as signal_name,
        events.user_id,
        {{ age_in_days('events.occurred_at', 'snapshot_accounts.as_of') }}
            as age_day,
        snapshot_accounts.window_end_day
    from events
    inner join snapshot_accounts
        on snapshot_accounts.account_id = events.account_id
    where events.occurred_at <= snapshot_accounts.as_of

),

bucketed as (

    select
        account_id,
        signal_kind,
        signal_name,
        age_day,
        case when age_day < window_end_day then age_day else window_end_day end as day_bucket,
        case when age_day < window_end_day then user_id end as window_user_id
    from aged

),

grouped as (

    select
        account_id,
        signal_kind,
        signal_name,
        window_user_id,
        grouping(window_user_id) as is_signal_row,
        min(age_day) as age_day,
        count(*) as n_events
    from bucketed
    group by grouping sets (
        (account_id, signal_kind, signal_name, day_bucket),
        (account_id, window_user_id, day_bucket)
    )

),

final as (

    select
        account_id,
        case when is_signal_row = 1 then signal_kind else 'user' end as signal_kind,
        case when is_signal_row = 1 then signal_name else window_user_id end as signal_name,
        age_day,
        n_events
    from grouped
    where (is_signal_row = 1 and signal_kind is not null)
        or (is_signal_row = 0 and window_user_id is not null)

)

select * from final
