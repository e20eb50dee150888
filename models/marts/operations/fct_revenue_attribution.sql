{#- Revenue attribution accuracy (metrics.md): one row per change whose derived
    movement is not `none`, with its CRM record (the latest closed_won opportunity
    carrying the change_id, then the greatest opportunity_id), whether the coding is
    accurate and the first mismatch reason: missing_record, wrong_direction (gain coded
    as loss or the reverse; renewal is neither), wrong_movement, wrong_amount (amount
    off by more than amount_tolerance_minor, or another currency). Amounts are compared
    exactly: 12 x coded delta against 12 x derived delta. -#}
{%- set tolerance = var('amount_tolerance_minor') | int -%}
with

{{ import_ctes({
    'changes': ref('int_subscription_changes__revenue'),
    'opportunities': ref('stg_crm__opportunities'),
    'as_of': ref('int_as_of'),
}) }}

ranked_records as (

    select
        opportunities.*,
        row_number() over (
            partition by opportunities.change_id
            order by opportunities.created_at desc, opportunities.opportunity_id desc
        ) as record_rank
    {{ from_as_of('opportunities', 'created_at', [
        "opportunities.stage = 'closed_won'",
        'opportunities.change_id is not null',
    ]) }}

),

records as (

    select * from ranked_records where record_rank = 1

),

compared as (

    select
        changes.change_id,
        changes.account_id,
        changes.changed_at,
        changes.change_month,
        changes.channel,
        changes.currency,
        changes.movement,
        changes.mrr_delta,
        changes.mrr_delta_x12,
        records.opportunity_id,
        records.origin as crm_origin,
        records.owner_id as crm_owner_id,
        records.movement_type as crm_movement_type,
        records.mrr_delta_minor as crm_mrr_delta_minor,
        records.currency as crm_currency,
        case
            when changes.movement in ('new', 'expansion', 'reactivation') then 'gain'
            when changes.movement in ('contraction', 'churn') then 'loss'
        end as derived_direction,
        case
            when records.movement_type in ('new', 'expansion', 'reactivation') then 'gain'
            when records.movement_type in ('contraction', 'churn') then 'loss'
        end as crm_direction,
        coalesce(
            records.currency = changes.currency
            and abs(records.mrr_delta_minor * 12 - changes.mrr_delta_x12) <= {{ tolerance * 12 }},
            false
        ) as is_amount_accurate
    from changes
    left join records
        on records.change_id = changes.change_id
    where changes.movement <> 'none'

),

final as (

    select
        compared.*,
        case
            when opportunity_id is null then 'missing_record'
            when derived_direction is not null and crm_direction is not null
                and derived_direction <> crm_direction then 'wrong_direction'
            when crm_movement_type is null or crm_movement_type <> movement then 'wrong_movement'
            when not is_amount_accurate then 'wrong_amount'
        end as mismatch_reason,
        opportunity_id is not null
        and crm_movement_type = movement
        and is_amount_accurate as is_accurate
    from compared

)

select * from final
