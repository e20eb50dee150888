{#- Cross-system sync by target system, month of the change (null = all months) and
    segment (int_metrics__sync_by_target). -#}
with

sync_by_target as (

    select * from {{ ref('int_metrics__sync_by_target') }}

),

final as (

    select * from sync_by_target

)

select * from final
