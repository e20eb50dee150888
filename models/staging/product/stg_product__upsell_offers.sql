with

source as (

    select * from {{ source('product', 'upsell_offers') }}

),

renamed as (

    select
        cast(offer_id as {{ dbt.type_string() }}) as offer_id,
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(trigger as {{ dbt.type_string() }}) as trigger,
        cast(owner as {{ dbt.type_string() }}) as owner,
        cast(channel as {{ dbt.type_string() }}) as channel,
        cast(offered_plan_id as {{ dbt.type_string() }}) as offered_plan_id,
        cast(offered_at as {{ dbt.type_timestamp() }}) as offered_at,
        cast(outcome as {{ dbt.type_string() }}) as outcome,
        cast(outcome_at as {{ dbt.type_timestamp() }}) as outcome_at,
        cast(change_id as {{ dbt.type_string() }}) as change_id
    from source

)

select * from renamed
