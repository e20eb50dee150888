with

source as (

    select * from {{ source('orders', 'order_status_events') }}

),

renamed as (

    select
        cast(order_id as {{ dbt.type_string() }}) as order_id,
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(change_id as {{ dbt.type_string() }}) as change_id,
        cast(status as {{ dbt.type_string() }}) as status,
        cast(occurred_at as {{ dbt.type_timestamp() }}) as occurred_at
    from source

)

select * from renamed
