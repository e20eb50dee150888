with

source as (

    select * from {{ source('billing', 'subscription_changes') }}

),

renamed as (

    select
        cast(change_id as {{ dbt.type_string() }}) as change_id,
        cast(subscription_id as {{ dbt.type_string() }}) as subscription_id,
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(changed_at as {{ dbt.type_timestamp() }}) as changed_at,
        cast(effective_at as {{ dbt.type_timestamp() }}) as effective_at,
        cast(from_plan_id as {{ dbt.type_string() }}) as from_plan_id,
        cast(to_plan_id as {{ dbt.type_string() }}) as to_plan_id,
        cast(from_quantity as {{ dbt.type_bigint() }}) as from_quantity,
        cast(to_quantity as {{ dbt.type_bigint() }}) as to_quantity,
        cast(initiated_by as {{ dbt.type_string() }}) as initiated_by,
        cast(channel as {{ dbt.type_string() }}) as channel,
        cast(period_start as {{ dbt.type_timestamp() }}) as period_start,
        cast(period_end as {{ dbt.type_timestamp() }}) as period_end,
        cast(proration_behavior as {{ dbt.type_string() }}) as proration_behavior,
        cast(reason_code as {{ dbt.type_string() }}) as reason_code
    from source

)

select * from renamed
