{#- Upsell offers (metrics.md) by month of offered_at (month null = all months) and
    segment; null when no upsell_offers file was loaded. -#}
with

frame as (

    select * from {{ ref('int_segment_months') }}

),

account_segments as (

    select * from {{ ref('int_account_segments') }}

),

offers as (

    select * from {{ ref('fct_upsell_offers') }}

),

loaded as (

    select * from {{ ref('int_loaded_tables') }}

),

segmented as (

    select
        offers.offer_month,
        offers.has_outcome,
        offers.is_accepted,
        offers.is_deferred,
        account_segments.segment_dimension,
        account_segments.segment_value
    from offers
    inner join account_segments
        on account_segments.account_id = offers.account_id

),

aggregated as (

    select
        offer_month as month,
        segment_dimension,
        segment_value,
        count(*) as upsell_offers,
        sum(case when has_outcome then 1 else 0 end) as offers_with_outcome,
        sum(case when is_accepted then 1 else 0 end) as accepted_offers,
        sum(case when is_deferred then 1 else 0 end) as deferred_offers
    from segmented
    {{ group_by_period_and_segment('offer_month') }}

),

final as (

    select
        frame.month,
        frame.segment_dimension,
        frame.segment_value,
        {{ count_metric(
            'upsell_offers',
            'aggregated.upsell_offers',
            when='loaded.has_upsell_offers'
        ) }},
        {{ rate(
            'upsell_acceptance_rate', 'aggregated.accepted_offers', 'aggregated.offers_with_outcome',
            when='loaded.has_upsell_offers'
        ) }},
        {{ rate(
            'upsell_deferral_rate', 'aggregated.deferred_offers', 'aggregated.offers_with_outcome',
            when='loaded.has_upsell_offers'
        ) }}
    from frame
    cross join loaded
    left join aggregated
        on {{ same_period_and_segment('aggregated', 'frame') }}

)

select * from final
