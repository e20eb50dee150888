{#- One row per win-back snapshot (account x cutoff; int_winback__snapshots): the
    account's attributes and what it had done at or before the cutoff, and for training
    snapshots the label (docs/winback.md "Features"). Nothing after the cutoff is used
    by a feature: events and attempts by day bucket, every other fact by its timestamp
    <= cutoff_at. Facts of an optional table that was not loaded are null. The counted
    signals per event name, entry point and funnel step are in fct_winback_signal_counts.
    Usage and upgrade-flow days are summed per window bucket before the join with the
    snapshots (macro winback_window_bucket: a window holds a bucket whole or not at
    all, so the events and distinct days of a window are the same; age_day = the
    bucket's earliest day): 2.2 s against 3.6 s on the 10M-event set. Every
    per-snapshot part is grouped and joined by snapshot_id (one integer key, not the
    account id and cutoff). -#}
{%- set steps = var_list('funnel_steps') -%}
with

{{ import_ctes({
    'snapshots': ref('int_winback__snapshots'),
    'accounts': ref('dim_accounts'),
    'event_days': ref('int_winback__event_days'),
    'signal_counts': ref('fct_winback_signal_counts'),
    'changes': ref('fct_subscription_changes'),
    'plans': ref('stg_billing__plans'),
    'checks': ref('fct_eligibility_checks'),
    'offers': ref('fct_upsell_offers'),
    'payments': ref('fct_payment_attempts'),
    'loaded': ref('int_loaded_tables'),
}) }}

kind_days as (

    select
        account_id,
        signal_kind,
        age_day,
        cast(sum(n_events) as {{ dbt.type_bigint() }}) as n_events
    from event_days
    where signal_kind in ('usage', 'entry_point')
    group by account_id, signal_kind, age_day

),

kind_buckets as (

    select
        account_id,
        signal_kind,
        min(age_day) as age_day,
        count(*) as n_days,
        cast(sum(n_events) as {{ dbt.type_bigint() }}) as n_events
    from kind_days
    group by
        account_id,
        signal_kind,
        {{ winback_window_bucket('age_day') }}

),

usage as (

    {#- usage and upgrade-flow visits in one join of the snapshots with the buckets #}
    select
        snapshots.snapshot_id,
        {%- for column, kind, days, measure in [
            ('usage_events_14d', 'usage', 14, 'n_events'),
            ('usage_events_30d', 'usage', 30, 'n_events'),
            ('active_days_30d', 'usage', 30, 'n_days'),
            ('upgrade_visit_days_30d', 'entry_point', 30, 'n_days'),
        ] %}
        sum(case
            when kind_buckets.signal_kind = {{ sql_string(kind) }}
                and kind_buckets.age_day < snapshots.cutoff_offset_days + {{ days }}
                then kind_buckets.{{ measure }}
            else 0
        end) as {{ column }},
        {%- endfor %}
        min(case
            when kind_buckets.signal_kind = 'usage'
                then kind_buckets.age_day - snapshots.cutoff_offset_days
        end) as days_since_last_usage
    from snapshots
    inner join kind_buckets
        on kind_buckets.account_id = snapshots.account_id
            and kind_buckets.age_day >= snapshots.cutoff_offset_days
    group by snapshots.snapshot_id

),

users as (

    select
        snapshots.snapshot_id,
        count(distinct event_days.signal_name) as active_users_30d
    from snapshots
    inner join event_days
        on event_days.account_id = snapshots.account_id
            and event_days.signal_kind = 'user'
            and event_days.age_day >= snapshots.cutoff_offset_days
            and event_days.age_day < snapshots.cutoff_offset_days + 30
    group by snapshots.snapshot_id

),

signals as (

    {#- per window (total, 30 days): attempts started, the furthest step reached (a
        funnel step's row exists only when it was reached: count_total > 0) and
        escalations #}
    {#- sqlfluff also lints the loop's unreachable variants: not this rule here #}
    -- noqa: disable=LT02
    select
        snapshot_id,
        {%- for window, suffix in [('total', ''), ('30d', '_30d')] %}
        sum(case when signal_kind = 'funnel_step' and signal_name = {{ sql_string(steps[0]) }}
                then count_{{ window }}
            else 0
        end) as attempts_{{ window }},
        max(case when signal_kind = 'funnel_step' and count_{{ window }} > 0 then
                case signal_name
                    {%- for step in steps %}
                    when {{ sql_string(step) }} then {{ loop.index }}
                    {%- endfor %}
                end
        end) as furthest_step_index{{ suffix }},
        sum(case when signal_kind = 'escalation' then count_{{ window }} else 0 end)
            as escalations_{{ window }}{{ ',' if not loop.last }}
        {%- endfor %}
    from signal_counts
    where signal_kind in ('funnel_step', 'escalation')  -- the only ones read here
    group by snapshot_id
    -- noqa: enable=LT02

),

plan_history as (

    select
        snapshots.snapshot_id,
        changes.to_plan_id,
        changes.to_quantity,
        row_number() over (
            partition by snapshots.snapshot_id
            order by changes.effective_at desc, changes.changed_at desc, changes.change_id desc
        ) as change_rank
    from snapshots
    inner join changes
        on changes.account_id = snapshots.account_id
            and changes.changed_at <= snapshots.cutoff_at
            and changes.effective_at <= snapshots.cutoff_at

),

current_plans as (

    select
        plan_history.snapshot_id,
        plan_history.to_plan_id as plan_id,
        plans.tier_rank as plan_tier_rank,
        plans.max_seats as plan_max_seats,
        plan_history.to_quantity as seats
    from plan_history
    left join plans
        on plans.plan_id = plan_history.to_plan_id
    where plan_history.change_rank = 1

),

{#- Counted facts of an operations table at or before the cutoff, in total and in the
    30 days up to it (`when`: which rows count, `true` for all of them). -#}
{%- for cte, source, ts, columns in [
    ('eligibility', 'checks', 'checked_at', [
        ('eligibility_checks_total', 'true', false),
        ('eligibility_rejections_total', 'checks.is_rejected', false),
        ('eligibility_rejections_30d', 'checks.is_rejected', true),
    ]),
    ('payment_failures', 'payments', 'attempted_at', [
        ('payment_failures_total', 'not payments.is_succeeded', false),
        ('payment_failures_30d', 'not payments.is_succeeded', true),
    ]),
] %}

{{ cte }} as (

    -- noqa: disable=LT02
    select
        snapshots.snapshot_id,
        {%- for column, when, recent in columns %}
        sum(case
            when {{ when }}
                {%- if recent %}
                and {{ source }}.{{ ts }} > {{ dbt.dateadd('day', -30, 'snapshots.cutoff_at') }}
                {%- endif %}
                then 1
            else 0
        end) as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from snapshots
    inner join {{ source }}
        on {{ source }}.account_id = snapshots.account_id
            and {{ source }}.{{ ts }} <= snapshots.cutoff_at
    group by snapshots.snapshot_id
    -- noqa: enable=LT02

),
{%- endfor %}

upsell as (

    select
        snapshots.snapshot_id,
        snapshots.account_id,
        count(*) as upsell_offers_total,
        sum(case when offers.offered_at > {{ dbt.dateadd('day', -30, 'snapshots.cutoff_at') }}
                then 1
            else 0
        end) as upsell_offers_30d,
        sum(case when offers.outcome_at is null or offers.outcome_at > snapshots.cutoff_at
                then 1
            else 0
        end) as upsell_offers_pending,
        {%- for outcome in ['rejected', 'deferred', 'no_response'] %}
        sum(case
            when offers.outcome_at <= snapshots.cutoff_at
                and offers.outcome = {{ sql_string(outcome) }}
                then 1
            else 0
        end) as upsell_offers_{{ outcome }},
        {%- endfor %}
        max(case when offers.outcome_at is null or offers.outcome_at > snapshots.cutoff_at
                then offers.offered_at
        end) as latest_pending_offer_at
    from snapshots
    inner join offers
        on offers.account_id = snapshots.account_id
            and offers.offered_at <= snapshots.cutoff_at
    group by snapshots.snapshot_id, snapshots.account_id

),

pending_triggers as (

    select
        upsell.snapshot_id,
        min(offers.trigger) as latest_pending_offer_trigger
    from upsell
    inner join offers
        on offers.account_id = upsell.account_id
            and offers.offered_at = upsell.latest_pending_offer_at
    group by upsell.snapshot_id

),

final as (

    select
        snapshots.snapshot_id,
        snapshots.account_id,
        snapshots.cutoff_at,
        snapshots.cutoff_offset_days,
        snapshots.is_scoring,
        snapshots.upgraded_within_horizon,
        snapshots.activated_at,
        accounts.persona,
        accounts.acquisition_source,
        accounts.segment,
        accounts.country,
        accounts.account_manager_id,
        accounts.account_manager_id is not null as has_account_manager,
        {{ seconds_between('accounts.created_at', 'snapshots.cutoff_at') }} / 86400.0
            as days_since_signup,
        {{ seconds_between('snapshots.activated_at', 'snapshots.cutoff_at') }} / 86400.0
            as days_since_activation,
        current_plans.plan_id,
        current_plans.plan_tier_rank,
        {{ counts_or_zero(['current_plans.seats']) }},
        current_plans.plan_max_seats,
        {{ counts_or_zero([
            'users.active_users_30d', 'usage.usage_events_14d', 'usage.usage_events_30d',
            'usage.active_days_30d',
        ]) }},
        usage.days_since_last_usage,
        {{ counts_or_zero([
            'usage.upgrade_visit_days_30d', 'signals.attempts_total', 'signals.attempts_30d',
            'signals.furthest_step_index', 'signals.furthest_step_index_30d',
            'signals.escalations_total', 'signals.escalations_30d',
        ]) }},
        {%- for column, cte, source_table in [
            ('eligibility_checks_total', 'eligibility', 'eligibility_checks'),
            ('eligibility_rejections_total', 'eligibility', 'eligibility_checks'),
            ('eligibility_rejections_30d', 'eligibility', 'eligibility_checks'),
            ('upsell_offers_total', 'upsell', 'upsell_offers'),
            ('upsell_offers_30d', 'upsell', 'upsell_offers'),
            ('upsell_offers_pending', 'upsell', 'upsell_offers'),
            ('upsell_offers_rejected', 'upsell', 'upsell_offers'),
            ('upsell_offers_deferred', 'upsell', 'upsell_offers'),
            ('upsell_offers_no_response', 'upsell', 'upsell_offers'),
            ('payment_failures_total', 'payment_failures', 'payment_attempts'),
            ('payment_failures_30d', 'payment_failures', 'payment_attempts'),
        ] %}
        case when loaded.has_{{ source_table }} then cast(
                    coalesce({{ cte }}.{{ column }}, 0)
                    as {{ dbt.type_bigint() }}
                )
        end
            as {{ column }},
        {%- endfor %}
        pending_triggers.latest_pending_offer_trigger
    from snapshots
    cross join loaded
    inner join accounts
        on accounts.account_id = snapshots.account_id
    {{- left_join_each([
        'current_plans', 'users', 'usage', 'signals', 'eligibility', 'upsell',
        'pending_triggers', 'payment_failures',
    ], 'snapshots', ['snapshot_id']) }}

)

select * from final
