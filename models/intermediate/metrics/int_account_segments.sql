{#- One row per account and segment it belongs to (metrics.md "Segments"): the `all` /
    `all` segment (every account), then one row per account attribute of
    segment_dimensions() with the account's value, null included (a null value is a
    segment of its own). The section models join their facts to this on account_id. -#}
with

{{ import_ctes({'accounts': ref('stg_billing__accounts')}) }}

final as (

    select
        account_id,
        cast('all' as {{ dbt.type_string() }}) as segment_dimension,
        cast('all' as {{ dbt.type_string() }}) as segment_value
    from accounts
    {%- for dimension in segment_dimensions() %}

    union all

    select
        account_id,
        cast({{ sql_string(dimension) }} as {{ dbt.type_string() }}) as segment_dimension,
        {{ dimension }} as segment_value
    from accounts
    {%- endfor %}

)

select * from final
