{#- Generic test: the combination of the given columns is unique (no dbt_utils here). -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

with

grouped as (

    select
        {{ combination_of_columns | join(', ') }},
        count(*) as n_rows
    from {{ model }}
    group by {{ combination_of_columns | join(', ') }}

),

final as (

    select * from grouped where n_rows > 1

)

select * from final

{% endtest %}
