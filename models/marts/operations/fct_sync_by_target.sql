{#- Cross-system sync by target system, month of the change (null = all months) and
    segment (int_metrics__sync_by_target). -#}
{{ pass_through(ref('int_metrics__sync_by_target'), 'sync_by_target') }}
