with

source as (

    select * from {{ source('billing', 'invoice_lines') }}

),

renamed as (

    select
        cast(line_id as {{ dbt.type_string() }}) as line_id,
        cast(invoice_id as {{ dbt.type_string() }}) as invoice_id,
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(subscription_id as {{ dbt.type_string() }}) as subscription_id,
        cast(change_id as {{ dbt.type_string() }}) as change_id,
        cast(line_type as {{ dbt.type_string() }}) as line_type,
        cast(amount_minor as {{ dbt.type_bigint() }}) as amount_minor,
        cast(currency as {{ dbt.type_string() }}) as currency,
        cast(period_start as {{ dbt.type_timestamp() }}) as period_start,
        cast(period_end as {{ dbt.type_timestamp() }}) as period_end,
        cast(issued_at as {{ dbt.type_timestamp() }}) as issued_at
    from source

)

select * from renamed
