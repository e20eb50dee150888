{#- One row per experiment and counted account (exposed to one variation only;
    metrics.md "Experiments"): what the account did in its window [exposed_at,
    exposed_at + experiment_window_days], from the funnel's attempts
    (fct_upgrade_attempts), the revenue facts (fct_subscription_changes: upgrade,
    channel, mrr_delta in the reporting currency), escalation events and failed payment
    attempts. reached_step_<k>: an attempt started in the window reached the k-th
    funnel step (within the attempt's own window). mrr_delta_reporting: the sum over the
    account's changes in the window (0 when none); null, and is_mrr_converted false,
    when one of them cannot be converted to the reporting currency. -#}
{%- set steps = var_list('funnel_steps') -%}
with

{{ import_ctes({
    'exposures': ref('int_experiments__exposures'),
    'attempts': ref('fct_upgrade_attempts'),
    'changes': ref('fct_subscription_changes'),
    'events': ref('stg_product__events'),
    'payments': ref('stg_billing__payment_attempts'),
}) }}

counted as (

    select *
    from exposures
    where not is_multiple_exposure

),

attempts_in_window as (

    select
        counted.experiment_id,
        counted.account_id,
        max(attempts.last_step_index) as max_step_index
    {{ from_exposure_window('attempts', 'started_at') }}
    group by counted.experiment_id, counted.account_id

),

changes_in_window as (

    select
        counted.experiment_id,
        counted.account_id,
        max(case when {{ is_self_serve_upgrade('changes') }} then 1 else 0 end)
            as has_self_serve_upgrade,
        max(case when changes.is_upgrade then 1 else 0 end) as has_upgrade,
        min(case when changes.is_converted then 1 else 0 end) as all_converted,
        {{ exact_sum('changes.mrr_delta_reporting') }} as mrr_delta_reporting
    {{ from_exposure_window('changes', 'changed_at') }}
    group by counted.experiment_id, counted.account_id

),

escalations_in_window as (

    select distinct
        counted.experiment_id,
        counted.account_id
    {{ from_exposure_window('events', 'occurred_at') }}
    where {{ in_list('events.event_name', var_list('escalation_events')) }}

),

payment_failures_in_window as (

    select distinct
        counted.experiment_id,
        counted.account_id
    {{ from_exposure_window('payments', 'attempted_at') }}
    where payments.status = 'failed'

),

final as (

    select
        counted.experiment_id,
        counted.account_id,
        counted.variation_id,
        counted.exposed_at,
        counted.window_end_at,
        counted.is_matured,
        attempts_in_window.account_id is not null as has_attempt,
        {%- for step in steps %}
        coalesce(attempts_in_window.max_step_index >= {{ loop.index }}, false)
            as reached_step_{{ loop.index }},
        {%- endfor %}
        coalesce(changes_in_window.has_self_serve_upgrade = 1, false) as has_self_serve_upgrade,
        coalesce(changes_in_window.has_upgrade = 1, false) as has_upgrade,
        escalations_in_window.account_id is not null as has_escalation,
        payment_failures_in_window.account_id is not null as has_payment_failure,
        coalesce(changes_in_window.all_converted, 1) = 1 as is_mrr_converted,
        case
            when changes_in_window.account_id is null then 0.0
            when changes_in_window.all_converted = 1 then changes_in_window.mrr_delta_reporting
        end as mrr_delta_reporting
    from counted
    {{- left_join_each([
        'attempts_in_window', 'changes_in_window', 'escalations_in_window',
        'payment_failures_in_window',
    ], 'counted', ['experiment_id', 'account_id']) }}

)

select * from final
