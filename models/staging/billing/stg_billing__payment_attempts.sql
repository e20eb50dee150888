with

source as (

    select * from {{ source('billing', 'payment_attempts') }}

),

renamed as (

    select
        cast(attempt_id as {{ dbt.type_string() }}) as attempt_id,
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(attempted_at as {{ dbt.type_timestamp() }}) as attempted_at,
        cast(payment_method as {{ dbt.type_string() }}) as payment_method,
        cast(status as {{ dbt.type_string() }}) as status,
        cast(failure_code as {{ dbt.type_string() }}) as failure_code,
        cast(amount_minor as {{ dbt.type_bigint() }}) as amount_minor,
        cast(currency as {{ dbt.type_string() }}) as currency,
        cast(change_id as {{ dbt.type_string() }}) as change_id
    from source

)

select * from renamed
