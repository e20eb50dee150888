{#- Upsell offers (metrics.md) by month of offered_at (month null = all months) and
    segment; null when no upsell_offers file was loaded. -#}
with

{{ section_imports({'offers': ref('fct_upsell_offers'), 'loaded': ref('int_loaded_tables')}) }}

{{ segmented_aggregate('offers', 'offer_month', {
    'upsell_offers': 'count(*)',
    'offers_with_outcome': count_if('has_outcome'),
    'accepted_offers': count_if('is_accepted'),
    'deferred_offers': count_if('is_deferred'),
}) }}

final as (

    select
        {{ period_and_segment() }},
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
    {{ from_frame(loaded=true) }}

)

select * from final
