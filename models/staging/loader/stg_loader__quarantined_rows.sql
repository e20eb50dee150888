with

source as (

    select * from {{ source('loader', 'quarantine') }}

),

renamed as (

    select
        cast(table_name as {{ dbt.type_string() }}) as table_name,
        cast(source_file as {{ dbt.type_string() }}) as source_file,
        cast(row_number as {{ dbt.type_bigint() }}) as source_row_number,
        cast(reason_code as {{ dbt.type_string() }}) as reason_code,
        cast(reason_column as {{ dbt.type_string() }}) as reason_column,
        cast(raw_row as {{ dbt.type_string() }}) as raw_row
    from source

)

select * from renamed
