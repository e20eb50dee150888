{#- One row per upsell offer up to as_of (metrics.md "Upsell offers"). An outcome
    recorded after as_of counts as pending. A deferred offer was later accepted when the
    same account accepted a later offer (offered after it). -#}
with

{{ import_ctes({'offers': ref('stg_product__upsell_offers'), 'as_of': ref('int_as_of')}) }}

visible as (

    select
        offers.*,
        case
            when offers.outcome_at is null or offers.outcome_at <= as_of.as_of then offers.outcome
        end as outcome_at_as_of
    {{ from_as_of('offers', 'offered_at') }}

),

later_acceptances as (

    select distinct
        deferred.offer_id
    from visible as deferred
    inner join visible as accepted
        on accepted.account_id = deferred.account_id
            and accepted.offered_at > deferred.offered_at
            and accepted.outcome_at_as_of = 'accepted'
    where deferred.outcome_at_as_of = 'deferred'

),

final as (

    select
        visible.offer_id,
        visible.account_id,
        visible.trigger,
        visible.owner,
        coalesce(visible.channel, '(none)') as channel,
        visible.offered_plan_id,
        visible.offered_at,
        {{ month_of('visible.offered_at') }} as offer_month,
        visible.outcome_at_as_of as outcome,
        visible.outcome_at,
        visible.change_id,
        visible.outcome_at_as_of is not null as has_outcome,
        coalesce(visible.outcome_at_as_of = 'accepted', false) as is_accepted,
        coalesce(visible.outcome_at_as_of = 'deferred', false) as is_deferred,
        later_acceptances.offer_id is not null as is_deferred_then_accepted
    from visible
    left join later_acceptances
        on later_acceptances.offer_id = visible.offer_id

)

select * from final
