{#- Upsell offers by play: by month of offered_at (month null = all months), segment
    and one of the play attributes trigger, owner and channel (play_dimension,
    play_value; a null value is its own row): offers, their outcome at as_of and the
    acceptance and deferral rates of int_metrics__upsell. One row per value with offers. -#}
{%- set plays = ['trigger', 'owner', 'channel'] -%}
with

account_segments as (

    select * from {{ ref('int_account_segments') }}

),

offers as (

    select * from {{ ref('fct_upsell_offers') }}

),

by_play as (

    {%- for play in plays %}
    select
        offer_month,
        account_id,
        cast({{ sql_string(play) }} as {{ dbt.type_string() }}) as play_dimension,
        cast({{ play }} as {{ dbt.type_string() }}) as play_value,
        outcome,
        has_outcome,
        is_accepted,
        is_deferred,
        is_deferred_then_accepted
    from offers
    {%- if not loop.last %}

    union all
    {%- endif %}
    {%- endfor %}

),

segmented as (

    select
        by_play.*,
        account_segments.segment_dimension,
        account_segments.segment_value
    from by_play
    inner join account_segments
        on account_segments.account_id = by_play.account_id

),

aggregated as (

    select
        offer_month as month,
        segment_dimension,
        segment_value,
        play_dimension,
        play_value,
        count(*) as upsell_offers,
        sum(case when has_outcome then 1 else 0 end) as offers_with_outcome,
        sum(case when is_accepted then 1 else 0 end) as accepted_offers,
        sum(case when outcome = 'rejected' then 1 else 0 end) as rejected_offers,
        sum(case when is_deferred then 1 else 0 end) as deferred_offers,
        sum(case when outcome = 'no_response' then 1 else 0 end) as no_response_offers,
        sum(case when has_outcome then 0 else 1 end) as pending_offers,
        sum(case when is_deferred_then_accepted then 1 else 0 end) as deferred_then_accepted_offers
    from segmented
    {{ group_by_period_and_segment('offer_month', ['play_dimension', 'play_value']) }}

),

final as (

    select
        month,
        segment_dimension,
        segment_value,
        play_dimension,
        play_value,
        cast(upsell_offers as {{ dbt.type_bigint() }}) as upsell_offers,
        cast(offers_with_outcome as {{ dbt.type_bigint() }}) as offers_with_outcome,
        cast(accepted_offers as {{ dbt.type_bigint() }}) as accepted_offers,
        cast(rejected_offers as {{ dbt.type_bigint() }}) as rejected_offers,
        cast(deferred_offers as {{ dbt.type_bigint() }}) as deferred_offers,
        cast(no_response_offers as {{ dbt.type_bigint() }}) as no_response_offers,
        cast(pending_offers as {{ dbt.type_bigint() }}) as pending_offers,
        cast(deferred_then_accepted_offers as {{ dbt.type_bigint() }})
            as deferred_then_accepted_offers,
        {{ rate('upsell_acceptance_rate', 'accepted_offers', 'offers_with_outcome') }},
        {{ rate('upsell_deferral_rate', 'deferred_offers', 'offers_with_outcome') }}
    from aggregated

)

select * from final
