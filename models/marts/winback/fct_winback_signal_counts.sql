{#- Counted signals of each win-back snapshot (one row per account, cutoff, signal),
    using only what happened at or before the cutoff (docs/winback.md "Features"):
    - `usage` / `entry_point` / `escalation`: product events (int_winback__event_days;
      its `user` rows are not signals), counted in the 14 and 30 days up to the cutoff and in total;
    - `funnel_step`: upgrade attempts started at or before the cutoff that had reached
      the step by the cutoff (step 1 = started), by when they started.
    days_since_last = whole days from the latest such event (attempt start) to the
    cutoff. Signals an account never showed have no row (their counts are 0). -#}
{%- set steps = var_list('funnel_steps') -%}
with

{{ import_ctes({
    'snapshots': ref('int_winback__snapshots'),
    'event_days': ref('int_winback__event_days'),
    'attempts': ref('fct_upgrade_attempts'),
    'as_of': ref('int_as_of'),
}) }}

event_counts as (

    {#- grouped by the snapshot id and the signal alone (account and cutoff are the
        snapshot's, joined back below): three keys to hash per joined row, not six (each
        snapshot joins every day row of its account at or before it: 10.4M rows at 10M
        events; on a quiet machine the model took 1.9-2.1 s against 2.1 s, under load
        4.1 s against 14.3 s). Summing the day rows per window bucket first (macro
        winback_window_bucket) did not pay here: 1.5M rows of 2.1M #}
    select
        snapshots.snapshot_id,
        event_days.signal_kind,
        event_days.signal_name,
        cast(sum(case when event_days.age_day < snapshots.cutoff_offset_days + 14
                then event_days.n_events
            else 0
        end) as {{ dbt.type_bigint() }}) as count_14d,
        cast(sum(case when event_days.age_day < snapshots.cutoff_offset_days + 30
                then event_days.n_events
            else 0
        end) as {{ dbt.type_bigint() }}) as count_30d,
        cast(sum(event_days.n_events) as {{ dbt.type_bigint() }}) as count_total,
        min(event_days.age_day - snapshots.cutoff_offset_days) as days_since_last
    from snapshots
    inner join event_days
        on event_days.account_id = snapshots.account_id
            and event_days.age_day >= snapshots.cutoff_offset_days
            and event_days.signal_kind <> 'user'
    group by
        snapshots.snapshot_id,
        event_days.signal_kind,
        event_days.signal_name

),

event_signals as (

    select
        event_counts.snapshot_id,
        snapshots.account_id,
        snapshots.cutoff_at,
        event_counts.signal_kind,
        event_counts.signal_name,
        event_counts.count_14d,
        event_counts.count_30d,
        event_counts.count_total,
        event_counts.days_since_last
    from event_counts
    inner join snapshots
        on snapshots.snapshot_id = event_counts.snapshot_id

),

attempt_ages as (

    select
        attempts.account_id,
        attempts.started_at,
        {%- for k in range(2, steps | length + 1) %}
        attempts.step_{{ k }}_reached_at,
        {%- endfor %}
        {{ age_in_days('attempts.started_at', 'as_of.as_of') }}
            as age_day
    from attempts
    cross join as_of

),

snapshot_attempts as (

    select
        snapshots.snapshot_id,
        snapshots.account_id,
        snapshots.cutoff_at,
        snapshots.cutoff_offset_days,
        attempt_ages.age_day,
        {#- sqlfluff also lints the loop's unreachable variants: not these rules here #}
        -- noqa: disable=CV03,LT02
        {%- for k in range(1, steps | length + 1) %}
        {%- if k == 1 %}
        1 as reached_{{ k }}{% if not loop.last %},{% endif %}
        {%- else %}
        case when attempt_ages.step_{{ k }}_reached_at <= snapshots.cutoff_at then 1 else 0 end
            as reached_{{ k }}{% if not loop.last %},{% endif %}
        {%- endif %}
        {%- endfor %}
    -- noqa: enable=CV03,LT02
    from snapshots
    inner join attempt_ages
        on attempt_ages.account_id = snapshots.account_id
            and attempt_ages.started_at <= snapshots.cutoff_at

),

step_signals as (
    {%- for step in steps %}
    {%- set k = loop.index %}

    select
        snapshot_id,
        account_id,
        cutoff_at,
        'funnel_step' as signal_kind,
        {{ sql_string(step) }} as signal_name,
        cast(
            sum(case when age_day < cutoff_offset_days + 14 then reached_{{ k }} else 0 end)
            as {{ dbt.type_bigint() }}
        ) as count_14d,
        cast(
            sum(case when age_day < cutoff_offset_days + 30 then reached_{{ k }} else 0 end)
            as {{ dbt.type_bigint() }}
        ) as count_30d,
        cast(sum(reached_{{ k }}) as {{ dbt.type_bigint() }}) as count_total,
        min(case when reached_{{ k }} = 1 then age_day end) - cutoff_offset_days
            as days_since_last
    from snapshot_attempts
    group by snapshot_id, account_id, cutoff_at, cutoff_offset_days
    having sum(reached_{{ k }}) > 0
    {% if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

final as (

    select * from event_signals
    union all
    select * from step_signals

)

select * from final
