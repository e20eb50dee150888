{#- One row per experiment, segment and variation (metrics.md "Experiments"): every
    variation of the experiment in every segment of it, with its exposed accounts
    (matured or not: the sample-ratio test's counts) and matured accounts (the
    population of the metrics). variation_order: the control first, then by
    variation_id. -#}
with

{{ import_ctes({'variation_segments': ref('int_experiments__variation_segments')}) }}

final as (

    select
        {{ experiment_variation_columns() }},
        exposed_accounts,
        matured_accounts
    from variation_segments

)

select * from final
