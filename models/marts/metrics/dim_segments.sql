{#- One row per segment (metrics.md "Segments"): `all` / `all`, then every value of each
    account attribute among the accounts (segment_value null = accounts without a value),
    with its number of accounts. dimension_order is the order of segment_dimensions()
    (0 for `all`): the `metrics --by` choices and the dashboard's segment pickers. -#}
with

{{ import_ctes({'account_segments': ref('int_account_segments')}) }}

final as (

    select
        segment_dimension,
        case segment_dimension
            {%- for dimension in segment_dimensions() %}
            when {{ sql_string(dimension) }} then {{ loop.index }}
            {%- endfor %}
            else 0
        end as dimension_order,
        segment_value,
        count(*) as accounts
    from account_segments
    group by segment_dimension, segment_value

)

select * from final
