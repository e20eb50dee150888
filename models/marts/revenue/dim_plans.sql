{#- One row per plan of the price catalog (accepted rows of the plans table), in the
    contract's columns: what the dashboard's simulator quotes with. -#}
with

{{ import_ctes({'plans': ref('stg_billing__plans')}) }}

final as (

    select
        plan_id,
        plan_name,
        tier_rank,
        billing_interval,
        unit_amount_minor,
        currency,
        self_serve,
        min_seats,
        max_seats,
        entitlements
    from plans

)

select * from final
