{#- One row per month (earliest fact to the as_of month) with every metric id of
    metrics.md as a column. Metrics keyed by step, method or reason are in
    fct_monthly_metric_breakdowns. Rates are fractions, null when the denominator is 0;
    money is in major units of the reporting currency. The operational sections
    (payments, sync, attribution, eligibility, upsell, orders, proration) are null
    until their marts exist. -#}
with

months as (

    select * from {{ ref('int_month_spine') }}

),

attempts as (

    select * from {{ ref('fct_upgrade_attempts') }}

),

changes as (

    select * from {{ ref('fct_subscription_changes') }}

),

accounts as (

    select * from {{ ref('dim_accounts') }}

),

funnel as (

    select
        attempt_month as month,
        count(*) as attempts_started,
        sum(case when outcome <> 'in_progress' then 1 else 0 end) as resolved_attempts,
        sum(case when is_completed then 1 else 0 end) as completed_attempts,
        sum(case when outcome = 'completed_self_serve' then 1 else 0 end) as completed_self_serve_attempts,
        sum(case when outcome in ('completed_assisted', 'escalated') then 1 else 0 end) as escalated_attempts,
        {{ percentile_cont('intent_to_activation_hours', 0.5) }} as intent_to_activation_hours_p50,
        {{ percentile_cont('intent_to_activation_hours', 0.9) }} as intent_to_activation_hours_p90
    from attempts
    group by attempt_month

),

revenue as (

    select
        change_month as month,
        sum(case when is_upgrade then 1 else 0 end) as upgrades,
        sum(case when is_upgrade and channel = 'self_serve' then 1 else 0 end) as self_serve_upgrades,
        sum(case when is_upgrade and channel = 'sales_assisted' then 1 else 0 end) as sales_assisted_upgrades,
        sum(case when is_upgrade and channel = 'automatic' then 1 else 0 end) as automatic_upgrades,
        avg(case when is_upgrade then mrr_delta_reporting end) as arpu_per_upgrade,
        {%- for movement in ['new', 'expansion', 'reactivation', 'contraction', 'churn'] %}
        coalesce(sum(case when movement = '{{ movement }}' then mrr_delta_reporting end), 0)
            as mrr_{{ movement }},
        {%- endfor %}
        {{ percentile_cont('processing_latency_seconds', 0.5) }} as processing_latency_seconds_p50,
        {{ percentile_cont('processing_latency_seconds', 0.95) }} as processing_latency_seconds_p95
    from changes
    group by change_month

),

activation as (

    select
        activation_month as month,
        count(*) as activated_accounts,
        sum(case when is_matured then 1 else 0 end) as matured_activated_accounts,
        sum(case when is_matured and is_converted then 1 else 0 end) as converted_matured_accounts
    from accounts
    where is_activated
    group by activation_month

),

final as (

    select
        months.month,
        -- funnel (month of the attempt start)
        coalesce(funnel.attempts_started, 0) as attempts_started,
        {{ safe_ratio('funnel.completed_attempts', 'funnel.resolved_attempts') }} as upgrade_conversion_rate,
        {{ safe_ratio('funnel.completed_self_serve_attempts', 'funnel.resolved_attempts') }} as self_serve_completion_rate,
        {{ safe_ratio('funnel.escalated_attempts', 'funnel.resolved_attempts') }} as escalation_rate,
        cast(funnel.intent_to_activation_hours_p50 as {{ type_double() }}) as intent_to_activation_hours_p50,
        cast(funnel.intent_to_activation_hours_p90 as {{ type_double() }}) as intent_to_activation_hours_p90,
        -- upgrades and revenue (month of changed_at)
        coalesce(revenue.upgrades, 0) as upgrades,
        coalesce(revenue.self_serve_upgrades, 0) as self_serve_upgrades,
        coalesce(revenue.sales_assisted_upgrades, 0) as sales_assisted_upgrades,
        coalesce(revenue.automatic_upgrades, 0) as automatic_upgrades,
        {{ safe_ratio('revenue.self_serve_upgrades', 'revenue.upgrades') }} as self_serve_share,
        -- money in major units, rounded to 6 decimals (far below a cent) so that sums of
        -- binary fractions read as the decimal amounts they are
        round(cast(revenue.arpu_per_upgrade as {{ type_double() }}), 6) as arpu_per_upgrade,
        {%- for movement in ['new', 'expansion', 'reactivation', 'contraction', 'churn'] %}
        round(cast(coalesce(revenue.mrr_{{ movement }}, 0) as {{ type_double() }}), 6) as mrr_{{ movement }},
        {%- endfor %}
        round(cast(
            coalesce(revenue.mrr_new, 0) + coalesce(revenue.mrr_expansion, 0)
            + coalesce(revenue.mrr_reactivation, 0) + coalesce(revenue.mrr_contraction, 0)
            + coalesce(revenue.mrr_churn, 0)
            as {{ type_double() }}
        ), 6) as net_new_mrr,
        cast(revenue.processing_latency_seconds_p50 as {{ type_double() }}) as processing_latency_seconds_p50,
        cast(revenue.processing_latency_seconds_p95 as {{ type_double() }}) as processing_latency_seconds_p95,
        -- post-activation (activation month)
        coalesce(activation.activated_accounts, 0) as activated_accounts,
        coalesce(activation.matured_activated_accounts, 0) as matured_activated_accounts,
        {{ safe_ratio('activation.converted_matured_accounts', 'activation.matured_activated_accounts') }}
            as post_activation_self_serve_rate,
        -- operational sections: filled by their own marts (null until then)
        cast(null as {{ type_double() }}) as payment_success_rate,
        cast(null as {{ dbt.type_bigint() }}) as handoffs,
        cast(null as {{ type_double() }}) as sync_failure_rate,
        cast(null as {{ type_double() }}) as sync_unresolved_rate,
        cast(null as {{ dbt.type_bigint() }}) as sync_dead_letters,
        cast(null as {{ type_double() }}) as sync_manual_override_rate,
        cast(null as {{ type_double() }}) as time_to_sync_seconds_p50,
        cast(null as {{ dbt.type_bigint() }}) as attributed_changes,
        cast(null as {{ type_double() }}) as attribution_accuracy,
        cast(null as {{ type_double() }}) as eligibility_rejection_rate,
        cast(null as {{ type_double() }}) as false_positive_reject_rate,
        cast(null as {{ dbt.type_bigint() }}) as upsell_offers,
        cast(null as {{ type_double() }}) as upsell_acceptance_rate,
        cast(null as {{ type_double() }}) as upsell_deferral_rate,
        cast(null as {{ dbt.type_bigint() }}) as orders_placed,
        cast(null as {{ dbt.type_bigint() }}) as orders_completed,
        cast(null as {{ type_double() }}) as order_completion_days_p50,
        cast(null as {{ dbt.type_bigint() }}) as orders_open,
        cast(null as {{ dbt.type_bigint() }}) as proration_checked_changes,
        cast(null as {{ type_double() }}) as proration_accuracy_rate
    from months
    left join funnel
        on funnel.month = months.month
    left join revenue
        on revenue.month = months.month
    left join activation
        on activation.month = months.month

)

select * from final
