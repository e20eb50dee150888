with

source as (

    select * from {{ source('loader', 'source_report') }}

),

renamed as (

    select
        cast(table_name as {{ dbt.type_string() }}) as table_name,
        cast(source_table as {{ dbt.type_string() }}) as source_table,
        cast(source_shape as {{ dbt.type_string() }}) as source_shape,
        cast(rows_read as {{ dbt.type_bigint() }}) as rows_read,
        cast(rows_mapped as {{ dbt.type_bigint() }}) as rows_mapped,
        cast(rows_skipped as {{ dbt.type_bigint() }}) as rows_skipped,
        cast(rows_quarantined as {{ dbt.type_bigint() }}) as rows_quarantined,
        cast(skipped_by_rule as {{ dbt.type_string() }}) as skipped_by_rule,
        cast(quarantined_by_reason as {{ dbt.type_string() }}) as quarantined_by_reason
    from source

)

select * from renamed
