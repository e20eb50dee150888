with

source as (

    select * from {{ source('product', 'eligibility_checks') }}

),

renamed as (

    select
        cast(check_id as {{ dbt.type_string() }}) as check_id,
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(target_plan_id as {{ dbt.type_string() }}) as target_plan_id,
        cast(checked_at as {{ dbt.type_timestamp() }}) as checked_at,
        cast(channel as {{ dbt.type_string() }}) as channel,
        cast(result as {{ dbt.type_string() }}) as result,
        cast(reason_code as {{ dbt.type_string() }}) as reason_code,
        cast(overridden_at as {{ dbt.type_timestamp() }}) as overridden_at
    from source

)

select * from renamed
