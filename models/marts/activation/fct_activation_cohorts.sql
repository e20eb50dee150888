{#- One row per activation month (null = all months) and breakdown value with activated
    accounts: the post-activation self-serve upgrade rate of int_metrics__activation by
    persona, acquisition_source, segment, country and feature use (the usage event sent
    most before activation); dimension `all` is the whole cohort. Missing attribute
    values are grouped as '(none)'. -#}
with

{{ import_ctes({'activation': ref('int_metrics__activation')}) }}

final as (

    select
        month as activation_month,
        segment_dimension as dimension,
        coalesce(segment_value, '(none)') as dimension_value,
        activated_accounts,
        matured_activated_accounts,
        post_activation_self_serve_rate__numerator as converted_matured_accounts,
        post_activation_self_serve_rate
    from activation
    where activated_accounts > 0

)

select * from final
