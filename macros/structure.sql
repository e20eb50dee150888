{#- The layout of dbt's structure guide (import CTEs, logic CTEs, `select * from final`)
    for the models whose shape repeats: written once here, so that a model says only what
    is its own. -#}

{#- A model that publishes another as it is (a mart over the intermediate model that
    holds its logic): one import CTE `name` reading `relation`, then final. -#}
{% macro pass_through(relation, name) -%}
with

{{ name }} as (

    select * from {{ relation }}

),

final as (

    select * from {{ name }}

)

select * from final
{%- endmacro %}
