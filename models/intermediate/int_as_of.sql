{#- One row: the as_of timestamp every metric is computed at (metrics.md: `as_of`).
    The CLI always passes it; run by hand, it comes from the loader's build_info. -#}
with

build_info as (

    select * from {{ source('loader', 'build_info') }}

),

final as (

    select
            {% if var('as_of', none) -%}
        cast({{ sql_string(var("as_of")) }} as {{ dbt.type_timestamp() }}) as as_of
        {%- else -%}
        max(as_of) as as_of
        {%- endif %}
    from build_info

)

select * from final
