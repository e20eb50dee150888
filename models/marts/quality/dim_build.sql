{#- One row: the build this warehouse is, its as_of and every metric parameter (as the
    JSON object of metrics.md's `parameters`). -#}
with

{{ import_ctes({'builds': ref('stg_loader__builds')}) }}

final as (

    select
        as_of,
        reporting_currency,
        parameters_json
    from builds

)

select * from final
