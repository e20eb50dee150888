with

source as (

    select * from {{ source('loader', 'build_info') }}

),

renamed as (

    select
        cast(as_of as {{ dbt.type_timestamp() }}) as as_of,
        cast(reporting_currency as {{ dbt.type_string() }}) as reporting_currency,
        cast(parameters_json as {{ dbt.type_string() }}) as parameters_json
    from source

)

select * from renamed
