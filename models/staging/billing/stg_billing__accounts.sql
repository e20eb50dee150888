with

source as (

    select * from {{ source('billing', 'accounts') }}

),

renamed as (

    select
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(created_at as {{ dbt.type_timestamp() }}) as created_at,
        cast(persona as {{ dbt.type_string() }}) as persona,
        cast(acquisition_source as {{ dbt.type_string() }}) as acquisition_source,
        cast(segment as {{ dbt.type_string() }}) as segment,
        cast(country as {{ dbt.type_string() }}) as country,
        cast(account_manager_id as {{ dbt.type_string() }}) as account_manager_id
    from source

)

select * from renamed
