with

source as (

    select * from {{ source('billing', 'plans') }}

),

renamed as (

    select
        cast(plan_id as {{ dbt.type_string() }}) as plan_id,
        cast(plan_name as {{ dbt.type_string() }}) as plan_name,
        cast(tier_rank as {{ dbt.type_bigint() }}) as tier_rank,
        cast(billing_interval as {{ dbt.type_string() }}) as billing_interval,
        cast(unit_amount_minor as {{ dbt.type_bigint() }}) as unit_amount_minor,
        cast(currency as {{ dbt.type_string() }}) as currency,
        cast(self_serve as {{ dbt.type_boolean() }}) as self_serve,
        cast(min_seats as {{ dbt.type_bigint() }}) as min_seats,
        cast(max_seats as {{ dbt.type_bigint() }}) as max_seats,
        cast(entitlements as {{ dbt.type_string() }}) as entitlements
    from source

)

select * from renamed
