{#- One row per experiment and variation (metrics.md "Experiments"): the variations of an
    experiment are the variation_ids of its counted exposures (accounts exposed to one
    variation only). The control: the variation `control` if present, else `0`, else the
    smallest variation_id in text order. variation_order: the control first, then the
    others by variation_id. -#}
with

{{ import_ctes({'exposures': ref('int_experiments__exposures')}) }}

variations as (

    select distinct
        experiment_id,
        variation_id
    from exposures
    where not is_multiple_exposure

),

controls as (

    select
        experiment_id,
        coalesce(
            max(case when variation_id = 'control' then variation_id end),
            max(case when variation_id = '0' then variation_id end),
            min(variation_id)
        ) as control_variation_id
    from variations
    group by experiment_id

),

final as (

    select
        variations.experiment_id,
        variations.variation_id,
        controls.control_variation_id,
        variations.variation_id = controls.control_variation_id as is_control,
        cast(row_number() over (
            partition by variations.experiment_id
            order by
                case when variations.variation_id = controls.control_variation_id then 0 else 1 end,
                variations.variation_id
        ) as {{ dbt.type_bigint() }}) as variation_order  -- Spark's row_number is an int
    from variations
    inner join controls
        on controls.experiment_id = variations.experiment_id

)

select * from final
