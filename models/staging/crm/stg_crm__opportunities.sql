with

source as (

    select * from {{ source('crm', 'crm_opportunities') }}

),

renamed as (

    select
        cast(opportunity_id as {{ dbt.type_string() }}) as opportunity_id,
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(change_id as {{ dbt.type_string() }}) as change_id,
        cast(origin as {{ dbt.type_string() }}) as origin,
        cast(created_at as {{ dbt.type_timestamp() }}) as created_at,
        cast(closed_at as {{ dbt.type_timestamp() }}) as closed_at,
        cast(stage as {{ dbt.type_string() }}) as stage,
        cast(movement_type as {{ dbt.type_string() }}) as movement_type,
        cast(mrr_delta_minor as {{ dbt.type_bigint() }}) as mrr_delta_minor,
        cast(currency as {{ dbt.type_string() }}) as currency,
        cast(owner_id as {{ dbt.type_string() }}) as owner_id
    from source

)

select * from renamed
