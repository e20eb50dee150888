{#- Funnel-step events up to as_of, with the position of their step in `funnel_steps`. -#}
{%- set steps = var_list('funnel_steps') -%}
with

{{ import_ctes({'events': ref('stg_product__events'), 'as_of': ref('int_as_of')}) }}

final as (

    select
        events.event_id,
        events.account_id,
        events.event_name,
        events.occurred_at,
        case events.event_name
            {%- for step in steps %}
            when {{ sql_string(step) }} then {{ loop.index }}
            {%- endfor %}
        end as step_index,
        {{ json_string('events.properties', 'change_id') }} as change_id
    {{ from_events_named(steps) }}

)

select * from final
