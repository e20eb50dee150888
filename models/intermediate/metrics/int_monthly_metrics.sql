{#- Every scalar metric of metrics.md at the period x segment grain: the section models
    side by side on the frame (every month and all months, every segment). Each section
    is taken whole (star_except), so a metric added to its section model arrives here
    and in the marts without further edits; a new section is one more name in the list
    below. The `feature_use` rows of the activation section (cohort tables only) do not
    match the frame and are left out. -#}
{%- set sections = [
    'funnel', 'revenue', 'activation', 'payments', 'sync',
    'attribution', 'eligibility', 'upsell', 'orders', 'proration',
] -%}
{%- set keys = ['month', 'segment_dimension', 'segment_value'] -%}
with

frame as (

    select * from {{ ref('int_segment_months') }}

),
{%- for section in sections %}

{{ section }} as (

    select * from {{ ref('int_metrics__' ~ section) }}

),
{%- endfor %}

final as (

    select
        frame.month,
        frame.segment_dimension,
        frame.segment_value,
        {%- for section in sections %}
        {{ star_except(ref('int_metrics__' ~ section), keys, section) }}{% if not loop.last %},
        {% endif %}
        {%- endfor %}
    from frame
    {%- for section in sections %}
left join {{ section }}
    on {{ same_period_and_segment(section, 'frame') }}
    {%- endfor %}

)

select * from final
