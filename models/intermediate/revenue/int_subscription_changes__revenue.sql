{#- Revenue facts of each subscription change (metrics.md "Revenue facts"): MRR before
    and after (exact: signs are decided on 12 x MRR, an integer), movement (first rule
    that matches), kind, upgrade flag and channel. Changes after as_of are ignored. -#}
with

{{ import_ctes({
    'changes': ref('stg_billing__subscription_changes'),
    'plans': ref('stg_billing__plans'),
    'opportunities': ref('stg_crm__opportunities'),
    'as_of': ref('int_as_of'),
}) }}

sales_opportunities as (

    select distinct opportunities.change_id
    {{ from_as_of('opportunities', 'created_at', [
        "opportunities.origin = 'sales'",
        'opportunities.change_id is not null',
    ]) }}

),

priced as (

    select
        changes.*,
        coalesce(to_plan.currency, from_plan.currency) as currency,
        from_plan.tier_rank as from_tier_rank,
        to_plan.tier_rank as to_tier_rank,
        from_plan.billing_interval as from_billing_interval,
        to_plan.billing_interval as to_billing_interval,
        case
            when changes.from_plan_id is null then 0
            else {{ mrr_x12(
                'from_plan.unit_amount_minor',
                'changes.from_quantity',
                'from_plan.billing_interval'
            ) }}
        end as mrr_before_x12,
        case
            when changes.to_plan_id is null then 0
            else {{ mrr_x12(
                'to_plan.unit_amount_minor',
                'changes.to_quantity',
                'to_plan.billing_interval'
            ) }}
        end as mrr_after_x12
    from changes
    cross join as_of
    left join plans as from_plan
        on from_plan.plan_id = changes.from_plan_id
    left join plans as to_plan
        on to_plan.plan_id = changes.to_plan_id
    where changes.changed_at <= as_of.as_of

),

with_history as (

    select
        priced.*,
        -- Did the account have MRR > 0 from an earlier change (by effective_at, then change_id)?
        max(case when mrr_after_x12 > 0 then 1 else 0 end) over (
            partition by account_id
            order by effective_at, change_id
            rows between unbounded preceding and 1 preceding
        ) as had_mrr_before

    from priced

),

classified as (

    select
        with_history.*,
        mrr_after_x12 - mrr_before_x12 as mrr_delta_x12,
        case
            when mrr_before_x12 = 0 and mrr_after_x12 = 0 then 'none'
            when mrr_before_x12 = 0 and mrr_after_x12 > 0
                then case when coalesce(had_mrr_before, 0) = 1 then 'reactivation' else 'new' end
            when mrr_before_x12 > 0 and mrr_after_x12 = 0 then 'churn'
            when mrr_after_x12 > mrr_before_x12 then 'expansion'
            when mrr_after_x12 < mrr_before_x12 then 'contraction'
            else 'renewal'
        end as movement,
        case
            when from_plan_id is null then 'created'
            when to_plan_id is null then 'cancelled'
            when to_tier_rank > from_tier_rank then 'tier_upgrade'
            when to_tier_rank < from_tier_rank then 'tier_downgrade'
            when to_billing_interval <> from_billing_interval then 'interval_switch'
            when to_quantity > from_quantity then 'seat_expansion'
            when to_quantity < from_quantity then 'seat_reduction'
            else 'renewal'
        end as kind
    from with_history

),

final as (

    select
        classified.change_id,
        classified.subscription_id,
        classified.account_id,
        classified.changed_at,
        classified.effective_at,
        {{ month_of('classified.changed_at') }} as change_month,
        classified.from_plan_id,
        classified.to_plan_id,
        classified.from_quantity,
        classified.to_quantity,
        classified.initiated_by,
        classified.channel as source_channel,
        classified.period_start,
        classified.period_end,
        classified.proration_behavior,
        classified.reason_code,
        classified.currency,
        cast(classified.mrr_before_x12 as {{ type_double() }}) / 12 as mrr_before,
        cast(classified.mrr_after_x12 as {{ type_double() }}) / 12 as mrr_after,
        cast(classified.mrr_delta_x12 as {{ type_double() }}) / 12 as mrr_delta,
        classified.mrr_delta_x12,
        classified.movement,
        classified.kind,
        classified.mrr_delta_x12 > 0 as is_upgrade,
        case
            when classified.initiated_by = 'sales' or sales_opportunities.change_id is not null
                then 'sales_assisted'
            when classified.initiated_by = 'system' then 'automatic'
            else 'self_serve'
        end as channel
    from classified
    left join sales_opportunities
        on sales_opportunities.change_id = classified.change_id

)

select * from final
