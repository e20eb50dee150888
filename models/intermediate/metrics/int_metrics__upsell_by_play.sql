{#- Upsell offers by play: by month of offered_at (month null = all months), segment
    and one of the play attributes trigger, owner and channel (play_dimension,
    play_value; a null value is its own row): offers, their outcome at as_of and the
    acceptance and deferral rates of int_metrics__upsell. One row per value with offers. -#}
{%- set plays = ['trigger', 'owner', 'channel'] -%}
with

{{ section_imports({'offers': ref('fct_upsell_offers')}, frame=false) }}

by_play as (

    {%- for play in plays %}
    select
        offers.*,
        cast({{ sql_string(play) }} as {{ dbt.type_string() }}) as play_dimension,
        cast(offers.{{ play }} as {{ dbt.type_string() }}) as play_value
    from offers
    {%- if not loop.last %}

    union all
    {%- endif %}
    {%- endfor %}

),

{{ segmented_aggregate('by_play', 'offer_month', {
    'upsell_offers': 'count(*)',
    'offers_with_outcome': count_if('has_outcome'),
    'accepted_offers': count_if('is_accepted'),
    'rejected_offers': count_if("outcome = 'rejected'"),
    'deferred_offers': count_if('is_deferred'),
    'no_response_offers': count_if("outcome = 'no_response'"),
    'pending_offers': 'sum(case when has_outcome then 0 else 1 end)',
    'deferred_then_accepted_offers': count_if('is_deferred_then_accepted'),
}, keys=['play_dimension', 'play_value']) }}

final as (

    select
        {{ period_and_segment('aggregated') }},
        play_dimension,
        play_value,
        {{ bigint_columns([
            'upsell_offers', 'offers_with_outcome', 'accepted_offers', 'rejected_offers',
            'deferred_offers', 'no_response_offers', 'pending_offers',
            'deferred_then_accepted_offers',
        ]) }},
        {{ rate('upsell_acceptance_rate', 'accepted_offers', 'offers_with_outcome') }},
        {{ rate('upsell_deferral_rate', 'deferred_offers', 'offers_with_outcome') }}
    from aggregated

)

select * from final
