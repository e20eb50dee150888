with

source as (

    select * from {{ source('loader', 'load_report') }}

),

renamed as (

    select
        cast(table_name as {{ dbt.type_string() }}) as table_name,
        cast(loaded as {{ dbt.type_boolean() }}) as is_loaded,
        cast(source_file as {{ dbt.type_string() }}) as source_file,
        cast(rows_read as {{ dbt.type_bigint() }}) as rows_read,
        cast(rows_accepted as {{ dbt.type_bigint() }}) as rows_accepted,
        cast(rows_quarantined as {{ dbt.type_bigint() }}) as rows_quarantined
    from source

)

select * from renamed
