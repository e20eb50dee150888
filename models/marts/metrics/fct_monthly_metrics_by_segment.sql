{#- Every scalar metric of metrics.md by month and segment (metrics.md "Segments"): one
    row per month (earliest fact to the as_of month) and per all months (month null),
    per segment: segment_dimension `all` / segment_value `all` for every account, then
    each value of persona, acquisition_source, segment and country among the accounts
    (segment_value null = accounts without a value). Every rate comes with the counts it
    is made of (<metric_id>__numerator, <metric_id>__denominator; arpu_per_upgrade: the
    sum and number of converted upgrades). -#}
{{ pass_through(ref('int_monthly_metrics'), 'metrics') }}
