{#- The snapshot times of the win-back model (docs/winback.md "Snapshots"). One scoring
    snapshot at as_of (offset 0) and `winback_training_snapshots` labelled ones, every
    `winback_snapshot_step_days`, the latest at as_of - horizon_days: a training
    snapshot's outcome window (cutoff, cutoff + horizon_days] ends at or before as_of,
    so its label is fully observed. Offsets are whole days before as_of, so every
    cutoff has as_of's time of day and "the last N days" are exact day buckets. -#}
{%- set horizon = var('horizon_days') | int -%}
{%- set step = var('winback_snapshot_step_days') | int -%}
{%- set n_training = var('winback_training_snapshots') | int -%}
with

{{ import_ctes({'as_of': ref('int_as_of')}) }}

offsets as (

    select 0 as cutoff_offset_days, true as is_scoring
    {%- for k in range(n_training) %}
    union all
    select {{ horizon + step * k }} as cutoff_offset_days, false as is_scoring
    {%- endfor %}

),

final as (

    select
        offsets.cutoff_offset_days,
        {{ dbt.dateadd('day', '-offsets.cutoff_offset_days', 'as_of.as_of') }} as cutoff_at,
        offsets.is_scoring
    from offsets
    cross join as_of

)

select * from final
