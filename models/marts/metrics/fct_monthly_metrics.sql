{#- One row per month (earliest fact to the as_of month) with every metric id of
    metrics.md as a column. Metrics keyed by step, method or reason are in
    fct_monthly_metric_breakdowns. Rates are fractions, null when the denominator is 0;
    money is in major units of the reporting currency. A section whose optional source
    table was not supplied is null (counts too). -#}
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

payments as (

    select * from {{ ref('fct_payment_attempts') }}

),

handoffs as (

    select * from {{ ref('fct_sync_handoffs') }}

),

attribution as (

    select * from {{ ref('fct_revenue_attribution') }}

),

eligibility_checks as (

    select * from {{ ref('fct_eligibility_checks') }}

),

upsell_offers as (

    select * from {{ ref('fct_upsell_offers') }}

),

orders as (

    select * from {{ ref('fct_orders') }}

),

proration_checks as (

    select * from {{ ref('fct_proration_checks') }}

),

loaded as (

    select * from {{ ref('int_loaded_tables') }}

),

as_of as (

    select * from {{ ref('int_as_of') }}

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

payment_totals as (

    select
        attempt_month as month,
        count(*) as payment_attempts,
        sum(case when is_succeeded then 1 else 0 end) as succeeded_payment_attempts
    from payments
    group by attempt_month

),

sync as (

    select
        change_month as month,
        count(*) as handoffs,
        sum(case when is_first_attempt_failed then 1 else 0 end) as first_attempt_failed_handoffs,
        sum(case when is_resolved then 0 else 1 end) as unresolved_handoffs,
        sum(case when is_dead_letter then 1 else 0 end) as sync_dead_letters,
        sum(case when is_manual_override then 1 else 0 end) as manual_override_handoffs,
        {{ percentile_cont('time_to_sync_seconds', 0.5) }} as time_to_sync_seconds_p50
    from handoffs
    group by change_month

),

attribution_totals as (

    select
        change_month as month,
        count(*) as attributed_changes,
        sum(case when is_accurate then 1 else 0 end) as accurate_changes
    from attribution
    group by change_month

),

eligibility as (

    select
        check_month as month,
        count(*) as checks,
        sum(case when is_rejected then 1 else 0 end) as rejected_checks,
        sum(case when is_false_positive then 1 else 0 end) as false_positive_checks
    from eligibility_checks
    group by check_month

),

upsell as (

    select
        offer_month as month,
        count(*) as upsell_offers,
        sum(case when has_outcome then 1 else 0 end) as offers_with_outcome,
        sum(case when is_accepted then 1 else 0 end) as accepted_offers,
        sum(case when is_deferred then 1 else 0 end) as deferred_offers
    from upsell_offers
    group by offer_month

),

order_totals as (

    select
        placed_month as month,
        count(*) as orders_placed,
        sum(case when is_completed then 1 else 0 end) as orders_completed,
        {{ percentile_cont('completion_days', 0.5) }} as order_completion_days_p50
    from orders
    where placed_at is not null
    group by placed_month

),

proration as (

    select
        change_month as month,
        count(*) as proration_checked_changes,
        sum(case when is_accurate then 1 else 0 end) as accurate_proration_changes
    from proration_checks
    group by change_month

),

open_orders as (

    select
        {{ month_of('max(as_of.as_of)') }} as month,
        sum(case when orders.is_open then 1 else 0 end) as orders_open
    from as_of
    left join orders
        on 1 = 1

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
        -- net new MRR is the sum of the five rounded movements, so they add up exactly
        round(
            {%- for movement in ['new', 'expansion', 'reactivation', 'contraction', 'churn'] %}
            round(cast(coalesce(revenue.mrr_{{ movement }}, 0) as {{ type_double() }}), 6)
            {%- if not loop.last %} +{% endif %}
            {%- endfor %},
            6
        ) as net_new_mrr,
        cast(revenue.processing_latency_seconds_p50 as {{ type_double() }}) as processing_latency_seconds_p50,
        cast(revenue.processing_latency_seconds_p95 as {{ type_double() }}) as processing_latency_seconds_p95,
        -- post-activation (activation month)
        coalesce(activation.activated_accounts, 0) as activated_accounts,
        coalesce(activation.matured_activated_accounts, 0) as matured_activated_accounts,
        {{ safe_ratio('activation.converted_matured_accounts', 'activation.matured_activated_accounts') }}
            as post_activation_self_serve_rate,
        -- payments (month of attempted_at)
        case when loaded.has_payment_attempts then
            {{ safe_ratio('payment_totals.succeeded_payment_attempts', 'payment_totals.payment_attempts') }}
        end as payment_success_rate,
        -- cross-system sync (month of the change's changed_at)
        case when loaded.has_sync_events then coalesce(sync.handoffs, 0) end as handoffs,
        case when loaded.has_sync_events then
            {{ safe_ratio('sync.first_attempt_failed_handoffs', 'sync.handoffs') }}
        end as sync_failure_rate,
        case when loaded.has_sync_events then
            {{ safe_ratio('sync.unresolved_handoffs', 'sync.handoffs') }}
        end as sync_unresolved_rate,
        case when loaded.has_sync_events then coalesce(sync.sync_dead_letters, 0) end as sync_dead_letters,
        case when loaded.has_sync_events then
            {{ safe_ratio('sync.manual_override_handoffs', 'sync.handoffs') }}
        end as sync_manual_override_rate,
        case when loaded.has_sync_events then
            cast(sync.time_to_sync_seconds_p50 as {{ type_double() }})
        end as time_to_sync_seconds_p50,
        -- revenue attribution (month of changed_at)
        case when loaded.has_crm_opportunities then
            coalesce(attribution_totals.attributed_changes, 0)
        end as attributed_changes,
        case when loaded.has_crm_opportunities then
            {{ safe_ratio('attribution_totals.accurate_changes', 'attribution_totals.attributed_changes') }}
        end as attribution_accuracy,
        -- eligibility (month of checked_at)
        case when loaded.has_eligibility_checks then
            {{ safe_ratio('eligibility.rejected_checks', 'eligibility.checks') }}
        end as eligibility_rejection_rate,
        case when loaded.has_eligibility_checks then
            {{ safe_ratio('eligibility.false_positive_checks', 'eligibility.rejected_checks') }}
        end as false_positive_reject_rate,
        -- upsell offers (month of offered_at)
        case when loaded.has_upsell_offers then coalesce(upsell.upsell_offers, 0) end as upsell_offers,
        case when loaded.has_upsell_offers then
            {{ safe_ratio('upsell.accepted_offers', 'upsell.offers_with_outcome') }}
        end as upsell_acceptance_rate,
        case when loaded.has_upsell_offers then
            {{ safe_ratio('upsell.deferred_offers', 'upsell.offers_with_outcome') }}
        end as upsell_deferral_rate,
        -- post-purchase orders (month of the first placed; open orders on the as_of month)
        case when loaded.has_order_status_events then coalesce(order_totals.orders_placed, 0) end
            as orders_placed,
        case when loaded.has_order_status_events then coalesce(order_totals.orders_completed, 0) end
            as orders_completed,
        case when loaded.has_order_status_events then
            cast(order_totals.order_completion_days_p50 as {{ type_double() }})
        end as order_completion_days_p50,
        case when loaded.has_order_status_events and open_orders.month is not null then
            coalesce(open_orders.orders_open, 0)
        end as orders_open,
        -- proration accuracy (month of changed_at)
        case when loaded.has_invoice_lines then coalesce(proration.proration_checked_changes, 0) end
            as proration_checked_changes,
        case when loaded.has_invoice_lines then
            {{ safe_ratio('proration.accurate_proration_changes', 'proration.proration_checked_changes') }}
        end as proration_accuracy_rate
    from months
    left join funnel
        on funnel.month = months.month
    left join revenue
        on revenue.month = months.month
    left join activation
        on activation.month = months.month
    cross join loaded
    left join payment_totals
        on payment_totals.month = months.month
    left join sync
        on sync.month = months.month
    left join attribution_totals
        on attribution_totals.month = months.month
    left join eligibility
        on eligibility.month = months.month
    left join upsell
        on upsell.month = months.month
    left join order_totals
        on order_totals.month = months.month
    left join open_orders
        on open_orders.month = months.month
    left join proration
        on proration.month = months.month

)

select * from final
