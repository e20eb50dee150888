with

source as (

    select * from {{ source('integration', 'sync_events') }}

),

renamed as (

    select
        cast(sync_event_id as {{ dbt.type_string() }}) as sync_event_id,
        cast(change_id as {{ dbt.type_string() }}) as change_id,
        cast(target_system as {{ dbt.type_string() }}) as target_system,
        cast(attempt_number as {{ dbt.type_bigint() }}) as attempt_number,
        cast(attempted_at as {{ dbt.type_timestamp() }}) as attempted_at,
        cast(status as {{ dbt.type_string() }}) as status,
        cast(error_code as {{ dbt.type_string() }}) as error_code
    from source

)

select * from renamed
