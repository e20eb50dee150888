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

{#- The import CTEs of a model (dbt's structure guide): one `name as (select * from
    relation)` per entry of `imports` (name -> relation, e.g. ref('int_as_of'), in
    order), each ending with `),`: the model's logic CTEs follow. -#}
{% macro import_ctes(imports) -%}
{%- for name, relation in imports.items() -%}
{{ name }} as (

    select * from {{ relation }}

),
{%- if not loop.last %}

{% endif -%}
{%- endfor -%}
{%- endmacro %}

{#- A left join of each relation of `relations` (in order) on the columns `keys` of
    `to`: the per-key CTEs a model's final puts side by side. -#}
{% macro left_join_each(relations, to, keys) -%}
{%- for relation in relations %}
    left join {{ relation }}
        on {{ relation }}.{{ keys[0] }} = {{ to }}.{{ keys[0] }}
{%- for key in keys[1:] %}
            and {{ relation }}.{{ key }} = {{ to }}.{{ key }}
{%- endfor %}
{%- endfor %}
{%- endmacro %}
