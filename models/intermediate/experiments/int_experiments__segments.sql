{#- One row per experiment and segment (metrics.md "Experiments", "By segment"): the
    `all` / `all` segment and, per account attribute of segment_dimensions(), each value
    (null a segment of its own) among the experiment's exposed accounts, multiple
    exposures included (so that multiple_exposures adds up over the segments).
    first_exposure / last_exposure: over the counted accounts (multiple exposures
    excluded); the control is the experiment's (null when no account is counted). -#}
with

{{ import_ctes({
    'exposures': ref('int_experiments__exposures'),
    'variations': ref('int_experiments__variations'),
    'account_segments': ref('int_account_segments'),
}) }}

controls as (

    select distinct
        experiment_id,
        control_variation_id
    from variations

),

segments as (

    select
        exposures.experiment_id,
        account_segments.segment_dimension,
        account_segments.segment_value,
        sum(case when exposures.is_multiple_exposure then 1 else 0 end) as multiple_exposures,
        min(case when not exposures.is_multiple_exposure then exposures.exposed_at end)
            as first_exposure,
        max(case when not exposures.is_multiple_exposure then exposures.exposed_at end)
            as last_exposure
    from exposures
    inner join account_segments
        on account_segments.account_id = exposures.account_id
    group by
        exposures.experiment_id,
        account_segments.segment_dimension,
        account_segments.segment_value

),

final as (

    select
        segments.experiment_id,
        segments.segment_dimension,
        segments.segment_value,
        controls.control_variation_id,
        segments.multiple_exposures,
        segments.first_exposure,
        segments.last_exposure
    from segments
    left join controls
        on controls.experiment_id = segments.experiment_id

)

select * from final
