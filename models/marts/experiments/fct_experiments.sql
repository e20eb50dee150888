{#- One row per experiment and segment (metrics.md "Experiments"; segment_dimension
    `all` / segment_value `all` for all accounts): its control, the earliest and latest
    exposure of the counted accounts and the accounts left out for exposures to two or
    more variations. The variations are in fct_experiment_variations, their metrics in
    fct_experiment_metrics; the comparisons with the control and the sample-ratio test
    are computed from these by src/upgrade_warehouse/stats.py (docs/experiments.md). -#}
with

{{ import_ctes({'segments': ref('int_experiments__segments')}) }}

final as (

    select
        experiment_id,
        segment_dimension,
        segment_value,
        control_variation_id,
        first_exposure,
        last_exposure,
        multiple_exposures
    from segments

)

select * from final
