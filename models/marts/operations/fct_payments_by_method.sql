{#- Payment attempts and success rate by payment method, month of attempted_at (null =
    all months) and segment (int_metrics__payments_by_method). -#}
with

payments_by_method as (

    select * from {{ ref('int_metrics__payments_by_method') }}

),

final as (

    select * from payments_by_method

)

select * from final
