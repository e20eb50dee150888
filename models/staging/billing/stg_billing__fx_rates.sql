with

source as (

    select * from {{ source('billing', 'fx_rates') }}

),

renamed as (

    select
        cast(rate_date as date) as rate_date,
        cast(currency as {{ dbt.type_string() }}) as currency,
        cast(rate_to_reporting as decimal(38, 12)) as rate_to_reporting
    from source

)

select * from renamed
