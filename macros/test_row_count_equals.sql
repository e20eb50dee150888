{#- Generic test: the model has exactly `expected` rows. -#}
{% test row_count_equals(model, expected) %}

with

counted as (

    select count(*) as n_rows from {{ model }}

),

final as (

    select * from counted where n_rows <> {{ expected }}

)

select * from final

{% endtest %}
